"""Where dataset files come from, and the proof that they are the right ones.

A file is looked for, in order, in
  1. the data directory the user names (the ``path=`` argument, else the
     environment variable ``MINIDL_DATA``), in its subfolder named after the
     dataset (``mnist/``) or directly in it;
  2. minidl's cache directory (``$MINIDL_CACHE``, else
     ``$XDG_CACHE_HOME/minidl``, else ``~/.cache/minidl``), subfolder ``mnist/``;
  3. a system copy, where a distribution ships one (Debian's
     ``dataset-fashion-mnist`` installs ``/usr/share/datasets/fashion-mnist/``);
  4. a download from the official mirrors, in order, into the cache;
  5. for a dataset Debian packages (``Dataset.debian_package``), when the
     download failed: installing that package with apt-get, if minidl may do
     so without a password (see ``system_packages``), then the system copy.

Every copy is checked against known checksums before it is used. A bad cache
entry is deleted (minidl wrote it, so it may remove it); a bad file in the
user's directory or a system directory is reported and left alone.
"""
import gzip
import hashlib
import os
import sys
import tarfile
import tempfile
import urllib.request
import warnings
import zlib
from pathlib import Path
from typing import NamedTuple, Optional, Tuple

from tqdm import tqdm

from . import system_packages

_TIMEOUT_S = 30          # per network connection; a dead mirror must not hang a script
_CHUNK = 1 << 20


class DatasetNotFoundError(FileNotFoundError):
    """No usable copy of a dataset file was found, and none could be downloaded.

    ``looked`` lists every place tried, one line each."""

    def __init__(self, caller, what, looked, hint):
        self.caller, self.what, self.looked, self.hint = caller, what, list(looked), hint
        lines = [f"{caller}: could not find {what}.", "Looked in, in this order:"]
        lines += [f"  - {place}" for place in self.looked]
        lines += ["To provide it, either:"] + [f"  - {h}" for h in hint]
        super().__init__("\n".join(lines))


class ChecksumError(OSError):
    """A dataset file exists but is not the expected one (corrupt, truncated,
    or another version). ``path`` is the bad file."""

    def __init__(self, path, message):
        super().__init__(message)
        self.path = Path(path)


class Checksum(NamedTuple):
    """What a good copy looks like.

    ``size`` and ``md5`` describe the *uncompressed* content, because a .gz
    file may have been recompressed (Debian's Fashion-MNIST was) and still
    hold the same bytes. ``gz_md5`` lists md5s of official .gz downloads that
    are accepted as they are. ``size=None`` skips the size check."""
    size: Optional[int]
    md5: str
    gz_md5: Tuple[str, ...] = ()


class Dataset(NamedTuple):
    """A downloadable dataset: its files and where they live."""
    name: str                  # for messages, e.g. 'mnist'
    folder: str                # subfolder in a data or cache directory
    files: dict                # file name -> Checksum
    mirrors: Tuple[str, ...]   # base URLs ending in '/', tried in order
    system_dirs: Tuple[str, ...] = ()
    # Debian package installing the files into system_dirs[0] (last resort)
    debian_package: Optional[str] = None


def cache_dir():
    """minidl's cache directory: $MINIDL_CACHE, else $XDG_CACHE_HOME/minidl,
    else ~/.cache/minidl (created on first write, not here)."""
    env = os.environ.get("MINIDL_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "minidl"
    return Path.home() / ".cache" / "minidl"


def data_dir(path, caller):
    """The user's data directory and where it was named: ``(Path, origin)``,
    or ``(None, reason)`` when neither the argument nor MINIDL_DATA is set.

    An explicit ``path`` that is not a directory is an error (a typo must not
    silently fall through to a download); a stale MINIDL_DATA is only listed
    among the places looked."""
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"{caller}: path must be a directory name (str or "
                            f"os.PathLike) or None, received {type(path).__name__}")
        p = Path(path).expanduser()
        if not p.is_dir():
            raise FileNotFoundError(
                f"{caller}: path={os.fspath(path)!r} is not a directory. Pass the "
                f"directory that holds the dataset files (directly or in a subfolder "
                f"named after the dataset), or path=None.")
        return p, "argument path="
    env = os.environ.get("MINIDL_DATA")
    if env:
        return Path(env).expanduser(), "env MINIDL_DATA"
    return None, "no data directory named (argument path=None, MINIDL_DATA unset)"


