"""``cupy.random`` of the stand-in: ``default_rng`` -> Generator(XORWOW).

As in CuPy (cupy/random/_bit_generator.pyx, _generator_api.pyx), the
XORWOW bit generator keeps one 48-byte cuRAND state per thread, for
``8 * 256 * multiProcessorCount`` threads, in an int8 device array
``bit_generator._state``; every draw reads and writes that buffer (in
``curand_xorwow.cpp``), so copying it out and back restores the stream.
"""
import ctypes
import os
import threading

import numpy as np

from . import _build, _core
from ._core import ndarray

_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "curand_xorwow.cpp")
_lib = None

CURAND_XOR_WOW = 0  # cupy_distributions.cuh's RandGenerators enum
_STATE_BYTES = 48   # sizeof(curandStateXORWOW)
_UINT32_MAX, _UINT64_MAX = 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF


def _library():
    global _lib
    if _lib is None:
        with open(_SOURCE) as f:
            lib = _build.load(f.read(), "curand_xorwow")
        ll, ull, p = ctypes.c_longlong, ctypes.c_ulonglong, ctypes.c_void_p
        lib.standin_curand_init.argtypes = [p, ll, ull]
        for name in ("standin_random_uniform", "standin_random_uniform_float",
                     "standin_standard_normal", "standin_standard_normal_float",
                     "standin_standard_exponential", "standin_raw"):
            getattr(lib, name).argtypes = [p, ll, p, ll]
        lib.standin_interval_32.argtypes = [p, ll, p, ll, ctypes.c_uint, ctypes.c_uint]
        lib.standin_interval_64.argtypes = [p, ll, p, ll, ull, ull]
        _lib = lib
    return _lib


class BitGenerator:
    """``cupy.random.BitGenerator``: the seed sequence (cupy/random/_bit_generator.pyx)."""

    def __init__(self, seed=None):
        self.lock = threading.Lock()
        if isinstance(seed, np.random.SeedSequence):
            self._seed_seq = seed
        else:
            if type(seed) is ndarray:
                from ._namespace import asnumpy
                seed = asnumpy(seed)
            self._seed_seq = np.random.SeedSequence(seed)
        self._current_device_id = 0

    def random_raw(self, size=None, output=True):
        raise NotImplementedError("Not implemented in base BitGenerator")

    def _state_size(self):
        return 0

    def _check_device(self):
        pass


class XORWOW(BitGenerator):
    """``cupy.random.XORWOW``: cuRAND's XORWOW, one state per thread in ``_state``."""

    generator = CURAND_XOR_WOW

    def __init__(self, seed=None, *, size=-1):
        super().__init__(seed)
        # CuPy: "Raw kernel has problems with integers with the 64th bit set"
        self._seed = self._seed_seq.generate_state(1, np.uint32)[0]
        if size < 0:
            from ._cuda import MULTIPROCESSOR_COUNT
            size = 8 * 256 * MULTIPROCESSOR_COUNT
        self._size = size
        self._state = _core.wrap(np.zeros(self._type_size() * size, dtype=np.int8))
        _library().standin_curand_init(self.state(), size, int(self._seed))

    def state(self):
        """The address of the states (CuPy passes it to its kernels)."""
        s = self._state
        if type(s) is not ndarray or s.dtype != np.int8 or not s.flags.c_contiguous or \
                s.size != self._type_size() * self._size:
            raise ValueError(f"XORWOW._state must stay a C-contiguous int8 cupy.ndarray of "
                             f"{self._type_size() * self._size} bytes")
        return s._standin_a.ctypes.data

    def _state_size(self):
        return self._size

    def _type_size(self):
        return _STATE_BYTES

    def random_raw(self, size=None, output=True):
        y = _core.wrap(np.zeros(size if size is not None else (), dtype=np.int32))
        _launch(self, "standin_raw", y)
        return y if output else None


def _launch(bit_generator, func, out, *args):
    if out.size == 0:
        return
    getattr(_library(), func)(bit_generator.state(), bit_generator._state_size(),
                              out._standin_a.ctypes.data, out.size, *args)


def _new(size, dtype):
    return ndarray(size if size is not None else (), dtype)


