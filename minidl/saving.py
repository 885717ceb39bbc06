"""Saving and loading models: one .npz file, JSON inside, never a pickle.

File layout (a NumPy .npz, i.e. a zip of .npy arrays):

    __minidl__            JSON (utf-8 bytes as uint8): format version, the
                          model config (layers and their settings), the
                          compile settings and the optimizer config
    layer/<i>/<name>      each layer's weights, e.g. layer/0/kernel
    extra/<i>/<name>      arrays a layer needs besides its weights
    optimizer/<slot>/<i>/<name>  optimizer state of layer i's weight, e.g.
                          optimizer/m/0/kernel for Adam (by position: a model
                          rebuilt in the same process has other layer names)

The file is written to a temporary name in the same folder and renamed
over the target, so a crash never leaves a half-written model. Loading uses
``np.load(allow_pickle=False)``: a file cannot run code.
"""
import json
import os
import warnings
import zipfile

import numpy as np

from . import backend as K
from . import losses as losses_mod
from . import metrics as metrics_mod
from . import optimizers as optimizers_mod
from .utils.files import write_atomic

FORMAT = "minidl-model"
VERSION = 1


_FOREIGN_SUFFIXES = (".h5", ".hdf5", ".keras", ".tf", ".pb")


def _check_target(filepath, overwrite, what):
    """Keras code names files 'model.h5': write minidl's format there anyway, and say so."""
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{what}: {filepath!r} exists and overwrite=False")
    if filepath.lower().endswith(_FOREIGN_SUFFIXES):
        warnings.warn(
            f"{what}: {filepath!r} is written in minidl's own format (a .npz zip of JSON and "
            f"arrays), not HDF5 or SavedModel; minidl.models.load_model reads it back, Keras "
            f"cannot", UserWarning, stacklevel=4)
    return filepath


def _write_atomic(filepath, arrays):
    write_atomic(filepath, lambda f: np.savez(f, **arrays), binary=True)


def _json_array(obj):
    return np.frombuffer(json.dumps(obj).encode("utf-8"), dtype=np.uint8)


def save_model(model, filepath, include_optimizer=True, overwrite=True):
    model._require_built("save")
    filepath = _check_target(filepath, overwrite, f"{model.name}.save")
    header, arrays = model_arrays(model, include_optimizer)
    write_npz(filepath, header, arrays)


def write_npz(filepath, header, arrays):
    """Write ``arrays`` and the JSON ``header`` atomically to ``filepath``."""
    _write_atomic(filepath, {**arrays, "__minidl__": _json_array(header)})


def model_arrays(model, include_optimizer=True):
    """(header, arrays) of a built model: config, weights, extra arrays, and
    the compile settings with the optimizer state."""
    header = {"format": FORMAT, "version": VERSION, "minidl": __import__("minidl").__version__,
              "model": {"class_name": type(model).__name__, "config": model.get_config()},
              "input_shape": list(model._input_shape), "compile": None}
    arrays = {}
    for i, layer in enumerate(model.layers):
        for name, w in layer.named_weights.items():
            arrays[f"layer/{i}/{name}"] = K.to_numpy(w)
        for name, a in layer._extra_arrays().items():
            arrays[f"extra/{i}/{name}"] = np.asarray(a)
    if model.loss is not None:
        header["compile"] = {"loss": losses_mod.serialize(model.loss),  # with its arguments
                             "metrics": [metrics_mod.serialize(m) for m in model._metric_names],
                             "optimizer": optimizers_mod.serialize(model.optimizer)}
        if include_optimizer:
            positions = {f"{layer.name}/{n}": f"{i}/{n}" for i, layer in enumerate(model.layers)
                         for n in layer.params}
            state = model.optimizer.get_state()
            header["compile"]["iterations"] = state.pop("iterations")
            for slot, values in state.items():
                for key, a in values.items():
                    arrays[f"optimizer/{slot}/{positions.get(key, key)}"] = a
    return header, arrays


