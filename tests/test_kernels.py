"""The window kernels behind Conv2D and MaxPooling2D.

im2col turns every (kh, kw, C) window of an NHWC image into one row, so a
convolution is one matrix product; col2im adds rows back onto their windows
(the input gradient). Max pooling keeps the max of each window and which
element it was (argmax), and its backward pass routes each gradient there.

Each has a plain array reference (``minidl/kernels/im2col.py``,
``pooling.py``) and fast versions: numba on the CPU (``cpu.py``) and CUDA on
the GPU (``gpu.py``). The fast ones must give the reference's numbers
exactly, for every window shape, stride and padding, NaNs and strided views
included. Every test takes ``xp`` (conftest.py), so it runs on NumPy and on
CuPy (a GPU, or the CuPy stand-in). Average pooling has only its reference,
so it has no fast-vs-reference check. That the CUDA source compiles for real
GPUs is tests/test_cuda_compile.py's job.
"""
import itertools

import numpy as np
import pytest

from minidl import backend, kernels
from minidl.kernels import cpu, elementwise, window_geometry
from minidl.kernels.im2col import col2im_reference, im2col_reference
from minidl.kernels.pooling import maxpool_backward_reference, maxpool_forward_reference


def _fast(xp):
    """The fast kernel module for arrays of ``xp``: cpu.py (numba) or gpu.py (CUDA)."""
    if xp is np:
        return cpu
    from minidl.kernels import gpu
    return gpu


def _geometries():
    """(x_shape, geometry, id): kernels 1-7 (even ones too), strides 1-3, both
    paddings, odd and even image sizes; C in 1, 3, 5 and N in 1, 3 take turns."""
    cases = []
    for n, (k, s, padding, (h, w)) in enumerate(itertools.product(
            (1, 2, 3, 4, 5, 6, 7), (1, 2, 3), ("same", "valid"), ((7, 7), (8, 6)))):
        if padding == "valid" and k > min(h, w):
            continue
        shape = ((1, 3)[n % 2], h, w, (1, 3, 5)[n % 3])
        cases.append((shape, window_geometry(h, w, (k, k), (s, s), padding),
                      f"{h}x{w}x{shape[3]}-k{k}-s{s}-{padding}-n{shape[0]}"))
    return cases


GEOMETRIES = _geometries()
CASES = [pytest.param(shape, g, id=name) for shape, g, name in GEOMETRIES]
DTYPES = ["float32", "float64"]


