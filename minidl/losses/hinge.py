"""Hinge losses for margin classifiers: Keras 2.2.4 keras/losses.py.

    hinge              mean_k max(1 - t_k p_k, 0)        t in {-1, 1}
    squared_hinge      mean_k max(1 - t_k p_k, 0)^2      t in {-1, 1}
    categorical_hinge  max(0, max_k (1 - t_k) p_k - sum_k t_k p_k + 1)   t one-hot

Keras 2.2.4 uses the labels as given. tf.keras 2.x turns {0, 1} labels into
{-1, 1} first for hinge and squared_hinge; minidl does not (pass -1/1 labels,
which both versions agree on).
"""
from ..backend import get_array_module
from .base import Loss, MeanOverLastAxis, check_same_shape, float_targets, samples


class Hinge(MeanOverLastAxis):
    """mean_k max(1 - t_k p_k, 0) per sample."""
    name = "hinge"

    def _terms(self, t, p):
        return get_array_module(p).maximum(1.0 - t * p, 0)

    def _slopes(self, t, p):
        """d/dp = -t where the margin 1 - t p is positive, else 0"""
        return -t * (1.0 - t * p > 0)


class SquaredHinge(MeanOverLastAxis):
    """mean_k max(1 - t_k p_k, 0)^2 per sample."""
    name = "squared_hinge"

    def _terms(self, t, p):
        m = get_array_module(p).maximum(1.0 - t * p, 0)
        return m * m

    def _slopes(self, t, p):
        """d/dp = -2 t max(1 - t p, 0)"""
        return -2.0 * t * get_array_module(p).maximum(1.0 - t * p, 0)


class CategoricalHinge(Loss):
    """max(0, neg - pos + 1) per sample, pos = sum_k t_k p_k, neg = max_k (1 - t_k) p_k."""
    name = "categorical_hinge"

    def per_sample(self, y_true, y_pred):
        check_same_shape(self, y_true, y_pred)
        xp = get_array_module(y_pred)
        pos = (y_true * y_pred).sum(axis=-1)
        neg = ((1.0 - y_true) * y_pred).max(axis=-1)
        return xp.maximum(neg - pos + 1.0, 0)

    def gradient(self, y_true, y_pred):
        """Where the loss is positive: dL/dp = (1 - t) at the arg max of neg, minus t; over N."""
        xp = get_array_module(y_pred)
        others = (1.0 - y_true) * y_pred
        k = others.argmax(axis=-1)
        dneg = xp.zeros_like(y_pred)
        rows = xp.arange(y_pred.shape[0])
        dneg[rows, k] = (1.0 - y_true)[rows, k]
        active = (others[rows, k] - (y_true * y_pred).sum(axis=-1) + 1.0 > 0)[:, None]
        return (dneg - y_true) * active / samples(y_pred)

    def prepare_targets(self, y, output_shape, check_values=True):
        return float_targets(self, y, output_shape, check_values)
