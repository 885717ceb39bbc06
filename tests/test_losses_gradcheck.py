"""Losses: values by hand, gradients against central differences (float64)."""
import numpy as np
import pytest

from minidl import backend as K
from minidl import gradcheck, losses
from minidl.activations import softmax

TOL = 1e-6


def _probs(n=5, k=4, seed=0):
    z = np.random.default_rng(seed).standard_normal((n, k))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _np(a):
    return K.to_numpy(a)


def test_categorical_crossentropy_value_is_minus_log_of_the_true_class(xp):
    p = _probs()
    t = np.eye(4)[[0, 3, 1, 2, 2]]
    got = _np(losses.categorical_crossentropy(K.asarray(t), K.asarray(p)))
    np.testing.assert_allclose(got, -np.log(p[np.arange(5), [0, 3, 1, 2, 2]]), rtol=1e-12)


def test_sparse_labels_give_the_same_loss_as_one_hot(xp):
    p, labels = _probs(), np.array([0, 3, 1, 2, 2])
    sparse = losses.sparse_categorical_crossentropy
    for y in (labels, labels.reshape(-1, 1)):  # (n,) and (n, 1), as Keras accepts
        y = sparse.prepare_targets(K.asarray(y), (4,))
        np.testing.assert_allclose(_np(sparse(y, K.asarray(p))),
                                   _np(losses.categorical_crossentropy(K.asarray(np.eye(4)[labels]),
                                                                       K.asarray(p))), rtol=1e-12)


def test_mean_squared_error_value(xp):
    p, t = np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [1.0, 3.0]])
    np.testing.assert_allclose(_np(losses.mse(K.asarray(t), K.asarray(p))), [2.5, 5.0])


@pytest.mark.parametrize("name", ["categorical_crossentropy", "mean_squared_error"])
def test_loss_gradient(xp, name):
    y_true = np.eye(4)[[0, 3, 1, 2, 2]]
    assert gradcheck.check_loss(name, y_true, _probs())["y_pred"] <= TOL


def test_sparse_loss_gradient(xp):
    labels = K.asarray(np.array([0, 3, 1, 2, 2]))
    assert gradcheck.check_loss("sparse_categorical_crossentropy", labels, _probs())["y_pred"] <= TOL


@pytest.mark.parametrize("name", ["categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_fused_softmax_crossentropy_gradient_on_the_logits(xp, name):
    """(p - t) / N is d mean(CE(softmax(z))) / dz, checked numerically."""
    loss = losses.get(name)
    labels = np.array([0, 3, 1, 2, 2])
    y = K.asarray(np.eye(4)[labels] if name.startswith("categorical") else labels)
    z = K.asarray(np.random.default_rng(1).standard_normal((5, 4)) * 3)

    def mean_loss():
        return float(loss.from_logits(y, z).mean())

    numeric = gradcheck.numerical_gradient(mean_loss, z)
    analytic = loss.gradient_logits(y, softmax.forward(z))
    assert gradcheck.relative_error(analytic, numeric) <= TOL


def test_loss_from_logits_is_finite_for_huge_logits(xp):
    z = K.asarray(np.array([[1000.0, -1000.0, 0.0]]))
    value = float(losses.sparse_categorical_crossentropy.from_logits(K.asarray(np.array([1])), z)[0])
    assert value == pytest.approx(2000.0)  # no overflow, no clipping at -log(1e-7)


def test_probabilities_are_clipped_like_keras(xp):
    p = K.asarray(np.array([[1.0, 0.0]]))
    value = float(losses.categorical_crossentropy(K.asarray(np.array([[0.0, 1.0]])), p)[0])
    assert value == pytest.approx(-np.log(1e-7))
