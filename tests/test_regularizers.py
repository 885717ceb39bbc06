"""Weight penalties: ``kernel_regularizer=l2(0.01)`` adds 0.01 * sum(W^2) to the
loss the model trains on and reports, and 0.02 * W to dL/dW."""
import numpy as np
import pytest

from minidl import gradcheck, regularizers
from minidl.layers import Conv2D, Dense, Flatten
from minidl.models import Sequential, load_model
from minidl.regularizers import L1L2, l1, l1_l2, l2


def test_penalty_values_follow_keras_2_2_4():
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    assert float(l2(0.01)(w)) == pytest.approx(0.01 * 5.25)
    assert float(l1(0.1)(w)) == pytest.approx(0.1 * 3.5)
    assert float(l1_l2(0.1, 0.01)(w)) == pytest.approx(0.35 + 0.0525)
    np.testing.assert_allclose(l1_l2(0.1, 0.01).gradient(w), 0.1 * np.sign(w) + 0.02 * w)
    assert float(L1L2()(w)) == 0.0
    with pytest.raises(ValueError, match="l2 must be a number >= 0"):
        L1L2(l2=-1)


def _model(**regs):
    return Sequential([Conv2D(2, 3, activation="tanh", input_shape=(5, 5, 1), **regs),
                       Flatten(), Dense(3, activation="softmax", **regs)])


def test_the_reported_loss_includes_the_penalties(xp):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 5, 5, 1)).astype(np.float32), rng.integers(0, 3, 6)
    plain = _model()
    plain.compile("sgd", "sparse_categorical_crossentropy")
    penalized = _model(kernel_regularizer=l2(0.05), bias_regularizer="l1")
    penalized.compile("sgd", "sparse_categorical_crossentropy")
    penalized.set_weights(plain.get_weights())
    extra = sum(0.05 * (layer.get_weights()[0] ** 2).sum() + 0.01 * np.abs(layer.get_weights()[1]).sum()
                for layer in penalized.layers if layer.params)
    assert penalized.evaluate(x, y, verbose=0) == pytest.approx(
        plain.evaluate(x, y, verbose=0) + extra, rel=1e-5)


def test_gradients_include_the_penalties(xp):
    rng = np.random.default_rng(1)
    model = _model(kernel_regularizer=l1_l2(0.01, 0.1), bias_regularizer=l2(0.3))
    model.compile("sgd", "sparse_categorical_crossentropy")
    errors = gradcheck.check_model(model, rng.standard_normal((4, 5, 5, 1)), rng.integers(0, 3, 4))
    assert max(errors.values()) < 1e-6, errors


def test_regularizers_survive_save_and_load(tmp_path):
    model = _model(kernel_regularizer=l2(0.02))
    model.save(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    reg = again.layers[-1].kernel_regularizer
    assert isinstance(reg, regularizers.L1L2) and reg.l2 == 0.02


def test_activity_regularizer_is_refused_by_name():
    with pytest.raises(ValueError, match="activity_regularizer"):
        Dense(2, activity_regularizer=l2())
