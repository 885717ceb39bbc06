"""A strict CuPy stand-in for machines without a GPU (test-only).

``install()`` puts it into ``sys.modules`` as ``cupy`` (and ``cupy.cuda``,
``cupy.cuda.runtime``, ``cupy.random``, ...), so that ``import cupy`` in
minidl's backend finds it and sees one device. tests/conftest.py does this
when ``MINIDL_CUPY_STANDIN=1`` (or ``pytest --cupy-standin``).

It is NumPy underneath and as strict as CuPy on top:

- ``cupy.ndarray`` is its own type; ``np.asarray(x)``/``__array__`` raise
  CuPy's TypeError; ``.get()``, ``cupy.asnumpy``, ``cupy.asarray`` cross,
  and each crossing is counted (``counters``);
- NumPy arrays as operands of device operations raise TypeError
  ("Unsupported type <class 'numpy.ndarray'>"); reductions give 0-d device
  arrays; ``float(x)``, ``int(x)``, ``bool(x)``, ``x.item()`` are counted syncs;
- integer index arrays wrap around out-of-range values, as CuPy documents;
- only the names of real CuPy 14 exist (``data/*.txt``);
- ``ElementwiseKernel`` compiles the real CUDA C body with g++ against
  ``cuda_shim.h``, with bounds-checked arrays;
- ``cupy.random.default_rng`` is cuRAND's XORWOW with its state in an int8
  device array, as CuPy keeps it.

What it cannot catch: races and missing synchronization between threads
(one thread runs each kernel), 32-bit index overflow, cuBLAS/cuDNN numerics
(reductions and matrix products are NumPy's), asynchronous timing, memory
limits, real performance.
"""
import sys

from . import counters  # noqa: F401  (the host-sync budget API)

__all__ = ["install", "installed", "counters", "is_standin"]


def install():
    """Make ``import cupy`` give the stand-in (before minidl's backend looks).

    Refuses when a real CuPy was already imported in this process."""
    existing = sys.modules.get("cupy")
    if existing is not None and not is_standin(existing):
        raise RuntimeError("cupy_standin.install(): the real CuPy is already imported")
    from ._namespace import submodules
    mods = submodules()
    sys.modules.update(mods)
    return mods["cupy"]


def installed():
    """True when ``sys.modules['cupy']`` is the stand-in."""
    return is_standin(sys.modules.get("cupy"))


def is_standin(module):
    """True for the stand-in's ``cupy`` module (not for the real CuPy)."""
    from ._namespace import CUPY
    return module is CUPY
