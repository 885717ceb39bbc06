"""The ``cupy`` module of the stand-in, and its submodules.

Only the names of real CuPy exist (``data/*.txt``, from ``dir()`` of CuPy
14): any other raises AttributeError. A real name is, in this order, one the
stand-in defines here; a NumPy ufunc of that name (as a ``cupy.ufunc``); a
NumPy class or constant CuPy re-exports as is (``cupy.float32 is
numpy.float32``); a NumPy function of that name run under CuPy's argument
rules (NumPy arrays refused, NumPy scalars returned as 0-d device arrays);
else a placeholder that raises NotImplementedError when used.
"""
import types

import numpy as np

from . import _core, counters
from ._core import ndarray, ufunc, unwrap_any, unwrap_operand, wrap, wrap_result
from .names import cupy_version, names, ufunc_names

# CuPy functions whose result size depends on the data: CuPy reads a count
# back from the device before it can allocate the result.
_SYNCING = frozenset({
    "nonzero", "argwhere", "flatnonzero", "unique", "unique_all", "unique_counts",
    "unique_inverse", "unique_values", "extract", "compress", "bincount", "intersect1d",
    "setdiff1d", "union1d", "setxor1d", "trim_zeros", "histogram", "histogram2d",
    "histogramdd"})
# NumPy classes that are not CuPy's (CuPy has its own of these names).
_NOT_NUMPY_CLASSES = frozenset({"broadcast", "flatiter", "poly1d", "vectorize", "ndindex",
                                "DataSource", "format_parser", "ndarray", "ufunc"})
# Functions that write device arrays to files: a copy to the host each.
_TO_HOST_IO = frozenset({"save", "savez", "savez_compressed", "savetxt"})


class _Missing:
    """A name real CuPy has that the stand-in does not implement."""

    def __init__(self, qualname):
        self._qualname = qualname

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(
            f"{self._qualname} exists in CuPy but the stand-in does not implement it")

    def __getattr__(self, name):
        raise AttributeError(f"{self._qualname}.{name}: {self._qualname} exists in CuPy but "
                             f"the stand-in does not implement it")

    def __repr__(self):
        return f"<not implemented by the CuPy stand-in: {self._qualname}>"


_MODULES = {}  # name -> (real names, NumPy module to take names from, or None)


class StrictModule(types.ModuleType):
    """A module with exactly the names its real CuPy counterpart has."""

    def __getattr__(self, name):
        real, fallback = _MODULES[self.__name__]
        if name not in real:
            raise AttributeError(f"module '{self.__name__}' has no attribute '{name}' "
                                 f"(not in CuPy {cupy_version()}'s dir({self.__name__}))")
        value = _from_numpy(self.__name__, name, fallback)
        setattr(self, name, value)
        return value

    def __dir__(self):
        return sorted(_MODULES[self.__name__][0])


def _module(name, namespace, fallback, doc):
    m = StrictModule(name, doc)
    m.__file__ = __file__
    _MODULES[name] = (names(namespace), fallback)
    return m


def _from_numpy(modname, name, fallback):
    qual = f"{modname}.{name}"
    obj = getattr(fallback, name, None) if fallback is not None else None
    if obj is None or name in _NOT_NUMPY_CLASSES or name.startswith("_"):
        return _Missing(qual)
    if isinstance(obj, np.ufunc):
        return ufunc(obj, name)
    if modname == "cupy" and name in ufunc_names():  # fix, i0, sinc: functions in NumPy
        return _elementwise(name, obj)
    if isinstance(obj, (type, types.ModuleType)):
        return obj if isinstance(obj, type) else _Missing(qual)
    if callable(obj):
        return _function(qual, obj)
    return obj  # constants: pi, e, inf, nan, newaxis, ...


def _function(qualname, np_func):
    short = qualname.split(".", 1)[1]
    syncs, to_host = short in _SYNCING, short in _TO_HOST_IO

    def f(*args, **kwargs):
        ua = tuple(unwrap_any(a, short) for a in args)
        ukw = {k: unwrap_any(v, short) for k, v in kwargs.items()}
        if syncs:
            counters.sync(f"{qualname}: the result size is read back")
        if to_host:
            counters.to_host(qualname)
        out = kwargs.get("out")
        r = np_func(*ua, **ukw)
        if type(out) is ndarray and r is out._standin_a:
            return out
        return wrap_result(r, args)
    f.__name__ = f.__qualname__ = short
    f.__module__ = qualname.rsplit(".", 1)[0]
    f.__doc__ = f"{qualname}: NumPy's {np_func.__name__} under CuPy's argument rules."
    return f


def _elementwise(name, np_func):
    """A CuPy ufunc that NumPy has as a function: scalar or device operands only."""
    def f(*args, **kwargs):
        return wrap_result(np_func(*(unwrap_operand(a) for a in args), **kwargs))
    f.__name__ = f.__qualname__ = name
    f.__module__ = "cupy"
    return f


