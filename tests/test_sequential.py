"""The Keras 2 model API: compile, fit, evaluate, predict, History, callbacks, summary."""
import numpy as np
import pytest

import minidl
from minidl import backend as K
from minidl.callbacks import (Callback, EarlyStopping, LearningRateScheduler, ModelCheckpoint)
from minidl.layers import (BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D)
from minidl.models import Sequential, TrainingDivergedError, load_model
from minidl.optimizers import SGD, Adam


def blobs(n=200, d=4, classes=3, seed=0):
    """Separable Gaussian blobs: a quick problem any working model learns."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centers = rng.standard_normal((classes, d)) * 3
    return (centers[y] + rng.standard_normal((n, d))).astype(np.float32), y


def mlp(d=4, classes=3, optimizer=None):
    model = Sequential([Dense(16, activation="relu", input_shape=(d,)),
                        Dense(classes, activation="softmax")])
    model.compile(optimizer=optimizer or Adam(lr=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


# ------------------------------------------------------------------ summary
def _summary(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


def test_summary_counts_the_784_512_128_10_mlp_like_keras():
    model = Sequential([Dense(512, input_shape=(784,), activation="relu"),
                        Dense(128, activation="relu"), Dense(10, activation="softmax")])
    lines = _summary(model)
    assert "Total params: 468,874" in lines
    assert "Trainable params: 468,874" in lines
    assert "Non-trainable params: 0" in lines
    assert all(len(line) <= 65 for line in lines)  # Keras's 65-column layout
    assert any(line.startswith("dense_") and "(None, 512)" in line and line.rstrip().endswith("401920")
               for line in lines)


def test_summary_counts_batchnorm_moving_statistics_as_non_trainable():
    """Study 002's BatchNorm CNN: 685,354 parameters, 896 of them non-trainable."""
    model = Sequential()
    model.add(Conv2D(32, (3, 3), input_shape=(32, 32, 3), activation="relu", padding="same"))
    model.add(BatchNormalization())
    model.add(Conv2D(32, (3, 3), activation="relu", padding="same"))
    model.add(BatchNormalization())
    model.add(MaxPooling2D((2, 2)))
    model.add(Dropout(0.25))
    model.add(Conv2D(64, (3, 3), activation="relu", padding="same"))
    model.add(BatchNormalization())
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(BatchNormalization())
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Conv2D(128, (3, 3), activation="relu", padding="same"))
    model.add(BatchNormalization())
    model.add(Conv2D(128, (3, 3), activation="relu"))
    model.add(BatchNormalization())
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(512, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(256, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(10, activation="softmax"))
    lines = _summary(model)
    assert "Total params: 685,354" in lines
    assert "Trainable params: 684,458" in lines
    assert "Non-trainable params: 896" in lines
    assert model.output_shape == (None, 10)


def test_a_model_without_input_shape_is_built_by_fit():
    model = Sequential([Conv2D(4, kernel_size=3, activation="relu"), Flatten(),
                        Dense(2, activation="softmax")])
    with pytest.raises(ValueError, match="not been built"):
        model.summary()
    model.compile("adadelta", loss="sparse_categorical_crossentropy")
    model.fit(np.zeros((8, 6, 6, 1), np.float32), np.zeros(8), epochs=1, verbose=0)
    assert model.count_params() == (9 * 4 + 4) + (16 * 4 * 2 + 2)


# ------------------------------------------------------------------ fit / history
def test_fit_returns_history_with_keras_2_3_and_2_2_keys():
    x, y = blobs()
    model = mlp()
    history = model.fit(x[:150], y[:150], batch_size=32, epochs=3, verbose=0,
                        validation_data=(x[150:], y[150:]))
    assert history is model.history
    assert set(history.history) == {"loss", "accuracy", "acc", "val_loss", "val_accuracy", "val_acc"}
    assert history.epoch == [0, 1, 2]
    assert all(len(v) == 3 for v in history.history.values())
    assert history.history["acc"] == history.history["accuracy"]
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = blobs(n=100)
    model = mlp(optimizer=SGD(lr=0.0))  # lr 0: weights stay, so the numbers are comparable
    history = model.fit(x, y, validation_split=0.25, epochs=1, verbose=0)
    val_loss, val_acc = model.evaluate(x[75:], y[75:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-6)
    assert history.history["val_accuracy"][0] == pytest.approx(val_acc)


def test_changing_optimizer_lr_between_fits_takes_effect():
    x, y = blobs(n=64)
    model = mlp(optimizer=SGD(lr=0.1))
    model.fit(x, y, epochs=1, verbose=0)
    model.optimizer.lr = 0.0  # study 000 sets model.optimizer.lr = 0.0001 this way
    before = model.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_keras_time_decay_counts_batches_across_epochs():
    opt = SGD(lr=0.1, decay=0.5)
    model = mlp(optimizer=opt)
    x, y = blobs(n=64)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert opt.iterations == 8
    assert opt.current_lr() == pytest.approx(0.1 / (1 + 0.5 * 8))


def test_train_on_batch_evaluate_and_predict():
    x, y = blobs(n=60)
    model = mlp()
    loss, acc = model.train_on_batch(x[:20], y[:20])
    assert loss > 0 and 0 <= acc <= 1
    out = model.predict(x, batch_size=7)
    assert isinstance(out, np.ndarray) and out.shape == (60, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1, rtol=1e-5)
    assert model.predict_classes(x).shape == (60,)
    values = model.evaluate(x, y, batch_size=16, verbose=0)
    assert len(values) == 2 and model.metrics_names == ["loss", "accuracy"]


def test_same_seed_same_training():
    x, y = blobs()

    def run():
        minidl.seed(7)
        model = Sequential([Dense(8, activation="relu", input_shape=(4,)), Dropout(0.3),
                            Dense(3, activation="softmax")])
        model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
        return model.fit(x, y, batch_size=16, epochs=2, verbose=0).history["loss"]

    assert run() == run()


# ------------------------------------------------------------------ generators
def test_fit_on_a_generator_with_steps_per_epoch():
    x, y = blobs(n=96)

    def batches():
        while True:
            for i in range(0, 96, 32):
                yield x[i:i + 32], y[i:i + 32]

    model = mlp()
    history = model.fit(batches(), steps_per_epoch=3, epochs=10, verbose=0,
                        validation_data=(x, y))
    assert len(history.history["loss"]) == 10
    assert history.history["accuracy"][-1] > 0.5


def test_fit_generator_accepts_keras_1_arguments():
    """samples_per_epoch is divided by the generator's batch_size, as Keras 2 converts it."""
    x, y = blobs(n=96)

    class Flow:
        batch_size = 32

        def __init__(self):
            self.calls = 0

        def __next__(self):
            i = (self.calls % 3) * 32
            self.calls += 1
            return x[i:i + 32], y[i:i + 32]

        def __iter__(self):
            return self

    flow = Flow()
    model = mlp()
    model.fit_generator(flow, samples_per_epoch=96, nb_epoch=2, verbose=0,
                        use_multiprocessing=True)
    assert flow.calls == 6


# ------------------------------------------------------------------ callbacks
def test_custom_callback_sees_acc_in_epoch_logs_like_study_004():
    class AccuracyHistory(Callback):
        def on_train_begin(self, logs=None):
            self.acc = []

        def on_epoch_end(self, epoch, logs=None):
            self.acc.append(logs.get("acc"))

    x, y = blobs()
    history = AccuracyHistory()
    mlp().fit(x, y, epochs=3, verbose=0, callbacks=[history])
    assert len(history.acc) == 3 and all(0 <= a <= 1 for a in history.acc)


def test_batch_logs_reach_on_batch_end():
    seen = []

    class Batches(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((batch, logs["size"], logs["loss"]))

    x, y = blobs(n=50)
    mlp().fit(x, y, batch_size=20, epochs=1, verbose=0, callbacks=[Batches()])
    assert [(b, s) for b, s, _ in seen] == [(0, 20), (1, 20), (2, 10)]


def test_early_stopping_stops_when_the_monitor_stalls():
    x, y = blobs(n=64)
    model = mlp(optimizer=SGD(lr=0.0))  # nothing improves
    history = model.fit(x, y, epochs=20, verbose=0, validation_data=(x, y),
                        callbacks=[EarlyStopping(monitor="val_loss", patience=2)])
    assert len(history.epoch) == 3


def test_learning_rate_scheduler_sets_lr_per_epoch():
    x, y = blobs(n=64)
    model = mlp(optimizer=SGD(lr=1.0))
    model.fit(x, y, epochs=3, verbose=0,
              callbacks=[LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))])
    assert model.optimizer.lr == pytest.approx(0.1 / 3)


def test_model_checkpoint_saves_the_best_model(tmp_path):
    x, y = blobs()
    model = mlp()
    path = tmp_path / "best-{epoch:02d}.npz"
    model.fit(x, y, epochs=3, verbose=0, validation_data=(x, y),
              callbacks=[ModelCheckpoint(str(path), monitor="val_loss", save_best_only=True)])
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved and saved[-1] == "best-03.npz"  # val_loss keeps falling on this problem
    restored = load_model(tmp_path / saved[-1])
    np.testing.assert_allclose(restored.predict(x), model.predict(x), rtol=1e-6)


def test_nan_loss_stops_training_naming_epoch_and_batch():
    x, y = blobs(n=64)
    model = Sequential([Dense(3, input_shape=(4,))])
    model.compile(SGD(lr=1e30), loss="mse")
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch \d+"), \
            np.errstate(all="ignore"):
        model.fit(x * 1e10, np.ones((64, 3)) * 1e20, batch_size=8, epochs=3, verbose=0)


# ------------------------------------------------------------------ progress output
def test_verbose_levels(capsys):
    x, y = blobs(n=64)
    model = mlp()
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, verbose=2, validation_data=(x, y))
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0] == "Train on 64 samples, validate on 64 samples"
    assert out[1] == "Epoch 1/2" and out[3] == "Epoch 2/2"
    assert "us/sample" in out[2] and "loss:" in out[2] and "val_accuracy:" in out[2]
    model.fit(x, y, epochs=1, verbose=1)
    assert "64/64" in capsys.readouterr().out  # the summary line after the bar


