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


# ------------------------------------------------------------------ labels with NaN or inf (bug 4)
@pytest.mark.parametrize("bad,word", [(np.nan, "NaN"), (np.inf, "infinite")])
def test_nan_or_inf_labels_are_named_as_such(xp, bad, word):
    labels = np.array([0.0, 2.0, bad, 1.0])
    with pytest.raises(ValueError, match=rf"sparse_categorical_crossentropy: labels .* 1 {word} value"):
        losses.sparse_categorical_crossentropy.prepare_targets(K.asarray(labels), (3,))


def test_nan_in_float_targets_is_named(xp):
    y = np.zeros((4, 2))
    y[1, 1] = np.nan
    y[2, 0] = -np.inf
    with pytest.raises(ValueError, match="mean_absolute_error: targets contain 1 NaN and 1 infinite"):
        losses.mae.prepare_targets(K.asarray(y), (2,))


# ------------------------------------------------------------------ every loss, gradient-checked
def _rng(seed):
    return np.random.default_rng(seed)


def _case(name, n=5, k=4, seed=0):
    """(y_true, y_pred) in each loss's domain, away from its kinks and clips."""
    rng = _rng(seed)
    one_hot = np.eye(k)[rng.integers(0, k, n)]
    normal = rng.standard_normal((n, k))
    return {
        "categorical_crossentropy": (one_hot, _probs(n, k)),
        "binary_crossentropy": (rng.uniform(0, 1, (n, k)).round(1), rng.uniform(0.05, 0.95, (n, k))),
        "mean_squared_error": (normal, rng.standard_normal((n, k))),
        "mean_absolute_error": (normal, rng.standard_normal((n, k))),
        "mean_absolute_percentage_error": (normal, rng.standard_normal((n, k))),
        "mean_squared_logarithmic_error": (rng.uniform(0, 3, (n, k)), rng.uniform(-0.5, 3, (n, k))),
        "logcosh": (normal, 3 * rng.standard_normal((n, k))),
        "hinge": (rng.choice([-1.0, 1.0], (n, k)), 1.5 * normal),
        "squared_hinge": (rng.choice([-1.0, 1.0], (n, k)), 1.5 * normal),
        "categorical_hinge": (one_hot, 0.5 * normal),
        "kullback_leibler_divergence": (_probs(n, k, seed + 1), _probs(n, k, seed + 2)),
        "poisson": (rng.poisson(2.0, (n, k)).astype(float), rng.uniform(0.1, 4, (n, k))),
        "cosine_proximity": (normal, rng.standard_normal((n, k))),
    }[name]


ALL_LOSSES = ["categorical_crossentropy", "binary_crossentropy", "mean_squared_error",
              "mean_absolute_error", "mean_absolute_percentage_error",
              "mean_squared_logarithmic_error", "logcosh", "hinge", "squared_hinge",
              "categorical_hinge", "kullback_leibler_divergence", "poisson", "cosine_proximity"]


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_every_loss_gradient(xp, name):
    y_true, y_pred = _case(name)
    assert gradcheck.check_loss(name, K.asarray(y_true), y_pred)["y_pred"] <= TOL


@pytest.mark.parametrize("loss", [
    losses.CategoricalCrossentropy(from_logits=True),
    losses.CategoricalCrossentropy(label_smoothing=0.2),
    losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
    losses.BinaryCrossentropy(from_logits=True),
    losses.BinaryCrossentropy(label_smoothing=0.3),
    losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.3),
], ids=repr)
def test_tf_keras_loss_objects_gradient(xp, loss):
    y_true = np.eye(4)[[0, 3, 1, 2, 2]]
    y_pred = 3 * _rng(4).standard_normal((5, 4)) if loss._logits_in else _probs()
    assert gradcheck.check_loss(loss, K.asarray(y_true), y_pred)["y_pred"] <= TOL


