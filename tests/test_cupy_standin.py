"""The CuPy stand-in (tests/cupy_standin) is as strict as CuPy.

Each rule below is one NumPy would let pass: a test here passes on the
stand-in and would fail if ``cp`` were NumPy. The stand-in is used directly
(``cp``), whether or not it is installed as ``cupy`` for this run; the tests
that run minidl's CUDA kernels need it installed (MINIDL_CUPY_STANDIN=1).
"""
import copy
import os
import pickle
import re

import numpy as np
import pytest

import cupy_standin
from cupy_standin import counters
from cupy_standin._kernel import KernelIndexError
from cupy_standin._namespace import CUPY as cp
from cupy_standin.names import cupy_version, names

IMPLICIT = "Implicit conversion to a NumPy array is not allowed"
NUMPY_OPERAND = "Unsupported type <class 'numpy.ndarray'>"

needs_installed = pytest.mark.skipif(
    not cupy_standin.installed(),
    reason="runs minidl's kernels through `import cupy`: needs MINIDL_CUPY_STANDIN=1")


@pytest.fixture
def x():
    return cp.arange(6, dtype=np.float32).reshape(2, 3)


@pytest.fixture(autouse=True)
def _fresh_counters():
    counters.reset()
    yield


# ------------------------------------------------------ crossing the bus ---

def test_device_arrays_are_their_own_type(x):
    assert type(x) is cp.ndarray and not isinstance(x, np.ndarray)
    assert repr(type(x)) == "<class 'cupy.ndarray'>"


@pytest.mark.parametrize("convert", [np.asarray, np.array, lambda a: np.float32(a[0, 0]),
                                     lambda a: np.testing.assert_allclose(a, a),
                                     lambda a: a.__array__()],
                         ids=["asarray", "array", "np.float32", "assert_allclose", "__array__"])
def test_implicit_conversion_to_numpy_raises(x, convert):
    with pytest.raises(TypeError, match=IMPLICIT):
        convert(x)


def test_no_buffer_or_array_interface(x):
    with pytest.raises(TypeError):
        memoryview(x)
    assert not hasattr(x, "__array_interface__")  # absent in CuPy too
    assert not hasattr(x, "__array_struct__")


def test_get_asnumpy_asarray_are_the_crossings_and_are_counted(x):
    counters.reset()
    host = x.get()
    again = cp.asnumpy(x)
    back = cp.asarray(host)
    assert type(host) is np.ndarray and type(again) is np.ndarray and type(back) is cp.ndarray
    assert counters.snapshot() == {"host_transfers": 3, "syncs": 2, "to_device": 1,
                                   "to_host": 2}
    assert cp.asarray(back) is back  # already on the device: no copy, not counted
    assert counters.snapshot()["host_transfers"] == 3


# ------------------------------------------------- NumPy arrays refused ---

@pytest.mark.parametrize("op", [
    lambda a, h: a + h, lambda a, h: h + a, lambda a, h: a * h, lambda a, h: h > a,
    lambda a, h: cp.maximum(a, h), lambda a, h: np.maximum(a, h),
    lambda a, h: cp.where(a > 1, a, h), lambda a, h: cp.clip(a, h, 3.0),
    lambda a, h: a @ h.T, lambda a, h: cp.matmul(a, h.T)],
    ids=["add", "radd", "mul", "compare", "cupy.maximum", "np.maximum", "where", "clip",
         "matmul-op", "cupy.matmul"])
def test_numpy_array_operand_raises(x, op):
    with pytest.raises(TypeError, match=re.escape(NUMPY_OPERAND)):
        op(x, np.ones((2, 3), np.float32))


def test_numpy_array_in_a_device_function_raises(x):
    with pytest.raises(TypeError, match=re.escape(NUMPY_OPERAND)):
        cp.concatenate([x, np.ones((2, 3), np.float32)])
    with pytest.raises(TypeError):
        cp.ascontiguousarray(np.ones(3))


def test_numpy_array_assigned_into_a_slice_raises(x):
    """CuPy fills basic-indexed targets from the host only with scalars."""
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray cannot be used for fill"):
        x[0] = np.ones(3, np.float32)
    x[0] = np.float32(7)  # a host scalar is a kernel argument: fine
    assert x[0].get().tolist() == [7, 7, 7]


def test_scalars_python_and_numpy_are_accepted(x):
    assert (x * 2).dtype == np.float32 and (x * np.float32(2)).dtype == np.float32
    assert cp.maximum(x, 0).dtype == np.float32


