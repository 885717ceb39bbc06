"""Single images to and from files and arrays, Keras 2.2-2.3's ``load_img``,
``img_to_array``, ``array_to_img`` and ``save_img`` (keras-preprocessing 1.1.2
image/utils.py), so a Keras program can predict on its own photos::

    from minidl.preprocessing.image import load_img, img_to_array
    img = load_img('cat.jpg', target_size=(64, 64))   # a PIL image, 64x64 RGB
    x = img_to_array(img) / 255.0                      # (64, 64, 3) float32
    model.predict(x[None])                             # a batch of one

Images are PIL images (Pillow is the ``images`` extra: ``pip install
minidl[images]``); arrays are NumPy, (H, W, C) channels-last. Opening uses the
same Pillow helpers as ``image_folder`` and ``flow_from_directory``.

Known differences from Keras (each turns a Keras failure or an undefined
result into a defined one; well-formed calls give the same pixels):

* data_format='channels_first' is refused: minidl is channels-last.
* Arguments are checked before anything is read: an unknown interpolation is
  an error even when no resize is needed (Keras checks it only when resizing),
  and target_size must be (height, width) with positive ints.
* A file Pillow cannot decode raises ValueError naming the file (Keras lets
  Pillow's UnidentifiedImageError through).
* array_to_img(scale=False) clips values to [0, 255] before truncating them to
  8-bit levels (Keras casts with ``astype('uint8')``, whose result for values
  outside [0, 255] NumPy leaves undefined). It also accepts CuPy arrays.
* save_img with an RGBA image: the warning and conversion to RGB happen for a
  '.jpg' / '.jpeg' file name too, not only for file_format='jpg'; and
  file_format='jpg' is passed to Pillow as 'jpeg' (Pillow knows no 'JPG'
  format and raises KeyError).
"""
import io
import os
import warnings

import numpy as np

from .. import backend
from ..datasets.image_folder import _COLOR_MODES, _Decoder, _pillow, check_decoding

__all__ = ["load_img", "img_to_array", "array_to_img", "save_img"]

# keras-preprocessing 1.1.2 load_img: grayscale keeps 16- and 32-bit images as they are
_GRAYSCALE_KEPT = ("L", "I;16", "I")
_JPEG_NAMES = ("jpg", "jpeg")


def load_img(path, grayscale=False, color_mode="rgb", target_size=None,
             interpolation="nearest"):
    """Read an image file into a PIL image.

    path: the image file (str or os.PathLike).
    grayscale: deprecated since Keras 2.2 (a warning); True means color_mode='grayscale'.
    color_mode: 'rgb' (Keras default), 'rgba' or 'grayscale'. Other Pillow
      modes are converted; grayscale keeps 8-, 16- and 32-bit grayscale
      images as they are (modes 'L', 'I;16', 'I') and converts the rest to 'L'.
    target_size: None (Keras default: the stored size) or (height, width);
      a different stored size is resized with ``interpolation``.
    interpolation: Pillow filter, 'nearest' (Keras default), 'bilinear',
      'bicubic', 'lanczos', 'box' or 'hamming'.

    Returns a PIL image of size (width, height) = target_size[::-1].
    """
    # defaults above: keras-preprocessing 1.1.2 image/utils.py (Keras 2.2.4 - 2.3.1)
    if grayscale is True:
        warnings.warn('load_img: grayscale=True is deprecated (Keras 2.2); '
                      'use color_mode="grayscale"', stacklevel=2)
        color_mode = "grayscale"
    _check_load_args(path, color_mode, target_size, interpolation)
    Image = _pillow("load_img")
    decoder = _Decoder(Image, target_size, _COLOR_MODES[color_mode], interpolation,
                       where="load_img")
    with open(path, "rb") as f:   # read whole, as Keras does: the file is closed on return
        data = f.read()
    kept = _GRAYSCALE_KEPT if color_mode == "grayscale" else (decoder.mode,)
    try:
        img = Image.open(io.BytesIO(data))
        if img.mode not in kept:
            img = img.convert(decoder.mode)
        if decoder.size is not None and img.size != decoder.size:
            img = img.resize(decoder.size, decoder.resample)
        img.load()   # a damaged file fails here, with its name, not in a later step
    except (OSError, ValueError, SyntaxError) as e:   # UnidentifiedImageError is an OSError
        raise ValueError(f"load_img: cannot decode {os.fspath(path)!r}: {e}") from None
    return img


