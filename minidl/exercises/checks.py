"""The checks behind the lessons' exercises: each runs your function and says
plainly whether it is right.

Every ``check_*(fn)`` calls ``fn`` on fresh random inputs, compares the
result with central differences (``minidl.gradcheck``) or with minidl's own
layer or optimizer, prints one verdict and returns it as a ``Verdict``
(true when right). A function that still raises NotImplementedError is
reported as not written yet; any other error is reported with its message,
never raised, so a lesson always runs to its end. The checks run on the
CPU in float64 and leave minidl's device, float type and random streams as
they found them.
"""
import contextlib
import traceback

import numpy as np

from .. import backend as K
from ..gradcheck import numerical_gradient, relative_error

TOLERANCE = 1e-6     # max relative error of a gradient against central differences
EXACT = 1e-10        # max relative error against minidl's own float64 result


class Verdict:
    """The outcome of a check: ``passed`` (bool) and ``message`` (one or two lines)."""

    def __init__(self, passed, message):
        self.passed, self.message = bool(passed), message

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return f"Verdict(passed={self.passed}, message={self.message!r})"


class _Wrong(Exception):
    """Raised inside a check when the learner's result is wrong; carries why."""


@contextlib.contextmanager
def _sandbox():
    """CPU, float64, and minidl's random state restored afterwards."""
    saved = (K.device(), K.floatx(), K.get_rng_state())
    K.set_device("cpu")
    K.set_floatx("float64")
    try:
        yield
    finally:
        K.set_device(saved[0])
        K.set_floatx(saved[1])
        K.set_rng_state(saved[2])


def _check(title, body, verbose):
    """Run ``body()`` (raises _Wrong with the reason, or returns a success note)."""
    try:
        with _sandbox():
            note = body()
        verdict = Verdict(True, f"RIGHT -- {title}: {note}")
    except NotImplementedError:
        verdict = Verdict(False, f"NOT WRITTEN YET -- {title}: your function still raises "
                                 f"NotImplementedError; replace that line with your code.")
    except _Wrong as e:
        verdict = Verdict(False, f"WRONG -- {title}: {e}")
    except Exception as e:   # the learner's code failed: say where, do not stop the lesson
        where = traceback.extract_tb(e.__traceback__)[-1]
        verdict = Verdict(False, f"WRONG -- {title}: your function raised "
                                 f"{type(e).__name__}: {e} (line {where.lineno}: "
                                 f"{where.line})")
    if verbose:
        print(verdict.message)
    return verdict


def _array(value, name, shape):
    """The learner's ``value`` as a float64 array of ``shape``, or _Wrong saying what it is."""
    if value is None:
        raise _Wrong(f"{name} is None; did you forget a return?")
    a = np.asarray(K.to_numpy(value), dtype=np.float64)
    if a.shape != tuple(shape):
        raise _Wrong(f"{name} has shape {a.shape}, expected {tuple(shape)}")
    if not np.isfinite(a).all():
        raise _Wrong(f"{name} holds NaN or infinite values")
    return a


def _close(name, got, expected, tol, against):
    err = relative_error(got, expected)
    if err > tol:
        raise _Wrong(f"{name} is off by {err:.2g} relative to {against} (allowed {tol:g})")
    return err


def _tuple(result, n, what):
    if not isinstance(result, (tuple, list)) or len(result) != n:
        raise _Wrong(f"expected {what} ({n} values), received {type(result).__name__}")
    return result


def _rng(seed):
    return np.random.default_rng(seed)


# ------------------------------------------------------------- lesson 1
def check_dense_tanh_backward(fn, verbose=True):
    """fn(x, W, y, grad_y) -> (dx, dW, db) for y = tanh(x W + b)."""
    def body():
        rng = _rng(1)
        x, W, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)) * 0.5, rng.normal(size=3)
        grad_y = rng.normal(size=(5, 3))
        loss = lambda: float((np.tanh(x @ W + b) * grad_y).sum())  # noqa: E731
        y = np.tanh(x @ W + b)
        dx, dW, db = _tuple(fn(x.copy(), W.copy(), y.copy(), grad_y.copy()), 3, "(dx, dW, db)")
        worst = max(_close(name, _array(got, name, v.shape), numerical_gradient(loss, v),
                           TOLERANCE, "central differences")
                    for name, got, v in (("dx", dx, x), ("dW", dW, W), ("db", db, b)))
        return f"dx, dW and db match central differences (max relative error {worst:.1e})."
    return _check("Dense + tanh backward", body, verbose)


