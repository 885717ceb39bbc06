"""Endless batch iterators of ImageDataGenerator: ``Iterator`` (the protocol)
and ``NumpyArrayIterator`` (``datagen.flow(x, y)``).

The protocol is Keras's (keras-preprocessing 1.1.2 iterator.py, the
ImageDataGenerator of Keras 2.2-2.3): ``next(it)`` gives the next batch
forever, each epoch visiting every sample once in a fresh order when
``shuffle``, the last batch of an epoch partial; ``len(it)`` is the number of
batches per epoch, so ``model.fit_generator(it, steps_per_epoch=len(it))``
and ``model.fit(it)`` work; ``it[i]`` is batch i of the current order;
``reset()`` starts the epoch again; ``n``, ``batch_size``, ``shuffle``,
``seed``, ``batch_index``, ``total_batches_seen`` and ``index_array`` as in
Keras. Random draws (order and augmentation) come from one generator on the
active device: a fresh one seeded by ``seed``, else minidl's (``minidl.seed``).
"""
import math
import numbers

import numpy as np

from .. import backend

__all__ = ["Iterator", "NumpyArrayIterator"]


def _check_batch_size_and_seed(batch_size, seed, where):
    if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) \
            or batch_size <= 0:
        raise ValueError(f"{where}: batch_size must be a positive int, received {batch_size!r}")
    if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
        raise TypeError(f"{where}: seed must be an int or None, received {seed!r}")


def _check_subset(subset, where):
    if subset not in (None, "training", "validation"):
        raise ValueError(f"{where}: subset must be 'training', 'validation' or None, "
                         f"received {subset!r}")


def _refuse_saving(save_to_dir, where):
    if save_to_dir is not None:
        raise ValueError(
            f"{where}: save_to_dir={save_to_dir!r} is not supported by minidl (batches stay on "
            f"the device); save images yourself, e.g. with PIL.Image.fromarray on "
            f"minidl.backend.to_numpy(batch)[i]")


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


def _processes():
    """How many processes train together (1 without minidl.distributed)."""
    from .. import distributed
    return distributed.size()


class Iterator:
    """Base of the batch iterators: subclasses give ``_get_batch(index)``.

    n: number of samples; batch_size; shuffle: a new random order per epoch;
    seed: int for a repeatable stream, None for minidl's generator.
    """

    def __init__(self, n, batch_size, shuffle, seed):
        self.n, self.batch_size = int(n), int(batch_size)
        self.shuffle, self.seed = bool(shuffle), seed
        self.batch_index = 0
        self.total_batches_seen = 0
        self.index_array = None
        self._rng = None if seed is None else backend.array_module().random.default_rng(int(seed))

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __iter__(self):
        return self

    def __next__(self):
        # keras-preprocessing 1.1.2 Iterator._flow_index: a new order at each epoch start
        if self.batch_index == 0:
            self._set_index_array()
        start = self.batch_index * self.batch_size
        index = self.index_array[start:start + self.batch_size]
        self.batch_index = self.batch_index + 1 if start + self.batch_size < self.n else 0
        self.total_batches_seen += 1
        return self._get_batch(index)

    next = __next__  # Keras 2 iterators also answer it.next()

    def __getitem__(self, idx):
        """Batch ``idx`` of the current epoch's order (Keras Sequence style)."""
        if not isinstance(idx, numbers.Integral) or not 0 <= idx < len(self):
            raise IndexError(f"{type(self).__name__}: batch {idx!r} asked, there are {len(self)}")
        if self.index_array is None:
            self._set_index_array()
        self.total_batches_seen += 1
        return self._get_batch(self.index_array[idx * self.batch_size:(idx + 1) * self.batch_size])

    def on_epoch_end(self):
        self._set_index_array()

    def get_state(self):
        """Position, order and own generator: BackupAndRestore resumes the stream
        exactly where it was (a flow runs across fit's epochs)."""
        return {"batch_index": self.batch_index, "total_batches_seen": self.total_batches_seen,
                "index_array": self.index_array,
                "rng": None if self._rng is None else backend.generator_state(self._rng)}

    def set_state(self, state):
        self.batch_index = int(state["batch_index"])
        self.total_batches_seen = int(state["total_batches_seen"])
        self.index_array = (None if state["index_array"] is None
                            else backend.asarray(state["index_array"]))
        if state["rng"] is not None:
            backend.set_generator_state(self._rng, state["rng"])

    def reset(self):
        self.batch_index = 0

    def _generator(self):
        # looked up per batch so that minidl.seed(n) after flow() still counts
        return self._rng if self._rng is not None else backend.rng()

    def _set_index_array(self):
        xp = backend.array_module()
        if self.shuffle and self._rng is None and _processes() > 1:
            # minidl.distributed: every process must see the same order (then takes its
            # slice of each batch); its augmentation stays its own (backend.rng())
            order = np.argsort(backend.data_rng().random(self.n))
            self.index_array = backend.asarray(order)
        elif self.shuffle:
            self.index_array = xp.argsort(self._generator().random(self.n, dtype=np.float64))
        else:
            self.index_array = xp.arange(self.n)

    def _get_batch(self, index):
        raise NotImplementedError


