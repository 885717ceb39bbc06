"""minidl.callbacks: each Keras 2.2.4 callback on a tiny model trained for a few epochs.

Where a test needs a monitored value to follow a known course, a ``Script``
callback placed before the callback under test writes it into the epoch logs
as 'score' (callbacks run in list order, as in Keras), and remembers the
weights each epoch ended with.
"""
import csv
import http.server
import json
import socket
import threading
import urllib.parse

import numpy as np
import pytest

import minidl
from minidl import callbacks
from minidl.callbacks import (BaseLogger, Callback, CSVLogger, EarlyStopping, LambdaCallback,
                              LearningRateScheduler, ModelCheckpoint, ProgbarLogger,
                              ReduceLROnPlateau, RemoteMonitor, TerminateOnNaN)
from minidl.layers import Dense
from minidl.models import Sequential, load_model
from minidl.optimizers import SGD, Adam


def blobs(n=64, d=4, classes=3, seed=0):
    """Separable Gaussian blobs: a quick problem any working model learns."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centers = rng.standard_normal((classes, d)) * 3
    return (centers[y] + rng.standard_normal((n, d))).astype(np.float32), y


def mlp(optimizer=None):
    minidl.seed(0)
    model = Sequential([Dense(8, activation="relu", input_shape=(4,)),
                        Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer or Adam(lr=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class Script(Callback):
    """Sets logs['score'] = values[epoch]; keeps each epoch's final weights."""

    def __init__(self, values):
        super().__init__()
        self.values, self.weights = values, []

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def fit(model, cbs, epochs, validation=False, **kwargs):
    x, y = blobs()
    return model.fit(x, y, batch_size=16, epochs=epochs, verbose=0, callbacks=cbs,
                     validation_data=(x, y) if validation else None, **kwargs)


