"""Metrics: batch sums on the device, Keras's choice of accuracy, Keras's history keys."""
import numpy as np
import pytest

from minidl import backend as K
from minidl import losses, metrics
from minidl.layers import Dense
from minidl.models import Sequential


def _np(a):
    """A metric function's per-sample values (Keras 2's (N,)), added up: the batch sum."""
    return float(K.to_numpy(a).sum())


def _a(values):
    return K.asarray(np.array(values, dtype=float))


# ------------------------------------------------------------------ the functions: per sample
def test_categorical_and_sparse_accuracy(xp):
    p = _a([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    np.testing.assert_array_equal(                      # one value per sample, as Keras 2
        K.to_numpy(metrics.categorical_accuracy(_a(np.eye(3)[[1, 1, 2]]), p)), [1, 0, 1])
    assert _np(metrics.categorical_accuracy(_a(np.eye(3)[[1, 1, 2]]), p)) == 2
    assert _np(metrics.sparse_categorical_accuracy(K.asarray(np.array([1, 1, 2])), p)) == 2
    assert _np(metrics.sparse_categorical_accuracy(K.asarray(np.array([[1], [0], [2]])), p)) == 3


def test_binary_accuracy_rounds_like_keras_2_2_4(xp):
    """K.round: half to even, so 0.5 counts as 0; outputs above 1.5 round to 2 and miss."""
    t = _a([[1, 0], [1, 1], [0, 1]])
    p = _a([[0.9, 0.5], [0.51, 0.2], [0.1, 1.6]])
    assert _np(metrics.binary_accuracy(t, p)) == pytest.approx(1.0 + 0.5 + 0.5)
    # tf.keras's BinaryAccuracy thresholds instead: 1.6 > 0.5 is a hit
    assert _np(metrics.BinaryAccuracy()(t, p)) == pytest.approx(1.0 + 0.5 + 1.0)


def test_binary_accuracy_with_flat_labels_and_one_unit(xp):
    t, p = _a([1, 0, 1]), _a([[0.8], [0.3], [0.2]])  # (N,) against (N, 1): not an (N, N) table
    assert _np(metrics.binary_accuracy(t, p)) == 2


def test_top_k_counts_ties_at_the_boundary_as_tensorflow_does(xp):
    p = _a([[0.1, 0.3, 0.3, 0.3], [0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4]])
    labels = K.asarray(np.array([1, 2, 0]))
    # row 0: no score above 0.3 (ties are in); row 1: two above; row 2: three above
    assert _np(metrics.sparse_top_k_categorical_accuracy(labels, p, k=1)) == 1
    assert _np(metrics.sparse_top_k_categorical_accuracy(labels, p, k=3)) == 2
    assert _np(metrics.top_k_categorical_accuracy(_a(np.eye(4)[[1, 2, 0]]), p, k=3)) == 2
    assert _np(metrics.sparse_top_k_categorical_accuracy(labels, p)) == 3  # k=5 default


def test_a_loss_as_metric_is_the_sum_of_its_per_sample_values(xp):
    t, p = _a([[1.0, 2.0], [0.0, 0.0]]), _a([[1.5, 2.0], [1.0, -1.0]])
    m = metrics.get("mae", losses.mse, (2,))
    assert m.key == "mae" and _np(m(t, p)) == pytest.approx(0.25 + 1.0)


# ------------------------------------------------------------------ 'accuracy' follows the loss
@pytest.mark.parametrize("loss,shape,expected", [
    ("binary_crossentropy", (3,), metrics.binary_accuracy),
    (losses.BinaryCrossentropy(), (3,), metrics.binary_accuracy),
    ("sparse_categorical_crossentropy", (3,), metrics.sparse_categorical_accuracy),
    (losses.SparseCategoricalCrossentropy(from_logits=True), (3,), metrics.sparse_categorical_accuracy),
    ("categorical_crossentropy", (3,), metrics.categorical_accuracy),
    ("mse", (3,), metrics.categorical_accuracy),
    ("mse", (1,), metrics.binary_accuracy),                 # one unit: binary, whatever the loss
    ("sparse_categorical_crossentropy", (1,), metrics.binary_accuracy),
])
def test_accuracy_is_chosen_from_the_loss_as_keras_2_2_4(loss, shape, expected):
    for name in ("accuracy", "acc"):
        m = metrics.get(name, losses.get(loss), shape)
        assert m.fn is metrics._SUMMED[expected.__name__]
        assert (m.key, m.aliases) == ("accuracy", ("acc",))


def _fit(loss, y, metric_list, units=1, activation="sigmoid"):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 3)).astype(np.float32)
    model = Sequential([Dense(units, activation=activation, input_shape=(3,))])
    model.compile("sgd", loss=loss, metrics=metric_list)
    return model, model.fit(x, y, batch_size=8, epochs=1, verbose=0).history


