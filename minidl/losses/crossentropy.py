"""Cross-entropies: categorical (one-hot or integer labels) and binary.

On probabilities they follow Keras 2.2.4 (backend/tensorflow_backend.py):
categorical normalizes each row, clips to [eps, 1 - eps] with eps =
K.epsilon() = 1e-7, then takes -sum(t log p); binary clips p the same way
and takes the mean over the last axis of -(t log p + (1 - t) log(1 - p)).

When the model's last layer is a softmax (sigmoid), the model hands the loss
the logits z instead (as tf.keras does) and the value is computed stably:

    categorical  -sum t log softmax(z) = logsumexp(z) sum t - sum t z
    binary       max(z, 0) - t z + log(1 + exp(-|z|))

both finite for any z, and the activation and the loss together have the
gradient dL/dz = (p - t) / N (``gradient_logits``; / (N D) for binary),
which the model feeds to the last layer below its activation. (Keras <= 2.2
clipped here too, which caps a sample's loss at -log(1e-7) = 16.1; the two
agree below that.)

The classes take tf.keras 2.x's arguments: ``from_logits=True`` means the
model outputs logits (no softmax / sigmoid layer) and the loss applies the
activation itself; ``label_smoothing=s`` replaces one-hot t by
t (1 - s) + s / K (binary: t (1 - s) + s / 2).
"""
from .. import backend as K
from ..activations import sigmoid, softmax
from ..backend import get_array_module
from .base import Loss, check_axis, check_finite, check_same_shape, float_targets


def _one_hot(labels, num_classes, dtype):
    """(N,) labels -> (N, K) one-hot; float labels (Keras reads them as ints) too."""
    xp = get_array_module(labels)
    if labels.dtype.kind != "i":
        labels = labels.astype("int64")
    t = xp.zeros((labels.shape[0], num_classes), dtype=dtype)
    t[xp.arange(labels.shape[0]), labels] = 1
    return t


def _check_smoothing(owner, label_smoothing):
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)):
        raise TypeError(f"{type(owner).__name__}: label_smoothing must be a number in [0, 1], "
                        f"received {label_smoothing!r}")
    value = float(label_smoothing)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{type(owner).__name__}: label_smoothing must be in [0, 1], "
                         f"received {label_smoothing!r}")
    return value


