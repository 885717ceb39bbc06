"""The stand-in's ``cupy.ndarray`` and ``cupy.ufunc``: NumPy underneath, CuPy's rules on top.

An ``ndarray`` holds a NumPy array it never lets out implicitly: NumPy's
conversion hooks raise as CuPy's do, NumPy arrays are refused as operands,
reductions return 0-d device arrays, and integer array indices wrap around.
The rules are CuPy 14's, read from its sources (``cupy/_core/core.pyx``,
``_routines_indexing.pyx``, ``_kernel.pyx``, ``_scalar.pyx``); the code is ours.
"""
import warnings
import weakref

import numpy as np

from . import counters

IMPLICIT_CONVERSION = ("Implicit conversion to a NumPy array is not allowed. "
                       "Please use `.get()` to construct a NumPy array explicitly.")

# CuPy's scalar_type_set (cupy/_core/_scalar.pyx): exact Python scalar types;
# NumPy scalars are checked by kind.
_PY_SCALARS = (int, float, bool, complex)
_UNSUPPORTED_KINDS = "OSUMm"


def _namespace():
    from . import _namespace as ns
    return ns.CUPY


def is_scalar(x):
    """A Python or NumPy scalar, which CuPy passes to kernels by value."""
    t = type(x)
    return t in _PY_SCALARS or (isinstance(x, np.generic) and x.dtype.kind in "biufc")


def unsupported(x):
    return TypeError(f"Unsupported type {type(x)}")


# ------------------------------------------------------------ memory pool ---

class _PoolBook:
    """Bytes of the live device buffers, as CuPy's pool sees them: ``used`` is
    what live arrays hold, ``total`` also the freed blocks the pool keeps."""

    def __init__(self):
        self.live = {}
        self.used = 0
        self.total = 0

    def track(self, a):
        root = a
        while isinstance(root.base, np.ndarray):
            root = root.base
        if root.base is not None or root.nbytes == 0:
            return
        key = id(root)
        if key in self.live:
            return
        nbytes = root.nbytes
        self.live[key] = (weakref.ref(root, lambda _r, k=key: self._free(k)), nbytes)
        self.used += nbytes
        self.total = max(self.total, self.used)

    def _free(self, key):
        entry = self.live.pop(key, None)
        if entry is not None:
            self.used -= entry[1]


POOL = _PoolBook()


# ----------------------------------------------------------------- arrays ---

def wrap(a):
    """A stand-in ndarray around the NumPy array ``a`` (no copy)."""
    out = object.__new__(ndarray)
    out._standin_a = a
    POOL.track(a)
    if counters._dtypes is not None:
        counters._made(a.dtype)
    return out


def wrap_result(r, inputs=()):
    """NumPy's result as CuPy returns it: arrays wrapped, NumPy scalars as 0-d
    device arrays, an input array returned as itself."""
    t = type(r)
    if t is np.ndarray:
        for x in inputs:
            if type(x) is ndarray and x._standin_a is r:
                return x
        return wrap(r)
    if isinstance(r, np.generic):
        return wrap(np.asarray(r))
    if t is tuple:
        return tuple(wrap_result(v, inputs) for v in r)
    if t is list:
        return [wrap_result(v, inputs) for v in r]
    return r


def check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind in _UNSUPPORTED_KINDS or dtype.char in "gG":
        raise ValueError(f"Unsupported dtype {dtype}")
    return dtype


def poison(a):
    """Fill fresh uninitialized memory with 0xFF bytes (NaN for floats, -1 for
    ints): a device pool hands back stale memory, never zeros by promise."""
    if a.size and a.flags.c_contiguous:
        a.reshape(-1).view(np.uint8).fill(0xFF)
    return a


def unwrap_operand(x, where=""):
    """A kernel/ufunc operand: a stand-in array or a scalar, nothing else."""
    if type(x) is ndarray:
        return x._standin_a
    if is_scalar(x):
        return x
    raise unsupported(x)