class Generator:
    """``cupy.random.Generator`` (cupy/random/_generator_api.pyx): the draws
    minidl and its tests use; the others raise NotImplementedError."""

    def __init__(self, bit_generator):
        self.bit_generator = bit_generator
        self._binomial_state = None

    def _check_output_array(self, dtype, size, out, check_only_c_cont=False):
        dtype = np.dtype(dtype)
        if type(out) is not ndarray:
            raise TypeError("out must be a cupy.ndarray")
        if out.dtype.char != dtype.char:
            raise TypeError(f"Supplied output array has the wrong type. Expected {dtype.name}, "
                            f"got {out.dtype.name}")
        if not out.flags.c_contiguous:
            if check_only_c_cont or not out.flags.f_contiguous:
                raise ValueError("Supplied output array is not contiguous, writable or aligned.")
        if size is not None:
            try:
                tup_size = tuple(size)
            except TypeError:
                tup_size = (size,)
            if tup_size != out.shape:
                raise ValueError("size must match out.shape when used together")

    def random(self, size=None, dtype=np.float64, out=None):
        """Floats in [0, 1): float64 or float32 draws, cast to ``dtype``."""
        if out is not None:
            self._check_output_array(dtype, size, out)
        dtype_ = np.dtype(dtype)
        if dtype_.char == "d":
            y = _new(size, dtype_)
            _launch(self.bit_generator, "standin_random_uniform", y)
        else:
            y = _new(size, np.float32)
            _launch(self.bit_generator, "standin_random_uniform_float", y)
        if out is not None:
            out[...] = y
            y = out
        return y.astype(dtype, copy=False)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        from ._namespace import CUPY
        low, high = CUPY.asarray(low), CUPY.asarray(high)
        if size is None:
            size = np.broadcast_shapes(low.shape, high.shape)
        dtype_ = np.dtype(dtype)
        y = _new(size, dtype if dtype_.char == "d" else np.float32)
        low, high = CUPY.broadcast_to(low, y.shape), CUPY.broadcast_to(high, y.shape)
        _launch(self.bit_generator, "standin_random_uniform" if y.dtype.char == "d"
                else "standin_random_uniform_float", y)
        y = low + (high - low) * y
        return y.astype(dtype, copy=False)

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        from ._namespace import CUPY
        if high is None:
            lo, hi1 = 0, int(low)
        else:
            lo, hi1 = int(low), int(high)
        if not endpoint:
            hi1 -= 1
        if lo > hi1:
            raise ValueError("low >= high")
        if lo < np.iinfo(dtype).min:
            raise ValueError(f"low is out of bounds for {np.dtype(dtype).name}")
        if hi1 > np.iinfo(dtype).max:
            raise ValueError(f"high is out of bounds for {np.dtype(dtype).name}")
        diff = hi1 - lo
        mask = (1 << diff.bit_length()) - 1
        if diff <= _UINT32_MAX:
            y = _new(size, np.uint32)
            _launch(self.bit_generator, "standin_interval_32", y, diff, mask)
        elif diff <= _UINT64_MAX:
            y = _new(size, np.uint64)
            _launch(self.bit_generator, "standin_interval_64", y, diff, mask)
        else:
            raise ValueError(f"high - low must be within uint64 range (actual: {diff})")
        return CUPY.add(lo, y, dtype=dtype)

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        if out is not None:
            self._check_output_array(dtype, size, out)
            y = out
        else:
            y = _new(size, dtype)
        if y.dtype.char not in ("f", "d"):
            raise TypeError(f"Unsupported dtype {y.dtype.name} for standard_normal")
        _launch(self.bit_generator, "standin_standard_normal" if y.dtype.char == "d"
                else "standin_standard_normal_float", y)
        return y

    def standard_exponential(self, size=None, dtype=np.float64, method="inv", out=None):
        if method != "inv":
            raise NotImplementedError("cupy.random.Generator.standard_exponential: only "
                                      "method='inv' is implemented by the stand-in")
        if out is not None:
            self._check_output_array(dtype, size, out)
        y = _new(size, np.float64)
        _launch(self.bit_generator, "standin_standard_exponential", y)
        if out is not None:
            out[...] = y
            return out
        return y.astype(dtype, copy=False)

    def exponential(self, scale=1.0, size=None):
        from ._namespace import CUPY
        scale = CUPY.asarray(scale)
        if size is None:
            size = scale.shape
        return self.standard_exponential(size) * scale


def _missing_method(name):
    def method(self, *args, **kwargs):
        raise NotImplementedError(f"cupy.random.Generator.{name} exists in CuPy but the stand-in "
                                  f"does not implement it")
    method.__name__ = name
    return method


for _name in ("beta", "binomial", "chisquare", "dirichlet", "f", "gamma", "geometric",
              "hypergeometric", "logseries", "poisson", "power", "standard_gamma"):
    setattr(Generator, _name, _missing_method(_name))


def default_rng(seed=None):
    """A Generator on XORWOW, as ``cupy.random.default_rng``."""
    if isinstance(seed, BitGenerator):
        return Generator(seed)
    if isinstance(seed, Generator):
        return seed
    return Generator(XORWOW(seed))


for _cls in (BitGenerator, XORWOW, Generator):
    _cls.__module__ = "cupy.random"


def build_module(make_module):
    m = make_module("cupy.random", "cupy.random", None, "cupy.random stand-in: Generator API")
    for name in ("BitGenerator", "XORWOW", "Generator", "default_rng"):
        setattr(m, name, globals()[name])
    return m
