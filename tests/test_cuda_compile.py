"""The CUDA kernels of ``minidl/kernels/gpu.py`` compile for real GPUs (sm_80, sm_90).

No GPU is needed. Each kernel is compiled from the very source CuPy would
build for it, with the compiler CuPy would use:

1. gpu.py is imported with a small recording ``cupy`` in place of the real
   one, which keeps each ``ElementwiseKernel(...)``'s arguments; then its
   wrappers (im2col, col2im, ...) are called on NumPy arrays, and every
   launch is recorded: argument dtypes, shapes, scalars. That is what decides
   the kernel's C signature (``CArray<float, 1, 1, 1>``, ``const int``, ...).
2. A Python with the real CuPy package (``cupy-cuda12x``; it imports without
   a GPU) turns each launch into CUDA source with CuPy's own code generator
   (``cupy._core._kernel._get_elementwise_kernel_code``, the one
   ``ElementwiseKernel.__call__`` uses), prepends CuPy's headers as
   ``compile_with_cache`` does, and assembles CuPy's compiler options.
3. The source is compiled with NVRTC (CuPy's compiler for ElementwiseKernel,
   called here through ctypes with CuPy's options plus ``-arch=sm_XX
   --device-as-default-execution-space``), or else with nvcc the way CuPy's
   nvcc backend calls it (``nvcc -gencode=arch=compute_XX,code=sm_XX --cubin``).

Broken copies of each kernel (a misspelt name, a local that clashes with
CuPy's own declaration of an output, a preamble left out) must fail to
compile, so this test can fail.

Where to find things: MINIDL_CUPY_PYTHON names a Python with CuPy (default:
this one); MINIDL_NVRTC a libnvrtc.so (default: the ``nvidia-cuda-nvrtc-cu12``
wheel, then the CUDA toolkit); NVCC or PATH an nvcc. MINIDL_CUDA_COMPILER=nvcc
forces nvcc. Skipped, with the reason, where CuPy or both compilers are missing.
"""
import ctypes
import ctypes.util
import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types

import numpy as np
import pytest

import minidl.kernels  # noqa: F401  (the real package first: only gpu.py is loaded below)
from minidl.kernels import window_geometry

GPU_SOURCE = os.path.join(os.path.dirname(minidl.kernels.__file__), "gpu.py")
DTYPES = ("float32", "float64")
# (compute capability, index width): sm_80 is the A100, sm_90 the H100/H200. "-index64":
# arrays over 2 GiB, for which CuPy picks CArray<T, 1, 1, 0> (64-bit indexing); checked on
# sm_90 only (the same source as on sm_80).
TARGETS = [("80", ""), ("90", ""), ("90", "-index64")]


# --------------------------------------------- 1. gpu.py, recorded on the CPU ---

class _RecordedKernel:
    """Stands for ``cupy.ElementwiseKernel``: keeps its arguments and its launches."""

    def __init__(self, in_params, out_params, operation, name="kernel", **kwargs):
        self.spec = {"in_params": in_params, "out_params": out_params,
                     "operation": operation, "name": name, "kwargs": kwargs}
        self.launches = []

    def __call__(self, *args, **kwargs):
        assert not kwargs, f"{self.spec['name']}: launch keywords {kwargs} are not modelled here"
        self.launches.append([_describe(a) for a in args])
        nin = len([p for p in self.spec["in_params"].split(",") if p.strip()])
        outs = args[nin:]
        return outs[0] if len(outs) == 1 else tuple(outs)


def _describe(arg):
    """A launch argument as CuPy's argument info needs it (arrays are NumPy here)."""
    if isinstance(arg, np.ndarray):
        return {"kind": "ndarray", "dtype": arg.dtype.str, "shape": list(arg.shape),
                "c_contiguous": bool(arg.flags.c_contiguous), "nbytes": int(arg.nbytes)}
    if isinstance(arg, (np.generic, int, float)):
        return {"kind": "scalar", "dtype": np.asarray(arg).dtype.str}
    raise TypeError(f"gpu.py launched a kernel with a {type(arg).__name__}: not modelled here")


