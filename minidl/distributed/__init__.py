"""Data-parallel training on several processes, cores or GPUs: ``minidl.distributed``.

    import minidl
    minidl.distributed.init()          # the one line a script adds
    model.fit(x, y, batch_size=128)    # unchanged

    mpirun -n 4 python train.py        # (or mpiexec, srun); plain `python train.py`
                                       # is a world of one and needs no MPI

On N processes ``fit`` trains one model: weights, BatchNorm statistics and
optimizer state are broadcast from rank 0 before the first step;
``batch_size`` is the global batch, of which each process takes its slice
(``data.rank_slice``) from a permutation all processes draw alike; after
the backward pass the gradients of all trainable weights travel in one
flat buffer, summed by one allreduce and scaled so the result is the
gradient one process would compute on the whole batch. Loss and metrics
travel in the same buffer, so every process logs the same History and
callbacks decide alike. Dropout and augmentation draw from a stream per
process. Printing and saving happen on rank 0 only. See ``training.py``.

The engine is an existing one: MPI through mpi4py on CPUs (the ``mpi``
extra: mpi4py and Open MPI's wheel), NCCL through CuPy on GPUs.
"""
import os
import sys

from .. import backend as K
from .communicators import (MPICommunicator, NCCLCommunicator, WorldOfOne,  # noqa: F401
                            launcher_size, nccl_module)
from .data import ShardedIterator, local_part, rank_slice  # noqa: F401

__all__ = ["init", "rank", "size", "local_rank", "local_size", "is_main", "barrier",
           "communicator", "set_synchronized_batchnorm", "rank_slice", "local_part"]

_WORLD_OF_ONE = WorldOfOne()
_state = {"comm": _WORLD_OF_ONE, "data_parallel": None, "sync_bn": False, "threads": None}


def init(communicator="auto", threads=None, synchronized_batchnorm=None, fp16_gradients=False):
    """Join the processes the launcher started; returns the communicator.

    communicator: 'auto' (NCCL for a GPU when cupy.cuda.nccl works, else MPI;
      a world of one without a launcher), 'mpi', 'nccl', or 'none' (a world of
      one). 'mpi' or 'nccl' without a launcher runs the distributed code path
      on one process (NCCL needs no MPI then).
    threads: the threads each process gives numba's kernels and BLAS; default
      the environment's MINIDL_THREADS, else the cores this process may use
      divided by the processes on its machine (1 when the launcher bound it to
      one core). Without a launcher nothing is changed.
    synchronized_batchnorm: True makes every BatchNormalization take its batch
      statistics over all processes, as if built with synchronized=True (the
      global switch, ``set_synchronized_batchnorm``).
    fp16_gradients: exchange gradients as float16 (half the bytes); each
      process's share is divided before the sum so the sum cannot overflow
      where the single-process gradient would not. Off by default.

    On a GPU each process uses GPU ``local_rank % device count``.
    """
    if communicator not in ("auto", "mpi", "nccl", "none"):
        raise ValueError(f"minidl.distributed.init: communicator must be 'auto', 'mpi', 'nccl' "
                         f"or 'none', received {communicator!r}")
    if synchronized_batchnorm is not None:
        set_synchronized_batchnorm(synchronized_batchnorm)
    if _state["data_parallel"] is not None:   # already joined: MPI starts once per process
        dp = _state["data_parallel"]
        if dp.fp16 != bool(fp16_gradients):
            dp.fp16, dp._buffer = bool(fp16_gradients), None
        return _state["comm"]
    launched = launcher_size() is not None
    if communicator == "none" or (communicator == "auto" and not launched):
        _set(_WORLD_OF_ONE, fp16_gradients)
        return _WORLD_OF_ONE
    mpi = MPICommunicator() if (launched or communicator == "mpi") else None
    if mpi is not None and K.device() == "gpu":
        cupy = K._import_cupy()
        cupy.cuda.Device(mpi.local_rank % cupy.cuda.runtime.getDeviceCount()).use()
    if communicator == "nccl" and K.device() != "gpu":
        raise RuntimeError("minidl.distributed.init(communicator='nccl'): the active device is "
                           "the CPU; NCCL moves GPU arrays (set MINIDL_DEVICE=gpu)")
    comm = mpi
    if communicator == "nccl" or (communicator == "auto" and K.device() == "gpu"
                                  and nccl_module() is not None and _one_gpu_each(mpi)):
        comm = NCCLCommunicator(mpi)
    if comm.size > 1:
        K.set_process_key((comm.rank,) if comm.rank else ())
        _share_cores(threads, comm.local_size)
        _abort_on_uncaught_error(comm)
    _set(comm, fp16_gradients)
    return comm


