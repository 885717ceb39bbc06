"""Every activation of minidl.activations: values, gradients, Keras names.

Values are compared with Keras itself: fixtures of kind 'activation'
(tf.keras 2.15, float64, made by tests/fixtures/make_keras_fixtures.py)
hold y = f(x) and d sum(f(x) r)/dx. Gradients are also checked by central
differences inside the layers that use activations: Activation, Dense and
Conv2D (``activation=``), on every backend.
"""
import glob
import json
import math
import os
import warnings

import numpy as np
import pytest

import minidl
from minidl import activations, gradcheck, initializers
from minidl import backend as K
from minidl.layers import Activation, Conv2D, Dense
from minidl.models import Sequential, load_model
from gradcheck_helpers import assert_gradients_ok

NAMES = ["linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign",
         "hard_sigmoid", "exponential", "swish", "gelu"]
CONFIGURED = {  # activations with settings, as Keras 2 functions take them
    "relu(alpha=0.25)": activations.ReLU(alpha=0.25),
    "relu(max_value=1.5, alpha=0.1, threshold=0.5)": activations.ReLU(0.1, 1.5, 0.5),
    "relu(alpha=0.2, threshold=-0.5)": activations.ReLU(alpha=0.2, threshold=-0.5),
    "relu(max_value=1, threshold=-0.5)": activations.ReLU(max_value=1.0, threshold=-0.5),
    "relu(alpha=-0.25)": activations.ReLU(alpha=-0.25),
    "relu(alpha=0.25, max_value=0)": activations.ReLU(alpha=0.25, max_value=0.0),
    "elu(alpha=0.5)": activations.ELU(0.5),
    "elu(alpha=-0.5)": activations.ELU(-0.5),
    "gelu(approximate=True)": activations.GELU(approximate=True),
}
HERE = os.path.join(os.path.dirname(__file__), "fixtures", "keras2")


def _x(shape=(4, 6), seed=0, scale=2.0):
    return scale * np.random.default_rng(seed).standard_normal(shape)



# ----------------------------------------------------------------- gradients
@pytest.mark.parametrize("name", NAMES)
def test_gradients_through_an_activation_layer(xp, name):
    assert_gradients_ok(gradcheck.check_layer(Activation(name), _x()))


@pytest.mark.parametrize("label", sorted(CONFIGURED))
def test_gradients_of_configured_activations(xp, label):
    assert_gradients_ok(gradcheck.check_layer(Activation(CONFIGURED[label]), _x(seed=1)))


def test_gradients_of_softmax_over_a_middle_axis(xp):
    layer = Activation(activations.Softmax(axis=1))
    assert_gradients_ok(gradcheck.check_layer(layer, _x((2, 3, 4))))


@pytest.mark.parametrize("name", NAMES)
def test_gradients_through_dense_with_activation(xp, name):
    errors = gradcheck.check_layer(Dense(5, activation=name), _x((4, 7), scale=1.0))
    assert set(errors) == {"input", "kernel", "bias"}
    assert_gradients_ok(errors)


@pytest.mark.parametrize("name", ["gelu", "swish", "selu"])
def test_gradients_through_conv2d_with_activation(xp, name):
    layer = Conv2D(3, 3, padding="same", activation=name)
    assert_gradients_ok(gradcheck.check_layer(layer, _x((2, 5, 4, 2), scale=1.0)))


def test_only_activations_needing_their_input_keep_it(xp):
    x = K.asarray(_x((4, 7)), dtype="float32")
    for name, keeps in [("relu", False), ("softmax", False), ("selu", False), ("gelu", True),
                        ("swish", True)]:
        dense = Dense(3, activation=name)
        dense.forward(x, training=True)
        assert (dense.z is not None) == keeps, name
        act = Activation(name)
        act.forward(x, training=True)
        assert (act.x is x) == keeps, name


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32(xp, name):
    act = activations.get(name)
    z = K.asarray(_x(), dtype="float32")
    y = act.forward(z)
    grad = act.backward(xp.ones_like(y), y, z if act.needs_input else None)
    assert (y.dtype, grad.dtype) == (np.float32, np.float32)


# ----------------------------------------------------------------- values
def _activation_fixtures():
    return [pytest.param(p, id=os.path.basename(p)[:-4])
            for p in sorted(glob.glob(os.path.join(HERE, "activation_fn_*.npz")))]


def _load(path):
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["config"])), {k: data[k] for k in data.files if k != "config"}


