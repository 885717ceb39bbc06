"""Compile C++ source into a shared library with g++, cached by the source's hash.

The cache lives in ``$MINIDL_CUPY_STANDIN_CACHE`` or ``<tmp>/minidl-cupy-standin-<uid>``;
a library is written under a temporary name and renamed, so parallel test
processes never load a half-written file.
"""
import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
FLAGS = ("-std=c++17", "-O1", "-shared", "-fPIC", "-Wno-unknown-pragmas")
_loaded = {}
_lock = threading.Lock()


class CompileError(RuntimeError):
    """g++ refused the source; the message holds its diagnostics."""


def cache_dir():
    path = os.environ.get("MINIDL_CUPY_STANDIN_CACHE") or os.path.join(
        tempfile.gettempdir(), f"minidl-cupy-standin-{os.getuid()}")
    os.makedirs(path, exist_ok=True)
    return path


def compiler():
    cxx = os.environ.get("CXX") or shutil.which("g++")
    if not cxx:
        raise CompileError("the CuPy stand-in compiles kernels with g++, which is not installed "
                           "(Debian: apt-get install g++)")
    return cxx


def load(source, name):
    """The ctypes library of ``source`` (compiled once per distinct source)."""
    digest = hashlib.sha256("\0".join((source,) + FLAGS).encode()).hexdigest()[:24]
    with _lock:
        lib = _loaded.get(digest)
        if lib is not None:
            return lib
        path = os.path.join(cache_dir(), f"{name}-{digest}.so")
        if not os.path.exists(path):
            _compile(source, path, name)
        lib = ctypes.CDLL(path)
        _loaded[digest] = lib
        return lib


def _compile(source, path, name):
    fd, src = tempfile.mkstemp(suffix=".cpp", prefix=name + "-", dir=cache_dir())
    with os.fdopen(fd, "w") as f:
        f.write(source)
    tmp = path + f".{os.getpid()}.tmp"
    cmd = [compiler(), *FLAGS, "-I", HERE, "-o", tmp, src]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        numbered = "\n".join(f"{n + 1:4d}  {line}" for n, line in enumerate(source.splitlines()))
        raise CompileError(f"g++ could not compile {name} ({src}):\n{proc.stderr}\n"
                           f"--- the translation unit ---\n{numbered}")
    os.replace(tmp, path)
    os.unlink(src)
