"""Replaying a recipe: its data, its phases, the per-epoch record, and resuming a killed run."""
import json
import os
import re
import resource
import time
import warnings

import numpy as np

from .. import backend as K
from .. import datasets
from ..callbacks import BackupAndRestore, Callback
from ..preprocessing.image import ImageDataGenerator
from ..utils import to_categorical
from ..utils.files import write_json_atomic
from .models import CLASS_NAMES
from .recipes import get_recipe


# ============================================================ running a recipe

def _without_paths(note):
    """A loader's message with absolute file paths reduced to the file's name:
    results are committed, and the machine they ran on is nobody's business."""
    return re.sub(r"(?<![\w.])/(?:[^\s/]+/)+([^\s/]+?)(?=[\s,;:]|\.(?:\s|$)|$)",
                  r"\1 (in the data folder)", note)


def load_recipe_data(recipe, limit=None, data_path=None):
    """The recipe's data, preprocessed as its study did.

    Returns a dict: x_train, y_train, x_val, y_val (None without a split),
    x_test, y_test, class_names, data_notes (the loader's warnings, e.g. that
    CIFAR-10 came from its JPEG copy, kept for the run's record).
    x: (N, 28, 28, 1), (N, 32, 32, 3) or (N, 784) float32 in [0, 1];
    y: (N,) integer labels or (N, 10) one-hot.
    limit: keep at most this many samples of each part (after the split):
      a fixed random subset, the same on every call, so that a copy stored
      in class order (the CIFAR-10 JPEG fallback) still gives every class.
    """
    recipe = get_recipe(recipe)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (x, y), (x_test, y_test) = datasets.load(recipe.dataset, path=data_path)
    for w in caught:  # shown as usual, and remembered
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    parts = {"train": (x, y), "test": (x_test, y_test)}
    if recipe.validation == "split":
        val_size, seed = recipe.split
        parts["train"], parts["val"] = datasets.train_val_split(x, y, val_size=val_size,
                                                                seed=seed)
    out = {"class_names": CLASS_NAMES[recipe.dataset], "x_val": None, "y_val": None,
           "data_notes": [_without_paths(str(w.message)) for w in caught]}
    for name, (xs, ys) in parts.items():
        if limit is not None and limit < len(xs):
            keep = np.sort(np.random.default_rng(0).choice(len(xs), limit, replace=False))
            xs, ys = xs[keep], ys[keep]
        out["x_" + name], out["y_" + name] = _prepare(recipe, xs, ys)
    return out


def _prepare(recipe, x, y):
    x = x.astype(np.float32) / np.float32(255)
    if recipe.flatten:
        x = x.reshape(len(x), -1)
    elif x.ndim == 3:
        x = x.reshape(x.shape + (1,))
    y = np.asarray(y).reshape(-1)
    if recipe.labels == "onehot":
        y = to_categorical(y, 10)
    return x, y


class _EpochLog(Callback):
    """Wall time, learning rate and device memory of every epoch."""

    _state_attrs = ("times", "lrs")   # kept by BackupAndRestore across a resume

    def __init__(self, memory):
        super().__init__()
        self.times, self.lrs, self.memory = [], [], memory

    def on_epoch_begin(self, epoch, logs=None):
        K.synchronize()
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        K.synchronize()  # queued GPU work belongs to this epoch
        self.times.append(time.perf_counter() - self._start)
        self.lrs.append(float(self.model.optimizer.lr))
        self.memory.sample()


