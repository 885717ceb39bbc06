"""The fused numba kernels (batch normalization, optimizer updates) against
their plain references: same numbers up to the order of float sums."""
import numpy as np
import pytest

from minidl.kernels import batchnorm, cpu, updates


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("shape", [(1, 3), (7, 5), (512 * 9, 32)])
def test_batchnorm_forward_matches_reference(dtype, rtol, shape):
    rng = _rng()
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    gamma, beta = rng.random(shape[1]).astype(dtype), rng.standard_normal(shape[1]).astype(dtype)
    fast = cpu.batchnorm_forward(x, gamma, beta, 1e-3)
    ref = batchnorm.batchnorm_forward_reference(x, gamma, beta, 1e-3)
    for name, a, b in zip(["y", "x_hat", "mean", "var", "inv_std"], fast, ref):
        assert a.dtype == b.dtype == dtype, name
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol, err_msg=name)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-4), (np.float64, 1e-11)])
def test_batchnorm_backward_matches_reference(dtype, rtol):
    rng = _rng(1)
    g = rng.standard_normal((300, 8)).astype(dtype)
    x_hat = rng.standard_normal((300, 8)).astype(dtype)
    gamma, inv_std = rng.random(8).astype(dtype) + 0.5, rng.random(8).astype(dtype) + 0.5
    for name, a, b in zip(["dx", "dgamma", "dbeta"],
                          cpu.batchnorm_backward(g, x_hat, gamma, inv_std),
                          batchnorm.batchnorm_backward_reference(g, x_hat, gamma, inv_std)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 10, err_msg=name)


def _state(dtype, n=4, seed=2):
    rng = _rng(seed)
    return [rng.standard_normal(1000).astype(dtype) for _ in range(n)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_update(dtype, nesterov):
    w, g, v = _state(dtype, 3)
    w2, v2 = w.copy(), v.copy()
    cpu.sgd_momentum_update(w, g, v, 0.01, 0.9, nesterov)
    updates.sgd_momentum_update_reference(w2, g, v2, 0.01, 0.9, nesterov)
    np.testing.assert_allclose(w, w2, rtol=1e-6)
    np.testing.assert_allclose(v, v2, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_update(dtype):
    w, g, m, v = _state(dtype)
    v = np.abs(v)
    copies = [a.copy() for a in (w, m, v)]
    cpu.adam_update(w, g, m, v, 1e-3, 0.9, 0.999, 1e-7)
    updates.adam_update_reference(copies[0], g, copies[1], copies[2], 1e-3, 0.9, 0.999, 1e-7)
    for a, b in zip((w, m, v), copies):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adadelta_update(dtype):
    w, g, a, d = _state(dtype)
    a, d = np.abs(a), np.abs(d)
    copies = [x.copy() for x in (w, a, d)]
    cpu.adadelta_update(w, g, a, d, 1.0, 0.95, 1e-7)
    updates.adadelta_update_reference(copies[0], g, copies[1], copies[2], 1.0, 0.95, 1e-7)
    for x, y in zip((w, a, d), copies):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-9)


def test_non_contiguous_input_falls_back_to_the_reference():
    rng = _rng(3)
    x = rng.standard_normal((6, 10)).astype(np.float32)[:, ::2]  # a strided view
    out = cpu.batchnorm_forward(x, np.ones(5, np.float32), np.zeros(5, np.float32), 1e-3)
    np.testing.assert_allclose(out[0].mean(axis=0), 0, atol=1e-6)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_bias_grad_matches_reference(dtype, rtol):
    from minidl.kernels import elementwise
    g = _rng(4).standard_normal((5000, 7)).astype(dtype)
    np.testing.assert_allclose(cpu.bias_grad(g), elementwise.bias_grad_reference(g), rtol=rtol)
