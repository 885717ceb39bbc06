"""The GPU path of training, end to end: same numbers as NumPy, a fixed host-sync
budget per epoch, and no float64 in a float32 step.

These run on CuPy: a real GPU, or the strict CuPy stand-in (MINIDL_CUPY_STANDIN=1,
as CI runs them; tests/cupy_standin). The budget and dtype tests read the
stand-in's counters, so they need the stand-in itself.
"""
import numpy as np
import pytest
from conftest import cupy_standin_active

import minidl
from minidl import backend as K
from minidl import optimizers
from minidl.layers import (Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                           MaxPooling2D)
from minidl.models import Sequential
from minidl.utils.progbar import EpochProgress

needs_gpu = pytest.mark.skipif(
    not K.gpu_available(),
    reason="needs CuPy: a visible GPU, or the CuPy stand-in (MINIDL_CUPY_STANDIN=1; CI sets it)")
needs_standin = pytest.mark.skipif(
    not cupy_standin_active(),
    reason="reads the CuPy stand-in's host-sync and dtype counters: needs "
           "MINIDL_CUPY_STANDIN=1 (CI sets it)")


@pytest.fixture
def device():
    """Set the device and float type for one test; both restored after."""
    saved = K.device(), K.floatx()

    def use(name, floatx="float32"):
        K.set_device(name)
        K.set_floatx(floatx)
    yield use
    K.set_device(saved[0])
    K.set_floatx(saved[1])


