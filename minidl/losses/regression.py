"""Regression losses: Keras 2.2.4 keras/losses.py, per-sample over the last axis.

    mean_squared_error              mean (p - t)^2
    mean_absolute_error             mean |p - t|
    mean_absolute_percentage_error  100 mean |t - p| / max(|t|, eps)
    mean_squared_logarithmic_error  mean (log(max(p, eps) + 1) - log(max(t, eps) + 1))^2
    logcosh                         mean log(cosh(p - t))
    cosine_proximity                -sum l2_normalize(t) l2_normalize(p)

with eps = K.epsilon() = 1e-7. Each gradient is d mean / d y_pred over the
batch; where Keras clips an input, the clipped part has gradient 0, as in
TensorFlow.
"""
import math

from .. import backend as K
from ..backend import get_array_module
from .base import Loss, MeanOverLastAxis, check_axis, check_same_shape, float_targets, samples


class MeanSquaredError(MeanOverLastAxis):
    """mean_k (p_k - t_k)^2 per sample."""
    name = "mean_squared_error"

    def _terms(self, t, p):
        d = p - t
        return d * d

    def _slopes(self, t, p):
        """d/dp (p - t)^2 = 2 (p - t)"""
        return 2.0 * (p - t)


class MeanAbsoluteError(MeanOverLastAxis):
    """mean_k |p_k - t_k| per sample."""
    name = "mean_absolute_error"

    def _terms(self, t, p):
        return get_array_module(p).abs(p - t)

    def _slopes(self, t, p):
        """d/dp |p - t| = sign(p - t) (0 where p = t, as TensorFlow's)"""
        return get_array_module(p).sign(p - t)


class MeanAbsolutePercentageError(MeanOverLastAxis):
    """100 mean_k |t_k - p_k| / max(|t_k|, eps) per sample."""
    name = "mean_absolute_percentage_error"

    def _terms(self, t, p):
        xp = get_array_module(p)
        return 100.0 * xp.abs(t - p) / xp.maximum(xp.abs(t), K.epsilon())

    def _slopes(self, t, p):
        """d/dp = 100 sign(p - t) / max(|t|, eps)"""
        xp = get_array_module(p)
        return 100.0 * xp.sign(p - t) / xp.maximum(xp.abs(t), K.epsilon())


class MeanSquaredLogarithmicError(MeanOverLastAxis):
    """mean_k (log(max(p_k, eps) + 1) - log(max(t_k, eps) + 1))^2 per sample."""
    name = "mean_squared_logarithmic_error"

    @staticmethod
    def _log_gap(t, p):
        xp = get_array_module(p)
        eps = K.epsilon()
        return xp.log1p(xp.maximum(p, eps)) - xp.log1p(xp.maximum(t, eps))

    def _terms(self, t, p):
        d = self._log_gap(t, p)
        return d * d

    def _slopes(self, t, p):
        """d/dp = 2 d / (p + 1) where p >= eps (else the clip holds p: 0)"""
        return 2.0 * self._log_gap(t, p) / (p + 1.0) * (p >= K.epsilon())


class LogCosh(MeanOverLastAxis):
    """mean_k log(cosh(p_k - t_k)) per sample, as x + softplus(-2x) - log 2."""
    name = "logcosh"

    def _terms(self, t, p):
        xp = get_array_module(p)
        x = p - t
        # softplus(-2x) = max(-2x, 0) + log(1 + exp(-|2x|)): no overflow for large |x|
        return x + xp.maximum(-2.0 * x, 0) + xp.log1p(xp.exp(-2.0 * xp.abs(x))) - math.log(2.0)

    def _slopes(self, t, p):
        """d/dx log(cosh(x)) = tanh(x)"""
        return get_array_module(p).tanh(p - t)


class CosineSimilarity(Loss):
    """-sum_k u_k q_k per sample, u = t / ||t||, q = p / ||p|| (Keras 2.2.4
    cosine_proximity; tf.keras 2.x cosine_similarity is the same value).

    l2_normalize is TensorFlow's: x / sqrt(max(sum x^2, 1e-12)).
    """
    name = "cosine_proximity"

    def __init__(self, axis=-1, reduction="auto", name=None):
        super().__init__(reduction, name)
        check_axis(self, axis)

    @staticmethod
    def _inverse_norm(x):
        xp = get_array_module(x)
        squares = (x * x).sum(axis=-1, keepdims=True)
        return 1.0 / xp.sqrt(xp.maximum(squares, 1e-12)), squares > 1e-12

    def per_sample(self, y_true, y_pred):
        check_same_shape(self, y_true, y_pred)
        u = y_true * self._inverse_norm(y_true)[0]
        return -(u * y_pred * self._inverse_norm(y_pred)[0]).sum(axis=-1)

    def gradient(self, y_true, y_pred):
        """With r = 1 / ||p||: dL/dp = -r u + r^3 (u . p) p, over N
        (-r u alone where ||p||^2 < 1e-12, where r is the constant 1e6)."""
        u = y_true * self._inverse_norm(y_true)[0]
        r, unclamped = self._inverse_norm(y_pred)
        up = (u * y_pred).sum(axis=-1, keepdims=True)
        return (r * r * r * up * y_pred * unclamped - r * u) / samples(y_pred)

    def prepare_targets(self, y, output_shape, check_values=True):
        return float_targets(self, y, output_shape, check_values)
