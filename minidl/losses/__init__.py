"""Losses: per-sample values and the gradient of their batch mean.

Every loss is an object, usable as Keras 2's loss functions are,
``minidl.losses.hinge(y_true, y_pred)`` -> (N,) per-sample values, by name
in ``compile(loss='hinge')``, and, with tf.keras 2.x's classes and
arguments, as ``minidl.losses.CategoricalCrossentropy(from_logits=True)``,
whose call returns the batch mean as tf.keras's does. The model trains on the
mean of ``loss.per_sample(y_true, y_pred)``; ``loss.gradient(y_true, y_pred)``
is d mean / d y_pred (see base.py for the interface).

    crossentropy.py   categorical, sparse categorical and binary cross-entropy
    regression.py     mse, mae, mape, msle, logcosh, cosine_proximity
    hinge.py          hinge, squared_hinge, categorical_hinge
    probabilistic.py  kullback_leibler_divergence, poisson

Names and aliases are Keras 2.2.4's (keras/losses.py), plus the tf.keras
2.x names of the same functions (kl_divergence, cosine_similarity, log_cosh).
"""
from .base import Loss
from .crossentropy import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from .hinge import CategoricalHinge, Hinge, SquaredHinge
from .probabilistic import KLDivergence, Poisson
from .regression import (CosineSimilarity, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError,
                         MeanSquaredError, MeanSquaredLogarithmicError)

categorical_crossentropy = CategoricalCrossentropy()._as_function()
sparse_categorical_crossentropy = SparseCategoricalCrossentropy()._as_function()
binary_crossentropy = BinaryCrossentropy()._as_function()
mean_squared_error = mse = MSE = MeanSquaredError()._as_function()
mean_absolute_error = mae = MAE = MeanAbsoluteError()._as_function()
mean_absolute_percentage_error = mape = MAPE = MeanAbsolutePercentageError()._as_function()
mean_squared_logarithmic_error = msle = MSLE = MeanSquaredLogarithmicError()._as_function()
logcosh = log_cosh = LogCosh()._as_function()
hinge = Hinge()._as_function()
squared_hinge = SquaredHinge()._as_function()
categorical_hinge = CategoricalHinge()._as_function()
kullback_leibler_divergence = kld = KLD = kl_divergence = KLDivergence()._as_function()
poisson = Poisson()._as_function()
cosine_proximity = cosine = cosine_similarity = CosineSimilarity()._as_function()

_BY_NAME = {
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "mean_squared_error": mse, "mse": mse, "MSE": mse,
    "mean_absolute_error": mae, "mae": mae, "MAE": mae,
    "mean_absolute_percentage_error": mape, "mape": mape, "MAPE": mape,
    "mean_squared_logarithmic_error": msle, "msle": msle, "MSLE": msle,
    "logcosh": logcosh, "log_cosh": logcosh,
    "hinge": hinge, "squared_hinge": squared_hinge, "categorical_hinge": categorical_hinge,
    "kullback_leibler_divergence": kld, "kld": kld, "KLD": kld, "kl_divergence": kld,
    "poisson": poisson,
    "cosine_proximity": cosine, "cosine": cosine, "cosine_similarity": cosine,
}

_CLASSES = {cls.__name__: cls for cls in (
    CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, LogCosh, Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, CosineSimilarity)}


def get(identifier):
    """A loss from a name ('mse', 'binary_crossentropy'), a tf.keras class name,
    a Loss object or class, or a dict from ``serialize``."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        if identifier in _BY_NAME:
            return _BY_NAME[identifier]
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    if isinstance(identifier, dict):
        raise ValueError(f"loss: unknown loss class {identifier.get('class_name')!r}; minidl's "
                         f"are {sorted(_CLASSES)}")
    if callable(identifier):
        raise ValueError(
            f"loss: {getattr(identifier, '__name__', identifier)!r} is a plain function; minidl "
            f"has no automatic differentiation, so a custom loss must be a subclass of "
            f"minidl.losses.Loss with per_sample(y_true, y_pred) -> per-sample values (N,) and "
            f"gradient(y_true, y_pred) -> d mean / d y_pred")
    raise ValueError(f"loss: unknown loss {identifier!r}; valid names are {sorted(_BY_NAME)}")


def serialize(loss):
    """A loss's name when it has default arguments, else {'class_name', 'config'}."""
    cls = type(loss)
    config = loss.get_config()
    if (_CLASSES.get(cls.__name__) is cls and config == cls().get_config()
            and type(_BY_NAME.get(loss.name)) is cls):
        return loss.name
    return {"class_name": cls.__name__, "config": config}  # a custom class: get() names it


def deserialize(config):
    return get(config)