def save_weights(model, filepath, overwrite=True):
    model._require_built("save_weights")
    filepath = _check_target(filepath, overwrite, f"{model.name}.save_weights")
    arrays = {f"layer/{i}/{name}": K.to_numpy(w)
              for i, layer in enumerate(model.layers) for name, w in layer.named_weights.items()}
    arrays["__minidl__"] = _json_array({"format": FORMAT + "-weights", "version": VERSION})
    _write_atomic(filepath, arrays)


def read_npz(filepath, what):
    """(header, arrays) of a file written by write_npz; ValueError if unreadable."""
    return _open(filepath, what)


def _open(filepath, what):
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"{what}: no such file {filepath!r}")
    try:
        with np.load(filepath, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise ValueError(
            f"{what}: {filepath!r} is not a readable minidl file (truncated or not a .npz: {e})") from None
    if "__minidl__" not in arrays:
        raise ValueError(f"{what}: {filepath!r} is a .npz but not a minidl model (no __minidl__ header)")
    try:
        header = json.loads(arrays.pop("__minidl__").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{what}: {filepath!r} has a damaged header ({e})") from None
    return header, arrays


def _set_layer_weights(model, arrays, what, filepath):
    for i, layer in enumerate(model.layers):
        names = list(layer.named_weights)
        missing = [n for n in names if f"layer/{i}/{n}" not in arrays]
        if missing:
            raise ValueError(f"{what}: {filepath!r} has no weights {missing} for layer {i} ({layer.name})")
        layer.set_weights([arrays[f"layer/{i}/{n}"] for n in names])


def load_weights(model, filepath):
    model._require_built("load_weights")
    header, arrays = _open(filepath, "load_weights")
    _set_layer_weights(model, arrays, "load_weights", filepath)


def load_model(filepath, custom_objects=None, compile=True):
    from .models import Sequential
    header, arrays = _open(filepath, "load_model")
    if header.get("format") != FORMAT:
        raise ValueError(f"load_model: {filepath!r} holds {header.get('format')!r}, not a minidl model")
    if header.get("version", 0) > VERSION:
        raise ValueError(f"load_model: {filepath!r} is format version {header['version']}; "
                         f"this minidl reads up to {VERSION}")
    model = Sequential.from_config(header["model"]["config"], custom_objects=custom_objects)
    model.build(tuple(header["input_shape"]))
    spec = header.get("compile")
    if compile and spec:
        custom = custom_objects or {}
        model.compile(optimizer=optimizers_mod.deserialize(spec["optimizer"]),
                      loss=_with_custom(spec["loss"], custom, losses_mod.get),
                      metrics=[_with_custom(m, custom, lambda m: m) for m in spec["metrics"]])
    set_model_arrays(model, header, arrays, "load_model", filepath)
    return model


def _with_custom(entry, custom, default):
    """A saved loss or metric entry, looked up in ``custom_objects`` first (by its
    name, or by the class name of a {'class_name', 'config'} entry), as Keras does."""
    if isinstance(entry, str) and entry in custom:
        obj = custom[entry]
        return obj() if isinstance(obj, type) else obj
    if isinstance(entry, dict) and entry.get("class_name") in custom:
        return custom[entry["class_name"]](**entry.get("config", {}))
    return default(entry)


def set_model_arrays(model, header, arrays, what, filepath="<backup>"):
    """Weights, extra arrays and (when the model is compiled and the header
    has it) the optimizer state, from ``model_arrays``' output."""
    _set_layer_weights(model, arrays, what, filepath)
    for i, layer in enumerate(model.layers):
        prefix = f"extra/{i}/"
        extra = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        if extra:
            layer._load_extra_arrays(extra)
    spec = header.get("compile")
    if model.optimizer is not None and spec and "iterations" in spec:
        state = {"iterations": spec["iterations"]}
        names = {f"{i}/{n}": f"{layer.name}/{n}" for i, layer in enumerate(model.layers)
                 for n in layer.params}
        for slot in model.optimizer.slots:
            prefix = f"optimizer/{slot}/"
            found = {names.get(k[len(prefix):], k[len(prefix):]): a for k, a in arrays.items()
                     if k.startswith(prefix)}
            if found:
                state[slot] = found
        model.optimizer.set_state(state)
