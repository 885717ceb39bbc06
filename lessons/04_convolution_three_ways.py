# %% [markdown]
# # Lesson 4 — Convolution three ways
#
# A 2-D convolution slides a small kernel over an image. For every output
# pixel (i, j) and every filter f it takes the window of the input under the
# kernel and sums window * kernel over the window's height, width and
# channels:
#
#     y[n, i, j, f] = sum_{a, b, c} x[n, i*s + a, j*s + b, c] W[a, b, c, f]
#
# with x: (N, H, W, C), W: (kh, kw, C, F), stride s, and the input padded
# with zeros first when padding='same'. We compute it three ways and get the
# same numbers: plain loops; *im2col* and one matrix product; and minidl's
# Conv2D, which does im2col in blocks with a compiled kernel. Then we look
# at col2im, which carries the gradient back.

# %%
import time

import numpy as np

from minidl import backend as K
from minidl import exercises, gradcheck, kernels, plotting
from minidl.kernels.im2col import col2im_reference, im2col_reference, pad_nhwc
from minidl.layers import Conv2D

K.set_device("cpu")
K.set_floatx("float64")
out = exercises.output_dir("04_convolution")
rng = np.random.default_rng(0)
x = rng.normal(size=(2, 9, 8, 3))          # N, H, W, C
W = rng.normal(size=(3, 3, 3, 4))          # kh, kw, C, F
strides, padding = (2, 2), "same"
g = kernels.window_geometry(9, 8, (3, 3), strides, padding)
print("output", g.out_h, "x", g.out_w, "; padding top/bottom/left/right:",
      g.pad_top, g.pad_bottom, g.pad_left, g.pad_right)

# %% [markdown]
# ## 1. Loops
#
# The formula as written, one output pixel at a time. `window_geometry` gives
# the output size and the padding exactly as TensorFlow (and so Keras)
# chooses it: 'same' keeps ceil(H / s) rows and puts any odd extra row of
# padding at the bottom.

# %%
def conv_loops(x, W, g):
    xp = pad_nhwc(x, g)
    n, f = x.shape[0], W.shape[-1]
    y = np.zeros((n, g.out_h, g.out_w, f))
    for b in range(n):
        for i in range(g.out_h):
            for j in range(g.out_w):
                window = xp[b, i * g.sh:i * g.sh + g.kh, j * g.sw:j * g.sw + g.kw, :]
                y[b, i, j] = np.tensordot(window, W, axes=3)   # sum over (a, b, c)
    return y


y_loops = conv_loops(x, W, g)

# %% [markdown]
# ## 2. im2col + one matrix product
#
# Copy every window into one row of a matrix, *cols*, of shape
# (N * out_h * out_w, kh * kw * C). The kernel, flattened, is a matrix of
# shape (kh * kw * C, F). Their product is every output pixel of every filter
# at once — and since the rows are ordered (n, i, j), it already is y in
# (N, out_h, out_w, F) layout. A matrix product is what BLAS libraries (and
# GPUs) do fastest, which is why this is how most frameworks convolve.
#
# The picture shows it on a 4x5 image with pixels numbered 0..19: each row of
# the matrix lists the pixel numbers inside one window; 'p' is padding.

# %%
exercises.show(plotting.plot_im2col(4, 5, (3, 3), (1, 1), "same", f"{out}/im2col.png",
                                    highlight=6))
cols = im2col_reference(x, g)
print("cols", cols.shape, "@ kernel", W.reshape(-1, 4).shape)
y_im2col = (cols @ W.reshape(-1, 4)).reshape(2, g.out_h, g.out_w, 4)
assert np.allclose(y_im2col, y_loops, rtol=0, atol=1e-12)

# %% [markdown]
# ## 3. minidl's Conv2D
#
# cols is kh*kw times larger than x: for a batch of 512 feature maps 28x28
# with 32 channels and a 3x3 kernel, about 400 MB in float32. So minidl's
# Conv2D cuts the batch into blocks of samples whose cols fit in a few MB (the
# processor's cache), builds each block's cols with a compiled kernel (numba
# on the CPU, CUDA on a GPU), and writes each block's product straight into
# the output.
# Same arithmetic, same numbers; we force tiny blocks to show it.

