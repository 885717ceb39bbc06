"""Writes the name lists of this folder from a real CuPy install (needs no GPU).

    python3 -m venv /tmp/cupyenv && /tmp/cupyenv/bin/pip install cupy-cuda12x numpy
    cd /tmp && /tmp/cupyenv/bin/python /path/to/tests/cupy_standin/data/dump_names.py

One file per namespace, ``<namespace>.txt``: a header line ``# cupy <version>``,
then one name per line, sorted (``dir()`` of the object). ``ufuncs.txt`` names
the members of ``cupy`` that are ``cupy.ufunc`` objects; ``signatures.txt`` the
real signatures (or docstring first lines) of what the stand-in implements.
"""
import inspect
import os
import sys

import cupy
import cupy.cuda
import cupy.cuda.runtime
import cupy.fft
import cupy.linalg
import cupy.random
import cupy.testing

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = f"# cupy {cupy.__version__}\n"

NAMESPACES = {
    "cupy": cupy,
    "cupy.ndarray": cupy.ndarray,
    "cupy.ufunc": cupy.ufunc,
    "cupy.ElementwiseKernel": cupy.ElementwiseKernel,
    "cupy.random": cupy.random,
    "cupy.random.Generator": cupy.random.Generator,
    "cupy.random.XORWOW": cupy.random.XORWOW,
    "cupy.cuda": cupy.cuda,
    "cupy.cuda.runtime": cupy.cuda.runtime,
    "cupy.cuda.Device": cupy.cuda.Device,
    "cupy.cuda.Stream": cupy.cuda.Stream,
    "cupy.cuda.MemoryPool": cupy.cuda.MemoryPool,
    "cupy.cuda.PinnedMemoryPool": cupy.cuda.PinnedMemoryPool,
    "cupy.testing": cupy.testing,
    "cupy.linalg": cupy.linalg,
    "cupy.fft": cupy.fft,
}

SIGNATURES = [
    "cupy.asarray", "cupy.array", "cupy.asnumpy", "cupy.get_array_module", "cupy.zeros",
    "cupy.empty", "cupy.ones", "cupy.full", "cupy.arange", "cupy.zeros_like",
    "cupy.ones_like", "cupy.empty_like", "cupy.ascontiguousarray", "cupy.concatenate",
    "cupy.stack", "cupy.where", "cupy.clip", "cupy.take_along_axis", "cupy.moveaxis",
    "cupy.broadcast_to", "cupy.argsort", "cupy.sum", "cupy.mean", "cupy.max", "cupy.any",
    "cupy.ndarray.get", "cupy.ndarray.set", "cupy.ndarray.item", "cupy.ndarray.tolist",
    "cupy.ndarray.astype", "cupy.ndarray.fill", "cupy.ndarray.take",
    "cupy.ElementwiseKernel.__init__", "cupy.ElementwiseKernel.__call__", "cupy.RawKernel",
    "cupy.random.default_rng", "cupy.random.Generator.random", "cupy.random.Generator.uniform",
    "cupy.random.Generator.integers", "cupy.random.Generator.standard_normal",
    "cupy.random.XORWOW", "cupy.cuda.runtime.getDeviceCount",
    "cupy.cuda.runtime.getDeviceProperties", "cupy.cuda.Device", "cupy.cuda.get_current_stream",
    "cupy.get_default_memory_pool", "cupy.cuda.MemoryPool.total_bytes",
    "cupy.cuda.MemoryPool.used_bytes",
]


def _resolve(dotted):
    obj = None
    parts = dotted.split(".")
    obj = cupy
    for p in parts[1:]:
        obj = getattr(obj, p)
    return obj


def _signature(obj):
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        doc = (getattr(obj, "__doc__", None) or "").strip().splitlines()
        return "doc: " + (doc[0] if doc else "(no signature, no docstring)")


def main():
    for name, obj in NAMESPACES.items():
        with open(os.path.join(HERE, name + ".txt"), "w") as f:
            f.write(HEADER + "".join(n + "\n" for n in sorted(dir(obj))))
    ufuncs = sorted(n for n in dir(cupy) if isinstance(getattr(cupy, n, None), cupy.ufunc))
    with open(os.path.join(HERE, "ufuncs.txt"), "w") as f:
        f.write(HEADER + "".join(n + "\n" for n in ufuncs))
    with open(os.path.join(HERE, "signatures.txt"), "w") as f:
        f.write(HEADER)
        for dotted in SIGNATURES:
            f.write(f"{dotted} {_signature(_resolve(dotted))}\n")
    print("wrote", len(NAMESPACES) + 2, "files for cupy", cupy.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
