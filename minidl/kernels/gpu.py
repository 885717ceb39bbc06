"""The window kernels for CuPy arrays, as CUDA elementwise kernels.

Same four functions and the same numbers as the references in
``im2col.py`` and ``pooling.py``. One CUDA thread per *output* element,
and every kernel is a gather, never a scatter: a col2im or max-pool
backward thread sums, in the reference's (i, j) order, the window
positions that cover its own dx element. So there are no atomics, and the
sums are deterministic and equal to the reference's.

``cupy.ElementwiseKernel`` picks the launch size from the output array,
instantiates the code for its dtype (``T``: float32 or float64) and launches
on the current stream; nothing here waits for the GPU. Other dtypes
(float16) use the plain references.
"""
import cupy
import numpy as np

from .geometry import check_4d, check_shape
from .im2col import col2im_reference, im2col_reference
from .pooling import maxpool_backward_reference, maxpool_forward_reference

NAME = "cuda"

_COMPILED = (np.dtype(np.float32), np.dtype(np.float64))

# The sizes every kernel receives, in this order (``n`` and ``i`` are
# reserved names inside an ElementwiseKernel, hence no batch size: the
# sample index is what is left after peeling the other indices off ``i``).
_GEOMETRY = ("int32 h, int32 w, int32 c, int32 kh, int32 kw, int32 sh, int32 sw, "
             "int32 pt, int32 pl, int32 oh, int32 ow")

_IM2COL = cupy.ElementwiseKernel(
    "raw T x, " + _GEOMETRY, "T cols",
    """
    // i runs over cols (N*out_h*out_w, kh*kw*C) in the order (b, oy, ox, ki, kj, ch).
    long long t = i;
    const int ch = t % c; t /= c;
    const int kj = t % kw; t /= kw;
    const int ki = t % kh; t /= kh;
    const int ox = t % ow; t /= ow;
    const int oy = t % oh; t /= oh;
    const int iy = oy * sh - pt + ki, ix = ox * sw - pl + kj;
    cols = (0 <= iy && iy < h && 0 <= ix && ix < w)
         ? x[((t * h + iy) * w + ix) * c + ch] : (T)0;
    """,
    "minidl_im2col")

# Every loop below visits only the kernel rows ki with (y + pt - ki) divisible
# by sh (and columns likewise), in ascending order, as the reference sums.
_COL2IM = cupy.ElementwiseKernel(
    "raw T cols, " + _GEOMETRY, "T dx",
    """
    // i runs over dx (N, H, W, C).
    long long t = i;
    const int ch = t % c; t /= c;
    const int xx = t % w; t /= w;
    const int y = t % h; t /= h;
    const int ty = y + pt, tx = xx + pl;
    T acc = 0;
    for (int ki = ty % sh; ki < kh; ki += sh) {
        const int oy = (ty - ki) / sh;
        if (oy < 0) break;
        if (oy >= oh) continue;
        for (int kj = tx % sw; kj < kw; kj += sw) {
            const int ox = (tx - kj) / sw;
            if (ox < 0) break;
            if (ox >= ow) continue;
            acc += cols[(((t * oh + oy) * ow + ox) * kh * kw + ki * kw + kj) * c + ch];
        }
    }
    dx = acc;
    """,
    "minidl_col2im")

_NEG_INF = """
__device__ float minidl_neg_inf(float) { return __int_as_float((int)0xff800000u); }
__device__ double minidl_neg_inf(double) {
    return __longlong_as_double((long long)0xfff0000000000000ull);
}
"""

_MAXPOOL_FORWARD = cupy.ElementwiseKernel(
    "raw T x, " + _GEOMETRY, "T out, int32 argmax",
    """
    // i runs over out (N, out_h, out_w, C); padding reads as -inf.
    long long t = i;
    const int ch = t % c; t /= c;
    const int ox = t % ow; t /= ow;
    const int oy = t % oh; t /= oh;
    T best = 0;
    int arg = 0;
    for (int k = 0; k < kh * kw; ++k) {
        const int iy = oy * sh - pt + k / kw, ix = ox * sw - pl + k % kw;
        const T v = (0 <= iy && iy < h && 0 <= ix && ix < w)
                  ? x[((t * h + iy) * w + ix) * c + ch] : minidl_neg_inf(T());
        // NumPy's argmax: the first maximum; the first NaN beats every number.
        if (k == 0 || v > best || (isnan(v) && !isnan(best))) {
            best = v;
            arg = k;
        }
    }
    out = best;
    argmax = arg;
    """,
    "minidl_maxpool_forward", preamble=_NEG_INF)

