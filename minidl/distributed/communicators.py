"""Communicators: the few collective operations data-parallel training needs.

Every communicator has the same small interface, written against arrays of
either library (NumPy on the CPU, CuPy on a GPU):

    rank, size, local_rank, local_size, name
    allreduce(buf)         in place: buf <- sum of every process's buf
    bcast(buf, root=0)     in place: buf <- root's buf
    allgather(buf)         (size,) + buf.shape: every process's buf, in rank order
    bcast_obj(obj), allgather_obj(obj)   small Python objects (via MPI)
    barrier(), abort(code)

``WorldOfOne`` is the communicator of a plain ``python train.py``: every
operation is the identity, nothing is imported. ``MPICommunicator`` runs on
mpi4py (any MPI: Open MPI's wheel from PyPI, MPICH, a cluster's own).
``NCCLCommunicator`` moves CuPy arrays GPU to GPU with NCCL
(``cupy.cuda.nccl``), using MPI only to hand out NCCL's id and for objects.

Sums are MPI_SUM / ncclSum over whole buffers; both give every process the
same bits (a ring or tree reduces each element once and sends the result
to all), which keeps the weights of all processes identical.
"""
import os
import sys

import numpy as np

from .. import backend as K


class WorldOfOne:
    """One process, no launcher: every collective is the identity."""
    name = "world of one"
    rank, size, local_rank, local_size = 0, 1, 0, 1

    def allreduce(self, buf):
        return buf

    def bcast(self, buf, root=0):
        return buf

    def allgather(self, buf):
        return buf[None]

    def bcast_obj(self, obj, root=0):
        return obj

    def allgather_obj(self, obj):
        return [obj]

    def barrier(self):
        pass

    def abort(self, code=1):
        sys.exit(code)


# ------------------------------------------------------------------ MPI
def _fp16_sum(inbuf, outbuf, datatype):
    """MPI has no half-float type: float16 buffers travel as 2-byte integers and
    this user-defined operation adds them as float16."""
    a = np.frombuffer(inbuf, dtype=np.float16)
    b = np.frombuffer(outbuf, dtype=np.float16)
    np.add(a, b, out=b)


class MPICommunicator:
    """Collectives on mpi4py. NumPy buffers go to MPI directly. A CuPy buffer
    goes directly too when the MPI is CUDA-aware; otherwise it is copied to
    host memory and back around each operation (said once on stderr)."""

    def __init__(self, comm=None):
        from mpi4py import MPI
        self.MPI = MPI
        self.comm = comm if comm is not None else MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        node = self.comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        self.local_rank, self.local_size = node.Get_rank(), node.Get_size()
        node.Free()
        query = getattr(MPI, "Query_cuda_support", None)
        self.cuda_aware = bool(query()) if query is not None else False
        self.name = f"MPI ({MPI.Get_library_version().splitlines()[0].strip(chr(0) + ' ')})"
        self._fp16_op = None
        self._said_staging = False
        #: bytes moved through host memory for CuPy arrays (both ways)
        self.staged_bytes = 0

    # buffers ------------------------------------------------------------
    def _host(self, buf):
        """(host array to hand MPI, device array to copy back into or None)."""
        if isinstance(buf, np.ndarray):
            return buf, None
        if self.cuda_aware and hasattr(buf, "__cuda_array_interface__"):
            return buf, None
        if not self._said_staging and self.rank == 0:
            self._said_staging = True
            print("minidl.distributed: this MPI is not CUDA-aware, so GPU arrays are exchanged "
                  "through host memory (slower); NCCL (cupy.cuda.nccl with nvidia-nccl-cu12) "
                  "moves them GPU to GPU", file=sys.stderr, flush=True)
        self.staged_bytes += 2 * buf.nbytes
        return K.to_numpy(buf), buf

    def _back(self, host, device):
        if device is not None:
            device[...] = K.get_array_module(device).asarray(host)
            return device
        return host

    def _typed(self, a):
        """(buffer spec, op) for MPI: float16 as raw 2-byte words with its own sum."""
        if a.dtype == np.float16:
            if self._fp16_op is None:
                self._fp16_op = self.MPI.Op.Create(_fp16_sum, commute=True)
            return [a.view(np.int16), self.MPI.SHORT], self._fp16_op
        return a, self.MPI.SUM

    # collectives --------------------------------------------------------
    def allreduce(self, buf):
        host, device = self._host(buf)
        if not host.flags.c_contiguous:
            raise ValueError("allreduce: the buffer must be contiguous")
        spec, op = self._typed(host)
        self.comm.Allreduce(self.MPI.IN_PLACE, spec, op=op)
        return self._back(host, device)

    def bcast(self, buf, root=0):
        host, device = self._host(buf)
        self.comm.Bcast(host.view(np.uint8).reshape(-1), root=root)
        return self._back(host, device)

    def allgather(self, buf):
        host, device = self._host(buf)
        out = np.empty((self.size,) + host.shape, dtype=host.dtype)
        self.comm.Allgather(host.view(np.uint8).reshape(-1), out.view(np.uint8).reshape(-1))
        return out if device is None else K.get_array_module(device).asarray(out)

    def bcast_obj(self, obj, root=0):
        return self.comm.bcast(obj, root=root)

    def allgather_obj(self, obj):
        return self.comm.allgather(obj)

    def barrier(self):
        self.comm.Barrier()

    def abort(self, code=1):
        self.comm.Abort(code)