def _recording_gpu_module():
    """gpu.py imported with a recording ``cupy`` (device arrays are NumPy arrays),
    under a private name, leaving ``sys.modules`` as it was."""
    fake = types.ModuleType("cupy")
    fake.ElementwiseKernel = _RecordedKernel
    fake.empty = np.empty
    fake.ascontiguousarray = np.ascontiguousarray
    spec = importlib.util.spec_from_file_location("minidl.kernels._gpu_recorded", GPU_SOURCE)
    module = importlib.util.module_from_spec(spec)
    saved = sys.modules.get("cupy")
    sys.modules["cupy"] = fake
    try:
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            del sys.modules["cupy"]
        else:
            sys.modules["cupy"] = saved
    return module


def _probe_launches(gpu, dtype):
    """Call every wrapper once, as a layer would (NHWC, 'same' padding, stride 2)."""
    x = np.zeros((2, 7, 9, 3), dtype)
    g = window_geometry(7, 9, (3, 3), (2, 2), "same")
    cols = gpu.im2col(x, g)
    gpu.col2im(cols, x.shape, g)
    out, argmax = gpu.maxpool_forward(x, g)
    gpu.maxpool_backward(out, argmax, x.shape, g)


def _recorded_kernels():
    """{kernel name: (spec, {dtype: launch args})} for every ElementwiseKernel of gpu.py."""
    gpu = _recording_gpu_module()
    kernels = [k for k in vars(gpu).values() if isinstance(k, _RecordedKernel)]
    found = {}
    for dtype in DTYPES:
        for k in kernels:
            k.launches.clear()
        _probe_launches(gpu, dtype)
        for k in kernels:
            spec, launches = found.setdefault(k.spec["name"], (k.spec, {}))
            if k.launches:
                launches[dtype] = k.launches[0]
    return found


KERNELS = _recorded_kernels()


def test_every_kernel_of_gpu_py_is_recorded_and_launched_for_both_dtypes():
    # A new kernel in gpu.py must be launched by _probe_launches, or it is never compiled here.
    assert sorted(KERNELS) == ["minidl_col2im", "minidl_im2col", "minidl_maxpool_backward",
                               "minidl_maxpool_forward"]
    for name, (spec, launches) in KERNELS.items():
        assert sorted(launches) == sorted(DTYPES), f"{name} is not launched for every dtype"
        n_params = len(spec["in_params"].split(",")) + len(spec["out_params"].split(","))
        assert all(len(args) == n_params for args in launches.values()), name


# ---------------------------------------- 2. CuPy's source, from CuPy itself ---

