"""Weight initializers, with Keras 2's formulas and defaults.

Weights are drawn on the host with ``backend.host_rng()`` and copied to the
device once, so ``minidl.seed(n)`` gives the same initial weights on NumPy and
on CuPy. Shapes are in Keras's layout: a Dense kernel is (in, out), a Conv2D
kernel (kh, kw, C_in, C_out), which fixes the fans:

    fan_in  = kh * kw * C_in      fan_out = kh * kw * C_out
"""
import math

import numpy as np

from . import backend as K


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape, as Keras 2.2.4 initializers.py."""
    shape = tuple(shape)
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) in (3, 4, 5):  # conv kernels, channels-last layout
        receptive = int(np.prod(shape[:-2]))
        return shape[-2] * receptive, shape[-1] * receptive
    size = int(np.sqrt(np.prod(shape)))
    return size, size


class Initializer:
    def __call__(self, shape, dtype=None):
        """A NumPy array of ``shape`` in ``dtype`` (floatx)."""
        raise NotImplementedError

    def get_config(self):
        return {}

    def _rng(self):
        seed = getattr(self, "seed", None)
        return K.host_rng() if seed is None else np.random.default_rng(seed)


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=dtype or K.floatx())


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(shape, dtype=dtype or K.floatx())


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, dtype=dtype or K.floatx())

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    """N(mean, stddev); defaults mean=0, stddev=0.05 as Keras 2.2.4 initializers.py."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def __call__(self, shape, dtype=None):
        w = self._rng().normal(self.mean, self.stddev, size=shape)
        return w.astype(dtype or K.floatx())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """U(minval, maxval); defaults -0.05, 0.05 as Keras 2.2.4 initializers.py."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = float(minval), float(maxval), seed

    def __call__(self, shape, dtype=None):
        w = self._rng().uniform(self.minval, self.maxval, size=shape)
        return w.astype(dtype or K.floatx())

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(rng, stddev, shape):
    """N(0, stddev) redrawn until every value lies within 2 standard deviations."""
    w = rng.normal(0.0, stddev, size=shape)
    bad = np.abs(w) > 2 * stddev
    while bad.any():  # a few rounds: each keeps ~95% of what it redraws
        w[bad] = rng.normal(0.0, stddev, size=int(bad.sum()))
        bad = np.abs(w) > 2 * stddev
    return w


class TruncatedNormal(Initializer):
    """N(mean, stddev) redrawn beyond 2 stddev; defaults mean=0, stddev=0.05 as
    Keras 2.2.4 initializers.py."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def __call__(self, shape, dtype=None):
        w = self.mean + _truncated_normal(self._rng(), self.stddev, shape)
        return w.astype(dtype or K.floatx())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class Orthogonal(Initializer):
    """A random orthogonal matrix times ``gain`` (Keras 2.2.4 initializers.py):
    a standard normal (rows, cols) matrix, rows = prod(shape[:-1]), reduced to
    the orthonormal factor of its SVD that has its shape; reshaped to ``shape``."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = float(gain), seed

    def __call__(self, shape, dtype=None):
        flat = (int(np.prod(shape[:-1])), shape[-1])
        a = self._rng().normal(0.0, 1.0, size=flat)
        u, _, v = np.linalg.svd(a, full_matrices=False)
        q = u if u.shape == flat else v
        return (self.gain * q).reshape(shape).astype(dtype or K.floatx())

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix; square 2-D weights only (Keras 2.2.4)."""

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def __call__(self, shape, dtype=None):
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"Identity: only square 2-D weights can be identity matrices "
                             f"(Keras 2.2.4), received shape {tuple(shape)}")
        return (self.gain * np.eye(shape[0])).astype(dtype or K.floatx())

    def get_config(self):
        return {"gain": self.gain}


class VarianceScaling(Initializer):
    """Keras 2.2.4 VarianceScaling: variance ``scale / n`` with n a fan.

    uniform: U(-L, L), L = sqrt(3 scale / n).
    normal:  truncated N(0, s) with s = sqrt(scale / n) / 0.8796..., the
             correction for the truncation at 2 s (Keras >= 2.2.3; older
             Keras drew s = sqrt(scale / n) without it).
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="normal", seed=None):
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive, received {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be fan_in, fan_out or fan_avg, received {mode!r}")
        if distribution not in ("normal", "uniform"):
            raise ValueError(
                f"VarianceScaling: distribution must be 'normal' or 'uniform', received {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = float(scale), mode, distribution, seed

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            w = rng.uniform(-limit, limit, size=shape)
        else:
            w = _truncated_normal(rng, math.sqrt(variance) / 0.87962566103423978, shape)
        return w.astype(dtype or K.floatx())

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "seed": self.seed}


def glorot_uniform(seed=None):
    """U(-L, L), L = sqrt(6 / (fan_in + fan_out)): Keras's default kernel initializer."""
    return VarianceScaling(1.0, "fan_avg", "uniform", seed)


def glorot_normal(seed=None):
    return VarianceScaling(1.0, "fan_avg", "normal", seed)


def he_normal(seed=None):
    return VarianceScaling(2.0, "fan_in", "normal", seed)


def he_uniform(seed=None):
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_uniform(seed=None):
    """U(-L, L), L = sqrt(3 / fan_in) (Keras 2.2.4 initializers.py)."""
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None):
    """Truncated normal of variance 1 / fan_in (Keras 2.2.4 initializers.py): selu's partner."""
    return VarianceScaling(1.0, "fan_in", "normal", seed)


# Keras's class names, so `initializers.GlorotUniform()` works too.
GlorotUniform, GlorotNormal = glorot_uniform, glorot_normal
HeNormal, HeUniform = he_normal, he_uniform
LecunNormal, LecunUniform = lecun_normal, lecun_uniform

_BY_NAME = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal,
    "random_uniform": RandomUniform, "uniform": RandomUniform,
    "glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal,
    "he_normal": he_normal, "he_uniform": he_uniform,
    "lecun_uniform": lecun_uniform, "lecun_normal": lecun_normal,
    "truncated_normal": TruncatedNormal, "orthogonal": Orthogonal, "identity": Identity,
    "variance_scaling": VarianceScaling,
}
_CLASSES = {c.__name__: c for c in (Zeros, Ones, Constant, RandomNormal, RandomUniform,
                                     TruncatedNormal, Orthogonal, Identity, VarianceScaling)}


def get(identifier):
    """An initializer from a name, an Initializer, or its serialized dict."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        if identifier in _BY_NAME:
            return _BY_NAME[identifier]()
        raise ValueError(
            f"initializer: unknown name {identifier!r}; valid names are {sorted(_BY_NAME)}")
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(
        f"initializer: expected a name or an Initializer, received {type(identifier).__name__}")


def serialize(init):
    return {"class_name": type(init).__name__, "config": init.get_config()}


def deserialize(config):
    cls = _CLASSES.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"initializer: cannot rebuild {config.get('class_name')!r}")
    return cls(**config.get("config", {}))