class _Crossentropy(Loss):
    """tf.keras 2.x's arguments of the cross-entropy classes: ``from_logits``
    (the model's output is the logits: the loss applies the nonlinearity
    itself), ``label_smoothing``, ``axis`` (the last only), ``reduction``."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="auto",
                 name=None):
        super().__init__(reduction, name)
        check_axis(self, axis)
        self._logits_in = bool(from_logits)
        self.label_smoothing = _check_smoothing(self, label_smoothing)
        if self._logits_in:
            self.fuses_with = None  # the model's output already is the logits

    def get_config(self):
        return {**super().get_config(), "from_logits": self._logits_in,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(_Crossentropy):
    """-sum_k t_k log p_k with one-hot targets t: (N, K)."""
    name = "categorical_crossentropy"
    fuses_with = "softmax"

    def _targets(self, y_true, y_pred):
        if not self.label_smoothing:
            return y_true
        s = self.label_smoothing  # tf.keras 2.x losses.py categorical_crossentropy
        return y_true * (1.0 - s) + s / y_pred.shape[-1]

    def per_sample(self, y_true, y_pred):
        if self._logits_in:
            return self.from_logits(y_true, y_pred)
        xp = get_array_module(y_pred)
        t = self._targets(y_true, y_pred)
        eps = K.epsilon()
        p = y_pred / y_pred.sum(axis=-1, keepdims=True)
        p = xp.clip(p, eps, 1.0 - eps)
        return -(t * xp.log(p)).sum(axis=-1)

    def gradient(self, y_true, y_pred):
        """With q = p / sum(p) clipped to [eps, 1-eps] (gradient 0 where clipped):
        dL/dq = -t / q;  dL/dp_j = (dL/dq_j - sum_i dL/dq_i q_i) / sum(p);  then / N.
        (from_logits: dL/dz = (softmax(z) sum t - t) / N.)
        """
        if self._logits_in:
            return self.gradient_logits(y_true, softmax.forward(y_pred))
        t = self._targets(y_true, y_pred)
        eps = K.epsilon()
        s = y_pred.sum(axis=-1, keepdims=True)
        q = y_pred / s
        inside = (q > eps) & (q < 1.0 - eps)
        dq = -t / get_array_module(q).clip(q, eps, 1.0 - eps) * inside
        dp = (dq - (dq * q).sum(axis=-1, keepdims=True)) / s
        return dp / y_pred.shape[0]

    def from_logits(self, y_true, z):
        """Per-sample -sum_k t_k log softmax(z)_k = logsumexp(z) sum_k t_k - sum_k t_k z_k."""
        xp = get_array_module(z)
        t = self._targets(y_true, z)
        m = z.max(axis=-1, keepdims=True)
        lse = (m + xp.log(xp.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]
        return lse * t.sum(axis=-1) - (t * z).sum(axis=-1)

    def gradient_logits(self, y_true, probs):
        """dL/dz = (p sum_k t_k - t) / N = (p - t) / N for one-hot t, p = softmax(z)."""
        t = self._targets(y_true, probs)
        return (probs * t.sum(axis=-1, keepdims=True) - t) / probs.shape[0]

    def prepare_targets(self, y, output_shape, check_values=True):
        expected = (y.shape[0],) + tuple(output_shape)
        if tuple(y.shape) != expected:
            hint = ""
            if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
                hint = (" (integer labels: use loss='sparse_categorical_crossentropy', "
                        "or minidl.utils.to_categorical(y))")
            raise ValueError(
                f"{self.name}: expected one-hot targets of shape {expected}, "
                f"received {tuple(y.shape)}{hint}")
        if check_values:
            check_finite(self, y)
        # float64 targets would carry float64 through every backward product
        return y if y.dtype == K.floatx() else y.astype(K.floatx())


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """-log p_y with integer labels y: (N,) or (N, 1) in [0, K)."""
    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False, reduction="auto", name=None):
        super().__init__(from_logits=from_logits, reduction=reduction, name=name)

    def get_config(self):
        config = super().get_config()
        del config["label_smoothing"]
        return config

    def _targets(self, y_true, y_pred):
        return _one_hot(y_true.reshape(-1), y_pred.shape[-1], y_pred.dtype)

    def invalid_targets(self, y, output_shape):
        """Labels outside [0, K), non-integer or not finite: on CuPy the one-hot's
        fancy indexing would wrap label K into class 0, silently."""
        xp = get_array_module(y)
        bad = (y < 0) | (y >= output_shape[-1])
        if y.dtype.kind == "f":
            bad |= ~xp.isfinite(y) | (y != xp.floor(y))
        return bad.any()

    def prepare_targets(self, y, output_shape, check_values=True):
        n = y.shape[0]
        if not (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
            raise ValueError(
                f"{self.name}: expected integer labels of shape ({n},) or ({n}, 1), received "
                f"{tuple(y.shape)} (one-hot targets: use loss='categorical_crossentropy')")
        classes = output_shape[-1]
        y = y.reshape(-1)
        if check_values:
            xp = get_array_module(y)
            check_finite(self, y, what=f"labels must be whole numbers in [0, {classes}), but they")
            if y.dtype.kind == "f" and bool(xp.any(y != xp.floor(y))):
                raise ValueError(f"{self.name}: labels must be whole numbers, received non-integer values")
            lo, hi = float(y.min()), float(y.max())
            if lo < 0 or hi >= classes:
                raise ValueError(
                    f"{self.name}: labels must lie in [0, {classes}) for a {classes}-way output, "
                    f"received values in [{lo:g}, {hi:g}]")
        if y.dtype.kind != "i":
            y = y.astype("int64")
        return y


class BinaryCrossentropy(_Crossentropy):
    """mean_k -(t_k log p_k + (1 - t_k) log(1 - p_k)) per sample; t: (N, D) in [0, 1]."""
    name = "binary_crossentropy"
    fuses_with = "sigmoid"

    def _targets(self, y_true):
        s = self.label_smoothing  # tf.keras 2.x losses.py binary_crossentropy
        return y_true * (1.0 - s) + 0.5 * s if s else y_true

    def per_sample(self, y_true, y_pred):
        check_same_shape(self, y_true, y_pred)
        if self._logits_in:
            return self.from_logits(y_true, y_pred)
        xp = get_array_module(y_pred)
        t = self._targets(y_true)
        eps = K.epsilon()  # Keras 2.2.4 tensorflow_backend.py binary_crossentropy
        p = xp.clip(y_pred, eps, 1.0 - eps)
        return -(t * xp.log(p) + (1.0 - t) * xp.log1p(-p)).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        """dL/dp = (p - t) / (p (1 - p)) / (N D), 0 where p was clipped.
        (from_logits: dL/dz = (sigmoid(z) - t) / (N D).)"""
        if self._logits_in:
            return self.gradient_logits(y_true, sigmoid.forward(y_pred))
        eps = K.epsilon()
        t = self._targets(y_true)
        inside = (y_pred > eps) & (y_pred < 1.0 - eps)
        p = get_array_module(y_pred).clip(y_pred, eps, 1.0 - eps)
        return (p - t) / (p * (1.0 - p)) * inside / y_pred.size

    def from_logits(self, y_true, z):
        """Per-sample mean_k of -(t log sigmoid(z) + (1 - t) log(1 - sigmoid(z)))
        = max(z, 0) - t z + log(1 + exp(-|z|)), finite for any z."""
        xp = get_array_module(z)
        t = self._targets(y_true)
        return (xp.maximum(z, 0) - z * t + xp.log1p(xp.exp(-xp.abs(z)))).mean(axis=-1)

    def gradient_logits(self, y_true, probs):
        """dL/dz = (p - t) / (N D), p = sigmoid(z)."""
        return (probs - self._targets(y_true)) / probs.size

    def prepare_targets(self, y, output_shape, check_values=True):
        hint = ""
        if y.ndim == 1 and tuple(output_shape) != (1,):
            hint = (" (binary_crossentropy scores each output unit on its own; for one class "
                    "label per sample use a one-unit sigmoid output, or "
                    "loss='sparse_categorical_crossentropy' with a softmax)")
        return float_targets(self, y, output_shape, check_values, hint)
