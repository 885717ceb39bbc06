"""Dense: a fully connected layer, y = f(x W + b)."""
import warnings

from ..kernels import bias_grad
from .base import LinearLayer, positive_int


class Dense(LinearLayer):
    """y = f(x W + b)

    x: (N, in) -> y: (N, units); a higher-rank x (N, ..., in) is mapped along
    its last axis, as in Keras. kernel W: (in, units), bias b: (units,).
    Defaults as Keras 2.2.4 core.py: glorot_uniform kernel, zero bias.
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_constraint=None, bias_constraint=None, init=None, **kwargs):
        if init is not None:  # Keras 1 name, still written by study 001
            warnings.warn("Dense(init=...) is the Keras 1 name; use kernel_initializer=...",
                          DeprecationWarning, stacklevel=2)
            kernel_initializer = init
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_constraint, bias_constraint, **kwargs)
        self.units = positive_int(units, f"{type(self).__name__}: units")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def build(self, input_shape):
        self._add_kernel_and_bias((input_shape[-1], self.units), self.units)
        super().build(input_shape)

    def _output_shape(self, x):
        return x.shape[:-1] + (self.units,)

    def _linear(self, x, training):
        """z = x W: (N, in) @ (in, units); keeps x for the weight gradient."""
        self._check_input(x)
        if training:
            self.x = x
        return x.reshape(-1, x.shape[-1]) @ self.params["kernel"]

    def backward_preactivation(self, grad_z, need_input_grad=True):
        """dW = x^T dz,  db = sum_n dz,  dx = dz W^T      (dz: (N, units))

        Entered directly by the model when a softmax output meets
        cross-entropy, whose dL/dz is already known.
        """
        if self.x is None:
            raise self._missing_cache()
        grad_z = grad_z.reshape(-1, self.units)
        x2 = self.x.reshape(-1, self.x.shape[-1])
        self.grads["kernel"] = x2.T @ grad_z
        if self.use_bias:
            self.grads["bias"] = bias_grad(grad_z)
        if not need_input_grad:
            return None
        return (grad_z @ self.params["kernel"].T).reshape(self.x.shape)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
