"""Activation: an activation function as a layer of its own."""
from .. import activations
from .base import Layer


class Activation(Layer):
    """y = f(x) for any f of minidl.activations ('relu', 'selu', 'gelu', ...).

    Backward goes through y; for an f whose derivative needs x as well
    (``f.needs_input``: gelu, swish) x is kept too. The layers of
    advanced_activations.py (LeakyReLU, ELU, ReLU, Softmax) are this layer
    with a configured f.
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.x = self.y = None

    def forward(self, x, training=False):
        y = self.activation.forward(x)  # not in place: x may be cached below us
        if training:
            self.y = y
            self.x = x if self.activation.needs_input else None
        return y

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx = f'(x) * dL/dy, written through y (see minidl.activations)."""
        if self.y is None:
            raise self._missing_cache()
        return self.activation.backward(grad_out, self.y, self.x)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
