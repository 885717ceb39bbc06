"""Per-image changes of pixel values, a whole batch per call: ImageDataGenerator's
``channel_shift_range`` and ``brightness_range``, and the ZCA matrix of ``fit``.

Each follows keras-preprocessing 1.1.2 affine_transformations.py /
image_data_generator.py (the ImageDataGenerator of Keras 2.2-2.3), which works
on one image at a time; here image n of the batch gets its own value, all
images at once, on the device of ``x``.
"""
import numpy as np

from ..backend import get_array_module

__all__ = ["channel_shift_batch", "brightness_batch", "zca_matrix"]


def _per_image(values, x):
    """(N,) values -> (N, 1, 1, 1) of x's dtype, for broadcasting over an image."""
    return values.astype(x.dtype).reshape(-1, 1, 1, 1)


def channel_shift_batch(x, intensity):
    """Add intensity[n] to every pixel and channel of image n, then clip to
    that image's own [min, max] (1.1.2 ``apply_channel_shift``).

    x: (N, H, W, C) float; intensity: (N,) -> (N, H, W, C) of x's dtype.
    """
    xp = get_array_module(x)
    lo = x.min(axis=(1, 2, 3), keepdims=True)
    hi = x.max(axis=(1, 2, 3), keepdims=True)
    return xp.minimum(xp.maximum(x + _per_image(intensity, x), lo), hi)


def brightness_batch(x, factor):
    """1.1.2 ``apply_brightness_shift`` of image n with factor[n], arithmetic
    of its PIL round trip included:

    1. ``array_to_img(x)`` (scale=True): x - min, divided by the new max
       (unless 0), times 255, truncated to uint8 levels v. The image's own
       value range is lost: the result lies in [0, 255] whatever x was.
    2. ``ImageEnhance.Brightness(img).enhance(f)``: Pillow blends with a
       black image, out = trunc(clip(float32(f) * v, 0, 255)); an alpha
       channel (C = 4, RGBA) keeps its levels v.
    3. ``img_to_array``: the uint8 levels back as floats.

    x: (N, H, W, C) float; factor: (N,) -> (N, H, W, C) of x's dtype.
    """
    xp = get_array_module(x)
    x = x - x.min(axis=(1, 2, 3), keepdims=True)
    top = x.max(axis=(1, 2, 3), keepdims=True)
    x = x / (top + (top == 0).astype(x.dtype))  # a flat image stays 0, as in 1.1.2
    levels = xp.floor(x * x.dtype.type(255))  # astype('uint8') truncates; x * 255 is in [0, 255]
    f = factor.astype(np.float32).reshape(-1, 1, 1, 1)  # Pillow's blend takes a C float
    out = xp.floor(xp.clip(levels.astype(np.float32) * f, 0, 255)).astype(x.dtype)
    if x.shape[-1] == 4:
        out[..., 3] = levels[..., 3]
    return out


def zca_matrix(sigma, epsilon):
    """ZCA whitening matrix of a (D, D) covariance: U diag(1 / sqrt(S + eps)) U^T
    with U, S from the SVD of sigma (1.1.2 ``fit``). NumPy, on the host."""
    u, s, _ = np.linalg.svd(sigma)
    return (u * (1.0 / np.sqrt(s[np.newaxis] + epsilon))) @ u.T
