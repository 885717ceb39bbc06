# %% [markdown]
# # Lesson 8 — The training loop by hand
#
# `model.fit` hides a short loop. Here we write it out with minidl's layers
# and no `Sequential`, and show that it is *exactly* what `fit` does: with the
# same seed, our weights after 20 epochs equal fit's bit for bit.
#
# What fit does, in order:
#
# 1. `minidl.seed(s)` resets two random generators: a *host* one that draws
#    the initial weights (each layer draws when it is built, first layer
#    first), and a *device* one for everything during training.
# 2. Every epoch: a fresh random order of the N samples,
#    `minidl.backend.permutation(N)` from the device generator, cut into
#    batches of `batch_size` (the last one may be smaller).
# 3. Every batch: forward through every layer with `training=True` (Dropout
#    draws its mask now, from the device generator); the loss; backward from
#    the last layer to the first; then one optimizer update of every weight,
#    in layer order.
# 4. The epoch's loss is the mean of the batch losses, weighted by batch size.
#
# One detail from lesson 3: when a softmax output meets a cross-entropy loss,
# fit computes the loss from the logits z (the last Dense layer before its
# softmax) and starts backprop there with dL/dz = (p - t) / N.

# %%
import numpy as np

import minidl
from minidl import backend as K
from minidl import exercises
from minidl.layers import Dense, Dropout
from minidl.models import Sequential
from minidl.optimizers import Adam

K.set_device("cpu")
K.set_floatx("float64")      # to compare to the last bit, in double precision

x, y = exercises.spirals(n_per_class=100, classes=3)      # (300, 2) points, labels 0..2
batch_size, epochs, seed = 32, 20, 1


def make_layers():
    return [Dense(32, activation="relu", input_shape=(2,)), Dropout(0.2),
            Dense(32, activation="relu"), Dense(3, activation="softmax")]

# %% [markdown]
# ## The reference: model.fit

# %%
minidl.seed(seed)
model = Sequential(make_layers())
model.compile(optimizer=Adam(lr=0.01), loss="sparse_categorical_crossentropy")
history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
print("fit's loss per epoch:", np.round(history.history["loss"], 4))

# %% [markdown]
# ## The same, by hand
#
# Building each layer with the shape it receives draws its weights, in the
# order Sequential would. `forward_preactivation` gives the last layer's
# logits z; `backward_preactivation` takes dL/dz into that layer.

# %%
minidl.seed(seed)
layers = make_layers()
shape = (2,)
for layer in layers:
    layer.build(shape)                      # (2,) -> (32,) -> (32,) -> (32,) -> (3,)
    shape = layer.compute_output_shape(shape)
optimizer = Adam(lr=0.01)
n = len(x)
losses = []
for epoch in range(epochs):
    order = K.permutation(n)
    total = 0.0
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        xb, yb = x[idx], y[idx]                                  # (B, 2), (B,)
        a = xb
        for layer in layers[:-1]:
            a = layer.forward(a, training=True)
        z = layers[-1].forward_preactivation(a, training=True)   # logits (B, 3)
        # softmax and cross-entropy, the stable way (lesson 3)
        shifted = z - z.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        log_p = shifted - np.log(e.sum(axis=1, keepdims=True))
        rows = np.arange(len(yb))
        total += -log_p[rows, yb].sum()
        grad = e / e.sum(axis=1, keepdims=True)                  # p = softmax(z)
        grad[rows, yb] -= 1.0                                    # p - t
        grad /= len(yb)                                          # (p - t) / B
        # (p is computed as minidl's softmax computes it, so every rounding
        # matches; log_p is only for the loss we print)
        grad = layers[-1].backward_preactivation(grad)
        for layer in reversed(layers[:-1]):
            grad = layer.backward(grad)
        weights = [w for layer in layers for w in layer.params.values()]
        grads = [layer.grads[name] for layer in layers for name in layer.params]
        optimizer.update(weights, grads)
    losses.append(total / n)
print("our loss per epoch:  ", np.round(losses, 4))

# %% [markdown]
# ## Compare

# %%
ours = [w for layer in layers for w in layer.get_weights()]
theirs = model.get_weights()
worst = max(np.abs(a - b).max() for a, b in zip(ours, theirs))
bitwise = all(np.array_equal(a, b) for a, b in zip(ours, theirs))
print(f"largest weight difference after {epochs} epochs: {worst:.1e}; bit for bit: {bitwise}")
assert bitwise
assert np.allclose(losses, history.history["loss"], rtol=1e-12, atol=0)

accuracy = (model.predict(x).argmax(axis=1) == y).mean()
print(f"training accuracy on the spirals: {accuracy:.1%}")
assert accuracy > 0.8 and losses[-1] < losses[0] / 2

# %% [markdown]
# Everything else fit does — validation at the end of each epoch, callbacks,
# progress bars, moving data to a GPU, checking for NaN — is around this
# loop, not in it.
#
# ## Exercise: a loop for regression
#
# With `loss='mse'` and no softmax, the loss of a batch is
# mean over samples of mean over outputs of (p - t)^2, and backprop starts
# at the output itself: dL/dp = 2 (p - t) / (B K) for a batch of B samples
# and K outputs. Write `train_epoch_mse(layers, optimizer, x, y, batch_size)`,
# one epoch of fit's loop for it (shuffle, forward, gradient, backward, one
# `optimizer.update` per batch). The check builds a small network with a
# Dropout layer, trains it one epoch with `model.fit`, then with your
# function from the same seed, and compares the weights.

# %%
def train_epoch_mse(layers, optimizer, x, y, batch_size):
    raise NotImplementedError   # your code here


# %%
verdict = exercises.check_train_epoch_mse(train_epoch_mse)
