"""Pictures of a network's inside (minidl.plotting: filters, feature maps,
gradient statistics, histograms, optimizer paths, im2col) and the
GradientStats callback they draw from.

Every picture is checked twice: the Figure (``path=None``) has the promised
number of panels, and the PNG has the promised pixel size and is not blank.
The real-data test draws them all from a CNN trained on Fashion-MNIST
(MINIDL_DATA); the others use a small synthetic set and always run.
"""
import math

import matplotlib.image as mpimg
import numpy as np
import pytest

import minidl
from minidl import backend as K
from minidl import callbacks, plotting, zoo
from minidl.callbacks import GradientStats, wants_batch_logs
from minidl.exercises import shapes
from minidl.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from minidl.models import Sequential
from minidl.optimizers import SGD


def _png(path, size=None):
    """The PNG's pixels; checks the file is a real, non-blank picture of ``size`` (h, w)."""
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    image = mpimg.imread(path)
    if size is not None:
        assert image.shape[:2] == size
    assert image[..., :3].std() > 0.05          # something was drawn
    return image


def _pixels(width_in, height_in, dpi=100):
    return (round(height_in * dpi), round(width_in * dpi))


def _small_cnn():
    return Sequential([Conv2D(4, 3, activation="relu", input_shape=(28, 28, 1)),
                       MaxPooling2D(2), Conv2D(6, 3, activation="relu"), MaxPooling2D(2),
                       Flatten(), Dense(16, activation="relu"), Dropout(0.1),
                       Dense(10, activation="softmax")])


