"""benchmarks/gpu_check.sh, the one-command GPU check, as far as a machine without a GPU
can try it: it parses, its dry run prints the plan (inside 8 minutes) and checks the
data folder, it refuses clearly when data or a GPU is missing, and ./dev.sh runs it.
"""
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "benchmarks", "gpu_check.sh")
FASHION = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
STEPS = ["preflight", "data", "tests", "bench", "s000_vgg_bn", "s002_large_cnn_100ep",
         "s002_cnn_48_96_192", "s002_cnn_48_96_192_dropout"]


def _data(tmp_path, cifar="cifar10-jpg.tar.gz", fashion=FASHION):
    """A data folder laid out as the loaders look for it (file contents do not matter here)."""
    folder = tmp_path / "data"
    (folder / "fashion-mnist").mkdir(parents=True)
    for name in fashion:
        (folder / "fashion-mnist" / name).write_bytes(b"\0" * 3000)
    if cifar:
        path = folder / cifar
        path.parent.mkdir(parents=True, exist_ok=True)
        if cifar.endswith("-bin"):
            path.mkdir()
            (path / "data_batch_1.bin").write_bytes(b"\0" * 5000)
        else:
            path.write_bytes(b"\0" * 2000)
    return folder


def _run(*args, script=("bash", SCRIPT), **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("MINIDL_DATA", "OUT")}
    environ.update(PYTHON=sys.executable, **env)
    return subprocess.run([*script, *args], capture_output=True, text=True, env=environ,
                          cwd=REPO, timeout=120)


def test_the_script_parses():
    out = subprocess.run(["bash", "-n", SCRIPT], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_dry_run_prints_the_plan_within_eight_minutes_and_the_data_it_found(tmp_path):
    data = _data(tmp_path)
    out = _run("--dry-run", "--data", str(data), "--out", str(tmp_path / "out"))
    assert out.returncode == 0, out.stdout + out.stderr
    for step in STEPS:
        assert step in out.stdout
    budgets = [int(s) for s in re.findall(r"^  \S.*?\s(\d+)s  ", out.stdout, re.M)]
    assert len(budgets) == len(STEPS) and sum(budgets) <= 470 < 480
    for name in FASHION:
        assert re.search(rf"fashion-mnist/{name}\s+3 KiB  ok", out.stdout)
    assert re.search(r"cifar10-jpg.tar.gz\s+2 KiB  ok", out.stdout)
    assert "mnist/" in out.stdout and "optional" in out.stdout
    assert f"Data folder: {data}" in out.stdout and "Dry run: nothing was run." in out.stdout
    assert not (tmp_path / "out").exists()  # a dry run writes nothing


def test_the_data_folder_may_come_from_minidl_data(tmp_path):
    data = _data(tmp_path, cifar="cifar-10/cifar-10-batches-bin")
    out = _run("--dry-run", MINIDL_DATA=str(data))
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"Data folder: {data}" in out.stdout
    assert re.search(r"cifar-10/cifar-10-batches-bin\s+\d+ KiB  ok", out.stdout)


def test_a_data_folder_without_cifar10_is_refused_by_name(tmp_path):
    out = _run("--dry-run", "--data", str(_data(tmp_path, cifar=None)))
    assert out.returncode == 2
    assert "refused: the data folder" in out.stderr and "CIFAR-10" in out.stderr
    assert "MISSING" in out.stdout


def test_a_missing_fashion_mnist_file_is_refused_by_name(tmp_path):
    out = _run("--dry-run", "--data", str(_data(tmp_path, fashion=FASHION[1:])))
    assert out.returncode == 2 and "fashion-mnist/train-images-idx3-ubyte" in out.stderr


def test_the_benchmark_alone_needs_no_data(tmp_path):
    out = _run("--dry-run", "--steps", "bench", "--data", str(tmp_path / "none"))
    assert out.returncode == 0, out.stderr
    assert "bench" in out.stdout and "vgg" not in out.stdout


def test_bad_arguments_are_refused():
    assert _run("--steps", "tests,warp").returncode == 2
    out = _run("--frobnicate")
    assert out.returncode == 2 and "unknown argument '--frobnicate'" in out.stderr


def _real_gpu_visible():
    probe = "import cupy, sys; sys.exit(0 if cupy.cuda.runtime.getDeviceCount() > 0 else 1)"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


def test_without_a_gpu_it_refuses_with_a_clear_message(tmp_path):
    if _real_gpu_visible():
        pytest.skip("a real GPU is visible here: the check would run, not refuse")
    out = _run("--data", str(_data(tmp_path)), "--out", str(tmp_path / "out"))
    assert out.returncode == 3, out.stdout + out.stderr
    assert "gpu_check: refused: no usable GPU here: CuPy" in out.stderr
    assert "--dry-run prints the plan without one" in out.stderr
    log = (tmp_path / "out" / "gpu_check.log").read_text()
    assert "[preflight] failed (exit 3)" in log and "[tests]" not in log


def test_dev_sh_gpu_check_runs_the_script(tmp_path):
    out = _run("gpu-check", "--dry-run", "--data", str(_data(tmp_path)),
               script=("bash", os.path.join(REPO, "dev.sh")))
    assert out.returncode == 0, out.stderr
    assert "minidl GPU check: the plan" in out.stdout
