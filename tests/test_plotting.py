"""minidl.plotting writes PNGs without a display: learning curves, confusion
matrix, a grid of predictions. Each test reads the PNG back and checks its
pixel size, which the docstrings promise."""
import matplotlib
import matplotlib.image as mpimg
import numpy as np
import pytest

from minidl import plotting
from minidl.callbacks import History

CLASSES = ("zero", "one", "two")


def _png(path):
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    return image


def test_plot_history_from_a_dict_two_panels_1200x450(tmp_path):
    history = {"loss": [1.0, 0.6, 0.4], "accuracy": [0.5, 0.7, 0.8],
               "val_loss": [0.9, 0.7, 0.6], "val_accuracy": [0.55, 0.65, 0.7],
               "phase": [1, 1, 2]}          # run_recipe's history: a phase label per epoch
    path = plotting.plot_history(history, tmp_path / "curves.png", title="a run")
    assert path == str(tmp_path / "curves.png")
    image = _png(path)
    assert image.shape[:2] == (450, 1200)
    assert image[..., :3].std() > 0.05   # something was drawn, not a blank page


def test_plot_history_takes_a_history_object_with_keras_22_keys(tmp_path):
    h = History()
    for epoch, (loss, acc) in enumerate([(1.2, 0.4), (0.8, 0.6)]):
        h.on_epoch_end(epoch, {"loss": loss, "acc": acc})   # 'acc': Keras <= 2.2 key
    image = _png(plotting.plot_history(h, tmp_path / "h.png", dpi=50))
    assert image.shape[:2] == (225, 600)


def test_plot_history_refuses_what_is_not_a_history(tmp_path):
    with pytest.raises(TypeError, match="plot_history"):
        plotting.plot_history([0.1, 0.2], tmp_path / "x.png")
    with pytest.raises(ValueError, match="no 'loss'"):
        plotting.plot_history({"accuracy": [0.5]}, tmp_path / "x.png")


def test_confusion_matrix_counts_true_rows_predicted_columns():
    counts = plotting.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    with pytest.raises(ValueError, match="outside 0..2"):
        plotting.confusion_matrix([0, 3], [0, 1], 3)


def test_plot_confusion_matrix_800x700_from_labels_or_one_hot(tmp_path):
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 3, 60)
    y_prob = rng.random((60, 3))                # probabilities: argmax is the prediction
    image = _png(plotting.plot_confusion_matrix(y_true, y_prob, CLASSES, tmp_path / "cm.png"))
    assert image.shape[:2] == (700, 800)
    counts_path = plotting.plot_confusion_matrix(np.eye(3)[y_true], y_true, CLASSES,
                                                 tmp_path / "counts.png", normalize=False)
    assert _png(counts_path).shape[:2] == (700, 800)


def test_plot_predictions_grid_of_grey_and_colour_images(tmp_path):
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, 30)
    y_pred = y_true.copy()
    y_pred[:4] = (y_pred[:4] + 1) % 3           # four wrong: drawn in red
    grey = rng.random((30, 28, 28, 1)).astype(np.float32)
    image = _png(plotting.plot_predictions(grey, y_true, y_pred, CLASSES, tmp_path / "p.png"))
    assert image.shape[:2] == (840, 800)        # 25 images: 5 x 5 cells of 1.6 inches
    reds = (image[..., 0] > 0.8) & (image[..., 1] < 0.3) & (image[..., 2] < 0.3)
    assert reds.sum() > 20                      # the wrong titles are red
    colour = rng.integers(0, 256, (4, 32, 32, 3)).astype(np.uint8)
    image = _png(plotting.plot_predictions(colour, y_true[:4], y_true[:4], CLASSES,
                                           tmp_path / "c.png", n=4))
    assert image.shape[:2] == (int(100 * (1.6 * 2 + 0.4)), 320)


def test_plot_predictions_rejects_channels_first(tmp_path):
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        plotting.plot_predictions(np.zeros((4, 3, 8, 8)), [0] * 4, [0] * 4, CLASSES,
                                  tmp_path / "x.png")


def test_plotting_leaves_the_global_backend_alone(tmp_path):
    before = matplotlib.get_backend()
    plotting.plot_history({"loss": [1.0]}, tmp_path / "x.png")
    assert matplotlib.get_backend() == before
