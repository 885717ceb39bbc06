# %% [markdown]
# # Lesson 1 — A Dense layer by hand
#
# A network is a chain of functions. Training needs, for every weight, the
# derivative of one number (the loss) with respect to that weight.
# *Backpropagation* gets all of them in one sweep from the output back to the
# input: each layer receives dL/d(its output) and hands on dL/d(its input),
# computing dL/d(its weights) on the way. That is the chain rule, applied
# layer by layer, with matrices.
#
# Here we do it for the simplest layer with weights, `Dense`: y = x W + b.
# We derive its backward pass, write it in NumPy, and check it three ways:
# against minidl's `Dense`, against central differences, and with
# `minidl.gradcheck.check_layer`.
#
# Run it as a script (`python lessons/01_dense_layer.py`) or open it as a
# notebook (see `lessons/README.md`).

# %%
import numpy as np

from minidl import backend as K
from minidl import exercises, gradcheck
from minidl.layers import Dense

K.set_device("cpu")      # the lessons print and compare NumPy arrays
K.set_floatx("float64")  # and check gradients in double precision
rng = np.random.default_rng(0)

# %% [markdown]
# ## Forward, with the shapes named
#
# A batch of N samples with `n_in` features each is a matrix x of shape
# (N, n_in). The layer has a kernel W of shape (n_in, n_out) and a bias b of
# shape (n_out,). Every sample is mapped the same way:
#
#     y = x @ W + b          (N, n_in) @ (n_in, n_out) + (n_out,) -> (N, n_out)

# %%
N, n_in, n_out = 4, 3, 2
x = rng.normal(size=(N, n_in))
W = rng.normal(size=(n_in, n_out))
b = rng.normal(size=n_out)


def dense_forward(x, W, b):
    return x @ W + b


y = dense_forward(x, W, b)
print("x", x.shape, "W", W.shape, "b", b.shape, "-> y", y.shape)

# %% [markdown]
# ## Backward, derived
#
# Somewhere above this layer a scalar loss L is computed from y. The layer is
# handed `g = dL/dy`, the same shape as y: (N, n_out). It must return dL/dx
# and store dL/dW and dL/db. Write one output element out:
#
#     y[n, k] = sum_i x[n, i] W[i, k] + b[k]
#
# so dy[n, k]/dW[i, k] = x[n, i], dy[n, k]/dx[n, i] = W[i, k] and
# dy[n, k]/db[k] = 1. The chain rule sums over every y element a weight
# touches:
#
#     dL/dW[i, k] = sum_n x[n, i] g[n, k]   ->  dW = x.T @ g    (n_in, n_out)
#     dL/db[k]    = sum_n g[n, k]           ->  db = g.sum(0)   (n_out,)
#     dL/dx[n, i] = sum_k g[n, k] W[i, k]   ->  dx = g @ W.T    (N, n_in)
#
# A quick sanity test for any backward: each gradient has the shape of the
# thing it is the gradient of, and the matrix products are the only ones
# whose shapes fit.

# %%
def dense_backward(x, W, g):
    dW = x.T @ g          # (n_in, N) @ (N, n_out)
    db = g.sum(axis=0)    # (n_out,)
    dx = g @ W.T          # (N, n_out) @ (n_out, n_in)
    return dx, dW, db


g = rng.normal(size=(N, n_out))          # stands for whatever dL/dy the layers above send
dx, dW, db = dense_backward(x, W, g)
print("dx", dx.shape, "dW", dW.shape, "db", db.shape)

# %% [markdown]
# ## Check 1: minidl's Dense does the same
#
# minidl's `Dense` holds its weights in `layer.params` and fills
# `layer.grads` during `backward`. We give it our W and b.

# %%
layer = Dense(n_out, input_shape=(n_in,))
layer.build((n_in,))
layer.set_weights([W, b])
y_minidl = layer.forward(x, training=True)   # training=True keeps x for backward
dx_minidl = layer.backward(g.copy())
assert np.allclose(y_minidl, y)
assert np.allclose(dx_minidl, dx)
assert np.allclose(layer.grads["kernel"], dW) and np.allclose(layer.grads["bias"], db)
print("minidl's Dense agrees with the hand-written forward and backward")

# %% [markdown]
# ## Check 2: central differences
#
# A derivative can be measured without any calculus: nudge one number by a
# tiny h both ways and look at how L moves,
#
#     dL/dv ≈ (L(v + h) - L(v - h)) / (2 h).
#
# To have a loss whose dL/dy is exactly our g, take L = sum(y * g).
# `gradcheck.numerical_gradient(f, v)` does the nudging for every element of
# v in place. In float64 with h = 1e-6 the agreement is about 1e-9 relative;
# a wrong formula is off by order 1.

# %%
def loss():
    return float((dense_forward(x, W, b) * g).sum())


for name, analytic, v in (("dx", dx, x), ("dW", dW, W), ("db", db, b)):
    numeric = gradcheck.numerical_gradient(loss, v)
    err = gradcheck.relative_error(analytic, numeric)
    print(f"{name}: relative error {err:.1e}")
    assert err < 1e-7

# %% [markdown]
# ## Check 3: one call for a whole layer
#
# `gradcheck.check_layer(layer, x)` does all of the above for any minidl
# layer: it draws a random g, runs backward, and compares the input gradient
# and every weight gradient with central differences. The test suite runs it
# on every layer; here on a Dense with a tanh activation, y = tanh(x W + b).

# %%
errors = gradcheck.check_layer(Dense(5, activation="tanh"), rng.normal(size=(6, 4)))
print(errors)
assert max(errors.values()) < 1e-6

# %% [markdown]
# ## Exercise: Dense + tanh
#
# With an activation the layer computes z = x W + b, then y = tanh(z). The
# upstream gradient dL/dy first goes through tanh: dL/dz = dL/dy * tanh'(z),
# and tanh'(z) = 1 - tanh(z)^2 = 1 - y^2, so the output y is all you need to
# keep. Then dL/dz goes through x W + b exactly as above.
#
# Write `dense_tanh_backward(x, W, y, grad_y)` returning `(dx, dW, db)`.
# The cell after it checks your answer against central differences.

# %%
def dense_tanh_backward(x, W, y, grad_y):
    raise NotImplementedError   # your code here


# %%
verdict = exercises.check_dense_tanh_backward(dense_tanh_backward)

# %% [markdown]
# Next: lesson 2, where the factor tanh'(z) — or sigmoid'(z) — is multiplied
# in once per layer, and what that does to a deep network.
