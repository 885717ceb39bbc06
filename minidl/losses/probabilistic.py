"""Losses between distributions: Keras 2.2.4 keras/losses.py.

    kullback_leibler_divergence  sum_k t_k log(t_k / p_k), t and p clipped to [eps, 1]
    poisson                      mean_k p_k - t_k log(p_k + eps)

with eps = K.epsilon() = 1e-7. (The cross-entropies are in crossentropy.py.)
"""
from .. import backend as K
from ..backend import get_array_module
from .base import Loss, MeanOverLastAxis, check_same_shape, float_targets, samples


class KLDivergence(Loss):
    """sum_k t_k log(t_k / p_k) per sample, both clipped to [eps, 1]."""
    name = "kullback_leibler_divergence"

    def per_sample(self, y_true, y_pred):
        check_same_shape(self, y_true, y_pred)
        xp = get_array_module(y_pred)
        eps = K.epsilon()
        t, p = xp.clip(y_true, eps, 1), xp.clip(y_pred, eps, 1)
        return (t * xp.log(t / p)).sum(axis=-1)

    def gradient(self, y_true, y_pred):
        """dL/dp = -t / p / N where eps <= p <= 1 (outside, the clip holds p: 0)."""
        xp = get_array_module(y_pred)
        eps = K.epsilon()
        t, p = xp.clip(y_true, eps, 1), xp.clip(y_pred, eps, 1)
        inside = (y_pred >= eps) & (y_pred <= 1)
        return -t / p * inside / samples(y_pred)

    def prepare_targets(self, y, output_shape, check_values=True):
        return float_targets(self, y, output_shape, check_values)


class Poisson(MeanOverLastAxis):
    """mean_k p_k - t_k log(p_k + eps) per sample (p: a positive rate)."""
    name = "poisson"

    def _terms(self, t, p):
        return p - t * get_array_module(p).log(p + K.epsilon())

    def _slopes(self, t, p):
        """d/dp = 1 - t / (p + eps)"""
        return 1.0 - t / (p + K.epsilon())