CUPY = _module("cupy", "cupy", np, "CuPy stand-in: NumPy underneath, CuPy's rules on top "
               "(tests/cupy_standin).")
CUPY.__path__ = []
CUPY.__version__ = f"{cupy_version()}+standin"
CUPY.ndarray = ndarray
CUPY.ufunc = ufunc


def _export(module):
    def deco(f):
        f.__module__ = module.__name__
        setattr(module, f.__name__, f)
        return f
    return deco


cupy_api = _export(CUPY)


# ------------------------------------------------------------- crossing ---

def _nested_device(obj):
    """``obj`` with its stand-in arrays unwrapped, and whether it had any."""
    if type(obj) is ndarray:
        return obj._standin_a, True
    if type(obj) in (list, tuple):
        parts = [_nested_device(v) for v in obj]
        return [p for p, _ in parts], any(d for _, d in parts)
    return obj, False


def _from_host(obj, dtype, order, ndmin=0):
    data, on_device = _nested_device(obj)
    a = np.array(data, dtype=dtype, order=order or "K", copy=True, ndmin=ndmin)
    _core.check_dtype(a.dtype)
    if not on_device:
        counters.to_device("cupy.asarray/array of host data")
    return wrap(a)


@cupy_api
def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    """A device array of ``a``: no copy for a device array; host data is copied over (counted)."""
    if type(a) is ndarray:
        r = np.asarray(a._standin_a, dtype=dtype, order=order, copy=copy)
        return a if r is a._standin_a else wrap(r)
    if copy is False:
        raise ValueError("Unable to avoid copy while creating an array from host data")
    return _from_host(a, dtype, order)


@cupy_api
def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if type(obj) is ndarray:
        r = np.array(obj._standin_a, dtype=dtype, copy=copy, order=order, ndmin=ndmin)
        return obj if r is obj._standin_a else wrap(r)
    return _from_host(obj, dtype, order, ndmin)


@cupy_api
def asanyarray(a, dtype=None, order=None, *, blocking=False):
    return asarray(a, dtype, order, blocking=blocking)


@cupy_api
def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    """A NumPy array of ``a``: a copy from the device for a device array (counted)."""
    if type(a) is ndarray:
        return a.get(stream=stream, order=order, out=out, blocking=blocking)
    if out is None:
        return np.asarray(a, order=order)
    out[...] = a
    return out


@cupy_api
def get_array_module(*args):
    """cupy when any argument is a device array, else numpy."""
    for a in args:
        if type(a) is ndarray:
            return CUPY
    return np


@cupy_api
def ascontiguousarray(a, dtype=None):
    if type(a) is not ndarray:
        raise TypeError(f"Argument 'a' has incorrect type (expected cupy._core.core."
                        f"_ndarray_base, got {type(a).__name__})")
    r = np.ascontiguousarray(a._standin_a, dtype=dtype)
    return a if r is a._standin_a else wrap(r)


@cupy_api
def asfortranarray(a, dtype=None):
    if type(a) is not ndarray:
        raise TypeError(f"Argument 'a' has incorrect type (expected cupy._core.core."
                        f"_ndarray_base, got {type(a).__name__})")
    r = np.asfortranarray(a._standin_a, dtype=dtype)
    return a if r is a._standin_a else wrap(r)


# ------------------------------------------------------------- creation ---

@cupy_api
def empty(shape, dtype=float, order="C"):
    """Uninitialized, as a device pool hands back memory: filled with 0xFF bytes."""
    return wrap(_core.poison(np.empty(shape, _core.check_dtype(dtype), order=order)))


@cupy_api
def empty_like(prototype, dtype=None, order="K", subok=None, shape=None):
    if type(prototype) is not ndarray:
        raise _core.unsupported(prototype)
    a = np.empty_like(prototype._standin_a, dtype=dtype, order=order, shape=shape)
    return wrap(_core.poison(a))


# -------------------------------------------------- wrap-around indexing ---

def _device_index(indices, what):
    if type(indices) is ndarray:
        return indices._standin_a
    if isinstance(indices, (int, np.integer)):
        return indices
    if type(indices) is np.ndarray:
        raise _core.unsupported(indices)
    counters.to_device(f"{what}: host indices")
    return np.asarray(indices)


@cupy_api
def take(a, indices, axis=None, out=None):
    """Out-of-range indices wrap around, as CuPy's take does."""
    if type(a) is not ndarray:
        raise _core.unsupported(a)
    idx = _device_index(indices, "cupy.take")
    raw_out = None
    if out is not None:
        if type(out) is not ndarray:
            raise TypeError("Output arguments type must be cupy.ndarray")
        raw_out = out._standin_a
    r = np.take(a._standin_a, idx, axis=axis, out=raw_out, mode="wrap")
    return out if out is not None else wrap_result(r)


