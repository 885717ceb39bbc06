"""Datasets as NumPy arrays, Keras style::

    from minidl.datasets import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()

Files are looked for in the directory named by ``path=`` or MINIDL_DATA, then
in minidl's cache (MINIDL_CACHE, default ~/.cache/minidl), then in a system
copy, and are otherwise downloaded from the official mirrors; every file is
checked against known checksums (see ``_files``).
"""
from . import cifar10, cifar100, fashion_mnist, mnist
from ._files import ChecksumError, DatasetNotFoundError
from .batches import ArrayIterator
from .image_folder import image_folder
from .split import train_val_split

_LOADERS = {"mnist": mnist, "fashion_mnist": fashion_mnist, "cifar10": cifar10,
            "cifar100": cifar100}


def load(name, **kwargs):
    """``load('mnist', path=None, download=True)`` is ``mnist.load_data(...)``;
    names: 'mnist', 'fashion_mnist', 'cifar10', 'cifar100' ('-' may replace
    '_'); e.g. ``load('cifar100', label_mode='coarse')``."""
    if not isinstance(name, str):
        raise TypeError(f"datasets.load: name must be a str, received {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    key = {"cifar_10": "cifar10", "cifar_100": "cifar100",
           "fashionmnist": "fashion_mnist"}.get(key, key)
    if key not in _LOADERS:
        raise ValueError(f"datasets.load: unknown dataset {name!r}; available: "
                         f"{', '.join(sorted(_LOADERS))}")
    return _LOADERS[key].load_data(**kwargs)


def __getattr__(name):
    raise AttributeError(f"module 'minidl.datasets' has no attribute {name!r}; the datasets "
                         f"are {', '.join(sorted(_LOADERS))} (also image_folder for your own images)")