def test_every_new_activation_has_keras_fixtures():
    functions = {_load(p.values[0])[0]["function"] for p in _activation_fixtures()}
    assert functions >= {"elu", "selu", "softplus", "softsign", "hard_sigmoid", "exponential",
                         "swish", "gelu", "relu", "softmax"}


@pytest.mark.parametrize("path", _activation_fixtures())
def test_values_and_gradients_match_keras(xp, path):
    config, a = _load(path)
    assert config["kind"] == "activation"
    # TF 2.15's gelu rounds its constants sqrt(2) and 0.044715 through float32 even for
    # float64 input (nn_ops.py: math_ops.cast(<python float>, dtype)): 2e-8 off in the
    # argument, up to ~1e-6 in the tails; minidl computes the true gelu (and matches TF's
    # numbers to 1e-13 given TF's constants: test_gelu_is_keras_formula_...).
    rtol = 2e-6 if config["function"] == "gelu" else 1e-9
    fn, kwargs = getattr(activations, config["function"]), config["kwargs"]
    with K.floatx_scope("float64"):
        x = K.asarray(a["x"])
        np.testing.assert_allclose(K.to_numpy(fn(x, **kwargs)), a["y"], rtol=rtol, atol=1e-12)
        act = type(fn)(**kwargs) if kwargs else fn
        y = act.forward(x)
        grad = act.backward(K.asarray(a["r"]).copy(), y, x if act.needs_input else None)
        np.testing.assert_allclose(K.to_numpy(grad), a["grad_x"], rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_is_keras_formula_with_keras_float32_constants(xp, approximate):
    """Given TF's float32-rounded constants, minidl's erf and formula give TF's float64 numbers."""
    suffix = "approximateTrue" if approximate else "default"
    _, a = _load(os.path.join(HERE, f"activation_fn_gelu_{suffix}.npz"))
    with K.floatx_scope("float64"):
        x = K.asarray(a["x"])
        if approximate:
            c, k = math.sqrt(2 / math.pi), float(np.float32(0.044715))
            y = 0.5 * x * (1 + xp.tanh(c * (x + k * x ** 3)))
        else:
            y = 0.5 * x * activations._erfc(-x / float(np.float32(math.sqrt(2))))
        np.testing.assert_allclose(K.to_numpy(y), a["y"], rtol=1e-13, atol=1e-15)


def test_erfc_is_accurate_to_float64_precision(xp):
    t = np.linspace(-10, 10, 4001)
    expected = np.array([math.erfc(v) for v in t])
    got = K.to_numpy(activations._erfc(K.asarray(t, dtype="float64")))
    assert np.abs(got - expected).max() <= 2e-15
    tail = t > 2  # small values: relative accuracy holds too
    assert (np.abs(got - expected)[tail] / expected[tail]).max() <= 5e-13


def test_normal_cdf_is_accurate_in_the_lower_tail(xp):
    z = np.linspace(-30, -3, 271)
    expected = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in z])
    got = K.to_numpy(activations._normal_cdf(K.asarray(z, dtype="float64")))
    assert (np.abs(got - expected) / expected).max() <= 5e-13


def test_keras2_formulas_at_chosen_points():
    x = np.array([-3.0, -2.5, -1.0, 0.0, 0.5, 1.0, 2.5, 3.0])
    selu_alpha, selu_scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    expected = {
        "hard_sigmoid": np.clip(0.2 * x + 0.5, 0, 1),         # Keras 2 slope 0.2
        "elu": np.where(x > 0, x, np.expm1(x)),
        "selu": selu_scale * np.where(x > 0, x, selu_alpha * np.expm1(x)),
        "softplus": np.log1p(np.exp(x)),
        "softsign": x / (1 + np.abs(x)),
        "exponential": np.exp(x),
        "swish": x / (1 + np.exp(-x)),
        "gelu": np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x]),
    }
    for name, want in expected.items():
        np.testing.assert_allclose(getattr(activations, name)(x), want, rtol=1e-14, atol=1e-15,
                                   err_msg=name)


def test_no_overflow_for_large_inputs():
    x = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for name in ["sigmoid", "tanh", "elu", "selu", "softplus", "softsign", "hard_sigmoid",
                     "swish", "gelu"]:
            y = getattr(activations, name)(x)
            assert np.isfinite(y).all(), name
    assert activations.softplus(x)[-1] == 1000.0 and activations.gelu(x)[0] == 0.0


