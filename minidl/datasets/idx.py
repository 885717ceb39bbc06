"""The IDX file format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/).

Layout, all integers big-endian:
  magic   4 bytes: 0x00, 0x00, type code (0x08 = uint8, ...), ndim
  dims    ndim x 4 bytes: the shape
  payload prod(shape) items of the type
so MNIST images start with 0x00000803 (uint8, 3-D: N, 28, 28) and labels with
0x00000801 (uint8, 1-D: N).
"""
import gzip
from pathlib import Path

import numpy as np

from . import _files

_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def parse_idx(data, name="<bytes>", ndim=None):
    """The array held by the IDX bytes ``data`` (already uncompressed).

    ``name`` is used in error messages; ``ndim``, when given, is the expected
    number of dimensions (3 for images, 1 for labels). Returns a writable
    array of native byte order, shape as stored (e.g. images: (N, 28, 28))."""
    data = memoryview(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _TYPES:
        head = bytes(data[:4]).hex()
        raise ValueError(f"parse_idx: {name} is not an IDX file: magic number 0x{head}, "
                         f"expected 0x0000TTDD (TT a type code such as 08, DD the ndim)")
    dtype, nd = _TYPES[data[2]], data[3]
    magic = int.from_bytes(data[:4], "big")
    if ndim is not None and nd != ndim:
        raise ValueError(f"parse_idx: {name}: magic number 0x{magic:08x} says {nd}-D, "
                         f"expected {ndim}-D (magic 0x{(magic & ~0xFF) | ndim:08x})")
    header = 4 + 4 * nd
    if len(data) < header:
        raise ValueError(f"parse_idx: {name}: file ends inside its header "
                         f"({len(data)} bytes, header needs {header})")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(nd))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"parse_idx: {name}: size mismatch: shape {shape} of {dtype.name} "
                         f"needs {expected} bytes, the file holds {len(data)}")
    flat = np.frombuffer(data, dtype=dtype, offset=header)
    return flat.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def load_idx(path, ndim=None):
    """The array in the IDX file ``path`` (gzip-compressed or raw).
    No checksum: for IDX files of any dataset (EMNIST, KMNIST, ...)."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return parse_idx(raw, name=str(path), ndim=ndim)


def _load_idx_dataset(dataset, path, download, caller):
    """The four files of an MNIST-style dataset, found and checked by
    ``_files.fetch``: ``((x_train, y_train), (x_test, y_test))``,
    x: (N, H, W) uint8, y: (N,) uint8."""
    def get(name, ndim):
        checksum = dataset.files[name]
        where, content = _files.fetch(
            dataset, (name + ".gz", name), lambda p: _files.read_checked(p, checksum),
            path=path, download=download, caller=caller, download_name=name + ".gz")
        return parse_idx(content, name=str(where), ndim=ndim), where

    out = []
    for prefix in ("train", "t10k"):
        (x, x_at), (y, y_at) = get(f"{prefix}-images-idx3-ubyte", 3), get(f"{prefix}-labels-idx1-ubyte", 1)
        if len(x) != len(y):
            raise ValueError(f"{caller}: {x_at} holds {len(x)} images but {y_at} "
                             f"holds {len(y)} labels")
        out.append((x, y))
    return tuple(out)
