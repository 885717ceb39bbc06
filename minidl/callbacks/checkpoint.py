"""Callbacks that save: ModelCheckpoint (Keras 2.2.4) and BackupAndRestore (tf.keras)."""
import os
import warnings

from .base import Callback, _monitor_op


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

    _state_attrs = ("best", "epochs_since_last_save")

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


class BackupAndRestore(Callback):
    """Make a run survive being killed: tf.keras 2.x's BackupAndRestore.

    At the end of every epoch it saves, atomically, everything the run needs
    to go on (minidl.training_state: weights, optimizer state and lr,
    BatchNorm statistics, the epoch, the History so far, every random stream,
    the data iterators' positions and the other callbacks' state) to
    ``backup_dir``. When ``fit`` starts again with a BackupAndRestore on the
    same folder, it restores all of that and continues with the next epoch;
    the result is bit for bit the one an uninterrupted run gives.

        model.fit(x, y, epochs=50, callbacks=[BackupAndRestore('run1/backup')])
        # killed in epoch 31; the same command again resumes at epoch 31

    A run killed during an epoch loses that epoch. The folder keeps the last
    two backups (backup.npz and backup.previous.npz); a backup that is
    unreadable (a disk that filled up, a truncated copy) is reported and the
    one before it used. ``delete_checkpoint``: remove the backups when fit
    completes (tf.keras's default); the studies runner keeps them.
    ``save_freq`` must be 'epoch' (tf.keras also allows a batch count).
    """
    _runs_last = True
    FILES = ("backup.npz", "backup.previous.npz")

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch' (minidl backs up at "
                             f"epoch ends), received {save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.delete_checkpoint = bool(delete_checkpoint)
        self.resumed_from = None   # the epoch (1-based) a resumed run continued after

    def _paths(self):
        return [os.path.join(self.backup_dir, name) for name in self.FILES]

    def _candidates(self):
        """Newest first: a finished '.new' that was not yet moved in place, the latest,
        the previous."""
        latest, previous = self._paths()
        return [latest + ".new", latest, previous]

    def _others(self):
        return [cb for cb in self.model._fit_callbacks if cb is not self]

    def on_train_begin(self, logs=None):
        from .. import saving, training_state
        self.resumed_from = None
        for path in self._candidates():
            if not os.path.exists(path):
                continue
            try:
                header, arrays = saving.read_npz(path, "BackupAndRestore")
            except ValueError as err:
                warnings.warn(f"BackupAndRestore: {err}; trying the backup before it",
                              RuntimeWarning)
                continue
            next_epoch = training_state.restore(self.model, header, arrays, self._others(),
                                                self.model._fit_iterators)
            self.model._resume_epoch = next_epoch
            self.resumed_from = next_epoch
            if self.params.get("verbose"):
                print(f"BackupAndRestore: resuming after epoch {next_epoch} from {path}")
            return

    def on_epoch_end(self, epoch, logs=None):
        from .. import distributed, saving, training_state
        if not distributed.is_main():
            return   # several processes (minidl.distributed): rank 0 writes, all restore
        header, arrays = training_state.capture(self.model, epoch, self._others(),
                                                self.model._fit_iterators)
        os.makedirs(self.backup_dir, exist_ok=True)
        latest, previous = self._paths()
        # The new backup is complete on disk before the old one moves aside, so a
        # kill at any moment leaves at least one readable backup.
        tmp = latest + ".new"
        saving.write_npz(tmp, header, arrays)
        if os.path.exists(latest):
            os.replace(latest, previous)
        os.replace(tmp, latest)

    def on_train_end(self, logs=None):
        from .. import distributed
        if self.delete_checkpoint and distributed.is_main():
            for path in self._candidates():
                if os.path.exists(path):
                    os.remove(path)
