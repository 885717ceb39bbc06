"""Weight penalties added to the loss: ``Dense(64, kernel_regularizer=l2(0.01))``.

A regularizer R adds R(w) to the loss the model minimizes (and reports, as
Keras does: ``loss`` in the History includes the penalties), and R'(w) to
dL/dw after backprop:

    L1L2(l1, l2):  R(w) = l1 * sum |w| + l2 * sum w^2
                   R'(w) = l1 * sign(w) + 2 * l2 * w

Defaults as Keras 2.2.4 regularizers.py: ``l1(0.01)``, ``l2(0.01)``,
``l1_l2(l1=0.01, l2=0.01)``; ``L1L2()`` is all zeros.
"""
from .backend import get_array_module


class Regularizer:
    def __call__(self, w):
        """The penalty, a 0-d array on w's device."""
        raise NotImplementedError

    def gradient(self, w):
        """dR/dw, shaped like w."""
        raise NotImplementedError

    def get_config(self):
        return {}


class L1L2(Regularizer):
    """l1 * sum|w| + l2 * sum w^2."""

    def __init__(self, l1=0.0, l2=0.0):
        for name, value in (("l1", l1), ("l2", l2)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"L1L2: {name} must be a number >= 0, received {value!r}")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        xp = get_array_module(w)
        penalty = xp.zeros((), dtype=w.dtype)
        if self.l1:
            penalty = penalty + self.l1 * xp.abs(w).sum()
        if self.l2:
            penalty = penalty + self.l2 * (w * w).sum()
        return penalty

    def gradient(self, w):
        xp = get_array_module(w)
        grad = xp.zeros_like(w)
        if self.l1:
            grad += w.dtype.type(self.l1) * xp.sign(w)
        if self.l2:
            grad += w.dtype.type(2.0 * self.l2) * w
        return grad

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def l1(l=0.01):  # noqa: E741  (Keras's argument name)
    return L1L2(l1=l)


def l2(l=0.01):  # noqa: E741
    return L1L2(l2=l)


def l1_l2(l1=0.01, l2=0.01):  # noqa: F811
    return L1L2(l1=l1, l2=l2)


_BY_NAME = {"l1": l1, "l2": l2, "l1_l2": l1_l2}


def get(identifier):
    """A regularizer from None, a Regularizer, a name ('l2') or a config dict."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"regularizer: unknown regularizer {identifier!r}; valid names are "
                     f"{sorted(_BY_NAME)} or a minidl.regularizers.Regularizer")


def serialize(regularizer):
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config):
    if config.get("class_name") != "L1L2":
        raise ValueError(f"regularizer: cannot rebuild {config.get('class_name')!r}")
    return L1L2(**config.get("config", {}))
