"""Real-time image augmentation: Keras 2's ImageDataGenerator, one batch at a time.

    datagen = ImageDataGenerator(rotation_range=8, width_shift_range=0.08,
                                 shear_range=0.3, zoom_range=0.08)
    for x_batch, y_batch in datagen.flow(x_train, y_train, batch_size=512):
        ...   # x_batch: (512, 28, 28, 1) floatx, on the active device
    train = datagen.flow_from_directory('data/train', target_size=(64, 64))
    model.fit_generator(train, steps_per_epoch=len(train), epochs=10)

Keras draws one random transform per image and calls scipy once per image and
channel. Here all N parameter sets of a batch are drawn at once on the active
device, turned into N matrices, and the batch is resampled in one call
(``transform_batch``: a numba kernel on the CPU, array code on CuPy); channel
shifts, brightness and normalization are array operations on the whole batch.

Semantics follow keras-preprocessing 1.1.2 (the ImageDataGenerator of Keras
2.2-2.3), coordinates in (row, col) order:

* rotation theta ~ U(-rotation_range, rotation_range) degrees.
* shifts: a float range r gives U(-r, r); an int r gives one of the integers
  0..r-1 with a random sign; a list gives one of its values with a random
  sign (Keras >= 2.1.6; Keras <= 2.1.5 always read the range as a fraction).
  Values below 1 (all of them, for a list) are fractions of the height/width.
* shear s ~ U(-shear_range, shear_range), in degrees since Keras 2.1.3 and
  in radians before (``shear_units='radians'`` for Keras 2.0.x code).
* zoom: zx (rows) and zy (columns) ~ U(lo, hi) independently; z > 1 shrinks
  the content, because the matrix maps output pixels to input pixels.
* M = R @ T @ Sh @ Z, conjugated by the image centre, then the horizontal and
  vertical flips (p = 0.5 each).
* channel shift: one c ~ U(-r, r) per image added to all its channels, then
  clipped to the image's own [min, max] (before the flips in Keras; the two
  commute). brightness: one f ~ U(lo, hi) per image through Keras's PIL round
  trip (see ``intensity.brightness_batch``: the image is first stretched to
  uint8 levels 0..255, so the result is on the 0..255 scale whatever the
  input's range was, as in 1.1.2).
* then ``standardize``: preprocessing_function (per image), rescale,
  samplewise centre / std (per image), featurewise centre / std (``fit``),
  ZCA whitening (``fit``).
* constructor overrides, with Keras's warnings: zca_whitening turns
  featurewise_center on and featurewise_std_normalization off;
  featurewise_std_normalization turns featurewise_center on;
  samplewise_std_normalization turns samplewise_center on.
* validation_split + ``subset``: 'validation' is the first
  int(N * validation_split) samples of x (of each class folder, for
  ``flow_from_directory``), 'training' the rest.

Known differences from Keras:

* Centre: keras-preprocessing <= 1.1.2 turns about (size / 2 + 0.5), one
  pixel below and right of the geometric centre (size - 1) / 2 that minidl
  uses (so that a 90-degree rotation of a square image is exactly np.rot90).
  For a warp A the two results differ by a shift of (I - A) @ (1, 1) pixels:
  0.2 px for an 8-degree rotation, 0.14 px for a 10% zoom, 2 px for a
  quarter turn. Shifts and flips are not affected.
* fill_mode='wrap' tiles the image (period = size); scipy's 'wrap', used by
  Keras, repeats with period size - 1.
* Keras <= 2.1.2 resampled with nearest-neighbour (scipy order=0); pass
  ``interpolation_order=0`` to match it. 1 (bilinear) is the 1.1.2 default.
* Keras <= 2.1.2 normalized samplewise per pixel across channels with
  +1e-7; this follows keras-preprocessing 1.1.2 (whole image, +1e-6).
* Random numbers come from minidl's device generators, not np.random: the
  same seed gives a repeatable stream, not Keras's stream.
* featurewise / ZCA normalization before ``fit`` is an error (Keras warns
  and skips it). ``fit`` accumulates in float64 (Keras: float32).
* ``standardize`` on a batch treats each image as Keras treats one image
  (samplewise statistics and preprocessing_function per image); it returns
  a new array instead of changing x in place.
* data_format='channels_first' is refused: minidl is channels-last.
* Not implemented: ``save_to_dir`` (a clear error), ``sample_weight`` in
  ``flow``, a tuple x of (images, extra arrays) in ``flow``,
  ``flow_from_dataframe``.
"""
import numbers
import warnings

