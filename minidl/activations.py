"""Activation functions: y = f(z) and its backward, dL/dz = f'(z) * dL/dy.

Each backward is written in terms of the output y, which the layer keeps
anyway, so no pre-activation has to be stored.

``forward(z, out=None)``: pass ``out=z`` to overwrite a fresh pre-activation
in place (Dense and Conv2D do; it saves a pass over memory). ``backward``
may overwrite ``grad_y`` (ReLU does): a gradient is consumed once.
"""
from . import kernels
from .backend import get_array_module


class Activation:
    name = None

    def forward(self, z, out=None):
        raise NotImplementedError

    def backward(self, grad_y, y):
        raise NotImplementedError

    def __call__(self, z):
        return self.forward(z)

    def __repr__(self):
        return f"<activation {self.name}>"


class Linear(Activation):
    name = "linear"

    def forward(self, z, out=None):
        return z

    def backward(self, grad_y, y):
        """dL/dz = dL/dy"""
        return grad_y


class ReLU(Activation):
    name = "relu"

    def forward(self, z, out=None):
        if out is z:
            return kernels.relu_forward_inplace(z)
        return get_array_module(z).maximum(z, 0, out=out)

    def backward(self, grad_y, y):
        """dL/dz = dL/dy * [y > 0]   (in place in grad_y)"""
        return kernels.relu_backward_inplace(grad_y, y)


class Sigmoid(Activation):
    name = "sigmoid"

    def forward(self, z, out=None):
        # 1/(1+e^-z) written through tanh: no overflow for large |z|
        xp = get_array_module(z)
        y = xp.multiply(z, 0.5, out=out)
        xp.tanh(y, out=y)
        y += 1
        y *= 0.5
        return y

    def backward(self, grad_y, y):
        """dL/dz = dL/dy * y (1 - y)"""
        return grad_y * y * (1 - y)


class Tanh(Activation):
    name = "tanh"

    def forward(self, z, out=None):
        return get_array_module(z).tanh(z, out=out)

    def backward(self, grad_y, y):
        """dL/dz = dL/dy * (1 - y^2)"""
        return grad_y * (1 - y * y)


class Softmax(Activation):
    """Softmax over the last axis, computed as exp(z - max z) / sum: no overflow."""
    name = "softmax"

    def forward(self, z, out=None):
        xp = get_array_module(z)
        y = xp.subtract(z, z.max(axis=-1, keepdims=True), out=out)
        xp.exp(y, out=y)
        y /= y.sum(axis=-1, keepdims=True)
        return y

    def backward(self, grad_y, y):
        """dL/dz_i = y_i (dL/dy_i - sum_j dL/dy_j y_j)

        Followed by cross-entropy this collapses to (y - t) / N, which the
        model uses directly instead (see models.Sequential).
        """
        return y * (grad_y - (grad_y * y).sum(axis=-1, keepdims=True))


linear = Linear()
relu = ReLU()
sigmoid = Sigmoid()
tanh = Tanh()
softmax = Softmax()

_BY_NAME = {a.name: a for a in (linear, relu, sigmoid, tanh, softmax)}


def add_bias_and_activate(z, bias, activation):
    """y = f(z + b), in place in z: (M, F); b: (F,) or None.

    Used by Dense and Conv2D on their fresh matrix product; ReLU with a bias
    is one fused pass over z (kernels.bias_add_relu_inplace).
    """
    if activation is relu and bias is not None:
        return kernels.bias_add_relu_inplace(z, bias)
    if bias is not None:
        z += bias
    return activation.forward(z, out=z)


def get(identifier):
    """An activation object from a name, an activation, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]
    raise ValueError(
        f"activation: unknown activation {identifier!r}; valid names are "
        f"{sorted(_BY_NAME)} (or None for linear)")


def serialize(activation):
    return activation.name
