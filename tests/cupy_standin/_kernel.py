"""``cupy.ElementwiseKernel`` of the stand-in: the real CUDA C body, compiled by g++.

The translation unit is generated as CuPy generates its CUDA code
(cupy/_core/_kernel.pyx: ParameterInfo, _decide_params_type_core,
_reduce_dims, _get_kernel_params, _get_elementwise_kernel_code): ``typedef``
lines for the type placeholders, the preamble, then

    extern "C" __global__ void NAME(const CArray<float, 1, 1, 1> x, const int h, ...,
                                    CArray<float, 1, 1, 1> _raw_cols, CIndexer<1, 1> _ind) {
      CUPY_FOR(i, _ind.size()) { _ind.set(i); T &cols = _raw_cols[_ind.get()]; <body>; }
    }

compiled against ``cuda_shim.h`` (CUDA's built-ins; bounds-checked arrays)
into a shared library cached by the source's hash, and called once through
ctypes: the loop over i runs in C. An access outside an array raises
``KernelIndexError`` naming the kernel, the argument, the index and the size.
"""
import ctypes
import re

import numpy as np

from . import _build, _core
from ._core import ndarray

_MAX_NDIM = 16

# cupy/_core/_scalar.pyx _typenames_base
_TYPENAMES = {
    np.dtype("float64"): "double", np.dtype("float32"): "float",
    np.dtype("int64"): "long long", np.dtype("int32"): "int", np.dtype("int16"): "short",
    np.dtype("int8"): "signed char", np.dtype("uint64"): "unsigned long long",
    np.dtype("uint32"): "unsigned int", np.dtype("uint16"): "unsigned short",
    np.dtype("uint8"): "unsigned char", np.dtype("bool"): "bool",
}
_INT32_MAX = (1 << 31) - 1


class KernelIndexError(IndexError):
    """An ElementwiseKernel read or wrote outside one of its arrays."""


def _typename(dtype):
    dtype = np.dtype(dtype)
    if dtype not in _TYPENAMES:
        raise TypeError(f"the CuPy stand-in compiles kernels for {sorted(map(str, _TYPENAMES))}, "
                        f"not {dtype}")
    return _TYPENAMES[dtype]


class _Param:
    """One of ``in_params``/``out_params``: ``[raw] type name`` (CuPy's ParameterInfo)."""

    def __init__(self, text, is_const):
        words = text.split()
        if len(words) < 2:
            raise Exception(f"Syntax error: {text}")
        t, self.name = words[-2:]
        self.raw, self.is_const = False, is_const
        self.dtype = self.ctype = None
        if len(t) == 1:
            self.ctype = t
        else:
            self.dtype = np.dtype(t)
            self.ctype = _typename(self.dtype)
        for w in words[:-2]:
            if w == "raw":
                self.raw = True
            elif w == "_non_const":
                self.is_const = False
            else:
                raise Exception(f'Unknown keyword "{w}"')


def _params(text, is_const):
    text = text.strip()
    return tuple(_Param(p, is_const) for p in text.split(",")) if text else ()


class _Scalar:
    """A Python/NumPy scalar argument (CuPy's CScalar); its C value is set by ``apply_dtype``."""

    def __init__(self, value):
        if type(value) in (bool, int, float):
            self.dtype = None  # weak: typed by the parameter
        elif isinstance(value, np.generic) and value.dtype.kind in "biuf":
            self.dtype = value.dtype
        else:
            raise _core.unsupported(value)
        self.value = value
        self.buffer = None

    def apply_dtype(self, dtype):
        # NumPy's assignment rules, as CuPy's PyArray_Pack: an out-of-range
        # Python int raises instead of wrapping.
        self.buffer = np.empty((), dtype=dtype)
        self.buffer[()] = self.value


def _decide_types(in_params, out_params, in_dtypes, out_dtypes):
    """CuPy's _decide_params_type_core: bind each placeholder to a dtype."""
    types = {}
    for p, a in zip(out_params, out_dtypes):
        if a is None:
            raise TypeError("Output arguments must be cupy.ndarray")
        if p.dtype is not None:
            if np.dtype(a) != p.dtype:
                raise TypeError(f"Type is mismatched. {p.name} {a} {p.dtype}")
        elif p.ctype in types:
            if np.dtype(types[p.ctype]) != np.dtype(a):
                raise TypeError(f"Type is mismatched. {p.name} {a} {types[p.ctype]} {p.ctype}")
        else:
            types[p.ctype] = np.dtype(a)
    for p, a in zip(in_params, in_dtypes):
        if a is None:
            continue
        if p.dtype is not None:
            if np.dtype(a) != p.dtype:
                raise TypeError(f"Type is mismatched. {p.name} {a} {p.dtype}")
        elif p.ctype in types:
            if np.dtype(types[p.ctype]) != np.dtype(a):
                raise TypeError(f"Type is mismatched. {p.name} {a} {types[p.ctype]} {p.ctype}")
        else:
            types[p.ctype] = np.dtype(a)
    try:
        in_types = tuple(types[p.ctype] if p.dtype is None else p.dtype for p in in_params)
        out_types = tuple(types[p.ctype] if p.dtype is None else p.dtype for p in out_params)
    except KeyError as e:
        raise TypeError(f"the type placeholder {e.args[0]} is not bound by any array "
                        f"argument") from None
    return in_types, out_types, tuple(sorted(types.items()))


