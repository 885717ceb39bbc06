"""Hold out part of a data set for validation."""
import math
import numbers

import numpy as np

from .. import backend


def train_val_split(x, y, val_size=0.2, seed=None, shuffle=True):
    """Split samples into a training and a validation part.

    x: (N, ...) array; y: (N, ...) array (labels or targets), NumPy or CuPy.
    val_size: a fraction 0 < val_size < 1 (the validation part gets
      ceil(val_size * N) samples) or an int count 1 <= val_size < N.
      0.2 is the fraction study 000 used (sklearn's own default is 0.25).
    seed: an int gives the same split as scikit-learn's
      ``train_test_split(x, y, test_size=val_size, random_state=seed)``:
      ``perm = np.random.RandomState(seed).permutation(N)``, validation =
      ``perm[:n_val]``, training = ``perm[n_val:]``, both in that order.
      None draws the permutation from minidl's host generator, so
      ``minidl.seed(n)`` makes it repeatable.
    shuffle: False keeps the order: training = the first N - n_val samples,
      validation = the last n_val (as sklearn's ``shuffle=False``).

    Returns ``(x_train, y_train), (x_val, y_val)`` (copies, in x's and y's
    array module).
    """
    n = _length(x, "x")
    if _length(y, "y") != n:
        raise ValueError(f"train_val_split: x and y must hold the same number of samples, "
                         f"received x: {n}, y: {_length(y, 'y')}")
    n_val = _val_count(val_size, n)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"train_val_split: seed must be an int or None, received {seed!r}")
    if not shuffle:
        train, val = np.arange(n - n_val), np.arange(n - n_val, n)
    else:
        rng = np.random.RandomState(seed) if seed is not None else backend.host_rng()
        perm = rng.permutation(n)
        val, train = perm[:n_val], perm[n_val:]
    return (_take(x, train), _take(y, train)), (_take(x, val), _take(y, val))


def _val_count(val_size, n):
    if isinstance(val_size, bool) or not isinstance(val_size, numbers.Real):
        raise TypeError(f"train_val_split: val_size must be a float in (0, 1) or an int "
                        f"count, received {val_size!r}")
    if isinstance(val_size, numbers.Integral):
        if not 1 <= val_size < n:
            raise ValueError(f"train_val_split: val_size={val_size} as a count must be in "
                             f"[1, {n - 1}] for {n} samples")
        return int(val_size)
    if not 0.0 < val_size < 1.0:
        raise ValueError(f"train_val_split: val_size={val_size} as a fraction must be in "
                         f"(0, 1)")
    n_val = math.ceil(val_size * n)   # sklearn rounds the test part up
    if n - n_val < 1:
        raise ValueError(f"train_val_split: val_size={val_size} of {n} samples leaves no "
                         f"training sample")
    return n_val


def _length(a, name):
    shape = getattr(a, "shape", None)
    if shape is None or len(shape) == 0:
        raise TypeError(f"train_val_split: {name} must be an array with a sample axis "
                        f"(N, ...), received {type(a).__name__}"
                        + ("" if shape is None else " of shape ()"))
    return shape[0]


def _take(a, index):
    xp = backend.get_array_module(a)
    return a[xp.asarray(index)]
