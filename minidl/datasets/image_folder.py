"""Load a class-per-folder image tree (a directory, or a .tar/.tar.gz of one)
into arrays, like Keras 2's ``image_dataset_from_directory`` but eager::

    tree/                      tree.tar.gz holding the same paths
      train/cat/0001.jpg
      train/dog/0002.png       image_folder('tree.tar.gz', subset='train')
      test/cat/...             -> x (N, H, W, 3) uint8, y (N,), ['cat', 'dog']

The first load decodes every image with Pillow (a tarball is read in one
streaming pass while a thread pool decodes); the arrays are then kept as a
``.npz`` in minidl's cache, so later loads take a fraction of a second.
"""
import hashlib
import io
import json
import os
import tarfile
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import numpy as np

from . import _files

_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")   # Keras 2.x ALLOWLIST_FORMATS
_COLOR_MODES = {"rgb": "RGB", "grayscale": "L", "rgba": "RGBA"}
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")
_CHUNK = 1024             # images per decode task: amortises the pool's overhead
_CACHE_FORMAT = 1         # bump when the cached arrays' meaning changes


def image_folder(path, image_size=None, color_mode="rgb", subset=None, classes=None,
                 cache_dir=None, interpolation="bilinear", cache=True):
    """Load every image of a class-per-folder tree.

    path: a directory, or a .tar / .tar.gz / .tar.bz2 / .tar.xz of one, whose
      subfolders are the classes (images in nested folders count for their
      top class folder; files outside class folders are ignored).
    image_size: (height, width) to resize every image to; None keeps the
      stored size, which must then be the same for all images. (Keras's
      default (256, 256) is not copied: resizing should be asked for.)
    color_mode: 'rgb' (C=3), 'grayscale' (C=1) or 'rgba' (C=4); Keras 2.x default 'rgb'.
    subset: a subfolder of the tree to load, such as 'train' or 'test'
      (or 'a/b'); None loads the tree from its top.
    classes: the class folder names in label order; they must be exactly the
      class folders found. None: sorted alphabetically (as Keras 2.x does).
    interpolation: Pillow filter used by image_size; Keras 2.x default
      'bilinear' (Pillow antialiases when shrinking, tf.image.resize does not,
      so resized pixels differ slightly from Keras's).
    cache: False decodes every time and writes nothing.
    cache_dir: where the decoded arrays are kept as .npz (default: minidl's
      cache directory, subfolder image_folder/), keyed by the source's
      absolute path, size and modification time (of each image, for a
      directory) and by these options.

    Returns ``(x, y, class_names)``: x (N, H, W, C) uint8, y (N,) int32 labels
    (index into class_names), class_names a list of str. Samples are ordered
    by class, then by path inside the class.
    """
    _check_args(image_size, color_mode, subset, classes, interpolation)
    Image = _pillow()
    source = _source(path)
    subset_parts = PurePosixPath(subset).parts if subset else ()

    if source.is_dir():
        root = source.joinpath(*subset_parts)
        if not root.is_dir():
            raise ValueError(f"image_folder: subset={subset!r}: {root} is not a directory; "
                             f"subfolders of {source}: {sorted(p.name for p in source.iterdir() if p.is_dir())}")
        class_dirs, listing = _scan_dir(root)
        stats = [os.stat(root / cls / rel) for cls, rel in listing]
        fingerprint = [[f"{cls}/{rel}", st.st_size, st.st_mtime_ns]
                       for (cls, rel), st in zip(listing, stats)]
    else:
        stat = source.stat()
        fingerprint = [stat.st_size, stat.st_mtime_ns]

    options = dict(image_size=list(image_size) if image_size else None, color_mode=color_mode,
                   subset=subset, classes=list(classes) if classes else None,
                   interpolation=interpolation)
    cache_file = None
    if cache:
        key = json.dumps([_CACHE_FORMAT, str(source), fingerprint, options], sort_keys=True)
        digest = hashlib.sha256(key.encode()).hexdigest()[:20]
        base = Path(cache_dir) if cache_dir is not None else _files.cache_dir() / "image_folder"
        cache_file = base / f"{source.name}-{digest}.npz"
        cached = _load_cached(cache_file)
        if cached is not None:
            return cached

    decode = _Decoder(Image, image_size, _COLOR_MODES[color_mode], interpolation)
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        if source.is_dir():
            names = [f"{cls}/{rel}" for cls, rel in listing]
            found = class_dirs
            items = [root / n for n in names]
            futures = [pool.submit(decode.many, items[i:i + _CHUNK], names[i:i + _CHUNK])
                       for i in range(0, len(items), _CHUNK)]
        else:
            names, found, futures = _read_tar(source, subset_parts, subset, pool, decode)
        images = [a for f in futures for a in f.result()]

    if not names:
        where = f"{source}" + (f" (subset {subset!r})" if subset else "")
        raise ValueError(f"image_folder: no images ({', '.join(_EXTENSIONS)}) inside class "
                         f"folders of {where}")
    class_names = _class_order(found, classes, source)
    index = {c: i for i, c in enumerate(class_names)}
    labels = np.array([index[n.split("/", 1)[0]] for n in names], dtype=np.int32)
    order = sorted(range(len(names)), key=lambda i: (labels[i], names[i]))
    x = _stack([images[i] for i in order], [names[i] for i in order], source)
    y = labels[order]
    if cache_file is not None:
        _save_cached(cache_file, x, y, class_names)
    return x, y, class_names


