"""How often the host waited for the device or data crossed between them.

Counted by the stand-in as real CuPy would pay for them:

- ``host_transfers``: every crossing, either way. To the device:
  ``cupy.asarray``/``cupy.array`` of host data, ``ndarray.set``, a host
  index or value in ``x[...]``. To the host: ``.get()``, ``cupy.asnumpy``,
  ``float(x)``, ``int(x)``, ``bool(x)``, ``x.item()``, ``x.tolist()``,
  ``repr(x)``.
- ``syncs``: every point where the host must wait for queued device work:
  each copy to the host above, ``Stream.synchronize()``,
  ``Device.synchronize()``, and the operations whose result size depends on
  the data (``x[mask]``, ``nonzero``, ``unique``, ...).

    from cupy_standin import counters
    counters.reset()
    model.fit(...)
    counters.snapshot()   # {'host_transfers': 12, 'syncs': 9, 'to_device': 3, 'to_host': 9}

``trace()`` also records where each event came from (the first caller
outside the stand-in and NumPy), for a test that wants to say which line
synchronized. ``watch_dtypes()`` records the dtype of every device array
made inside a block (e.g. to assert that a float32 step makes no float64).
"""
import contextlib
import os
import sys
import threading

import numpy

_lock = threading.Lock()
_counts = {"host_transfers": 0, "syncs": 0, "to_device": 0, "to_host": 0}
_events = None  # a list while tracing
_dtypes = None  # {dtype name: ['file:line', ...]} while watching


def reset():
    """Zero every counter (and the trace, when tracing)."""
    global _events
    with _lock:
        for k in _counts:
            _counts[k] = 0
        if _events is not None:
            _events = []


def snapshot():
    """The counters now: {'host_transfers', 'syncs', 'to_device', 'to_host'}."""
    with _lock:
        return dict(_counts)


def trace(on=True):
    """Start (or stop) recording each event as (kind, what, 'file:line')."""
    global _events
    _events = [] if on else None


def events():
    """The events recorded since ``trace()`` or ``reset()`` (a list copy)."""
    return list(_events or ())


_HERE = os.path.dirname(os.path.abspath(__file__))
_NUMPY = os.path.dirname(os.path.abspath(numpy.__file__))


def _caller():
    f = sys._getframe(2)
    while f is not None:
        name = os.path.abspath(f.f_code.co_filename)
        if not name.startswith(_HERE) and not name.startswith(_NUMPY):
            return f"{name}:{f.f_lineno}"
        f = f.f_back
    return "?"


def _record(kind, what):
    if _events is not None:
        _events.append((kind, what, _caller()))


def to_device(what):
    """Host data copied to the device (no wait)."""
    with _lock:
        _counts["host_transfers"] += 1
        _counts["to_device"] += 1
    _record("to_device", what)


def to_host(what):
    """Device data copied to the host: a transfer and a synchronization."""
    with _lock:
        _counts["host_transfers"] += 1
        _counts["to_host"] += 1
        _counts["syncs"] += 1
    _record("to_host", what)


def sync(what):
    """The host waits for the device without copying data."""
    with _lock:
        _counts["syncs"] += 1
    _record("sync", what)


@contextlib.contextmanager
def watch_dtypes():
    """``with watch_dtypes() as seen:`` -> ``seen`` maps the dtype name of every
    device array made in the block to the lines (outside the stand-in and
    NumPy, 'file:line', in order of first use) that made one."""
    global _dtypes
    saved, _dtypes = _dtypes, {}
    seen = _dtypes
    try:
        yield seen
    finally:
        _dtypes = saved


def _made(dtype):
    if _dtypes is not None:
        sites = _dtypes.setdefault(dtype.name, [])
        site = _caller()
        if site not in sites:
            sites.append(site)
