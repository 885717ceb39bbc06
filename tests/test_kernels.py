"""The window kernels behind Conv2D and MaxPooling2D.

im2col turns every (kh, kw, C) window of an NHWC image into one row, so a
convolution is one matrix product; col2im adds rows back onto their windows
(the input gradient). Max pooling keeps the max of each window and which
element it was (argmax), and its backward pass routes each gradient there.

Each has a plain array reference (``minidl/kernels/im2col.py``,
``pooling.py``) and fast versions: numba on the CPU (``cpu.py``) and CUDA on
the GPU (``gpu.py``). The fast ones must give the reference's numbers
exactly, for every window shape, stride and padding. The CUDA tests run only
where CuPy sees a GPU.
"""
import itertools

import numpy as np
import pytest

from minidl import backend, kernels
from minidl.kernels import cpu, elementwise, window_geometry
from minidl.kernels.im2col import col2im_reference, im2col_reference
from minidl.kernels.pooling import maxpool_backward_reference, maxpool_forward_reference

BACKENDS = [
    "numpy",
    pytest.param("cupy", marks=pytest.mark.skipif(
        not backend.gpu_available(), reason="CuPy with a visible GPU is needed for gpu.py")),
]


def _lib(name):
    """(array module, fast kernel module) of a backend name."""
    if name == "numpy":
        return np, cpu
    import cupy
    from minidl.kernels import gpu
    return cupy, gpu


def _cases():
    """(x_shape, geometry): kernels 1-7 (even ones too), strides 1-3, both
    paddings, odd and even image sizes; C in 1, 3, 5 and N in 1, 3 take turns."""
    cases = []
    for n, (k, s, padding, (h, w)) in enumerate(itertools.product(
            (1, 2, 3, 4, 5, 7), (1, 2, 3), ("same", "valid"), ((7, 7), (8, 6)))):
        if padding == "valid" and k > min(h, w):
            continue
        shape = ((1, 3)[n % 2], h, w, (1, 3, 5)[n % 3])
        cases.append(pytest.param(shape, window_geometry(h, w, (k, k), (s, s), padding),
                                  id=f"{h}x{w}x{shape[3]}-k{k}-s{s}-{padding}-n{shape[0]}"))
    return cases


CASES = _cases()
DTYPES = ["float32", "float64"]


