"""Metrics, summed per batch on the device and averaged per epoch.

The functions (``categorical_accuracy(y_true, y_pred)``, ...) return one
score per sample, (N,), as Keras 2's do. Inside ``fit`` each metric adds up
the *sum* over the batch, so that the epoch value (total / samples seen) is
Keras's sample-weighted average of batch means without a host transfer per
batch.

``metrics=['accuracy']`` (or ``'acc'``) picks the accuracy that fits the loss
as Keras 2.2.4 does (engine/training.py; 2.3.1 training_utils.py
get_metric_function): a one-unit output or binary_crossentropy ->
binary_accuracy, sparse_categorical_crossentropy -> sparse_categorical_accuracy,
else categorical_accuracy. Its value is logged as 'accuracy' and also as
'acc', the key of Keras < 2.3 that older code reads. ``'crossentropy'`` /
``'ce'`` pick the cross-entropy the same way.

Every loss name ('mse', 'mae', 'binary_crossentropy', ...) is also a metric,
the batch sum of the loss's per-sample values, as in Keras 2.2.4
keras/metrics.py. A string metric is logged under the string passed
(Keras 2.3); a function under its __name__; a metric object under its name.

The tf.keras 2.x metric classes (``SparseCategoricalAccuracy()``, ...) are
Metric objects with the same names and arguments.
"""
from . import losses as losses_mod
from .backend import get_array_module


def binary_accuracy(y_true, y_pred):
    """Per sample, mean_k [round(p_k) == t_k] (Keras 2.2.4: K.round, half to even): (N,)."""
    hits = (_like(y_true, y_pred) == y_pred.round()).reshape(y_pred.shape[0], -1)
    return hits.mean(axis=-1, dtype=y_pred.dtype)


def _like(y_true, y_pred):
    """Labels (N,) against a one-unit output (N, 1): compare them unit by unit, not (N, N)."""
    return y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true


def categorical_accuracy(y_true, y_pred):
    """Per sample, [argmax p == argmax t], y_true one-hot (N, K): (N,) floats."""
    return (y_pred.argmax(axis=-1) == y_true.argmax(axis=-1)).astype(y_pred.dtype)


def sparse_categorical_accuracy(y_true, y_pred):
    """Per sample, [argmax p == y], y_true integer labels (N,) or (N, 1): (N,) floats."""
    return (y_pred.argmax(axis=-1) == y_true.reshape(-1)).astype(y_pred.dtype)


def _in_top_k(y_pred, labels, k):
    """TensorFlow's in_top_k: the label's score has fewer than k scores above it
    (ties at the boundary count as in), and is finite."""
    xp = get_array_module(y_pred)
    score = xp.take_along_axis(y_pred, labels.reshape(-1, 1).astype("int64"), axis=-1)
    return ((y_pred > score).sum(axis=-1) < k) & xp.isfinite(score[:, 0])


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Per sample, [argmax t is among the k highest p], y_true one-hot (N, K): (N,)."""
    return _in_top_k(y_pred, y_true.argmax(axis=-1), k).astype(y_pred.dtype)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Per sample, [y is among the k highest p], y_true integer labels: (N,)."""
    return _in_top_k(y_pred, y_true, k).astype(y_pred.dtype)


def _summed(fn):
    """A Keras metric function (per-sample values) as the batch sum the model adds up."""
    def batch_sum(y_true, y_pred):
        return fn(y_true, y_pred).sum()
    batch_sum.__name__ = fn.__name__
    return batch_sum


def _loss_sum(loss):
    """A loss used as a metric: the batch sum of its per-sample values."""
    sparse = isinstance(loss, losses_mod.SparseCategoricalCrossentropy)

    def fn(y_true, y_pred):
        if y_true.ndim < y_pred.ndim and not sparse:  # integer labels against every unit, as Keras
            xp = get_array_module(y_pred)
            y_true = xp.broadcast_to(y_true.reshape(-1, 1).astype(y_pred.dtype), y_pred.shape)
        return loss.per_sample(y_true, y_pred).sum()
    fn.__name__ = loss.name
    return fn


_FUNCTIONS = {f.__name__: f for f in (binary_accuracy, categorical_accuracy,
                                      sparse_categorical_accuracy, top_k_categorical_accuracy,
                                      sparse_top_k_categorical_accuracy)}
_SUMMED = {name: _summed(f) for name, f in _FUNCTIONS.items()}


class Metric:
    """fn(y_true, y_pred) -> the batch sum, logged under ``key`` (and ``aliases``)."""

    def __init__(self, key, fn, aliases=()):
        self.key, self.fn, self.aliases = key, fn, tuple(aliases)

    @property
    def name(self):
        return self.key

    def __call__(self, y_true, y_pred):
        return self.fn(y_true, y_pred)

    def get_config(self):
        return {"name": self.key}

    def __repr__(self):
        return f"<metric {self.key}>"