import numpy as np

from .. import backend
from .affine import _check_fill, transform_batch
from .directory import DirectoryIterator
from .image_utils import array_to_img, img_to_array, load_img, save_img
from .intensity import brightness_batch, channel_shift_batch, zca_matrix
from .iterator import Iterator, NumpyArrayIterator, _check_images

__all__ = ["ImageDataGenerator", "Iterator", "NumpyArrayIterator", "DirectoryIterator",
           "transform_batch", "load_img", "img_to_array", "array_to_img", "save_img"]

_STD_FUZZ = 1e-6  # keras-preprocessing 1.1.2 adds 1e-6 to every std it divides by
_FIT_CHUNK = 2048  # images per step of fit(): bounds the float64 copy in memory


def _is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _number(name, value):
    if not _is_number(value):
        raise TypeError(f"ImageDataGenerator: {name} must be a number, received {value!r}")
    return float(value)


def _shift_range(name, value):
    """A float, an int or a 1-D list of numbers, kept as Keras reads it."""
    if _is_number(value):
        if isinstance(value, numbers.Integral):
            if value < 0:
                raise ValueError(f"ImageDataGenerator: {name} must be >= 0, received {value!r}")
            return int(value)
        return float(value)
    values = np.asarray(value) if isinstance(value, (list, tuple, np.ndarray)) else None
    if values is None or values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iuf":
        raise TypeError(
            f"ImageDataGenerator: {name} must be a float (a fraction of the size if < 1, "
            f"pixels otherwise), an int (pixels) or a 1-D list of numbers, received {value!r}")
    return tuple(float(v) for v in values)


def _zoom_range(value):
    if _is_number(value):
        return (1.0 - float(value), 1.0 + float(value))
    if isinstance(value, (list, tuple, np.ndarray)) and len(value) == 2 and all(
            _is_number(v) for v in value):
        return (float(value[0]), float(value[1]))
    raise ValueError(
        f"ImageDataGenerator: zoom_range must be a float or a [lower, upper] pair, "
        f"received {value!r}")


def _matrix(a, b, c, d, e, f):
    """(N, 3, 3) stack of [[a, b, c], [d, e, f], [0, 0, 1]] from (N,) arrays or scalars."""
    xp = backend.get_array_module(a)
    n = a.shape[0]
    m = xp.zeros((n, 3, 3), dtype=np.float64)
    for k, v in enumerate((a, b, c, d, e, f)):
        m[:, k // 3, k % 3] = v
    m[:, 2, 2] = 1.0
    return m


def _brightness_range(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple, np.ndarray)) and len(value) == 2 and all(
            _is_number(v) for v in value):
        return (float(value[0]), float(value[1]))
    raise ValueError(f"ImageDataGenerator: brightness_range must be None or a (lower, upper) "
                     f"pair of floats, received {value!r}")


def _data_format(value):
    if value in (None, "channels_last"):
        return "channels_last"
    if value == "channels_first":
        raise ValueError(
            "ImageDataGenerator: data_format='channels_first' is not supported: minidl is "
            "channels-last (N, H, W, C). Leave data_format unset (or 'channels_last') and "
            "transpose channels-first arrays once with x.transpose(0, 2, 3, 1)")
    raise ValueError(f"ImageDataGenerator: data_format must be 'channels_last' (or None), "
                     f"received {value!r}")


def _dtype(value):
    if value is None:
        return None
    try:
        dt = np.dtype(value)
    except TypeError:
        dt = None
    if dt is None or dt.kind != "f":
        raise ValueError(f"ImageDataGenerator: dtype must be a float type such as 'float32', "
                         f"received {value!r}")
    return dt.name