def assert_weights_equal(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


# ------------------------------------------------------------------ names

def test_keras_callback_names_are_reachable_and_unbuilt_ones_raise():
    for name in ("Callback", "History", "BaseLogger", "TerminateOnNaN", "ProgbarLogger",
                 "ModelCheckpoint", "EarlyStopping", "RemoteMonitor", "LearningRateScheduler",
                 "ReduceLROnPlateau", "CSVLogger", "LambdaCallback", "CallbackList",
                 "BackupAndRestore"):
        assert isinstance(getattr(minidl.callbacks, name), type)
    with pytest.raises(NotImplementedError,
                       match="minidl does not implement TensorBoard; .*CSVLogger"):
        callbacks.TensorBoard(log_dir="./logs", histogram_freq=1)
    with pytest.raises(AttributeError, match="no attribute 'Tensorboard'; minidl's callbacks are"):
        callbacks.Tensorboard


# ------------------------------------------------------------------ EarlyStopping

def test_early_stopping_restores_the_best_epochs_weights_when_it_stops():
    script = Script([3.0, 1.0, 2.0, 2.5, 0.5, 0.1])
    stop = EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    model = mlp()
    history = fit(model, [script, stop], epochs=6)
    assert history.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 3
    assert_weights_equal(model.get_weights(), script.weights[1])      # best: epoch index 1
    assert not np.array_equal(script.weights[1][0], script.weights[3][0])


def test_early_stopping_keeps_the_last_weights_when_training_runs_to_the_end():
    script = Script([3.0, 1.0, 2.0])
    model = mlp()
    fit(model, [script, EarlyStopping(monitor="score", patience=5, restore_best_weights=True)],
        epochs=3)
    assert_weights_equal(model.get_weights(), script.weights[2])     # Keras 2: no restore


def test_early_stopping_baseline_must_be_beaten_and_min_delta_counts():
    class AccScript(Script):      # 'acc' in the name: mode 'auto' maximizes
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            logs["score_acc"] = logs["score"]

    history = fit(mlp(), [AccScript([0.5, 0.6, 0.7, 0.8]),
                          EarlyStopping(monitor="score_acc", baseline=0.9, patience=2)], epochs=4)
    assert history.epoch == [0, 1]      # two epochs below the baseline
    history = fit(mlp(), [AccScript([0.95, 0.96, 0.97, 0.98]),
                          EarlyStopping(monitor="score_acc", baseline=0.9, patience=2)], epochs=4)
    assert history.epoch == [0, 1, 2, 3]
    # improvements smaller than min_delta do not count
    history = fit(mlp(), [Script([1.0, 0.99, 0.98, 0.97]),
                          EarlyStopping(monitor="score", min_delta=0.05, patience=2)], epochs=4)
    assert history.epoch == [0, 1, 2]


def test_early_stopping_warns_about_a_missing_monitor_and_reports_when_verbose(capsys):
    with pytest.warns(RuntimeWarning, match="'val_loss' which is not available"):
        fit(mlp(), [EarlyStopping()], epochs=1)
    fit(mlp(), [Script([1.0, 2.0, 3.0]), EarlyStopping(monitor="score", patience=1, verbose=1,
                                                        restore_best_weights=True)], epochs=3)
    out = capsys.readouterr().out
    assert "Restoring model weights from the end of the best epoch" in out
    assert "Epoch 00002: early stopping" in out
    with pytest.raises(ValueError, match="EarlyStopping: mode must be 'auto', 'min' or 'max'"):
        EarlyStopping(mode="minimum")


def test_early_stopping_on_real_val_loss_stops_a_model_that_cannot_learn():
    history = fit(mlp(SGD(lr=0.0)), [EarlyStopping(patience=2)], epochs=20, validation=True)
    assert len(history.epoch) == 3


# ------------------------------------------------------------------ ModelCheckpoint

def test_model_checkpoint_save_best_only_writes_only_improving_epochs(tmp_path, capsys):
    path = tmp_path / "best-{epoch:02d}-{score:.1f}.npz"
    script = Script([2.0, 1.0, 1.5, 0.5])
    model = mlp()
    fit(model, [script, ModelCheckpoint(path, monitor="score", save_best_only=True, verbose=1)],
        epochs=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best-01-2.0.npz", "best-02-1.0.npz", "best-04-0.5.npz"]
    assert "Epoch 00003: score did not improve from 1.00000" in capsys.readouterr().out
    assert_weights_equal(load_model(tmp_path / "best-02-1.0.npz").get_weights(), script.weights[1])


def test_model_checkpoint_mode_max_period_and_weights_only(tmp_path):
    script = Script([0.2, 0.1, 0.3, 0.4, 0.35, 0.5])
    model = mlp()
    fit(model, [script, ModelCheckpoint(tmp_path / "w{epoch}.npz", monitor="score", mode="max",
                                        save_best_only=True, save_weights_only=True, period=2)],
        epochs=6)
    # checked every 2nd epoch only: epochs 2 (0.1), 4 (0.4), 6 (0.5) all beat the best so far
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w2.npz", "w4.npz", "w6.npz"]
    fresh = mlp()
    fresh.load_weights(tmp_path / "w4.npz")
    assert_weights_equal(fresh.get_weights(), script.weights[3])
    with pytest.raises(ValueError, match="not a minidl model|weights"):
        load_model(tmp_path / "w4.npz")


def test_model_checkpoint_writes_minidls_format_under_a_keras_file_name(tmp_path):
    model = mlp()
    with pytest.warns(UserWarning, match="minidl's own format"):
        fit(model, [ModelCheckpoint(tmp_path / "model.h5")], epochs=2, validation=True)
    assert [p.name for p in tmp_path.iterdir()] == ["model.h5"]
    x, _ = blobs()
    np.testing.assert_allclose(load_model(tmp_path / "model.h5").predict(x), model.predict(x),
                               rtol=1e-6)


# ------------------------------------------------------------------ ReduceLROnPlateau

@pytest.mark.parametrize("cooldown,lrs", [
    # patience 2 on a flat score: the 3rd epoch lowers the rate; the epoch logs show the
    # rate each epoch trained with. Keras 2.2.4 counts the epoch in which the cooldown
    # ends towards patience, so cooldown=1 changes nothing and 2 delays by one epoch.
    (0, [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2]),
    (1, [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2]),
    (2, [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2]),
])
def test_reduce_lr_on_plateau_lowers_lr_after_patience_with_cooldown_and_min_lr(cooldown, lrs):
    model = mlp(SGD(lr=1.0))
    history = fit(model, [Script([1.0] * 10), ReduceLROnPlateau(
        monitor="score", factor=0.5, patience=2, cooldown=cooldown, min_lr=0.2)], epochs=10)
    assert history.history["lr"] == pytest.approx(lrs)
    assert model.optimizer.lr == pytest.approx(0.2)


def test_reduce_lr_on_plateau_keeps_lr_while_the_monitor_improves_and_watches_real_val_loss():
    model = mlp(SGD(lr=1.0))
    fit(model, [Script([5.0, 4.0, 3.0, 2.0]), ReduceLROnPlateau(monitor="score", patience=1)],
        epochs=4)
    assert model.optimizer.lr == 1.0
    model = mlp(SGD(lr=1e-9))            # val_loss moves by far less than min_delta=1e-4
    history = fit(model, [ReduceLROnPlateau(patience=2, verbose=0)], epochs=4, validation=True)
    assert history.history["lr"] == pytest.approx([1e-9, 1e-9, 1e-9, 1e-10])


def test_reduce_lr_on_plateau_arguments_like_keras():
    with pytest.warns(UserWarning, match="`epsilon` argument is deprecated"):
        cb = ReduceLROnPlateau(epsilon=0.5)
    assert cb.min_delta == 0.5
    with pytest.raises(ValueError, match="does not support a factor >= 1.0"):
        ReduceLROnPlateau(factor=2)
    with pytest.raises(TypeError, match=r"unexpected argument\(s\) \['patiense'\]"):
        ReduceLROnPlateau(patiense=3)
    assert ReduceLROnPlateau(monitor="val_acc").monitor_op(0.6, 0.5)       # auto: maximize acc
    with pytest.warns(RuntimeWarning, match="conditioned on metric 'val_loss'"):
        fit(mlp(), [ReduceLROnPlateau()], epochs=1)


# ------------------------------------------------------------------ CSVLogger

def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_csv_logger_writes_epoch_then_sorted_keys(tmp_path):
    path = tmp_path / "log.csv"
    history = fit(mlp(), [CSVLogger(path)], epochs=3, validation=True)
    rows = read_rows(path)
    assert rows[0] == ["epoch", "acc", "accuracy", "loss", "val_acc", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for key, column in (("loss", 3), ("val_accuracy", 5)):
        assert [float(r[column]) for r in rows[1:]] == history.history[key]
    assert path.read_bytes().count(b"\r\n") == 4          # csv's excel dialect, as Keras


def test_csv_logger_appends_without_a_second_header_and_takes_a_separator(tmp_path):
    path = tmp_path / "log.csv"
    model = mlp()
    fit(model, [CSVLogger(path, separator=";")], epochs=2)
    fit(model, [CSVLogger(path, separator=";", append=True)], epochs=2)
    rows = [line.split(";") for line in path.read_text().splitlines()]
    assert rows[0] == ["epoch", "acc", "accuracy", "loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "0", "1"]
    fit(model, [CSVLogger(path)], epochs=1)                # append=False overwrites
    assert len(read_rows(path)) == 2


def test_csv_logger_records_lr_from_a_scheduler_and_na_when_stopped(tmp_path):
    path = tmp_path / "log.csv"

    class StopAndDrop(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                del logs["acc"]
                self.model.stop_training = True

    fit(mlp(), [LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1)), StopAndDrop(),
                CSVLogger(path)], epochs=5)
    rows = read_rows(path)
    assert rows[0] == ["epoch", "acc", "accuracy", "loss", "lr"]
    assert [r[4] for r in rows[1:]] == ["0.01", "0.02"]
    assert rows[2][1] == "NA"


# ------------------------------------------------------------------ LearningRateScheduler

def test_learning_rate_scheduler_takes_epoch_or_epoch_and_lr():
    model = mlp(SGD(lr=0.8))
    seen = []

    def halve(epoch, lr):
        seen.append((epoch, lr))
        return lr * 0.5

    history = fit(model, [LearningRateScheduler(halve)], epochs=3)
    assert seen == [(0, 0.8), (1, 0.4), (2, 0.2)]
    assert history.history["lr"] == [0.4, 0.2, 0.1] and model.optimizer.lr == 0.1
    fit(model, [LearningRateScheduler(lambda epoch: 0.05 * (epoch + 1))], epochs=2)
    assert model.optimizer.lr == pytest.approx(0.1)
    fit(model, [LearningRateScheduler(lambda epoch, lr=None: 0.3 if lr is not None else 0.7)],
        epochs=1)
    assert model.optimizer.lr == 0.3                    # a default lr still gets the rate


def test_learning_rate_scheduler_lets_a_type_error_inside_the_schedule_through():
    def schedule(epoch, lr):
        return lr * "0.5"                                   # a bug in the user's schedule

    with pytest.raises(TypeError, match="can't multiply sequence|unsupported operand"):
        fit(mlp(), [LearningRateScheduler(schedule)], epochs=1)


def test_learning_rate_scheduler_rejects_bad_schedules():
    with pytest.raises(TypeError, match=r"schedule must accept \(epoch\) or \(epoch, lr\)"):
        LearningRateScheduler(lambda epoch, lr, extra: lr)
    with pytest.raises(ValueError, match="the schedule must return a float, received None"):
        fit(mlp(), [LearningRateScheduler(lambda epoch: None)], epochs=1)
    with pytest.raises(ValueError, match="returned nan for epoch 0"):
        fit(mlp(), [LearningRateScheduler(lambda epoch: float("nan"))], epochs=1)


def test_learning_rate_scheduler_verbose_message(capsys):
    fit(mlp(), [LearningRateScheduler(lambda epoch: 0.01, verbose=1)], epochs=1)
    out = capsys.readouterr().out
    assert "Epoch 00001: LearningRateScheduler setting learning rate to 0.01." in out


# ------------------------------------------------------------------ TerminateOnNaN

def diverging():
    model = Sequential([Dense(3, input_shape=(4,))])
    model.compile(SGD(lr=1e30), loss="mse")
    x, _ = blobs()
    return model, x * 1e10, np.ones((64, 3)) * 1e20


def test_terminate_on_nan_sets_stop_training_on_a_nan_batch_loss(capsys):
    model, _, _ = diverging()
    cb = TerminateOnNaN()
    cb.set_model(model)
    cb.on_batch_end(0, {"loss": 1.5})
    assert not model.stop_training
    cb.on_batch_end(7, {"loss": float("nan")})
    assert model.stop_training
    assert capsys.readouterr().out == "Batch 7: Invalid loss, terminating training\n"


def test_fit_with_terminate_on_nan_ends_quietly_like_keras(capsys):
    model, x, y = diverging()
    with np.errstate(all="ignore"):
        history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[TerminateOnNaN()])
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    assert model.stop_training and len(history.epoch) <= 1


# ------------------------------------------------------------------ ProgbarLogger, BaseLogger

def test_progbar_logger_prints_epochs_and_values_and_is_quiet_at_verbose_0(capsys):
    fit(mlp(), [ProgbarLogger()], epochs=2)
    assert capsys.readouterr().out == ""                 # Keras: it follows fit's verbose
    x, y = blobs()
    mlp().fit(x, y, batch_size=16, epochs=2, verbose=2, callbacks=[ProgbarLogger("steps")])
    lines = capsys.readouterr().out.splitlines()
    assert lines.count("Epoch 2/2") == 2                 # fit's own line, and the logger's
    steps = [line for line in lines if "us/step" in line or "ms/step" in line]
    assert len(steps) == 2 and all("loss:" in s and "accuracy:" in s for s in steps)
    assert not any("acc:" in line for line in lines)     # the 'acc' alias is not repeated
    with pytest.raises(ValueError, match="count_mode must be 'samples' or 'steps'"):
        ProgbarLogger("batches")


def test_base_logger_averages_batch_logs_weighted_by_batch_size():
    logger, batches = BaseLogger(), []
    x, y = blobs(n=50)
    history = mlp().fit(x, y, batch_size=20, epochs=1, verbose=0, callbacks=[
        logger, LambdaCallback(on_batch_end=lambda b, logs: batches.append(dict(logs)))])
    assert logger.seen == 50
    expected = sum(b["loss"] * b["size"] for b in batches) / 50
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-6)


# ------------------------------------------------------------------ RemoteMonitor

@pytest.fixture
def server():
    """A local HTTP server that records each POST's path, content type and body."""
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body.decode()))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", received
    httpd.shutdown()
    httpd.server_close()


