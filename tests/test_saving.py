"""model.save / load_model: an open format (JSON in a .npz), atomic, never a pickle."""
import json
import os
import zipfile

import numpy as np
import pytest

import minidl
from minidl.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, Lambda, MaxPooling2D
from minidl.models import Sequential, load_model
from minidl.optimizers import Adam


def small_cnn():
    minidl.seed(3)
    model = Sequential([
        Lambda(lambda x: (x - 0.5) / 0.25, input_shape=(8, 8, 1)),
        Conv2D(4, 3, activation="relu", padding="same"),
        BatchNormalization(zero_debias=True),
        MaxPooling2D(),
        Dropout(0.2),
        Flatten(),
        Dense(3, activation="softmax"),
    ])
    model.compile(Adam(lr=0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n=32):
    rng = np.random.default_rng(0)
    return rng.random((n, 8, 8, 1)).astype(np.float32), rng.integers(0, 3, n)


def test_round_trip_keeps_architecture_weights_and_predictions(tmp_path):
    x, y = data()
    model = small_cnn()
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "model.npz"
    model.save(path)
    restored = load_model(path)
    assert [type(layer).__name__ for layer in restored.layers] == \
        [type(layer).__name__ for layer in model.layers]
    assert [layer.name for layer in restored.layers] == [layer.name for layer in model.layers]
    np.testing.assert_array_equal(restored.predict(x), model.predict(x))
    assert restored.count_params() == model.count_params()


def test_optimizer_state_is_restored_so_training_continues_identically(tmp_path):
    x, y = data()
    model = small_cnn()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.npz")
    restored = load_model(tmp_path / "m.npz")
    assert restored.optimizer.iterations == model.optimizer.iterations == 4
    for m in (model, restored):  # same batch, no randomness (Dropout off in train_on_batch? no:
        m.layers[4].rate = 0.0   # switch it off so both steps are deterministic)
        m.train_on_batch(x[:8], y[:8])
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_the_file_is_plain_npz_with_a_json_header(tmp_path):
    model = small_cnn()
    model.build()
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as f:
        header = json.loads(f["__minidl__"].tobytes())
        assert header["format"] == "minidl-model"
        assert header["model"]["config"]["layers"][1]["class_name"] == "Conv2D"
        assert f["layer/1/kernel"].shape == (3, 3, 1, 4)


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    model = small_cnn()
    model.build()
    path = tmp_path / "m.npz"
    model.save(path)
    good = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == good  # the old file is intact
    assert os.listdir(tmp_path) == ["m.npz"]


def test_truncated_file_gives_a_clear_error(tmp_path):
    model = small_cnn()
    model.build()
    path = tmp_path / "m.npz"
    model.save(path)
    data_bytes = path.read_bytes()
    path.write_bytes(data_bytes[: len(data_bytes) // 2])
    with pytest.raises(ValueError, match="not a readable minidl file"):
        load_model(path)


def test_foreign_files_give_a_clear_error(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a minidl model"):
        load_model(tmp_path / "other.npz")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(ValueError, match="not a readable minidl file"):
        load_model(tmp_path / "text.h5")


def test_a_pickle_inside_is_refused(tmp_path):
    """An object array would need unpickling: np.load(allow_pickle=False) refuses it."""
    path = tmp_path / "evil.npz"
    with zipfile.ZipFile(path, "w") as z:
        with z.open("__minidl__.npy", "w") as f:
            np.lib.format.write_array(f, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="not a readable minidl file"):
        load_model(path)


def test_a_lambda_that_is_not_affine_cannot_be_saved(tmp_path):
    model = Sequential([Lambda(np.tanh, input_shape=(3,)), Dense(2)])
    model.compile("sgd", loss="mse")
    with pytest.raises(ValueError, match="cannot save Lambda"):
        model.save(tmp_path / "m.npz")


def test_save_weights_and_load_weights(tmp_path):
    a, b = small_cnn(), small_cnn()
    a.build()
    minidl.seed(99)
    b.layers[1].set_weights([w + 1 for w in b.layers[1].get_weights()]) if b.built else None
    a.save_weights(tmp_path / "w.npz")
    b.load_weights(tmp_path / "w.npz")
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_optimizer_state_follows_layer_positions_not_names():
    """A model rebuilt in the same process gets new layer names (dense_3, ...);
    optimizer moments restored into it (a resumed run) land on the right weights."""
    from minidl import saving
    from minidl.layers import Dense
    from minidl.models import Sequential

    def build():
        model = Sequential([Dense(4, activation="relu", input_shape=(3,)),
                            Dense(2, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        return model
    x = np.random.default_rng(0).standard_normal((16, 3)).astype("float32")
    model = build()
    model.fit(x, np.arange(16) % 2, epochs=2, verbose=0)
    rebuilt = build()
    assert [l.name for l in rebuilt.layers] != [l.name for l in model.layers]
    saving.set_model_arrays(rebuilt, *saving.model_arrays(model), what="test")
    assert rebuilt.optimizer.iterations == model.optimizer.iterations
    for old, new in zip(model.layers, rebuilt.layers):
        for slot in ("m", "v"):
            np.testing.assert_array_equal(
                minidl.backend.to_numpy(rebuilt.optimizer.state[slot][f"{new.name}/kernel"]),
                minidl.backend.to_numpy(model.optimizer.state[slot][f"{old.name}/kernel"]))


def test_custom_losses_and_metrics_come_back_through_custom_objects(tmp_path):
    """A user's Loss subclass and metric function, as Keras's load_model(custom_objects=...)."""
    from minidl import losses
    from minidl.layers import Dense
    from minidl.models import Sequential, load_model

    class HalfMSE(losses.Loss):
        name = "half_mse"

        def per_sample(self, y_true, y_pred):
            return 0.5 * ((y_pred - y_true) ** 2).mean(axis=-1)

        def gradient(self, y_true, y_pred):
            return (y_pred - y_true) / y_pred.size

    def mean_pred(y_true, y_pred):
        return y_pred.mean(axis=-1)

    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile("sgd", loss=HalfMSE(), metrics=[mean_pred])
    model.save(tmp_path / "m.npz")
    with pytest.raises(ValueError):
        load_model(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz", custom_objects={"HalfMSE": HalfMSE,
                                                           "mean_pred": mean_pred})
    assert isinstance(again.loss, HalfMSE) and again.metrics_names == ["loss", "mean_pred"]