_MAXPOOL_BACKWARD = cupy.ElementwiseKernel(
    "raw T grad_out, raw int32 argmax, " + _GEOMETRY, "T dx",
    """
    // i runs over dx (N, H, W, C): sum the gradients of the windows that chose it.
    long long t = i;
    const int ch = t % c; t /= c;
    const int xx = t % w; t /= w;
    const int y = t % h; t /= h;
    const int ty = y + pt, tx = xx + pl;
    T acc = 0;
    for (int ki = ty % sh; ki < kh; ki += sh) {
        const int oy = (ty - ki) / sh;
        if (oy < 0) break;
        if (oy >= oh) continue;
        for (int kj = tx % sw; kj < kw; kj += sw) {
            const int ox = (tx - kj) / sw;
            if (ox < 0) break;
            if (ox >= ow) continue;
            const long long o = ((t * oh + oy) * ow + ox) * c + ch;
            if (argmax[o] == ki * kw + kj) acc += grad_out[o];
        }
    }
    dx = acc;
    """,
    "minidl_maxpool_backward")


def _flat(a):
    """``a`` as a 1-D C-ordered view, so that a raw argument's ``a[k]`` is a plain offset."""
    return cupy.ascontiguousarray(a).reshape(-1)


def _sizes(shape, g):
    _, h, w, c = shape
    return tuple(np.int32(v) for v in (h, w, c, g.kh, g.kw, g.sh, g.sw,
                                       g.pad_top, g.pad_left, g.out_h, g.out_w))


def im2col(x, g):
    """x: (N, H, W, C) -> cols: (N*out_h*out_w, kh*kw*C), columns ordered (i, j, c)."""
    check_4d("im2col", "x", x)
    if x.dtype not in _COMPILED:
        return im2col_reference(x, g)
    n, _, _, c = x.shape
    cols = cupy.empty((n * g.out_h * g.out_w, g.kh * g.kw * c), dtype=x.dtype)
    return _IM2COL(_flat(x), *_sizes(x.shape, g), cols)


def col2im(cols, x_shape, g):
    """cols: (N*out_h*out_w, kh*kw*C) -> dx: (N, H, W, C), overlaps summed."""
    n, h, w, c = x_shape = tuple(x_shape)
    check_shape("col2im", "cols", cols, (n * g.out_h * g.out_w, g.kh * g.kw * c))
    if cols.dtype not in _COMPILED:
        return col2im_reference(cols, x_shape, g)
    dx = cupy.empty(x_shape, dtype=cols.dtype)
    return _COL2IM(_flat(cols), *_sizes(x_shape, g), dx)


def maxpool_forward(x, g):
    """x: (N, H, W, C) -> (out, argmax int32), each (N, out_h, out_w, C)."""
    check_4d("maxpool_forward", "x", x)
    if x.dtype not in _COMPILED:
        return maxpool_forward_reference(x, g)
    n, _, _, c = x.shape
    out = cupy.empty((n, g.out_h, g.out_w, c), dtype=x.dtype)
    argmax = cupy.empty((n, g.out_h, g.out_w, c), dtype=np.int32)
    return _MAXPOOL_FORWARD(_flat(x), *_sizes(x.shape, g), out, argmax)


def maxpool_backward(grad_out, argmax, x_shape, g):
    """grad_out, argmax: (N, out_h, out_w, C) -> dx: (N, H, W, C)."""
    n, h, w, c = x_shape = tuple(x_shape)
    expected = (n, g.out_h, g.out_w, c)
    check_shape("maxpool_backward", "grad_out", grad_out, expected)
    check_shape("maxpool_backward", "argmax", argmax, expected)
    if grad_out.dtype not in _COMPILED:
        return maxpool_backward_reference(grad_out, argmax, x_shape, g)
    dx = cupy.empty(x_shape, dtype=grad_out.dtype)
    return _MAXPOOL_BACKWARD(_flat(grad_out), _flat(argmax.astype(np.int32, copy=False)),
                             *_sizes(x_shape, g), dx)
