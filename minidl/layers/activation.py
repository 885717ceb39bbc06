"""Activation: an activation function as a layer of its own."""
from .. import activations
from .base import Layer


class Activation(Layer):
    """y = f(x) for f in relu, sigmoid, tanh, softmax, linear (minidl.activations)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.y = None

    def forward(self, x, training=False):
        y = self.activation.forward(x)  # not in place: x may be cached below us
        if training:
            self.y = y
        return y

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx = f'(x) * dL/dy, written through y (see minidl.activations)."""
        if self.y is None:
            raise self._missing_cache()
        return self.activation.backward(grad_out, self.y)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