class _Desc(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("size", ctypes.c_longlong),
                ("ndim", ctypes.c_longlong), ("name", ctypes.c_char_p),
                ("shape", ctypes.c_longlong * _MAX_NDIM),
                ("strides", ctypes.c_longlong * _MAX_NDIM)]


class _Error(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * 128), ("index", ctypes.c_longlong),
                ("size", ctypes.c_longlong), ("dim", ctypes.c_longlong)]


def _desc(a, name, shape=None):
    d = _Desc()
    if a is not None:
        d.data, d.size = a.ctypes.data, a.size
        shape, strides = a.shape, a.strides
    else:
        d.size = int(np.prod(shape))
        strides = (0,) * len(shape)
    if len(shape) > _MAX_NDIM:
        raise ValueError(f"the CuPy stand-in's kernels take at most {_MAX_NDIM} dimensions")
    d.ndim, d.name = len(shape), name.encode()
    for k, (n, s) in enumerate(zip(shape, strides)):
        d.shape[k], d.strides[k] = n, s
    return d


def _index_32_bits(a):
    return a.size * a.itemsize <= _INT32_MAX


class ElementwiseKernel:
    """``cupy.ElementwiseKernel(in_params, out_params, operation, name, ...)``."""

    def __init__(self, in_params, out_params, operation, name="kernel", reduce_dims=True,
                 preamble="", no_return=False, return_tuple=False, **kwargs):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f'Invalid kernel name: "{name}"')
        self.in_params = _params(in_params, True)
        self.out_params = _params(out_params, False)
        self.nin, self.nout = len(self.in_params), len(self.out_params)
        self.nargs = self.nin + self.nout
        self.params = self.in_params + self.out_params
        self.operation, self.name, self.__name__ = operation, name, name
        self.reduce_dims, self.preamble = reduce_dims, preamble
        self.no_return, self.return_tuple = no_return, return_tuple
        unknown = set(kwargs) - {"loop_prep", "after_loop", "options"}
        if unknown:
            raise TypeError(f"ElementwiseKernel: unexpected keyword arguments {sorted(unknown)}")
        self.kwargs = kwargs
        if "i" in [p.name for p in self.params]:
            raise ValueError("Can not use 'i' as a parameter name")
        self._cached_codes = {}
        self._launchers = {}

    @property
    def cached_codes(self):
        return dict(self._cached_codes)

    @property
    def cached_code(self):
        return next(iter(self._cached_codes.values()))

    def __call__(self, *args, size=-1, stream=None, block_size=128):
        if block_size <= 0:
            raise ValueError("block_size must be greater than zero")
        if len(args) not in (self.nin, self.nargs):
            raise TypeError(f"Wrong number of arguments for {self.name!r}. It must be either "
                            f"{self.nin} or {self.nargs} (with outputs), but given {len(args)}.")
        args = [a if type(a) is ndarray else _Scalar(a) for a in args]
        in_args, out_args = args[:self.nin], args[self.nin:]
        arrays = [a._standin_a.shape for a, p in zip(args, self.params)
                  if not p.raw and type(a) is ndarray]
        if size != -1:
            if arrays:
                raise ValueError("Specified 'size' can be used only if all of the ndarray "
                                 "are 'raw'.")
            shape = (int(size),)
        elif not arrays:
            raise ValueError("Loop size is undecided.")
        else:
            shape = np.broadcast_shapes(*arrays)
        in_dtypes = tuple(a.dtype if type(a) is ndarray else None for a in in_args)
        for a in out_args:
            if type(a) is not ndarray:
                raise TypeError("Output arguments type must be cupy.ndarray")
        in_types, out_types, type_map = _decide_types(
            self.in_params, self.out_params, in_dtypes, tuple(a.dtype for a in out_args))
        if not out_args:
            for p in self.out_params:
                if p.raw and size == -1:
                    raise ValueError("Output array size is Undecided")
            out_args = [ndarray(shape, t) for t in out_types]
        else:
            for p, a in zip(self.out_params, out_args):
                if not p.raw and a.shape != tuple(shape):
                    raise ValueError("Out shape is mismatched")
        if self.no_return:
            ret = None
        elif not self.return_tuple and self.nout == 1:
            ret = out_args[0]
        else:
            ret = tuple(out_args)
        if 0 in shape:
            return ret
        for a, t in zip(in_args, in_types):
            if type(a) is _Scalar:
                a.apply_dtype(t)
        self._launch(in_args, out_args, shape, type_map)
        return ret

    def _launch(self, in_args, out_args, shape, type_map):
        outs = [a._standin_a for a in out_args]
        # CuPy's _copy_in_args_if_needed: an input overlapping an output is copied first.
        arrays = []
        for a, p in zip(in_args, self.in_params):
            if type(a) is ndarray:
                x = a._standin_a
                if any(x is not o and np.may_share_memory(x, o) for o in outs):
                    x = x.copy()
                arrays.append(x if p.raw else np.broadcast_to(x, shape))
            else:
                arrays.append(a)
        arrays += outs
        # CuPy's _reduce_dims: when every non-raw array is C-contiguous, loop in 1-D.
        nonraw = [k for k, p in enumerate(self.params) if not p.raw and
                  isinstance(arrays[k], np.ndarray)]
        if self.reduce_dims and len(shape) > 1 and all(
                arrays[k].flags.c_contiguous for k in nonraw):
            shape = (int(np.prod(shape)),)
            for k in nonraw:
                arrays[k] = arrays[k].reshape(shape)
        infos, descs, ptrs = [], [], []
        for a, p in zip(arrays, self.params):
            if isinstance(a, np.ndarray):
                infos.append(("array", a.dtype.str, a.ndim, a.flags.c_contiguous,
                              _index_32_bits(a)))
                descs.append(_desc(a, p.name))
                ptrs.append(ctypes.addressof(descs[-1]))
            else:
                infos.append(("scalar", a.buffer.dtype.str))
                ptrs.append(a.buffer.ctypes.data)
        indexer = _desc(None, "_ind", shape)
        index_32 = int(np.prod(shape)) <= _INT32_MAX
        infos.append(("indexer", len(shape), index_32))
        fn = self._launcher(tuple(infos), type_map)
        argv = (ctypes.c_void_p * len(ptrs + [0]))(*ptrs, ctypes.addressof(indexer))
        err = _Error()
        if fn(argv, ctypes.byref(err)) != 0:
            what = (f"index {err.index} of its {err.size} elements" if err.dim < 0 else
                    f"index {err.index} of dimension {err.dim} (extent {err.size})")
            raise KernelIndexError(
                f"ElementwiseKernel {self.name!r}: argument {err.name.decode()!r} was accessed "
                f"at {what}: out of bounds (on a GPU a silent wrong read or write)")

    def _launcher(self, infos, type_map):
        key = (infos, type_map)
        fn = self._launchers.get(key)
        if fn is None:
            code = self._code(infos, type_map)
            self._cached_codes[tuple(i[1] for i in infos if i[0] == "array")] = code
            lib = _build.load(code, self.name)
            fn = lib.standin_launch
            fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
            fn.restype = ctypes.c_int
            self._launchers[key] = fn
        return fn

    def _code(self, infos, type_map):
        """The translation unit, as CuPy's _get_simple_elementwise_kernel_code
        writes it, plus the shim and a launcher for ctypes."""
        params, body, calls = [], [], []
        for k, (p, info) in enumerate(zip(self.params, infos)):
            if info[0] == "array":
                _, dtype, ndim, c_contig, idx32 = info
                ctype = (f"CArray<{_typename(dtype)}, {ndim}, {int(c_contig)}, "
                         f"{int(idx32)}>")
                var = p.name if p.raw else "_raw_" + p.name
                calls.append(f"{ctype}(*static_cast<const standin_desc*>(a[{k}]))")
                if not p.raw:
                    const = "const " if p.is_const else ""
                    body.append(f"{const}{p.ctype} &{p.name} = _raw_{p.name}[_ind.get()];")
            else:
                ctype, var = _typename(info[1]), p.name
                calls.append(f"*static_cast<const {ctype}*>(a[{k}])")
            params.append(f"{'const ' if p.is_const else ''}{ctype} {var}")
        _, ind_ndim, ind_32 = infos[-1]
        params.append(f"CIndexer<{ind_ndim}, {int(ind_32)}> _ind")
        calls.append(f"CIndexer<{ind_ndim}, {int(ind_32)}>"
                     f"(*static_cast<const standin_desc*>(a[{len(self.params)}]))")
        typedefs = "".join(f"typedef {_typename(t)} {name};\n" for name, t in type_map)
        operation = "\n".join(body + [self.operation])
        kernel = f"""
    {typedefs}
    {self.preamble}
    extern "C" __global__ void {self.name}({', '.join(params)}) {{
      {self.kwargs.get('loop_prep', '')};
      #pragma unroll 1
      CUPY_FOR(i, _ind.size()) {{
        _ind.set(i);
        {operation};
      }}
      {self.kwargs.get('after_loop', '')};
    }}
    """
        launcher = f"""
extern "C" int standin_launch(void** a, standin_error* err) {{
    try {{
        {self.name}({(',' + chr(10) + '            ').join(calls)});
    }} catch (const standin_out_of_bounds& e) {{
        standin_report(e, err);
        return 1;
    }}
    return 0;
}}
"""
        return '#include "cuda_shim.h"\n' + kernel + launcher


class RawKernel:
    """``cupy.RawKernel``: not run by the stand-in (minidl's kernels are ElementwiseKernels)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("cupy.RawKernel exists in CuPy but the stand-in runs only "
                                  "ElementwiseKernel (raw pointers cannot be bounds-checked)")
