"""The window kernels for NumPy arrays, compiled with numba.

Same four functions as the references in ``im2col.py`` and ``pooling.py``,
with the same numbers bit for bit -- the sums of the two backward kernels
too, because every dx element adds its terms in the reference's order
(kernel row i, then column j, ascending, starting from zero).

Work is split so that no two threads write the same element: im2col and
max pooling forward run in parallel over the N*out_h output rows, max
pooling backward over the N*H input rows (each gathers the windows that
chose it), col2im over samples (each scatters its rows into its own image;
gathering instead measured 2x slower). Padding is implicit: an index that
falls outside the image reads as 0 (im2col) or -inf (max pooling), and no
padded copy of x is made.

numba compiles each kernel for float32 and float64 on first call and caches
the machine code next to this file (``cache=True``), so later processes only
load it. Other dtypes (float16) use the plain references.

The elementwise, batch-normalization and optimizer-update kernels at the
end fuse what NumPy does in several single-threaded passes into one or two
parallel passes; each has its NumPy reference in ``elementwise.py``,
``batchnorm.py`` or ``updates.py`` (benchmarks/bench_kernels.py times them).
"""
import numpy as np
from numba import njit, prange

from .geometry import check_4d, check_shape
from .im2col import col2im_reference, im2col_reference
from .elementwise import (bias_add_relu_inplace_reference, bias_grad_reference,
                          dropout_forward_reference,
                          relu_backward_inplace_reference, relu_forward_inplace_reference)
from .pooling import maxpool_backward_reference, maxpool_forward_reference
from .batchnorm import batchnorm_backward_reference, batchnorm_forward_reference
from .updates import (adadelta_update_reference, adam_update_reference,
                      sgd_momentum_update_reference)

NAME = "numba"

_COMPILED = (np.float32, np.float64)


def _ints(values):
    """Plain ints, so that every call shares one compiled signature."""
    return tuple(int(v) for v in values)


# ---------------------------------------------------------------- im2col ---
# The kernels index flat arrays with unsigned offsets (``_u``): numba checks
# every signed index for Python's negative wraparound, and that check keeps
# LLVM from vectorizing the copies (5x slower on this 2-core machine).
_u = np.uint64


@njit(parallel=True, cache=True, fastmath=False)
def _im2col(x, shape, g, cols):
    """x: (N, H, W, C) flat -> cols: (N*out_h*out_w, kh*kw*C) flat, filled in place."""
    n, h, w, c = shape
    kh, kw, sh, sw, pt, _, pl, _, oh, ow = g
    kwc = kw * c
    for r in prange(n * oh):
        b, oy = r // oh, r % oh
        for ox in range(ow):
            x0 = ox * sw - pl
            # Window columns j0..j1-1 lie inside the image; within one kernel
            # row they are a single contiguous run of x, cols [lo, hi) of the row.
            j0, j1 = max(0, -x0), min(kw, w - x0)
            lo, hi = j0 * c, max(j1, j0) * c
            for i in range(kh):
                dst = ((r * ow + ox) * kh + i) * kwc
                iy = oy * sh - pt + i
                if iy < 0 or iy >= h:
                    lo_i = hi_i = kwc
                else:
                    lo_i, hi_i = lo, hi
                src = ((b * h + iy) * w + x0) * c
                for k in range(lo_i):
                    cols[_u(dst + k)] = 0
                for k in range(lo_i, hi_i):
                    cols[_u(dst + k)] = x[_u(src + k)]
                for k in range(hi_i, kwc):
                    cols[_u(dst + k)] = 0