def test_metrics_as_a_bare_string():
    y = np.arange(24) % 2
    model, history = _fit("binary_crossentropy", y, "accuracy")
    assert model.metrics_names == ["loss", "accuracy"]
    assert set(history) == {"loss", "accuracy", "acc"}


def test_history_keys_are_the_strings_passed_as_keras_2_3():
    y = (np.arange(24) % 2).astype(float)
    model, history = _fit("mse", y, ["mae", "mean_absolute_error", "binary_accuracy", "mse"])
    assert model.metrics_names == ["loss", "mae", "mean_absolute_error", "binary_accuracy", "mse"]
    assert history["mae"] == history["mean_absolute_error"]
    assert history["mse"][0] == pytest.approx(history["loss"][0], rel=1e-6)  # the loss itself


def test_tf_keras_metric_objects_and_functions_in_compile():
    y = np.arange(24) % 3
    model, history = _fit("sparse_categorical_crossentropy", y,
                          [metrics.SparseCategoricalAccuracy(), metrics.SparseTopKCategoricalAccuracy(k=2),
                           metrics.sparse_categorical_accuracy],
                          units=3, activation="softmax")
    assert model.metrics_names == ["loss", "sparse_categorical_accuracy",
                                   "sparse_top_k_categorical_accuracy", "sparse_categorical_accuracy"]
    assert 0 <= history["sparse_top_k_categorical_accuracy"][0] <= 1


def test_custom_metric_functions_are_averaged_like_keras():
    def mean_prediction(y_true, y_pred):
        return y_pred.mean(axis=-1)  # per-sample scores, written with array methods
    rng = np.random.default_rng(1)
    x = rng.standard_normal((10, 3)).astype(np.float32)
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile("sgd", loss="binary_crossentropy", metrics=[mean_prediction])
    loss, score = model.evaluate(x, np.zeros(10), batch_size=4, verbose=0)
    assert score == pytest.approx(float(model.predict(x).mean()), rel=1e-5)


def test_metric_entries_serialize_to_json_and_back():
    for entry in ("acc", "mae", metrics.TopKCategoricalAccuracy(k=3), metrics.BinaryAccuracy(threshold=0.7),
                  metrics.categorical_accuracy, losses.hinge):
        m = metrics.get(metrics.serialize(entry), losses.mse, (4,))
        original = metrics.get(entry, losses.mse, (4,))
        assert m.key == original.key and m.get_config() == original.get_config()


def test_unknown_metric_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown metric 'acuracy'.*'accuracy'.*'top_k_categorical_accuracy'"):
        metrics.get("acuracy", losses.mse, (3,))


def test_a_custom_metric_may_return_a_python_number():
    model, history = _fit("mse", np.zeros(24), [lambda y_true, y_pred: 0.25])
    assert history["<lambda>"] == [0.25]


def test_loss_and_metric_objects_survive_save_and_load(tmp_path):
    from minidl.models import load_model
    model = Sequential([Dense(3, input_shape=(4,))])
    model.compile("adam", loss=losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["acc", metrics.SparseTopKCategoricalAccuracy(k=2)])
    model.fit(np.random.default_rng(2).random((8, 4)), np.arange(8) % 3, verbose=0)
    model.save(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    assert again.loss.get_config() == {"from_logits": True}  # still trains on logits
    assert again.metrics_names == model.metrics_names and again.metrics[1].k == 2


def test_sparse_crossentropy_as_a_metric_and_float_labels(xp):
    """'crossentropy' with sparse labels, and the Keras function on float labels."""
    p = _a([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    labels = K.asarray(np.array([0.0, 2.0]))
    expected = -np.log(0.7) - np.log(0.8)
    for name in ("crossentropy", "ce", "sparse_categorical_crossentropy"):
        m = metrics.get(name, losses.sparse_categorical_crossentropy, (3,))
        assert _np(m(labels, p)) == pytest.approx(expected)
    assert _np(losses.sparse_categorical_crossentropy(labels, p)) == pytest.approx(expected)
