# %% [markdown]
# # Lesson 6 — BatchNormalization
#
# BatchNormalization standardizes each channel over the batch, then lets the
# network rescale it. For M values of one channel (M = N after a Dense layer,
# N * H * W after a convolution):
#
#     mu = mean(x),  var = mean((x - mu)^2),  x_hat = (x - mu) / sqrt(var + eps)
#     y  = gamma * x_hat + beta
#
# gamma and beta are trained; mu and var come from the batch itself. That is
# what makes its backward interesting: every output depends on *every* input
# of its channel, through mu and var.

# %%
import numpy as np

from minidl import backend as K
from minidl import exercises, gradcheck
from minidl.layers import BatchNormalization

K.set_device("cpu")
K.set_floatx("float64")
rng = np.random.default_rng(0)

# %% [markdown]
# ## The backward in a few lines
#
# Take one channel, upstream gradient g = dL/dy (M values), and write s for
# 1 / sqrt(var + eps). The weights are easy:
#
#     dbeta = sum g          dgamma = sum g * x_hat
#
# For x, let h = dL/dx_hat = gamma * g. x_hat_i = (x_i - mu) s depends on x_j
# three ways: directly (only when i = j), through mu (dmu/dx_j = 1/M) and
# through s (ds/dx_j = -s^3 (x_j - mu) / M = -s^2 x_hat_j / M). Adding the
# three paths up, with the sums over i:
#
#     dL/dx_j = s h_j  -  (s/M) sum h_i  -  (s/M) x_hat_j sum h_i x_hat_i
#             = gamma s / M * (M g_j - dbeta - x_hat_j dgamma)
#
# The two subtracted terms remove from the gradient its mean and its
# component along x_hat: a change of x that only shifts or scales the
# batch leaves x_hat unchanged, so it cannot change the loss.

# %%
M, C = 16, 3
x = rng.normal(size=(M, C)) * 3 + 2
gamma, beta, eps = rng.normal(size=C), rng.normal(size=C), 1e-3
g = rng.normal(size=(M, C))

s = 1 / np.sqrt(x.var(axis=0) + eps)
x_hat = (x - x.mean(axis=0)) * s
dbeta, dgamma = g.sum(axis=0), (g * x_hat).sum(axis=0)
dx = gamma * s / M * (M * g - dbeta - x_hat * dgamma)

layer = BatchNormalization(epsilon=eps)
layer.build((C,))
layer.set_weights([gamma, beta, np.zeros(C), np.ones(C)])
layer.forward(x, training=True)
assert np.allclose(layer.backward(g.copy()), dx)
assert np.allclose(layer.grads["gamma"], dgamma) and np.allclose(layer.grads["beta"], dbeta)
print("the formula equals minidl's BatchNormalization backward")

errors = gradcheck.check_layer(BatchNormalization(), rng.normal(size=(6, 5, 5, 4)))
print("check_layer on (N, H, W, C) input:", errors)
assert max(errors.values()) < 1e-6

# %% [markdown]
# Two consequences of the formula: the gradient of each channel sums to zero
# over the batch, and is orthogonal to x_hat (exactly so for eps = 0; eps
# leaves a remainder of the order of eps / var).

# %%
cosine = (dx * x_hat).sum(axis=0) / np.linalg.norm(dx, axis=0) / np.linalg.norm(x_hat, axis=0)
print("sum of dx per channel:", dx.sum(axis=0))
print("cosine of the angle between dx and x_hat per channel:", cosine)
assert np.allclose(dx.sum(axis=0), 0) and np.abs(cosine).max() < 1e-3

# %% [markdown]
# ## Training versus inference
#
# A prediction should not depend on which other images share its batch, and
# a batch of one has no variance. So at inference the layer uses *moving
# averages* of the batch statistics, updated at every training step:
#
#     moving = momentum * moving + (1 - momentum) * batch statistic
#
# (momentum 0.99 in Keras, so they follow roughly the last hundred batches).
# We train nothing; we only show the layer 600 batches of data with mean 5 and
# standard deviation 2 (the averages start at 0 and 1 and have forgotten
# that after a few hundred steps), then compare the two modes.

# %%
bn = BatchNormalization()
bn.build((1,))
for _ in range(600):
    bn.forward(rng.normal(5.0, 2.0, size=(32, 1)), training=True)
mean, var = (v[0] for v in bn.get_weights()[2:])
print(f"moving mean {mean:.3f}, moving variance {var:.3f} (the data: 5 and 4)")
assert abs(mean - 5) < 0.2 and abs(var - 4) < 0.5

sample = np.array([[7.0]])
batch = np.array([[7.0], [9.0], [11.0]])
in_train = bn.forward(batch, training=True)[0, 0]
alone = bn.forward(sample, training=False)[0, 0]
in_batch = bn.forward(batch, training=False)[0, 0]
print(f"x = 7 in training mode, batch [7, 9, 11]: {in_train:+.3f}  (standardized within the batch)")
print(f"x = 7 at inference, alone:              {alone:+.3f}  ((7 - 5) / 2 ≈ 1)")
print(f"x = 7 at inference, in the batch:       {in_batch:+.3f}  (the same)")
assert alone == in_batch and abs(alone - 1.0) < 0.1 and in_train < -1.0

# %% [markdown]
# minidl follows the Keras version a model came from here: Keras 2.1.4–2.3.1
# rescale the batch variance by n / (n - 1) before averaging it (the default,
# `unbiased_moving_variance=True`), Keras 2.0 did not.
#
# ## Exercises
#
# 1. Write `batchnorm_backward(grad_y, x, gamma, epsilon)` -> (dx, dgamma,
#    dbeta) for x of shape (M, C), from the forward's input alone.
# 2. Write the inference forward `batchnorm_inference(x, gamma, beta,
#    moving_mean, moving_variance, epsilon)` as one multiplication and one
#    addition per value (fold the four vectors into a scale and a shift).

# %%
def batchnorm_backward(grad_y, x, gamma, epsilon):
    raise NotImplementedError   # your code here


def batchnorm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon):
    raise NotImplementedError   # your code here


# %%
verdict1 = exercises.check_batchnorm_backward(batchnorm_backward)
verdict2 = exercises.check_batchnorm_inference(batchnorm_inference)
