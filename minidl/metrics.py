"""Accuracy metrics, summed per batch on the device and averaged per epoch.

Each metric returns the *sum* over the batch of a per-sample score, so the
epoch value (total / samples seen) is Keras's sample-weighted average of
batch means without a host transfer per batch.

``metrics=['accuracy']`` (or ``'acc'``) picks the accuracy that fits the loss,
as Keras does: sparse labels -> sparse_categorical_accuracy, a one-unit
output -> binary_accuracy, else categorical_accuracy. Its value is logged as
'accuracy' and also as 'acc', the key of Keras < 2.3 that older code reads.
"""
from . import losses as losses_mod
from .backend import get_array_module


def categorical_accuracy(y_true, y_pred):
    """Sum of [argmax p == argmax t]; y_true one-hot (N, K)."""
    return (y_pred.argmax(axis=-1) == y_true.argmax(axis=-1)).sum()


def sparse_categorical_accuracy(y_true, y_pred):
    """Sum of [argmax p == y]; y_true integer labels (N,)."""
    return (y_pred.argmax(axis=-1) == y_true.reshape(-1)).sum()


def binary_accuracy(y_true, y_pred):
    """Sum over samples of mean_k [round(p_k) == t_k] (threshold 0.5)."""
    xp = get_array_module(y_pred)
    hits = (y_true == (y_pred > 0.5)).reshape(y_pred.shape[0], -1)
    return hits.mean(axis=-1, dtype=xp.float64).sum()


_BY_NAME = {f.__name__: f for f in (categorical_accuracy, sparse_categorical_accuracy,
                                     binary_accuracy)}


class Metric:
    def __init__(self, key, fn, aliases=()):
        self.key, self.fn, self.aliases = key, fn, tuple(aliases)

    def __call__(self, y_true, y_pred):
        return self.fn(y_true, y_pred)


def get(identifier, loss, output_shape):
    """A Metric for a name in ``metrics=[...]``, given the compiled loss."""
    if identifier in ("accuracy", "acc"):
        if isinstance(loss, losses_mod.SparseCategoricalCrossentropy):
            fn = sparse_categorical_accuracy
        elif tuple(output_shape)[-1:] == (1,):
            fn = binary_accuracy
        else:
            fn = categorical_accuracy
        return Metric("accuracy", fn, aliases=("acc",))
    if identifier in _BY_NAME:
        return Metric(identifier, _BY_NAME[identifier])
    raise ValueError(
        f"metrics: unknown metric {identifier!r}; valid names are "
        f"{sorted(['accuracy', 'acc', *_BY_NAME])}")