# ------------------------------------------------------------- lesson 2
def _elementwise_check(title, fn_call, forward, make_inputs, verbose):
    def body():
        x, grad_y, args = make_inputs(_rng(2))
        loss = lambda: float((forward(x) * grad_y).sum())  # noqa: E731
        numeric = numerical_gradient(loss, x)
        got = _array(fn_call(x.copy(), grad_y.copy(), args), "your gradient", x.shape)
        err = _close("your gradient", got, numeric, TOLERANCE, "central differences")
        return f"matches central differences (max relative error {err:.1e})."
    return _check(title, body, verbose)


def check_leaky_relu_backward(fn, verbose=True):
    """fn(grad_y, x, alpha) -> dL/dx for LeakyReLU(alpha)."""
    from ..layers import LeakyReLU
    alpha = 0.2

    def inputs(rng):
        x = rng.normal(size=(6, 5))
        x[np.abs(x) < 0.05] += 0.2            # no input at the kink, where f' jumps
        return x, rng.normal(size=x.shape), alpha
    layer = LeakyReLU(alpha=alpha)
    return _elementwise_check("LeakyReLU backward",
                              lambda x, g, a: fn(g, x, a),
                              lambda x: K.to_numpy(layer.forward(x)), inputs, verbose)


def check_sigmoid_backward(fn, verbose=True):
    """fn(grad_y, y) -> dL/dz for y = sigmoid(z)."""
    from ..activations import sigmoid

    def inputs(rng):
        z = rng.normal(size=(6, 5)) * 2
        return z, rng.normal(size=z.shape), None
    return _elementwise_check("sigmoid backward",
                              lambda z, g, _: fn(g, sigmoid.forward(z.copy())),
                              lambda z: sigmoid.forward(z.copy()), inputs, verbose)


# ------------------------------------------------------------- lesson 3
def check_log_softmax(fn, verbose=True):
    """fn(z) -> log softmax(z) along axis 1, exact and finite even for |z| ~ 1000."""
    def body():
        rng = _rng(3)
        for scale, what in ((1.0, "ordinary logits"), (1000.0, "huge logits (|z| ~ 1000)")):
            z = rng.normal(size=(4, 6)) * scale
            with np.errstate(all="ignore"):
                got = fn(z.copy())
            try:
                got = _array(got, f"log_softmax on {what}", z.shape)
            except _Wrong as e:
                raise _Wrong(f"{e}; subtract each row's max before exp") from None
            m = z.max(axis=1, keepdims=True)
            exact = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
            _close(f"log_softmax on {what}", got, exact, 1e-12, "the exact values")
        return "exact, and finite for logits of size 1000."
    return _check("stable log-softmax", body, verbose)


def check_sigmoid_bce_gradient(fn, verbose=True):
    """fn(z, t) -> dL/dz, L the mean binary cross-entropy of sigmoid(z) over all entries."""
    def body():
        rng = _rng(4)
        z = rng.normal(size=(5, 3)) * 3
        t = (rng.random(size=z.shape) < 0.5).astype(np.float64)
        def loss():   # the stable form of lesson 3
            return float((np.maximum(z, 0) - t * z + np.log1p(np.exp(-np.abs(z)))).mean())
        got = _array(fn(z.copy(), t.copy()), "your gradient", z.shape)
        err = _close("your gradient", got, numerical_gradient(loss, z), TOLERANCE,
                     "central differences")
        return f"(p - t) / (N D) confirmed (max relative error {err:.1e})."
    return _check("sigmoid + binary cross-entropy gradient", body, verbose)


