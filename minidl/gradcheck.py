"""Gradient checks: compare a backward pass with central differences.

For a layer, minidl reduces the output to a scalar with a fixed random
projection, L = sum(forward(x) * r), so dL/dy = r is a generic upstream
gradient. Then, for every element v of the input and of each weight,

    numerical dL/dv = (L(v + h) - L(v - h)) / (2 h)        (h = 1e-6)

is compared with what ``backward(r)`` produced. Everything runs in float64,
where this difference is accurate to about 1e-10 relative; a wrong formula
is off by order 1.

The error reported per tensor is max_i |a_i - n_i| / max_i max(|a_i|, |n_i|):
the worst deviation relative to the tensor's largest gradient, which stays
meaningful when some entries are exactly zero (ReLU, max pooling).

Randomness: the backend generator is re-seeded before every forward, so a
Dropout layer draws the same mask each time and is checked like any other.

    >>> from minidl import gradcheck, layers
    >>> gradcheck.check_layer(layers.Dense(3, activation='tanh'), x)
    {'input': 3.1e-11, 'kernel': 2.2e-11, 'bias': 1.9e-11}
"""
import numpy as np

from . import backend as K

EPS = 1e-6


def relative_error(analytic, numeric):
    """max |a - n| / max(|a|, |n|) over the tensor (0 when both are all zero)."""
    a, n = K.to_numpy(analytic).astype(np.float64), K.to_numpy(numeric).astype(np.float64)
    if a.shape != n.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} vs {n.shape}")
    scale = max(np.abs(a).max(initial=0.0), np.abs(n).max(initial=0.0))
    return 0.0 if scale == 0 else float(np.abs(a - n).max() / scale)


def numerical_gradient(f, v, eps=EPS):
    """dF/dv by central differences; ``f()`` reads ``v``, which is perturbed in place.

    v: any float64 array (NumPy or CuPy). One Python step per element: meant
    for the small tensors of a check, not for training.
    """
    if v.dtype != np.float64:
        raise TypeError(f"numerical_gradient: expected a float64 array, received {v.dtype}")
    xp = K.get_array_module(v)
    grad = xp.zeros_like(v)
    flat, gflat = v.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i].copy() if xp is not np else flat[i]
        flat[i] = saved + eps
        up = f()
        flat[i] = saved - eps
        down = f()
        flat[i] = saved
        gflat[i] = (up - down) / (2 * eps)
    return grad


def _as_float64(x):
    return K.asarray(x, dtype="float64").copy()


class _float64_weights:
    """``with _float64_weights(layers):`` -- float64 weights inside, the originals after."""

    def __init__(self, layers):
        self.layers, self.saved = layers, []

    def __enter__(self):
        for layer in self.layers:
            for store in (layer.params, layer.state):
                self.saved.append((store, dict(store)))
                for name, w in store.items():
                    store[name] = w.astype(np.float64)

    def __exit__(self, *exc):
        for store, original in self.saved:  # the check leaves the model as it found it
            store.update(original)


def check_layer(layer, x, training=True, seed=0, eps=EPS):
    """Max relative error of ``layer``'s input and weight gradients.

    x: a batch for the layer, e.g. (N, H, W, C); it is converted to float64,
    as are float64 copies of the layer's weights during the check (the layer
    is built now if needed). Returns ``{'input': err, <weight name>: err,
    ...}``; a correct layer gives errors around 1e-9 or smaller.
    """
    with K.floatx_scope("float64"):
        x = _as_float64(x)
        if not layer.built:
            layer.build(tuple(x.shape[1:]))
        with _float64_weights([layer]):
            return _check_layer(layer, x, training, seed, eps)


def _check_layer(layer, x, training, seed, eps):
    xp = K.get_array_module(x)
    K.seed(seed)
    y = layer.forward(x, training=training)
    r = K.asarray(np.random.default_rng(seed + 1).standard_normal(y.shape))

    def loss():
        K.seed(seed)
        return float((layer.forward(x, training=training) * r).sum())

    K.seed(seed)
    layer.forward(x, training=training)
    grad_x = layer.backward(r.copy())
    analytic = {"input": grad_x, **{k: xp.asarray(g).copy() for k, g in layer.grads.items()}}
    errors = {"input": relative_error(grad_x, numerical_gradient(loss, x, eps))}
    for name, w in layer.params.items():
        errors[name] = relative_error(analytic[name], numerical_gradient(loss, w, eps))
    return errors


def check_loss(loss, y_true, y_pred, eps=EPS):
    """Relative error of ``loss.gradient`` (d mean loss / d y_pred): {'y_pred': err}."""
    from . import losses
    loss = losses.get(loss)
    with K.floatx_scope("float64"):
        y_pred = _as_float64(y_pred)
        y_true = K.asarray(y_true)
        analytic = loss.gradient(y_true, y_pred)
        numeric = numerical_gradient(lambda: float(loss.per_sample(y_true, y_pred).mean()), y_pred, eps)
        return {"y_pred": relative_error(analytic, numeric)}


def check_model(model, x, y, seed=0, eps=EPS):
    """Relative error of every weight gradient of a compiled Sequential, and of dL/dx.

    The loss is the model's compiled loss on (x, y), in training mode
    (BatchNormalization on batch statistics, Dropout with a mask fixed by the
    seed); the gradients are the ones ``fit`` uses, including the fused
    softmax + cross-entropy start. Returns ``{'input': err,
    '<layer name>/<weight>': err, ...}``.
    """
    with K.floatx_scope("float64"):
        x = _as_float64(x)
        if not model.built:
            model.build(tuple(x.shape[1:]))
        with _float64_weights(model.layers):
            return _check_model(model, x, y, seed, eps)


def _check_model(model, x, y, seed, eps):
    x, y = model._arrays(x, y, "check_model")

    def loss():
        K.seed(seed)
        return float(model._batch_loss(x, y, training=True)[0])

    K.seed(seed)
    _, y_pred, z = model._batch_loss(x, y, training=True)
    grad_x = model._backprop(y, y_pred, z, need_input_grad=True)
    errors = {"input": relative_error(grad_x, numerical_gradient(loss, x, eps))}
    analytic = {(layer.name, n): layer.grads[n].copy()
                for layer in model.layers for n in layer.params}
    for layer in model.layers:
        for name, w in layer.params.items():
            errors[f"{layer.name}/{name}"] = relative_error(
                analytic[(layer.name, name)], numerical_gradient(loss, w, eps))
    return errors
