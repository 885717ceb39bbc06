"""The interface every minidl loss implements, and the target checks they share.

A loss ``L`` gives per-sample values, ``L.per_sample(y_true, y_pred)`` -> (N,)
(and called, ``L(y_true, y_pred)``, what Keras gives: those values for the
Keras 2 functions, their mean for a tf.keras loss object); the model trains
on their mean, and
``L.gradient(y_true, y_pred)`` is d mean / d y_pred, shaped like y_pred.
A loss that ends in the same nonlinearity as the model's output layer
(``fuses_with = 'softmax'`` or ``'sigmoid'``) also has ``from_logits(y_true,
z)`` and ``gradient_logits(y_true, probs)``: the model then hands it the
logits z, for a value and gradient that stay finite for any z.

Custom losses: minidl has no automatic differentiation, so a custom loss is
a subclass of ``Loss`` with both ``per_sample`` and ``gradient``.
"""
import numpy as np

from .. import backend as K
from ..backend import get_array_module

#: tf.keras's reductions that mean what minidl does: the mean over the batch
_MEAN_REDUCTIONS = ("auto", "sum_over_batch_size")


class Loss:
    name = None
    #: the name of the output activation this loss fuses with ('softmax',
    #: 'sigmoid'): the model then calls from_logits and gradient_logits
    fuses_with = None

    def __init__(self, reduction="auto", name=None):
        """``reduction`` and ``name`` as tf.keras 2.x's Loss takes them."""
        if reduction not in _MEAN_REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction={reduction!r} is not supported; minidl trains "
                f"on the mean over the batch (reduction='auto' or 'sum_over_batch_size')")
        if name is not None:
            self.name = str(name)

    #: False for the Keras 2 functions (minidl.losses.hinge, ...): called, they
    #: return per-sample values; a tf.keras loss object returns their mean
    _reduce = True

    def __call__(self, y_true, y_pred):
        """Keras's call: per-sample values (N,) for the Keras 2 functions
        (``losses.categorical_crossentropy(y_true, y_pred)``), their mean for a
        tf.keras loss object (``losses.CategoricalCrossentropy()(y_true, y_pred)``).
        y_true may be a NumPy array while y_pred lives on the GPU, as in Keras."""
        xp = get_array_module(y_pred)
        if get_array_module(y_true) is not xp:
            y_true = K.asarray(y_true) if xp is not np else K.to_numpy(y_true)
        values = self.per_sample(y_true, y_pred)
        return values.mean() if self._reduce else values

    def per_sample(self, y_true, y_pred):
        """The loss of each sample, (N,) (what the model averages)."""
        raise NotImplementedError

    def _as_function(self):
        """This loss as a Keras 2 function: called, it returns per-sample values."""
        self._reduce = False
        return self

    def gradient(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        """Constructor arguments that differ from the defaults, for serialize."""
        return {} if self.name == type(self).name else {"name": self.name}

    def prepare_targets(self, y, output_shape, check_values=True):
        """y checked against the model's per-sample output shape, in the form
        ``__call__`` expects; raises a ValueError naming the problem."""
        return y

    def invalid_targets(self, y, output_shape):
        """A 0-d device boolean: does ``y`` hold a value this loss cannot take?

        Computed on the device without waiting for it, so that a generator's
        batches on a GPU are checked without a host sync per batch (the model
        reads the accumulated flag when it reads the loss)."""
        xp = get_array_module(y)
        if y.dtype.kind != "f":
            return xp.zeros((), dtype=bool)
        return ~xp.isfinite(y).all()

    def check_output_shape(self, output_shape):
        """minidl's losses average over samples of (N, K) outputs."""
        if len(tuple(output_shape)) != 1:
            raise ValueError(
                f"{self.name}: expects model outputs of shape (batch, K), but the model outputs "
                f"(batch, {', '.join(map(str, output_shape))}); add Flatten() before the last layer")

    def __repr__(self):
        return f"<loss {self.name}>"


def check_axis(owner, axis):
    """tf.keras losses take axis=-1; minidl's outputs are (N, K), so only the last axis."""
    if axis not in (-1, 1):
        raise ValueError(f"{type(owner).__name__}: axis must be -1 (the last axis), received {axis!r}")


def check_finite(owner, y, what="targets"):
    """A ValueError naming how many NaN and infinite values float ``y`` holds."""
    if y.dtype.kind != "f":
        return
    xp = get_array_module(y)
    nan, inf = int(xp.isnan(y).sum()), int(xp.isinf(y).sum())
    if nan or inf:
        found = " and ".join(f"{count} {kind}" for count, kind in ((nan, "NaN"), (inf, "infinite"))
                             if count)
        raise ValueError(f"{owner.name}: {what} contain {found} value(s)")


def check_same_shape(owner, y_true, y_pred):
    """Keras would broadcast (N,) against (N, 1) into (N, N); refuse instead."""
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"{owner.name}: y_true has shape {tuple(y_true.shape)} and y_pred "
                         f"{tuple(y_pred.shape)}; they must be the same")


def float_targets(owner, y, output_shape, check_values=True, hint=""):
    """Targets shaped like the output, as floatx; (N,) is accepted for a one-unit output."""
    expected = (y.shape[0],) + tuple(output_shape)
    if y.ndim == 1 and tuple(output_shape) == (1,):
        y = y.reshape(expected)
    if tuple(y.shape) != expected:
        raise ValueError(f"{owner.name}: expected targets of shape {expected}, "
                         f"received {tuple(y.shape)}{hint}")
    if check_values:
        check_finite(owner, y)
    # float64 targets would carry float64 through every backward product
    return y if y.dtype == K.floatx() else y.astype(K.floatx())


def samples(y_pred):
    """N, the number of per-sample values: every axis but the last."""
    return y_pred.size // y_pred.shape[-1] if y_pred.ndim > 1 else 1


class MeanOverLastAxis(Loss):
    """Keras's ``K.mean(f(y_true, y_pred), axis=-1)``: a per-sample mean of an
    elementwise term f; subclasses give f (``_terms``) and df/dp (``_slopes``)."""

    def _terms(self, t, p):
        raise NotImplementedError

    def _slopes(self, t, p):
        raise NotImplementedError

    def per_sample(self, y_true, y_pred):
        check_same_shape(self, y_true, y_pred)
        return self._terms(y_true, y_pred).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        """d mean / dp = f'(t, p) / (N D): every element weighs 1/(N D) in the mean."""
        return self._slopes(y_true, y_pred) / y_pred.size

    def prepare_targets(self, y, output_shape, check_values=True):
        return float_targets(self, y, output_shape, check_values)
