"""CIFAR-10: 60,000 32x32 colour images in 10 classes (Krizhevsky, 2009).

Read from the official *binary* release, never the Python one: loading never
unpickles, so a tampered download cannot run code. Each batch file holds
records of 1 label byte + 3072 pixel bytes (1024 red, 1024 green, 1024 blue,
each 32x32 row-major), i.e. channels-first; they are returned channels-last.
"""

import numpy as np

from . import _files
from .image_folder import image_folder

# CIFAR's label order (batches.meta.txt of the release).
_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
            "dog", "frog", "horse", "ship", "truck")
_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
_TEST = "test_batch.bin"
_RECORD = 1 + 3 * 32 * 32
_RECORDS_PER_BATCH = 10000
_TARBALL = "cifar-10-binary.tar.gz"
_FOLDER = "cifar-10-batches-bin"
_JPEG_COPY = ("cifar10-jpg.tar.gz", "cifar10-jpg")
# The JPEG copy's samples are returned in the order
# default_rng(_JPEG_COPY_ORDER_SEED).permutation(n) of the class-sorted files.
# NumPy keeps PCG64's stream and permutation's algorithm fixed across versions
# (NEP 19), so the order is the same everywhere; changing the seed changes a
# documented order.
_JPEG_COPY_ORDER_SEED = 2009

_DATASET = _files.Dataset(
    name="cifar10",
    folder="cifar-10",
    # md5 of the tarball as published on the CIFAR page.
    files={_TARBALL: _files.Checksum(None, "c32a1d4ab5d03f1284b67883e8d87530")},
    mirrors=("https://www.cs.toronto.edu/~kriz/",),
)


def load_data(path=None, download=True):
    """Load CIFAR-10 as Keras 2's ``keras.datasets.cifar10.load_data()`` does.

    Returns ``(x_train, y_train), (x_test, y_test)``:
      x_train: (50000, 32, 32, 3) uint8 (N, H, W, C), RGB
      y_train: (50000, 1) uint8, classes 0..9 (airplane, automobile, bird,
               cat, deer, dog, frog, horse, ship, truck)
      x_test:  (10000, 32, 32, 3) uint8;  y_test: (10000, 1) uint8

    path: a directory holding ``cifar-10-binary.tar.gz`` or its extracted
      ``cifar-10-batches-bin/``, in a subfolder ``cifar-10/`` or directly;
      defaults to MINIDL_DATA.
    download: fetch the release (170 MB) into the cache if found nowhere.

    Search order: ``path``/MINIDL_DATA, the cache, download. Last resort: a
    JPEG re-encoding ``cifar10-jpg.tar.gz`` (or extracted ``cifar10-jpg/``,
    holding train/<class>/*.jpg and test/<class>/*.jpg) in the data
    directory, decoded with ``image_folder`` and cached; it warns, since its
    pixels differ slightly from the official ones. The copy is stored by
    class, so its training and test sets are each returned in a fixed
    shuffled order, ``np.random.default_rng(2009).permutation(n)`` of the
    class-sorted samples (the same on every machine): the official order is
    lost, but ``validation_split`` and first-N subsets still see every class.
    """
    caller = "cifar10.load_data"
    try:
        where, batches = _files.fetch(
            _DATASET, (_TARBALL, _FOLDER), _read_release, path=path, download=download,
            caller=caller, download_name=_TARBALL)
    except _files.DatasetNotFoundError as err:
        return _load_jpeg_copy(err, path, caller)
    train = [_parse_batch(batches[name], f"{where}:{name}") for name in _TRAIN]
    x_test, y_test = _parse_batch(batches[_TEST], f"{where}:{_TEST}")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return (x_train, y_train.reshape(-1, 1)), (x_test, y_test.reshape(-1, 1))


def _parse_batch(data, name="<bytes>"):
    """One binary batch -> x (N, 32, 32, 3) uint8, y (N,) uint8."""
    if len(data) == 0 or len(data) % _RECORD:
        raise ValueError(f"cifar10: {name}: {len(data)} bytes is not a whole number of "
                         f"{_RECORD}-byte records (1 label + 3x32x32 pixels)")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, _RECORD)
    y = records[:, 0].copy()
    if y.max() > 9:
        raise ValueError(f"cifar10: {name}: label {int(y.max())} out of range 0..9; "
                         f"is this the CIFAR-100 release?")
    x = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)   # CHW -> HWC
    return np.ascontiguousarray(x), y


def _read_release(where):
    """The six batch files' bytes by name, from the tarball (md5-checked) or
    an extracted folder (size-checked)."""
    return _files.read_release_files(
        where, {name: _RECORDS_PER_BATCH * _RECORD for name in _TRAIN + (_TEST,)},
        _DATASET.files[_TARBALL].md5)


def _load_jpeg_copy(err, path, caller):
    user, _ = _files.data_dir(path, caller)
    dirs = [user / _DATASET.folder, user] if user is not None else []
    for d in dirs:
        for name in _JPEG_COPY:
            if (d / name).exists():
                return _decode_jpeg_copy(d / name)
    looked = err.looked + [f"JPEG copy {d}: no {' or '.join(_JPEG_COPY)}" for d in dirs]
    raise _files.DatasetNotFoundError(err.caller, err.what, looked, err.hint) from None


def _decode_jpeg_copy(source):
    _files.warn(
        f"cifar10.load_data: the official binary release was not found; using the JPEG "
        f"re-encoding {source}. Its pixels differ slightly from the official release "
        f"(JPEG quality ~75), so accuracies are close to, not equal with, published ones. "
        f"The copy is stored by class; its train and test samples are returned in a fixed "
        f"shuffled order (numpy.random.default_rng({_JPEG_COPY_ORDER_SEED}).permutation of the "
        f"class-sorted files), not the release's order.")
    out = []
    for subset in ("train", "test"):
        x, y, _ = image_folder(source, subset=subset, classes=list(_CLASSES))
        if x.shape[1:] != (32, 32, 3):
            raise ValueError(f"cifar10.load_data: {source} {subset}/ holds {x.shape[1:]} "
                             f"images, expected (32, 32, 3)")
        order = np.random.default_rng(_JPEG_COPY_ORDER_SEED).permutation(len(x))
        out.append((x[order], y.astype(np.uint8)[order].reshape(-1, 1)))
    return tuple(out)
