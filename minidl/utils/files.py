"""Files written whole or not at all: a kill mid-write leaves the old file."""
import json
import os
import tempfile


def write_atomic(path, write, binary=False):
    """Call ``write(f)`` on a temporary file beside ``path``, flush it to disk,
    then rename it over ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_text_atomic(path, text):
    write_atomic(path, lambda f: f.write(text))


def write_json_atomic(path, obj, **dump_kwargs):
    write_text_atomic(path, json.dumps(obj, **dump_kwargs))
