"""The small interface between the layers and their hot loops.

Layers call these five functions and never ask which implementation runs:

    im2col(x, g), col2im(cols, x_shape, g)            -- Conv2D
    maxpool_forward(x, g), maxpool_backward(...)      -- MaxPooling2D
    window_geometry(...)                              -- sizes and padding

Each dispatches on the array's library: a numba kernel for NumPy arrays when
numba imports, a CUDA kernel for CuPy arrays, and otherwise the plain array
reference beside it (``*_reference``), which the tests hold the fast ones to.
"""
import numpy as np

from ..backend import get_array_module
from .geometry import Geometry, window_geometry
from .im2col import col2im_reference, im2col_reference
from .pooling import maxpool_backward_reference, maxpool_forward_reference

__all__ = ["Geometry", "window_geometry", "im2col", "col2im",
           "maxpool_forward", "maxpool_backward", "implementation"]


def _fast_module(xp):
    """The fast-kernel module for this array library, or None."""
    if xp is np:
        try:
            from . import cpu
        except ImportError:  # numba missing: the reference still works
            return None
        return cpu
    try:
        from . import gpu
    except ImportError:
        return None
    return gpu


def implementation(xp=np):
    """'numba', 'cuda' or 'reference': what runs for arrays of ``xp``."""
    mod = _fast_module(xp)
    return getattr(mod, "NAME", "reference") if mod else "reference"


def im2col(x, g):
    """x: (N, H, W, C) -> cols: (N*out_h*out_w, kh*kw*C)."""
    fast = _fast_module(get_array_module(x))
    return fast.im2col(x, g) if fast else im2col_reference(x, g)


def col2im(cols, x_shape, g):
    """cols: (N*out_h*out_w, kh*kw*C) -> dx: (N, H, W, C), overlaps summed."""
    fast = _fast_module(get_array_module(cols))
    return fast.col2im(cols, x_shape, g) if fast else col2im_reference(cols, x_shape, g)


def maxpool_forward(x, g):
    """x: (N, H, W, C) -> (out, argmax), each (N, out_h, out_w, C)."""
    fast = _fast_module(get_array_module(x))
    return fast.maxpool_forward(x, g) if fast else maxpool_forward_reference(x, g)


def maxpool_backward(grad_out, argmax, x_shape, g):
    """grad_out, argmax: (N, out_h, out_w, C) -> dx: (N, H, W, C)."""
    fast = _fast_module(get_array_module(grad_out))
    if fast:
        return fast.maxpool_backward(grad_out, argmax, x_shape, g)
    return maxpool_backward_reference(grad_out, argmax, x_shape, g)
