"""BackupAndRestore: a run killed and started again ends exactly where an
uninterrupted run ends.

The program below trains a small Conv/BatchNorm/Dropout model on an augmented
flow whose passes do not line up with fit's epochs, with EarlyStopping,
ReduceLROnPlateau and a CSVLogger that all carry state from epoch to epoch.
Run as a subprocess, it is killed with SIGKILL in the middle of an epoch, then
run again: the weights, the History and the CSV log must be bit for bit those
of a run that was never interrupted. On the CPU, and on the GPU (or the CuPy
stand-in that takes its place in CI).
"""
import json
import os
import pathlib
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import python_argv

PROGRAM = r'''
import json, os, signal, sys
import numpy as np
import minidl
from minidl.callbacks import (BackupAndRestore, Callback, CSVLogger, EarlyStopping,
                              ReduceLROnPlateau)
from minidl.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from minidl.models import Sequential
from minidl.optimizers import Adam
from minidl.preprocessing.image import ImageDataGenerator

out = sys.argv[1]
kill_at = os.environ.get("KILL_AT")            # "epoch:batch", 0-based

class KillMidEpoch(Callback):
    def on_batch_end(self, batch, logs=None):
        if kill_at and (self.epoch, batch) == tuple(map(int, kill_at.split(":"))):
            os.kill(os.getpid(), signal.SIGKILL)
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

minidl.seed(7)
rng = np.random.default_rng(0)
x = rng.random((40, 8, 8, 1)).astype("float32")
y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype("int64")
model = Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
                    BatchNormalization(), MaxPooling2D(), Dropout(0.3), Flatten(),
                    Dense(2, activation="softmax")])
model.compile(Adam(lr=0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
flow = ImageDataGenerator(rotation_range=10, width_shift_range=0.1).flow(x, y, batch_size=8)
backup = BackupAndRestore(os.path.join(out, "backup"), delete_checkpoint=False)
history = model.fit_generator(
    flow, steps_per_epoch=3, epochs=6, verbose=0, validation_data=(x[:16], y[:16]),
    callbacks=[KillMidEpoch(), EarlyStopping(monitor="val_loss", patience=10),
               ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5),
               CSVLogger(os.path.join(out, "log.csv")),
               backup])
np.savez(os.path.join(out, "weights.npz"), *model.get_weights())
with open(os.path.join(out, "history.json"), "w") as f:
    json.dump({"epoch": history.epoch, "history": history.history,
               "resumed_from": backup.resumed_from}, f)
'''


def run(out, device, kill_at=None):
    out.mkdir(exist_ok=True)
    script = out.parent / "program.py"
    script.write_text(PROGRAM)
    env = {k: v for k, v in os.environ.items() if k != "KILL_AT"}
    env["MINIDL_DEVICE"] = device
    if kill_at:
        env["KILL_AT"] = kill_at
    return subprocess.run(python_argv(str(script), str(out)), env=env,
                          capture_output=True, text=True, timeout=300)


def results(out):
    weights = np.load(out / "weights.npz")
    return ([weights[k] for k in sorted(weights.files, key=lambda k: int(k.split("_")[1]))],
            json.loads((out / "history.json").read_text()), (out / "log.csv").read_text())


@pytest.fixture
def uninterrupted(tmp_path_factory, child_device):
    """The reference: the same program run through without a kill, on the same device."""
    out = tmp_path_factory.mktemp(f"uninterrupted_{child_device}") / "run"
    done = run(out, child_device)
    assert done.returncode == 0, done.stderr
    return results(out)


def assert_same_run(resumed, reference):
    for got, expected in zip(resumed[0], reference[0]):
        np.testing.assert_array_equal(got, expected)      # bit for bit
    assert resumed[1]["history"] == reference[1]["history"]
    assert resumed[1]["epoch"] == reference[1]["epoch"] == list(range(6))
    assert resumed[2] == reference[2]                        # the CSV log, row for row


def test_a_run_killed_mid_epoch_resumes_to_the_same_weights_and_history(
        tmp_path, child_device, uninterrupted):
    out = tmp_path / "run"
    killed = run(out, child_device, kill_at="3:1")            # SIGKILL in epoch 4's 2nd batch
    assert killed.returncode == -signal.SIGKILL
    assert not (out / "weights.npz").exists()
    resumed = run(out, child_device)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((out / "history.json").read_text())["resumed_from"] == 3
    assert_same_run(results(out), uninterrupted)


def test_a_truncated_backup_is_detected_and_the_previous_one_used(
        tmp_path, child_device, uninterrupted):
    out = tmp_path / "run"
    assert run(out, child_device, kill_at="4:0").returncode == -signal.SIGKILL
    latest = out / "backup" / "backup.npz"
    data = latest.read_bytes()
    latest.write_bytes(data[:len(data) // 2])                # as if cut off mid-write
    resumed = run(out, child_device)
    assert resumed.returncode == 0, resumed.stderr
    assert "trying the backup before it" in resumed.stderr
    assert json.loads((out / "history.json").read_text())["resumed_from"] == 3
    assert_same_run(results(out), uninterrupted)


def test_a_finished_run_started_again_trains_no_further(tmp_path, child_device, uninterrupted):
    out = tmp_path / "run"
    assert run(out, child_device).returncode == 0
    again = run(out, child_device)
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "history.json").read_text())["resumed_from"] == 6
    assert_same_run(results(out), uninterrupted)
