"""im2col and col2im for NHWC images: the plain array reference.

im2col turns every (kh, kw, C) window of x into one row, so a convolution
becomes one matrix product: ``out = im2col(x) @ W.reshape(kh*kw*C, F)``.
col2im is its adjoint: it adds every row back onto the window it came from,
which is the input gradient of that product.

x: (N, H, W, C) -> cols: (N*out_h*out_w, kh*kw*C), columns ordered (i, j, c),
the order of a Keras kernel (kh, kw, C, F) flattened in C order.

The loops run over the kh*kw kernel offsets only (at most 49), each one a
whole-batch strided copy, so this reference is also a usable fallback on
NumPy and CuPy. The fast kernels (numba on the CPU, CUDA on the GPU) must
give exactly the same numbers; tests/test_kernels.py checks that.
"""
from ..backend import get_array_module


def _rows(offset, stride, count):
    return slice(offset, offset + stride * (count - 1) + 1, stride)


def pad_nhwc(x, g, value=0.0):
    """x (N, H, W, C) padded on H and W as the geometry ``g`` says."""
    if not (g.pad_top or g.pad_bottom or g.pad_left or g.pad_right):
        return x
    xp = get_array_module(x)
    n, h, w, c = x.shape
    out = xp.full((n, h + g.pad_top + g.pad_bottom, w + g.pad_left + g.pad_right, c),
                  value, dtype=x.dtype)
    out[:, g.pad_top:g.pad_top + h, g.pad_left:g.pad_left + w, :] = x
    return out


def im2col_reference(x, g):
    """x: (N, H, W, C) -> cols: (N*out_h*out_w, kh*kw*C)."""
    xp = get_array_module(x)
    n, _, _, c = x.shape
    xpad = pad_nhwc(x, g)
    cols = xp.empty((n, g.out_h, g.out_w, g.kh, g.kw, c), dtype=x.dtype)
    for i in range(g.kh):
        for j in range(g.kw):
            cols[:, :, :, i, j, :] = xpad[:, _rows(i, g.sh, g.out_h), _rows(j, g.sw, g.out_w), :]
    return cols.reshape(n * g.out_h * g.out_w, g.kh * g.kw * c)


def col2im_reference(cols, x_shape, g):
    """cols: (N*out_h*out_w, kh*kw*C) -> dx: (N, H, W, C), overlaps summed."""
    xp = get_array_module(cols)
    n, h, w, c = x_shape
    cols = cols.reshape(n, g.out_h, g.out_w, g.kh, g.kw, c)
    dxpad = xp.zeros((n, h + g.pad_top + g.pad_bottom, w + g.pad_left + g.pad_right, c),
                     dtype=cols.dtype)
    for i in range(g.kh):
        for j in range(g.kw):
            dxpad[:, _rows(i, g.sh, g.out_h), _rows(j, g.sw, g.out_w), :] += cols[:, :, :, i, j, :]
    return dxpad[:, g.pad_top:g.pad_top + h, g.pad_left:g.pad_left + w, :]
