# %% [markdown]
# # Lesson 2 — Activations and vanishing gradients
#
# Between two Dense layers sits an activation f, applied element by element:
# y = f(z). Its backward is one multiplication, dL/dz = f'(z) * dL/dy. In a
# deep network the gradient that reaches the first layer has been multiplied
# by one f'(z) per layer on its way down. If those factors are small, it
# arrives small: the first layers barely learn. That is the *vanishing
# gradient*, and the activation decides it.
#
# We measure it on the two first models of study 003 (MNIST, 784-512-128-64-10,
# SGD): one with sigmoid activations, one with ReLU. The study trained them
# 50 epochs and got 87.5% (sigmoid) against 97.6% (ReLU). We train a few
# epochs on a small subset and record each layer's gradient norm with the
# `GradientStats` callback.

# %%
import numpy as np

import minidl
from minidl import backend as K
from minidl import exercises, plotting, zoo
from minidl.activations import relu, sigmoid, tanh
from minidl.callbacks import GradientStats
from minidl.utils import to_categorical

K.set_device("cpu")
out = exercises.output_dir("02_activations")

# %% [markdown]
# ## How big can f'(z) be?
#
# sigmoid(z) = 1 / (1 + e^-z) has the derivative y (1 - y), at most 1/4 (at
# z = 0), and close to 0 once |z| is a few units: the unit *saturates*.
# tanh' = 1 - y^2 is at most 1. ReLU's derivative is exactly 1 wherever the
# unit is active and 0 elsewhere. We ask minidl's own backward functions,
# with an upstream gradient of ones.

# %%
z = np.linspace(-6, 6, 1201)
ones = np.ones_like(z)
slopes = {name: act.backward(ones.copy(), act.forward(z.copy()), z)
          for name, act in (("sigmoid", sigmoid), ("tanh", tanh), ("relu", relu))}
for name, s in slopes.items():
    print(f"{name:8s} max f'(z) = {s.max():.3f},  f'(5) = {s[np.isclose(z, 5)][0]:.4f}")
assert abs(slopes["sigmoid"].max() - 0.25) < 1e-12
assert slopes["relu"].max() == 1.0

# %% [markdown]
# Through three sigmoid layers the factor is at most (1/4)^3 = 1/64, and
# usually much less. (The weights matter too: the gradient is also multiplied
# by W^T at each layer. Glorot initialization scales W to keep that factor
# near 1, which leaves the activation's factor as the difference.)
#
# ## Study 003's two MLPs
#
# The data: MNIST when a copy is on this machine (set `MINIDL_DATA`),
# otherwise a synthetic stand-in of ten shape classes; the line printed below
# says which. The effect we measure is the same on both.

# %%
data = exercises.lesson_images("mnist", n_train=3000, n_test=500)
print(exercises.describe(data))
x_train = data.x_train.reshape(len(data.x_train), -1)   # 28x28 -> 784, as the study
x_test = data.x_test.reshape(len(data.x_test), -1)
y_train, y_test = to_categorical(data.y_train, 10), to_categorical(data.y_test, 10)

recipe = zoo.RECIPES["s003_model1_sigmoid"]   # SGD(lr=0.01), batch 128, one-hot targets
print(recipe.summary()["optimizer"], "batch", recipe.batch_size)

stats, histories, models = {}, {}, {}
for name, build in (("sigmoid", zoo.mnist_mlp_sigmoid), ("relu", zoo.mnist_mlp_relu)):
    minidl.seed(0)
    model = models[name] = build()
    model.compile(optimizer=recipe.make_optimizer(), loss=recipe.loss, metrics=["accuracy"])
    stats[name] = GradientStats()
    histories[name] = model.fit(x_train, y_train, batch_size=recipe.batch_size, epochs=5,
                                validation_data=(x_test, y_test), callbacks=[stats[name]],
                                verbose=0).history
    print(f"{name}: loss per epoch {np.round(histories[name]['loss'], 3)}, "
          f"test accuracy {histories[name]['val_accuracy'][-1]:.3f}")
    exercises.show(plotting.plot_gradient_stats(stats[name], f"{out}/gradient_stats_{name}.png",
                                                title=f"study 003, {name} MLP"))

