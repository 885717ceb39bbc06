"""Real-time image augmentation: Keras 2's ImageDataGenerator, one batch at a time.

    datagen = ImageDataGenerator(rotation_range=8, width_shift_range=0.08,
                                 shear_range=0.3, zoom_range=0.08)
    for x_batch, y_batch in datagen.flow(x_train, y_train, batch_size=512):
        ...   # x_batch: (512, 28, 28, 1) floatx, on the active device

Keras draws one random transform per image and calls scipy once per image and
channel. Here all N parameter sets of a batch are drawn at once on the active
device, turned into N matrices, and the batch is resampled in one call
(``transform_batch``: a numba kernel on the CPU, array code on CuPy).

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
  vertical flips (p = 0.5 each), then ``standardize``.

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
* Not implemented: zca_whitening, channel_shift_range, brightness_range,
  preprocessing_function, validation_split, data_format (always channels-last).
"""
import math
import numbers

import numpy as np

from .. import backend
from .affine import _check_fill, transform_batch

__all__ = ["ImageDataGenerator", "NumpyArrayIterator", "transform_batch"]

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


def _check_images(x, where, rank=4):
    """x must be channels-last images; say so when it looks channels-first."""
    shape = getattr(x, "shape", None)
    if shape is None or len(shape) != rank:
        layout = "(N, H, W, C)" if rank == 4 else "(H, W, C)"
        raise ValueError(f"{where}: x must be a rank-{rank} array {layout}, received shape {shape}")
    c_first, c_last = shape[-3], shape[-1]
    if c_first in (1, 3, 4) and c_last not in (1, 3, 4):
        raise ValueError(
            f"{where}: x has shape {tuple(shape)}, which looks channels-first; minidl is "
            f"channels-last (N, H, W, C): pass x.transpose(0, 2, 3, 1)")
    if getattr(x, "dtype", np.dtype(object)).kind not in "iuf":
        raise TypeError(f"{where}: x must hold numbers, received dtype {x.dtype}")