def test_sparse_crossentropy_from_logits_gradient(xp):
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    labels = K.asarray(np.array([0, 3, 1, 2, 2]))
    assert gradcheck.check_loss(loss, labels, 3 * _rng(5).standard_normal((5, 4)))["y_pred"] <= TOL


def test_clipped_probabilities_have_zero_gradient(xp):
    """Where Keras clips p to [eps, 1 - eps], nothing flows back (TF's clip gradient)."""
    p = K.asarray(np.array([[1e-9, 0.5, 1 - 1e-9]]))
    t = K.asarray(np.array([[1.0, 1.0, 0.0]]))
    grad = _np(losses.binary_crossentropy.gradient(t, p))
    assert grad[0, 0] == 0 and grad[0, 2] == 0 and grad[0, 1] != 0


# ------------------------------------------------------------------ values by Keras 2.2.4's formulas
def test_loss_values_follow_keras_2_2_4_formulas(xp):
    t = np.array([[1.0, -1.0, 2.0], [0.5, 0.0, -3.0]])
    p = np.array([[0.5, 0.5, 1.0], [1.0, 2.0, -1.0]])
    eps = 1e-7

    def value(name):
        return _np(losses.get(name)(K.asarray(t), K.asarray(p)))

    np.testing.assert_allclose(value("mae"), np.abs(p - t).mean(-1))
    np.testing.assert_allclose(value("mape"), 100 * (np.abs(t - p) / np.maximum(np.abs(t), eps)).mean(-1))
    np.testing.assert_allclose(value("msle"), ((np.log(np.maximum(p, eps) + 1)
                                                - np.log(np.maximum(t, eps) + 1)) ** 2).mean(-1))
    np.testing.assert_allclose(value("hinge"), np.maximum(1 - t * p, 0).mean(-1))
    np.testing.assert_allclose(value("squared_hinge"), (np.maximum(1 - t * p, 0) ** 2).mean(-1))
    np.testing.assert_allclose(value("logcosh"), np.log(np.cosh(p - t)).mean(-1))
    rate = np.abs(p)
    np.testing.assert_allclose(_np(losses.poisson(K.asarray(t), K.asarray(rate))),
                               (rate - t * np.log(rate + eps)).mean(-1))
    unit = lambda a: a / np.linalg.norm(a, axis=-1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(value("cosine"), -(unit(t) * unit(p)).sum(-1))
    tc, pc = np.clip(t, eps, 1), np.clip(p, eps, 1)
    np.testing.assert_allclose(value("kld"), (tc * np.log(tc / pc)).sum(-1))
    neg, pos = ((1 - t) * p).max(-1), (t * p).sum(-1)
    np.testing.assert_allclose(value("categorical_hinge"), np.maximum(neg - pos + 1, 0))


def test_hinge_uses_0_1_labels_as_given_like_keras_2_2_4(xp):
    """tf.keras 2.x would turn 0/1 labels into -1/1 first; Keras 2.2.4 does not."""
    t, p = K.asarray(np.array([[0.0, 1.0]])), K.asarray(np.array([[0.3, 0.3]]))
    assert float(losses.hinge(t, p)[0]) == pytest.approx((1.0 + 0.7) / 2)


def test_binary_crossentropy_value_and_clipping(xp):
    t, p = np.array([[1.0, 0.0, 1.0]]), np.array([[0.8, 0.3, 0.0]])
    expected = -np.mean([np.log(0.8), np.log(0.7), np.log(1e-7)])
    assert float(losses.binary_crossentropy(K.asarray(t), K.asarray(p))[0]) == pytest.approx(expected)


def test_label_smoothing_moves_targets_toward_uniform(xp):
    t, p = np.array([[0.0, 1.0, 0.0, 0.0]]), _probs(1, 4)
    smoothed = t * 0.8 + 0.2 / 4
    got = losses.CategoricalCrossentropy(label_smoothing=0.2)(K.asarray(t), K.asarray(p))
    np.testing.assert_allclose(_np(got), -(smoothed * np.log(p)).sum(-1), rtol=1e-12)
    tb, pb = np.array([[1.0, 0.0]]), np.array([[0.7, 0.4]])
    sb = tb * 0.6 + 0.2
    got = losses.BinaryCrossentropy(label_smoothing=0.4)(K.asarray(tb), K.asarray(pb))
    expected = -(sb * np.log(pb) + (1 - sb) * np.log(1 - pb)).mean(-1)
    np.testing.assert_allclose(_np(got), expected, rtol=1e-12)


def test_from_logits_objects_equal_the_loss_of_the_activation(xp):
    z = 2 * _rng(6).standard_normal((5, 4))
    t = np.eye(4)[[0, 3, 1, 2, 2]]
    np.testing.assert_allclose(
        _np(losses.CategoricalCrossentropy(from_logits=True).per_sample(K.asarray(t), K.asarray(z))),
        _np(losses.categorical_crossentropy(K.asarray(t), softmax.forward(K.asarray(z)))),
        rtol=1e-10)
    sig = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(
        _np(losses.BinaryCrossentropy(from_logits=True).per_sample(K.asarray(t), K.asarray(z))),
        _np(losses.binary_crossentropy(K.asarray(t), K.asarray(sig))), rtol=1e-10)
    assert losses.CategoricalCrossentropy(from_logits=True).fuses_with is None  # no softmax to fuse


# ------------------------------------------------------------------ sigmoid + binary cross-entropy
def test_fused_sigmoid_binary_crossentropy_gradient_on_the_logits(xp):
    """(p - t) / (N D) is d mean(BCE(sigmoid(z))) / dz, checked numerically."""
    loss = losses.binary_crossentropy
    y = K.asarray(_rng(7).integers(0, 2, (5, 3)).astype(float))
    z = K.asarray(_rng(8).standard_normal((5, 3)) * 3)
    numeric = gradcheck.numerical_gradient(lambda: float(loss.from_logits(y, z).mean()), z)
    analytic = loss.gradient_logits(y, 1 / (1 + xp.exp(-z)))
    assert gradcheck.relative_error(analytic, numeric) <= TOL


def test_binary_crossentropy_from_logits_is_finite_for_huge_logits(xp):
    z = K.asarray(np.array([[1000.0, -1000.0]]))
    value = float(losses.binary_crossentropy.from_logits(K.asarray(np.array([[0.0, 1.0]])), z)[0])
    assert value == pytest.approx(1000.0)  # mean of 1000 and 1000: no overflow, no clip at 16.1


@pytest.mark.parametrize("units,labels_shape", [(1, (6,)), (1, (6, 1)), (3, (6, 3))])
def test_sigmoid_model_with_binary_crossentropy_gradients(xp, units, labels_shape):
    from minidl.layers import Dense
    from minidl.models import Sequential
    model = Sequential([Dense(4, activation="tanh", input_shape=(5,)),
                        Dense(units, activation="sigmoid")])
    model.compile("sgd", loss="binary_crossentropy")
    assert model._fuses_output()
    rng = _rng(9)
    x, y = rng.standard_normal((6, 5)), rng.integers(0, 2, labels_shape)
    errors = gradcheck.check_model(model, x, y)
    assert max(errors.values()) <= TOL, errors


# ------------------------------------------------------------------ names, objects, errors
def test_keras_names_and_aliases_are_the_same_loss():
    assert losses.mse is losses.MSE is losses.mean_squared_error is losses.get("mse")
    assert losses.mae is losses.get("MAE") and losses.mape is losses.get("mape")
    assert losses.msle is losses.get("MSLE") and losses.kld is losses.KLD is losses.get("kld")
    assert losses.cosine is losses.cosine_proximity is losses.get("cosine_similarity")
    assert isinstance(losses.get("Hinge"), losses.Hinge)  # tf.keras class names too


def test_loss_functions_are_callable_like_keras(xp):
    t, p = K.asarray(np.array([[1.0, -1.0]])), K.asarray(np.array([[0.5, 0.5]]))
    assert _np(losses.hinge(t, p)).shape == (1,)


def test_loss_objects_round_trip_through_serialize():
    for loss in (losses.hinge, losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
                 losses.SparseCategoricalCrossentropy(from_logits=True),
                 losses.BinaryCrossentropy(label_smoothing=0.2)):
        again = losses.get(losses.serialize(loss))
        assert type(again) is type(loss) and again.get_config() == loss.get_config()
    assert losses.serialize(losses.categorical_crossentropy) == "categorical_crossentropy"


def test_plain_functions_cannot_be_losses():
    def my_loss(y_true, y_pred):
        return ((y_true - y_pred) ** 2).mean(axis=-1)
    with pytest.raises(ValueError, match="my_loss.*subclass of minidl.losses.Loss.*gradient"):
        losses.get(my_loss)


def test_bad_loss_arguments():
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        losses.CategoricalCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction='sum' is not supported"):
        losses.MeanSquaredError(reduction="sum")


def test_targets_that_do_not_fit_the_output():
    with pytest.raises(ValueError, match=r"binary_crossentropy: expected targets of shape \(4, 3\), "
                                         r"received \(4,\).*sparse_categorical"):
        losses.binary_crossentropy.prepare_targets(np.zeros(4), (3,))
    assert losses.binary_crossentropy.prepare_targets(np.zeros(4), (1,)).shape == (4, 1)
    with pytest.raises(ValueError, match=r"hinge: y_true has shape \(4,\) and y_pred \(4, 1\)"):
        losses.hinge(np.zeros(4), np.zeros((4, 1)))


@pytest.mark.parametrize("name", sorted(losses._BY_NAME))
def test_every_loss_name_trains_in_compile(name):
    from minidl.layers import Dense
    from minidl.models import Sequential
    from minidl.optimizers import Adam
    loss = losses.get(name)
    base = "categorical_crossentropy" if isinstance(loss, losses.SparseCategoricalCrossentropy) \
        else loss.name
    y_true, _ = _case(base, n=8, k=3)
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        y_true = y_true.argmax(axis=-1)
    activation = {"categorical_crossentropy": "softmax", "kullback_leibler_divergence": "softmax",
                  "binary_crossentropy": "sigmoid", "poisson": "sigmoid"}.get(base, "linear")
    model = Sequential([Dense(3, activation=activation, input_shape=(4,))])
    model.compile(Adam(lr=0.01), loss=name)  # steps of about lr, whatever the gradient's scale
    x = _rng(10).standard_normal((8, 4))
    before = model.evaluate(x, y_true, verbose=0)
    for _ in range(3):
        model.train_on_batch(x, y_true)
    assert np.isfinite(before) and model.evaluate(x, y_true, verbose=0) < before


def test_keras_2_functions_give_per_sample_values_and_tf_keras_objects_their_mean(xp):
    """losses.categorical_crossentropy(t, p) is Keras 2's function: one value per
    sample. losses.CategoricalCrossentropy()(t, p) is tf.keras's object: the
    batch mean. Either takes NumPy targets beside predictions on the device."""
    t, p = np.eye(3)[[0, 2, 1]], _probs(3, 3)
    per_sample = losses.categorical_crossentropy(t, K.asarray(p))
    assert _np(per_sample).shape == (3,)
    mean = losses.CategoricalCrossentropy()(t, K.asarray(p))
    assert _np(mean).shape == () and float(mean) == pytest.approx(float(_np(per_sample).mean()))
    labels = np.array([0, 2, 1])
    assert float(losses.SparseCategoricalCrossentropy()(labels, K.asarray(p))) == \
        pytest.approx(float(mean))