class _Decoder:
    """Bytes or a file -> (H, W, C) uint8 array. Pillow releases the GIL
    while it decodes, so several of these run at once in a thread pool."""

    def __init__(self, Image, image_size, mode, interpolation, where="image_folder"):
        self.Image, self.mode, self.where = Image, mode, where
        self.size = (image_size[1], image_size[0]) if image_size else None   # Pillow: (w, h)
        filters = getattr(Image, "Resampling", Image)   # Pillow < 9.1 has no Resampling
        self.resample = getattr(filters, interpolation.upper())

    def one(self, item, name):
        try:
            with self.Image.open(io.BytesIO(item) if isinstance(item, bytes) else item) as im:
                if im.mode != self.mode:
                    im = im.convert(self.mode)
                if self.size is not None and im.size != self.size:
                    im = im.resize(self.size, self.resample)
                a = np.asarray(im, dtype=np.uint8)
        except (OSError, ValueError, SyntaxError) as e:   # UnidentifiedImageError is an OSError
            raise ValueError(f"{self.where}: cannot decode {name}: {e}") from None
        return a[:, :, None] if a.ndim == 2 else a

    def many(self, items, names):
        return [self.one(item, name) for item, name in zip(items, names)]


def _read_tar(source, subset_parts, subset, pool, decode):
    """One streaming pass over the archive; decoding of each chunk of
    images starts while the rest is still being decompressed."""
    names, blobs, futures, found, top = [], [], [], set(), set()
    in_subset = False
    depth = len(subset_parts)
    try:
        with tarfile.open(source, "r|*") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                parts = parts[1:] if parts[:1] == (".",) else parts
                if parts and (member.isdir() or len(parts) > 1):
                    top.add(parts[0])
                if parts[:depth] != subset_parts or len(parts) <= depth:
                    continue
                rest, in_subset = parts[depth:], True
                if member.isdir() or len(rest) > 1:
                    found.add(rest[0])
                if not member.isfile() or len(rest) < 2 or not rest[-1].lower().endswith(_EXTENSIONS):
                    continue
                names.append("/".join(rest))
                blobs.append(tar.extractfile(member).read())
                if len(blobs) == _CHUNK:
                    futures.append(pool.submit(decode.many, blobs, names[-_CHUNK:]))
                    blobs = []
    except (tarfile.TarError, EOFError, OSError) as e:
        raise ValueError(f"image_folder: cannot read the archive {source}: {e}") from None
    if blobs:
        futures.append(pool.submit(decode.many, blobs, names[-len(blobs):]))
    if subset_parts and not in_subset:
        raise ValueError(f"image_folder: subset={subset!r} not found in {source}; "
                         f"its top-level folders: {sorted(top)}")
    return names, found, futures