def test_dtype_promotion_is_numpy_2s(x):
    """Python scalars are weak, NumPy scalars are not (NEP 50, as CuPy 14)."""
    assert (x * 0.1).dtype == np.float32
    assert (x * np.float64(0.1)).dtype == np.float64
    assert (cp.arange(3, dtype=np.int32) + 1.5).dtype == np.float64
    assert (cp.arange(3, dtype=np.int32) + 1).dtype == np.int32


def test_numpy_ufuncs_dispatch_to_the_device(x):
    for r in (np.exp(x), np.add(x, 1), np.sum(x), np.concatenate([x, x]), np.mean(x, axis=0)):
        assert type(r) is cp.ndarray
    assert counters.snapshot()["host_transfers"] == 0


# ------------------------------------------------ results stay on device ---

def test_reductions_return_0d_device_arrays(x):
    for r in (x.sum(), x.max(), x.argmax(), x.mean(), cp.sum(x), x.any(), (x > 2).all()):
        assert type(r) is cp.ndarray and r.shape == ()
    assert type(x[1, 2]) is cp.ndarray and x[1, 2].shape == ()


def test_integer_element_is_a_view(x):
    v = x[1, 2]
    v[...] = 42
    assert x.get()[1, 2] == 42


@pytest.mark.parametrize("sync", [float, int, bool, lambda a: a.item(), lambda a: a.tolist(),
                                  repr], ids=["float", "int", "bool", "item", "tolist", "repr"])
def test_host_conversions_are_counted_syncs(x, sync):
    counters.reset()
    sync(x.sum())
    assert counters.snapshot()["syncs"] == 1 and counters.snapshot()["to_host"] == 1


def test_no_index_protocol(x):
    """CuPy arrays have no __index__: range(x), list[x] need an explicit int()."""
    with pytest.raises(TypeError):
        range(cp.asarray(3))
    assert not hasattr(cp.ndarray, "__index__")


def test_host_index_arrays_are_copied_over_and_counted(x):
    """CuPy takes NumPy and list indices (core.array(s)): a copy to the device."""
    assert x[np.array([1, 0])].get()[0].tolist() == [3, 4, 5]
    assert x[[1]].shape == (1, 3)
    assert counters.snapshot()["to_device"] == 2


def test_boolean_mask_indexing_is_a_sync(x):
    counters.reset()
    assert x[x > 2].shape == (3,)
    assert counters.snapshot()["syncs"] == 1


# ---------------------------------------------------------- wrap-around ---

def test_out_of_range_index_arrays_wrap_around():
    a = cp.arange(3)
    assert a[cp.asarray([1, 3, -4, 5])].get().tolist() == [1, 0, 2, 2]
    with pytest.raises(IndexError):  # NumPy
        np.arange(3)[np.array([3])]


def test_out_of_range_index_arrays_wrap_per_axis():
    a = cp.arange(12).reshape(3, 4)
    assert a[cp.asarray([0, 4]), cp.asarray([5, -1])].get().tolist() == [1, 7]
    assert a[:, cp.asarray([4])].get().ravel().tolist() == [0, 4, 8]


def test_wrap_around_in_assignment_take_and_take_along_axis():
    a = cp.zeros(3)
    a[cp.asarray([1, 3])] = 10
    assert a.get().tolist() == [10, 10, 0]
    assert cp.take(cp.arange(3), cp.asarray([5])).get().tolist() == [2]
    labels = cp.asarray([[5]])  # label 5 of 3 classes lands on class 2
    assert cp.take_along_axis(cp.arange(3)[None], labels, axis=1).get().tolist() == [[2]]


def test_scalar_index_is_still_bounds_checked():
    with pytest.raises(IndexError):
        cp.arange(3)[3]


# ---------------------------------------------------------------- names ---

def test_names_come_from_real_cupy():
    assert re.fullmatch(r"\d+\.\d+\.\d+", cupy_version())
    assert {"ndarray", "asnumpy", "ElementwiseKernel", "cuda", "random"} <= names("cupy")
    assert cp.__version__ == cupy_version() + "+standin"


@pytest.mark.parametrize("get", [lambda: cp.not_a_cupy_name, lambda: cp.cuda.not_there,
                                 lambda: cp.random.RandomGenerator, lambda: cp.arange(3).numpy,
                                 lambda: cp.arange(3).__array_namespace__,
                                 lambda: cp.random.default_rng(0).permutation],
                         ids=["cupy", "cuda", "random", "ndarray", "ndarray-dunder",
                              "Generator"])
def test_names_cupy_lacks_raise_attribute_error(get):
    with pytest.raises(AttributeError):
        get()


