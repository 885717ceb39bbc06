"""Output size and padding of a sliding window, exactly as Keras/TensorFlow.

'valid': no padding, ``out = floor((in - k) / s) + 1``.
'same':  ``out = ceil(in / s)``; the total padding
         ``max((out - 1) * s + k - in, 0)`` is split with the extra pixel at
         the bottom/right (TensorFlow's rule, which Keras inherits).
"""
from collections import namedtuple

Geometry = namedtuple(
    "Geometry", "kh kw sh sw pad_top pad_bottom pad_left pad_right out_h out_w")
Geometry.__doc__ = """Everything a window kernel needs: kernel (kh, kw), strides (sh, sw),
padding on each side and the output size (out_h, out_w)."""


def _one_axis(size, k, s, padding):
    if padding == "valid":
        out = (size - k) // s + 1
        return out, 0, 0
    out = -(-size // s)  # ceil
    total = max((out - 1) * s + k - size, 0)
    return out, total // 2, total - total // 2


def window_geometry(in_h, in_w, kernel_size, strides, padding, layer="layer"):
    """Geometry of a (kh, kw) window sliding with ``strides`` over (in_h, in_w)."""
    kh, kw = kernel_size
    sh, sw = strides
    if padding not in ("valid", "same"):
        raise ValueError(f"{layer}: padding must be 'valid' or 'same', received {padding!r}")
    if padding == "valid" and (kh > in_h or kw > in_w):
        raise ValueError(
            f"{layer}: kernel {kh}x{kw} is larger than its {in_h}x{in_w} input "
            f"with padding='valid'; use a smaller kernel or padding='same'")
    out_h, pt, pb = _one_axis(in_h, kh, sh, padding)
    out_w, pl, pr = _one_axis(in_w, kw, sw, padding)
    return Geometry(kh, kw, sh, sw, pt, pb, pl, pr, out_h, out_w)


def check_4d(fn, name, a):
    """Refuse an array that is not (N, H, W, C), naming the kernel and argument."""
    if a.ndim != 4:
        raise ValueError(f"{fn}: {name} must be 4-D (N, H, W, C), received shape {a.shape}")


def check_shape(fn, name, a, expected):
    if tuple(a.shape) != tuple(expected):
        raise ValueError(f"{fn}: {name} must have shape {tuple(expected)} for this "
                         f"geometry, received {tuple(a.shape)}")