# Runs in a Python that has the real CuPy; reads requests (JSON) on stdin and
# writes {label: {"source", "options"}} on stdout. Mirrors what
# ElementwiseKernel.__call__ does between its arguments and the compiler
# (CuPy 14: cupy/_core/_kernel.pyx, cupy/_core/core.pyx compile_with_cache,
# cupy/cuda/compiler.py _compile_with_cache_cuda).
_CUPY_SIDE = r'''
import json, math, sys
import numpy as np
try:
    import cupy
    from cupy._core import _carray, _kernel, _scalar, core
except Exception as e:  # not installed, or a stand-in without CuPy's internals
    print(json.dumps({"missing": f"{type(e).__name__}: {e}"}))
    sys.exit(0)
ARG_NDARRAY, ARG_INDEXER, ARG_SCALAR = 1, 2, 3          # _kernel.pxd's _ArgKind

def options_for(kernel_options):
    try:
        options = core.assemble_cupy_compiler_options(tuple(kernel_options))
        note = None
    except RuntimeError as e:  # no CUDA headers: the kernels include none of them
        options = (core._get_cccl_include_options() + tuple(kernel_options)
                   + ("--std=c++17", "-I" + core._get_header_dir_path()))
        note = str(e)
    return list(options) + ["-ftz=true"], note       # _compile_with_cache_cuda adds -ftz

def source_for(req):
    spec = req["spec"]
    k = cupy.ElementwiseKernel(spec["in_params"], spec["out_params"], spec["operation"],
                               spec["name"], **spec["kwargs"])
    args = req["args"]
    nd = lambda a: a["kind"] == "ndarray"
    in_types = tuple(np.dtype(a["dtype"]) if nd(a) else None for a in args[:k.nin])
    out_types = tuple(np.dtype(a["dtype"]) for a in args[k.nin:])
    in_t, out_t, type_map = k._decide_params_type(in_types, out_types)
    params = k.params[:k.nargs]
    # _broadcast: the shape of the non-raw arrays; _reduce_dims: C-contiguous -> 1-D
    shapes = {tuple(a["shape"]) for a, p in zip(args, params) if nd(a) and not p.raw}
    assert len(shapes) == 1, f"{k.name}: non-raw arrays of shapes {shapes}: not modelled"
    shape = shapes.pop()
    contiguous = all(a["c_contiguous"] for a, p in zip(args, params) if nd(a) and not p.raw)
    assert contiguous or len(shape) <= 1, f"{k.name}: strided outputs are not modelled"
    reduced = len(shape) > 1
    size = math.prod(shape)
    wide = req.get("index_64_bits", False)
    infos = []
    for a, p, t in zip(args, params, in_t + out_t):
        if nd(a):
            ndim = 1 if (reduced and not p.raw) else len(a["shape"])
            infos.append(_kernel._ArgInfo(ARG_NDARRAY, cupy.ndarray, np.dtype(a["dtype"]), ndim,
                                          a["c_contiguous"], a["nbytes"] <= 2**31 and not wide))
        else:  # CScalar.apply_dtype(in_types[i]) gives the parameter's type
            infos.append(_kernel._ArgInfo(ARG_SCALAR, _scalar.CScalar, np.dtype(t), 0, True, True))
    infos.append(_kernel._ArgInfo(ARG_INDEXER, _carray.Indexer, None, 1 if reduced else len(shape),
                                  True, size <= 2**31 and not wide))
    code = _kernel._get_elementwise_kernel_code(tuple(infos), type_map, k.params, k.operation,
                                                k.name, k.preamble, **k.kwargs)
    source = "".join("#include <%s>\n" % h for h in core._cupy_header_list) + code
    options, note = options_for(k.kwargs.get("options", ()))
    return {"source": source, "options": options, "note": note}

requests = json.load(sys.stdin)
print(json.dumps({"cupy": cupy.__version__,
                  "sources": {label: source_for(r) for label, r in requests.items()}}))
'''


def _cupy_sources(requests):
    """CuPy's source and options for each request; skips where no real CuPy is found."""
    python = os.environ.get("MINIDL_CUPY_PYTHON") or sys.executable
    with tempfile.TemporaryDirectory() as cwd:  # away from the repository and tests/
        out = subprocess.run([python, "-c", _CUPY_SIDE], input=json.dumps(requests),
                             capture_output=True, text=True, cwd=cwd, timeout=120)
    if out.returncode != 0:
        pytest.fail(f"CuPy's code generator failed in {python}:\n{out.stderr[-3000:]}")
    reply = json.loads(out.stdout.strip().splitlines()[-1])
    if "missing" in reply:
        pytest.skip(f"no real CuPy in {python} ({reply['missing']}): its headers and code "
                    f"generator are needed; pip install cupy-cuda12x (no GPU needed) or set "
                    f"MINIDL_CUPY_PYTHON")
    return reply


# ------------------------------------------------------ 3. NVRTC, or nvcc ---