def _matrix(a, b, c, d, e, f):
    """(N, 3, 3) stack of [[a, b, c], [d, e, f], [0, 0, 1]] from (N,) arrays or scalars."""
    xp = backend.get_array_module(a)
    n = a.shape[0]
    m = xp.zeros((n, 3, 3), dtype=np.float64)
    for k, v in enumerate((a, b, c, d, e, f)):
        m[:, k // 3, k % 3] = v
    m[:, 2, 2] = 1.0
    return m


# Keras arguments minidl does not implement, with the values that switch them off:
# Keras code often spells them out at these defaults (study 001 does).
_KERAS_NO_OPS = {"zca_whitening": False, "zca_epsilon": 1e-6, "channel_shift_range": 0.0,
                 "brightness_range": None, "preprocessing_function": None,
                 "data_format": "channels_last", "validation_split": 0.0, "dtype": None}


def _check_unsupported(options):
    for name, value in options.items():
        if name not in _KERAS_NO_OPS:
            raise TypeError(f"ImageDataGenerator: unexpected keyword argument {name!r}")
        if value != _KERAS_NO_OPS[name] and not (name == "data_format" and value is None):
            raise ValueError(
                f"ImageDataGenerator: {name}={value!r} is not supported by minidl "
                f"(only its no-op value {_KERAS_NO_OPS[name]!r} is accepted)")


class ImageDataGenerator:
    """Random affine augmentation and normalization of NHWC image batches.

    Arguments keep their Keras 2 names and defaults (keras-preprocessing 1.1.2):
        featurewise_center, featurewise_std_normalization: subtract the
            per-channel mean / divide by the per-channel std of ``fit(x)``.
        samplewise_center, samplewise_std_normalization: per image, over all
            its pixels and channels.
        rotation_range: degrees. width_shift_range, height_shift_range: see
            the module docstring. shear_range: degrees (or radians, below).
        zoom_range: float z -> [1 - z, 1 + z], or a [lower, upper] pair.
        fill_mode: 'nearest' | 'constant' | 'reflect' | 'wrap'; cval for 'constant'.
        horizontal_flip, vertical_flip: each applied with probability 0.5.
        rescale: multiply by this (e.g. 1/255) before any normalization.
        interpolation_order: 1 bilinear (keras-preprocessing 1.1), 0 nearest (Keras <= 2.1).
    minidl only:
        shear_units: 'degrees' (Keras >= 2.1.3) or 'radians' (Keras <= 2.1.2).
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 rotation_range=0, width_shift_range=0.0, height_shift_range=0.0,
                 shear_range=0.0, zoom_range=0.0, fill_mode="nearest", cval=0.0,
                 horizontal_flip=False, vertical_flip=False, rescale=None,
                 interpolation_order=1, shear_units="degrees", **keras_options):
        # defaults above: keras-preprocessing 1.1.2 (Keras 2.2 - 2.3)
        _check_unsupported(keras_options)
        self.featurewise_center = bool(featurewise_center)
        self.samplewise_center = bool(samplewise_center)
        self.featurewise_std_normalization = bool(featurewise_std_normalization)
        self.samplewise_std_normalization = bool(samplewise_std_normalization)
        self.rotation_range = _number("rotation_range", rotation_range)
        self.width_shift_range = _shift_range("width_shift_range", width_shift_range)
        self.height_shift_range = _shift_range("height_shift_range", height_shift_range)
        self.shear_range = _number("shear_range", shear_range)
        self.zoom_range = _zoom_range(zoom_range)
        _check_fill(fill_mode, interpolation_order, "ImageDataGenerator")
        self.fill_mode, self.interpolation_order = fill_mode, interpolation_order
        self.cval = _number("cval", cval)
        self.horizontal_flip, self.vertical_flip = bool(horizontal_flip), bool(vertical_flip)
        self.rescale = None if rescale is None else _number("rescale", rescale)
        if shear_units not in ("degrees", "radians"):
            raise ValueError(
                f"ImageDataGenerator: shear_units must be 'degrees' or 'radians', "
                f"received {shear_units!r}")
        self.shear_units = shear_units
        self.mean = None  # (1, 1, C) from fit(), when featurewise_center
        self.std = None   # (1, 1, C) from fit(), when featurewise_std_normalization

    # ---------------------------------------------------------- public API ---

    def flow(self, x, y=None, batch_size=32, shuffle=True, seed=None):
        """Endless iterator of augmented, standardized (x_batch, y_batch) on the device."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle, seed=seed)

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Per-channel mean and std of x: (N, H, W, C) over N, H and W, after rescale.

        With ``augment``, the statistics are taken over ``rounds`` randomly
        augmented copies of x instead, as Keras does.
        """
        _check_images(x, "ImageDataGenerator.fit")
        if not isinstance(rounds, numbers.Integral) or rounds < 1:
            raise ValueError(f"ImageDataGenerator.fit: rounds must be an int >= 1, received {rounds!r}")
        x = backend.asarray(x)
        xp = backend.get_array_module(x)
        g = self._generator(seed)
        total = xp.zeros(x.shape[-1], dtype=np.float64)
        total_sq = xp.zeros(x.shape[-1], dtype=np.float64)
        for _ in range(rounds if augment else 1):
            for start in range(0, x.shape[0], _FIT_CHUNK):
                chunk = x[start:start + _FIT_CHUNK].astype(backend.floatx())
                if self.rescale:
                    chunk = chunk * chunk.dtype.type(self.rescale)
                if augment:
                    chunk = self._augment(chunk, g)
                chunk = chunk.astype(np.float64)
                total += chunk.sum(axis=(0, 1, 2))
                total_sq += (chunk * chunk).sum(axis=(0, 1, 2))
        count = x.shape[0] * x.shape[1] * x.shape[2] * (rounds if augment else 1)
        mean = total / count
        # float64 sums of pixel values: E[x^2] - E[x]^2 loses nothing that matters
        std = xp.sqrt(xp.maximum(total_sq / count - mean * mean, 0.0))
        if self.featurewise_center:
            self.mean = mean.astype(backend.floatx()).reshape(1, 1, -1)
        if self.featurewise_std_normalization:
            self.std = std.astype(backend.floatx()).reshape(1, 1, -1)
        return self

    def standardize(self, x):
        """rescale, then samplewise, then featurewise normalization.

        x: one image (H, W, C) or a batch (N, H, W, C); returns a new array.
        """
        axes = tuple(range(x.ndim - 3, x.ndim))  # one image's pixels and channels
        if self.rescale:  # Keras tests truthiness: rescale=0 means none
            x = x * x.dtype.type(self.rescale)
        if self.samplewise_center:
            x = x - x.mean(axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            x = x / (x.std(axis=axes, keepdims=True) + x.dtype.type(_STD_FUZZ))
        if self.featurewise_center:
            if self.mean is None:
                raise RuntimeError(
                    "ImageDataGenerator.standardize: featurewise_center=True needs the "
                    "dataset mean; call datagen.fit(x_train) first")
            x = x - self.mean.astype(x.dtype)
        if self.featurewise_std_normalization:
            if self.std is None:
                raise RuntimeError(
                    "ImageDataGenerator.standardize: featurewise_std_normalization=True "
                    "needs the dataset std; call datagen.fit(x_train) first")
            x = x / (self.std.astype(x.dtype) + x.dtype.type(_STD_FUZZ))
        return x

    def random_transform(self, x, seed=None):
        """One image x: (H, W, C) -> a randomly transformed copy (not standardized)."""
        _check_images(x, "ImageDataGenerator.random_transform", rank=3)
        x = backend.asarray(x)
        batch = x[None].astype(x.dtype if x.dtype.kind == "f" else backend.floatx())
        return self._augment(batch, self._generator(seed))[0]

    def get_random_transform(self, img_shape, seed=None):
        """Keras's parameter dict for one image of shape (H, W, C), as Python numbers."""
        params = self._draw(1, img_shape[0], img_shape[1], self._generator(seed))
        out = {k: float(backend.to_numpy(v)[0]) for k, v in params.items()}
        out["flip_horizontal"] = bool(out["flip_horizontal"])
        out["flip_vertical"] = bool(out["flip_vertical"])
        return out

    def apply_transform(self, x, transform_parameters):
        """One image x: (H, W, C) through Keras's parameter dict.

        Keys (missing ones mean no change): 'theta' (degrees), 'tx' (rows),
        'ty' (columns), 'shear' (in ``shear_units``), 'zx' (rows), 'zy'
        (columns), 'flip_horizontal', 'flip_vertical'.
        """
        _check_images(x, "ImageDataGenerator.apply_transform", rank=3)
        x = backend.asarray(x)
        xp = backend.get_array_module(x)
        defaults = {"theta": 0.0, "tx": 0.0, "ty": 0.0, "shear": 0.0, "zx": 1.0, "zy": 1.0,
                    "flip_horizontal": False, "flip_vertical": False}
        # Keras's dict also carries these two, None when unused; minidl has neither
        unknown = {k for k, v in transform_parameters.items() if k not in defaults and not (
            k in ("channel_shift_intensity", "brightness") and v is None)}
        if unknown:
            raise ValueError(
                f"ImageDataGenerator.apply_transform: unsupported keys {sorted(unknown)}; "
                f"expected some of {sorted(defaults)}")
        params = {k: xp.asarray([float(transform_parameters.get(k, v))], dtype=np.float64)
                  for k, v in defaults.items()}
        batch = x[None].astype(x.dtype if x.dtype.kind == "f" else backend.floatx())
        m = self._matrices(params, x.shape[0], x.shape[1])
        return transform_batch(batch, m, self.fill_mode, self.cval, self.interpolation_order)[0]

    # ------------------------------------------------------------ internals ---

    def _generator(self, seed):
        """A fresh seeded Generator on the device, else minidl's (minidl.seed)."""
        if seed is None:
            return backend.rng()
        return backend.array_module().random.default_rng(int(seed))

    def _warps(self):
        return bool(self.rotation_range or self.width_shift_range or self.height_shift_range
                    or self.shear_range or self.zoom_range != (1.0, 1.0)
                    or self.horizontal_flip or self.vertical_flip)

    def _augment(self, x, g):
        """x: (N, H, W, C) float on the device -> augmented copy (x itself if no-op)."""
        if not self._warps():
            return x
        params = self._draw(x.shape[0], x.shape[1], x.shape[2], g)
        m = self._matrices(params, x.shape[1], x.shape[2])
        return transform_batch(x, m, self.fill_mode, self.cval, self.interpolation_order)

    def _draw(self, n, h, w, g):
        """N random parameter sets at once: dict of (N,) float64 device arrays."""
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
        return {
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


class NumpyArrayIterator:
    """Batches of (x, y) from arrays, augmented by an ImageDataGenerator; endless.

    x: (N, H, W, C) images (uint8 stays uint8 on the device until batched);
    y: (N, ...) labels or None. Each epoch visits every sample once in a
    fresh random order (``shuffle``); the last batch of an epoch is partial;
    ``len()`` is the number of batches per epoch. Yields (x_batch, y_batch),
    or x_batch alone when y is None, as arrays of the active device.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=True, seed=None):
        _check_images(x, "ImageDataGenerator.flow")
        if y is not None:
            if not hasattr(y, "shape"):
                y = np.asarray(y)
            if len(y) != len(x):
                raise ValueError(
                    f"ImageDataGenerator.flow: x and y must have the same length, received "
                    f"{len(x)} images and {len(y)} labels")
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) \
                or batch_size <= 0:
            raise ValueError(
                f"ImageDataGenerator.flow: batch_size must be a positive int, received {batch_size!r}")
        if seed is not None and not isinstance(seed, numbers.Integral):
            raise TypeError(f"ImageDataGenerator.flow: seed must be an int or None, received {seed!r}")
        self.x = backend.asarray(x)  # moved to the device once
        self.y = None if y is None else backend.asarray(y)
        self.image_data_generator = image_data_generator
        self.n, self.batch_size, self.shuffle, self.seed = len(x), int(batch_size), bool(shuffle), seed
        self.batch_index = 0
        self.total_batches_seen = 0
        self._rng = None if seed is None else image_data_generator._generator(seed)
        self._index_array = None

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __iter__(self):
        return self

    def __next__(self):
        if self.batch_index == 0:
            self._set_index_array()
        start = self.batch_index * self.batch_size
        index = self._index_array[start:start + self.batch_size]
        self.batch_index = self.batch_index + 1 if start + self.batch_size < self.n else 0
        self.total_batches_seen += 1
        return self._batch(index)

    def __getitem__(self, idx):
        """Batch ``idx`` of the current epoch's order (Keras Sequence style)."""
        if not 0 <= idx < len(self):
            raise IndexError(f"NumpyArrayIterator: batch {idx} asked, there are {len(self)}")
        if self._index_array is None:
            self._set_index_array()
        self.total_batches_seen += 1
        return self._batch(self._index_array[idx * self.batch_size:(idx + 1) * self.batch_size])

    def on_epoch_end(self):
        self._set_index_array()

    def reset(self):
        self.batch_index = 0

    def _generator(self):
        # looked up per batch so that minidl.seed(n) after flow() still counts
        return self._rng if self._rng is not None else backend.rng()

    def _set_index_array(self):
        xp = backend.get_array_module(self.x)
        if self.shuffle:
            self._index_array = xp.argsort(self._generator().random(self.n, dtype=np.float64))
        else:
            self._index_array = xp.arange(self.n)

    def _batch(self, index):
        gen = self.image_data_generator
        xb = self.x[index].astype(backend.floatx())
        xb = gen.standardize(gen._augment(xb, self._generator()))
        return xb if self.y is None else (xb, self.y[index])