@pytest.fixture(scope="module")
def trained():
    """A small CNN trained 2 epochs on 400 synthetic shape images, with GradientStats."""
    saved = K.device(), K.floatx()
    K.set_device("cpu")
    x, y = shapes(400, seed=0)
    x = (x / 255.0).astype(np.float32)[..., None]
    minidl.seed(0)
    model = _small_cnn()
    model.compile(optimizer=SGD(lr=0.05, momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    stats = GradientStats()
    model.fit(x, y, batch_size=32, epochs=2, callbacks=[stats], verbose=0)
    yield model, stats, x
    K.set_device(saved[0])
    K.set_floatx(saved[1])


# ------------------------------------------------------------ GradientStats
def test_gradient_stats_is_a_public_callback_that_needs_no_batch_logs():
    assert callbacks.GradientStats is GradientStats and "GradientStats" in callbacks._PUBLIC
    assert not wants_batch_logs(GradientStats())   # a GPU never waits for it
    with pytest.raises(ValueError, match="every"):
        GradientStats(every=0)


def test_gradient_stats_records_every_weighted_layer_every_epoch(trained):
    model, stats, _ = trained
    weighted = [layer.name for layer in model.layers if layer.params]
    assert stats.layer_names == weighted and stats.epochs == [0, 1]
    for key in ("grad_norm", "weight_norm", "update_ratio"):
        for name in weighted:
            values = stats.history[key][name]
            assert len(values) == 2 and all(math.isfinite(v) and v > 0 for v in values)


def test_gradient_stats_values_are_the_norms_of_the_step(xp):
    """One SGD step (one batch): the norms can be computed by hand. On each backend."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 5)), rng.integers(0, 3, 16)
    minidl.seed(1)
    model = Sequential([Dense(4, activation="tanh", input_shape=(5,)),
                        Dense(3, activation="softmax")])
    model.compile(optimizer=SGD(lr=0.1), loss="sparse_categorical_crossentropy")
    before = [w.astype(np.float64) for w in model.get_weights()]
    stats = GradientStats()
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, callbacks=[stats], verbose=0)
    after = [w.astype(np.float64) for w in model.get_weights()]
    for i, layer in enumerate(model.layers):
        grads = [K.to_numpy(layer.grads[n]).astype(np.float64) for n in ("kernel", "bias")]
        w0, w1 = before[2 * i:2 * i + 2], after[2 * i:2 * i + 2]
        norm = lambda arrays: math.sqrt(sum((a * a).sum() for a in arrays))  # noqa: E731
        assert stats.history["grad_norm"][layer.name][0] == pytest.approx(norm(grads), rel=1e-5)
        assert stats.history["weight_norm"][layer.name][0] == pytest.approx(norm(w1), rel=1e-5)
        update = norm([b - a for a, b in zip(w0, w1)]) / norm(w0)
        assert stats.history["update_ratio"][layer.name][0] == pytest.approx(update, rel=1e-4)
        # plain SGD moves w by lr * g: the ratio is lr |g| / |w|
        assert update == pytest.approx(0.1 * norm(grads) / norm(w0), rel=1e-4)


def test_gradient_stats_every_n_averages_the_sampled_steps(xp):
    """every=2 over 4 batches: the mean of steps 0 and 2, as replayed step by step."""
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(32, 5)).astype(np.float32), rng.integers(0, 3, 32)

    def model():
        minidl.seed(3)
        m = Sequential([Dense(3, activation="softmax", input_shape=(5,))])
        m.compile(optimizer=SGD(lr=0.5), loss="sparse_categorical_crossentropy")
        return m
    replay, norms = model(), []
    for start in range(0, 32, 8):
        replay.train_on_batch(x[start:start + 8], y[start:start + 8])
        g = replay.layers[0].grads
        norms.append(math.sqrt(sum(float((K.to_numpy(g[n]).astype(np.float64) ** 2).sum())
                                   for n in g)))
    m = model()
    stats = GradientStats(every=2)
    m.fit(x, y, batch_size=8, epochs=1, shuffle=False, callbacks=[stats], verbose=0)
    name = m.layers[0].name
    assert stats.history["grad_norm"][name][0] == pytest.approx((norms[0] + norms[2]) / 2,
                                                                rel=1e-5)


def test_gradient_stats_shows_the_sigmoid_mlp_gradient_vanishing(xp):
    """Study 003's sigmoid MLP: the first layer's gradient is far smaller than the last's."""
    x, y = shapes(512, seed=4)
    x = (x / 255.0).reshape(len(x), -1).astype(np.float32)
    minidl.seed(0)
    model = zoo.mnist_mlp_sigmoid()
    model.compile(optimizer=SGD(lr=0.01), loss="sparse_categorical_crossentropy")
    stats = GradientStats()
    model.fit(x, y, batch_size=128, epochs=1, callbacks=[stats], verbose=0)
    g = stats.history["grad_norm"]
    first, last = g[stats.layer_names[0]][0], g[stats.layer_names[-1]][0]
    assert first < last / 5


# ------------------------------------------------------------ the pictures
def test_plot_gradient_stats_four_panels_1200x800(trained, tmp_path):
    _, stats, _ = trained
    fig = plotting.plot_gradient_stats(stats)
    assert len(fig.axes) == 4
    _png(plotting.plot_gradient_stats(stats, tmp_path / "g.png"), (800, 1200))
    # the history dict alone works too (layers in its order)
    assert len(plotting.plot_gradient_stats(stats.history).axes) == 4
    with pytest.raises(TypeError, match="GradientStats"):
        plotting.plot_gradient_stats({"loss": [1.0]})


def test_plot_conv_filters_one_panel_per_filter(trained, tmp_path):
    model, _, _ = trained
    assert len(plotting.plot_conv_filters(model).axes) == 4            # the first Conv2D
    assert len(plotting.plot_conv_filters(model, layer=2).axes) == 6   # the second one
    rows, cols = 2, 2
    _png(plotting.plot_conv_filters(model, tmp_path / "f.png"),
         _pixels(1.2 * cols, 1.2 * rows + 0.5))
    rgb = np.random.default_rng(0).normal(size=(5, 5, 3, 7))          # a kernel array, RGB
    assert len(plotting.plot_conv_filters(rgb).axes) == 7
    with pytest.raises(ValueError, match="no Conv2D"):
        plotting.plot_conv_filters(Sequential([Dense(2, input_shape=(3,))]))


def test_plot_feature_maps_input_plus_each_conv_and_pool_layer(trained, tmp_path):
    model, _, x = trained
    fig = plotting.plot_feature_maps(model, x[0], max_channels=5)
    assert len(fig.axes) == 1 + 4 + 4 + 5 + 5     # input; conv 4 ch; pool 4; conv 6 -> 5; pool 5
    _png(plotting.plot_feature_maps(model, x[:1], tmp_path / "m.png", max_channels=5),
         _pixels(1.3 * 5, 1.3 * 5 + 0.5))
    with pytest.raises(ValueError, match=r"\(H, W, C\)"):
        plotting.plot_feature_maps(model, x[:2])


def test_weight_and_activation_histograms_one_panel_per_layer(trained, tmp_path):
    model, _, x = trained
    weighted = sum(1 for layer in model.layers if layer.params)              # 4
    assert len(plotting.plot_weight_histograms(model).axes) == weighted
    assert len(plotting.plot_activation_histograms(model, x[:20]).axes) == len(model.layers)
    _png(plotting.plot_weight_histograms(model, tmp_path / "w.png"),
         _pixels(3.2 * 2, 2.6 * 2 + 0.4))                                    # 4 layers: 2 x 2
    _png(plotting.plot_activation_histograms(model, x[:20], tmp_path / "a.png"),
         _pixels(3.2 * 3, 2.6 * 3 + 0.4))                                    # 8 layers: 3 x 3


def test_plot_optimizer_paths_two_panels_1300x550(tmp_path):
    f = lambda a, b: 0.5 * a ** 2 + 5 * b ** 2 + 0.01  # noqa: E731
    paths = {"a": np.array([[-1.0, 1.0], [-0.5, 0.2], [-0.1, 0.0]]),
             "b": np.array([[-1.0, 1.0], [-0.9, -0.5], [0.0, 0.1]])}
    fig = plotting.plot_optimizer_paths(f, paths)
    assert len(fig.axes) == 2 and len(fig.axes[0].get_legend().get_texts()) == 2
    _png(plotting.plot_optimizer_paths(f, paths, tmp_path / "o.png", minimum=(0, 0)), (550, 1300))
    with pytest.raises(ValueError, match="steps, 2"):
        plotting.plot_optimizer_paths(f, {"bad": np.zeros((3, 3))})


def test_plot_im2col_two_panels_1200x500(tmp_path):
    fig = plotting.plot_im2col(4, 5, (3, 3), (1, 1), "same", highlight=6)
    assert len(fig.axes) == 2
    _png(plotting.plot_im2col(5, 5, (2, 2), (2, 2), "valid", tmp_path / "i.png"), (500, 1200))
    with pytest.raises(ValueError, match="highlight"):
        plotting.plot_im2col(4, 4, (3, 3), highlight=4)


@pytest.mark.slow
def test_every_picture_from_a_cnn_trained_on_fashion_mnist(fashion_mnist_small, tmp_path, xp):
    """Study 004's CNN, 1 epoch on 4,000 real images: every picture of its inside,
    and the existing curves, confusion matrix and prediction grid."""
    (x, y), (xt, yt) = fashion_mnist_small
    minidl.seed(0)
    model = zoo.fashion_tf_cnn()
    model.compile(optimizer=SGD(lr=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    stats = GradientStats()
    history = model.fit(x, y, batch_size=32, epochs=1, validation_data=(xt, yt),
                        callbacks=[stats], verbose=0)
    assert history.history["val_accuracy"][-1] > 0.4     # one epoch: chance is 0.1
    names = zoo.CLASS_NAMES["fashion_mnist"]
    predicted = model.predict(xt).argmax(axis=1)
    inside = {   # name: (figure, panels)
        "filters": (plotting.plot_conv_filters(model), 16),
        "maps": (plotting.plot_feature_maps(model, xt[0]), 1 + 4 * 8),   # 16 and 32 ch -> 8
        "gradients": (plotting.plot_gradient_stats(stats), 4),
        "weights": (plotting.plot_weight_histograms(model), 4),
        "activations": (plotting.plot_activation_histograms(model, xt[:100]), 7),
    }
    for name, (fig, panels) in inside.items():
        assert len(fig.axes) == panels, name
        fig.savefig(tmp_path / f"{name}.png", dpi=fig.dpi)
        _png(tmp_path / f"{name}.png")
    _png(plotting.plot_history(history, tmp_path / "curves.png"), (450, 1200))
    _png(plotting.plot_confusion_matrix(yt, predicted, names, tmp_path / "cm.png"), (700, 800))
    _png(plotting.plot_predictions(xt, yt, predicted, names, tmp_path / "p.png"), (840, 800))
    # gradients reached every layer, and the first conv learned
    first = stats.layer_names[0]
    assert stats.history["grad_norm"][first][0] > 0
    assert stats.history["update_ratio"][first][0] > 1e-5