# ------------------------------------------------------------- lesson 4
def check_im2col(fn, verbose=True):
    """fn(x, kh, kw) -> cols (N*Ho*Wo, kh*kw*C), stride 1, valid, as minidl's im2col."""
    from ..kernels import im2col, window_geometry

    def body():
        rng = _rng(5)
        for shape, (kh, kw) in (((2, 5, 6, 3), (3, 3)), ((1, 4, 4, 2), (2, 3))):
            x = rng.normal(size=shape)
            expected = K.to_numpy(im2col(x, window_geometry(shape[1], shape[2], (kh, kw), (1, 1),
                                                            "valid")))
            got = _array(fn(x.copy(), kh, kw), f"cols for x {shape}, kernel {kh}x{kw}",
                         expected.shape)
            if not np.array_equal(got, expected):
                hint = (" (same numbers in another column order: a row must be ordered "
                        "(i, j, c), the order of a (kh, kw, C, F) kernel flattened)"
                        if np.allclose(np.sort(got, axis=1), np.sort(expected, axis=1)) else "")
                raise _Wrong(f"cols for x {shape}, kernel {kh}x{kw} differ from minidl's "
                             f"im2col{hint}")
        return "identical to minidl's im2col on two shapes."
    return _check("im2col", body, verbose)


def check_conv_weight_grad(fn, verbose=True):
    """fn(x, grad_y, kh, kw) -> dL/dW (kh, kw, C, F) of a stride-1 'valid' Conv2D."""
    from ..layers import Conv2D

    def body():
        rng = _rng(6)
        x = rng.normal(size=(2, 6, 5, 3))
        layer = Conv2D(4, (3, 2), use_bias=False)
        layer.build(x.shape[1:])
        y = layer.forward(x, training=True)
        grad_y = rng.normal(size=y.shape)
        layer.backward(grad_y.copy())
        expected = K.to_numpy(layer.grads["kernel"])
        got = _array(fn(x.copy(), grad_y.copy(), 3, 2), "dW", expected.shape)
        err = _close("dW", got, expected, EXACT, "Conv2D's kernel gradient")
        return f"equals Conv2D's kernel gradient (relative error {err:.1e})."
    return _check("convolution weight gradient", body, verbose)


# ------------------------------------------------------------- lesson 5
def _pool_check(title, layer_cls, call, verbose, distinct):
    def body():
        rng = _rng(7)
        x = rng.permutation(2 * 6 * 4 * 3).reshape(2, 6, 4, 3) / 10.0 if distinct else \
            rng.normal(size=(2, 6, 4, 3))
        layer = layer_cls(pool_size=(2, 2))
        y = layer.forward(x, training=True)
        grad_y = rng.normal(size=y.shape)
        expected = K.to_numpy(layer.backward(grad_y.copy()))
        got = _array(call(x.copy(), grad_y.copy()), "dx", x.shape)
        err = _close("dx", got, expected, EXACT, f"{layer_cls.__name__}'s backward")
        return f"equals {layer_cls.__name__}.backward (relative error {err:.1e})."
    return _check(title, body, verbose)


def check_maxpool_backward(fn, verbose=True):
    """fn(x, grad_y) -> dL/dx of 2x2 max pooling, stride 2."""
    from ..layers import MaxPooling2D
    return _pool_check("max pooling backward", MaxPooling2D, fn, verbose, distinct=True)


def check_avgpool_backward(fn, verbose=True):
    """fn(grad_y, x_shape) -> dL/dx of 2x2 average pooling, stride 2."""
    from ..layers import AveragePooling2D
    return _pool_check("average pooling backward", AveragePooling2D,
                       lambda x, g: fn(g, x.shape), verbose, distinct=False)


