"""Fashion-MNIST (Zalando): 70,000 28x28 grey images of 10 kinds of clothing,
a drop-in replacement for MNIST. Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover,
3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot."""
from . import _files
from .idx import _load_idx_dataset

# size/md5 of the *uncompressed* files, computed from Debian's package
# dataset-fashion-mnist 0.0~git20200523.55506a9-1 (the zalandoresearch files);
# gz_md5: the md5s of the official .gz downloads, from the zalando README.
_DATASET = _files.Dataset(
    name="fashion_mnist",
    folder="fashion-mnist",
    files={
        "train-images-idx3-ubyte": _files.Checksum(
            47040016, "f4a8712d7a061bf5bd6d2ca38dc4d50a", ("8d4fb7e6c68d591d4c3dfef9ec88bf0d",)),
        "train-labels-idx1-ubyte": _files.Checksum(
            60008, "9018921c3c673c538a1fc5bad174d6f9", ("25c81989df183df01b3e8a0aad5dffbe",)),
        "t10k-images-idx3-ubyte": _files.Checksum(
            7840016, "8181f5470baa50b63fa0f6fddb340f0a", ("bef4ecab320f06d8554ea6380940ec79",)),
        "t10k-labels-idx1-ubyte": _files.Checksum(
            10008, "15d484375f8d13e6eb1aabb0c3f46965", ("bb300cfdad3c16e7a12a480ee83cd310",)),
    },
    # S3 *website* endpoints serve plain http only; the md5 check is what
    # makes the download trustworthy.
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
             "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
    # Installed, when the mirrors fail, if apt-get may run without a password
    # (package checked in Debian 12 bookworm; see system_packages).
    debian_package="dataset-fashion-mnist",
)


def load_data(path=None, download=True):
    """Load Fashion-MNIST as Keras 2's ``keras.datasets.fashion_mnist.load_data()``.

    Returns ``(x_train, y_train), (x_test, y_test)``:
      x_train: (60000, 28, 28) uint8;  y_train: (60000,) uint8, classes 0..9
      x_test:  (10000, 28, 28) uint8;  y_test: (10000,) uint8

    path: a directory holding the four IDX files, in a subfolder
      ``fashion-mnist/`` or directly; defaults to MINIDL_DATA.
    download: fetch missing files from the official mirrors into the cache.

    Search order: ``path``/MINIDL_DATA, the cache (MINIDL_CACHE), Debian's
    ``/usr/share/datasets/fashion-mnist``, download. When all of these fail
    and apt-get can run as root (or through ``sudo -n``), Debian's package
    ``dataset-fashion-mnist`` is installed (said on stderr first; set
    MINIDL_NO_APT=1 to prevent it); else the error names the command.
    Every file is checked.
    """
    return _load_idx_dataset(_DATASET, path, download, "fashion_mnist.load_data")
