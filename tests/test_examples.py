"""The example scripts and ``python -m minidl.studies`` run from a shell and
leave the files they promise. Each runs in a subprocess on a few hundred
real images for one epoch (skipped without MINIDL_DATA)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = os.environ.get("MINIDL_DATA")
needs_data = pytest.mark.skipif(not (DATA and os.path.isdir(DATA)),
                                reason="real data: set MINIDL_DATA to a folder holding "
                                       "mnist/ and fashion-mnist/")


def _run(args, tmp_path, env=None, timeout=240):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MINIDL_CACHE": str(tmp_path / "cache"),
           **(env or {})}
    proc = subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=timeout)
    return proc


@needs_data
def test_fashion_cnn_trains_saves_and_draws(tmp_path):
    proc = _run([str(ROOT / "examples" / "fashion_cnn.py"), "--limit", "512", "--epochs", "1",
                 "--out", "tmp"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "recipe " in proc.stdout and "Test accuracy:" in proc.stdout
    out = tmp_path / "tmp"
    for name in ("model.npz", "curves.png", "predictions.png", "confusion_matrix.png"):
        assert (out / name).stat().st_size > 0, name
        assert str(Path("tmp") / name) in proc.stdout      # it says where it put them
    assert mpimg.imread(out / "predictions.png").shape[:2] == (840, 800)

    from minidl.models import load_model
    model = load_model(out / "model.npz")
    assert model.output_shape == (None, 10)


@needs_data
def test_fashion_tf_tutorial_plots_accuracy_per_epoch(tmp_path):
    proc = _run([str(ROOT / "examples" / "fashion_tf_tutorial.py"), "--limit", "256",
                 "--epochs", "2", "--out", "tmp"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Test Accuracy of model2: |" in proc.stdout
    assert (tmp_path / "tmp" / "model2_accuracy.png").stat().st_size > 0


def test_fashion_cnn_without_data_says_where_it_looked(tmp_path):
    empty = tmp_path / "no-data"
    empty.mkdir()
    # a proxy on a closed port: any download attempt fails at once; MINIDL_NO_APT:
    # a test never installs Debian's dataset-fashion-mnist; MINIDL_SYSTEM_DATA=0: nor
    # finds it, should this machine have it
    blocked = {"MINIDL_DATA": "", "http_proxy": "http://127.0.0.1:9",
               "https_proxy": "http://127.0.0.1:9", "MINIDL_NO_APT": "1",
               "MINIDL_SYSTEM_DATA": "0", "MINIDL_CACHE": str(tmp_path / "no-cache")}
    proc = _run([str(ROOT / "examples" / "fashion_cnn.py"), "--data", str(empty)], tmp_path,
                env=blocked)
    assert proc.returncode == 2
    assert "could not find" in proc.stderr and "MINIDL_DATA" in proc.stderr
    assert "Traceback" not in proc.stderr


@needs_data
def test_studies_runner_writes_json_curves_and_table(tmp_path):
    proc = _run(["-m", "minidl.studies", "--models", "s004_model1", "--max-epochs", "1",
                 "--limit", "256", "--out", "tmp"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "tmp"
    record = json.loads((out / "s004_model1.json").read_text())
    assert record["model"] == "s004_model1" and record["capped"] and record["limit"] == 256
    assert record["epochs_run"] == 1 and record["versions"]["numpy"]
    assert record["device_info"]["cpu_count"] >= 1
    assert (out / "s004_model1_curves.png").stat().st_size > 0
    table = (out / "README.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| s004_model1 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:4] == ["s004_model1", "004", "1/1", "89.43"]
    assert float(cells[4]) == pytest.approx(100 * record["phases"][0]["test_accuracy"], abs=0.01)
    assert cells[6] == "1 of 30"
    assert "not comparable" in table                  # capped and limited runs are flagged
