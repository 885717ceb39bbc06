"""Callbacks: code that runs at the start/end of training, epochs and batches.

The Keras 2.2.4 set (keras/callbacks.py; 2.3.1 is the same for these), with
Keras's arguments and defaults: History, BaseLogger, TerminateOnNaN,
ProgbarLogger, ModelCheckpoint, EarlyStopping, RemoteMonitor,
LearningRateScheduler, ReduceLROnPlateau, CSVLogger, LambdaCallback.
TensorBoard and tf.keras's BackupAndRestore raise an error naming them when
constructed: minidl has no TensorFlow event files or checkpoint manager.

``logs`` are dicts of Python floats: per epoch 'loss', 'accuracy' (and its
Keras < 2.3 alias 'acc'), 'val_loss', 'val_accuracy', 'val_acc'. Batch logs
('batch', 'size', 'loss', metrics) are filled only when a callback overrides
``on_batch_end``, because reading the loss every batch would wait for the GPU
every batch. A callback sees the model as ``self.model``; setting
``self.model.stop_training = True`` ends training after the current batch,
and ``self.model.optimizer.lr`` is a plain float.

NaN losses: ``fit`` always stops with ``TrainingDivergedError`` naming the
epoch and batch when the loss becomes NaN or infinite, whether or not a
TerminateOnNaN is given. Keras has no such check of its own; its
TerminateOnNaN ends training quietly instead, and minidl's TerminateOnNaN
asks ``fit`` for that (see the class).
"""
import csv
import inspect
import json
import math
import numbers
import os
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from .utils.progbar import EpochProgress


class Callback:
    """Base class: override the hooks you need. ``self.model`` is the model
    being trained, ``self.params`` holds 'epochs', 'steps', 'samples',
    'verbose', 'do_validation' and 'metrics' (the epoch log keys)."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


def wants_batch_logs(callback):
    """True when the callback overrides on_batch_end (it needs per-batch values)."""
    if isinstance(callback, LambdaCallback):
        return callback.batch_end is not None
    return type(callback).on_batch_end is not Callback.on_batch_end


class History(Callback):
    """``history.history[key]`` is the list of that key's value per epoch."""

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def _monitor_op(mode, monitor, who, fmeasure=True):
    """(np.greater or np.less, the worst start value) for ``mode``.

    'auto' means 'max' for accuracies ('acc' in the name) and, for
    ModelCheckpoint only, 'fmeasure*' (Keras 2.2.4 callbacks.py); else 'min'.
    Keras warns and falls back to 'auto' for an unknown mode; minidl raises,
    so a typo does not silently monitor the wrong direction."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', received {mode!r}")
    if mode == "auto":
        mode = "max" if ("acc" in monitor or (fmeasure and monitor.startswith("fmeasure"))) \
            else "min"
    return (np.greater, -np.inf) if mode == "max" else (np.less, np.inf)


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


class TerminateOnNaN(Callback):
    """End training when a batch's loss is NaN or infinite (Keras 2.2.4):
    prints "Batch N: Invalid loss, terminating training" and sets
    ``model.stop_training``.

    minidl's fit always stops on such a loss by raising TrainingDivergedError
    (models.py), with or without this callback; Keras, which has no check of
    its own, ends training quietly when given a TerminateOnNaN and fit
    returns normally. With a TerminateOnNaN among the callbacks, fit is to
    catch its own error and return the History, as Keras does.
    """

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (np.isnan(loss) or np.isinf(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


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


class ModelCheckpoint(Callback):
    """Save the model (or its weights) after epochs; ``filepath`` may hold
    format fields such as ``'weights.{epoch:02d}-{val_loss:.2f}.npz'``.
    Arguments and defaults as Keras 2.2.4 callbacks.py.

    The file is minidl's own format whatever its suffix ('.h5' included);
    ``minidl.models.load_model`` / ``model.load_weights`` read it back.
    save_best_only: save only when ``monitor`` improves on the best so far.
    period: epochs between checkpoints (counted across fits, as Keras does).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", period=1):
        super().__init__()
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.period = int(period)
        self.monitor_op, self.best = _monitor_op(mode, monitor, "ModelCheckpoint")
        self.epochs_since_last_save = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epochs_since_last_save += 1
        if self.epochs_since_last_save < self.period:
            return
        self.epochs_since_last_save = 0
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"ModelCheckpoint: can save the best model only with "
                              f"{self.monitor!r} in the logs, skipping (available: "
                              f"{sorted(logs)})", RuntimeWarning)
                return
            if not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1:05d}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1:05d}: {self.monitor} improved from {self.best:.5f} "
                      f"to {current:.5f}, saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience``
    epochs. Arguments and defaults as Keras 2.2.4 callbacks.py (2.3.1 alike).

    baseline: the value to beat; epochs that do not beat it count as not
      improving, so training stops after ``patience`` epochs without
      reaching it.
    restore_best_weights: when it stops training, set the weights of the
      epoch with the best monitored value (only then: training that runs
      all its epochs keeps the last weights, as in Keras 2). If no epoch
      beat the baseline there is nothing to restore and the weights stay
      (Keras 2.2.4 would fail on set_weights(None); tf.keras skips it too).
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.monitor_op, self._worst = _monitor_op(mode, monitor, "EarlyStopping",
                                                   fmeasure=False)
        # Keras 2.2.4 flips the sign for 'min' without abs(): min_delta as given
        self.min_delta = min_delta if self.monitor_op is np.greater else -min_delta
        self.wait, self.stopped_epoch, self.best_weights = 0, 0, None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self._worst if self.baseline is None else self.baseline
        self.best_weights = None   # a reused instance must not restore an older fit's weights

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"EarlyStopping conditioned on metric {self.monitor!r} which is not "
                          f"available. Available metrics are: {','.join(logs)}", RuntimeWarning)
            return
        if self.monitor_op(current - self.min_delta, self.best):
            self.best, self.wait = current, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose > 0:
                    print("Restoring model weights from the end of the best epoch")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1:05d}: early stopping")


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