class ImageDataGenerator:
    """Random augmentation and normalization of NHWC image batches.

    Arguments keep their Keras 2 names, order and defaults (keras-preprocessing 1.1.2):
        featurewise_center, featurewise_std_normalization: subtract the
            per-channel mean / divide by the per-channel std of ``fit(x)``.
        samplewise_center, samplewise_std_normalization: per image, over all
            its pixels and channels.
        zca_whitening: multiply each flattened image by the ZCA matrix of
            ``fit(x)``; zca_epsilon is added to its eigenvalues.
        rotation_range: degrees. width_shift_range, height_shift_range: see
            the module docstring. shear_range: degrees (or radians, below).
        brightness_range: (lo, hi): per image factor ~ U(lo, hi).
        zoom_range: float z -> [1 - z, 1 + z], or a [lower, upper] pair.
        channel_shift_range: per image, c ~ U(-r, r) added to every channel.
        fill_mode: 'nearest' | 'constant' | 'reflect' | 'wrap'; cval for 'constant'.
        horizontal_flip, vertical_flip: each applied with probability 0.5.
        rescale: multiply by this (e.g. 1/255) before any normalization.
        preprocessing_function: f(image (H, W, C)) -> array of the same shape,
            called on each augmented image before rescale (on the GPU it
            receives a CuPy array).
        data_format: 'channels_last' or None only (minidl is channels-last).
        validation_split: fraction of the data that ``subset='validation'`` takes.
        interpolation_order: 1 bilinear (keras-preprocessing 1.1), 0 nearest (Keras <= 2.1).
        dtype: float type of the batches; None: minidl's floatx (Keras: 'float32').
    minidl only:
        shear_units: 'degrees' (Keras >= 2.1.3) or 'radians' (Keras <= 2.1.2).
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0.0, height_shift_range=0.0, brightness_range=None,
                 shear_range=0.0, zoom_range=0.0, channel_shift_range=0.0, fill_mode="nearest",
                 cval=0.0, horizontal_flip=False, vertical_flip=False, rescale=None,
                 preprocessing_function=None, data_format=None, validation_split=0.0,
                 interpolation_order=1, dtype=None, shear_units="degrees"):
        # names, order and defaults above: keras-preprocessing 1.1.2 (Keras 2.2 - 2.3)
        self.featurewise_center = bool(featurewise_center)
        self.samplewise_center = bool(samplewise_center)
        self.featurewise_std_normalization = bool(featurewise_std_normalization)
        self.samplewise_std_normalization = bool(samplewise_std_normalization)
        self.zca_whitening = bool(zca_whitening)
        self.zca_epsilon = _number("zca_epsilon", zca_epsilon)
        self.rotation_range = _number("rotation_range", rotation_range)
        self.width_shift_range = _shift_range("width_shift_range", width_shift_range)
        self.height_shift_range = _shift_range("height_shift_range", height_shift_range)
        self.brightness_range = _brightness_range(brightness_range)
        self.shear_range = _number("shear_range", shear_range)
        self.zoom_range = _zoom_range(zoom_range)
        self.channel_shift_range = _number("channel_shift_range", channel_shift_range)
        _check_fill(fill_mode, interpolation_order, "ImageDataGenerator")
        self.fill_mode, self.interpolation_order = fill_mode, interpolation_order
        self.cval = _number("cval", cval)
        self.horizontal_flip, self.vertical_flip = bool(horizontal_flip), bool(vertical_flip)
        self.rescale = None if rescale is None else _number("rescale", rescale)
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise TypeError(f"ImageDataGenerator: preprocessing_function must be callable or "
                            f"None, received {preprocessing_function!r}")
        self.preprocessing_function = preprocessing_function
        self.data_format = _data_format(data_format)
        self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2  # Keras's, channels-last
        validation_split = _number("validation_split", validation_split)
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(f"ImageDataGenerator: validation_split must be strictly between "
                             f"0 and 1, received {validation_split!r}")
        self._validation_split = validation_split  # Keras's attribute name
        self.dtype = _dtype(dtype)
        if shear_units not in ("degrees", "radians"):
            raise ValueError(
                f"ImageDataGenerator: shear_units must be 'degrees' or 'radians', "
                f"received {shear_units!r}")
        self.shear_units = shear_units
        self.mean = None  # (1, 1, C) from fit(), when featurewise_center
        self.std = None   # (1, 1, C) from fit(), when featurewise_std_normalization
        self.principal_components = None  # (H*W*C, H*W*C) from fit(), when zca_whitening
        # The three are NumPy arrays, as in Keras (code may set them by hand);
        # standardize uses a device copy made once per array.
        self._on_device = {}

        # the flags that keras-preprocessing 1.1.2's constructor forces, with its warnings
        if self.zca_whitening:
            if not self.featurewise_center:
                self.featurewise_center = True
                warnings.warn("This ImageDataGenerator specifies `zca_whitening`, which "
                              "overrides setting of `featurewise_center`.", stacklevel=2)
            if self.featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn("This ImageDataGenerator specifies `zca_whitening` which "
                              "overrides setting of `featurewise_std_normalization`.",
                              stacklevel=2)
        if featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`, "
                          "which overrides setting of `featurewise_center`.", stacklevel=2)
        if self.samplewise_std_normalization and not self.samplewise_center:
            self.samplewise_center = True
            warnings.warn("This ImageDataGenerator specifies `samplewise_std_normalization`, "
                          "which overrides setting of `samplewise_center`.", stacklevel=2)

    # ---------------------------------------------------------- public API ---

    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix="", save_format="png", subset=None):
        """Endless iterator of augmented, standardized (x_batch, y_batch) on the device.

        subset: 'training' or 'validation' with ``validation_split`` set: the
        validation part is the first int(N * validation_split) samples.
        """
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed,
                                  save_to_dir=save_to_dir, save_prefix=save_prefix,
                                  save_format=save_format, subset=subset)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb",
                            classes=None, class_mode="categorical", batch_size=32, shuffle=True,
                            seed=None, save_to_dir=None, save_prefix="", save_format="png",
                            follow_links=False, subset=None, interpolation="nearest"):
        """Endless iterator of augmented, standardized batches read from a
        class-per-folder tree; see ``directory.DirectoryIterator``."""
        # defaults above: keras-preprocessing 1.1.2 image_data_generator.py
        return DirectoryIterator(directory, self, target_size=target_size,
                                 color_mode=color_mode, classes=classes, class_mode=class_mode,
                                 batch_size=batch_size, shuffle=shuffle, seed=seed,
                                 save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, follow_links=follow_links,
                                 subset=subset, interpolation=interpolation)

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Statistics of x: (N, H, W, C) after rescale, for featurewise
        normalization and ZCA whitening.

        mean, std: per channel, over N, H and W. principal_components: the
        ZCA matrix U diag(1 / sqrt(S + zca_epsilon)) U^T of the (D, D)
        covariance of the flattened images (D = H*W*C), centred when
        featurewise_center (keras-preprocessing 1.1.2). With ``augment``, the
        statistics are taken over ``rounds`` randomly augmented copies of x,
        as Keras does. Sums are accumulated on the device in float64, one
        chunk of images at a time; the ZCA matrix comes from an SVD on the host.
        """
        _check_images(x, "ImageDataGenerator.fit")
        if not isinstance(rounds, numbers.Integral) or rounds < 1:
            raise ValueError(f"ImageDataGenerator.fit: rounds must be an int >= 1, received {rounds!r}")
        x = backend.asarray(x)
        xp = backend.get_array_module(x)
        g = self._generator(seed)
        n, h, w, c = x.shape
        d = h * w * c
        rounds = rounds if augment else 1
        total = xp.zeros(c, dtype=np.float64)
        total_sq = xp.zeros(c, dtype=np.float64)
        if self.zca_whitening:
            flat_total = xp.zeros(d, dtype=np.float64)
            gram = xp.zeros((d, d), dtype=np.float64)  # sum of x x^T over the images
        for _ in range(rounds):
            for start in range(0, n, _FIT_CHUNK):
                chunk = x[start:start + _FIT_CHUNK].astype(self.dtype or backend.floatx())
                if self.rescale:
                    chunk = chunk * chunk.dtype.type(self.rescale)
                if augment:
                    chunk = self._augment(chunk, g)
                chunk = chunk.astype(np.float64)
                total += chunk.sum(axis=(0, 1, 2))
                total_sq += (chunk * chunk).sum(axis=(0, 1, 2))
                if self.zca_whitening:
                    flat = chunk.reshape(len(chunk), d)
                    flat_total += flat.sum(axis=0)
                    gram += flat.T @ flat
        count = n * h * w * rounds
        mean = total / count
        # float64 sums of pixel values: E[x^2] - E[x]^2 loses nothing that matters
        std = xp.sqrt(xp.maximum(total_sq / count - mean * mean, 0.0))
        floatx = self.dtype or backend.floatx()
        if self.featurewise_center:
            self.mean = backend.to_numpy(mean).astype(floatx).reshape(1, 1, -1)
        if self.featurewise_std_normalization:
            self.std = backend.to_numpy(std).astype(floatx).reshape(1, 1, -1)
        if self.zca_whitening:
            sigma = self._covariance(backend.to_numpy(gram), backend.to_numpy(flat_total),
                                     n * rounds, backend.to_numpy(mean),
                                     backend.to_numpy(std), h * w)
            self.principal_components = zca_matrix(sigma, self.zca_epsilon).astype(floatx)
        return self

    def standardize(self, x):
        """preprocessing_function, rescale, samplewise, featurewise, ZCA, in
        keras-preprocessing 1.1.2's order.

        x: one image (H, W, C) or a batch (N, H, W, C), each image of a batch
        normalized as Keras normalizes one image; returns a new array of the
        active device (floatx when x is not float). x is left unchanged
        unless preprocessing_function changes its argument in place.
        """
        shape = getattr(x, "shape", None)
        if shape is None or len(shape) not in (3, 4):
            raise ValueError(f"ImageDataGenerator.standardize: x must be one image (H, W, C) "
                             f"or a batch (N, H, W, C), received shape {shape}")
        host = isinstance(x, np.ndarray)   # a NumPy image comes back as NumPy, as in Keras
        x = backend.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(self.dtype or backend.floatx())
        single = x.ndim == 3
        if single:
            x = x[None]
        if self.preprocessing_function is not None:
            x = self._preprocess(x)
        axes = (1, 2, 3)  # one image's pixels and channels
        if self.rescale:  # Keras tests truthiness: rescale=0 means none
            x = x * x.dtype.type(self.rescale)
        if self.samplewise_center:
            x = x - x.mean(axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            x = x / (x.std(axis=axes, keepdims=True) + x.dtype.type(_STD_FUZZ))
        if self.featurewise_center:
            x = x - self._fitted("mean", "featurewise_center").astype(x.dtype)
        if self.featurewise_std_normalization:
            std = self._fitted("std", "featurewise_std_normalization").astype(x.dtype)
            x = x / (std + x.dtype.type(_STD_FUZZ))
        if self.zca_whitening:
            pc = self._fitted("principal_components", "zca_whitening")
            d = x.shape[1] * x.shape[2] * x.shape[3]
            if pc.shape[0] != d:
                raise ValueError(
                    f"ImageDataGenerator.standardize: the ZCA matrix from fit() is for images of "
                    f"{pc.shape[0]} values (H*W*C), received images of shape {x.shape[1:]} "
                    f"({d} values)")
            x = (x.reshape(len(x), d) @ pc.astype(x.dtype)).reshape(x.shape)
        x = x[0] if single else x
        return backend.to_numpy(x) if host else x

    def random_transform(self, x, seed=None):
        """One image x: (H, W, C) -> a randomly transformed copy (not standardized)."""
        _check_images(x, "ImageDataGenerator.random_transform", rank=3)
        host = isinstance(x, np.ndarray)
        x = backend.asarray(x)
        batch = x[None].astype(x.dtype if x.dtype.kind == "f" else backend.floatx())
        out = self._augment(batch, self._generator(seed))[0]
        return backend.to_numpy(out) if host else out

    def get_random_transform(self, img_shape, seed=None):
        """Keras's parameter dict for one image of shape (H, W, C), as Python
        numbers; 'channel_shift_intensity' and 'brightness' are None when off."""
        params = self._draw(1, img_shape[0], img_shape[1], self._generator(seed))
        out = {k: None if v is None else float(backend.to_numpy(v)[0]) for k, v in params.items()}
        out["flip_horizontal"] = bool(out["flip_horizontal"])
        out["flip_vertical"] = bool(out["flip_vertical"])
        return out

    def apply_transform(self, x, transform_parameters):
        """One image x: (H, W, C) through Keras's parameter dict.

        Keys (missing ones mean no change): 'theta' (degrees), 'tx' (rows),
        'ty' (columns), 'shear' (in ``shear_units``), 'zx' (rows), 'zy'
        (columns), 'flip_horizontal', 'flip_vertical',
        'channel_shift_intensity', 'brightness' (these two: None for none).
        """
        _check_images(x, "ImageDataGenerator.apply_transform", rank=3)
        host = isinstance(x, np.ndarray)
        x = backend.asarray(x)
        xp = backend.get_array_module(x)
        defaults = {"theta": 0.0, "tx": 0.0, "ty": 0.0, "shear": 0.0, "zx": 1.0, "zy": 1.0,
                    "flip_horizontal": False, "flip_vertical": False}
        optional = ("channel_shift_intensity", "brightness")
        unknown = set(transform_parameters) - set(defaults) - set(optional)
        if unknown:
            raise ValueError(
                f"ImageDataGenerator.apply_transform: unsupported keys {sorted(unknown)}; "
                f"expected some of {sorted(defaults) + list(optional)}")
        params = {k: xp.asarray([float(transform_parameters.get(k, v))], dtype=np.float64)
                  for k, v in defaults.items()}
        for k in optional:
            v = transform_parameters.get(k)
            params[k] = None if v is None else xp.asarray([float(v)], dtype=np.float64)
        batch = x[None].astype(x.dtype if x.dtype.kind == "f" else backend.floatx())
        out = self._apply(batch, params, warp=True)[0]
        return backend.to_numpy(out) if host else out

    # ------------------------------------------------------------ internals ---

    def _generator(self, seed):
        """A fresh seeded Generator on the device, else minidl's (minidl.seed)."""
        if seed is None:
            return backend.rng()
        return backend.array_module().random.default_rng(int(seed))

    def _fitted(self, name, flag):
        value = getattr(self, name)
        if value is None:
            raise RuntimeError(
                f"ImageDataGenerator.standardize: {flag}=True needs statistics of the "
                f"dataset; call datagen.fit(x_train) first")
        cached = self._on_device.get(name)
        if cached is None or cached[0] is not value or cached[1] != backend.device():
            cached = self._on_device[name] = (value, backend.device(), backend.asarray(value))
        return cached[2]

    def _covariance(self, gram, flat_total, count, mean, std, pixels):
        """(D, D) covariance of the flattened images as 1.1.2's fit sees them:
        centred by the per-channel mean (when featurewise_center), divided by
        std + 1e-6 (when featurewise_std_normalization, which zca_whitening
        turns off unless set again by hand). Host float64 arrays."""
        second = gram / count                   # E[x x^T]
        m = np.tile(mean, pixels) if self.featurewise_center else np.zeros_like(flat_total)
        mu = flat_total / count                 # E[x], per pixel and channel
        sigma = second - np.outer(mu, m) - np.outer(m, mu) + np.outer(m, m)
        if self.featurewise_std_normalization:
            a = 1.0 / (np.tile(std, pixels) + _STD_FUZZ)
            sigma *= np.outer(a, a)
        return sigma

    def _preprocess(self, x):
        """preprocessing_function on each image of x: (N, H, W, C), as Keras calls it."""
        xp = backend.get_array_module(x)
        out = []
        for img in x:  # a user function of one image: one call per image
            result = backend.asarray(self.preprocessing_function(img))
            if result.shape != img.shape:
                raise ValueError(
                    f"ImageDataGenerator: preprocessing_function must return an image of the "
                    f"shape it receives, {img.shape}; it returned shape {result.shape}")
            out.append(result.astype(x.dtype, copy=False))
        return xp.stack(out)

    def _transform_batch(self, x, g):
        """x: (N, H, W, C) float on the device -> augmented, standardized batch."""
        return self.standardize(self._augment(x, g))

    def _warps(self):
        return bool(self.rotation_range or self.width_shift_range or self.height_shift_range
                    or self.shear_range or self.zoom_range != (1.0, 1.0)
                    or self.horizontal_flip or self.vertical_flip)

    def _augment(self, x, g):
        """x: (N, H, W, C) float on the device -> augmented copy (x itself if no-op)."""
        warp = self._warps()
        if not (warp or self.channel_shift_range or self.brightness_range is not None):
            return x
        params = self._draw(x.shape[0], x.shape[1], x.shape[2], g)
        return self._apply(x, params, warp)

    def _apply(self, x, params, warp):
        """Parameter arrays (N,) on a batch: warp and flips, channel shift, brightness."""
        if warp:
            m = self._matrices(params, x.shape[1], x.shape[2])
            x = transform_batch(x, m, self.fill_mode, self.cval, self.interpolation_order)
        if params["channel_shift_intensity"] is not None:
            x = channel_shift_batch(x, params["channel_shift_intensity"])
        if params["brightness"] is not None:
            x = brightness_batch(x, params["brightness"])
        return x

    def _draw(self, n, h, w, g):
        """N random parameter sets at once: dict of (N,) float64 device arrays
        (None for a channel shift or brightness that is off)."""
        xp = backend.array_module()

        def uniform(lo, hi):
            return g.random(n, dtype=np.float64) * (hi - lo) + lo

        def shift(r, size):
            if not r:
                return xp.zeros(n, dtype=np.float64)
            if isinstance(r, float):
                s = uniform(-r, r)
            else:  # Keras: np.random.choice(r) * np.random.choice([-1, 1])
                values = xp.arange(r, dtype=np.float64) if isinstance(r, int) else xp.asarray(r)
                pick = xp.minimum((g.random(n, dtype=np.float64) * len(values)).astype(np.int64),
                                  len(values) - 1)
                s = values[pick] * (1.0 - 2.0 * (g.random(n, dtype=np.float64) < 0.5))
            return s * size if max(np.atleast_1d(r)) < 1 else s

        zero, one = xp.zeros(n, dtype=np.float64), xp.ones(n, dtype=np.float64)
        lo, hi = self.zoom_range
        zoom = (lo, hi) != (1.0, 1.0)
        params = {
            "theta": uniform(-self.rotation_range, self.rotation_range) if self.rotation_range else zero,
            "tx": shift(self.height_shift_range, h),
            "ty": shift(self.width_shift_range, w),
            "shear": uniform(-self.shear_range, self.shear_range) if self.shear_range else zero,
            "zx": uniform(lo, hi) if zoom else one,
            "zy": uniform(lo, hi) if zoom else one,
            "flip_horizontal": (g.random(n, dtype=np.float64) < 0.5).astype(np.float64)
            if self.horizontal_flip else zero,
            "flip_vertical": (g.random(n, dtype=np.float64) < 0.5).astype(np.float64)
            if self.vertical_flip else zero,
        }
        r = self.channel_shift_range  # drawn after the others: older seeds keep their streams
        params["channel_shift_intensity"] = uniform(-r, r) if r else None
        b = self.brightness_range
        params["brightness"] = uniform(*b) if b is not None else None
        return params

    def _matrices(self, p, h, w):
        """Parameter arrays (N,) -> (N, 3, 3) output->input maps, (row, col) order."""
        xp = backend.get_array_module(p["theta"])
        theta = xp.deg2rad(p["theta"])
        shear = p["shear"] if self.shear_units == "radians" else xp.deg2rad(p["shear"])
        zero, one = xp.zeros_like(theta), xp.ones_like(theta)
        rotate = _matrix(xp.cos(theta), -xp.sin(theta), zero, xp.sin(theta), xp.cos(theta), zero)
        shift = _matrix(one, zero, p["tx"], zero, one, p["ty"])
        shear_m = _matrix(one, -xp.sin(shear), zero, zero, xp.cos(shear), zero)
        zoom = _matrix(p["zx"], zero, zero, zero, p["zy"], zero)
        cr, cc = (h - 1) / 2.0, (w - 1) / 2.0  # geometric centre, see module docstring
        to_centre = _matrix(one, zero, cr + zero, zero, one, cc + zero)
        from_centre = _matrix(one, zero, -cr + zero, zero, one, -cc + zero)
        # flips act on the output after the warp, so they come last (rightmost)
        fv, fh = p["flip_vertical"], p["flip_horizontal"]
        flip = _matrix(1 - 2 * fv, zero, (h - 1) * fv, zero, 1 - 2 * fh, (w - 1) * fh)
        m = to_centre @ rotate @ shift @ shear_m @ zoom @ from_centre @ flip
        # cos(90 deg) comes out as 6e-17, not 0: snapping such entries (their
        # effect is < 1e-7 px) keeps quarter turns and flips exact
        return xp.where(xp.abs(m - xp.rint(m)) < 1e-9, xp.rint(m), m)
