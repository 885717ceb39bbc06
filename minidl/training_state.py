"""Everything a training run needs to go on exactly where it stopped.

``BackupAndRestore`` (minidl.callbacks) writes this at the end of every epoch
and reads it back when ``fit`` starts again:

    model        weights, BatchNorm statistics and their extra arrays
                 (minidl.saving's layout)
    optimizer    its config (the current lr), iteration count and moments
    progress     the last completed epoch and the History so far
    randomness   minidl's generators (shuffling, dropout, augmentation) and
                 those of seeded data iterators, as exact bit-generator states
    callbacks    the state of callbacks that carry some (EarlyStopping's best
                 and wait, ReduceLROnPlateau's, ModelCheckpoint's best, ...)
    data         the position and order of the training and validation
                 iterators (an augmented flow runs across fit's epochs)

A run resumed from it continues bit for bit as the uninterrupted run would
have. The file is minidl's .npz (JSON header + arrays), never a pickle.
"""
import numpy as np

from . import backend as K
from . import optimizers as optimizers_mod
from . import saving

FORMAT = "minidl-backup"
VERSION = 1


# ------------------------------------------------------------------ JSON + arrays
def _encode(value, arrays, key):
    """``value`` with every array replaced by {"__array__": name}, stored in ``arrays``."""
    if isinstance(value, dict):
        return {k: _encode(v, arrays, f"{key}/{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, arrays, f"{key}/{i}") for i, v in enumerate(value)]
    if hasattr(value, "shape") and hasattr(value, "dtype") and getattr(value, "ndim", 0) > 0:
        arrays[key] = K.to_numpy(value)
        return {"__array__": key, "device": K.get_array_module(value) is not np}
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "dtype") and getattr(value, "ndim", None) == 0:
        return K.to_numpy(value).item()
    return value


def _decode(value, arrays):
    if isinstance(value, dict):
        if "__array__" in value:
            a = arrays[value["__array__"]]
            return K.asarray(a) if value.get("device") else a
        return {k: _decode(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    return value


# ------------------------------------------------------------------ capture / restore
def capture(model, epoch, callbacks=(), iterators=None):
    """(header, arrays) describing the run after ``epoch`` (0-based) completed."""
    header, arrays = saving.model_arrays(model, include_optimizer=True)
    state = {"epoch": int(epoch),
             "history": {"epoch": list(model.history.epoch),
                         "history": model.history.history} if model.history else None,
             "rng": K.get_rng_state(),
             "callbacks": [{"class": type(cb).__name__, "state": cb.get_state()}
                           for cb in callbacks],
             "iterators": {name: it.get_state() for name, it in (iterators or {}).items()
                           if hasattr(it, "get_state")}}
    header.update({"format": FORMAT, "backup_version": VERSION,
                   "state": _encode(state, arrays, "state")})
    return header, arrays


def restore_model(model, header, arrays, what="BackupAndRestore"):
    """Weights, BatchNorm statistics, and the optimizer's settings (its current
    lr included), iteration count and moments, from a backup."""
    saving.set_model_arrays(model, header, arrays, what=what)
    spec = header.get("compile") or {}
    if spec.get("optimizer"):
        saved = optimizers_mod.deserialize(spec["optimizer"])
        if type(saved) is not type(model.optimizer):
            raise ValueError(f"{what}: the backup was made with {type(saved).__name__}, this "
                             f"model is compiled with {type(model.optimizer).__name__}")
        model.optimizer.__dict__.update(
            {k: v for k, v in saved.__dict__.items() if k not in ("state", "iterations")})


def restored_rng_state(header, arrays):
    """The random state a backup holds (to continue a run's streams elsewhere)."""
    return _decode(header["state"], arrays)["rng"]


def restore(model, header, arrays, callbacks=(), iterators=None):
    """Put ``model`` (built and compiled), the generators, ``callbacks`` and
    ``iterators`` back in the captured state; returns the next epoch to run."""
    if header.get("format") != FORMAT:
        raise ValueError(f"not a minidl backup (format {header.get('format')!r})")
    state = _decode(header["state"], arrays)
    restore_model(model, header, arrays)
    if state["history"] is not None and model.history is not None:
        model.history.epoch = list(state["history"]["epoch"])
        model.history.history = {k: list(v) for k, v in state["history"]["history"].items()}
    saved_cbs = state["callbacks"]
    names = [type(cb).__name__ for cb in callbacks]
    if [c["class"] for c in saved_cbs] != names:
        raise ValueError(f"BackupAndRestore: the backup's callbacks "
                         f"{[c['class'] for c in saved_cbs]} differ from this fit's {names}")
    for cb, saved in zip(callbacks, saved_cbs):
        if saved["state"] is not None:
            cb.set_state(saved["state"])
    for name, it in (iterators or {}).items():
        if name in state["iterators"] and hasattr(it, "set_state"):
            it.set_state(state["iterators"][name])
    K.set_rng_state(state["rng"])
    return state["epoch"] + 1