class LearningRateScheduler(Callback):
    """Set ``optimizer.lr = schedule(epoch, lr)`` (or ``schedule(epoch)``)
    before each epoch; epochs count from 0, ``lr`` is the current rate.
    The epoch logs get 'lr' (Keras 2.2.4).

    Which form is called is read from the schedule's signature: a schedule
    that can take two arguments gets ``(epoch, lr)``. Keras 2.2.4/2.3.1 try
    the two-argument call and fall back to ``schedule(epoch)`` on any
    TypeError, which also hides a TypeError raised inside a two-argument
    schedule; both choose the same form for every schedule that works.
    The result must be a finite number >= 0 (Keras asks for a float; ints
    are accepted here).
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be a function of (epoch) "
                            f"or (epoch, lr), received {type(schedule).__name__}")
        self.schedule, self.verbose = schedule, verbose
        self._takes_lr = _accepts(schedule, 2)
        if not self._takes_lr and not _accepts(schedule, 1):
            raise TypeError(f"LearningRateScheduler: schedule must accept (epoch) or "
                            f"(epoch, lr); its signature is {inspect.signature(schedule)}")

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        if not hasattr(opt, "lr"):
            raise ValueError("LearningRateScheduler: the optimizer must have an 'lr' attribute")
        lr = self.schedule(epoch, float(opt.lr)) if self._takes_lr else self.schedule(epoch)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
            raise ValueError(f"LearningRateScheduler: the schedule must return a float, "
                             f"received {lr!r} for epoch {epoch}")
        lr = float(lr)
        if not math.isfinite(lr) or lr < 0:
            raise ValueError(f"LearningRateScheduler: schedule returned {lr} for epoch {epoch}; "
                             f"a learning rate must be finite and >= 0")
        opt.lr = lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = float(self.model.optimizer.lr)


def _accepts(fn, n):
    """True when ``fn`` can be called with n positional arguments (assumed
    for callables without a readable signature, such as some builtins)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(*range(n))
    except TypeError:
        return False
    return True


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not
    improved for ``patience`` epochs (Keras 2.2.4 callbacks.py, defaults too).

    An improvement beats the best value by more than ``min_delta`` (Keras
    < 2.1.6 called it ``epsilon``; that name is still accepted, with a
    warning). After a reduction, ``cooldown`` epochs pass before epochs count
    towards ``patience`` again. The rate never goes below ``min_lr``. The
    epoch logs get 'lr', the rate the epoch trained with.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0, **kwargs):
        super().__init__()
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
            warnings.warn("ReduceLROnPlateau: the `epsilon` argument is deprecated, use "
                          "`min_delta` instead")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected argument(s) {sorted(kwargs)}")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, "
                             f"received {factor}")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.mode, self.min_delta, self.cooldown, self.min_lr = mode, min_delta, cooldown, min_lr
        self._reset()

    def _reset(self):
        op, _ = _monitor_op(self.mode, self.monitor, "ReduceLROnPlateau", fmeasure=False)
        if op is np.less:
            self.monitor_op = lambda a, b: np.less(a, b - self.min_delta)
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.min_delta)
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        opt = self.model.optimizer
        logs["lr"] = float(opt.lr)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"ReduceLROnPlateau conditioned on metric {self.monitor!r} which is "
                          f"not available. Available metrics are: {','.join(logs)}",
                          RuntimeWarning)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(opt.lr)
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    opt.lr = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1:05d}: ReduceLROnPlateau reducing learning "
                              f"rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


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
        self.append_header, self.keys, self.writer = True, None, None
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                self.append_header = not f.readline()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")

    def on_epoch_end(self, epoch, logs=None):
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


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=f)``:
    on_epoch_begin/on_epoch_end(epoch, logs), on_batch_begin/on_batch_end(batch,
    logs), on_train_begin/on_train_end(logs). Other keyword arguments become
    attributes (Keras 2.2.4)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        self.__dict__.update(kwargs)
        for name, fn in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_batch_begin", on_batch_begin), ("on_train_begin", on_train_begin),
                         ("on_train_end", on_train_end)):
            if fn is not None:
                setattr(self, name, fn)
        self.batch_end = on_batch_end

    def on_batch_end(self, batch, logs=None):
        if self.batch_end is not None:
            self.batch_end(batch, logs)