# %% [markdown]
# ## What the pictures say
#
# In each picture, the top-right panel plots the gradient norm of each layer,
# input on the left, output on the right. For the sigmoid network it climbs
# steeply from left to right: the first layer gets a gradient more than ten
# times smaller than the last one (some twenty times, here). For the ReLU network the line
# falls instead: the first layer gets the largest gradient. The bottom-right
# panels show the consequence: per step, the sigmoid network's first layer
# moves its weights by a far smaller fraction than its last layer does, and
# after five epochs its loss has hardly moved from log(10) = 2.30, the loss
# of a uniform guess.
#
# The numbers behind the pictures:

# %%
def first_over_last(s):
    names = s.layer_names
    return s.history["grad_norm"][names[0]][0] / s.history["grad_norm"][names[-1]][0]


ratios = {name: first_over_last(s) for name, s in stats.items()}
for name, r in ratios.items():
    print(f"{name}: |grad| of the first layer / |grad| of the last layer, epoch 1: {r:.3f}")
assert ratios["sigmoid"] < 0.1, "the sigmoid MLP's first layer gets a far smaller gradient"
assert ratios["relu"] > 1
update = stats["sigmoid"].history["update_ratio"]
first, last = stats["sigmoid"].layer_names[0], stats["sigmoid"].layer_names[-1]
print(f"sigmoid, update / weight per step, last epoch: first layer {update[first][-1]:.1e}, "
      f"last layer {update[last][-1]:.1e}")
assert update[first][-1] < update[last][-1] / 10
assert histories["sigmoid"]["loss"][-1] > 2.2 > histories["relu"]["loss"][-1]
print("the sigmoid MLP's gradient vanishes toward the input; the ReLU MLP's does not")

# %% [markdown]
# The activations themselves, as a histogram of every layer's output on 200
# test images. The sigmoid layers' outputs sit in the middle of (0, 1), where
# f' is near its best, 1/4 — and that is still a factor of 4 or more lost per
# layer. Many ReLU outputs are exactly 0 (the share is in each panel's
# title): those units pass no gradient for that sample, the others pass it
# unchanged.

# %%
def hidden_outputs(model, x):
    """Every hidden layer's output on x, flattened into one array."""
    outputs = []
    for layer in model.layers[:-1]:
        x = layer.forward(x)
        outputs.append(x.ravel())
    return np.concatenate(outputs)


for name, model in models.items():
    exercises.show(plotting.plot_activation_histograms(model, x_test[:200],
                                                       f"{out}/activations_{name}.png",
                                                       title=f"{name} MLP: layer outputs"))
sig = hidden_outputs(models["sigmoid"], x_test[:200])
rel = hidden_outputs(models["relu"], x_test[:200])
middle, zeros = ((sig > 0.1) & (sig < 0.9)).mean(), (rel == 0).mean()
print(f"sigmoid outputs in (0.1, 0.9): {middle:.0%};  ReLU outputs exactly 0: {zeros:.0%}")
assert middle > 0.9 and 0.1 < zeros < 0.9

# %% [markdown]
# ## Exercises
#
# 1. `LeakyReLU(alpha)` is x for x > 0 and alpha x otherwise, so no unit
#    has a zero gradient everywhere. Write its backward,
#    `leaky_relu_backward(grad_y, x, alpha)` -> dL/dx.
# 2. Write `sigmoid_backward(grad_y, y)` -> dL/dz from the *output*
#    y = sigmoid(z) only (this is why layers keep their output).

# %%
def leaky_relu_backward(grad_y, x, alpha):
    raise NotImplementedError   # your code here


def sigmoid_backward(grad_y, y):
    raise NotImplementedError   # your code here


# %%
verdict1 = exercises.check_leaky_relu_backward(leaky_relu_backward)
verdict2 = exercises.check_sigmoid_backward(sigmoid_backward)
