"""LeakyReLU, ELU, ReLU, Softmax: activation layers with settings.

Each is an ``Activation`` layer whose function is a configured object of
minidl.activations, so forward and backward are written once, there.
(``minidl.layers.ReLU`` is this layer; ``minidl.activations.ReLU`` the
function class it wraps.) Arguments and defaults as Keras 2.2.4
layers/advanced_activations.py.
"""
from .. import activations
from .activation import Activation
from .base import Layer, number


class LeakyReLU(Activation):
    """y = x for x > 0, alpha x otherwise; alpha=0.3 as Keras 2.2.4 (and tf.keras 2.x)."""

    def __init__(self, alpha=0.3, **kwargs):
        alpha = number(alpha, "LeakyReLU: alpha")
        super().__init__(activations.ReLU(alpha=alpha), **kwargs)
        self.alpha = alpha

    def get_config(self):
        return {**Layer.get_config(self), "alpha": self.alpha}


class ELU(Activation):
    """y = x for x > 0, alpha (e^x - 1) otherwise (Keras 2.2.4, alpha=1.0)."""

    def __init__(self, alpha=1.0, **kwargs):
        alpha = number(alpha, "ELU: alpha")
        super().__init__(activations.ELU(alpha=alpha), **kwargs)
        self.alpha = alpha

    def get_config(self):
        return {**Layer.get_config(self), "alpha": self.alpha}


class ReLU(Activation):
    """Keras 2.2.4's ReLU layer, backend.relu with settings:

        y = min(x, max_value)              for x > threshold
        y = negative_slope (x - threshold)  otherwise

    (With a negative threshold, Keras clips the values in (threshold, 0) to 0
    when max_value is set and keeps them otherwise; minidl does the same.
    tf.keras 2.15 refuses a negative threshold.)
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        cls = type(self).__name__
        if max_value is not None:
            max_value = number(max_value, f"{cls}: max_value")
            if max_value < 0:
                raise ValueError(f"{cls}: max_value cannot be negative, received {max_value}")
        negative_slope = number(negative_slope, f"{cls}: negative_slope")
        if negative_slope < 0:
            raise ValueError(
                f"{cls}: negative_slope cannot be negative, received {negative_slope}")
        threshold = number(threshold, f"{cls}: threshold")
        super().__init__(activations.ReLU(negative_slope, max_value, threshold), **kwargs)
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def get_config(self):
        return {**Layer.get_config(self), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class Softmax(Activation):
    """y = exp(x) / sum(exp(x)) along ``axis`` (default the last).

    Over the last axis it is Activation('softmax'), which the model joins
    with a following cross-entropy (the stable logits path). ``axis`` is
    honoured on every input rank as in tf.keras 2.15 (Keras 2.2.4 ignored it
    for 2-D input).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(activations.Softmax(axis), **kwargs)
        self.axis = self.activation.axis
        if self.axis == -1:
            self.activation = activations.softmax

    def build(self, input_shape):
        rank = len(input_shape) + 1
        axes = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        if not all(-rank <= a < rank for a in axes):
            raise ValueError(f"{self.name}: axis {self.axis} is out of range for inputs of "
                             f"shape (batch, {', '.join(map(str, input_shape))})")
        if tuple(a % rank for a in axes) == (rank - 1,):
            self.activation = activations.softmax
        super().build(input_shape)

    def get_config(self):
        axis = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return {**Layer.get_config(self), "axis": axis}
