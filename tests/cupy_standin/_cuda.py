"""``cupy.cuda`` of the stand-in: one device, one stream, a memory pool that counts.

The device is the host's CPU seen through NumPy. Its properties say so
(name ``b"CuPy stand-in (NumPy)"``), so a test that needs a real GPU can tell.
Synchronizing is a no-op that is counted, as CuPy's would make the host wait.
"""
import os

from . import _core, counters

DEVICE_NAME = b"CuPy stand-in (NumPy)"
# Sets the size of the random generators' state (cupy.random.XORWOW keeps
# 8 * 256 * multiProcessorCount cuRAND states): small, so seeding stays fast.
MULTIPROCESSOR_COUNT = 2


class CUDARuntimeError(RuntimeError):
    """Raised as CuPy's runtime does, e.g. for a device other than 0."""


def _check_device(i):
    if int(i) != 0:
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal "
                               "(the CuPy stand-in has one device, 0)")
    return 0


def _host_memory_bytes():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def getDeviceCount():
    return 1


def getDevice():
    return 0


def setDevice(device):
    _check_device(device)


def getDeviceProperties(device):
    _check_device(device)
    return {"name": DEVICE_NAME, "totalGlobalMem": _host_memory_bytes(),
            "multiProcessorCount": MULTIPROCESSOR_COUNT, "major": 0, "minor": 0,
            "warpSize": 1, "maxThreadsPerBlock": 1, "clockRate": 0,
            "integrated": 1, "managedMemory": 1, "pciBusID": 0, "pciDeviceID": 0}


# Values of CUDA's cudaDeviceAttr enum for the attributes answered here.
cudaDevAttrMultiProcessorCount = 16
cudaDevAttrWarpSize = 10
cudaDevAttrMaxThreadsPerBlock = 1
_ATTRIBUTES = {cudaDevAttrMultiProcessorCount: MULTIPROCESSOR_COUNT, cudaDevAttrWarpSize: 1,
               cudaDevAttrMaxThreadsPerBlock: 1}


def deviceGetAttribute(attrib, device):
    _check_device(device)
    if attrib not in _ATTRIBUTES:
        raise NotImplementedError(f"cupy.cuda.runtime.deviceGetAttribute({attrib}): not "
                                  f"answered by the CuPy stand-in")
    return _ATTRIBUTES[attrib]


def runtimeGetVersion():
    return 0  # no CUDA runtime at all


def driverGetVersion():
    return 0


def deviceSynchronize():
    counters.sync("cupy.cuda.runtime.deviceSynchronize")


class Device:
    """``cupy.cuda.Device``: device 0 only."""

    def __init__(self, device=None):
        self.id = _check_device(0 if device is None else device)

    def __int__(self):
        return self.id

    def __repr__(self):
        return f"<CUDA Device {self.id}>"

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def use(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def synchronize(self):
        counters.sync("cupy.cuda.Device.synchronize")

    @property
    def compute_capability(self):
        return "00"  # no GPU architecture: the stand-in runs kernels as C++ on the CPU


class Stream:
    """``cupy.cuda.Stream``: everything runs in order at once, so all streams are one."""

    def __init__(self, null=False, non_blocking=False, priority=0, ptds=False):
        self.ptr = 0
        self.priority = priority

    def synchronize(self):
        counters.sync("cupy.cuda.Stream.synchronize")

    def use(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def done(self):
        return True

    def __eq__(self, other):
        return isinstance(other, Stream) and other.ptr == self.ptr

    def __hash__(self):
        return hash(self.ptr)


Stream.null = Stream(null=True)


def get_current_stream(device_id=-1):
    return Stream.null


def get_device_id():
    return 0


def is_available():
    return True


class MemoryPool:
    """``cupy.cuda.MemoryPool``: ``used_bytes`` is what live device arrays hold;
    ``total_bytes`` adds the freed blocks a pool keeps (the high-water mark
    since the last ``free_all_blocks``). No allocation goes through it."""

    def used_bytes(self):
        return _core.POOL.used

    def total_bytes(self):
        return max(_core.POOL.total, _core.POOL.used)

    def free_bytes(self):
        return self.total_bytes() - self.used_bytes()

    def free_all_blocks(self, stream=None):
        _core.POOL.total = _core.POOL.used

    def n_free_blocks(self):
        return 1 if self.free_bytes() else 0

    def set_limit(self, size=None, fraction=None):
        self._limit = size or 0

    def get_limit(self):
        return getattr(self, "_limit", 0)


class PinnedMemoryPool:
    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_all_blocks(self):
        pass

    def n_free_blocks(self):
        return 0


_POOL, _PINNED = MemoryPool(), PinnedMemoryPool()


def get_default_memory_pool():
    return _POOL


def get_default_pinned_memory_pool():
    return _PINNED


def build_module(make_module):
    """cupy.cuda and cupy.cuda.runtime as strict modules."""
    runtime = make_module("cupy.cuda.runtime", "cupy.cuda.runtime", None,
                          "cupy.cuda.runtime stand-in")
    for name in ("getDeviceCount", "getDevice", "setDevice", "getDeviceProperties",
                 "deviceGetAttribute", "runtimeGetVersion", "driverGetVersion",
                 "deviceSynchronize", "CUDARuntimeError", "cudaDevAttrMultiProcessorCount",
                 "cudaDevAttrWarpSize", "cudaDevAttrMaxThreadsPerBlock"):
        setattr(runtime, name, globals()[name])
    runtime.is_hip = False
    cuda = make_module("cupy.cuda", "cupy.cuda", None, "cupy.cuda stand-in: one device")
    for name in ("Device", "Stream", "MemoryPool", "PinnedMemoryPool", "get_current_stream",
                 "get_device_id", "is_available"):
        setattr(cuda, name, globals()[name])
    cuda.runtime = runtime
    return cuda