# ------------------------------------------------------------- lesson 6
def check_batchnorm_backward(fn, verbose=True):
    """fn(grad_y, x, gamma, epsilon) -> (dx, dgamma, dbeta), training mode, x: (M, C)."""
    def body():
        rng = _rng(8)
        x = rng.normal(size=(8, 3)) * 2 + 1
        gamma, beta, eps = rng.normal(size=3), rng.normal(size=3), 1e-3
        grad_y = rng.normal(size=x.shape)

        def loss():
            x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
            return float(((gamma * x_hat + beta) * grad_y).sum())
        dx, dgamma, dbeta = _tuple(fn(grad_y.copy(), x.copy(), gamma.copy(), eps), 3,
                                   "(dx, dgamma, dbeta)")
        worst = max(_close(name, _array(got, name, v.shape), numerical_gradient(loss, v),
                           TOLERANCE, "central differences")
                    for name, got, v in (("dx", dx, x), ("dgamma", dgamma, gamma),
                                         ("dbeta", dbeta, beta)))
        return f"dx, dgamma and dbeta match central differences (max relative error {worst:.1e})."
    return _check("BatchNormalization backward", body, verbose)


def check_batchnorm_inference(fn, verbose=True):
    """fn(x, gamma, beta, moving_mean, moving_variance, epsilon) -> y in inference mode."""
    from ..layers import BatchNormalization

    def body():
        rng = _rng(9)
        x = rng.normal(size=(6, 4)) * 3
        layer = BatchNormalization()
        layer.build((4,))
        weights = [rng.normal(size=4), rng.normal(size=4), rng.normal(size=4),
                   rng.random(size=4) + 0.5]
        layer.set_weights(weights)
        expected = K.to_numpy(layer.forward(x, training=False))
        got = _array(fn(x.copy(), *[w.copy() for w in weights], layer.epsilon), "y", x.shape)
        err = _close("y", got, expected, EXACT, "BatchNormalization in inference mode")
        return f"equals BatchNormalization(training=False) (relative error {err:.1e})."
    return _check("BatchNormalization at inference", body, verbose)


# ------------------------------------------------------------- lesson 7
def _quadratic_grad(w):
    """Gradient of f(w) = 0.5 (w1^2 + 10 w2^2) + w1 w2 / 2 (a tilted ravine)."""
    return np.array([w[0] + 0.5 * w[1], 10.0 * w[1] + 0.5 * w[0]])


def _trajectory_check(title, make_optimizer, step, verbose):
    def body():
        w_ref = np.array([-1.5, 1.0])
        opt = make_optimizer()
        w = w_ref.copy()
        state = None
        for t in range(1, 31):
            g = _quadratic_grad(w_ref)
            opt.update([w_ref], [g.copy()])
            w, state = step(w, _quadratic_grad(w), state, t)
            w = _array(w, f"w after step {t}", (2,))
            if relative_error(w, w_ref) > EXACT:
                raise _Wrong(f"after step {t} your w = {w} but {type(opt).__name__} gives "
                             f"{w_ref}")
        return f"30 steps identical to minidl's {type(opt).__name__} (to {EXACT:g})."
    return _check(title, body, verbose)


def check_nesterov_step(fn, verbose=True):
    """fn(w, g, v, lr, momentum) -> (w, v): one step of SGD(momentum, nesterov=True)."""
    from ..optimizers import SGD
    lr, mu = 0.05, 0.9

    def step(w, g, v, t):
        v = np.zeros_like(w) if v is None else v
        w_new, v_new = _tuple(fn(w.copy(), g, v.copy(), lr, mu), 2, "(w, v)")
        return w_new, _array(v_new, "v", w.shape)
    return _trajectory_check("Nesterov momentum step",
                             lambda: SGD(lr=lr, momentum=mu, nesterov=True), step, verbose)


def check_adam_step(fn, verbose=True):
    """fn(w, g, m, v, t, lr, beta_1, beta_2, epsilon) -> (w, m, v): Keras 2's Adam, step t."""
    from ..optimizers import Adam
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-7

    def step(w, g, state, t):
        m, v = (np.zeros_like(w), np.zeros_like(w)) if state is None else state
        w_new, m_new, v_new = _tuple(fn(w.copy(), g, m.copy(), v.copy(), t, lr, b1, b2, eps),
                                     3, "(w, m, v)")
        return w_new, (_array(m_new, "m", w.shape), _array(v_new, "v", w.shape))
    return _trajectory_check("Adam step", lambda: Adam(lr=lr, beta_1=b1, beta_2=b2, epsilon=eps),
                             step, verbose)


