"""The small interface between the layers and their hot loops.

Layers and optimizers call these functions and never ask which
implementation runs:

    window_geometry(...)                              sizes and padding
    im2col(x, g), col2im(cols, x_shape, g)            Conv2D
    maxpool_forward(x, g), maxpool_backward(...)      MaxPooling2D
    avgpool_forward(x, g), avgpool_backward(...)      AveragePooling2D
    batchnorm_forward(...), batchnorm_backward(...)   BatchNormalization
    relu_forward_inplace, relu_backward_inplace,      activations
    bias_add_relu_inplace, bias_grad, dropout_forward Dense/Conv2D, Dropout
    sgd_momentum_update, adam_update, adadelta_update optimizers

Each dispatches on the array's library: the numba kernel in ``cpu.py`` for
NumPy arrays (when numba imports), the CUDA kernel in ``gpu.py`` for CuPy
arrays where one exists, and otherwise the plain array reference it is
tested against (``*_reference`` in im2col.py, pooling.py, batchnorm.py,
elementwise.py, updates.py), which runs on NumPy and CuPy alike.
"""
import numpy as np

from ..backend import get_array_module
from . import batchnorm, elementwise, im2col as _im2col_mod, pooling, updates
from .geometry import Geometry, window_geometry

__all__ = ["Geometry", "window_geometry", "im2col", "col2im", "maxpool_forward",
           "maxpool_backward", "avgpool_forward", "avgpool_backward", "batchnorm_forward",
           "batchnorm_backward",
           "relu_forward_inplace", "relu_backward_inplace", "bias_add_relu_inplace", "bias_grad",
           "dropout_forward", "sgd_momentum_update", "adam_update", "adadelta_update",
           "implementation"]

_REFERENCES = {}
for _module in (_im2col_mod, pooling, batchnorm, elementwise, updates):
    for _name in dir(_module):
        if _name.endswith("_reference"):
            _REFERENCES[_name[:-len("_reference")]] = getattr(_module, _name)


def _fast_module(xp):
    """The fast-kernel module for this array library, or None."""
    try:
        if xp is np:
            from . import cpu as module
        else:
            from . import gpu as module
    except ImportError:  # numba (or CuPy) missing: the references still work
        return None
    return module


def _pick(name, array):
    """The fast ``name`` for this array's library if there is one, else the reference."""
    fast = _fast_module(get_array_module(array))
    return getattr(fast, name, None) or _REFERENCES[name]


def implementation(xp=np):
    """'numba', 'cuda' or 'reference': what runs the window kernels for ``xp`` arrays."""
    mod = _fast_module(xp)
    return getattr(mod, "NAME", "reference") if mod else "reference"


def _pointwise(g):
    """A 1x1 window, stride 1, no padding: im2col is a reshape (a view, no copy)."""
    return (g.kh, g.kw, g.sh, g.sw) == (1, 1, 1, 1) and not any(
        (g.pad_top, g.pad_bottom, g.pad_left, g.pad_right))


def im2col(x, g):
    """x: (N, H, W, C) -> cols: (N*out_h*out_w, kh*kw*C)."""
    if _pointwise(g) and x.flags.c_contiguous:
        return x.reshape(-1, x.shape[-1])
    return _pick("im2col", x)(x, g)


def col2im(cols, x_shape, g):
    """cols: (N*out_h*out_w, kh*kw*C) -> dx: (N, H, W, C), overlaps summed."""
    if _pointwise(g):
        return cols.reshape(x_shape)
    return _pick("col2im", cols)(cols, x_shape, g)


def maxpool_forward(x, g):
    """x: (N, H, W, C) -> (out, argmax), each (N, out_h, out_w, C)."""
    return _pick("maxpool_forward", x)(x, g)


def maxpool_backward(grad_out, argmax, x_shape, g):
    """grad_out, argmax: (N, out_h, out_w, C) -> dx: (N, H, W, C)."""
    return _pick("maxpool_backward", grad_out)(grad_out, argmax, x_shape, g)


def avgpool_forward(x, g):
    """x: (N, H, W, C) -> (N, out_h, out_w, C), each window's mean over its cells inside x."""
    return _pick("avgpool_forward", x)(x, g)


def avgpool_backward(grad_out, x_shape, g):
    """grad_out: (N, out_h, out_w, C) -> dx: (N, H, W, C)."""
    return _pick("avgpool_backward", grad_out)(grad_out, x_shape, g)


def batchnorm_forward(x, gamma, beta, epsilon):
    """x: (M, C) -> (y, x_hat, mean, var, inv_std): training-mode batch normalization."""
    return _pick("batchnorm_forward", x)(x, gamma, beta, epsilon)


def batchnorm_backward(grad, x_hat, gamma, inv_std):
    """grad, x_hat: (M, C) -> (dx, dgamma, dbeta)."""
    return _pick("batchnorm_backward", grad)(grad, x_hat, gamma, inv_std)


def relu_forward_inplace(z):
    """z <- max(z, 0); returns z."""
    return _pick("relu_forward_inplace", z)(z)


def relu_backward_inplace(grad, y):
    """grad <- grad * (y > 0); returns grad."""
    return _pick("relu_backward_inplace", grad)(grad, y)


def bias_add_relu_inplace(z, b):
    """z: (M, F) <- max(z + b, 0); returns z."""
    return _pick("bias_add_relu_inplace", z)(z, b)


def bias_grad(grad_z):
    """dL/db = sum over rows of dL/dz: (M, F) -> (F,)."""
    return _pick("bias_grad", grad_z)(grad_z)


def dropout_forward(x, u, rate):
    """x / (1 - rate) where u >= rate, else 0 (u: uniform draws shaped like x)."""
    return _pick("dropout_forward", x)(x, u, rate)


def sgd_momentum_update(w, g, v, lr_t, momentum, nesterov):
    return _pick("sgd_momentum_update", w)(w, g, v, lr_t, momentum, nesterov)


def adam_update(w, g, m, v, lr_t, beta_1, beta_2, epsilon):
    return _pick("adam_update", w)(w, g, m, v, lr_t, beta_1, beta_2, epsilon)


def adadelta_update(w, g, a, d, lr_t, rho, epsilon):
    return _pick("adadelta_update", w)(w, g, a, d, lr_t, rho, epsilon)
