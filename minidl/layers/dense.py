"""Dense: a fully connected layer, y = f(x W + b)."""
import warnings

from .. import activations, constraints
from .base import Layer, positive_int


class Dense(Layer):
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
        super().__init__(**kwargs)
        self.units = positive_int(units, f"{type(self).__name__}: units")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.x = self.y = None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def build(self, input_shape):
        self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                        constraint=self.kernel_constraint)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer,
                            constraint=self.bias_constraint)
        super().build(input_shape)

    def forward(self, x, training=False):
        z = self._matmul(x, training)                    # (N, units), ours to overwrite
        y = activations.add_bias_and_activate(z, self.params.get("bias"), self.activation)
        if training:
            self.y = y
        return y.reshape(x.shape[:-1] + (self.units,))

    def forward_preactivation(self, x, training=False):
        """z = x W + b, before the activation: (N, in) -> (N, units)."""
        z = activations.add_bias_and_activate(self._matmul(x, training), self.params.get("bias"),
                                              activations.linear)
        return z.reshape(x.shape[:-1] + (self.units,))

    def _matmul(self, x, training):
        """x W: (N, in) @ (in, units); keeps x for the weight gradient."""
        self._check_input(x)
        if training:
            self.x = x
        return x.reshape(-1, x.shape[-1]) @ self.params["kernel"]

    def backward(self, grad_out):
        """dL/dz = f'(z) * dL/dy, then through the affine map (below)."""
        if self.y is None:
            raise self._missing_cache()
        grad_z = self.activation.backward(grad_out.reshape(self.y.shape), self.y)
        return self.backward_preactivation(grad_z)

    def backward_preactivation(self, grad_z):
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
            self.grads["bias"] = grad_z.sum(axis=0)
        if not self.input_grad_needed:
            return None
        return (grad_z @ self.params["kernel"].T).reshape(self.x.shape)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}