# ------------------------------------------------------------- lesson 8
def _mse_layers():
    from ..layers import Dense, Dropout
    return [Dense(16, activation="tanh", input_shape=(3,)), Dropout(0.2), Dense(2)]


def check_train_epoch_mse(fn, verbose=True):
    """fn(layers, optimizer, x, y, batch_size) trains one epoch as ``model.fit``
    with loss='mse' would; the weights must equal fit's (same seed)."""
    from ..models import Sequential
    from ..optimizers import SGD

    def body():
        rng = _rng(10)
        x = rng.normal(size=(50, 3))
        y = np.stack([np.sin(x[:, 0]) + x[:, 1], x[:, 2] ** 2], axis=1)
        K.seed(123)
        model = Sequential(_mse_layers())
        model.compile(optimizer=SGD(lr=0.05, momentum=0.9), loss="mse")
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
        expected = model.get_weights()
        K.seed(123)
        layers = _mse_layers()
        shape = (3,)
        for layer in layers:                       # built in fit's order: the same weights
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        fn(layers, SGD(lr=0.05, momentum=0.9), x.copy(), y.copy(), 16)
        got = [w for layer in layers for w in layer.get_weights()]
        worst = 0.0
        for layer_w, exp_w in zip(got, expected):
            err = relative_error(layer_w, exp_w)
            if err > EXACT:
                raise _Wrong(f"after one epoch your weights differ from fit's by {err:.2g} "
                             f"(relative); check the shuffling (backend.permutation, once per "
                             f"epoch), training=True, the MSE gradient 2 (p - t) / (N K), and "
                             f"one optimizer.update per batch")
            worst = max(worst, err)
        return (f"the weights after one epoch equal model.fit's (max relative difference "
                f"{worst:.1e}).")
    return _check("training epoch with MSE", body, verbose)


# ------------------------------------------------------------- lesson 9
def check_confusion_matrix(fn, verbose=True):
    """fn(y_true, y_pred, num_classes) -> counts (K, K), rows true, columns predicted."""
    from ..plotting import confusion_matrix

    def body():
        rng = _rng(11)
        y_true, y_pred = rng.integers(0, 4, 40), rng.integers(0, 4, 40)
        expected = confusion_matrix(y_true, y_pred, 4)
        got = _array(fn(y_true.copy(), y_pred.copy(), 4), "counts", expected.shape)
        if not np.array_equal(got, expected):
            hint = " (rows and columns swapped: rows are the true classes)" if np.array_equal(
                got, expected.T) else ""
            raise _Wrong(f"the counts differ from minidl.plotting.confusion_matrix{hint}")
        return "equals minidl.plotting.confusion_matrix."
    return _check("confusion matrix", body, verbose)


ALL_CHECKS = {
    "dense_tanh_backward": check_dense_tanh_backward,
    "leaky_relu_backward": check_leaky_relu_backward,
    "sigmoid_backward": check_sigmoid_backward,
    "log_softmax": check_log_softmax,
    "sigmoid_bce_gradient": check_sigmoid_bce_gradient,
    "im2col_simple": check_im2col,
    "conv_weight_grad": check_conv_weight_grad,
    "maxpool_backward": check_maxpool_backward,
    "avgpool_backward": check_avgpool_backward,
    "batchnorm_backward": check_batchnorm_backward,
    "batchnorm_inference": check_batchnorm_inference,
    "nesterov_step": check_nesterov_step,
    "adam_step": check_adam_step,
    "train_epoch_mse": check_train_epoch_mse,
    "confusion_matrix": check_confusion_matrix,
}
"""Exercise name (the name of the function it asks for, and of its model
answer in ``minidl.exercises.solutions``) -> its check."""
