"""Shared fixtures: the backends to run on, and where real data lives.

Every backend test runs on NumPy, and on CuPy when a GPU is visible (it is
skipped with the reason otherwise). Real-data tests read the datasets from
``MINIDL_DATA`` (CI points it at ../shared/data) and are skipped without it.
"""
import os

import numpy as np
import pytest

from minidl import backend as K

BACKENDS = ["numpy", "cupy"]


@pytest.fixture(params=BACKENDS)
def xp(request):
    """The array module under test, made the active device for the test."""
    saved_device, saved_floatx = K.device(), K.floatx()
    if request.param == "cupy":
        if not K.gpu_available():
            pytest.skip("CuPy backend: no GPU visible (CuPy missing or no CUDA device)")
        K.set_device("gpu")
    else:
        K.set_device("cpu")
    try:
        yield K.array_module()
    finally:
        K.set_device(saved_device)
        K.set_floatx(saved_floatx)


@pytest.fixture(autouse=True)
def _restore_backend_state():
    saved = K.floatx(), K.epsilon()
    yield
    K.set_floatx(saved[0])
    K.set_epsilon(saved[1])


def data_dir():
    path = os.environ.get("MINIDL_DATA")
    return path if path and os.path.isdir(path) else None


@pytest.fixture
def fashion_mnist_small():
    """4,000 train and 1,000 test Fashion-MNIST images, (N, 28, 28, 1) floats in [0, 1]."""
    if data_dir() is None:
        pytest.skip("real data: set MINIDL_DATA to a folder holding fashion-mnist/ (CI does)")
    from minidl.datasets import fashion_mnist
    (x, y), (xt, yt) = fashion_mnist.load_data(download=False)
    prep = lambda a: (a.reshape(-1, 28, 28, 1) / 255.0).astype(np.float32)  # noqa: E731
    return (prep(x[:4000]), y[:4000]), (prep(xt[:1000]), yt[:1000])


@pytest.fixture
def tiny_cifar_jpeg_copy(tmp_path):
    """A data folder holding ``cifar10-jpg/{train,test}/<class>/0.jpg``: one
    32x32 JPEG per class, of red level 25 * label, like the JPEG copy of
    CIFAR-10 that cifar10.load_data falls back to."""
    Image = pytest.importorskip("PIL.Image")
    from minidl.datasets import cifar10
    data = tmp_path / "data"
    for subset in ("train", "test"):
        for label, cls in enumerate(cifar10._CLASSES):
            folder = data / "cifar10-jpg" / subset / cls
            folder.mkdir(parents=True)
            Image.new("RGB", (32, 32), (25 * label, 0, 0)).save(folder / "0.jpg")
    return data