class _PeakMemory:
    """Peak memory of the run, as well as each device lets us see it.

    cpu: the process's peak resident set size (ru_maxrss), over its whole
         life (data loading included, earlier runs in the same process too).
    gpu: CuPy's default memory pool, bytes it holds (in use + cached),
         sampled at each epoch's end; the pool keeps freed blocks for reuse,
         so this is its high-water mark at those moments.
    """

    def __init__(self):
        self.device = K.device()
        self.gpu_bytes = 0

    def sample(self):
        if self.device == "gpu":
            self.gpu_bytes = max(self.gpu_bytes, K.gpu_pool_bytes())

    def result(self):
        if self.device == "gpu":
            self.sample()
            return {"kind": "gpu_memory_pool_total_bytes", "bytes": self.gpu_bytes,
                    "meaning": "CuPy memory pool high-water (in use + cached), sampled at "
                               "epoch ends"}
        # Linux reports ru_maxrss in KiB
        return {"kind": "cpu_max_rss", "bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                * 1024, "meaning": "peak resident memory of the whole process"}


def _pixel_stats(x):
    """The study's ``X_train.mean()`` and ``X_train.std()`` in float32."""
    return float(x.mean(dtype=np.float32)), float(x.std(dtype=np.float32))


def run_recipe(recipe, max_epochs=None, limit=None, seed=0, verbose=1, data_path=None,
               data=None, keras20_lr_assignment=False, eval_batch_size=500, backup_dir=None):
    """Train a study's model the way the study did, phase by phase.

    recipe: a key of RECIPES or a Recipe.
    max_epochs: cap every phase at this many epochs (quick runs); the result
      says ``capped``.
    limit: keep at most this many train / validation / test samples.
    seed: ``minidl.seed(seed)`` before building: weights, shuffles, dropout
      and augmentation repeat.
    data: a dict as ``load_recipe_data`` returns, instead of loading.
    keras20_lr_assignment: skip the lr changes the study made by assigning
      ``model.optimizer.lr`` (study 000), as Keras 2.0.x silently did.
    eval_batch_size: batch size of the test evaluations (inference gives the
      same numbers for any batch size; larger is faster than Keras's 32).
    backup_dir: make the run resumable. Each phase trains with a
      BackupAndRestore in ``backup_dir/phase<k>/`` and, once evaluated, writes
      ``backup_dir/phase<k>.json``. Called again with the same folder after
      being killed, the run skips the finished phases, puts the model and the
      random streams where the last of them ended, and resumes the phase it
      was in after its last complete epoch: the result is the uninterrupted
      run's, bit for bit.

    After each phase the model is evaluated on the test set. Returns a dict:
    model, study, recipe (summary), device, seed, capped, limit, params,
    phases (per phase: epochs, lr, augmented, test_loss, test_accuracy,
    published_accuracy, wall_s), history (per epoch: loss, accuracy,
    val_loss, val_accuracy, lr (the base rate, before SGD's time decay, as
    Keras reports it), epoch_time_s (training + validation), phase),
    epochs_run, wall_s (the run's time across all its sittings: a resumed
    phase adds the recorded times of the epochs before the resume),
    mean_epoch_s, peak_memory, and 'trained_model': the model itself.
    """
    recipe = get_recipe(recipe)
    if max_epochs is not None and (not isinstance(max_epochs, int) or max_epochs < 1):
        raise ValueError(f"run_recipe: max_epochs must be a positive int or None, "
                         f"received {max_epochs!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"run_recipe: limit must be a positive int or None, received {limit!r}")
    start = time.perf_counter()
    if data is None:
        data = load_recipe_data(recipe, limit=limit, data_path=data_path)
    load_s = time.perf_counter() - start
    K.seed(seed)
    mean, std = _pixel_stats(data["x_train"]) if recipe.standardize_input else (None, None)
    model = recipe.build_model(mean=mean, std=std)
    model.compile(optimizer=recipe.make_optimizer(), loss=recipe.loss, metrics=["accuracy"])
    memory = _PeakMemory()
    log = _EpochLog(memory)
    history, phases = {}, []
    finished = None   # the backup folder of the last phase found finished
    for index, phase in enumerate(recipe.phases):
        epochs = phase.epochs if max_epochs is None else min(phase.epochs, max_epochs)
        done = _finished_phase(backup_dir, index)
        if done is not None:
            phases.append(done["phase"])
            _extend_history(history, done["history"], index)
            log.times, log.lrs = done["times"], done["lrs"]
            finished = os.path.join(backup_dir, f"phase{index + 1}")
            if verbose:
                print(f"[{recipe.key}] phase {index + 1}/{len(recipe.phases)}: finished "
                      f"earlier (test accuracy {100 * done['phase']['test_accuracy']:.2f}%)")
            continue
        if finished is not None:   # continue from where the last finished phase ended
            _restore_phase_end(model, finished)
            finished = None
        if phase.lr is not None and not (keras20_lr_assignment and index > 0):
            model.optimizer.lr = phase.lr
        if verbose:
            print(f"[{recipe.key}] phase {index + 1}/{len(recipe.phases)}: {epochs} epoch(s), "
                  f"lr {model.optimizer.lr:g}" + (", augmented" if phase.augment else ""))
        t, times_before = time.perf_counter(), len(log.times)
        backup = None if backup_dir is None else BackupAndRestore(
            os.path.join(backup_dir, f"phase{index + 1}"), delete_checkpoint=False)
        h = _fit_phase(model, recipe, phase, data, epochs, verbose, log, backup)
        test_loss, test_acc = model.evaluate(data["x_test"], data["y_test"],
                                             batch_size=eval_batch_size, verbose=0)
        memory.sample()
        _extend_history(history, h.history, index)
        wall = time.perf_counter() - t
        if backup is not None and backup.resumed_from:   # add the epochs of earlier sittings
            wall += sum(log.times[times_before:times_before + backup.resumed_from])
        phases.append({"phase": index + 1, "epochs": epochs, "epochs_planned": phase.epochs,
                       "lr": model.optimizer.lr, "augmented": phase.augment is not None,
                       "test_loss": float(test_loss), "test_accuracy": float(test_acc),
                       "published_accuracy": phase.published,
                       "wall_s": wall,
                       **({"resumed_after_epoch": backup.resumed_from}
                          if backup is not None and backup.resumed_from else {})})
        if backup_dir is not None:
            write_json_atomic(os.path.join(backup_dir, f"phase{index + 1}.json"),
                               {"phase": phases[-1], "history": h.history,
                                "times": log.times, "lrs": log.lrs})
        if verbose:
            published = f" (published {phase.published:.2f}%)" if phase.published else ""
            print(f"[{recipe.key}] phase {index + 1}: test accuracy {100 * test_acc:.2f}%"
                  f"{published}, test loss {test_loss:.4f}")
    if finished is not None:   # every phase had finished earlier: the trained model back
        _restore_phase_end(model, finished)
    history["lr"] = log.lrs
    history["epoch_time_s"] = log.times
    return {
        "model": recipe.key, "study": recipe.study, "recipe": recipe.summary(),
        "device": K.device(), "seed": seed,
        "capped": max_epochs is not None and any(p.epochs > max_epochs for p in recipe.phases),
        "max_epochs": max_epochs, "limit": limit,
        "samples": {k: (None if data[f"x_{k}"] is None else len(data[f"x_{k}"]))
                    for k in ("train", "val", "test")},
        "data_notes": data.get("data_notes", []),
        "keras20_lr_assignment": keras20_lr_assignment, "params": model.count_params(),
        "phases": phases, "history": history, "epochs_run": len(log.times),
        "wall_s": load_s + sum(p["wall_s"] for p in phases),
        "mean_epoch_s": float(np.mean(log.times)) if log.times else None,
        "peak_memory": memory.result(), "trained_model": model,
    }


def _extend_history(history, phase_history, index):
    for k, v in phase_history.items():
        if k not in ("acc", "val_acc"):     # aliases of 'accuracy', 'val_accuracy'
            history.setdefault(k, []).extend(v)
    history.setdefault("phase", []).extend([index + 1] * len(phase_history["loss"]))


def _finished_phase(backup_dir, index):
    """The record a resumable run wrote when phase ``index`` ended, or None."""
    if backup_dir is None:
        return None
    path = os.path.join(backup_dir, f"phase{index + 1}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _restore_phase_end(model, folder):
    """The model, optimizer and random streams as the phase backed up in
    ``folder`` left them after its last epoch."""
    from .. import saving, training_state
    header, arrays = saving.read_npz(os.path.join(folder, BackupAndRestore.FILES[0]),
                                     "run_recipe(backup_dir)")
    training_state.restore_model(model, header, arrays, "run_recipe(backup_dir)")
    K.set_rng_state(training_state.restored_rng_state(header, arrays))


def _fit_phase(model, recipe, phase, data, epochs, verbose, log, backup=None):
    callbacks = [log] + ([backup] if backup is not None else [])
    bs = phase.batch_size or recipe.batch_size
    x, y = data["x_train"], data["y_train"]
    validation = None
    if recipe.validation == "split":
        validation = (data["x_val"], data["y_val"])
    elif recipe.validation == "test":
        validation = (data["x_test"], data["y_test"])
    if phase.augment is None:
        return model.fit(x, y, batch_size=bs, epochs=epochs, verbose=verbose,
                         validation_data=validation, callbacks=callbacks)
    datagen = ImageDataGenerator(**phase.augment)
    validation_steps = None
    if phase.augment_validation and validation is not None:
        validation_steps = max(1, len(validation[0]) // bs)
        validation = datagen.flow(validation[0], validation[1], batch_size=bs)
    # the studies' steps_per_epoch: len(x_train) // batch_size (48000 // 512 = 93, ...)
    return model.fit_generator(datagen.flow(x, y, batch_size=bs),
                               steps_per_epoch=max(1, len(x) // bs), epochs=epochs,
                               verbose=verbose, validation_data=validation,
                               validation_steps=validation_steps, callbacks=callbacks)
