"""Max pooling over NHWC windows: the plain array reference.

Forward keeps, for every output, which element of its window was the max
(``argmax``, the index i*kw + j of the *first* max in row-major order, as
TensorFlow's MaxPoolGrad does); backward routes each output gradient to that
one element. Windows may overlap (strides < pool size): gradients then add.

x: (N, H, W, C) -> out, argmax: (N, out_h, out_w, C).
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