def _scan_dir(root):
    """Class folders of ``root`` and the (class, relative path) of each image."""
    class_dirs, listing = [], []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if not entry.is_dir():
            continue
        class_dirs.append(entry.name)
        for dirpath, dirnames, filenames in os.walk(entry.path, followlinks=True):
            dirnames.sort()
            rel_dir = Path(dirpath).relative_to(entry.path).as_posix()
            for f in sorted(filenames):
                if f.lower().endswith(_EXTENSIONS):
                    listing.append((entry.name, f if rel_dir == "." else f"{rel_dir}/{f}"))
    return class_dirs, listing


def _class_order(found, classes, source):
    if classes is None:
        return sorted(found)
    if set(classes) != set(found) or len(set(classes)) != len(classes):
        raise ValueError(f"image_folder: classes={list(classes)} must name each class folder "
                         f"of {source} exactly once; found {sorted(found)}")
    return list(classes)


def _stack(images, names, source):
    first = images[0].shape
    for a, n in zip(images, names):
        if a.shape != first:
            raise ValueError(
                f"image_folder: images in {source} differ in size: {names[0]} is "
                f"{first[1]}x{first[0]} (w x h), {n} is {a.shape[1]}x{a.shape[0]}; "
                f"pass image_size=(height, width) to resize them all")
    return np.stack(images)


def _load_cached(file):
    if not file.exists():
        return None
    try:
        with np.load(file, allow_pickle=False) as z:
            x, y, names = z["x"], z["y"], [str(c) for c in z["class_names"]]
        if x.dtype == np.uint8 and x.ndim == 4 and y.shape == (len(x),):
            return x, y, names
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        pass
    _files.warn(f"image_folder: removed an unreadable cache file {file}; decoding again")
    _files._remove(file)
    return None


def _save_cached(file, x, y, class_names):
    """Atomic write: a reader never sees a half-written .npz."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=file.name + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, x=x, y=y, class_names=np.array(class_names, dtype=str))
            os.replace(tmp, file)
        except BaseException:
            _files._remove(tmp)
            raise
    except OSError as e:
        _files.warn(f"image_folder: could not write the cache file {file} ({e}); "
                    f"the next load will decode again")


def _source(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"image_folder: path must be a str or os.PathLike, "
                        f"received {type(path).__name__}")
    source = Path(path).expanduser().resolve()
    if source.is_dir():
        return source
    if not source.exists():
        raise FileNotFoundError(f"image_folder: path {os.fspath(path)!r} does not exist")
    if not tarfile.is_tarfile(source):
        raise ValueError(f"image_folder: path {os.fspath(path)!r} is neither a directory "
                         f"nor a tar archive (.tar, .tar.gz, ...)")
    return source


def check_decoding(where, size_name, size, color_mode, interpolation, size_optional=True):
    """The arguments every image reader shares (image_folder, flow_from_directory,
    load_img): a (height, width) size, a color mode and a resizing filter."""
    if size is not None or not size_optional:
        ok = (isinstance(size, (tuple, list)) and len(size) == 2
              and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0
                      for s in size))
        if not ok:
            raise ValueError(f"{where}: {size_name} must be {'None or ' if size_optional else ''}"
                             f"(height, width) with positive ints, received {size!r}")
    if color_mode not in _COLOR_MODES:
        raise ValueError(f"{where}: color_mode must be one of {list(_COLOR_MODES)}, "
                         f"received {color_mode!r}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{where}: interpolation must be one of {list(_INTERPOLATIONS)}, "
                         f"received {interpolation!r}")


def _check_args(image_size, color_mode, subset, classes, interpolation):
    check_decoding("image_folder", "image_size", image_size, color_mode, interpolation)
    if subset is not None and not isinstance(subset, str):
        raise TypeError(f"image_folder: subset must be a folder name (str) or None, "
                        f"received {type(subset).__name__}")
    if classes is not None and (isinstance(classes, str)
                                or not all(isinstance(c, str) for c in classes)):
        raise TypeError(f"image_folder: classes must be a list of folder names or None, "
                        f"received {classes!r}")


def _pillow(where="image_folder"):
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{where} needs Pillow to decode images: "
                          "`pip install pillow` or `pip install minidl[images]`") from None
    return Image
