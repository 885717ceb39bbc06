"""Callbacks that report: BaseLogger, ProgbarLogger, CSVLogger, RemoteMonitor (Keras 2.2.4)."""
import csv
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from ..utils.progbar import EpochProgress
from .base import Callback


class BaseLogger(Callback):
    """Epoch averages of the batch logs, weighted by batch size, written into
    the epoch logs (Keras 2.2.4 adds one to every fit; minidl's fit computes
    the same averages itself, so passing one changes nothing but costs a
    device read per batch). ``stateful_metrics`` are taken from the last
    batch instead of averaged."""

    def __init__(self, stateful_metrics=None):
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or ())

    def on_epoch_begin(self, epoch, logs=None):
        self.seen = 0
        self.totals = {}

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = logs.get("size", 0)
        self.seen += size
        for k, v in logs.items():
            if k in self.stateful_metrics:
                self.totals[k] = v
            else:
                self.totals[k] = self.totals.get(k, 0) + v * size

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for k in self.params.get("metrics", ()):
            if k in self.totals:
                stateful = k in self.stateful_metrics
                logs[k] = self.totals[k] if stateful else self.totals[k] / self.seen


class ProgbarLogger(Callback):
    """Print each epoch's progress: "Epoch i/N", a bar with running averages,
    then the epoch's values (Keras 2.2.4; quiet when fit's verbose=0).

    count_mode: 'samples' or 'steps' (batches); with a generator, whose
    sample count is unknown, it counts steps. Like Keras, fit(verbose=1)
    already prints its own bar, so passing a ProgbarLogger prints a second.
    stateful_metrics: names shown as their last value, not averaged.
    """

    def __init__(self, count_mode="samples", stateful_metrics=None):
        super().__init__()
        if count_mode not in ("samples", "steps"):
            raise ValueError(f"ProgbarLogger: count_mode must be 'samples' or 'steps', "
                             f"received {count_mode!r}")
        self.use_steps = count_mode == "steps"
        self.stateful_metrics = set(stateful_metrics or ())

    def on_train_begin(self, logs=None):
        self.verbose = self.params.get("verbose", 1)
        self.epochs = self.params.get("epochs")
        aliases = getattr(self.model, "_aliases", set)()     # 'acc' beside 'accuracy'
        self.keys = [k for k in self.params.get("metrics", ()) if k not in aliases]

    def on_epoch_begin(self, epoch, logs=None):
        self.seen, self._sums, self._last, self.progress = 0, {}, {}, None
        self._steps = self.use_steps or self.params.get("samples") is None
        if self.verbose:
            print(f"Epoch {epoch + 1}/{self.epochs}")
            target = self.params.get("steps") if self._steps else self.params.get("samples")
            self.progress = EpochProgress(target, unit="step" if self._steps else "sample",
                                          verbose=self.verbose)

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        step = 1 if self._steps else logs.get("size", 0)
        self.seen += step
        for k in self.keys:
            if k in logs:
                if k in self.stateful_metrics:
                    self._last[k] = logs[k]
                else:   # Keras's Progbar: averages weighted by the progress each batch made
                    total, weight = self._sums.get(k, (0.0, 0))
                    self._sums[k] = (total + logs[k] * step, weight + step)
        if self.progress is not None:
            self.progress.update(step, self._running)

    def _running(self):
        values = {k: t / w for k, (t, w) in self._sums.items() if w}
        values.update(self._last)
        return values

    def on_epoch_end(self, epoch, logs=None):
        if self.progress is not None:
            logs = logs or {}
            self.progress.close(self.seen, {k: logs[k] for k in self.keys if k in logs})


class CSVLogger(Callback):
    """Write one row per epoch to a CSV file: 'epoch' (from 0), then the
    epoch logs' keys in sorted order, as Keras 2.2.4 does (rows end in
    '\\r\\n', the csv module's default).

    separator: the field separator. append: add to an existing file (no new
    header if it already has one) instead of overwriting it. The file is
    flushed after every row. When a callback stops training, keys missing
    from the last epoch's logs are written as 'NA'.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.csv_file = self.writer = self.keys = None
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.append_header = True

    def on_train_begin(self, logs=None):
        from .. import distributed
        self.append_header, self.keys, self.writer = True, None, None
        self._writes = distributed.is_main()   # several processes: rank 0 writes the file
        if not self._writes:
            return
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                self.append_header = not f.readline()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")

    def on_epoch_end(self, epoch, logs=None):
        if not getattr(self, "_writes", True):
            return
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if getattr(self.model, "stop_training", False):
            logs = {k: logs.get(k, "NA") for k in self.keys}
        if self.writer is None:
            dialect = type("CSVLoggerDialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, _csv_value(logs[k])) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        self._close()

    def get_state(self):
        """The rows written so far: a resumed run rewrites them, then appends."""
        if not getattr(self, "_writes", True):
            return None
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.flush()
        with open(self.filename, newline="") as f:
            return {"text": f.read(), "keys": self.keys}

    def set_state(self, state):
        if not getattr(self, "_writes", True):
            return
        self._close()
        with open(self.filename, "w", newline="") as f:
            f.write(state["text"])
        self.keys = state["keys"]
        self.append_header = not state["text"]
        self.csv_file = open(self.filename, "a", newline="")

    def _close(self):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None

    def __del__(self):   # Keras 2.3.1: a fit that raised must not leave the file open
        self._close()


def _csv_value(v):
    """Keras 2.2.4's handle_value: sequences and arrays as "[a, b, ...]"."""
    if isinstance(v, str) or (isinstance(v, np.ndarray) and v.ndim == 0):
        return v
    if isinstance(v, (list, tuple, np.ndarray)):
        return '"[%s]"' % ", ".join(map(str, v))
    return v


class RemoteMonitor(Callback):
    """POST each epoch's logs (and 'epoch') as JSON to ``root + path``
    (Keras 2.2.4): in a form field ``field``, or as the request body when
    ``send_as_json``. An unreachable server gives a warning, not an error.

    Keras uses the ``requests`` package; minidl uses the standard library's
    urllib, with a timeout of ``timeout`` seconds so that a dead server
    cannot hang training (requests has none by default).
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False, timeout=10):
        super().__init__()
        self.root, self.path, self.field = root, path, field
        self.headers, self.send_as_json, self.timeout = headers, send_as_json, timeout

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for k, v in (logs or {}).items():
            send[k] = v.item() if isinstance(v, (np.ndarray, np.generic)) else v
        if self.send_as_json:
            body, kind = json.dumps(send).encode("utf-8"), "application/json"
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            kind = "application/x-www-form-urlencoded"
        headers = {"Content-Type": kind}
        headers.update(self.headers or {})
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError) as e:
            warnings.warn(f"RemoteMonitor: could not reach the root server at {self.root} ({e})")
