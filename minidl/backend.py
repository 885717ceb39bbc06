"""The one place that knows about CuPy.

Every layer asks the array it receives which library it lives in
(``get_array_module(x)``, Chainer's idea) and is written once against that
module, called ``xp`` by convention. This module decides which library new
arrays are created in (the *device*), holds the float type, and owns the
random number generators, so that ``minidl.seed(n)`` makes a run repeatable.

Device choice, in order: ``set_device()``, the environment variable
``MINIDL_DEVICE=cpu|gpu``, then automatic (CuPy when it imports and sees a
GPU, NumPy otherwise).
"""
import os

# numba's OpenMP threads otherwise spin after every parallel kernel and take
# the cores from the BLAS threads of the next matrix product: 7x slower when
# the two alternate, as they do in every layer. Only a default: an explicit
# setting wins. (Read when the OpenMP runtime starts, i.e. at the first kernel.)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import ctypes  # noqa: E402

import numpy as np  # noqa: E402


def _keep_freed_memory():
    """Ask glibc to recycle freed memory instead of returning it to the system.

    A training step allocates and frees the same large arrays every time. By
    default glibc maps each one over 32 MiB afresh and unmaps it when freed,
    so every step pays a page fault per 4 KiB page touched (measured 7-25%
    of a step for the studies' CNNs). Keeping freed memory in the heap makes
    the next step reuse it; the process then holds on to its peak memory, as
    PyTorch's caching allocators do. ``MINIDL_MALLOC=system`` keeps glibc's
    defaults. A no-op where libc is not glibc.
    """
    if os.environ.get("MINIDL_MALLOC", "").lower() == "system":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_max = -1, -4  # from glibc's malloc.h
        return bool(libc.mallopt(m_mmap_max, 0) and libc.mallopt(m_trim_threshold, 1 << 30))
    except (OSError, AttributeError):
        return False


MALLOC_TUNED = _keep_freed_memory()

_FLOATX_CHOICES = ("float16", "float32", "float64")

_state = {
    "device": None,          # 'cpu' | 'gpu', decided lazily
    "floatx": "float32",     # Keras 2 default
    "epsilon": 1e-7,         # Keras >= 2.1.3 K.epsilon()
    "seed": None,
    "host_rng": None,        # numpy Generator: initializers, host-side draws
    "device_rng": None,      # Generator of the active array module
    "data_rng": None,        # host Generator for the data order shared by all processes
    "process_key": (),       # minidl.distributed: (rank,) on every process but the first
    "workspace": {"cpu": 4 << 20, "gpu": 256 << 20},
}

_cupy = None
_cupy_checked = False


def _import_cupy():
    """CuPy if it imports *and* sees at least one GPU, else None."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy
            if cupy.cuda.runtime.getDeviceCount() > 0:
                _cupy = cupy
        except Exception:  # ImportError, or CUDA present but no driver/device
            _cupy = None
    return _cupy


def gpu_available():
    """True when CuPy imports and a GPU is visible."""
    return _import_cupy() is not None


# ---------------------------------------------------------------- device ---

def set_device(name):
    """Choose where new arrays live: 'cpu' (NumPy), 'gpu' (CuPy) or 'auto'."""
    if name not in ("cpu", "gpu", "auto"):
        raise ValueError(f"set_device: expected 'cpu', 'gpu' or 'auto', received {name!r}")
    if name == "auto":
        name = "gpu" if gpu_available() else "cpu"
    if name == "gpu" and not gpu_available():
        raise RuntimeError(
            "set_device('gpu'): no GPU is usable here (CuPy is not installed or "
            "sees no device). Install the extra with `pip install minidl[gpu]` on "
            "a machine with an NVIDIA GPU, or use set_device('cpu').")
    if name != _state["device"]:
        _state["device"] = name
        _state["device_rng"] = None  # re-made on the new device from the seed
    return name


def device():
    """The active device, 'cpu' or 'gpu' (decided on first use)."""
    if _state["device"] is None:
        env = os.environ.get("MINIDL_DEVICE", "auto").strip().lower() or "auto"
        if env not in ("cpu", "gpu", "auto"):
            raise ValueError(f"MINIDL_DEVICE: expected cpu, gpu or auto, received {env!r}")
        set_device(env)
    return _state["device"]


def array_module():
    """The array library of the active device: numpy or cupy."""
    return _import_cupy() if device() == "gpu" else np


def get_array_module(*arrays):
    """The library an array lives in (numpy for anything that is not CuPy)."""
    cupy = _import_cupy()
    if cupy is not None:
        return cupy.get_array_module(*arrays)
    return np


def asarray(x, dtype=None):
    """``x`` as an array of the active device (no copy when already there)."""
    xp = array_module()
    if xp is np and not isinstance(x, np.ndarray) and hasattr(x, "get"):
        x = x.get()  # a CuPy array coming back to the host
    return xp.asarray(x, dtype=dtype)


def to_numpy(x):
    """A NumPy array of ``x``, copying from the GPU when needed."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "get"):
        return x.get()
    return np.asarray(x)


