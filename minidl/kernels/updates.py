"""Optimizer updates of one weight, in place: the plain references.

The update rules (Keras 2's, see minidl/optimizers.py) as array expressions;
each line is one pass over the weight. ``cpu.py`` has numba versions that do
a whole update in one parallel pass. Scalars arrive already in the weight's
dtype, so both compute in the same precision.
"""
from ..backend import get_array_module


def sgd_momentum_update_reference(w, g, v, lr_t, momentum, nesterov):
    """v = momentum v - lr_t g;  w += v  (Nesterov: w += momentum v - lr_t g)."""
    v *= momentum
    v -= lr_t * g
    if nesterov:
        w += momentum * v - lr_t * g
    else:
        w += v


def adam_update_reference(w, g, m, v, lr_t, beta_1, beta_2, epsilon):
    """m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  w -= lr_t m / (sqrt(v) + eps).

    lr_t already holds Adam's bias correction sqrt(1 - b2^t) / (1 - b1^t).
    """
    xp = get_array_module(w)
    m *= beta_1
    m += (1 - beta_1) * g
    v *= beta_2
    v += (1 - beta_2) * (g * g)
    w -= lr_t * m / (xp.sqrt(v) + epsilon)


def adadelta_update_reference(w, g, a, d, lr_t, rho, epsilon):
    """a = rho a + (1-rho) g^2;  u = g sqrt(d + eps) / sqrt(a + eps);
    w -= lr_t u;  d = rho d + (1-rho) u^2."""
    xp = get_array_module(w)
    a *= rho
    a += (1 - rho) * (g * g)
    u = g * xp.sqrt(d + epsilon) / xp.sqrt(a + epsilon)
    w -= lr_t * u
    d *= rho
    d += (1 - rho) * (u * u)
