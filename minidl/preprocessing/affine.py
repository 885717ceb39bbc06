"""Affine resampling of a whole batch of images: ``transform_batch``.

Each output pixel (row, col) of image n is read from the input point

    (src_row, src_col) = M[n] @ (row, col, 1)

so a matrix maps *output* coordinates to *input* coordinates, as
scipy.ndimage.affine_transform (and hence Keras's ImageDataGenerator) does.
The input point falls between four pixels, which are blended bilinearly
(``interpolation_order=1``) or the nearest one is taken (``0``).

Points outside the image follow ``fill_mode``, with scipy.ndimage's meaning
(row of 4 pixels ``a b c d``):

    'nearest'   a a a | a b c d | d d d     (edge pixel repeated)
    'reflect'   c b a | a b c d | d c b     (mirrored about the edge)
    'wrap'      b c d | a b c d | a b c     (tiled: scipy's 'grid-wrap';
                scipy's own 'wrap' has a period of n-1 pixels, a quirk that
                Keras inherited with fill_mode='wrap' -- not reproduced)
    'constant'  any point beyond the first or last pixel centre is ``cval``

Two implementations give the same numbers (tests/test_augmentation.py holds
one to the other): ``_transform_reference``, whole-batch array code written
against ``xp`` that runs on NumPy and CuPy alike, and ``_transform_numba``,
one parallel numba loop over the output rows that the CPU uses for float32
and float64 because it never builds the (N, H, W) index arrays (about 20x
faster; benchmarks/bench_augmentation.py).
"""
import numpy as np

from ..backend import floatx, get_array_module

try:
    import numba
except ImportError:  # numba missing: the reference still works
    numba = None

FILL_MODES = ("constant", "nearest", "reflect", "wrap")
_MODE_CODE = {name: code for code, name in enumerate(FILL_MODES)}  # for the numba kernel


def transform_batch(x, matrices, fill_mode="nearest", cval=0.0, interpolation_order=1):
    """Resample every image of ``x`` through its own affine matrix.

    x: (N, H, W, C) images, channels last (cast to floatx when not float).
    matrices: (N, 2, 3) or (N, 3, 3); row/col order, output -> input.
    fill_mode: 'nearest' | 'reflect' | 'wrap' | 'constant' (with ``cval``).
    interpolation_order: 1 bilinear, 0 nearest pixel.
    Returns (N, H, W, C) in the float type of ``x``, on the device of ``x``.
    """
    xp = get_array_module(x)
    if getattr(x, "ndim", None) != 4:
        raise ValueError(
            f"transform_batch: x must be (N, H, W, C), received shape {getattr(x, 'shape', None)}")
    m = xp.asarray(matrices)
    if m.ndim != 3 or m.shape[0] != x.shape[0] or m.shape[1:] not in ((2, 3), (3, 3)):
        raise ValueError(
            f"transform_batch: matrices must be ({x.shape[0]}, 2, 3) or ({x.shape[0]}, 3, 3) "
            f"for x of shape {x.shape}, received shape {m.shape}")
    _check_fill(fill_mode, interpolation_order, "transform_batch")
    if x.dtype.kind != "f":
        x = x.astype(floatx())
    m = xp.ascontiguousarray(m[:, :2, :].astype(x.dtype))
    if xp is np and numba is not None and x.dtype in (np.float32, np.float64):
        return _transform_numba(xp.ascontiguousarray(x), m, fill_mode, cval, interpolation_order)
    return _transform_reference(x, m, fill_mode, cval, interpolation_order)


def _check_fill(fill_mode, interpolation_order, where):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"{where}: fill_mode must be one of {FILL_MODES}, received {fill_mode!r}")
    if interpolation_order not in (0, 1) or isinstance(interpolation_order, bool):
        raise ValueError(
            f"{where}: interpolation_order must be 0 (nearest) or 1 (bilinear), "
            f"received {interpolation_order!r}")


# ------------------------------------------------------- array reference ---

def _fold(i, size, fill_mode):
    """Integer pixel indices ``i`` (any, even out of range) -> valid ones."""
    xp = get_array_module(i)
    if fill_mode == "reflect":
        i = xp.remainder(i, 2 * size)
        return xp.where(i >= size, 2 * size - 1 - i, i)
    if fill_mode == "wrap":
        return xp.remainder(i, size)
    return xp.clip(i, 0, size - 1)  # 'nearest'; 'constant' masks these later


