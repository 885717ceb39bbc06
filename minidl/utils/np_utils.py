"""Keras 2 import path ``keras.utils.np_utils``: label and array helpers."""
import numpy as np


def to_categorical(y, num_classes=None, dtype="float32"):
    """Integer labels (N,) or (N, 1) -> one-hot (N, num_classes).

    As Keras 2.2.4: num_classes defaults to max(y) + 1.
    """
    y = np.asarray(y)
    if y.size and y.dtype.kind == "f" and np.any(y != np.floor(y)):
        raise ValueError("to_categorical: y must hold integer class labels")
    shape = y.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    y = y.reshape(-1).astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0, received {y.min()}")
    n_classes = int(y.max()) + 1 if num_classes is None else int(num_classes)
    if y.size and y.max() >= n_classes:
        raise ValueError(
            f"to_categorical: label {y.max()} does not fit num_classes={n_classes}")
    out = np.zeros((y.shape[0], n_classes), dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1
    return out.reshape(shape + (n_classes,))
