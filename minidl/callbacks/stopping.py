"""Callbacks that end training: EarlyStopping, TerminateOnNaN (Keras 2.2.4)."""
import warnings

import numpy as np

from .base import Callback, _monitor_op


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

    _state_attrs = ("wait", "stopped_epoch", "best", "best_weights")

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


class TerminateOnNaN(Callback):
    """End training when a batch's loss is NaN or infinite (Keras 2.2.4):
    prints "Batch N: Invalid loss, terminating training" and sets
    ``model.stop_training``.

    minidl's fit always stops on such a loss by raising TrainingDivergedError
    (training.py), with or without this callback; Keras, which has no check of
    its own, ends training quietly when given a TerminateOnNaN and fit
    returns normally. With a TerminateOnNaN among the callbacks, fit catches
    its own error, prints Keras's line and returns the History, as Keras does.
    The loss is watched on the device, so fit does not read each batch's loss
    for this callback (no host sync per batch on a GPU); called by hand with
    batch logs, ``on_batch_end`` still acts as Keras's does.
    """
    _reads_batch_loss_on_its_own = True   # fit's NaN check on the device stands for it

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (np.isnan(loss) or np.isinf(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