@cupy_api
def take_along_axis(a, indices, axis):
    """Fancy indexing underneath (CuPy): out-of-range indices wrap around."""
    if type(a) is not ndarray or type(indices) is not ndarray:
        raise _core.unsupported(a if type(a) is not ndarray else indices)
    arr, idx = a._standin_a, indices._standin_a
    if axis is None:
        arr, axis = arr.ravel(), 0
    n = arr.shape[axis]
    return wrap(np.take_along_axis(arr, np.mod(idx, n) if n else idx, axis))


@cupy_api
def put(a, ind, v, mode="wrap"):
    if type(a) is not ndarray:
        raise _core.unsupported(a)
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError("clipmode not understood")
    if mode == "raise":
        raise TypeError("put mode 'raise' is not supported")
    v = v._standin_a if type(v) is ndarray else unwrap_operand(v)
    np.put(a._standin_a, _device_index(ind, "cupy.put"), v, mode=mode)


# ------------------------------------------- elementwise, CuPy's operands ---

@cupy_api
def where(condition, x=None, y=None):
    if x is None and y is None:
        return nonzero(condition)
    if x is None or y is None:
        raise ValueError("Must provide both 'x' and 'y' or neither.")
    return wrap_result(np.where(unwrap_operand(condition), unwrap_operand(x),
                                unwrap_operand(y)))


@cupy_api
def clip(a, a_min, a_max, out=None):
    if type(a) is not ndarray:
        raise _core.unsupported(a)
    lo = None if a_min is None else unwrap_operand(a_min)
    hi = None if a_max is None else unwrap_operand(a_max)
    if out is not None:
        if type(out) is not ndarray:
            raise TypeError("Output arguments type must be cupy.ndarray")
        np.clip(a._standin_a, lo, hi, out=out._standin_a)
        return out
    return wrap_result(np.clip(a._standin_a, lo, hi))


@cupy_api
def nonzero(a):
    if type(a) is not ndarray:
        raise _core.unsupported(a)
    counters.sync("cupy.nonzero: the result size is read back")
    return wrap_result(np.nonzero(a._standin_a))


@cupy_api
def count_nonzero(a, axis=None):
    if type(a) is not ndarray:
        raise _core.unsupported(a)
    return wrap(np.asarray(np.count_nonzero(a._standin_a, axis=axis)))


def _bool0d(f):
    def g(*args, **kwargs):
        ua = [unwrap_any(x, f.__name__) for x in args]
        for x in args[:2]:
            if type(x) is not ndarray and not _core.is_scalar(x):
                raise _core.unsupported(x)
        return wrap(np.asarray(f(*ua, **kwargs), dtype=np.bool_))
    g.__name__ = g.__qualname__ = f.__name__
    g.__module__ = "cupy"
    setattr(CUPY, f.__name__, g)
    return g


_bool0d(np.array_equal)
_bool0d(np.array_equiv)
_bool0d(np.allclose)


@cupy_api
def is_available():
    return True


# ----------------------------------------------------------- submodules ---

def _install_submodules():
    from . import _cuda, _kernel, _random
    CUPY.ElementwiseKernel = _kernel.ElementwiseKernel
    CUPY.RawKernel = _kernel.RawKernel
    CUPY.get_default_memory_pool = _cuda.get_default_memory_pool
    CUPY.get_default_pinned_memory_pool = _cuda.get_default_pinned_memory_pool
    CUPY.cuda = _cuda.build_module(_module)
    CUPY.random = _random.build_module(_module)
    CUPY.testing = _build_testing()
    CUPY.linalg = _module("cupy.linalg", "cupy.linalg", np.linalg, "cupy.linalg stand-in")
    CUPY.fft = _module("cupy.fft", "cupy.fft", np.fft, "cupy.fft stand-in")


def _build_testing():
    t = _module("cupy.testing", "cupy.testing", None, "cupy.testing stand-in: the assertions")

    def host(x):
        return x.get() if type(x) is ndarray else np.asarray(x)

    def make(name):
        np_assert = getattr(np.testing, name)

        def f(x, y, *args, **kwargs):
            np_assert(host(x), host(y), *args, **kwargs)
        f.__name__ = f.__qualname__ = name
        f.__module__ = "cupy.testing"
        setattr(t, name, f)

    for name in ("assert_allclose", "assert_array_equal", "assert_array_almost_equal",
                 "assert_array_less", "assert_array_max_ulp",
                 "assert_array_almost_equal_nulp"):
        make(name)
    return t


_install_submodules()


def submodules():
    """Every module to put into sys.modules: {'cupy': ..., 'cupy.cuda': ..., ...}."""
    found = {}

    def walk(m):
        found[m.__name__] = m
        for v in list(m.__dict__.values()):
            if isinstance(v, StrictModule) and v.__name__.startswith(m.__name__ + "."):
                walk(v)
    walk(CUPY)
    return found