# ------------------------------------------------------------ tf.keras 2.x classes
class BinaryAccuracy(Metric):
    """Sum over samples of mean_k [(p_k > threshold) == t_k] (tf.keras 2.x)."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        self.threshold = float(threshold)
        super().__init__(name, self._score)

    def _score(self, y_true, y_pred):
        hits = (_like(y_true, y_pred) == (y_pred > self.threshold)).reshape(y_pred.shape[0], -1)
        return hits.mean(axis=-1, dtype=y_pred.dtype).sum()

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class CategoricalAccuracy(Metric):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(name, _SUMMED["categorical_accuracy"])


class SparseCategoricalAccuracy(Metric):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(name, _SUMMED["sparse_categorical_accuracy"])


class TopKCategoricalAccuracy(Metric):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        self.k = int(k)
        super().__init__(name, lambda t, p: top_k_categorical_accuracy(t, p, self.k).sum())

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class SparseTopKCategoricalAccuracy(Metric):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        self.k = int(k)
        super().__init__(name, lambda t, p: sparse_top_k_categorical_accuracy(t, p, self.k).sum())

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class MeanSquaredError(Metric):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(name, _loss_sum(losses_mod.mean_squared_error))


class MeanAbsoluteError(Metric):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(name, _loss_sum(losses_mod.mean_absolute_error))


_CLASSES = {cls.__name__: cls for cls in (
    BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError)}


def _by_loss(kind, loss, output_shape):
    """Keras 2.2.4's choice for 'accuracy' / 'crossentropy': binary, sparse or categorical."""
    if tuple(output_shape)[-1:] == (1,) or isinstance(loss, losses_mod.BinaryCrossentropy):
        if kind == "crossentropy":
            return _loss_sum(losses_mod.binary_crossentropy)
        # tf.keras 2.x (the only Keras with from_logits) thresholds the logits at 0.5
        return (BinaryAccuracy()._score if getattr(loss, "_logits_in", False)
                else _SUMMED["binary_accuracy"])
    if isinstance(loss, losses_mod.SparseCategoricalCrossentropy):
        return (_SUMMED["sparse_categorical_accuracy"] if kind == "accuracy"
                else _loss_sum(losses_mod.sparse_categorical_crossentropy))
    return (_SUMMED["categorical_accuracy"] if kind == "accuracy"
            else _loss_sum(losses_mod.categorical_crossentropy))


def get(identifier, loss, output_shape):
    """A Metric for an entry of ``metrics=[...]``, given the compiled loss and output shape."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return Metric("accuracy", _by_loss("accuracy", loss, output_shape), aliases=("acc",))
        if identifier in ("crossentropy", "ce"):
            return Metric(identifier, _by_loss("crossentropy", loss, output_shape))
        if identifier in _FUNCTIONS:
            return Metric(identifier, _SUMMED[identifier])
        if identifier in losses_mod._BY_NAME:
            return Metric(identifier, _loss_sum(losses_mod._BY_NAME[identifier]))
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    if isinstance(identifier, losses_mod.Loss):
        return Metric(identifier.name, _loss_sum(identifier))
    if any(identifier is f for f in _FUNCTIONS.values()):  # metrics=[categorical_accuracy]
        return Metric(identifier.__name__, _SUMMED[identifier.__name__])
    if callable(identifier) and not isinstance(identifier, type):
        return Metric(getattr(identifier, "__name__", type(identifier).__name__),
                      _custom(identifier))
    raise ValueError(
        f"metrics: unknown metric {identifier!r}; valid names are "
        f"{sorted(['accuracy', 'acc', 'crossentropy', 'ce', *_FUNCTIONS, *losses_mod._BY_NAME])}, "
        f"a minidl.metrics class, or a function f(y_true, y_pred)")


def _custom(fn):
    """A user's f(y_true, y_pred) -> per-sample scores or their batch mean (Keras
    averages either): the batch sum is mean * N, computed on the device."""
    def summed(y_true, y_pred):
        score = fn(y_true, y_pred)
        if not hasattr(score, "shape"):  # a Python number
            return get_array_module(y_pred).asarray(float(score) * y_pred.shape[0])
        return score.mean() * score.dtype.type(y_pred.shape[0]) if score.dtype.kind == "f" \
            else score.astype(y_pred.dtype).mean() * y_pred.shape[0]
    return summed


def serialize(metric):
    """A metric entry as JSON: its string, {'class_name', 'config'} for a metric
    object, else its name (a custom function's name, which get() then reports
    as unknown, as Keras does without custom_objects)."""
    if isinstance(metric, str):
        return metric
    if isinstance(metric, Metric) and _CLASSES.get(type(metric).__name__) is type(metric):
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    if isinstance(metric, losses_mod.Loss):
        return metric.name
    return getattr(metric, "key", None) or getattr(metric, "__name__", type(metric).__name__)
