"""Losses: per-sample values and the gradient of their batch mean.

A loss ``L`` is called as Keras's loss functions are, ``L(y_true, y_pred)``
-> (N,) per-sample values; the model trains on their mean, and
``L.gradient(y_true, y_pred)`` is d mean / d y_pred, shaped like y_pred.

Cross-entropy on probabilities follows Keras 2: normalize each row, clip to
[eps, 1 - eps] with eps = K.epsilon() = 1e-7, then -sum(t log p).

When the model's last layer is a softmax, the model hands the loss the
logits z instead (as tf.keras does): the value is computed with
log-sum-exp, -sum t log softmax(z) = logsumexp(z) - sum t z, finite for any
z, and softmax and cross-entropy together have the gradient
dL/dz = (p - t) / N (``gradient_logits``), which the model feeds to the last
layer below its softmax. (Multi-backend Keras <= 2.2 clipped here too, which
caps a sample's loss at -log(1e-7) = 16.1; the two agree below that.)
"""
from . import backend as K
from .backend import get_array_module


def _one_hot(labels, num_classes, dtype):
    xp = get_array_module(labels)
    t = xp.zeros((labels.shape[0], num_classes), dtype=dtype)
    t[xp.arange(labels.shape[0]), labels] = 1
    return t


class Loss:
    name = None
    #: the name of the output activation this loss fuses with ('softmax',
    #: 'sigmoid'): the model then calls from_logits and gradient_logits
    fuses_with = None

    def __call__(self, y_true, y_pred):
        raise NotImplementedError

    def gradient(self, y_true, y_pred):
        raise NotImplementedError

    def prepare_targets(self, y, output_shape, check_values=True):
        """y checked against the model's per-sample output shape, in the form
        ``__call__`` expects; raises a ValueError naming the problem."""
        return y

    def check_output_shape(self, output_shape):
        """minidl's losses average over samples of (N, K) outputs."""
        if len(tuple(output_shape)) != 1:
            raise ValueError(
                f"{self.name}: expects model outputs of shape (batch, K), but the model outputs "
                f"(batch, {', '.join(map(str, output_shape))}); add Flatten() before the last layer")

    def __repr__(self):
        return f"<loss {self.name}>"


class CategoricalCrossentropy(Loss):
    """-sum_k t_k log p_k with one-hot targets t: (N, K)."""
    name = "categorical_crossentropy"
    fuses_with = "softmax"

    def _targets(self, y_true, y_pred):
        return y_true

    def __call__(self, y_true, y_pred):
        xp = get_array_module(y_pred)
        t = self._targets(y_true, y_pred)
        eps = K.epsilon()
        p = y_pred / y_pred.sum(axis=-1, keepdims=True)
        p = xp.clip(p, eps, 1.0 - eps)
        return -(t * xp.log(p)).sum(axis=-1)

    def gradient(self, y_true, y_pred):
        """With q = p / sum(p) clipped to [eps, 1-eps] (gradient 0 where clipped):
        dL/dq = -t / q;  dL/dp_j = (dL/dq_j - sum_i dL/dq_i q_i) / sum(p);  then / N.
        """
        t = self._targets(y_true, y_pred)
        eps = K.epsilon()
        s = y_pred.sum(axis=-1, keepdims=True)
        q = y_pred / s
        inside = (q > eps) & (q < 1.0 - eps)
        dq = -t / get_array_module(q).clip(q, eps, 1.0 - eps) * inside
        dp = (dq - (dq * q).sum(axis=-1, keepdims=True)) / s
        return dp / y_pred.shape[0]

    def from_logits(self, y_true, z):
        """Per-sample -sum_k t_k log softmax(z)_k = logsumexp(z) - sum_k t_k z_k."""
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
        return y if y.dtype == K.floatx() else y.astype(K.floatx())  # float64 targets would
        # carry float64 through every backward product


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """-log p_y with integer labels y: (N,) or (N, 1) in [0, K)."""
    name = "sparse_categorical_crossentropy"

    def _targets(self, y_true, y_pred):
        return _one_hot(y_true.reshape(-1), y_pred.shape[-1], y_pred.dtype)

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


class MeanSquaredError(Loss):
    """mean_k (p_k - t_k)^2 per sample."""
    name = "mean_squared_error"

    def __call__(self, y_true, y_pred):
        d = y_pred - y_true
        return (d * d).reshape(d.shape[0], -1).mean(axis=-1)

    def gradient(self, y_true, y_pred):
        """dL/dp = 2 (p - t) / (N D), D values per sample."""
        per_sample = y_pred.size // y_pred.shape[0]
        return (2.0 / (y_pred.shape[0] * per_sample)) * (y_pred - y_true)

    def prepare_targets(self, y, output_shape, check_values=True):
        expected = (y.shape[0],) + tuple(output_shape)
        if tuple(y.shape) == (y.shape[0],) and tuple(output_shape) == (1,):
            y = y.reshape(expected)  # (N,) targets for a one-unit output
        if tuple(y.shape) != expected:
            raise ValueError(f"{self.name}: expected targets of shape {expected}, received {tuple(y.shape)}")
        return y if y.dtype == K.floatx() else y.astype(K.floatx())


categorical_crossentropy = CategoricalCrossentropy()
sparse_categorical_crossentropy = SparseCategoricalCrossentropy()
mean_squared_error = mse = MeanSquaredError()

_BY_NAME = {
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
}


def get(identifier):
    """A loss from a name or a loss object (e.g. minidl.losses.categorical_crossentropy)."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]
    raise ValueError(f"loss: unknown loss {identifier!r}; valid names are {sorted(_BY_NAME)}")