def test_relu_keyword_form_follows_keras_2_2_4():
    x = np.array([-2.0, -0.25, 0.25, 1.0, 2.0, 7.0])
    # Keras 2.2.4 backend.relu: max_value for x >= max_value, x for threshold <= x < max_value,
    # alpha * (x - threshold) otherwise
    np.testing.assert_allclose(activations.relu(x, alpha=0.1, max_value=1.5, threshold=0.5),
                               [-0.25, -0.075, -0.025, 1.0, 1.5, 1.5])
    np.testing.assert_allclose(activations.relu(x, 0.25), np.where(x > 0, x, 0.25 * x))
    np.testing.assert_allclose(activations.relu(x, max_value=6.0), np.clip(x, 0, 6))
    # a negative threshold keeps (threshold, 0) unless max_value clips at 0 (as Keras does)
    np.testing.assert_allclose(activations.relu(x, threshold=-0.5), [0, -0.25, .25, 1, 2, 7])
    np.testing.assert_allclose(activations.relu(x, max_value=1, threshold=-0.5),
                               [0, 0, .25, 1, 1, 1])
    assert activations.relu is activations.get("relu")  # the shared, unconfigured one


def test_other_keyword_forms():
    x = _x((3, 4))
    np.testing.assert_allclose(activations.softmax(x, axis=0).sum(axis=0), np.ones(4))
    np.testing.assert_allclose(activations.elu(x, 0.5), np.where(x > 0, x, 0.5 * np.expm1(x)))
    c = math.sqrt(2 / math.pi)
    np.testing.assert_allclose(activations.gelu(x, approximate=True),
                               0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x ** 3))))


# ----------------------------------------------------------------- names
def test_every_name_works_in_dense_and_activation_and_survives_save_load(tmp_path):
    minidl.seed(0)
    stack = [Dense(6, input_shape=(5,))]
    for i, name in enumerate(n for n in NAMES if n != "softmax"):
        stack.append(Dense(6, activation=name) if i % 2 else Activation(name))
    model = Sequential(stack + [Dense(3, activation="softmax")])
    model.compile("sgd", loss="categorical_crossentropy")
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32) * 0.3
    model.save(tmp_path / "m.npz")
    restored = load_model(tmp_path / "m.npz")
    assert [layer.activation.name for layer in restored.layers] == \
        [layer.activation.name for layer in model.layers]
    np.testing.assert_allclose(restored.predict(x), model.predict(x), rtol=1e-6)


def test_configured_activation_has_no_name_to_save_under():
    layer = Dense(3, activation=activations.ReLU(alpha=0.1), input_shape=(2,))
    with pytest.raises(ValueError, match=r"layers\.ReLU"):
        layer.get_config()
    with pytest.raises(ValueError, match=r"layers\.ReLU"):
        Activation(activations.Softmax(axis=1)).get_config()


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="gelu.*hard_sigmoid|hard_sigmoid.*gelu"):
        activations.get("mish")


def test_bad_activation_settings_are_refused():
    with pytest.raises(TypeError, match="relu: alpha"):
        activations.relu(np.ones(2), alpha="0.1")
    with pytest.raises(TypeError, match="approximate"):
        activations.GELU(approximate="yes")
    with pytest.raises(TypeError, match="softmax: axis"):
        activations.Softmax(axis=1.5)


# ----------------------------------------------------------------- lecun initializers
def test_lecun_normal_is_keras_truncated_normal_of_variance_1_over_fan_in():
    w = initializers.get("lecun_normal")((400, 300), dtype="float64")
    assert abs(w.std() - math.sqrt(1 / 400)) < 0.03 * math.sqrt(1 / 400)
    # Keras 2.2.4: truncated at 2 standard deviations of the untruncated normal
    assert np.abs(w).max() <= 2 * math.sqrt(1 / 400) / 0.87962566103423978
    assert initializers.LecunNormal is initializers.lecun_normal


def test_lecun_uniform_is_keras_uniform_of_variance_1_over_fan_in():
    w = initializers.get("lecun_uniform")((3, 3, 20, 50), dtype="float64")  # fan_in = 180
    limit = math.sqrt(3 / 180)
    assert np.abs(w).max() <= limit
    assert abs(w.var() - 1 / 180) < 0.05 / 180


def test_selu_with_lecun_normal_keeps_activations_normalized():
    """What selu is for: mean ~0 and variance ~1 survive a deep stack."""
    minidl.seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stack = [Dense(256, activation="selu", kernel_initializer="lecun_normal", use_bias=False)
                 for _ in range(8)]
    x = K.asarray(np.random.default_rng(0).standard_normal((2000, 256)).astype(np.float32))
    for layer in stack:
        x = layer.forward(x)
    x = K.to_numpy(x)
    assert abs(float(x.mean())) < 0.1 and abs(float(x.var()) - 1) < 0.15
