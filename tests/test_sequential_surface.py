"""The Sequential surface that Keras tutorials use beyond the studies.

tf.keras style imports (``minidl.Sequential``, ``minidl.Input``), an input
declared up front, freezing layers, stopping from a callback, the small
``*_on_batch`` methods, saving under a Keras file name, and the inputs people
really pass (lists, float64, labels shaped (N, 1), channels-first data).
"""
import warnings

import numpy as np
import pytest

import minidl
from minidl import backend as K
from minidl.callbacks import Callback
from minidl.layers import Conv2D, Dense, Flatten, Input, InputLayer, MaxPooling2D
from minidl.models import Sequential, load_model


def blobs(n=120, d=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centers = rng.standard_normal((classes, d)) * 3
    return (centers[y] + rng.standard_normal((n, d))).astype(np.float32), y


def _summary(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


# ------------------------------------------------------------------ tf.keras names
def test_tf_keras_style_names_are_attributes_of_minidl():
    assert minidl.Sequential is Sequential and minidl.Input is Input
    assert minidl.layers.Dense is Dense and issubclass(minidl.Model, Sequential)
    model = minidl.Sequential([minidl.layers.Dense(2, input_dim=3)])
    assert model.input_shape == (None, 3)


@pytest.mark.parametrize("first", [lambda: Input(shape=(4,)), lambda: InputLayer(input_shape=(4,)),
                                   lambda: Input(batch_shape=(None, 4))],
                         ids=["Input", "InputLayer", "batch_shape"])
def test_an_input_first_fixes_the_shape_and_is_not_a_layer(first):
    """Keras 2.2.4 lists no InputLayer in Sequential.layers; it only sets the input shape."""
    model = Sequential([first(), Dense(3, activation="softmax")])
    assert model.built and model.input_shape == (None, 4) and len(model.layers) == 1
    assert model.count_params() == 4 * 3 + 3


def test_an_input_model_saves_and_loads(tmp_path):
    model = Sequential([Input(shape=(4,)), Dense(3, activation="softmax")])
    model.save(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    assert again.input_shape == (None, 4)
    x = np.ones((2, 4), np.float32)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


def test_the_functional_api_and_subclassing_say_they_are_not_supported():
    inputs = Input(shape=(4,))
    with pytest.raises(TypeError, match="Sequential models only"):
        Dense(3)(inputs)
    with pytest.raises(TypeError, match="Sequential models only"):
        minidl.Model(inputs=inputs, outputs=inputs)

    class Mine(minidl.Model):
        def call(self, x):
            return x
    with pytest.raises(TypeError, match="subclassing"):
        Mine()
    with pytest.raises(ValueError, match="first element"):
        Sequential([Dense(2, input_shape=(3,)), Input(shape=(2,))])


def test_calling_a_layer_or_a_model_on_an_array_runs_forward():
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    x = np.random.default_rng(0).standard_normal((5, 4))
    out = K.to_numpy(model(x))
    np.testing.assert_allclose(out, model.predict(x), rtol=1e-6)
    np.testing.assert_allclose(K.to_numpy(model.layers[0](x)), out, rtol=1e-6)


# ------------------------------------------------------------------ summary and building
def test_summary_while_a_model_grows():
    model = Sequential()
    with pytest.raises(ValueError, match="not been built"):
        model.summary()
    model.add(Dense(8, activation="relu", input_shape=(16,)))
    assert _summary(model)[-4] == "Total params: 136"
    model.add(Dense(4))
    lines = _summary(model)
    assert any(line.startswith("dense_") and "(None, 4)" in line for line in lines)
    assert lines[-4] == "Total params: 172"


def test_a_model_without_an_input_shape_is_summarized_after_build():
    model = Sequential([Dense(8), Dense(2)])
    model.build((None, 5))
    assert _summary(model)[-4] == f"Total params: {5 * 8 + 8 + 8 * 2 + 2}"


def test_clear_session_restarts_layer_names():
    K.clear_session()
    assert Dense(1).name == "dense_1" and Dense(1).name == "dense_2"
    K.clear_session()
    assert Dense(1).name == "dense_1"


# ------------------------------------------------------------------ freezing
def test_a_frozen_layer_is_neither_trained_nor_counted_after_compiling_again():
    x, y = blobs()
    model = Sequential([Dense(8, activation="relu", input_shape=(4,)),
                        Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    model.layers[0].trainable = False
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert _summary(model)[-3] == "Trainable params: 27"
    frozen = model.layers[0].get_weights()
    trained = model.layers[1].get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    for before, after in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(before, after)
    assert not np.array_equal(trained[0], model.layers[1].get_weights()[0])


# ------------------------------------------------------------------ training API
def test_a_callback_stops_training_in_the_middle_of_an_epoch():
    """Keras 2.2.4's fit loop looks at model.stop_training after every batch."""
    x, y = blobs(128)
    seen = []

    class StopAfterThree(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)
            if batch == 2:
                self.model.stop_training = True

    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=5, verbose=0, callbacks=[StopAfterThree()])
    assert seen == [0, 1, 2] and len(history.history["loss"]) == 1


def test_metrics_names_and_the_on_batch_methods():
    x, y = blobs(64)
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model.metrics_names == ["loss", "accuracy"]
    loss, acc = model.test_on_batch(x, y)
    assert loss > 0 and 0 <= acc <= 1
    assert model.predict_on_batch(x).shape == (64, 3)
    assert len(model.train_on_batch(x, y)) == 2
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert model.metrics_names == ["loss"]
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    assert isinstance(model.test_on_batch(x, y), float)


def test_save_under_a_keras_file_name_writes_minidls_format_and_says_so(tmp_path):
    x, y = blobs(32)
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="minidl's own format"):
        model.save(tmp_path / "model.h5")
    with pytest.warns(UserWarning, match="minidl's own format"):
        model.save_weights(tmp_path / "weights.h5")
    again = load_model(tmp_path / "model.h5")
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(tmp_path / "model.h5", overwrite=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.save(tmp_path / "model.npz")  # minidl's own suffix: no warning


# ------------------------------------------------------------------ inputs people pass
def test_python_lists_float64_and_column_labels_train():
    x, y = blobs(60)
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["acc"])
    history = model.fit(x.astype(np.float64).tolist(), y.reshape(-1, 1).tolist(), epochs=2,
                        verbose=0, validation_split=0.25)
    assert set(history.history) >= {"loss", "acc", "val_loss", "val_acc"}
    assert model.predict(x.tolist()).dtype == np.float32


def test_channels_first_is_refused_with_the_transpose_to_use():
    with pytest.raises(ValueError, match=r"transpose\(0, 2, 3, 1\)"):
        K.set_image_data_format("channels_first")
    with pytest.raises(ValueError, match=r"transpose\(0, 2, 3, 1\)"):
        Conv2D(4, 3, data_format="channels_first")
    with pytest.raises(ValueError, match=r"transpose\(0, 2, 3, 1\)"):
        Flatten(data_format="channels_first")
    assert K.image_data_format() == "channels_last"
    model = Sequential([Conv2D(2, 3, data_format=None, input_shape=(6, 6, 1)),
                        MaxPooling2D(data_format="channels_last"), Flatten(), Dense(1)])
    assert model.output_shape == (None, 1)


# ------------------------------------------------------------------ layers as Keras shows them
def test_layer_shapes_weights_and_lookup_read_as_in_keras():
    model = Sequential([Conv2D(4, 3, input_shape=(8, 8, 1), name="features"),
                        MaxPooling2D(), Flatten(), Dense(2, name="classifier")])
    conv = model.get_layer("features")
    assert conv is model.get_layer(index=0) is model.layers[0]
    assert conv.input_shape == (None, 8, 8, 1) and conv.output_shape == (None, 6, 6, 4)
    assert model.layers[2].output_shape == (None, 36)
    assert [w.shape for w in conv.weights] == [(3, 3, 1, 4), (4,)]
    assert len(model.weights) == 4 and len(model.trainable_weights) == 4
    conv.trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    with pytest.raises(ValueError, match="no layer named 'head'"):
        model.get_layer("head")
    with pytest.raises(AttributeError, match="not been built"):
        Dense(3).output_shape
    model.pop()
    assert model.output_shape == (None, 36) and len(model.layers) == 3


# ------------------------------------------------------------------ Sequence, JSON
def test_fit_on_a_keras_sequence_visits_every_batch_once_per_epoch_and_reshuffles():
    x, y = blobs(48)
    seen, epochs_ended = [], []

    class Batches(minidl.utils.Sequence):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            seen.append(i)
            return x[16 * i:16 * (i + 1)], y[16 * i:16 * (i + 1)]

        def on_epoch_end(self):
            epochs_ended.append(True)

    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    minidl.seed(1)
    history = model.fit(Batches(), epochs=4, verbose=0)
    assert len(history.history["loss"]) == 4 and len(epochs_ended) == 4
    per_epoch = [seen[3 * e:3 * e + 3] for e in range(4)]
    assert all(sorted(order) == [0, 1, 2] for order in per_epoch)
    assert len({tuple(order) for order in per_epoch}) > 1          # shuffled between epochs
    seen.clear()
    model.fit(Batches(), epochs=1, verbose=0, shuffle=False)
    assert seen == [0, 1, 2]
    assert len(model.evaluate(Batches(), verbose=0)) == 2


def test_architecture_as_json_then_weights_like_the_keras_tutorials(tmp_path):
    from minidl.models import model_from_json
    model = Sequential([Dense(5, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])
    (tmp_path / "model.json").write_text(model.to_json())
    model.save_weights(tmp_path / "model.npz")
    again = model_from_json((tmp_path / "model.json").read_text())
    again.load_weights(tmp_path / "model.npz")
    x = np.ones((2, 4), np.float32)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


def test_what_minidl_refuses_it_refuses_by_name():
    x, y = blobs(16)
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    with pytest.raises(TypeError, match=r"unexpected argument\(s\) \['metric'\]"):
        model.compile("sgd", "sparse_categorical_crossentropy", metric=None)   # a typo
    model.compile("sgd", "sparse_categorical_crossentropy", loss_weights=None)
    with pytest.raises(ValueError, match="holds no samples"):
        model.fit(x[:0], y[:0], verbose=0)

    def weighted():
        while True:
            yield x, y, np.ones(len(x))
    with pytest.raises(TypeError, match="sample weights"):
        model.fit(weighted(), steps_per_epoch=1, verbose=0)


def test_fit_generator_passes_shuffle_on_to_a_sequence():
    x, y = blobs(48)
    seen = []

    class Batches(minidl.utils.Sequence):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            seen.append(i)
            return x[16 * i:16 * (i + 1)], y[16 * i:16 * (i + 1)]

    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit_generator(Batches(), epochs=3, verbose=0, shuffle=False)
    assert seen == [0, 1, 2] * 3