def test_remote_monitor_posts_each_epochs_logs(server):
    root, received = server
    history = fit(mlp(), [RemoteMonitor(root=root)], epochs=2)
    assert [r[:2] for r in received] == [("/publish/epoch/end/",
                                          "application/x-www-form-urlencoded")] * 2
    sent = json.loads(urllib.parse.parse_qs(received[1][2])["data"][0])
    assert sent["epoch"] == 1 and sent["loss"] == history.history["loss"][1]
    fit(mlp(), [RemoteMonitor(root=root, path="/p", send_as_json=True)], epochs=1)
    assert received[2][:2] == ("/p", "application/json")
    assert json.loads(received[2][2])["epoch"] == 0


def test_remote_monitor_warns_when_the_server_is_unreachable():
    with socket.socket() as s:                      # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.warns(UserWarning, match="RemoteMonitor: could not reach the root server"):
        fit(mlp(), [RemoteMonitor(root=f"http://127.0.0.1:{port}")], epochs=1)


# ------------------------------------------------------------------ LambdaCallback

def test_lambda_callback_keeps_extra_keyword_arguments_as_attributes():
    cb = LambdaCallback(on_train_end=lambda logs: None, log_file="x.json")
    assert cb.log_file == "x.json"


def test_callbacks_see_the_validation_arrays_like_keras_2_2():
    """Tutorial callbacks (an F1 score per epoch) read self.validation_data[0] and [1]."""
    x, y = blobs()
    seen = []

    class F1(Callback):
        def on_epoch_end(self, epoch, logs=None):
            predicted = self.model.predict(self.validation_data[0]).argmax(axis=1)
            seen.append(np.mean(predicted == self.validation_data[1]))

    model = mlp()
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[F1()])
    np.testing.assert_allclose(seen, history.history["val_accuracy"], rtol=1e-6)