# ------------------------------------------------------------------ NCCL
def nccl_module():
    """``cupy.cuda.nccl`` when it imports and works (needs a real GPU and the
    NCCL library), else None (the CuPy stand-in of the tests has none)."""
    try:
        from cupy.cuda import nccl
        nccl.get_version()
        return nccl
    except Exception:  # ImportError, missing libnccl, or a CuPy without it
        return None


class NCCLCommunicator:
    """CuPy arrays GPU to GPU through NCCL on CuPy's current stream, so a
    collective is ordered with the kernels around it and nothing waits on the
    host. MPI (when present) hands out NCCL's id and moves Python objects;
    without a launcher it is a world of one of its own (the GPU check)."""

    def __init__(self, mpi=None):
        import cupy
        nccl = nccl_module()
        if nccl is None:
            raise RuntimeError("NCCLCommunicator: cupy.cuda.nccl is not usable here; install "
                               "nvidia-nccl-cu12 next to cupy-cuda12x")
        self.cupy, self.nccl, self.mpi = cupy, nccl, mpi
        if mpi is None:
            self.rank, self.size, self.local_rank, self.local_size = 0, 1, 0, 1
            uid = nccl.get_unique_id()
        else:
            self.rank, self.size = mpi.rank, mpi.size
            self.local_rank, self.local_size = mpi.local_rank, mpi.local_size
            uid = mpi.bcast_obj(nccl.get_unique_id() if mpi.rank == 0 else None)
        self.comm = nccl.NcclCommunicator(self.size, uid, self.rank)
        self.name = f"NCCL {nccl.get_version()}"
        self._types = {np.dtype(np.float16): nccl.NCCL_FLOAT16,
                       np.dtype(np.float32): nccl.NCCL_FLOAT32,
                       np.dtype(np.float64): nccl.NCCL_FLOAT64,
                       np.dtype(np.int32): nccl.NCCL_INT32,
                       np.dtype(np.int64): nccl.NCCL_INT64,
                       np.dtype(np.uint8): nccl.NCCL_UINT8}

    def _device(self, buf):
        if isinstance(buf, np.ndarray):  # small host values (counts): to the GPU and back
            return self.cupy.asarray(buf), buf
        return buf, None

    def _done(self, dev, host):
        if host is not None:
            host[...] = dev.get()
            return host
        return dev

    def _stream(self):
        return self.cupy.cuda.get_current_stream().ptr

    def _dtype(self, a):
        try:
            return self._types[a.dtype]
        except KeyError:
            raise TypeError(f"NCCLCommunicator: no NCCL type for {a.dtype}") from None

    def allreduce(self, buf):
        dev, host = self._device(buf)
        self.comm.allReduce(dev.data.ptr, dev.data.ptr, dev.size, self._dtype(dev),
                            self.nccl.NCCL_SUM, self._stream())
        return self._done(dev, host)

    def bcast(self, buf, root=0):
        dev, host = self._device(buf)
        flat = dev.view(self.cupy.uint8)
        self.comm.bcast(flat.data.ptr, flat.size, self.nccl.NCCL_UINT8, root, self._stream())
        return self._done(dev, host)

    def allgather(self, buf):
        dev, host = self._device(self.cupy.ascontiguousarray(buf) if not isinstance(
            buf, np.ndarray) else buf)
        out = self.cupy.empty((self.size,) + dev.shape, dtype=dev.dtype)
        self.comm.allGather(dev.data.ptr, out.data.ptr, dev.size, self._dtype(dev),
                            self._stream())
        return out.get() if host is not None else out

    def bcast_obj(self, obj, root=0):
        return obj if self.mpi is None else self.mpi.bcast_obj(obj, root)

    def allgather_obj(self, obj):
        return [obj] if self.mpi is None else self.mpi.allgather_obj(obj)

    def barrier(self):
        if self.mpi is not None:
            self.cupy.cuda.get_current_stream().synchronize()
            self.mpi.barrier()

    def abort(self, code=1):
        if self.mpi is not None:
            self.mpi.abort(code)
        else:
            self.comm.abort()
            sys.exit(code)


def launcher_size():
    """The number of processes a launcher (mpirun/mpiexec, srun, hydra) says it
    started, read from its environment; None when there is no launcher."""
    for var in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"):
        value = os.environ.get(var)
        if value and value.isdigit():
            if var == "SLURM_NTASKS" and "SLURM_PROCID" not in os.environ:
                continue  # inside an allocation, not started by srun
            return int(value)
    if "PMIX_RANK" in os.environ or "PMI_RANK" in os.environ:
        return -1  # started by a launcher, size unknown until MPI says
    return None