def _one_gpu_each(mpi):
    """NCCL refuses two processes on one GPU: then 'auto' keeps MPI."""
    count = K._import_cupy().cuda.runtime.getDeviceCount()
    if mpi.local_size <= count:
        return True
    if mpi.rank == 0:
        print(f"minidl.distributed: {mpi.local_size} processes share {count} GPU(s) on this "
              f"machine; NCCL needs one GPU per process, so MPI moves the gradients",
              file=sys.stderr, flush=True)
    return False


def _set(comm, fp16):
    from .training import DataParallel
    _state["comm"] = comm
    _state["data_parallel"] = None if comm is _WORLD_OF_ONE else DataParallel(comm, fp16=fp16)


def communicator():
    """The communicator ``init`` chose (a WorldOfOne before init)."""
    return _state["comm"]


def rank():
    """This process's number, 0 to size() - 1 (0 without a launcher)."""
    return _state["comm"].rank


def size():
    """How many processes train together (1 without a launcher)."""
    return _state["comm"].size


def local_rank():
    """This process's number among those on its machine (picks its GPU)."""
    return _state["comm"].local_rank


def local_size():
    return _state["comm"].local_size


def is_main():
    """True on rank 0, the process that prints and saves."""
    return _state["comm"].rank == 0


def barrier():
    """Wait until every process gets here."""
    _state["comm"].barrier()


def set_synchronized_batchnorm(enabled=True):
    """The global switch: when enabled, every BatchNormalization takes its batch
    statistics over all processes (as BatchNormalization(synchronized=True))."""
    _state["sync_bn"] = bool(enabled)


def synchronized_batchnorm():
    return _state["sync_bn"]


def _data_parallel():
    """The training hooks training.py calls, or None in a world of one (nothing to do)."""
    return _state["data_parallel"]


def _active_comm():
    """The communicator collectives go through, or None in a world of one."""
    return None if _state["data_parallel"] is None else _state["comm"]


# ------------------------------------------------------------------ processes
def _share_cores(threads, processes_here):
    """Give this process its share of the cores for numba's kernels and BLAS."""
    if threads is None and os.environ.get("MINIDL_THREADS", "").strip():
        threads = int(os.environ["MINIDL_THREADS"])
    if threads is None:
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
        bound = usable < (os.cpu_count() or usable)   # the launcher pinned us already
        threads = usable if bound else usable // max(1, processes_here)
    threads = max(1, int(threads))
    _state["threads"] = threads
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)  # for anything started from here
    try:
        import numba
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    except Exception:
        pass
    _set_blas_threads(threads)
    return threads


def _set_blas_threads(n):
    """The BLAS NumPy loaded, told to use ``n`` threads (threadpoolctl when installed,
    else OpenBLAS's or MKL's own setter found in the process's mapped libraries)."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n, user_api="blas")
        return True
    except ImportError:
        pass
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line or "mkl_rt" in line}
    except OSError:
        return False
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                       "openblas_set_num_threads64_", "openblas_set_num_threads",
                       "MKL_Set_Num_Threads"):
            setter = getattr(lib, symbol, None)
            if setter is not None:
                setter(ctypes.c_int(n))
                return True
    return False


def _abort_on_uncaught_error(comm):
    """An error no one catches on one process stops every process (MPI abort):
    the others would otherwise wait for it in the next collective forever."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        previous(kind, value, tb)
        if not issubclass(kind, KeyboardInterrupt):
            _abort(comm, f"{kind.__name__}: {value}")

    sys.excepthook = hook


def _abort(comm, what):
    print(f"minidl.distributed: process {comm.rank} of {comm.size} failed ({what}); "
          f"stopping all processes", file=sys.stderr, flush=True)
    sys.stdout.flush()
    comm.abort(1)

