"""``python -m minidl.studies --resume``: a recipe killed in its last phase
(study 000's augmented phase, after two phases and an lr change) goes on from
its last complete epoch and writes the same results as an uninterrupted run."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

ARGS = ["--models", "s000_cnn1", "--limit", "1024", "--max-epochs", "3", "--verbose", "0"]
TIMING = {"epoch_time_s", "wall_s", "peak_memory", "mean_epoch_s"}


def studies(out, *extra):
    return [sys.executable, "-m", "minidl.studies", *ARGS, "--out", str(out), *extra]


def without_timing(record):
    record = {k: v for k, v in record.items() if k not in TIMING | {"device_info", "versions"}}
    record["history"] = {k: v for k, v in record["history"].items() if k not in TIMING}
    record["phases"] = [{k: v for k, v in p.items() if k not in {"wall_s", "resumed_after_epoch"}}
                        for p in record["phases"]]
    return record


@pytest.fixture
def data_env():
    if not os.path.isdir(os.environ.get("MINIDL_DATA", "")):
        pytest.skip("real data: set MINIDL_DATA to the datasets folder (CI does)")
    return {**os.environ, "MINIDL_DEVICE": "cpu"}


def test_a_study_killed_in_its_augmented_phase_resumes_to_the_same_result(tmp_path, data_env):
    ref, out = tmp_path / "uninterrupted", tmp_path / "killed"
    subprocess.run(studies(ref), env=data_env, check=True, timeout=600, capture_output=True)

    run = subprocess.Popen(studies(out), env=data_env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    first_backup = out / ".backup" / "s000_cnn1" / "phase3" / "backup.npz"
    deadline = time.monotonic() + 600
    while not first_backup.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    run.send_signal(signal.SIGKILL)               # in phase 3, after at least one epoch
    assert run.wait(timeout=60) == -signal.SIGKILL, run.stderr.read().decode()
    assert not (out / "s000_cnn1.json").exists()
    assert (out / ".backup" / "s000_cnn1" / "phase2.json").exists()

    resumed = subprocess.run(studies(out, "--resume"), env=data_env, timeout=600,
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    got = json.loads((out / "s000_cnn1.json").read_text())
    expected = json.loads((ref / "s000_cnn1.json").read_text())
    assert got["phases"][2].get("resumed_after_epoch") in (1, 2, 3)
    assert without_timing(got) == without_timing(expected)
    assert not (out / ".backup" / "s000_cnn1").exists()     # removed once the run is done
    # The run's time counts the epochs of both sittings, not only the last one's.
    assert got["phases"][2]["wall_s"] >= sum(
        t for t, p in zip(got["history"]["epoch_time_s"], got["history"]["phase"]) if p == 3)
    assert got["wall_s"] >= sum(got["history"]["epoch_time_s"])


def test_resume_refuses_a_backup_made_with_other_settings(tmp_path, data_env):
    backup = tmp_path / ".backup" / "s000_cnn1"
    backup.mkdir(parents=True)
    (backup / "settings.json").write_text(json.dumps({"seed": 5}))
    done = subprocess.run(studies(tmp_path, "--resume"), env=data_env, timeout=120,
                          capture_output=True, text=True)
    assert done.returncode != 0 and "other settings" in done.stderr


def test_a_run_killed_between_two_phases_starts_the_next_from_where_the_last_ended(
        tmp_path, data_env):
    """Killed after phase 2 was evaluated but before phase 3 backed up an epoch:
    the model, the optimizer and the random streams come from phase 2's last backup."""
    from minidl import zoo
    kwargs = dict(max_epochs=2, limit=256, seed=3, verbose=0)
    reference = zoo.run_recipe("s000_cnn1", backup_dir=str(tmp_path), **kwargs)
    (tmp_path / "phase3.json").unlink()
    for f in (tmp_path / "phase3").iterdir():
        f.unlink()
    resumed = zoo.run_recipe("s000_cnn1", backup_dir=str(tmp_path), **kwargs)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "phase"):
        assert resumed["history"][key] == reference["history"][key], key
    assert [p["test_accuracy"] for p in resumed["phases"]] == \
        [p["test_accuracy"] for p in reference["phases"]]
    for a, b in zip(resumed["trained_model"].get_weights(), reference["trained_model"].get_weights()):
        assert (a == b).all()
