"""Training progress: a tqdm bar per epoch, then one Keras-like summary line.

The running loss/accuracy shown on the bar are read from the device only
when the bar refreshes (at most every ``interval`` seconds), so a GPU is not
made to wait every batch just to draw a number.
"""
import sys
import time

from tqdm.auto import tqdm


def format_logs(logs):
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


def format_duration(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"
    return f"{seconds * 1e3:.0f}ms"


def format_per_item(seconds, unit):
    us = seconds * 1e6
    text = f"{us:.0f}us" if us < 1e3 else f"{us / 1e3:.1f}ms" if us < 1e6 else f"{us / 1e6:.1f}s"
    return f"{text}/{unit}"


class EpochProgress:
    """verbose=1: a bar with running values, then the summary line.
    verbose=2: the summary line only. verbose=0: nothing."""

    def __init__(self, total, unit="sample", verbose=1, interval=0.1, file=None):
        self.total, self.unit, self.verbose, self.interval = total, unit, verbose, interval
        self.file = file or sys.stdout
        self.start = time.perf_counter()
        self._last_refresh = 0.0
        self.bar = None
        if verbose == 1:
            self.bar = tqdm(total=total, file=self.file, leave=False, dynamic_ncols=True,
                            unit=unit, mininterval=interval,
                            bar_format="{n_fmt}/{total_fmt} [{bar:30}] - {elapsed} {desc}")

    def due(self):
        """True when the bar would show new running values now."""
        return self.bar is not None and time.perf_counter() - self._last_refresh >= self.interval

    def update(self, n, running=None):
        """Advance by n; ``running`` is a callable giving the values to show."""
        if self.bar is None:
            return
        if running is not None and self.due():
            self._last_refresh = time.perf_counter()
            self.bar.set_description_str("- " + format_logs(running()), refresh=False)
        self.bar.update(n)

    def close(self, seen, logs):
        elapsed = time.perf_counter() - self.start
        if self.bar is not None:
            self.bar.close()
        if self.verbose:
            per = format_per_item(elapsed / max(seen, 1), self.unit)
            head = f"{seen}/{self.total}" if self.verbose == 1 else ""
            parts = [p for p in (head, format_duration(elapsed), per, format_logs(logs)) if p]
            print(" - ".join(parts), file=self.file, flush=True)
        return elapsed