def img_to_array(img, data_format=None, dtype=None):
    """A PIL image (or anything NumPy can convert) -> (H, W, C) NumPy array.

    A 2-D image (grayscale, palette) gets a channel axis: (H, W, 1).
    dtype: None: minidl's floatx (float32 by default), as Keras 2.2-2.3.
    Pixel values are not rescaled: 8-bit images give 0..255.
    """
    _check_data_format(data_format, "img_to_array",
                       "it returns (H, W, C); for a (C, H, W) copy use x.transpose(2, 0, 1)")
    x = np.asarray(img, dtype=backend.floatx() if dtype is None else dtype)
    if x.ndim == 2:
        return x[:, :, np.newaxis]
    if x.ndim != 3:
        raise ValueError(f"img_to_array: expected a 2-D or 3-D image, received an array "
                         f"of shape {x.shape}")
    return x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """An (H, W, C) array -> PIL image: C = 1 grayscale, 3 RGB, 4 RGBA.

    x: (H, W, C) NumPy or CuPy array, or nested lists.
    scale: True (Keras default) maps x's own [min, max] to [0, 255]
      (x - min, divided by the new max unless it is 0, times 255); False
      takes the values as pixel levels. Levels are then truncated to 8 bits,
      except for C = 1 with values above 255, which gives a 32-bit grayscale
      image (mode 'I') with the values truncated to integers.
    dtype: the float type the arithmetic runs in; None: minidl's floatx.
    """
    _check_data_format(data_format, "array_to_img",
                       "pass (H, W, C); x.transpose(1, 2, 0) turns (C, H, W) into it")
    Image = _pillow("array_to_img")
    x = np.asarray(backend.to_numpy(x), dtype=backend.floatx() if dtype is None else dtype)
    if x.ndim != 3:
        raise ValueError(
            f"array_to_img: expected one image (H, W, C), received an array of shape "
            f"{x.shape}; take x[i] of a batch (N, H, W, C), or x[..., None] of a 2-D image")
    channels = x.shape[2]
    if channels not in (1, 3, 4):
        raise ValueError(f"array_to_img: expected 1 (grayscale), 3 (RGB) or 4 (RGBA) channels, "
                         f"received {channels} (shape {x.shape})")
    if scale:
        x = x - x.min()
        top = x.max()
        if top != 0:
            x = x / top
        x = x * 255
    if channels == 1 and x.max() > 255:
        return Image.fromarray(x[:, :, 0].astype(np.int32))   # mode 'I', as Keras
    levels = np.clip(x, 0, 255).astype(np.uint8)
    return Image.fromarray(levels[:, :, 0] if channels == 1 else levels)   # L, RGB or RGBA


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Write an (H, W, C) array as an image file: ``array_to_img(x, scale=scale)``
    then Pillow's ``save``.

    path: a file name (its extension picks the format) or a file object
      (then file_format is needed).
    file_format: 'png', 'jpeg', ... overriding the extension.
    kwargs: passed to Pillow's ``Image.save`` (e.g. quality=95 for JPEG).
    An RGBA image written as JPEG is converted to RGB, with a warning.
    """
    _check_data_format(data_format, "save_img",
                       "pass (H, W, C); x.transpose(1, 2, 0) turns (C, H, W) into it")
    img = array_to_img(x, scale=scale, dtype="float32")   # 1.1.2 save_img: float32, not floatx
    fmt = file_format
    if fmt is None and isinstance(path, (str, os.PathLike)):
        fmt = os.path.splitext(os.fspath(path))[1].lstrip(".") or None
    if fmt is not None and fmt.lower() in _JPEG_NAMES:
        if img.mode == "RGBA":
            warnings.warn("save_img: JPEG has no alpha channel; the RGBA image is "
                          "converted to RGB", stacklevel=2)
            img = img.convert("RGB")
        if file_format is not None:
            file_format = "jpeg"
    img.save(path, format=file_format, **kwargs)


def _check_data_format(data_format, where, how):
    if data_format in (None, "channels_last"):
        return
    if data_format == "channels_first":
        raise ValueError(f"{where}: data_format='channels_first' is not supported: minidl is "
                         f"channels-last, images are (H, W, C). Leave data_format unset and "
                         f"{how}")
    raise ValueError(f"{where}: data_format must be 'channels_last' or None, "
                     f"received {data_format!r}")


def _check_load_args(path, color_mode, target_size, interpolation):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load_img: path must be a file name (str or os.PathLike), "
                        f"received {type(path).__name__}")
    check_decoding("load_img", "target_size", target_size, color_mode, interpolation)