class _NotImplementedCallback(Callback):
    """A Keras callback minidl does not have: constructing it is an error,
    never a callback that silently does nothing."""
    _instead = ""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(f"minidl does not implement {type(self).__name__}; "
                                  f"{self._instead}")


class TensorBoard(_NotImplementedCallback):
    """Not available in minidl: raises NotImplementedError when constructed."""
    _instead = ("it writes TensorFlow event files, which minidl has no writer for. Log the "
                "epochs with CSVLogger('training.csv'), or plot the History that fit returns "
                "with minidl.plotting.plot_history(history, 'curves.png').")


class BackupAndRestore(_NotImplementedCallback):
    """Not available in minidl (tf.keras): raises NotImplementedError when constructed."""
    _instead = ("save checkpoints with ModelCheckpoint('ckpt.npz') and resume with "
                "minidl.models.load_model('ckpt.npz') and fit(..., initial_epoch=N).")


class CallbackList:
    """The callbacks of one fit, called in order, with History last: Keras
    2.2.4 (engine/training_arrays.py) appends model.history after the user's
    callbacks, so it records keys they add to the logs, such as 'lr'."""

    def __init__(self, callbacks, model, params):
        callbacks = list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks: expected Callback objects, received "
                                f"{type(cb).__name__}")
        self.callbacks = ([cb for cb in callbacks if not isinstance(cb, History)]
                          + [cb for cb in callbacks if isinstance(cb, History)])
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self.need_batch_logs = any(wants_batch_logs(cb) for cb in self.callbacks)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args):
            for cb in self.callbacks:
                getattr(cb, hook)(*args)
        return call


_PUBLIC = ("Callback", "History", "BaseLogger", "TerminateOnNaN", "ProgbarLogger",
           "ModelCheckpoint", "EarlyStopping", "RemoteMonitor", "LearningRateScheduler",
           "ReduceLROnPlateau", "CSVLogger", "LambdaCallback", "CallbackList")


def __getattr__(name):
    raise AttributeError(f"module 'minidl.callbacks' has no attribute {name!r}; minidl's "
                         f"callbacks are {', '.join(_PUBLIC)} (TensorBoard and BackupAndRestore "
                         f"raise when constructed)")