def md5(data):
    # usedforsecurity=False keeps md5 available on FIPS-mode Pythons.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def file_md5(path):
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def read_checked(path, checksum):
    """The uncompressed bytes of ``path`` (gzip or raw, told by its first
    bytes, not its name) after checking them against ``checksum``."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        accepted_gz = md5(raw) in checksum.gz_md5
        try:
            content = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ChecksumError(path, f"{path}: not a readable gzip file ({e}); "
                                      f"it is corrupt or truncated") from None
        if accepted_gz:
            return content
    else:
        content = raw
    if checksum.size is not None and len(content) != checksum.size:
        raise ChecksumError(path, f"{path}: size mismatch: holds {len(content)} bytes "
                                  f"(uncompressed), expected {checksum.size}; "
                                  f"the file is truncated or another version")
    got = md5(content)
    if got != checksum.md5:
        raise ChecksumError(path, f"{path}: checksum mismatch: md5 of the content is "
                                  f"{got}, expected {checksum.md5}")
    return content


def _places(dataset, path, caller):
    """The directories to search, in order, as (kind, directory, origin),
    and the report lines for places skipped."""
    user, origin = data_dir(path, caller)
    places, skipped = [], []
    if user is None:
        skipped.append(origin)
    else:
        places += [("user", user / dataset.folder, origin), ("user", user, origin)]
    places.append(("cache", cache_dir() / dataset.folder, "cache"))
    if os.environ.get("MINIDL_SYSTEM_DATA", "1").strip().lower() in ("0", "false", "no"):
        skipped += [f"system copy {d}: not searched (MINIDL_SYSTEM_DATA=0)"
                    for d in dataset.system_dirs]
    else:
        places += [("system", Path(d), "system copy") for d in dataset.system_dirs]
    return places, skipped


def fetch(dataset, names, verify, *, path, download, caller, download_name=None):
    """The first good copy of a file: ``(where, verify(where))``.

    ``names``: acceptable names in preference order (``'x.gz'``, ``'x'``);
    ``verify(path)`` returns the loaded content or raises ChecksumError;
    ``download_name``: the file's name on the mirrors and in the cache."""
    places, looked = _places(dataset, path, caller)
    found = _search(places, names, verify, caller, looked)
    if found:
        return found

    if not download:
        looked.append("download: not attempted (download=False)")
    elif not download_name or not dataset.mirrors:
        looked.append("download: no official source for this file")
    else:
        dest = cache_dir() / dataset.folder / download_name
        for base in dataset.mirrors:
            url = base + download_name
            try:
                return dest, _download(url, dest, verify)
            except OSError as e:   # URLError, HTTPError, ChecksumError, disk errors
                looked.append(f"download {url}: failed ({e})")

    hints = []
    if dataset.debian_package:
        package = dataset.debian_package
        if download:
            found = _install_system_package(dataset, names, verify, caller, looked)
            if found:
                return found
        else:
            looked.append(f"Debian package {package}: not installed (download=False)")
        hints.append(f"install Debian's package, which puts the files in "
                     f"{dataset.system_dirs[0]}/: {system_packages.install_command(package)}")
    cache = cache_dir() / dataset.folder
    hints += [
        f"set MINIDL_DATA (or pass path=) to a directory holding it, in a subfolder "
        f"'{dataset.folder}/' or directly",
        f"copy the files of {dataset.name} ({', '.join(dataset.files)}), with these "
        f"names, into the cache directory {cache}/",
        "allow the download (download=True) on a machine that reaches "
        + (", ".join(dataset.mirrors) or "the official site"),
    ]
    hints[1:] = ["or " + h for h in hints[1:]]
    raise DatasetNotFoundError(caller, " or ".join(repr(n) for n in names), looked, hints)


