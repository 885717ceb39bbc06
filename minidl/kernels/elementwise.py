"""Elementwise hot spots of training: the plain array references.

Each is one short NumPy (or CuPy) expression. NumPy runs it on one core,
one pass per operator; ``minidl.kernels.cpu`` has numba versions that do the
same in a single parallel pass, with the same numbers bit for bit.

z, y, grad, x, u: any shape; b: (F,) for z: (M, F).
"""
from ..backend import get_array_module


def relu_forward_inplace_reference(z):
    """z <- max(z, 0) in place (NaN stays NaN); returns z."""
    xp = get_array_module(z)
    return xp.maximum(z, 0, out=z)


def relu_backward_inplace_reference(grad, y):
    """grad <- grad * (y > 0) in place, the input gradient of ReLU from its
    output y (same shape); returns grad."""
    xp = get_array_module(grad)
    return xp.multiply(grad, y > 0, out=grad)


def bias_add_relu_inplace_reference(z, b):
    """z (M, F) <- max(z + b, 0) in place, b: (F,); returns z."""
    xp = get_array_module(z)
    z += b
    return xp.maximum(z, 0, out=z)


def dropout_forward_reference(x, u, rate):
    """Inverted dropout: x / (1 - rate) where u >= rate, else 0.

    u: uniform draws in [0, 1), the shape of x. Keep where ``u >= rate`` and
    scale by 1 / (1 - rate) in x's dtype, as TensorFlow's ``nn.dropout``
    (Keras 2 with the TensorFlow backend).
    """
    scale = x.dtype.type(1.0 / (1.0 - rate))
    return x * scale * (u >= rate)


def bias_grad_reference(grad_z):
    """dL/db = sum over rows of dL/dz: (M, F) -> (F,)."""
    return grad_z.sum(axis=0)