class _NVRTC:
    """libnvrtc through ctypes: what CuPy's _NVRTCProgram does."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        p, c, i, s = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t
        for name, args in {"nvrtcVersion": [ctypes.POINTER(i)] * 2,
                           "nvrtcCreateProgram": [ctypes.POINTER(p), c, c, i, p, p],
                           "nvrtcCompileProgram": [p, i, ctypes.POINTER(c)],
                           "nvrtcGetProgramLogSize": [p, ctypes.POINTER(s)],
                           "nvrtcGetProgramLog": [p, c],
                           "nvrtcGetCUBINSize": [p, ctypes.POINTER(s)],
                           "nvrtcGetCUBIN": [p, c],
                           "nvrtcDestroyProgram": [ctypes.POINTER(p)]}.items():
            getattr(lib, name).argtypes, getattr(lib, name).restype = args, i
        major, minor = i(), i()
        lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
        self.lib, self.version = lib, (major.value, minor.value)
        self.name = f"NVRTC {major.value}.{minor.value} ({path})"

    def compile(self, source, options, arch):
        """(ok, log, cubin) of one program, as CuPy compiles it for ``sm_<arch>``."""
        lib, prog = self.lib, ctypes.c_void_p()
        options = options + [f"-arch=sm_{arch}", "--device-as-default-execution-space"]
        assert lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"kern.cu",
                                      0, None, None) == 0
        try:
            argv = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
            status = lib.nvrtcCompileProgram(prog, len(options), argv)
            size = ctypes.c_size_t()
            lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
            log = ctypes.create_string_buffer(size.value)
            lib.nvrtcGetProgramLog(prog, log)
            cubin = b""
            if status == 0:
                lib.nvrtcGetCUBINSize(prog, ctypes.byref(size))
                buf = ctypes.create_string_buffer(size.value)
                lib.nvrtcGetCUBIN(prog, buf)
                cubin = buf.raw
            return status == 0, log.value.decode(errors="replace"), cubin
        finally:
            lib.nvrtcDestroyProgram(ctypes.byref(prog))


class _NVCC:
    """nvcc, called as CuPy's nvcc backend does (compiler.compile_using_nvcc)."""

    def __init__(self, path):
        self.path = path
        version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
        self.name = f"nvcc {' '.join(version.split()[-2:])} ({path})"

    def compile(self, source, options, arch):
        with tempfile.TemporaryDirectory() as root:
            cu = os.path.join(root, "kern.cu")
            with open(cu, "w") as f:
                f.write(source)
            out = subprocess.run([self.path, f"-gencode=arch=compute_{arch},code=sm_{arch}",
                                  "--cubin", *options, cu], cwd=root, capture_output=True,
                                 text=True, timeout=300)
            cubin_path = os.path.join(root, "kern.cubin")
            cubin = open(cubin_path, "rb").read() if os.path.exists(cubin_path) else b""
            return out.returncode == 0, out.stdout + out.stderr, cubin


def _nvrtc_candidates():
    if os.environ.get("MINIDL_NVRTC"):
        yield os.environ["MINIDL_NVRTC"]
    try:  # the nvidia-cuda-nvrtc-cu12 (or -cu13) wheel
        spec = importlib.util.find_spec("nvidia")
    except (ImportError, ValueError):
        spec = None
    for root in (spec.submodule_search_locations if spec else None) or []:
        for lib in sorted(glob.glob(os.path.join(root, "**", "libnvrtc.so*"), recursive=True)):
            if "builtins" not in lib and ".alt." not in lib:
                yield lib
    found = ctypes.util.find_library("nvrtc")
    if found:
        yield found
    for root in filter(None, (os.environ.get("CUDA_PATH"), "/usr/local/cuda")):
        yield from sorted(glob.glob(os.path.join(root, "lib64", "libnvrtc.so*")))


def _compiler():
    """NVRTC if one loads (and knows sm_90), else nvcc; skips the test where neither is."""
    tried = []
    if os.environ.get("MINIDL_CUDA_COMPILER", "").lower() != "nvcc":
        for path in _nvrtc_candidates():
            try:
                nvrtc = _NVRTC(path)
            except (OSError, AttributeError) as e:
                tried.append(f"{path}: {e}")
                continue
            if nvrtc.version >= (11, 8):  # sm_90 arrived in CUDA 11.8
                return nvrtc
            tried.append(f"{path}: NVRTC {nvrtc.version} predates sm_90")
    toolkit_nvcc = os.path.join(os.environ.get("CUDA_PATH", "/usr/local/cuda"), "bin", "nvcc")
    nvcc = (os.environ.get("NVCC") or shutil.which("nvcc")
            or (toolkit_nvcc if os.path.exists(toolkit_nvcc) else None))
    if nvcc:
        return _NVCC(nvcc)
    pytest.skip("no CUDA compiler: neither NVRTC (pip install nvidia-cuda-nvrtc-cu12, or set "
                "MINIDL_NVRTC) nor nvcc found" + (f"; tried {tried}" if tried else ""))