def test_float64_inputs_are_trained_in_floatx():
    """Study 004 divides uint8 images by 255.0, which gives float64."""
    x, y = blobs(n=32)
    model = mlp()
    model.fit(x.astype(np.float64), y, epochs=1, verbose=0)
    assert model.layers[0].params["kernel"].dtype == np.dtype(K.floatx())


def test_string_optimizers_and_learning_rate_alias():
    for name in ("sgd", "SGD", "adam", "Adam", "adadelta", "rmsprop"):
        model = mlp(optimizer=name)
        assert type(model.optimizer).__name__.lower() == name.lower()
    assert Adam(learning_rate=0.02).lr == 0.02
    assert minidl.optimizers.Adadelta().lr == 1.0  # multi-backend Keras, not tf.keras's 0.001


def test_uint8_images_stay_small_and_become_floats_per_batch():
    """Integer images are moved to the device as they are and cast batch by batch."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 6, 6, 1), dtype=np.uint8)
    y = rng.integers(0, 2, 40)
    model = Sequential([Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)), Flatten(),
                        Dense(2, activation="softmax")])
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert model.layers[0].x.dtype == np.float32        # the last batch, cast on the device
    model.fit(((x[i:i + 8], y[i:i + 8]) for i in range(0, 40, 8)), steps_per_epoch=5, verbose=0)
    assert model.layers[0].x.dtype == np.float32        # generator batches too
    assert model.predict(x).dtype == np.float32
    from minidl.datasets import ArrayIterator
    assert ArrayIterator(x, y).x.dtype == np.uint8       # the stored images stay uint8
    assert history.history["loss"]


def test_freezing_a_layer_between_fits_keeps_each_weights_optimizer_state():
    """Optimizer state is kept per weight name, so the trainable set may change."""
    x, y = blobs(n=64)
    model = Sequential([Dense(2, input_shape=(4,)), Dense(100, activation="relu"),
                        Dense(3, activation="softmax")])
    model.compile(Adam(lr=0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    model.layers[0].trainable = False
    frozen = model.layers[0].get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(model.evaluate(x, y, verbose=0))


def test_clipnorm_scales_all_gradients_by_one_global_norm():
    """Keras 2.2.4: g *= clipnorm / max(||all g||, clipnorm)."""
    w1, w2 = np.zeros(2, np.float32), np.zeros(3, np.float32)
    g1, g2 = np.array([3.0, 0], np.float32), np.array([0, 4.0, 0], np.float32)  # global norm 5
    SGD(lr=1.0, clipnorm=1.0).update([w1, w2], [g1, g2])
    np.testing.assert_allclose(w1, [-0.6, 0], rtol=1e-6)
    np.testing.assert_allclose(w2, [0, -0.8, 0], rtol=1e-6)


def test_float64_targets_and_constants_do_not_turn_training_into_float64():
    x, y = blobs(n=32)
    model = Sequential([minidl.layers.Lambda(lambda v: (v - np.float64(0.5)) / np.float64(2.0),
                                             input_shape=(4,)),
                        Dense(3, activation="softmax")])
    model.compile("sgd", loss="categorical_crossentropy")
    model.fit(x, np.eye(3)[y], epochs=1, verbose=0)  # np.eye gives float64 targets
    assert model.layers[1].grads["kernel"].dtype == np.float32
    assert model.predict(x).dtype == np.float32


def test_outputs_must_be_rank_2_for_the_losses():
    model = Sequential([Dense(3, activation="softmax", input_shape=(5, 4))])
    with pytest.raises(ValueError, match=r"outputs \(batch, 5, 3\); add Flatten"):
        model.compile("sgd", loss="sparse_categorical_crossentropy")


def test_gradcheck_leaves_the_model_in_float32():
    from minidl import gradcheck
    x, y = blobs(n=8)
    model = mlp()
    gradcheck.check_model(model, x.astype(np.float64), y)
    assert all(w.dtype == np.float32 for w in model.get_weights())


def test_lambda_callback_and_the_smaller_keras_methods():
    from minidl.callbacks import LambdaCallback
    x, y = blobs(n=32)
    model = mlp()
    ends = []
    cb = LambdaCallback(on_epoch_end=lambda epoch, logs: ends.append(logs["loss"]))
    assert not minidl.callbacks.wants_batch_logs(cb)  # no per-batch device reads for it
    model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    assert len(ends) == 2
    np.testing.assert_allclose(model.predict_proba(x), model.predict(x))
    np.testing.assert_allclose(model.predict_on_batch(x[:5]), model.predict(x[:5]), rtol=1e-6)
    loss, acc = model.test_on_batch(x, y)
    assert [loss, acc] == pytest.approx(model.evaluate(x, y, verbose=0))
    gen = ((x[i:i + 8], y[i:i + 8]) for i in range(0, 32, 8))
    assert model.evaluate_generator(gen, steps=4) == pytest.approx([loss, acc], rel=1e-5)


# ------------------------------------------------------------------ inference without compile
def test_an_uncompiled_model_predicts_like_keras(tmp_path):
    """Keras predicts, summarizes and loads weights without compile(); only
    fit and evaluate need a loss."""
    model = Sequential([Dense(8, activation="relu", input_shape=(4,)),
                        Dense(3, activation="softmax")])
    x, y = blobs(10)
    p = model.predict(x)
    assert p.shape == (10, 3) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert len(_summary(model)) > 5
    model.save_weights(tmp_path / "w.npz")
    twin = Sequential([Dense(8, activation="relu", input_shape=(4,)),
                       Dense(3, activation="softmax")])
    twin.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(twin.predict(x), p)
    twin.set_weights(model.get_weights())
    np.testing.assert_array_equal(twin.predict_on_batch(x), p)
    for call in (lambda: model.evaluate(x, y), lambda: model.fit(x, y),
                 lambda: model.train_on_batch(x, y)):
        with pytest.raises(RuntimeError, match="compile"):
            call()
