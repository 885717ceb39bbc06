"""Weight constraints, applied by the optimizer to a weight after each update."""
from . import backend as K
from .backend import get_array_module


class Constraint:
    def __call__(self, w):
        """The constrained weight (a new array of w's shape)."""
        raise NotImplementedError

    def get_config(self):
        return {}


class MaxNorm(Constraint):
    """Rescale weight vectors whose L2 norm exceeds ``max_value``.

    norms = sqrt(sum(w^2, axis)); w *= clip(norms, 0, max_value) / (eps + norms)

    ``axis`` is read in Keras's weight layout, which minidl keeps: a Dense
    kernel is (in, out), so axis=0 constrains each unit's incoming vector; a
    Conv2D kernel is (kh, kw, C_in, C_out), where Keras advises axis=[0, 1, 2],
    but code that writes ``maxnorm(3)`` on a Conv2D gets the default axis=0,
    i.e. the norm over kernel *rows* of each (column, C_in, C_out) slice.
    Defaults max_value=2, axis=0 as Keras 2.2.4 constraints.py.
    """

    def __init__(self, max_value=2, axis=0):
        if max_value <= 0:
            raise ValueError(f"MaxNorm: max_value must be positive, received {max_value}")
        self.max_value = float(max_value)
        self.axis = tuple(axis) if isinstance(axis, (list, tuple)) else int(axis)

    def __call__(self, w):
        xp = get_array_module(w)
        norms = xp.sqrt((w * w).sum(axis=self.axis, keepdims=True))
        desired = xp.clip(norms, 0, self.max_value)
        return w * (desired / (K.epsilon() + norms))

    def get_config(self):
        axis = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return {"max_value": self.max_value, "axis": axis}


# Keras 1/2 lower-case aliases (study 002 imports `maxnorm`).
max_norm = maxnorm = MaxNorm

_CLASSES = {"MaxNorm": MaxNorm}
_BY_NAME = {"max_norm": MaxNorm, "maxnorm": MaxNorm}


def get(identifier):
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(
        f"constraint: unknown constraint {identifier!r}; valid names are {sorted(_BY_NAME)} "
        f"or a Constraint object such as MaxNorm(3)")


def serialize(c):
    return None if c is None else {"class_name": type(c).__name__, "config": c.get_config()}


def deserialize(config):
    if config is None:
        return None
    cls = _CLASSES.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"constraint: cannot rebuild {config.get('class_name')!r}")
    return cls(**config.get("config", {}))
