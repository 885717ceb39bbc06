"""Callbacks: code that runs at the start/end of training, epochs and batches.

The Keras 2.2.4 set (keras/callbacks.py; 2.3.1 is the same for these), with
Keras's arguments and defaults, one file per kind:

    base.py           Callback, History, LambdaCallback, CallbackList
    loggers.py        BaseLogger, ProgbarLogger, CSVLogger, RemoteMonitor
    stopping.py       EarlyStopping, TerminateOnNaN
    learning_rate.py  LearningRateScheduler, ReduceLROnPlateau
    checkpoint.py     ModelCheckpoint; tf.keras's BackupAndRestore (resumable runs)
    gradient_stats.py GradientStats: per-layer gradient and weight norms (minidl's own)

TensorBoard raises an error naming it when constructed: minidl writes no
TensorFlow event files.

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
from .base import Callback, CallbackList, History, LambdaCallback, TensorBoard, wants_batch_logs
from .checkpoint import BackupAndRestore, ModelCheckpoint
from .gradient_stats import GradientStats
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .loggers import BaseLogger, CSVLogger, ProgbarLogger, RemoteMonitor
from .stopping import EarlyStopping, TerminateOnNaN

_PUBLIC = ("Callback", "History", "BaseLogger", "TerminateOnNaN", "ProgbarLogger",
           "ModelCheckpoint", "EarlyStopping", "RemoteMonitor", "LearningRateScheduler",
           "ReduceLROnPlateau", "CSVLogger", "LambdaCallback", "CallbackList",
           "BackupAndRestore", "GradientStats")
__all__ = list(_PUBLIC)


def __getattr__(name):
    raise AttributeError(f"module 'minidl.callbacks' has no attribute {name!r}; minidl's "
                         f"callbacks are {', '.join(_PUBLIC)} (TensorBoard raises when "
                         f"constructed)")