def _random(xp, shape, dtype, seed=0):
    return xp.asarray(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def _same(fast, ref):
    np.testing.assert_array_equal(backend.to_numpy(fast), backend.to_numpy(ref), strict=True)


# ------------------------------------------------------- fast == reference ---

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, g", CASES)
@pytest.mark.parametrize("lib", BACKENDS)
def test_im2col_matches_reference(lib, shape, g, dtype):
    xp, fast = _lib(lib)
    x = _random(xp, shape, dtype)
    _same(fast.im2col(x, g), im2col_reference(x, g))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, g", CASES)
@pytest.mark.parametrize("lib", BACKENDS)
def test_col2im_matches_reference(lib, shape, g, dtype):
    # Exactly, not just closely: both sum each pixel's terms in (i, j) order.
    xp, fast = _lib(lib)
    cols = _random(xp, (shape[0] * g.out_h * g.out_w, g.kh * g.kw * shape[3]), dtype)
    _same(fast.col2im(cols, shape, g), col2im_reference(cols, shape, g))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, g", CASES)
@pytest.mark.parametrize("lib", BACKENDS)
def test_maxpool_forward_matches_reference(lib, shape, g, dtype):
    xp, fast = _lib(lib)
    x = _random(xp, shape, dtype)
    out, argmax = fast.maxpool_forward(x, g)
    ref_out, ref_argmax = maxpool_forward_reference(x, g)
    _same(out, ref_out)
    _same(argmax, ref_argmax)  # int32, strict=True checks the dtype too


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, g", CASES)
@pytest.mark.parametrize("lib", BACKENDS)
def test_maxpool_backward_matches_reference(lib, shape, g, dtype):
    xp, fast = _lib(lib)
    x = _random(xp, shape, dtype)
    _, argmax = maxpool_forward_reference(x, g)
    grad = _random(xp, argmax.shape, dtype, seed=1)
    _same(fast.maxpool_backward(grad, argmax, shape, g),
          maxpool_backward_reference(grad, argmax, shape, g))


# ------------------------------------------------------------- semantics ---

def test_im2col_rows_are_windows_in_kernel_order():
    # A 3x3 one-channel image, 2x2 windows: four rows, each window read row by row.
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    g = window_geometry(3, 3, (2, 2), (1, 1), "valid")
    expected = [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    np.testing.assert_array_equal(cpu.im2col(x, g), expected)


def test_same_padding_reads_zeros_outside_the_image():
    # TensorFlow puts the odd padding pixel at the bottom/right.
    x = np.ones((1, 2, 2, 1))
    g = window_geometry(2, 2, (2, 2), (1, 1), "same")
    np.testing.assert_array_equal(cpu.im2col(x, g),
                                  [[1, 1, 1, 1], [1, 0, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0]])


@pytest.mark.parametrize("shape, g", CASES)
@pytest.mark.parametrize("lib", BACKENDS)
def test_col2im_is_the_adjoint_of_im2col(lib, shape, g):
    # <im2col(x), c> == <x, col2im(c)>: col2im is exactly the gradient of im2col.
    xp, fast = _lib(lib)
    x = _random(xp, shape, "float64")
    cols = _random(xp, (shape[0] * g.out_h * g.out_w, g.kh * g.kw * shape[3]), "float64", 1)
    lhs = float((fast.im2col(x, g) * cols).sum())
    rhs = float((x * fast.col2im(cols, shape, g)).sum())
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("lib", BACKENDS)
def test_maxpool_ties_route_the_gradient_to_the_first_max(lib):
    # Equal values: argmax is the first in row-major window order (TensorFlow's rule).
    xp, fast = _lib(lib)
    x = xp.asarray(np.array([[5, 5], [5, 1]], np.float32).reshape(1, 2, 2, 1))
    g = window_geometry(2, 2, (2, 2), (2, 2), "valid")
    out, argmax = fast.maxpool_forward(x, g)
    assert float(out[0, 0, 0, 0]) == 5 and int(argmax[0, 0, 0, 0]) == 0
    dx = fast.maxpool_backward(xp.ones_like(out), argmax, x.shape, g)
    np.testing.assert_array_equal(backend.to_numpy(dx)[0, :, :, 0], [[1, 0], [0, 0]])


@pytest.mark.parametrize("lib", BACKENDS)
def test_overlapping_pool_windows_add_their_gradients(lib):
    # 3x3 windows at stride 1 on a 4x4 image: the global max is in all four windows.
    xp, fast = _lib(lib)
    x = np.zeros((1, 4, 4, 1), np.float32)
    x[0, 1, 2, 0] = 9
    g = window_geometry(4, 4, (3, 3), (1, 1), "valid")
    out, argmax = fast.maxpool_forward(xp.asarray(x), g)
    dx = backend.to_numpy(fast.maxpool_backward(xp.ones_like(out), argmax, x.shape, g))
    assert dx[0, 1, 2, 0] == 4 and dx.sum() == 4


def test_maxpool_nan_wins_as_in_numpy_argmax():
    x = np.array([[1, np.nan], [np.inf, np.nan]], np.float64).reshape(1, 2, 2, 1)
    g = window_geometry(2, 2, (2, 2), (2, 2), "valid")
    out, argmax = cpu.maxpool_forward(x, g)
    assert np.isnan(out[0, 0, 0, 0]) and argmax[0, 0, 0, 0] == 1


def test_non_contiguous_inputs_give_the_same_numbers():
    x = _random(np, (3, 7, 9, 4), "float32")[:, ::-1, 1:8, ::2]  # a strided view
    g = window_geometry(7, 7, (3, 3), (2, 2), "same")
    _same(cpu.im2col(x, g), im2col_reference(x, g))
    _same(cpu.maxpool_forward(x, g)[0], maxpool_forward_reference(x, g)[0])


def test_float16_uses_the_reference():
    # numba compiles float32 and float64 only; float16 (a valid floatx) still works.
    x = _random(np, (2, 5, 5, 3), "float16")
    g = window_geometry(5, 5, (3, 3), (1, 1), "same")
    _same(cpu.im2col(x, g), im2col_reference(x, g))
    _same(cpu.maxpool_forward(x, g)[1], maxpool_forward_reference(x, g)[1])


def test_dispatch_uses_numba_for_numpy_arrays():
    assert kernels.implementation(np) == "numba"
    x = _random(np, (2, 6, 6, 3), "float32")
    g = window_geometry(6, 6, (3, 3), (1, 1), "same")
    _same(kernels.im2col(x, g), im2col_reference(x, g))


def test_wrong_shapes_are_reported():
    g = window_geometry(6, 6, (3, 3), (1, 1), "valid")
    with pytest.raises(ValueError, match=r"im2col: x must be 4-D"):
        cpu.im2col(np.zeros((6, 6, 3)), g)
    with pytest.raises(ValueError, match=r"col2im: cols must have shape \(32, 27\)"):
        cpu.col2im(np.zeros((32, 9)), (2, 6, 6, 3), g)
    with pytest.raises(ValueError, match=r"maxpool_backward: argmax must have shape"):
        cpu.maxpool_backward(np.zeros((2, 4, 4, 3)), np.zeros((2, 4, 4, 1), np.int32),
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
