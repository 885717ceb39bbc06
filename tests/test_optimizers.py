"""Optimizers: each update rule against Keras 2.2.4's formulas, written out here in
NumPy (keras/optimizers.py at tag 2.2.4), plus clipping, decay, state and names.
tests/test_keras_reference.py checks the same rules against tf.keras itself."""
import numpy as np
import pytest

from minidl import backend as K
from minidl import optimizers
from minidl.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop

EPS = 1e-7
STEPS = 6


def _data(seed=0, shape=(3, 4)):
    rng = np.random.default_rng(seed)
    scale = np.geomspace(3.0, 0.05, STEPS)[:, None, None]  # shrinking: AMSGrad's max matters
    return rng.standard_normal(shape), rng.standard_normal((STEPS,) + shape) * scale


def _run(opt, w0, grads):
    w = K.asarray(w0).copy()
    out = []
    for g in grads:
        opt.update([w], [K.asarray(g)])
        out.append(K.to_numpy(w).copy())
    return out


def keras_adagrad(w, grads, lr=0.01, decay=0.0):
    a, out = np.zeros_like(w), []
    for it, g in enumerate(grads):
        lr_t = lr / (1 + decay * it)
        a = a + g ** 2
        w = w - lr_t * g / (np.sqrt(a) + EPS)
        out.append(w)
    return out


def keras_adamax(w, grads, lr=0.002, b1=0.9, b2=0.999, decay=0.0):
    m, u, out = np.zeros_like(w), np.zeros_like(w), []
    for it, g in enumerate(grads):
        t = it + 1
        lr_t = lr / (1 + decay * it) / (1 - b1 ** t)
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g))
        w = w - lr_t * m / (u + EPS)
        out.append(w)
    return out


def keras_nadam(w, grads, lr=0.002, b1=0.9, b2=0.999, schedule_decay=0.004):
    m, v, m_schedule, out = np.zeros_like(w), np.zeros_like(w), 1.0, []
    for it, g in enumerate(grads):
        t = it + 1
        momentum_cache_t = b1 * (1 - 0.5 * 0.96 ** (t * schedule_decay))
        momentum_cache_t_1 = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * schedule_decay))
        m_schedule_new = m_schedule * momentum_cache_t
        m_schedule_next = m_schedule * momentum_cache_t * momentum_cache_t_1
        m_schedule = m_schedule_new
        g_prime = g / (1 - m_schedule_new)
        m = b1 * m + (1 - b1) * g
        m_t_prime = m / (1 - m_schedule_next)
        v = b2 * v + (1 - b2) * g ** 2
        v_t_prime = v / (1 - b2 ** t)
        m_t_bar = (1 - momentum_cache_t) * g_prime + momentum_cache_t_1 * m_t_prime
        w = w - lr * m_t_bar / (np.sqrt(v_t_prime) + EPS)
        out.append(w)
    return out


def keras_amsgrad(w, grads, lr=0.001, b1=0.9, b2=0.999, decay=0.0):
    m, v, vhat, out = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w), []
    for it, g in enumerate(grads):
        t = it + 1
        lr_t = lr / (1 + decay * it) * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        vhat = np.maximum(vhat, v)
        w = w - lr_t * m / (np.sqrt(vhat) + EPS)
        out.append(w)
    return out


@pytest.mark.parametrize("make,reference", [
    (lambda: Adagrad(), keras_adagrad),
    (lambda: Adagrad(lr=0.1, decay=0.3), lambda w, g: keras_adagrad(w, g, lr=0.1, decay=0.3)),
    (lambda: Adamax(), keras_adamax),
    (lambda: Adamax(lr=0.01, decay=0.3), lambda w, g: keras_adamax(w, g, lr=0.01, decay=0.3)),
    (lambda: Nadam(), keras_nadam),
    (lambda: Nadam(lr=0.01, schedule_decay=0.3),
     lambda w, g: keras_nadam(w, g, lr=0.01, schedule_decay=0.3)),
    (lambda: Adam(amsgrad=True), keras_amsgrad),
    (lambda: Adam(lr=0.01, amsgrad=True, decay=0.3),
     lambda w, g: keras_amsgrad(w, g, lr=0.01, decay=0.3)),
], ids=["adagrad", "adagrad_decay", "adamax", "adamax_decay", "nadam", "nadam_schedule",
        "amsgrad", "amsgrad_decay"])
def test_update_rule_matches_keras_2_2_4(xp, make, reference):
    w0, grads = _data()
    with K.floatx_scope("float64"):
        for step, (got, expected) in enumerate(zip(_run(make(), w0, grads), reference(w0, grads))):
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, err_msg=f"step {step + 1}")


def test_keras_2_2_4_defaults():
    assert (Adagrad().lr, Adagrad().epsilon) == (0.01, 1e-7)
    assert (Adamax().lr, Adamax().beta_1, Adamax().beta_2) == (0.002, 0.9, 0.999)
    assert (Nadam().lr, Nadam().schedule_decay, Nadam().epsilon) == (0.002, 0.004, 1e-7)
    assert Adam().amsgrad is False


