"""CIFAR-100: 60,000 32x32 colour images in 100 classes grouped into 20
superclasses (Krizhevsky, 2009).

Read from the official *binary* release, never the Python one: loading never
unpickles, so a tampered download cannot run code. ``train.bin`` (50,000
records) and ``test.bin`` (10,000) hold records of 1 coarse label byte
(superclass 0..19), 1 fine label byte (class 0..99) and 3072 pixel bytes
(1024 red, 1024 green, 1024 blue, each 32x32 row-major), i.e. channels-first;
they are returned channels-last.
"""

import numpy as np

from . import _files

_TRAIN = "train.bin"
_TEST = "test.bin"
_PIXELS = 3 * 32 * 32
_RECORD = 2 + _PIXELS
_RECORDS = {_TRAIN: 50000, _TEST: 10000}
_TARBALL = "cifar-100-binary.tar.gz"
_FOLDER = "cifar-100-binary"
# label byte within a record, and the number of classes, per label_mode
_LABELS = {"coarse": (0, 20), "fine": (1, 100)}

_DATASET = _files.Dataset(
    name="cifar100",
    folder="cifar-100",
    # md5 of the tarball as published on the CIFAR page (www.cs.toronto.edu/~kriz/cifar.html).
    files={_TARBALL: _files.Checksum(None, "03b5dce01913d631647c71ecec9e9cb8")},
    mirrors=("https://www.cs.toronto.edu/~kriz/",),
)


def load_data(label_mode="fine", path=None, download=True):
    """Load CIFAR-100 as Keras 2's ``keras.datasets.cifar100.load_data()`` does.

    label_mode: 'fine' (the 100 classes) or 'coarse' (the 20 superclasses).

    Returns ``(x_train, y_train), (x_test, y_test)``:
      x_train: (50000, 32, 32, 3) uint8 (N, H, W, C), RGB
      y_train: (50000, 1) int64, classes 0..99 (fine) or 0..19 (coarse)
      x_test:  (10000, 32, 32, 3) uint8;  y_test: (10000, 1) int64
    The labels are int64 as Keras 2.2.4's (datasets/cifar100.py reshapes a
    Python list), unlike CIFAR-10's uint8 ones.

    path: a directory holding ``cifar-100-binary.tar.gz`` or its extracted
      ``cifar-100-binary/``, in a subfolder ``cifar-100/`` or directly;
      defaults to MINIDL_DATA.
    download: fetch the release (161 MB) into the cache if found nowhere.

    Search order: ``path``/MINIDL_DATA, the cache, download.
    """
    if not isinstance(label_mode, str) or label_mode not in _LABELS:
        raise ValueError(f"cifar100.load_data: label_mode must be 'fine' or 'coarse', "
                         f"received {label_mode!r}")
    where, files = _files.fetch(
        _DATASET, (_TARBALL, _FOLDER), _read_release, path=path, download=download,
        caller="cifar100.load_data", download_name=_TARBALL)
    return tuple(_parse(files[name], label_mode, f"{where}:{name}") for name in (_TRAIN, _TEST))


def _parse(data, label_mode, name="<bytes>"):
    """Binary records -> x (N, 32, 32, 3) uint8, y (N, 1) int64 of ``label_mode``."""
    if len(data) == 0 or len(data) % _RECORD:
        raise ValueError(f"cifar100: {name}: {len(data)} bytes is not a whole number of "
                         f"{_RECORD}-byte records (coarse label, fine label, 3x32x32 pixels)")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, _RECORD)
    for mode, (column, classes) in _LABELS.items():
        top = int(records[:, column].max())
        if top >= classes:
            raise ValueError(f"cifar100: {name}: {mode} label {top} out of range "
                             f"0..{classes - 1}; is this the CIFAR-100 binary release?")
    column, _ = _LABELS[label_mode]
    y = records[:, column].astype(np.int64).reshape(-1, 1)
    x = records[:, 2:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)   # CHW -> HWC
    return np.ascontiguousarray(x), y


def _read_release(where):
    """train.bin's and test.bin's bytes by name, from the tarball (md5-checked)
    or an extracted folder (size-checked)."""
    return _files.read_release_files(
        where, {name: records * _RECORD for name, records in _RECORDS.items()},
        _DATASET.files[_TARBALL].md5)