class NumpyArrayIterator(Iterator):
    """Batches of (x, y) from arrays, augmented by an ImageDataGenerator; endless.

    x: (N, H, W, C) images (uint8 stays uint8 on the device until batched);
    y: (N, ...) labels or None. ``subset`` 'validation' keeps the first
    ``int(N * validation_split)`` samples, 'training' the rest
    (keras-preprocessing 1.1.2 numpy_array_iterator.py). Yields
    (x_batch, y_batch), or x_batch alone when y is None, as arrays of the
    active device; x_batch is the generator's dtype (floatx by default).
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, data_format=None, save_to_dir=None,
                 save_prefix="", save_format="png", subset=None, dtype=None):
        where = "ImageDataGenerator.flow"
        _check_images(x, where)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{where}: minidl is channels-last; data_format must be "
                             f"'channels_last' or None, received {data_format!r}")
        if sample_weight is not None:
            raise ValueError(f"{where}: sample_weight is not supported: minidl's fit does not "
                             f"weight samples")
        _refuse_saving(save_to_dir, where)
        _check_batch_size_and_seed(batch_size, seed, where)
        _check_subset(subset, where)
        if y is not None:
            if not hasattr(y, "shape"):
                y = np.asarray(y)
            if len(y) != len(x):
                raise ValueError(f"{where}: x and y must have the same length, received "
                                 f"{len(x)} images and {len(y)} labels")
        if subset is not None:
            x, y = _split(x, y, image_data_generator._validation_split, subset, where)
        self.x = backend.asarray(x)  # moved to the device once
        self.y = None if y is None else backend.asarray(y)
        self.image_data_generator = image_data_generator
        self.dtype = np.dtype(dtype or image_data_generator.dtype or backend.floatx())
        self.subset = subset
        super().__init__(len(x), batch_size, shuffle, seed)

    def _get_batch(self, index):
        xb = self.image_data_generator._transform_batch(
            self.x[index].astype(self.dtype), self._generator())
        return xb if self.y is None else (xb, self.y[index])


def _split(x, y, validation_split, subset, where):
    """keras-preprocessing 1.1.2: validation = the first int(N * split) samples."""
    split = int(len(x) * validation_split)
    if subset == "validation" and split == 0:
        raise ValueError(
            f"{where}: subset='validation' is empty: int({len(x)} * validation_split="
            f"{validation_split}) = 0; set ImageDataGenerator(validation_split=...) above "
            f"{1 / len(x) if len(x) else 0:.3g}")
    if y is not None and split > 0:
        y_host = backend.to_numpy(y)
        if not np.array_equal(np.unique(y_host[:split]), np.unique(y_host[split:])):
            raise ValueError(
                f"{where}: the training and validation subsets hold different classes after the "
                f"split (validation = the first {split} samples); if x is sorted by label, "
                f"shuffle x and y first")
    if subset == "validation":
        return x[:split], None if y is None else y[:split]
    return x[split:], None if y is None else y[split:]