@pytest.mark.parametrize("namespace, obj", [
    ("cupy", cp), ("cupy.ndarray", cp.ndarray), ("cupy.random", cp.random),
    ("cupy.random.Generator", cp.random.Generator), ("cupy.cuda", cp.cuda),
    ("cupy.cuda.runtime", cp.cuda.runtime)])
def test_every_name_the_standin_has_is_real(namespace, obj):
    mine = {n for n in (vars(obj) if not isinstance(obj, type) else
                        {k for c in obj.__mro__[:-1] for k in vars(c)})
            if not n.startswith("_standin")}
    extra = mine - names(namespace) - {"__dict__", "__weakref__", "__slots__", "__module__",
                                       "__qualname__", "__firstlineno__", "__static_attributes__"}
    assert not extra, f"{namespace}: names real CuPy lacks: {sorted(extra)}"


def test_real_names_not_implemented_say_so():
    with pytest.raises(NotImplementedError, match="exists in CuPy"):
        cp.fuse(lambda a: a)
    with pytest.raises(NotImplementedError, match="exists in CuPy"):
        cp.random.default_rng(0).gamma(1.0)


# --------------------------------------------------------------- kernels ---

_COPY_WITH_OFFSET = ("raw T x, int32 off", "T y", "y = x[i + off]", "standin_copy_offset")


def test_elementwise_kernel_runs_cuda_source():
    k = cp.ElementwiseKernel("T x, T y", "T z", "z = x * y + (T)1", "standin_fma")
    a = cp.arange(5, dtype=np.float64)
    assert k(a, a).get().tolist() == [1, 2, 5, 10, 17]
    assert "extern \"C\" __global__ void standin_fma" in k.cached_code


def test_elementwise_kernel_broadcasts_and_types_scalars():
    k = cp.ElementwiseKernel("T x, float32 s", "T z", "z = x + s", "standin_add_scalar")
    r = k(cp.ones((2, 3), np.float32), 2)
    assert r.shape == (2, 3) and r.dtype == np.float32 and r.get().min() == 3


def test_raw_read_out_of_bounds_raises_with_kernel_argument_index_size():
    k = cp.ElementwiseKernel(*_COPY_WITH_OFFSET)
    x = cp.arange(4, dtype=np.float32)
    assert k(x, 0, cp.empty(4, np.float32)).get().tolist() == [0, 1, 2, 3]
    with pytest.raises(KernelIndexError) as e:
        k(x, 1, cp.empty(4, np.float32))
    assert all(s in str(e.value) for s in ("standin_copy_offset", "'x'", "index 4", "4 elements"))


def test_kernel_arguments_follow_cupys_rules():
    k = cp.ElementwiseKernel(*_COPY_WITH_OFFSET)
    with pytest.raises(TypeError, match=re.escape(NUMPY_OPERAND)):
        k(np.arange(4.0), 0, cp.empty(4))
    with pytest.raises(TypeError, match="Type is mismatched"):
        k(cp.arange(4.0), 0, cp.empty(4, np.float32))
    with pytest.raises(ValueError, match="Can not use 'i'"):
        cp.ElementwiseKernel("T i", "T y", "y = i")


def test_kernel_without_a_gpu_meaning_does_not_compile():
    from cupy_standin._build import CompileError
    k = cp.ElementwiseKernel("T x", "T y", "__syncthreads(); y = x", "standin_sync")
    with pytest.raises(CompileError, match="__syncthreads"):
        k(cp.arange(3.0))


@needs_installed
def test_a_broken_col2im_bound_is_caught():
    """gpu.py's col2im with `oy > oh` for `oy >= oh`: reads a row past the cols array."""
    from minidl.kernels import gpu, window_geometry
    source = gpu._COL2IM.operation.replace("if (oy >= oh) continue;", "if (oy > oh) continue;")
    assert source != gpu._COL2IM.operation
    broken = cp.ElementwiseKernel("raw T cols, " + gpu._GEOMETRY, "T dx", source,
                                  "minidl_col2im_broken")
    g = window_geometry(6, 6, (3, 3), (1, 1), "valid")
    cols = cp.ones((1 * g.out_h * g.out_w, 9), np.float64)
    dx = cp.empty((1, 6, 6, 1), np.float64)
    with pytest.raises(KernelIndexError, match="minidl_col2im_broken.*'cols'"):
        broken(gpu._flat(cols), *gpu._sizes(dx.shape, g), dx)


@needs_installed
def test_minidl_kernels_run_on_the_standin():
    from minidl import backend, kernels
    assert backend.gpu_available() and kernels.implementation(cp) == "cuda"