def _search(places, names, verify, caller, looked):
    """The first good copy of one of ``names`` in ``places``: ``(where,
    content)``, or None after adding a line per place to ``looked``."""
    for kind, directory, origin in places:
        for name in names:
            candidate = directory / name
            if not candidate.exists():
                continue
            try:
                return candidate, verify(candidate)
            except ChecksumError as e:
                if kind != "cache":
                    raise ChecksumError(e.path, f"{caller}: {e} (left in place: replace it "
                                                f"with a good copy or remove it)") from None
                _remove(e.path)
                warn(f"{caller}: removed a bad cache entry: {e}")
                looked.append(f"{origin} {directory}: bad copy removed ({e})")
                break
        else:
            looked.append(f"{origin} {directory}: " + (
                "not found" if directory.is_dir() else "no such directory"))
    return None


def _install_system_package(dataset, names, verify, caller, looked):
    """Install ``dataset.debian_package`` and take the file from its system
    directory: ``(where, content)``, or None after saying why in ``looked``."""
    package = dataset.debian_package
    try:
        system_packages.install(
            package, caller=caller,
            why=f"found no copy of {dataset.name} and could not download it")
    except system_packages.NotInstalled as e:
        looked.append(f"Debian package {package}: {e}")
        return None
    after = []
    found = _search([("system", Path(d), "system copy") for d in dataset.system_dirs],
                    names, verify, caller, after)
    if found:
        return found
    looked.append(f"Debian package {package}: installed, but it did not provide the file "
                  f"({'; '.join(after)})")
    return None


def _download(url, dest, verify):
    """Download ``url`` to ``dest`` atomically: a temporary file in the same
    directory, checked, then renamed, so a crash never leaves a half file
    under the real name."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=_TIMEOUT_S) as resp:
            total = resp.headers.get("Content-Length")
            with tqdm(total=int(total) if total else None, unit="B", unit_scale=True,
                      unit_divisor=1024, desc=f"Downloading {dest.name}") as bar:
                for block in iter(lambda: resp.read(_CHUNK), b""):
                    out.write(block)
                    bar.update(len(block))
        content = verify(Path(tmp))
        os.replace(tmp, dest)
        return content
    except BaseException:
        _remove(tmp)
        raise


def warn(message):
    """``warnings.warn`` pointing at the user's line: the first caller
    outside minidl.datasets."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("minidl.datasets"):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, stacklevel=level)


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def read_release_files(where, sizes, tarball_md5):
    """{name: bytes} of the files ``sizes`` names, from a release tarball
    (checked against ``tarball_md5``) or its extracted folder (each file checked
    against its size in bytes: the CIFAR releases publish no per-file checksums)."""
    if where.is_dir():
        files = {}
        for name, size in sizes.items():
            f = where / name
            got = f.stat().st_size if f.is_file() else None
            if got != size:
                raise ChecksumError(f, f"{f}: " + (
                    "missing" if got is None else f"size mismatch: {got} bytes, expected {size}"))
            files[name] = f.read_bytes()
        return files
    got = file_md5(where)
    if got != tarball_md5:
        raise ChecksumError(where, f"{where}: checksum mismatch: md5 {got}, expected {tarball_md5}")
    files = {}
    with tarfile.open(where, "r|*") as tar:
        for member in tar:
            name = Path(member.name).name
            if member.isfile() and name in sizes:
                files[name] = tar.extractfile(member).read()
    missing = [n for n in sizes if n not in files]
    if missing:
        raise ChecksumError(where, f"{where}: lacks {missing}")
    return files