@njit(parallel=True, cache=True, fastmath=False)
def _col2im(cols, shape, g, dx):
    """cols: (N*out_h*out_w, kh*kw*C) flat -> dx: (N, H, W, C) flat zeros, summed in place."""
    n, h, w, c = shape
    kh, kw, sh, sw, pt, _, pl, _, oh, ow = g
    kwc = kw * c
    for b in prange(n):  # a sample's rows only touch its own dx: no races
        # Windows in reverse order, so that every dx element sums its terms
        # in the reference's order (kernel row i, then column j, ascending).
        for oy in range(oh - 1, -1, -1):
            for ox in range(ow - 1, -1, -1):
                x0 = ox * sw - pl
                j0, j1 = max(0, -x0), min(kw, w - x0)
                lo, hi = j0 * c, max(j1, j0) * c
                for i in range(kh):
                    iy = oy * sh - pt + i
                    if iy < 0 or iy >= h:
                        continue
                    src = (((b * oh + oy) * ow + ox) * kh + i) * kwc
                    dst = ((b * h + iy) * w + x0) * c
                    for k in range(lo, hi):
                        dx[_u(dst + k)] += cols[_u(src + k)]


def im2col(x, g):
    """x: (N, H, W, C) -> cols: (N*out_h*out_w, kh*kw*C), columns ordered (i, j, c)."""
    check_4d("im2col", "x", x)
    if x.dtype not in _COMPILED:
        return im2col_reference(x, g)
    n, _, _, c = x.shape
    cols = np.empty((n * g.out_h * g.out_w, g.kh * g.kw * c), dtype=x.dtype)
    _im2col(np.ascontiguousarray(x).reshape(-1), _ints(x.shape), _ints(g), cols.reshape(-1))
    return cols


def col2im(cols, x_shape, g):
    """cols: (N*out_h*out_w, kh*kw*C) -> dx: (N, H, W, C), overlaps summed."""
    n, h, w, c = x_shape = _ints(x_shape)
    check_shape("col2im", "cols", cols, (n * g.out_h * g.out_w, g.kh * g.kw * c))
    if cols.dtype not in _COMPILED:
        return col2im_reference(cols, x_shape, g)
    dx = np.zeros(x_shape, dtype=cols.dtype)
    _col2im(np.ascontiguousarray(cols).reshape(-1), x_shape, _ints(g), dx.reshape(-1))
    return dx


# ----------------------------------------------------------- max pooling ---

@njit(parallel=True, cache=True, fastmath=False)
def _maxpool_forward(x, shape, g, neg_inf, out, argmax):
    """x: (N, H, W, C) flat -> out, argmax: (N, out_h, out_w, C) flat, filled in place."""
    n, h, w, c = shape
    kh, kw, sh, sw, pt, _, pl, _, oh, ow = g
    for r in prange(n * oh):
        b, oy = r // oh, r % oh
        for ox in range(ow):
            dst = (r * ow + ox) * c
            for k in range(kh * kw):
                iy = oy * sh - pt + k // kw
                ix = ox * sw - pl + k % kw
                inside = 0 <= iy < h and 0 <= ix < w
                src = ((b * h + iy) * w + ix) * c
                if k == 0:
                    for ch in range(c):
                        out[_u(dst + ch)] = x[_u(src + ch)] if inside else neg_inf
                        argmax[_u(dst + ch)] = 0
                elif inside:  # a -inf pad after the first never becomes the max
                    for ch in range(c):
                        v, best = x[_u(src + ch)], out[_u(dst + ch)]
                        # NumPy's argmax: the first maximum, and the first
                        # NaN wins over every number.
                        if v > best or (v != v and best == best):
                            out[_u(dst + ch)] = v
                            argmax[_u(dst + ch)] = k