def unwrap_any(x, where=""):
    """Arguments of a non-elementwise function: stand-in arrays unwrapped
    (also inside lists and tuples); NumPy arrays refused."""
    t = type(x)
    if t is ndarray:
        return x._standin_a
    if t is np.ndarray:
        raise TypeError(f"Unsupported type {t}" + (f" (argument of cupy.{where}: move host "
                                                    f"arrays to the device with cupy.asarray)"
                                                    if where else ""))
    if t is list or t is tuple:
        if any(type(v) in (ndarray, np.ndarray, list, tuple) for v in x):
            return t(unwrap_any(v, where) for v in x)
    return x


class _Flags:
    """``x.flags``: c_contiguous, f_contiguous, owndata (cupy/_core/flags.pyx)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, c, f, own):
        self.c_contiguous, self.f_contiguous, self.owndata = c, f, own

    def __getitem__(self, name):
        key = {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
               "OWNDATA": "owndata"}.get(name)
        if key is None:
            raise KeyError(f"{name} is not defined for cupy.ndarray.flags")
        return getattr(self, key)

    def __repr__(self):
        return (f"  C_CONTIGUOUS : {self.c_contiguous}\n  F_CONTIGUOUS : {self.f_contiguous}\n"
                f"  OWNDATA : {self.owndata}")


class _MemoryPointer:
    """``x.data``: the address of the first element (host memory here)."""

    __slots__ = ("ptr", "device_id")

    def __init__(self, ptr):
        self.ptr, self.device_id = ptr, 0

    @property
    def device(self):
        from ._cuda import Device
        return Device(0)


# --------------------------------------------------------------- indexing ---

_INDEX_ERROR = ("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
                "integer or boolean arrays are valid indices")


def _prepare_index(a, key):
    """(NumPy key, advanced, has_mask): host indices moved to the device
    (counted), integer index arrays wrapped around each axis as CuPy does."""
    items = list(key) if type(key) is tuple else [key]
    advanced = has_mask = has_ellipsis = False
    for n, s in enumerate(items):
        if s is None or isinstance(s, slice):
            continue
        if s is Ellipsis:
            has_ellipsis = True
            continue
        t = type(s)
        if t is ndarray:
            s = s._standin_a
        elif t is list or t is tuple or t is np.ndarray or isinstance(s, (bool, np.bool_)):
            s = np.asarray(s)  # CuPy: core.array(s), a copy to the device
            if t is not np.ndarray and not isinstance(s, np.ndarray):
                raise IndexError(_INDEX_ERROR)
            if (t is list or t is tuple) and s.size == 0:
                s = s.astype(np.int32)
            counters.to_device("index array")
        elif isinstance(s, (int, np.integer)):
            continue  # a scalar index: bounds-checked, a view
        else:
            raise IndexError(_INDEX_ERROR)
        if s.dtype.kind not in "biu":
            raise IndexError(f"arrays used as indices must be of integer or boolean type "
                             f"(actual: {s.dtype.type})")
        items[n] = s
        advanced = True
        has_mask |= s.dtype.kind == "b"
    if not advanced:
        if not has_ellipsis:
            items.append(Ellipsis)  # a 0-d view, never a NumPy scalar
        return tuple(items), False, False
    # Which axis each index array runs over, to wrap it around that axis.
    consumed = sum(0 if (s is None or s is Ellipsis) else
                   (s.ndim if isinstance(s, np.ndarray) and s.dtype.kind == "b" else 1)
                   for s in items)
    axis = 0
    for n, s in enumerate(items):
        if s is None:
            continue
        if s is Ellipsis:
            axis += max(a.ndim - consumed, 0)
            continue
        if isinstance(s, np.ndarray):
            if s.dtype.kind == "b":
                axis += s.ndim
                continue
            if axis < a.ndim and a.shape[axis] > 0:
                items[n] = np.mod(s, a.shape[axis])
        axis += 1
    return tuple(items), True, has_mask


# ------------------------------------------------------------------ ufunc ---

class ufunc:
    """``cupy.ufunc``: a NumPy ufunc with CuPy's operand rules."""

    def __init__(self, np_ufunc, name=None):
        self._standin_np = np_ufunc
        self.name = self.__name__ = name or np_ufunc.__name__
        self.nin, self.nout = np_ufunc.nin, np_ufunc.nout
        self.nargs = np_ufunc.nargs
        self.types = np_ufunc.types
        self.__doc__ = f"cupy.{self.name}: the stand-in for CuPy's ufunc (NumPy underneath)."

    def __repr__(self):
        return f"<ufunc '{self.name}'>"

    @staticmethod
    def _out(out):
        if out is None:
            return None, None
        outs = out if isinstance(out, tuple) else (out,)
        for o in outs:
            if type(o) is not ndarray:
                raise TypeError("Output arguments type must be cupy.ndarray")
        raw = tuple(o._standin_a for o in outs)
        return outs, (raw if isinstance(out, tuple) else raw[0])

    def __call__(self, *args, out=None, dtype=None, casting="same_kind", **kwargs):
        extra = set(kwargs) - {"where", "order", "signature"}
        if extra:
            raise TypeError(f"Wrong arguments {dict((k, kwargs[k]) for k in extra)}")
        if len(args) > self.nin:  # outputs given positionally
            if out is not None:
                raise ValueError("Cannot specify 'out' as both a positional and keyword argument")
            out = args[self.nin:] if len(args) - self.nin > 1 else args[self.nin]
            args = args[:self.nin]
        if len(args) != self.nin:
            raise TypeError(f"Wrong number of arguments for '{self.name}'. "
                            f"It must be either {self.nin} or {self.nargs} (with outputs), "
                            f"but given {len(args)}.")
        ins = tuple(unwrap_operand(x) for x in args)
        if "where" in kwargs and kwargs["where"] is not True:
            kwargs["where"] = unwrap_operand(kwargs["where"])
        outs, raw_out = self._out(out)
        opts = dict(kwargs, casting=casting)
        if dtype is not None:
            opts["dtype"] = dtype
        if raw_out is not None:
            opts["out"] = raw_out
        r = self._standin_np(*ins, **opts)
        if outs is not None:
            return outs if isinstance(out, tuple) else outs[0]
        return wrap_result(r)

    def _method(self, method, array, *args, out=None, **kwargs):
        if type(array) is not ndarray:
            raise unsupported(array) if type(array) is np.ndarray else TypeError(
                f"cupy.{self.name}.{method}: expected a cupy.ndarray, got {type(array)}")
        args = tuple(unwrap_any(x, f"{self.name}.{method}") for x in args)
        outs, raw_out = self._out(out)
        if raw_out is not None:
            kwargs["out"] = raw_out
        r = getattr(self._standin_np, method)(array._standin_a, *args, **kwargs)
        return outs[0] if outs is not None else wrap_result(r)

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        return self._method("reduce", array, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def accumulate(self, array, axis=0, dtype=None, out=None):
        return self._method("accumulate", array, axis=axis, dtype=dtype, out=out)

    def reduceat(self, array, indices, axis=0, dtype=None, out=None):
        return self._method("reduceat", array, indices, axis=axis, dtype=dtype, out=out)

    def outer(self, A, B, **kwargs):
        return self(A[(Ellipsis,) + (None,) * B.ndim], B, **kwargs)

    def at(self, a, indices, b=None):
        """In place, unbuffered; integer indices wrap around (CuPy's _scatter_op)."""
        if type(a) is not ndarray:
            raise unsupported(a)
        key, _, _ = _prepare_index(a._standin_a, indices)
        key = tuple(k for k in key if k is not Ellipsis) or Ellipsis
        if b is None:
            self._standin_np.at(a._standin_a, key)
        else:
            self._standin_np.at(a._standin_a, key, unwrap_operand(b))


def get_ufunc(name):
    return getattr(_namespace(), name)


# ---------------------------------------------------------------- ndarray ---

def _should_use_rop(x, y):
    """CuPy's rule (core.pyx _should_use_rop): defer to ``y`` when it opts out
    of ufuncs or has a higher __array_priority__."""
    missing = object()
    y_ufunc = getattr(y, "__array_ufunc__", missing)
    if y_ufunc is not missing:
        return y_ufunc is None
    return getattr(x, "__array_priority__", 0) < getattr(y, "__array_priority__", 0)


def _binary(name, reflected=False):
    np_ufunc = getattr(np, name)

    def op(self, other):
        if type(other) is ndarray:
            f = get_ufunc(name)
            return f(other, self) if reflected else f(self, other)
        if _should_use_rop(self, other):
            return NotImplemented
        # CuPy calls numpy.<ufunc>(x, y): NumPy dispatches back to
        # __array_ufunc__, which refuses NumPy arrays and unknown types.
        return np_ufunc(other, self) if reflected else np_ufunc(self, other)
    op.__name__ = f"__{'r' if reflected else ''}{name}__"
    return op


def _inplace(name):
    def op(self, other):
        get_ufunc(name)(self, other, out=self)
        return self
    return op


def _unary(name):
    def op(self):
        return get_ufunc(name)(self)
    return op


def _compare(self, other, name):
    """CuPy's __richcmp__ (core.pyx)."""
    if type(other) is ndarray:
        return get_ufunc(name)(self, other)
    if _should_use_rop(self, other):
        return NotImplemented
    if isinstance(other, np.ndarray) and other.ndim == 0:
        other = other.item()
    if name in ("equal", "not_equal") and (
            other is None or type(other).__eq__ is object.__eq__):
        # CuPy: an object with object's __eq__ never equals an element
        fill = np.zeros if name == "equal" else np.ones
        return wrap(fill(self.shape, dtype=np.bool_))
    return getattr(np, name)(self, other)


def _rebuild(host):
    """Unpickling: the host copy goes back to the device (CuPy: cupy.array)."""
    return _namespace().array(host)


def _to_host(x, what):
    counters.to_host(what)
    return x._standin_a.copy()


class ndarray:
    """``cupy.ndarray`` (stand-in): device memory is a private NumPy array."""

    __slots__ = ("_standin_a",)
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("cupy.ndarray(memptr=..., strides=...): the stand-in has "
                                      "no raw device memory")
        self._standin_a = poison(np.empty(shape, check_dtype(dtype), order=order))
        POOL.track(self._standin_a)
        if counters._dtypes is not None:
            counters._made(self._standin_a.dtype)

    # -------------------------------------------------- attributes
    shape = property(lambda self: self._standin_a.shape)

    @shape.setter
    def shape(self, newshape):
        self._standin_a = self._standin_a.reshape(newshape, copy=False)

    dtype = property(lambda self: self._standin_a.dtype)
    ndim = property(lambda self: self._standin_a.ndim)
    size = property(lambda self: self._standin_a.size)
    itemsize = property(lambda self: self._standin_a.itemsize)
    nbytes = property(lambda self: self._standin_a.nbytes)
    strides = property(lambda self: self._standin_a.strides)
    T = property(lambda self: wrap(self._standin_a.T))
    mT = property(lambda self: wrap(self._standin_a.mT))
    real = property(lambda self: wrap(self._standin_a.real))
    imag = property(lambda self: wrap(self._standin_a.imag))

    @property
    def flags(self):
        f = self._standin_a.flags
        return _Flags(f.c_contiguous, f.f_contiguous, f.owndata)

    @property
    def base(self):
        b = self._standin_a.base
        return wrap(b) if isinstance(b, np.ndarray) else None

    @property
    def data(self):
        return _MemoryPointer(self._standin_a.ctypes.data)

    @property
    def device(self):
        from ._cuda import Device
        return Device(0)

    # -------------------------------------------------- crossing to the host
    def get(self, stream=None, order="C", out=None, blocking=True):
        """A NumPy copy: the only way to the host (counted)."""
        if out is not None:
            if not isinstance(out, np.ndarray):
                raise TypeError("Only numpy.ndarray can be obtained from cupy.ndarray")
            if self.dtype != out.dtype:
                raise TypeError(f"{out.dtype} array cannot be obtained from {self.dtype} array")
            if self.shape != out.shape:
                raise ValueError(f"Shape mismatch. Expected shape: {self.shape}, "
                                 f"actual shape: {out.shape}")
            counters.to_host("ndarray.get")
            out[...] = self._standin_a
            return out
        counters.to_host("ndarray.get")
        order = order.upper()
        if order == "A":
            order = "F" if self._standin_a.flags.f_contiguous and not \
                self._standin_a.flags.c_contiguous else "C"
        return np.array(self._standin_a, order=order, copy=True)

    def set(self, arr, stream=None):
        """Copy a NumPy array of the same shape and dtype onto the device (counted)."""
        if not isinstance(arr, np.ndarray):
            raise TypeError("Only numpy.ndarray can be set to cupy.ndarray")
        if self.dtype != arr.dtype:
            raise TypeError(f"{arr.dtype} array cannot be set to {self.dtype} array")
        if self.shape != arr.shape:
            raise ValueError(f"Shape mismatch. Old shape: {self.shape}, new shape: {arr.shape}")
        counters.to_device("ndarray.set")
        self._standin_a[...] = arr

    def item(self):
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        return _to_host(self, "ndarray.item").item()

    def tolist(self):
        return _to_host(self, "ndarray.tolist").tolist()

    def tobytes(self, order="C"):
        return _to_host(self, "ndarray.tobytes").tobytes(order)

    def tofile(self, fid, sep="", format="%s"):
        _to_host(self, "ndarray.tofile").tofile(fid, sep=sep, format=format)

    def dump(self, file):
        _to_host(self, "ndarray.dump").dump(file)

    def dumps(self):
        return _to_host(self, "ndarray.dumps").dumps()

    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT_CONVERSION)

    def __bool__(self):
        if self.size == 0:
            warnings.warn("The truth value of an empty array is ambiguous. Returning False, but "
                          "in future this will result in an error. Use `array.size > 0` to "
                          "check that an array is not empty.", DeprecationWarning, stacklevel=2)
            return False
        if self.size == 1:
            return bool(_to_host(self, "bool(x)"))
        raise ValueError("The truth value of an array with more than one element is "
                         "ambiguous. Use a.any() or a.all()")

    def __int__(self):
        return int(_to_host(self, "int(x)"))

    def __float__(self):
        return float(_to_host(self, "float(x)"))

    def __complex__(self):
        return complex(_to_host(self, "complex(x)"))

    def __oct__(self):
        return oct(_to_host(self, "oct(x)"))

    def __hex__(self):
        return hex(_to_host(self, "hex(x)"))

    def __bytes__(self):
        return bytes(_to_host(self, "bytes(x)"))

    def __repr__(self):
        return repr(_to_host(self, "repr(x)"))

    def __str__(self):
        return str(_to_host(self, "str(x)"))

    def __format__(self, spec):
        return format(_to_host(self, "format(x)"), spec)

    def __reduce__(self):
        return _rebuild, (self.get(order="A"),)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    @classmethod
    def __class_getitem__(cls, item):
        from types import GenericAlias
        return GenericAlias(ndarray, item)

    # -------------------------------------------------- container
    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self._standin_a.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._standin_a.shape[0]))

    def __getitem__(self, key):
        """Basic indexing gives views; integer index arrays wrap around (CuPy:
        "NumPy handles them by raising an error, but CuPy wraps around them")."""
        a = self._standin_a
        np_key, advanced, has_mask = _prepare_index(a, key)
        if has_mask:
            counters.sync("x[mask]: the result size is read back")
        return wrap_result(a[np_key])

    def __setitem__(self, key, value):
        a = self._standin_a
        np_key, advanced, has_mask = _prepare_index(a, key)
        t = type(value)
        if t is ndarray:
            value = value._standin_a
        elif not is_scalar(value):
            if advanced:
                value = np.asarray(value)  # CuPy: core.array(value), a copy to the device
                counters.to_device("x[index] = host value")
            else:  # CuPy fills: only scalars may come from the host
                value = np.asarray(value, dtype=a.dtype)
                if value.shape != ():
                    raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
                value = value[()]
        if has_mask and np.ndim(value) > 0:
            counters.sync("x[mask] = array: the mask's count is read back")
        a[np_key] = value

    def __delitem__(self, key):
        raise ValueError("cannot delete array elements")

    # -------------------------------------------------- NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy ufuncs on stand-in arrays run as CuPy's (core.pyx): looked up
        by name in cupy; NumPy arrays then fail there, unknown types defer."""
        inout = inputs
        if "out" in kwargs:
            out = kwargs["out"]
            if len(out) != 1:
                raise ValueError("The 'out' parameter must have exactly one array value")
            inout += out
            kwargs["out"] = out[0]
        if method not in ("__call__", "outer", "at", "reduce", "accumulate", "reduceat"):
            return NotImplemented
        try:
            func = getattr(_namespace(), ufunc.__name__)
            if method != "__call__":
                func = getattr(func, method)
        except (AttributeError, NotImplementedError):
            return NotImplemented
        for x in inout:
            if not (is_scalar(x) or type(x) in (ndarray, np.ndarray)):
                return NotImplemented
        if ufunc.__name__ in ("greater", "greater_equal", "less", "less_equal", "equal",
                              "not_equal"):
            inputs = tuple(x.item() if isinstance(x, np.ndarray) and x.ndim == 0 else x
                           for x in inputs)
        return func(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """NumPy functions on stand-in arrays run CuPy's function of the same
        name (core.pyx); without one, NumPy raises TypeError."""
        module = _namespace()
        try:
            for part in func.__module__.split(".")[1:]:
                module = getattr(module, part)
            cupy_func = getattr(module, func.__name__)
        except (AttributeError, NotImplementedError):
            return NotImplemented
        if cupy_func is func:
            return NotImplemented
        for t in types:
            if not issubclass(t, (ndarray, np.ndarray)):
                return NotImplemented
        return cupy_func(*args, **kwargs)

    # -------------------------------------------------- comparisons
    def __lt__(self, other):
        return _compare(self, other, "less")

    def __le__(self, other):
        return _compare(self, other, "less_equal")

    def __eq__(self, other):
        return _compare(self, other, "equal")

    def __ne__(self, other):
        return _compare(self, other, "not_equal")

    def __gt__(self, other):
        return _compare(self, other, "greater")

    def __ge__(self, other):
        return _compare(self, other, "greater_equal")

    # -------------------------------------------------- arithmetic
    __add__, __radd__ = _binary("add"), _binary("add", True)
    __sub__, __rsub__ = _binary("subtract"), _binary("subtract", True)
    __mul__, __rmul__ = _binary("multiply"), _binary("multiply", True)
    __truediv__, __rtruediv__ = _binary("true_divide"), _binary("true_divide", True)
    __div__ = __truediv__
    __floordiv__, __rfloordiv__ = _binary("floor_divide"), _binary("floor_divide", True)
    __mod__, __rmod__ = _binary("remainder"), _binary("remainder", True)
    __and__, __rand__ = _binary("bitwise_and"), _binary("bitwise_and", True)
    __or__, __ror__ = _binary("bitwise_or"), _binary("bitwise_or", True)
    __xor__, __rxor__ = _binary("bitwise_xor"), _binary("bitwise_xor", True)
    __lshift__, __rlshift__ = _binary("left_shift"), _binary("left_shift", True)
    __rshift__, __rrshift__ = _binary("right_shift"), _binary("right_shift", True)
    __matmul__, __rmatmul__ = _binary("matmul"), _binary("matmul", True)

    __pow__, __rpow__ = _binary("power"), _binary("power", True)
    __divmod__, __rdivmod__ = _binary("divmod"), _binary("divmod", True)

    __iadd__, __isub__ = _inplace("add"), _inplace("subtract")
    __imul__, __itruediv__ = _inplace("multiply"), _inplace("true_divide")
    __idiv__ = __itruediv__
    __ifloordiv__, __imod__ = _inplace("floor_divide"), _inplace("remainder")
    __ipow__ = _inplace("power")
    __iand__, __ior__, __ixor__ = (_inplace("bitwise_and"), _inplace("bitwise_or"),
                                   _inplace("bitwise_xor"))
    __ilshift__, __irshift__ = _inplace("left_shift"), _inplace("right_shift")

    __neg__, __pos__ = _unary("negative"), _unary("positive")
    __abs__, __invert__ = _unary("absolute"), _unary("invert")

    # -------------------------------------------------- methods with CuPy's own rules
    def fill(self, value):
        if type(value) is ndarray:
            if value.shape != ():
                raise ValueError("non-scalar cupy.ndarray cannot be used for fill")
            self._standin_a.fill(value._standin_a[()])
            return
        value = np.asarray(value, dtype=self.dtype)
        if value.shape != ():
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        self._standin_a.fill(value[()])

    def take(self, indices, axis=None, out=None):
        """Out-of-range indices wrap around (CuPy's take has no mode)."""
        return _namespace().take(self, indices, axis=axis, out=out)

    def put(self, indices, values, mode="wrap"):
        return _namespace().put(self, indices, values, mode=mode)

    def nonzero(self):
        counters.sync("ndarray.nonzero: the result size is read back")
        return wrap_result(self._standin_a.nonzero())

    def compress(self, condition, axis=None, out=None):
        counters.sync("ndarray.compress: the result size is read back")
        return _delegate("compress")(self, condition, axis=axis, out=out)

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        dtype = check_dtype(dtype)
        kwargs = {} if casting is None else {"casting": casting}
        r = self._standin_a.astype(dtype, order=order, copy=copy, **kwargs)
        return self if r is self._standin_a else wrap(r)

    def copy(self, order="C"):
        return wrap(self._standin_a.copy(order=order))

    def ptp(self, axis=None, out=None, keepdims=False):
        return _namespace().ptp(self, axis=axis, out=out, keepdims=keepdims)

    def dot(self, b, out=None):
        if type(b) is not ndarray:
            raise TypeError(f"Argument 'b' has incorrect type (expected cupy.ndarray, got "
                            f"{type(b).__name__})")
        return _delegate("dot")(self, b, out=out)


def _delegate(name):
    """An ndarray method run by NumPy's method of the same name, with CuPy's
    argument rules (no NumPy arrays) and results (0-d arrays, not scalars)."""

    def method(self, *args, **kwargs):
        args = tuple(unwrap_any(x, f"ndarray.{name}") for x in args)
        out = kwargs.get("out")
        if out is not None:
            if type(out) is not ndarray:
                raise TypeError("Output arguments type must be cupy.ndarray")
            kwargs["out"] = out._standin_a
        kwargs = {k: unwrap_any(v, f"ndarray.{name}") for k, v in kwargs.items()}
        r = getattr(self._standin_a, name)(*args, **kwargs)
        if out is not None and r is out._standin_a:
            return out
        return wrap_result(r, (self,))
    method.__name__ = name
    method.__qualname__ = f"ndarray.{name}"
    return method


def _not_implemented_method(owner, name):
    """A name real CuPy has and the stand-in does not implement: calling it says so."""
    def method(self, *args, **kwargs):
        raise NotImplementedError(
            f"{owner}.{name} exists in CuPy but the stand-in does not implement it")
    method.__name__ = name
    return method


def _finish_ndarray_class():
    from .names import names
    real = names("cupy.ndarray")
    for name in sorted(real):
        if name in ndarray.__dict__ or name.startswith("__"):
            continue
        if hasattr(np.ndarray, name) and callable(getattr(np.ndarray, name)) \
                and not name.startswith("_"):
            setattr(ndarray, name, _delegate(name))
        elif not name.startswith("_"):
            setattr(ndarray, name, _not_implemented_method("cupy.ndarray", name))
    ndarray.__module__ = "cupy"


_finish_ndarray_class()
