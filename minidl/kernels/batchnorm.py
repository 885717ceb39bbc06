"""Batch normalization over the rows of a (M, C) array: the plain references.

A channels-last batch (N, H, W, C) is (N*H*W, C) by a reshape, so one pair
of kernels serves BatchNormalization after Dense and after Conv2D.

forward, training:  mean, var per column (biased), inv_std = 1/sqrt(var + eps),
                    x_hat = (x - mean) * inv_std,  y = gamma * x_hat + beta
backward:           dbeta = sum g,  dgamma = sum g * x_hat,
                    dx = gamma * inv_std / M * (M g - dbeta - x_hat * dgamma)

The numba versions in ``cpu.py`` read x twice and write x_hat and y once,
instead of the eight or so single-threaded passes these expressions make.
"""
from ..backend import get_array_module


def batchnorm_forward_reference(x, gamma, beta, epsilon):
    """x: (M, C) -> (y, x_hat, mean, var, inv_std); y and x_hat (M, C), the rest (C,)."""
    xp = get_array_module(x)
    mean = x.mean(axis=0)
    x_hat = x - mean
    var = (x_hat * x_hat).mean(axis=0)
    inv_std = 1.0 / xp.sqrt(var + epsilon)
    x_hat *= inv_std
    return x_hat * gamma + beta, x_hat, mean, var, inv_std


def batchnorm_backward_reference(grad, x_hat, gamma, inv_std):
    """grad, x_hat: (M, C) -> (dx (M, C), dgamma (C,), dbeta (C,))."""
    m = grad.shape[0]
    dbeta = grad.sum(axis=0)
    dgamma = (grad * x_hat).sum(axis=0)
    dx = grad * m
    dx -= dbeta
    dx -= x_hat * dgamma
    dx *= gamma * inv_std / m
    return dx, dgamma, dbeta
