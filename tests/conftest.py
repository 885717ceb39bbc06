"""Shared fixtures: the backends to run on, and where real data lives.

Every backend test runs on NumPy, and on CuPy when a GPU is visible (it is
skipped with the reason otherwise). Without a GPU, ``MINIDL_CUPY_STANDIN=1``
(or ``pytest --cupy-standin``; CI sets it) runs the CuPy half on the strict
CuPy stand-in of ``tests/cupy_standin``, installed here as ``cupy`` before
minidl's backend looks for CuPy. Real-data tests read the datasets from
``MINIDL_DATA`` (CI points it at ../shared/data) and are skipped without it.
"""
import os
import sys

import numpy as np
import pytest

_STANDIN_ENV = "MINIDL_CUPY_STANDIN"


def _install_cupy_standin():
    """Put the CuPy stand-in into sys.modules as ``cupy`` (tests/cupy_standin)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import cupy_standin
    cupy_standin.install()


if os.environ.get(_STANDIN_ENV, "").strip() not in ("", "0"):
    _install_cupy_standin()

from minidl import backend as K  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--cupy-standin", action="store_true",
                     help="run the CuPy tests on the strict CuPy stand-in (tests/cupy_standin) "
                          f"instead of a GPU; same as {_STANDIN_ENV}=1")
    parser.addoption("--only-device-free", action="store_true",
                     help="run only the tests that choose no backend themselves (no xp or "
                          "child_device fixture): CI's second pass runs them on the GPU device")


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--only-device-free"):
        return
    chosen = [i for i in items
              if not {"xp", "child_device", "device"} & set(getattr(i, "fixturenames", ()))]
    config.hook.pytest_deselected(items=[i for i in items if i not in chosen])
    items[:] = chosen


def pytest_configure(config):
    if config.getoption("--cupy-standin") and "cupy_standin" not in sys.modules:
        os.environ[_STANDIN_ENV] = "1"
        _install_cupy_standin()


def cupy_standin_active():
    """True when the CuPy tests run on the stand-in (no real GPU behind ``cupy``)."""
    mod = sys.modules.get("cupy_standin")
    return mod is not None and mod.installed()


def python_argv(*args):
    """The command that runs ``python *args`` (a script, or ``-m module``) in a child
    process the way this session runs: with the CuPy stand-in installed first when
    it is on, so that a child told MINIDL_DEVICE=gpu finds its "GPU"."""
    if not cupy_standin_active():
        return [sys.executable, *args]
    boot = ("import runpy, sys; sys.path.insert(0, %r); import cupy_standin; "
            "cupy_standin.install(); args = sys.argv[1:]; "
            "sys.argv = args[1:] if args[0] == '-m' else args; "
            "runpy.run_module(args[1], run_name='__main__', alter_sys=True) if args[0] == '-m' "
            "else runpy.run_path(args[0], run_name='__main__')"
            % os.path.dirname(os.path.abspath(__file__)))
    return [sys.executable, "-c", boot, *args]


DEVICES = ["cpu", "gpu"]


@pytest.fixture(params=DEVICES)
def child_device(request):
    """A device for a child process: 'cpu', and 'gpu' where a GPU or the stand-in is."""
    if request.param == "gpu" and not K.gpu_available():
        pytest.skip("GPU: no GPU visible (CuPy missing or no CUDA device)")
    return request.param


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