# %%
layer = Conv2D(4, (3, 3), strides=strides, padding=padding, use_bias=False)
layer.build(x.shape[1:])
layer.set_weights([W])
saved = K.workspace_bytes()
K.set_workspace_bytes(cols.itemsize * cols.shape[1] * g.out_h * g.out_w)   # one sample per block
print("blocks of samples:", layer._blocks(x), " kernel:", kernels.implementation())
y_fast = layer.forward(x, training=True)
K.set_workspace_bytes(saved)
for name, y in (("im2col", y_im2col), ("Conv2D", y_fast)):
    print(f"loops vs {name}: max difference {np.abs(y - y_loops).max():.1e}")
    assert np.abs(y - y_loops).max() < 1e-12

# %% [markdown]
# On a bigger batch the difference in speed shows:

# %%
xb = rng.normal(size=(8, 28, 28, 8))
Wb = rng.normal(size=(3, 3, 8, 16))
gb = kernels.window_geometry(28, 28, (3, 3), (1, 1), "valid")
big = Conv2D(16, 3, use_bias=False)
big.build(xb.shape[1:])
big.set_weights([Wb])
times = {}
for name, run in (("loops", lambda: conv_loops(xb, Wb, gb)),
                  ("im2col", lambda: im2col_reference(xb, gb) @ Wb.reshape(-1, 16)),
                  ("Conv2D", lambda: big.forward(xb))):
    start = time.perf_counter()
    run()
    times[name] = time.perf_counter() - start
    print(f"{name:7s} {1000 * times[name]:8.2f} ms")
assert times["im2col"] < times["loops"]

# %% [markdown]
# ## col2im: the adjoint, and the gradient
#
# im2col is a linear map A from x to cols (it only copies numbers). The
# forward is z = A(x) @ Wmat, so backward gives
#
#     dWmat = A(x)^T @ dz        dcols = dz @ Wmat^T        dx = A^T(dcols).
#
# A^T, the *adjoint* of im2col, is col2im: it adds every row of dcols back
# onto the window it was copied from (pixels shared by several windows
# collect several contributions). "Adjoint" has a checkable meaning: for any
# x and any matrix C of cols' shape, <A(x), C> = <x, A^T(C)>.

# %%
C = rng.normal(size=cols.shape)
left = (im2col_reference(x, g) * C).sum()
right = (x * col2im_reference(C, x.shape, g)).sum()
print(f"<im2col(x), C> = {left:.12f}\n<x, col2im(C)> = {right:.12f}")
assert abs(left - right) < 1e-10 * abs(left)

dz = rng.normal(size=y_fast.shape)
dx = layer.backward(dz.copy())
dx_by_hand = col2im_reference(dz.reshape(-1, 4) @ W.reshape(-1, 4).T, x.shape, g)
assert np.allclose(dx, dx_by_hand)
errors = gradcheck.check_layer(Conv2D(4, (3, 3), strides=2, padding="same"), x)
print("check_layer(Conv2D):", errors)
assert max(errors.values()) < 1e-6

# %% [markdown]
# ## Exercises
#
# 1. Write `im2col_simple(x, kh, kw)` for stride 1 and no padding: x (N, H,
#    W, C) -> cols (N * Ho * Wo, kh * kw * C), each row ordered (a, b, c) like
#    a flattened (kh, kw, C, F) kernel. Loop over the kh * kw kernel offsets
#    only, not over pixels.
# 2. Write `conv_weight_grad(x, grad_y, kh, kw)` -> dL/dW of shape
#    (kh, kw, C, F) for the same convolution.

# %%
def im2col_simple(x, kh, kw):
    raise NotImplementedError   # your code here


def conv_weight_grad(x, grad_y, kh, kw):
    raise NotImplementedError   # your code here


# %%
verdict1 = exercises.check_im2col(im2col_simple)
verdict2 = exercises.check_conv_weight_grad(conv_weight_grad)