# ---------------------------------------------------------------- requests ---

def _broken(spec, how):
    """A copy of a kernel with one mistake that CuPy's compile must reject."""
    spec = dict(spec)
    out = re.split(r"\s+", spec["out_params"].split(",")[0].strip())[-1]
    if how == "typo":          # a misspelt output name in the body's code (not a comment)
        op = spec["operation"]
        use = next(m for m in re.finditer(rf"\b{out}\b", op)
                   if "//" not in op[op.rfind("\n", 0, m.start()) + 1:m.start()])
        spec["operation"] = op[:use.start()] + out + "_" + op[use.end():]
    elif how == "clash":       # a local named like an output: CuPy declares that name itself
        spec["operation"] = f"int {out} = 0;\n" + spec["operation"]
    elif how == "no-preamble":  # the helper functions the body calls are missing
        spec["kwargs"] = {k: v for k, v in spec["kwargs"].items() if k != "preamble"}
    return spec


BROKEN = [(name, how) for name, (spec, _) in KERNELS.items()
          for how in ("typo", "clash", "no-preamble")
          if how != "no-preamble" or spec["kwargs"].get("preamble")]


def _requests():
    requests = {}
    for name, (spec, launches) in KERNELS.items():
        for dtype, args in launches.items():
            requests[f"{name}-{dtype}"] = {"spec": spec, "args": args}
            requests[f"{name}-{dtype}-index64"] = {"spec": spec, "args": args,
                                                   "index_64_bits": True}
    for name, how in BROKEN:
        spec, launches = KERNELS[name]
        requests[f"{name}-{how}"] = {"spec": _broken(spec, how), "args": launches["float32"]}
    return requests


@pytest.fixture(scope="module")
def toolchain():
    """(CuPy's reply: sources and options by label, the compiler)."""
    compiler = _compiler()
    return _cupy_sources(_requests()), compiler


def _compile(toolchain, label, arch):
    reply, compiler = toolchain
    entry = reply["sources"][label]
    return compiler.compile(entry["source"], entry["options"], arch)


# ------------------------------------------------------------------- tests ---

@pytest.mark.parametrize("arch, index", TARGETS,
                         ids=[f"sm_{a}-{i[1:] or 'index32'}" for a, i in TARGETS])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_kernel_compiles_as_cupy_builds_it(toolchain, kernel, dtype, arch, index):
    ok, log, cubin = _compile(toolchain, f"{kernel}-{dtype}{index}", arch)
    assert ok, f"{kernel} ({dtype}, sm_{arch}) does not compile with {toolchain[1].name}:\n{log}"
    assert kernel.encode() in cubin, f"{kernel}: the cubin lacks the kernel's symbol"


@pytest.mark.parametrize("kernel, how", BROKEN, ids=[f"{k}-{h}" for k, h in BROKEN])
def test_broken_kernel_does_not_compile(toolchain, kernel, how):
    ok, log, _ = _compile(toolchain, f"{kernel}-{how}", "90")
    assert not ok, f"{kernel} with a {how} mistake compiled: this test could not fail"
    assert "error" in log.lower(), log


def test_source_is_cupys_generated_kernel(toolchain):
    # What was compiled is CuPy's full translation unit, not the bare body: its headers,
    # the dtype's typedef, the parameter list and the reference to each output element.
    source = toolchain[0]["sources"]["minidl_im2col-float32"]["source"]
    assert source.startswith("#include <cupy/complex.cuh>\n#include <cupy/carray.cuh>")
    assert "typedef float T;" in source
    assert ('extern "C" __global__ void minidl_im2col(const CArray<float, 1, 1, 1> x, '
            'const int h, ') in source
    assert "T &cols = _raw_cols[_ind.get()];" in source
    assert "CUPY_FOR(i, _ind.size())" in source