@njit(parallel=True, cache=True, fastmath=False)
def _maxpool_forward_unpadded(x, shape, g, out, argmax):
    """``_maxpool_forward`` when no window reaches outside x (1.5x faster)."""
    n, h, w, c = shape
    kh, kw, sh, sw, _, _, _, _, oh, ow = g
    for r in prange(n * oh):
        b, oy = r // oh, r % oh
        for ox in range(ow):
            dst = (r * ow + ox) * c
            for k in range(kh * kw):
                src = ((b * h + oy * sh + k // kw) * w + ox * sw + k % kw) * c
                if k == 0:
                    for ch in range(c):
                        out[_u(dst + ch)] = x[_u(src + ch)]
                        argmax[_u(dst + ch)] = 0
                    continue
                for ch in range(c):
                    v, best = x[_u(src + ch)], out[_u(dst + ch)]
                    if v > best or (v != v and best == best):
                        out[_u(dst + ch)] = v
                        argmax[_u(dst + ch)] = k


@njit(parallel=True, cache=True, fastmath=False)
def _maxpool_backward(grad_out, argmax, shape, g, dx):
    """grad_out, argmax: (N, out_h, out_w, C) flat -> dx: (N, H, W, C) flat zeros,
    summed in place."""
    n, h, w, c = shape
    kh, kw, sh, sw, pt, _, pl, _, oh, ow = g
    for r in prange(n * h):  # gather: each x element sums the windows that chose it
        b, y = r // h, r % h
        ty = y + pt
        for xx in range(w):
            tx = xx + pl
            dst = (r * w + xx) * c
            # Only kernel rows i with (y + pt - i) divisible by sh cover y;
            # i then j ascending is the reference's order of summation.
            for i in range(ty % sh, kh, sh):
                oy = (ty - i) // sh
                if oy < 0:
                    break
                if oy >= oh:
                    continue
                for j in range(tx % sw, kw, sw):
                    ox = (tx - j) // sw
                    if ox < 0:
                        break
                    if ox >= ow:
                        continue
                    k = i * kw + j
                    src = ((b * oh + oy) * ow + ox) * c
                    for ch in range(c):
                        if argmax[_u(src + ch)] == k:
                            dx[_u(dst + ch)] += grad_out[_u(src + ch)]


@njit(parallel=True, cache=True, fastmath=False)
def _maxpool_backward_tiled(grad_out, argmax, shape, g, dx):
    """``_maxpool_backward`` for stride == pool and no padding, into an empty dx.

    Each x element then lies in at most one window, so it is written once
    (no zero fill, no sum): 4x faster than the general gather.
    """
    n, h, w, c = shape
    kh, kw, _, _, _, _, _, _, oh, ow = g
    for r in prange(n * h):
        b, y = r // h, r % h
        oy, i = y // kh, y % kh
        for xx in range(w):
            ox, j = xx // kw, xx % kw
            dst = (r * w + xx) * c
            if oy >= oh or ox >= ow:  # the rows/columns 'valid' pooling drops
                for ch in range(c):
                    dx[_u(dst + ch)] = 0
                continue
            k = i * kw + j
            src = ((b * oh + oy) * ow + ox) * c
            for ch in range(c):
                hit = argmax[_u(src + ch)] == k
                dx[_u(dst + ch)] = grad_out[_u(src + ch)] if hit else 0


def _unpadded(g):
    return not (g.pad_top or g.pad_bottom or g.pad_left or g.pad_right)


def maxpool_forward(x, g):
    """x: (N, H, W, C) -> (out, argmax int32), each (N, out_h, out_w, C)."""
    check_4d("maxpool_forward", "x", x)
    if x.dtype not in _COMPILED:
        return maxpool_forward_reference(x, g)
    n, _, _, c = x.shape
    out = np.empty((n, g.out_h, g.out_w, c), dtype=x.dtype)
    argmax = np.empty((n, g.out_h, g.out_w, c), dtype=np.int32)
    flat = np.ascontiguousarray(x).reshape(-1), _ints(x.shape), _ints(g)
    if _unpadded(g):
        _maxpool_forward_unpadded(*flat, out.reshape(-1), argmax.reshape(-1))
    else:
        _maxpool_forward(*flat, x.dtype.type(-np.inf), out.reshape(-1), argmax.reshape(-1))
    return out, argmax


def maxpool_backward(grad_out, argmax, x_shape, g):
    """grad_out, argmax: (N, out_h, out_w, C) -> dx: (N, H, W, C)."""
    n, h, w, c = x_shape = _ints(x_shape)
    expected = (n, g.out_h, g.out_w, c)
    check_shape("maxpool_backward", "grad_out", grad_out, expected)
    check_shape("maxpool_backward", "argmax", argmax, expected)
    if grad_out.dtype not in _COMPILED:
        return maxpool_backward_reference(grad_out, argmax, x_shape, g)
    flat = (np.ascontiguousarray(grad_out).reshape(-1),
            np.ascontiguousarray(argmax, dtype=np.int32).reshape(-1), x_shape, _ints(g))
    if _unpadded(g) and (g.sh, g.sw) == (g.kh, g.kw):
        dx = np.empty(x_shape, dtype=grad_out.dtype)
        _maxpool_backward_tiled(*flat, dx.reshape(-1))
    else:
        dx = np.zeros(x_shape, dtype=grad_out.dtype)
        _maxpool_backward(*flat, dx.reshape(-1))
    return dx


# ----------------------------------------------------------- elementwise ---
# References in elementwise.py. NumPy's ``maximum`` gives +0.0 for -0.0 and
# keeps NaN; ``v if v > 0 or v != v else 0`` is that rule.

@njit(parallel=True, cache=True, fastmath=False)
def _relu_inplace(z):
    for k in prange(z.size):
        v = z[k]
        z[k] = v if v > 0 or v != v else 0


@njit(parallel=True, cache=True, fastmath=False)
def _relu_backward_inplace(grad, y):
    for k in prange(grad.size):
        grad[k] = grad[k] * (y[k] > 0)


@njit(parallel=True, cache=True, fastmath=False)
def _bias_add_relu_inplace(z, b):
    m, f = z.shape
    for r in prange(m):
        for k in range(f):
            v = z[r, k] + b[k]
            z[r, k] = v if v > 0 or v != v else 0


@njit(parallel=True, cache=True, fastmath=False)
def _dropout_forward(x, u, rate, scale, out):
    for k in prange(x.size):
        out[k] = x[k] * scale * (u[k] >= rate)


def _fast_path(*arrays):
    """All C-contiguous and of one compiled dtype (else the reference runs)."""
    dtype = arrays[0].dtype
    return dtype in _COMPILED and all(a.dtype == dtype and a.flags.c_contiguous for a in arrays)


def _check_same_shape(fn, a_name, a, b_name, b):
    if a.shape != b.shape:
        raise ValueError(f"{fn}: {a_name} and {b_name} must have the same shape, "
                         f"received {a.shape} and {b.shape}")


def relu_forward_inplace(z):
    """z: any shape <- max(z, 0) in place (NaN stays NaN); returns z."""
    if not _fast_path(z):
        return relu_forward_inplace_reference(z)
    _relu_inplace(z.reshape(-1))
    return z


def relu_backward_inplace(grad, y):
    """grad, y: the same shape (y: the ReLU output) -> grad <- grad * (y > 0) in place;
    returns grad."""
    _check_same_shape("relu_backward_inplace", "grad", grad, "y", y)
    if not _fast_path(grad, y):
        return relu_backward_inplace_reference(grad, y)
    _relu_backward_inplace(grad.reshape(-1), y.reshape(-1))
    return grad


def bias_add_relu_inplace(z, b):
    """z: (M, F), b: (F,) -> z <- max(z + b, 0) in place; returns z."""
    if z.ndim != 2 or b.shape != z.shape[1:]:
        raise ValueError(f"bias_add_relu_inplace: expected z (M, F) and b (F,), "
                         f"received {z.shape} and {b.shape}")
    if not _fast_path(z, b):
        return bias_add_relu_inplace_reference(z, b)
    _bias_add_relu_inplace(z, b)
    return z


def dropout_forward(x, u, rate):
    """x, u: the same shape, u uniform in [0, 1) -> x / (1 - rate) where u >= rate, else 0."""
    _check_same_shape("dropout_forward", "x", x, "u", u)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout_forward: rate must be in [0, 1), received {rate}")
    if not _fast_path(x) or not _fast_path(u):
        return dropout_forward_reference(x, u, rate)
    # Scale and threshold in the arrays' own dtypes, as NumPy does with them.
    scale = x.dtype.type(1.0 / (1.0 - rate))
    out = np.empty_like(x)
    _dropout_forward(x.reshape(-1), u.reshape(-1), u.dtype.type(rate), scale, out.reshape(-1))
    return out


# ------------------------------------------------------- batch normalization ---
# References in batchnorm.py. Column sums are accumulated in float64 per block
# of rows (one block per thread task), then added: parallel and accurate.

_BLOCKS = 64


@njit(parallel=True, cache=True, fastmath=False)
def _column_sums(x, shift, square):
    """sum over rows of (x - shift) (square=False) or (x - shift)^2, in float64."""
    m, c = x.shape
    step = (m + _BLOCKS - 1) // _BLOCKS
    partial = np.zeros((_BLOCKS, c))
    for k in prange(_BLOCKS):
        for r in range(k * step, min(m, (k + 1) * step)):
            for j in range(c):
                v = x[r, j] - shift[j]
                partial[k, j] += v * v if square else v
    out = np.zeros(c)
    for k in range(_BLOCKS):
        for j in range(c):
            out[j] += partial[k, j]
    return out


@njit(parallel=True, cache=True, fastmath=False)
def _bn_normalize(x, mean, inv_std, gamma, beta, x_hat, y):
    m, c = x.shape
    for r in prange(m):
        for j in range(c):
            h = (x[r, j] - mean[j]) * inv_std[j]
            x_hat[r, j] = h
            y[r, j] = h * gamma[j] + beta[j]


@njit(parallel=True, cache=True, fastmath=False)
def _bn_grad_sums(grad, x_hat):
    m, c = grad.shape
    step = (m + _BLOCKS - 1) // _BLOCKS
    partial = np.zeros((2, _BLOCKS, c))
    for k in prange(_BLOCKS):
        for r in range(k * step, min(m, (k + 1) * step)):
            for j in range(c):
                partial[0, k, j] += grad[r, j]
                partial[1, k, j] += grad[r, j] * x_hat[r, j]
    out = np.zeros((2, c))
    for k in range(_BLOCKS):
        for j in range(c):
            out[0, j] += partial[0, k, j]
            out[1, j] += partial[1, k, j]
    return out


@njit(parallel=True, cache=True, fastmath=False)
def _bn_dx(grad, x_hat, dbeta, dgamma, scale, dx):
    m, c = grad.shape
    for r in prange(m):
        for j in range(c):
            dx[r, j] = (grad[r, j] * m - dbeta[j] - x_hat[r, j] * dgamma[j]) * scale[j]


def bias_grad(grad_z):
    """(M, F) -> (F,) column sums, parallel over blocks of rows (NumPy's sum over
    axis 0 is one thread)."""
    if grad_z.ndim != 2 or not _fast_path(grad_z):
        return bias_grad_reference(grad_z)
    zeros = np.zeros(grad_z.shape[1], dtype=grad_z.dtype)
    return _column_sums(grad_z, zeros, False).astype(grad_z.dtype)


def batchnorm_forward(x, gamma, beta, epsilon):
    """x: (M, C) -> (y, x_hat, mean, var, inv_std), as batchnorm_forward_reference."""
    if not _fast_path(x, gamma, beta):
        return batchnorm_forward_reference(x, gamma, beta, epsilon)
    m, c = x.shape
    zeros = np.zeros(c, dtype=x.dtype)
    mean = (_column_sums(x, zeros, False) / m).astype(x.dtype)
    var = (_column_sums(x, mean, True) / m).astype(x.dtype)
    inv_std = (1.0 / np.sqrt(var + epsilon)).astype(x.dtype)
    x_hat, y = np.empty_like(x), np.empty_like(x)
    _bn_normalize(x, mean, inv_std, gamma, beta, x_hat, y)
    return y, x_hat, mean, var, inv_std


def batchnorm_backward(grad, x_hat, gamma, inv_std):
    """grad, x_hat: (M, C) -> (dx, dgamma, dbeta), as batchnorm_backward_reference."""
    if not _fast_path(grad, x_hat, gamma, inv_std):
        return batchnorm_backward_reference(grad, x_hat, gamma, inv_std)
    m = grad.shape[0]
    sums = _bn_grad_sums(grad, x_hat).astype(grad.dtype)
    dbeta, dgamma = sums[0], sums[1]
    dx = np.empty_like(grad)
    _bn_dx(grad, x_hat, dbeta, dgamma, (gamma * inv_std / m).astype(grad.dtype), dx)
    return dx, dgamma, dbeta


# ------------------------------------------------------- optimizer updates ---
# References in updates.py; one parallel pass per weight instead of 5-10.

@njit(parallel=True, cache=True, fastmath=False)
def _sgd_momentum(w, g, v, lr_t, momentum, nesterov):
    for k in prange(w.size):
        vk = v[k] * momentum - lr_t * g[k]
        v[k] = vk
        w[k] += momentum * vk - lr_t * g[k] if nesterov else vk


@njit(parallel=True, cache=True, fastmath=False)
def _adam(w, g, m, v, lr_t, beta_1, one_minus_b1, beta_2, one_minus_b2, epsilon):
    for k in prange(w.size):
        gk = g[k]
        mk = m[k] * beta_1 + one_minus_b1 * gk
        vk = v[k] * beta_2 + one_minus_b2 * (gk * gk)
        m[k] = mk
        v[k] = vk
        w[k] -= lr_t * mk / (np.sqrt(vk) + epsilon)


@njit(parallel=True, cache=True, fastmath=False)
def _adadelta(w, g, a, d, lr_t, rho, one_minus_rho, epsilon):
    for k in prange(w.size):
        gk = g[k]
        ak = a[k] * rho + one_minus_rho * (gk * gk)
        a[k] = ak
        u = gk * np.sqrt(d[k] + epsilon) / np.sqrt(ak + epsilon)
        w[k] -= lr_t * u
        d[k] = d[k] * rho + one_minus_rho * (u * u)


def _flat(fn, *arrays):
    """1-D views for the kernels, after checking every array matches the weight."""
    for a in arrays[1:]:
        check_shape(fn, "state/gradient", a, arrays[0].shape)
    return [a.reshape(-1) for a in arrays]


def sgd_momentum_update(w, g, v, lr_t, momentum, nesterov):
    if not _fast_path(w, g, v):
        return sgd_momentum_update_reference(w, g, v, lr_t, momentum, nesterov)
    t = w.dtype.type
    _sgd_momentum(*_flat("sgd_momentum_update", w, g, v), t(lr_t), t(momentum), bool(nesterov))


def adam_update(w, g, m, v, lr_t, beta_1, beta_2, epsilon):
    if not _fast_path(w, g, m, v):
        return adam_update_reference(w, g, m, v, lr_t, beta_1, beta_2, epsilon)
    t = w.dtype.type
    _adam(*_flat("adam_update", w, g, m, v), t(lr_t), t(beta_1), t(1 - beta_1), t(beta_2), t(1 - beta_2),
          t(epsilon))


def adadelta_update(w, g, a, d, lr_t, rho, epsilon):
    if not _fast_path(w, g, a, d):
        return adadelta_update_reference(w, g, a, d, lr_t, rho, epsilon)
    t = w.dtype.type
    _adadelta(*_flat("adadelta_update", w, g, a, d), t(lr_t), t(rho), t(1 - rho), t(epsilon))