ALL = [lambda **kw: SGD(lr=0.1, **kw), lambda **kw: SGD(lr=0.1, momentum=0.9, nesterov=True, **kw),
       lambda **kw: RMSprop(**kw), lambda **kw: Adagrad(**kw), lambda **kw: Adadelta(**kw),
       lambda **kw: Adam(**kw), lambda **kw: Adam(amsgrad=True, **kw), lambda **kw: Adamax(**kw),
       lambda **kw: Nadam(**kw)]
IDS = ["sgd", "nesterov", "rmsprop", "adagrad", "adadelta", "adam", "amsgrad", "adamax", "nadam"]


@pytest.mark.parametrize("make", ALL, ids=IDS)
def test_clipnorm_and_clipvalue_act_on_the_gradients_of_every_optimizer(xp, make):
    """Clipping inside the optimizer equals passing the clipped gradients (Keras 2.2.4
    get_gradients: one global norm for clipnorm; [-v, v] for clipvalue)."""
    w0, grads = _data(1)
    with K.floatx_scope("float64"):
        norm = np.sqrt((grads[0] ** 2).sum())
        by_norm = _run(make(clipnorm=1.0), w0, grads[:1])
        np.testing.assert_allclose(by_norm[0], _run(make(), w0, grads[:1] / norm)[0], rtol=1e-12)
        by_value = _run(make(clipvalue=0.5), w0, grads)
        np.testing.assert_allclose(by_value[-1], _run(make(), w0, np.clip(grads, -0.5, 0.5))[-1],
                                   rtol=1e-12)
        unclipped = _run(make(), w0, grads)  # 0 turns clipping off, as in Keras
        np.testing.assert_allclose(_run(make(clipnorm=0.0, clipvalue=0.0), w0, grads)[-1],
                                   unclipped[-1], rtol=0)


@pytest.mark.parametrize("make", ALL[:-1], ids=IDS[:-1])
def test_decay_is_keras_time_decay_for_every_optimizer_but_nadam(xp, make):
    """decay=d equals lr / (1 + d * iterations), set by hand before each step."""
    w0, grads = _data(2)
    with K.floatx_scope("float64"):
        decayed = _run(make(decay=0.5), w0, grads)
        by_hand = make()
        base = by_hand.lr
        w = K.asarray(w0).copy()
        for it, g in enumerate(grads):
            by_hand.lr = base / (1 + 0.5 * it)
            by_hand.update([w], [K.asarray(g)])
        np.testing.assert_allclose(K.to_numpy(w), decayed[-1], rtol=1e-12)


def test_nadam_refuses_a_learning_rate_decay():
    with pytest.raises(ValueError, match="Nadam: decay=0.01 is not supported.*schedule_decay"):
        Nadam(decay=0.01)


@pytest.mark.parametrize("make", ALL, ids=IDS)
def test_state_saved_midway_resumes_the_same_run(xp, make):
    w0, grads = _data(3)
    with K.floatx_scope("float64"):
        straight = _run(make(), w0, grads)[-1]
        first = make()
        w = _run(first, w0, grads[:3])[-1]
        state = first.get_state()
        assert set(state) == {"iterations", *first.slots}
        resumed = make()
        resumed.set_state(state)
        np.testing.assert_allclose(_run(resumed, w, grads[3:])[-1], straight, rtol=1e-12)


class _NoFloat64(np.ndarray):
    """A float32 array that fails on any ufunc touching float64 values."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        args = [np.asarray(a) if isinstance(a, _NoFloat64) else a for a in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(np.asarray(o) if isinstance(o, _NoFloat64) else o
                                  for o in kwargs["out"])
        result = getattr(ufunc, method)(*args, **kwargs)
        for a in list(args) + list(np.atleast_1d(result) if isinstance(result, np.ndarray) else []):
            if isinstance(a, (np.ndarray, np.generic)) and a.dtype == np.float64:
                raise AssertionError(f"float64 in {ufunc.__name__}")
        return result.view(_NoFloat64) if isinstance(result, np.ndarray) and result.shape else result


@pytest.mark.parametrize("make", ALL, ids=IDS)
def test_float32_steps_make_no_float64_temporaries(make):
    rng = np.random.default_rng(4)
    opt = make(decay=0.0) if make is not ALL[-1] else make()
    for _ in range(3):
        w = rng.standard_normal((3, 4)).astype(np.float32).view(_NoFloat64)
        g = rng.standard_normal((3, 4)).astype(np.float32).view(_NoFloat64)
        opt.update([w], [g], keys=["w"])
        assert w.dtype == np.float32


def test_lowercase_aliases_and_string_names():
    for alias, cls in [("sgd", SGD), ("rmsprop", RMSprop), ("adagrad", Adagrad),
                       ("adadelta", Adadelta), ("adam", Adam), ("adamax", Adamax), ("nadam", Nadam)]:
        assert getattr(optimizers, alias) is cls
        assert type(optimizers.get(alias)) is cls and type(optimizers.get(cls.__name__)) is cls
    assert optimizers.adam(lr=0.01).lr == 0.01 and optimizers.nadam(learning_rate=0.003).lr == 0.003


@pytest.mark.parametrize("make", ALL, ids=IDS)
def test_serialize_round_trip(make):
    opt = make(clipnorm=2.0)
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is type(opt) and again.get_config() == opt.get_config()
