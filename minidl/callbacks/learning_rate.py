"""Callbacks that set the learning rate: LearningRateScheduler, ReduceLROnPlateau (Keras 2.2.4)."""
import inspect
import math
import numbers
import warnings

import numpy as np

from .base import Callback, _monitor_op


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

    _state_attrs = ("wait", "best", "cooldown_counter")

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
