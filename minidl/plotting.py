"""Pictures of training: learning curves, a confusion matrix, predictions
(and, from plotting_inside.py, pictures of a network's inside).

Every function draws on its own ``matplotlib.figure.Figure`` with the Agg
canvas and writes a PNG, so it works without a display and never switches
the global matplotlib backend of an interactive user. Each returns the path
it wrote.
"""
import math
import os
from itertools import groupby

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

_CURVES = (("loss", "Loss"), ("accuracy", "Accuracy"))


def _figure(width, height, dpi):
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(path, dpi=fig.dpi)  # no bbox_inches='tight': the pixel size stays as documented
    return path


def _history_dict(history):
    if hasattr(history, "history"):   # a History object returned by fit()
        history = history.history
    if not isinstance(history, dict):
        raise TypeError(f"plot_history: expected a History or a dict of per-epoch lists, "
                        f"received {type(history).__name__}")
    return history


def _values(history, key):
    """The per-epoch list of ``key``, also under Keras < 2.3's name 'acc'."""
    for k in (key, key.replace("accuracy", "acc")):
        if history.get(k):
            return list(history[k])
    return None


def plot_history(history, path, title=None, phases=None, dpi=100):
    """Loss and accuracy per epoch, training vs validation, in two panels.

    history: a ``History`` (``model.fit(...)``'s result) or a dict of
      per-epoch lists: 'loss', 'accuracy' (or Keras < 2.3's 'acc'), and
      'val_loss', 'val_accuracy' when there was validation data.
    phases: epochs per training phase, e.g. [10, 10, 50]: a dashed line
      marks where each phase starts. Defaults to ``history['phase']`` (one
      phase label per epoch, as ``minidl.zoo.run_recipe`` returns) if present.
    Writes a PNG of 12 x 4.5 inches at ``dpi`` (1200 x 450 pixels at 100).
    """
    history = _history_dict(history)
    if _values(history, "loss") is None:
        raise ValueError(f"plot_history: the history has no 'loss' values; keys: "
                         f"{sorted(history)}")
    if phases is None and history.get("phase"):
        labels = list(history["phase"])
        phases = [sum(1 for _ in group) for _, group in groupby(labels)]
    fig = _figure(12, 4.5, dpi)
    axes = fig.subplots(1, 2)
    for ax, (key, label) in zip(axes, _CURVES):
        train, val = _values(history, key), _values(history, "val_" + key)
        if train:
            ax.plot(range(1, len(train) + 1), train, "o-", ms=3, label="train")
        if val:
            ax.plot(range(1, len(val) + 1), val, "o-", ms=3, label="validation")
        if phases and len(phases) > 1:
            start = 0
            for n in phases[:-1]:
                start += n
                ax.axvline(start + 0.5, color="grey", ls="--", lw=1)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if train or val:
            ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def confusion_matrix(y_true, y_pred, num_classes):
    """counts[i, j]: samples of true class i predicted as j. y_true, y_pred: (N,) ints."""
    y_true = np.asarray(y_true).reshape(-1).astype(np.int64)
    y_pred = np.asarray(y_pred).reshape(-1).astype(np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"confusion_matrix: y_true and y_pred must have the same length, "
                         f"received {y_true.shape[0]} and {y_pred.shape[0]}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(f"confusion_matrix: {name} holds labels outside 0..{num_classes - 1}")
    return np.bincount(y_true * num_classes + y_pred,
                       minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _labels(y, what):
    """Integer labels (N,) from labels (N,) / (N, 1) or one-hot / probabilities (N, K)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    if y.ndim == 2 and y.shape[1] == 1 or y.ndim == 1:
        return y.reshape(-1).astype(np.int64)
    raise ValueError(f"{what}: expected labels (N,) or one-hot (N, K), received shape {y.shape}")


def plot_confusion_matrix(y_true, y_pred, class_names, path, normalize=True, title=None,
                          dpi=100):
    """The confusion matrix as a heat map: rows true class, columns predicted.

    y_true, y_pred: integer labels (N,), or one-hot / probabilities (N, K).
    normalize: show each row as fractions of that class (else counts).
    Writes a PNG of 8 x 7 inches at ``dpi`` (800 x 700 pixels at 100).
    """
    yt = _labels(y_true, "plot_confusion_matrix: y_true")
    yp = _labels(y_pred, "plot_confusion_matrix: y_pred")
    k = len(class_names)
    counts = confusion_matrix(yt, yp, k)
    shown = counts.astype(np.float64)
    if normalize:
        shown /= np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig = _figure(8, 7, dpi)
    ax = fig.subplots()
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticklabels(class_names, rotation=45, ha="right")
    ax.set_yticklabels(class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if k <= 20:  # beyond that the numbers no longer fit in their cells
        threshold = shown.max() / 2
        for i in range(k):
            for j in range(k):
                ax.text(j, i, f"{shown[i, j]:.2f}" if normalize else str(counts[i, j]),
                        ha="center", va="center", fontsize=8,
                        color="white" if shown[i, j] > threshold else "black")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(title or f"Confusion matrix (accuracy {accuracy:.2%})")
    fig.tight_layout()
    return _save(fig, path)


def plot_predictions(images, y_true, y_pred, class_names, path, n=25, title=None, dpi=100):
    """A grid of the first ``n`` images, each titled 'predicted (true)';
    wrong predictions in red.

    images: (N, H, W), (N, H, W, 1) grey or (N, H, W, 3) colour, any range
      (each image is scaled to its own min..max for display).
    y_true, y_pred: integer labels (N,), or one-hot / probabilities (N, K).
    Writes a PNG of (1.6 * columns) x (1.6 * rows + 0.4) inches at ``dpi``,
    with ceil(sqrt(n)) columns (800 x 840 pixels for n=25 at 100).
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise ValueError(f"plot_predictions: images must be (N, H, W), (N, H, W, 1) or "
                         f"(N, H, W, 3), received shape {images.shape}")
    yt = _labels(y_true, "plot_predictions: y_true")
    yp = _labels(y_pred, "plot_predictions: y_pred")
    n = min(int(n), len(images), len(yt), len(yp))
    if n < 1:
        raise ValueError("plot_predictions: no images to show")
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig = _figure(1.6 * cols, 1.6 * rows + 0.4, dpi)
    axes = np.atleast_1d(fig.subplots(rows, cols)).reshape(-1)
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i].astype(np.float64)
        lo, hi = img.min(), img.max()
        img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
        wrong = yp[i] != yt[i]
        ax.set_title(f"{class_names[yp[i]]}\n({class_names[yt[i]]})", fontsize=8,
                     color="red" if wrong else "black")
    errors = int((yp[:n] != yt[:n]).sum())
    fig.suptitle(title or f"predicted (true): {errors} of {n} wrong, in red")
    fig.tight_layout()
    return _save(fig, path)


# Pictures of a network's inside (filters, feature maps, gradient statistics,
# histograms, optimizer paths, im2col) live in plotting_inside.py; imported last,
# as that module builds on _figure and _save above.
from .plotting_inside import (plot_activation_histograms, plot_conv_filters,  # noqa: E402,F401
                              plot_feature_maps, plot_gradient_stats, plot_im2col,  # noqa: F401
                              plot_optimizer_paths, plot_weight_histograms)  # noqa: F401
