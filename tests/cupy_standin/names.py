"""The names real CuPy has, read from the lists in ``data/`` (see data/dump_names.py)."""
import functools
import os

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


@functools.lru_cache(maxsize=None)
def _read(filename):
    with open(os.path.join(DATA, filename)) as f:
        header = f.readline().strip()
        if not header.startswith("# cupy "):
            raise RuntimeError(f"{filename}: expected a '# cupy <version>' header line")
        return header[len("# cupy "):], frozenset(line.strip() for line in f if line.strip())


def names(namespace):
    """The names of ``dir()`` of ``namespace`` ('cupy', 'cupy.ndarray', ...) in real CuPy."""
    return _read(namespace + ".txt")[1]


def ufunc_names():
    """The members of ``cupy`` that are ``cupy.ufunc`` objects."""
    return _read("ufuncs.txt")[1]


def cupy_version():
    """The version of the CuPy the lists were taken from."""
    return _read("cupy.txt")[0]
