# %% [markdown]
# # Lesson 5 — Max pooling and Dropout: where the gradient goes
#
# Neither layer has weights; both only decide *which* inputs the gradient
# reaches. Max pooling keeps the largest value of each window, so only that
# value influenced the output, and only it receives gradient. Dropout zeroes
# a random share of its inputs while training, so those get no gradient,
# and the survivors get theirs scaled.

# %%
import numpy as np

import minidl
from minidl import backend as K
from minidl import exercises, gradcheck
from minidl.layers import Dropout, MaxPooling2D

K.set_device("cpu")
K.set_floatx("float64")
rng = np.random.default_rng(0)

# %% [markdown]
# ## Max pooling on a 4x4 image
#
# A 2x2 window with stride 2 cuts the image into four non-overlapping
# windows. Forward keeps each window's max and remembers *where* it was
# (`layer.argmax`: 0..3, the position in the window, row by row). Backward
# puts each incoming gradient at that position and zero everywhere else: the
# max is locally y = x_max, slope 1; the other values do not affect y at all,
# slope 0.

# %%
x = np.array([[1, 5, 2, 0],
              [3, 4, 8, 6],
              [0, 2, 1, 1],
              [7, 1, 3, 9]], dtype=np.float64).reshape(1, 4, 4, 1)
pool = MaxPooling2D((2, 2))
y = pool.forward(x, training=True)
print("y =\n", y[0, ..., 0])
print("argmax (position in each window) =\n", pool.argmax[0, ..., 0])
grad_y = np.array([[10.0, 20.0], [30.0, 40.0]]).reshape(1, 2, 2, 1)
dx = pool.backward(grad_y)
print("dx =\n", dx[0, ..., 0])
assert (y[0, ..., 0] == [[5, 8], [7, 9]]).all()
assert dx.sum() == grad_y.sum() and (dx != 0).sum() == 4 and dx[0, 0, 1, 0] == 10

# %% [markdown]
# Windows may overlap (pool 3, stride 2). A value that is the max of two
# windows then receives both gradients, added. The gradient check confirms
# it, on values without ties (at a tie the max is not differentiable, and a
# central difference would move between the two candidates).

# %%
x = rng.permutation(2 * 7 * 7 * 3).reshape(2, 7, 7, 3) / 10.0    # distinct values
for layer in (MaxPooling2D((2, 2)), MaxPooling2D((3, 3), strides=2),
              MaxPooling2D(2, padding="same")):
    errors = gradcheck.check_layer(layer, x)
    print(f"pool {layer.pool_size} stride {layer.strides} {layer.padding}: {errors}")
    assert errors["input"] < 1e-6

# %% [markdown]
# ## Dropout
#
# While training, Dropout(rate) keeps each input with probability 1 - rate
# and divides the kept ones by 1 - rate ("inverted" dropout), so each output's
# expected value equals its input. At inference it is the identity. Training
# is y = x * mask, with mask 0 or 1 / (1 - rate); as a function of x that is
# multiplication by a constant, so the backward is dx = grad_y * mask — the
# same mask, which the layer keeps from its forward.

# %%
minidl.seed(0)
drop = Dropout(0.25)
x = np.ones((4, 6))
y = drop.forward(x, training=True)
print("y =\n", y)
kept = y != 0
print(f"kept {kept.mean():.0%}; kept values are 1 / 0.75 = {y[kept][0]:.4f}")
dx = drop.backward(np.ones_like(x))
assert (dx == y).all()                        # same mask, same scale
assert (drop.forward(x, training=False) == x).all()

big = Dropout(0.25).forward(np.ones((1000, 1000)), training=True)
print(f"mean of the output over a million draws: {big.mean():.4f} (the input was 1)")
assert abs(big.mean() - 1.0) < 0.01

# %% [markdown]
# A gradient check needs the same mask at every evaluation of the loss.
# `check_layer` re-seeds minidl's generator before each forward, so Dropout
# draws the same mask every time and passes like any other layer.

# %%
errors = gradcheck.check_layer(Dropout(0.5), rng.normal(size=(5, 8)))
print(errors)
assert errors["input"] < 1e-6

# %% [markdown]
# ## Exercises
#
# 1. Write `maxpool_backward(x, grad_y)` for 2x2 windows, stride 2, given the
#    forward's input x (N, H, W, C) with H and W even: find each window's max
#    yourself. (Hint: `x.reshape(N, H//2, 2, W//2, 2, C)` puts each window
#    on two axes.)
# 2. Average pooling outputs each window's mean. Write
#    `avgpool_backward(grad_y, x_shape)` for 2x2 windows, stride 2.

# %%
def maxpool_backward(x, grad_y):
    raise NotImplementedError   # your code here


def avgpool_backward(grad_y, x_shape):
    raise NotImplementedError   # your code here


# %%
verdict1 = exercises.check_maxpool_backward(maxpool_backward)
verdict2 = exercises.check_avgpool_backward(avgpool_backward)