def _random(xp, shape, dtype, seed=0):
    return xp.asarray(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def _same(fast, ref, msg=""):
    np.testing.assert_array_equal(backend.to_numpy(fast), backend.to_numpy(ref), strict=True,
                                  err_msg=msg)


# ------------------------------------------------------- fast == reference ---

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, g", CASES)
def test_im2col_matches_reference(xp, shape, g, dtype):
    x = _random(xp, shape, dtype)
    _same(_fast(xp).im2col(x, g), im2col_reference(x, g))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, g", CASES)
def test_col2im_matches_reference(xp, shape, g, dtype):
    # Exactly, not just closely: both sum each pixel's terms in (i, j) order.
    cols = _random(xp, (shape[0] * g.out_h * g.out_w, g.kh * g.kw * shape[3]), dtype)
    _same(_fast(xp).col2im(cols, shape, g), col2im_reference(cols, shape, g))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, g", CASES)
def test_maxpool_forward_matches_reference(xp, shape, g, dtype):
    x = _random(xp, shape, dtype)
    out, argmax = _fast(xp).maxpool_forward(x, g)
    ref_out, ref_argmax = maxpool_forward_reference(x, g)
    _same(out, ref_out)
    _same(argmax, ref_argmax)  # int32, strict=True checks the dtype too


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, g", CASES)
def test_maxpool_backward_matches_reference(xp, shape, g, dtype):
    x = _random(xp, shape, dtype)
    _, argmax = maxpool_forward_reference(x, g)
    grad = _random(xp, argmax.shape, dtype, seed=1)
    _same(_fast(xp).maxpool_backward(grad, argmax, shape, g),
          maxpool_backward_reference(grad, argmax, shape, g))


# ------------------------------- what the layers call, on awkward inputs ---

def _with_nans(xp, shape, dtype, seed):
    """Random values with every 7th a NaN, and for odd seeds a 2x2 corner of NaNs."""
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    a.flat[::7] = np.nan
    if seed % 2:
        a[:, :2, :2, 0] = np.nan
    return xp.asarray(a)


def _strided(xp, a):
    """The values of ``a`` as a view of every other element of a larger array
    (non-contiguous, unless all but the last axis have length 1)."""
    big = xp.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    big[..., ::2] = a
    return big[..., ::2]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel", ["im2col", "col2im", "maxpool_forward", "maxpool_backward"])
def test_dispatched_kernels_match_references_over_the_geometry_grid(xp, kernel, dtype):
    # kernels.<name> is what Conv2D and MaxPooling2D call (a 1x1 window takes a shortcut
    # there). Every geometry of the grid, with NaNs in the images, and every other case
    # on non-contiguous views.
    for case, (shape, g, name) in enumerate(GEOMETRIES):
        x = _with_nans(xp, shape, dtype, seed=case)
        cols_shape = (shape[0] * g.out_h * g.out_w, g.kh * g.kw * shape[3])
        cols = _random(xp, cols_shape, dtype, seed=case)
        _, argmax = maxpool_forward_reference(x, g)
        grad = _random(xp, argmax.shape, dtype, seed=case + 1)
        if case % 2:
            x, cols, grad, argmax = (_strided(xp, a) for a in (x, cols, grad, argmax))
        msg = f"{kernel}, {name}, {dtype}" + (", strided" if case % 2 else "")
        if kernel == "im2col":
            _same(kernels.im2col(x, g), im2col_reference(x, g), msg)
        elif kernel == "col2im":
            _same(kernels.col2im(cols, shape, g), col2im_reference(cols, shape, g), msg)
        elif kernel == "maxpool_forward":
            out, arg = kernels.maxpool_forward(x, g)
            ref_out, ref_arg = maxpool_forward_reference(x, g)
            _same(out, ref_out, msg)
            _same(arg, ref_arg, msg)
        else:
            _same(kernels.maxpool_backward(grad, argmax, shape, g),
                  maxpool_backward_reference(grad, argmax, shape, g), msg)


# ------------------------------------------------------------- semantics ---

def test_im2col_rows_are_windows_in_kernel_order(xp):
    # A 3x3 one-channel image, 2x2 windows: four rows, each window read row by row.
    x = xp.asarray(np.arange(9.0).reshape(1, 3, 3, 1))
    g = window_geometry(3, 3, (2, 2), (1, 1), "valid")
    expected = [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    np.testing.assert_array_equal(backend.to_numpy(_fast(xp).im2col(x, g)), expected)


def test_same_padding_reads_zeros_outside_the_image(xp):
    # TensorFlow puts the odd padding pixel at the bottom/right.
    x = xp.ones((1, 2, 2, 1))
    g = window_geometry(2, 2, (2, 2), (1, 1), "same")
    np.testing.assert_array_equal(backend.to_numpy(_fast(xp).im2col(x, g)),
                                  [[1, 1, 1, 1], [1, 0, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0]])


@pytest.mark.parametrize("shape, g", CASES)
def test_col2im_is_the_adjoint_of_im2col(xp, shape, g):
    # <im2col(x), c> == <x, col2im(c)>: col2im is exactly the gradient of im2col.
    fast = _fast(xp)
    x = _random(xp, shape, "float64")
    cols = _random(xp, (shape[0] * g.out_h * g.out_w, g.kh * g.kw * shape[3]), "float64", 1)
    lhs = float((fast.im2col(x, g) * cols).sum())
    rhs = float((x * fast.col2im(cols, shape, g)).sum())
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


def test_maxpool_ties_route_the_gradient_to_the_first_max(xp):
    # Equal values: argmax is the first in row-major window order (TensorFlow's rule).
    fast = _fast(xp)
    x = xp.asarray(np.array([[5, 5], [5, 1]], np.float32).reshape(1, 2, 2, 1))
    g = window_geometry(2, 2, (2, 2), (2, 2), "valid")
    out, argmax = fast.maxpool_forward(x, g)
    assert float(out[0, 0, 0, 0]) == 5 and int(argmax[0, 0, 0, 0]) == 0
    dx = fast.maxpool_backward(xp.ones_like(out), argmax, x.shape, g)
    np.testing.assert_array_equal(backend.to_numpy(dx)[0, :, :, 0], [[1, 0], [0, 0]])


def test_overlapping_pool_windows_add_their_gradients(xp):
    # 3x3 windows at stride 1 on a 4x4 image: the global max is in all four windows.
    fast = _fast(xp)
    x = np.zeros((1, 4, 4, 1), np.float32)
    x[0, 1, 2, 0] = 9
    g = window_geometry(4, 4, (3, 3), (1, 1), "valid")
    out, argmax = fast.maxpool_forward(xp.asarray(x), g)
    dx = backend.to_numpy(fast.maxpool_backward(xp.ones_like(out), argmax, x.shape, g))
    assert dx[0, 1, 2, 0] == 4 and dx.sum() == 4


@pytest.mark.parametrize("dtype", DTYPES)
def test_maxpool_nan_wins_as_in_numpy_argmax(xp, dtype):
    # The first NaN of the window is its max (NumPy's argmax), even after an inf; the
    # gradient goes to it.
    x = xp.asarray(np.array([[1, np.nan], [np.inf, np.nan]], dtype).reshape(1, 2, 2, 1))
    g = window_geometry(2, 2, (2, 2), (2, 2), "valid")
    out, argmax = _fast(xp).maxpool_forward(x, g)
    assert np.isnan(float(out[0, 0, 0, 0])) and int(argmax[0, 0, 0, 0]) == 1
    dx = _fast(xp).maxpool_backward(xp.ones_like(out), argmax, x.shape, g)
    np.testing.assert_array_equal(backend.to_numpy(dx)[0, :, :, 0], [[0, 1], [0, 0]])


def test_maxpool_nan_in_the_padding_corner_of_a_same_window(xp):
    # 'same' padding reads -inf: a window of NaN and padding still answers NaN, at the NaN.
    x = xp.asarray(np.full((1, 1, 1, 2), np.nan, np.float32))
    g = window_geometry(1, 1, (3, 3), (1, 1), "same")
    out, argmax = _fast(xp).maxpool_forward(x, g)
    ref_out, ref_argmax = maxpool_forward_reference(x, g)
    assert np.isnan(backend.to_numpy(out)).all()
    _same(argmax, ref_argmax)


def test_non_contiguous_inputs_give_the_same_numbers(xp):
    fast = _fast(xp)
    x = _random(xp, (3, 7, 9, 4), "float32")[:, ::-1, 1:8, ::2]  # a strided view
    g = window_geometry(7, 7, (3, 3), (2, 2), "same")
    _same(fast.im2col(x, g), im2col_reference(x, g))
    out, argmax = fast.maxpool_forward(x, g)
    ref_out, ref_argmax = maxpool_forward_reference(x, g)
    _same(out, ref_out)
    _same(argmax, ref_argmax)
    grad = _random(xp, (3, 4, 8, 2), "float32", seed=1)[:, :, ::2, :]
    argmax_view = xp.concatenate([argmax, argmax], axis=2)[:, :, ::2, :]
    _same(fast.maxpool_backward(grad, argmax_view, x.shape, g),
          maxpool_backward_reference(grad, argmax_view, x.shape, g))
    cols = _random(xp, (3 * 16, 2 * 9 * 2), "float32", seed=2)[:, ::2]
    _same(fast.col2im(cols, x.shape, g), col2im_reference(cols, x.shape, g))


def test_float16_uses_the_reference(xp):
    # numba and the CUDA kernels compile float32 and float64 only; float16 (a valid floatx)
    # still works, through the reference.
    fast = _fast(xp)
    x = _random(xp, (2, 5, 5, 3), "float16")
    g = window_geometry(5, 5, (3, 3), (1, 1), "same")
    _same(fast.im2col(x, g), im2col_reference(x, g))
    _same(fast.maxpool_forward(x, g)[1], maxpool_forward_reference(x, g)[1])


def test_dispatch_uses_the_fast_kernels_of_the_arrays_library(xp):
    assert kernels.implementation(xp) == ("numba" if xp is np else "cuda")
    x = _random(xp, (2, 6, 6, 3), "float32")
    g = window_geometry(6, 6, (3, 3), (1, 1), "same")
    _same(kernels.im2col(x, g), im2col_reference(x, g))


def test_wrong_shapes_are_reported(xp):
    fast = _fast(xp)
    g = window_geometry(6, 6, (3, 3), (1, 1), "valid")
    with pytest.raises(ValueError, match=r"im2col: x must be 4-D"):
        fast.im2col(xp.zeros((6, 6, 3)), g)
    with pytest.raises(ValueError, match=r"col2im: cols must have shape \(32, 27\)"):
        fast.col2im(xp.zeros((32, 9)), (2, 6, 6, 3), g)
    with pytest.raises(ValueError, match=r"maxpool_backward: argmax must have shape"):
        fast.maxpool_backward(xp.zeros((2, 4, 4, 3)), xp.zeros((2, 4, 4, 1), np.int32),
                              (2, 6, 6, 3), g)


# ----------------------------------------------------------- elementwise ---

def _specials(dtype, shape=(37, 16)):
    """Random values with the awkward ones mixed in: NaN, +-inf, -0.0."""
    z = _random(np, shape, dtype)
    z.flat[::7] = np.nan
    z.flat[1::11] = -0.0
    z.flat[2::13] = np.inf
    z.flat[3::17] = -np.inf
    return z


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_forward_inplace_matches_numpy_maximum(dtype):
    z = _specials(dtype)
    expected = elementwise.relu_forward_inplace_reference(z.copy())
    assert cpu.relu_forward_inplace(z) is z
    _same(z, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_backward_inplace_passes_the_gradient_where_the_output_is_positive(dtype):
    y = np.maximum(_specials(dtype), 0)
    grad = _random(np, y.shape, dtype, seed=2)
    expected = elementwise.relu_backward_inplace_reference(grad.copy(), y)
    assert cpu.relu_backward_inplace(grad, y) is grad
    _same(grad, expected)
    assert not grad[~(y > 0)].any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_bias_add_relu_inplace_matches_numpy(dtype):
    z, b = _specials(dtype), _random(np, (16,), dtype, seed=3)
    expected = elementwise.bias_add_relu_inplace_reference(z.copy(), b)
    assert cpu.bias_add_relu_inplace(z, b) is z
    _same(z, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_forward_keeps_where_u_reaches_the_rate_and_rescales(dtype):
    x = _specials(dtype)
    u = np.random.default_rng(4).random(x.shape, dtype=dtype)
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN in both
        _same(cpu.dropout_forward(x, u, 0.3), elementwise.dropout_forward_reference(x, u, 0.3))
    kept = u >= 0.3
    finite = np.isfinite(x)
    out = cpu.dropout_forward(np.where(finite, x, 0), u, 0.3)
    np.testing.assert_allclose(out[kept & finite], x[kept & finite] / 0.7, rtol=1e-6)
    assert not out[~kept].any()
