"""The callback protocol: Callback, History, LambdaCallback and the list fit calls."""

import numpy as np



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

    #: attributes that make up the callback's state between epochs, saved and
    #: restored by BackupAndRestore so that a resumed run decides as the
    #: uninterrupted one would (e.g. EarlyStopping's best and wait)
    _state_attrs = ()

    def get_state(self):
        """The callback's state between epochs (None if it keeps none)."""
        if not self._state_attrs:
            return None
        return {a: getattr(self, a) for a in self._state_attrs}

    def set_state(self, state):
        for a in self._state_attrs:
            setattr(self, a, state[a])


def wants_batch_logs(callback):
    """True when the callback overrides on_batch_end (it needs per-batch values)."""
    if isinstance(callback, LambdaCallback):
        return callback.batch_end is not None
    if getattr(callback, "_reads_batch_loss_on_its_own", False):
        return False
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
        # BackupAndRestore goes after History: it restores after every callback's
        # on_train_begin, and saves the epoch once History has recorded it
        last = [cb for cb in callbacks if getattr(cb, "_runs_last", False)]
        self.callbacks = ([cb for cb in callbacks if not isinstance(cb, History) and cb not in last]
                          + [cb for cb in callbacks if isinstance(cb, History)] + last)
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
