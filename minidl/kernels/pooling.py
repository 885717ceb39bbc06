"""Max and average pooling over NHWC windows: the plain array references.

Max pooling keeps, for every output, which element of its window was the max
(``argmax``, the index i*kw + j of the *first* max in row-major order, as
TensorFlow's MaxPoolGrad does); backward routes each output gradient to that
one element. Windows may overlap (strides < pool size): gradients then add.

x: (N, H, W, C) -> out, argmax: (N, out_h, out_w, C). Average pooling: below.
"""
from ..backend import get_array_module
from .im2col import _rows, pad_nhwc


def maxpool_forward_reference(x, g):
    xp = get_array_module(x)
    n, _, _, c = x.shape
    xpad = pad_nhwc(x, g, value=-xp.inf)
    windows = xp.empty((n, g.out_h, g.out_w, c, g.kh * g.kw), dtype=x.dtype)
    for i in range(g.kh):
        for j in range(g.kw):
            windows[..., i * g.kw + j] = xpad[:, _rows(i, g.sh, g.out_h), _rows(j, g.sw, g.out_w), :]
    argmax = windows.argmax(axis=-1).astype(xp.int32)
    out = xp.take_along_axis(windows, argmax[..., None], axis=-1)[..., 0]
    return out, argmax


def maxpool_backward_reference(grad_out, argmax, x_shape, g):
    xp = get_array_module(grad_out)
    n, h, w, c = x_shape
    dxpad = xp.zeros((n, h + g.pad_top + g.pad_bottom, w + g.pad_left + g.pad_right, c),
                     dtype=grad_out.dtype)
    for i in range(g.kh):
        for j in range(g.kw):
            routed = grad_out * (argmax == i * g.kw + j)
            dxpad[:, _rows(i, g.sh, g.out_h), _rows(j, g.sw, g.out_w), :] += routed
    return dxpad[:, g.pad_top:g.pad_top + h, g.pad_left:g.pad_left + w, :]


# ------------------------------------------------------------- average pooling
# The mean of each window over the cells that lie inside x: padding cells are
# not counted (TensorFlow's 'SAME' average pooling, which Keras inherits), so
# a border window of 'same' pooling averages fewer values.

def _inverse_counts(xp, x_shape, g, dtype):
    """1 / (cells of each window inside x): (out_h, out_w, 1); windows are
    rectangles, so the count is (rows inside) * (columns inside)."""
    _, h, w, _ = x_shape

    def inside(out, k, s, pad, size):
        start = xp.arange(out) * s - pad
        return xp.minimum(start + k, size) - xp.maximum(start, 0)

    rows = inside(g.out_h, g.kh, g.sh, g.pad_top, h)
    cols = inside(g.out_w, g.kw, g.sw, g.pad_left, w)
    return (1.0 / (rows[:, None, None] * cols[None, :, None])).astype(dtype)


def avgpool_forward_reference(x, g):
    """x: (N, H, W, C) -> (N, out_h, out_w, C)."""
    xp = get_array_module(x)
    n, _, _, c = x.shape
    xpad = pad_nhwc(x, g)
    total = xp.zeros((n, g.out_h, g.out_w, c), dtype=x.dtype)
    for i in range(g.kh):
        for j in range(g.kw):
            total += xpad[:, _rows(i, g.sh, g.out_h), _rows(j, g.sw, g.out_w), :]
    total *= _inverse_counts(xp, x.shape, g, x.dtype)
    return total


def avgpool_backward_reference(grad_out, x_shape, g):
    """grad_out: (N, out_h, out_w, C) -> dx: (N, H, W, C); each window's
    gradient shared equally by its cells inside x (overlaps summed)."""
    xp = get_array_module(grad_out)
    n, h, w, c = x_shape
    share = grad_out * _inverse_counts(xp, x_shape, g, grad_out.dtype)
    dxpad = xp.zeros((n, h + g.pad_top + g.pad_bottom, w + g.pad_left + g.pad_right, c),
                     dtype=grad_out.dtype)
    for i in range(g.kh):
        for j in range(g.kw):
            dxpad[:, _rows(i, g.sh, g.out_h), _rows(j, g.sw, g.out_w), :] += share
    return dxpad[:, g.pad_top:g.pad_top + h, g.pad_left:g.pad_left + w, :]
