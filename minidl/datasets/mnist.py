"""MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grey."""
from . import _files
from .idx import _load_idx_dataset

# md5s of the uncompressed IDX files, as published with the original release;
# checking the content, not the .gz, accepts any faithful recompression.
_DATASET = _files.Dataset(
    name="mnist",
    folder="mnist",
    files={
        "train-images-idx3-ubyte": _files.Checksum(47040016, "6bbc9ace898e44ae57da46a324031adb"),
        "train-labels-idx1-ubyte": _files.Checksum(60008, "a25bea736e30d166cdddb491f175f624"),
        "t10k-images-idx3-ubyte": _files.Checksum(7840016, "2646ac647ad5339dbf082846283269ea"),
        "t10k-labels-idx1-ubyte": _files.Checksum(10008, "27ae3e4e09519cfbb04c329615203637"),
    },
    # yann.lecun.com no longer serves the files reliably; these are the
    # mirrors PyTorch and TensorFlow's datasets use.
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
             "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    # Debian ships no MNIST package (checked on bookworm: `apt-cache search mnist`
    # finds only dataset-fashion-mnist), hence no system_dirs/debian_package.
)


def load_data(path=None, download=True):
    """Load MNIST as Keras 2's ``keras.datasets.mnist.load_data()`` does.

    Returns ``(x_train, y_train), (x_test, y_test)``:
      x_train: (60000, 28, 28) uint8, pixels 0..255
      y_train: (60000,) uint8, digits 0..9
      x_test:  (10000, 28, 28) uint8;  y_test: (10000,) uint8

    path: a directory holding the four IDX files (``train-images-idx3-ubyte``
      and so on, ``.gz`` or not), in a subfolder ``mnist/`` or directly.
      Defaults to the environment variable MINIDL_DATA. Unlike Keras's
      ``path`` (a file name inside ~/.keras), this names a directory.
    download: fetch missing files from the official mirrors into the cache.

    Search order: ``path``/MINIDL_DATA, the cache (MINIDL_CACHE), download.
    Every file is checked against its md5 before use.
    """
    return _load_idx_dataset(_DATASET, path, download, "mnist.load_data")