# ---------------------------------------------------------------- random ---

def test_same_seed_same_stream_other_seed_other_stream():
    a = cp.random.default_rng(7).random(1000).get()
    b = cp.random.default_rng(7).random(1000).get()
    c = cp.random.default_rng(8).random(1000).get()
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert 0 <= a.min() and a.max() < 1 and abs(a.mean() - 0.5) < 0.05


def test_generator_state_is_an_int8_device_buffer_that_restores_the_stream():
    g = cp.random.default_rng(3)
    bits = g.bit_generator
    assert type(bits).__name__ == "XORWOW" and bits._state.dtype == np.int8
    assert bits._state.size == 48 * bits._state_size()
    g.random(10)
    saved = cp.asnumpy(bits._state)
    first = g.random(5000, dtype=np.float32).get()
    normal = g.standard_normal(7).get()
    bits._state[...] = cp.asarray(saved)
    assert np.array_equal(g.random(5000, dtype=np.float32).get(), first)
    assert np.array_equal(g.standard_normal(7).get(), normal)


def test_generator_draws():
    g = cp.random.default_rng(0)
    assert g.random((2, 3), dtype=np.float32).dtype == np.float32
    k = g.integers(2, 5, size=10000).get()
    assert k.dtype == np.int64 and set(k.tolist()) == {2, 3, 4}
    z = g.standard_normal(20000).get()
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05


@needs_installed
def test_backend_state_round_trip_continues_the_device_stream():
    from minidl import backend as K
    saved_device = K.device()
    try:
        K.set_device("gpu")
        K.seed(5)
        K.random_uniform((4,))
        state = K.get_rng_state()
        a = K.to_numpy(K.random_uniform((100,)))
        K.set_rng_state(state)
        assert np.array_equal(K.to_numpy(K.random_uniform((100,))), a)
    finally:
        K.set_device(saved_device)


# ------------------------------------------------------------------ cuda ---

def test_one_device_that_says_it_is_the_standin():
    assert cp.cuda.runtime.getDeviceCount() == 1
    assert cp.cuda.runtime.getDeviceProperties(0)["name"] == b"CuPy stand-in (NumPy)"
    assert cp.cuda.Device().id == 0
    with pytest.raises(cp.cuda.runtime.CUDARuntimeError):
        cp.cuda.Device(1)


def test_stream_synchronize_is_a_counted_sync():
    cp.cuda.get_current_stream().synchronize()
    assert counters.snapshot() == {"host_transfers": 0, "syncs": 1, "to_device": 0,
                                   "to_host": 0}


def test_memory_pool_counts_live_device_bytes():
    pool = cp.get_default_memory_pool()
    before = pool.used_bytes()
    a = cp.zeros(1 << 20, np.uint8)
    assert pool.used_bytes() == before + (1 << 20) and pool.total_bytes() >= pool.used_bytes()
    del a
    assert pool.used_bytes() == before and pool.total_bytes() >= before + (1 << 20)


def test_empty_is_not_zeroed():
    """A device pool hands back stale memory: code relying on zeros from empty is caught."""
    assert np.isnan(cp.empty(4).get()).all()
    assert (cp.empty(4, np.int32).get() == -1).all()


# -------------------------------------------------------------- counters ---

def test_trace_names_the_line_that_synchronized(x):
    counters.trace(True)
    try:
        float(x.sum())
        (kind, what, where), = counters.events()
        assert kind == "to_host" and what == "float(x)"
        assert where.startswith(os.path.abspath(__file__))
    finally:
        counters.trace(False)


def test_watch_dtypes_names_the_line_that_made_a_float64_array(x):
    with counters.watch_dtypes() as seen:
        y = x * 0.5                      # float32: Python scalars are weak
        z = x * np.float64(0.5)          # float64: a NumPy float64 scalar is not
    assert set(seen) == {"float32", "float64"} and y.dtype == np.float32
    (site,) = seen["float64"]
    assert site.startswith(os.path.abspath(__file__)) and z.dtype == np.float64


def test_pickle_and_copy_keep_device_arrays(x):
    assert pickle.loads(pickle.dumps(x)).get().tolist() == x.get().tolist()
    assert type(copy.deepcopy(x)) is cp.ndarray


def test_minidl_does_not_know_the_standin():
    import minidl
    root = os.path.dirname(minidl.__file__)
    for folder, _, files in os.walk(root):
        for f in files:
            if f.endswith(".py"):
                with open(os.path.join(folder, f)) as fh:
                    assert "standin" not in fh.read().lower(), f