def small_cnn(optimizer="adam", input_shape=(8, 8, 1)):
    """Conv -> BN -> ReLU -> MaxPool -> Conv -> Dropout -> Dense: every kind of
    kernel, and a conv below another layer, whose backward needs col2im.
    No bias in the first conv: before BN its true gradient is 0, and Adam would
    scale the rounding noise of that 0 up to a step."""
    model = Sequential([
        Conv2D(4, 3, padding="same", use_bias=False, input_shape=input_shape),
        BatchNormalization(),
        Activation("relu"),
        MaxPooling2D(),
        Conv2D(4, 3, padding="same", activation="tanh"),
        Dropout(0.25),
        Flatten(),
        Dense(3, activation="softmax"),
    ])
    model.compile(optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n, input_shape=(8, 8, 1), seed=0):
    """n host images and labels of 3 classes."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *input_shape)), rng.integers(0, 3, n)


# ------------------------------------------------- same weights as NumPy ---

def share_random_draws(monkeypatch, seed):
    """Dropout masks and shuffles from one NumPy generator on both backends.

    NumPy and CuPy have different generators (PCG64, cuRAND's XORWOW), so the
    same seed gives different masks. Here both backends draw from one NumPy
    generator and move the draws to the active device with K.asarray; everything
    else stays minidl's own code on each backend."""
    shared = np.random.default_rng(seed)

    def random_uniform(shape, low=0.0, high=1.0, dtype=None):
        u = shared.random(shape) * (high - low) + low
        return K.asarray(u.astype(dtype or K.floatx()))

    monkeypatch.setattr(K, "random_uniform", random_uniform)
    monkeypatch.setattr(K, "permutation", lambda n: K.asarray(shared.permutation(n)))


@needs_gpu
@pytest.mark.parametrize("optimizer", [
    lambda: optimizers.SGD(lr=0.1, momentum=0.9, nesterov=True),
    lambda: optimizers.Adam(lr=0.01),
], ids=["sgd_nesterov", "adam"])
def test_training_on_cupy_gives_the_weights_of_numpy(device, monkeypatch, optimizer):
    """Two epochs of 3 batches (shuffled, dropout on): float64 weights, the
    BatchNormalization statistics and the losses agree to 1e-12.

    The dropout masks and the shuffles come from one shared NumPy generator on
    both backends (see share_random_draws); the layers, kernels and optimizer
    are minidl's real code on NumPy and on CuPy."""
    x, y = data(24, input_shape=(8, 8, 2))
    runs = {}
    for name in ("cpu", "gpu"):
        device(name, "float64")
        share_random_draws(monkeypatch, seed=5)
        minidl.seed(3)  # same initial weights: drawn on the host
        model = small_cnn(optimizer(), input_shape=(8, 8, 2))
        history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        on_device = not isinstance(model.layers[0].params["kernel"], np.ndarray)
        assert on_device == (name == "gpu")
        runs[name] = model.get_weights(), history.history["loss"]
    (w_cpu, loss_cpu), (w_gpu, loss_gpu) = runs["cpu"], runs["gpu"]
    assert len(w_cpu) == len(w_gpu) == 9  # conv 1, BN 4, conv 2, dense 2
    for a, b in zip(w_cpu, w_gpu):
        assert a.dtype == b.dtype == np.float64
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(loss_gpu, loss_cpu, rtol=1e-12)


# -------------------------------------------------- host-sync budget ---

def counted_fit(n_batches, validation=False, verbose=0, batch_size=4):
    """The stand-in's counters over one epoch of fit on n_batches batches
    (and n_batches / 2 validation batches)."""
    from cupy_standin import counters
    minidl.seed(0)
    model = small_cnn()
    x, y = data(n_batches * batch_size)
    kwargs = {}
    if validation:
        kwargs["validation_data"] = data(n_batches * batch_size // 2, seed=1)
    counters.reset()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=verbose, **kwargs)
    return counters.snapshot()


@needs_standin
@pytest.mark.parametrize("validation", [False, True], ids=["train", "with_validation"])
def test_an_epoch_costs_the_same_host_syncs_for_4_or_12_batches(device, validation):
    """Loss, metrics and the NaN check stay on the device until the epoch ends:
    the syncs and transfers of an epoch do not grow with the batches."""
    device("gpu")
    few, many = counted_fit(4, validation), counted_fit(12, validation)
    assert few == many, f"4 batches: {few}, 12 batches: {many}"
    # per data set: x and y to the device, the label range and the NaN check of x;
    # per epoch: the loss, the accuracy and the NaN flag (x2 with validation)
    assert few["syncs"] <= 12 and few["host_transfers"] <= 16, few


@needs_standin
def test_the_progress_bar_is_the_only_extra_sync_per_batch(device, monkeypatch, capsys):
    """verbose=2 prints one line per epoch from the epoch's totals: no extra sync.
    verbose=1 reads the running values only when the bar refreshes (every 0.1 s,
    progbar.EpochProgress.due); made due on every batch here, the extra syncs are
    exactly those of the refreshes, a few per refresh."""
    from cupy_standin import counters
    device("gpu")
    quiet = counted_fit(6)
    assert counted_fit(6, verbose=2) == quiet
    refreshes = []
    update = EpochProgress.update

    def counting_update(self, n, running=None):
        def counted_running():
            before = counters.snapshot()
            values = running()
            after = counters.snapshot()
            refreshes.append({k: after[k] - before[k] for k in after})
            return values
        return update(self, n, counted_running if running is not None else None)

    monkeypatch.setattr(EpochProgress, "update", counting_update)
    monkeypatch.setattr(EpochProgress, "due", lambda self: self.bar is not None)
    bar = counted_fit(6, verbose=1)
    assert len(refreshes) == 6  # one per batch: the worst case
    for key in quiet:
        assert bar[key] - quiet[key] == sum(r[key] for r in refreshes), (key, bar, quiet)
    per_refresh = refreshes[0]["syncs"]
    assert all(r["syncs"] == per_refresh for r in refreshes)
    assert 1 <= per_refresh <= 3  # the NaN flag, the loss, the accuracy
    assert "Epoch 1/1" in capsys.readouterr().out


# --------------------------------------------- no float64 in a float32 step ---

@needs_standin
@pytest.mark.parametrize("optimizer", [
    lambda: optimizers.SGD(lr=0.01, momentum=0.9, decay=1e-3),
    lambda: optimizers.SGD(lr=0.01, momentum=0.9, nesterov=True),
    lambda: optimizers.Adam(decay=1e-3),
    lambda: optimizers.Adam(amsgrad=True),
    lambda: optimizers.RMSprop(clipnorm=1.0),
    lambda: optimizers.Adadelta(),
    lambda: optimizers.Adagrad(clipvalue=0.5),
    lambda: optimizers.Adamax(),
    lambda: optimizers.Nadam(),
], ids=["sgd_momentum_decay", "sgd_nesterov", "adam_decay", "amsgrad", "rmsprop_clipnorm",
        "adadelta", "adagrad_clipvalue", "adamax", "nadam"])
def test_a_float32_training_step_makes_no_float64_array(device, optimizer):
    """Forward, loss, backward and update of the first two steps (the first makes
    the optimizer's state): every device array they create is float32 (or an
    integer index), none float64 (CuPy would compute in float64, slowly)."""
    from cupy_standin import counters
    device("gpu")
    minidl.seed(0)
    model = small_cnn(optimizer())
    xb, yb = model._arrays(*data(8), "test")
    with counters.watch_dtypes() as seen:
        for _ in range(2):
            model._train_step(xb, yb)
    assert "float64" not in seen, f"float64 arrays made at {seen['float64']}"
    assert "float32" in seen