def _transform_reference(x, m, fill_mode, cval, order):
    """x: (N, H, W, C) float, m: (N, 2, 3) of x's dtype -> (N, H, W, C)."""
    xp = get_array_module(x)
    n, h, w, c = x.shape
    rows = xp.arange(h, dtype=x.dtype)[None, :, None]
    cols = xp.arange(w, dtype=x.dtype)[None, None, :]
    mm = m[:, :, :, None, None]  # (N, 2, 3, 1, 1) broadcast over the (H, W) grid
    src_r = mm[:, 0, 0] * rows + mm[:, 0, 1] * cols + mm[:, 0, 2]  # (N, H, W)
    src_c = mm[:, 1, 0] * rows + mm[:, 1, 1] * cols + mm[:, 1, 2]

    flat = x.reshape(n * h * w, c)
    base = xp.arange(n, dtype=np.int64)[:, None, None] * (h * w)

    def gather(r, q):  # r, q: (N, H, W) integer pixel indices -> (N, H, W, C)
        r, q = _fold(r, h, fill_mode), _fold(q, w, fill_mode)
        return flat[base + r * w + q]

    if order == 0:
        # scipy rounds half up; ties (exact .5 coordinates) are rare with random angles
        out = gather(xp.floor(src_r + 0.5).astype(np.int64), xp.floor(src_c + 0.5).astype(np.int64))
    else:
        r0f, c0f = xp.floor(src_r), xp.floor(src_c)
        fr, fc = (src_r - r0f)[..., None], (src_c - c0f)[..., None]
        r0, c0 = r0f.astype(np.int64), c0f.astype(np.int64)
        one = x.dtype.type(1)
        out = (gather(r0, c0) * ((one - fr) * (one - fc)) + gather(r0, c0 + 1) * ((one - fr) * fc)
               + gather(r0 + 1, c0) * (fr * (one - fc)) + gather(r0 + 1, c0 + 1) * (fr * fc))
    if fill_mode == "constant":
        outside = (src_r < 0) | (src_r > h - 1) | (src_c < 0) | (src_c > w - 1)
        out[outside] = cval  # every channel of those pixels
    return out


# ------------------------------------------------------------ numba (CPU) ---

def _transform_numba(x, m, fill_mode, cval, order):
    out = np.empty_like(x)
    _warp(x, m, _MODE_CODE[fill_mode], x.dtype.type(cval), order, out)
    return out


_CONSTANT, _REFLECT, _WRAP = _MODE_CODE["constant"], _MODE_CODE["reflect"], _MODE_CODE["wrap"]

if numba is not None:
    @numba.njit(inline="always")
    def _fold_one(i, size, mode):
        """One integer pixel index -> a valid one (``_fold`` for a scalar)."""
        if mode == _REFLECT:
            i = i % (2 * size)  # numba's % follows Python: never negative here
            return 2 * size - 1 - i if i >= size else i
        if mode == _WRAP:
            return i % size
        return min(max(i, 0), size - 1)

    @numba.njit(parallel=True, cache=True)
    def _warp(x, m, mode, cval, order, out):
        n, h, w, c = x.shape
        one = x.dtype.type(1)
        half = x.dtype.type(0.5)
        for t in numba.prange(n * h):  # one output row per task: balanced for any N
            b, i = t // h, t % h
            fi = x.dtype.type(i)
            for j in range(w):
                fj = x.dtype.type(j)
                # same float operations, in the same order, as the reference
                sr = m[b, 0, 0] * fi + m[b, 0, 1] * fj + m[b, 0, 2]
                sc = m[b, 1, 0] * fi + m[b, 1, 1] * fj + m[b, 1, 2]
                if mode == _CONSTANT and (sr < 0 or sr > h - 1 or sc < 0 or sc > w - 1):
                    for k in range(c):
                        out[b, i, j, k] = cval
                    continue
                if order == 0:
                    r = _fold_one(int(np.floor(sr + half)), h, mode)
                    q = _fold_one(int(np.floor(sc + half)), w, mode)
                    for k in range(c):
                        out[b, i, j, k] = x[b, r, q, k]
                    continue
                r0f, c0f = np.floor(sr), np.floor(sc)
                fr, fc = sr - r0f, sc - c0f
                r0, c0 = int(r0f), int(c0f)
                ra, rb = _fold_one(r0, h, mode), _fold_one(r0 + 1, h, mode)
                ca, cb = _fold_one(c0, w, mode), _fold_one(c0 + 1, w, mode)
                w00, w01 = (one - fr) * (one - fc), (one - fr) * fc
                w10, w11 = fr * (one - fc), fr * fc
                for k in range(c):
                    out[b, i, j, k] = (x[b, ra, ca, k] * w00 + x[b, ra, cb, k] * w01
                                       + x[b, rb, ca, k] * w10 + x[b, rb, cb, k] * w11)