def synchronize():
    """Wait for queued GPU work (for timing); a no-op on the CPU."""
    if device() == "gpu":
        _import_cupy().cuda.get_current_stream().synchronize()


def workspace_bytes():
    """Scratch memory a layer may fill at once (Conv2D's im2col buffer).

    CPU: 4 MiB, so the buffer is written and read back from cache instead of
    main memory (measured 1.5-2x faster than one batch-sized buffer, and far
    less memory). GPU: 256 MiB, large blocks for the matrix products.
    """
    return _state["workspace"][device()]


def set_workspace_bytes(n, device_name=None):
    if int(n) <= 0:
        raise ValueError(f"set_workspace_bytes: expected a positive byte count, received {n}")
    _state["workspace"][device_name or device()] = int(n)


# ---------------------------------------------------------------- floats ---

def floatx():
    """The float type of new weights and of inputs cast by the models."""
    return _state["floatx"]


def set_floatx(value):
    if value not in _FLOATX_CHOICES:
        raise ValueError(f"set_floatx: expected one of {_FLOATX_CHOICES}, received {value!r}")
    _state["floatx"] = str(value)


def epsilon():
    """Fuzz factor, Keras's K.epsilon(): 1e-7 (Keras >= 2.1.3; 1e-8 before)."""
    return _state["epsilon"]


def set_epsilon(value):
    _state["epsilon"] = float(value)


def image_data_format():
    """minidl is channels-last (NHWC) throughout, as Keras's TensorFlow backend."""
    return "channels_last"


def set_image_data_format(value):
    """Accepts only 'channels_last': minidl's layers are written for (N, H, W, C)."""
    if value != "channels_last":
        raise ValueError(
            f"set_image_data_format: minidl is channels-last only, (N, H, W, C); received "
            f"{value!r}. Keep Keras's default 'channels_last' and move channels-first data with "
            f"x.transpose(0, 2, 3, 1)")


def clear_session():
    """Keras's ``K.clear_session()``: restart layer names at dense_1, conv2d_1, ...

    minidl keeps no graph, so names are the only session state there is.
    """
    from .layers.base import reset_names
    reset_names()


class floatx_scope:
    """``with floatx_scope('float64'):`` — used by the gradient checks."""

    def __init__(self, value):
        self.value, self.saved = value, None

    def __enter__(self):
        self.saved = floatx()
        set_floatx(self.value)

    def __exit__(self, *exc):
        set_floatx(self.saved)


# ---------------------------------------------------------------- random ---

def seed(n):
    """Make initialization, dropout, shuffling and augmentation repeatable."""
    n = int(n)
    _state["seed"] = n
    _state["host_rng"] = None
    _state["device_rng"] = None
    _state["data_rng"] = None


def _seed_sequence(stream, key=()):
    if _state["seed"] is None:
        return np.random.SeedSequence()  # fresh OS entropy
    return np.random.SeedSequence([_state["seed"], stream, *key])


def host_rng():
    """NumPy Generator for host-side draws (weight initialization).

    Weights are drawn on the host and copied to the device once, so a seed
    gives the same initial weights on NumPy and on CuPy.
    """
    if _state["host_rng"] is None:
        _state["host_rng"] = np.random.Generator(np.random.PCG64(_seed_sequence(0)))
    return _state["host_rng"]


def rng():
    """Generator of the active device (dropout masks, shuffles, augmentation)."""
    if _state["device_rng"] is None:
        ss = _seed_sequence(1, _state["process_key"])  # one stream per process
        if device() == "gpu":
            cupy = _import_cupy()
            _state["device_rng"] = cupy.random.default_rng(int(ss.generate_state(1)[0]))
        else:
            _state["device_rng"] = np.random.Generator(np.random.PCG64(ss))
    return _state["device_rng"]


def data_rng():
    """NumPy Generator on the host for the order of the training data when several
    processes train together (minidl.distributed): seeded by ``minidl.seed`` alone,
    so every process draws the same permutation (rank 0's state is also broadcast)."""
    if _state["data_rng"] is None:
        _state["data_rng"] = np.random.Generator(np.random.PCG64(_seed_sequence(2)))
    return _state["data_rng"]


def set_process_key(key):
    """minidl.distributed: key the device generator (dropout, augmentation) by the
    process, e.g. (rank,), so that each process draws its own masks; () for the
    first process, whose draws are then those of a single-process run."""
    key = tuple(int(k) for k in key)
    if key != _state["process_key"]:
        _state["process_key"] = key
        _state["device_rng"] = None


def generator_state(g):
    """The exact state of a generator of either library, to continue it later
    (``set_generator_state``): a JSON-able dict, with an array for CuPy."""
    if isinstance(g, np.random.Generator):
        return {"library": "numpy", "state": g.bit_generator.state}
    # CuPy's default_rng keeps one cuRAND state per thread in a device buffer
    # (cupy/random/_bit_generator.pyx, _cuRANDGenerator._state): copy it out.
    bits = g.bit_generator
    return {"library": "cupy", "bit_generator": type(bits).__name__,
            "state": _import_cupy().asnumpy(bits._state)}


def set_generator_state(g, state):
    """Put a generator back into a state from ``generator_state``."""
    if state["library"] == "numpy":
        if not isinstance(g, np.random.Generator):
            raise ValueError("set_generator_state: a NumPy generator's state cannot be given "
                             "to a CuPy generator (the backup was made on the CPU)")
        g.bit_generator.state = state["state"]
        return
    bits = getattr(g, "bit_generator", None)
    if bits is None or type(bits).__name__ != state["bit_generator"]:
        raise ValueError(f"set_generator_state: the state is of a CuPy "
                         f"{state['bit_generator']} generator, not of {type(g).__name__}")
    saved = np.asarray(state["state"])
    if saved.shape != tuple(bits._state.shape):
        raise ValueError("set_generator_state: the CuPy generator state was saved on a GPU "
                         "with another number of multiprocessors")
    bits._state[...] = _import_cupy().asarray(saved)


def get_rng_state():
    """minidl's random state: the seed and its generators (None when not made yet)."""
    return {"seed": _state["seed"], "device": device(),
            "host": None if _state["host_rng"] is None else generator_state(_state["host_rng"]),
            "device_rng": (None if _state["device_rng"] is None
                           else generator_state(_state["device_rng"])),
            "data": None if _state["data_rng"] is None else generator_state(_state["data_rng"])}


def set_rng_state(state):
    """Restore ``get_rng_state()``'s result: the next draws repeat those that followed it."""
    if state["device"] != device():
        raise ValueError(f"set_rng_state: the state was saved on the {state['device']} and "
                         f"cannot continue on the {device()}")
    _state["seed"] = state["seed"]
    _state["host_rng"] = _state["device_rng"] = None
    if state["host"] is not None:
        set_generator_state(host_rng(), state["host"])
    if state["device_rng"] is not None:
        set_generator_state(rng(), state["device_rng"])
    _state["data_rng"] = None
    if state.get("data") is not None:
        set_generator_state(data_rng(), state["data"])


def random_uniform(shape, low=0.0, high=1.0, dtype=None):
    """Uniform draws in [low, high) on the active device, in ``dtype`` (floatx)."""
    dtype = dtype or floatx()
    u = rng().random(shape, dtype=np.float64 if np.dtype(dtype) == np.float16 else dtype)
    if low != 0.0 or high != 1.0:
        u = u * (high - low) + low
    return u.astype(dtype, copy=False)


def permutation(n):
    """A random permutation of range(n) on the active device."""
    g = rng()
    if isinstance(g, np.random.Generator):
        return g.permutation(n)
    return array_module().argsort(g.random(n))


# ------------------------------------------------------------ device info ---

def gpu_name():
    """The active GPU's name, or None on the CPU."""
    if device() != "gpu":
        return None
    cupy = _import_cupy()
    name = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def gpu_pool_bytes():
    """Bytes CuPy's memory pool holds now (in use + cached), or None on the CPU."""
    if device() != "gpu":
        return None
    return int(_import_cupy().get_default_memory_pool().total_bytes())


def array_library_version():
    """Version of the active array library ('numpy x.y' or 'cupy x.y')."""
    xp = array_module()
    return f"{xp.__name__} {xp.__version__}"
