"""The lessons' data: a real dataset already on this machine, or a labelled stand-in.

A lesson never downloads. ``lesson_images('fashion_mnist', ...)`` reads the
real files when a copy is already here (``MINIDL_DATA``, minidl's cache or a
system copy; loaded with ``download=False``) and otherwise draws *shapes*, a
synthetic set of ten kinds of 28x28 grey images (bars, rings, crosses...)
with random position, size, stroke and noise, that trains like a small
MNIST. The result says which one it is, and the lessons print it.

``MINIDL_LESSONS_DATA`` chooses: ``auto`` (the default: real if present),
``real`` (an error if absent) or ``synthetic``.
"""
import os
from typing import NamedTuple, Tuple

import numpy as np

SHAPE_NAMES = ("h-bar", "v-bar", "diag \\", "diag /", "ring", "square", "plus", "cross",
               "two bars", "T")


class LessonData(NamedTuple):
    """x_train, x_test: (N, 28, 28, 1) float32 in [0, 1]; y_*: (N,) int64 labels."""
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: Tuple[str, ...]
    source: str          # 'mnist', 'fashion_mnist' or 'synthetic shapes'
    synthetic: bool


def _stroke(dist, t):
    """1 inside a stroke of half-width t, fading to 0 over one pixel (anti-aliased)."""
    return np.clip(t + 0.5 - dist, 0.0, 1.0)


def _inside(a, half):
    """1 where |a| < half, fading to 0 over one pixel."""
    return np.clip(half + 0.5 - np.abs(a), 0.0, 1.0)


def _pattern(k, dy, dx, s, t):
    """Class k's strokes at offsets (dy, dx) from the centre; s: half-length, t: half-width."""
    if k in (0, 1, 6):                                     # h-bar, v-bar, plus
        h = _stroke(np.abs(dy), t) * _inside(dx, s)
        v = _stroke(np.abs(dx), t) * _inside(dy, s)
        return (h, v, np.maximum(h, v))[(0, 1, 6).index(k)]
    if k in (2, 3, 7):                                     # the diagonals, cross
        box = _inside(dx, 0.75 * s) * _inside(dy, 0.75 * s)
        d1 = _stroke(np.abs(dy - dx) / np.sqrt(2), t) * box
        d2 = _stroke(np.abs(dy + dx) / np.sqrt(2), t) * box
        return (d1, d2, np.maximum(d1, d2))[(2, 3, 7).index(k)]
    if k == 4:                                             # ring
        return _stroke(np.abs(np.hypot(dy, dx) - 0.75 * s), t)
    if k == 5:                                             # filled square
        return _inside(dx, 0.55 * s) * _inside(dy, 0.55 * s)
    if k == 8:                                             # two bars
        return np.maximum(_stroke(np.abs(dy - 0.5 * s), t),
                          _stroke(np.abs(dy + 0.5 * s), t)) * _inside(dx, s)
    return np.maximum(_stroke(np.abs(dy + 0.7 * s), t) * _inside(dx, s),   # T
                      _stroke(np.abs(dx), t) * _inside(dy - 0.15 * s, 0.85 * s))


def shapes(n, seed=0, size=28):
    """n synthetic images of ten classes (``SHAPE_NAMES``), as uint8 like MNIST.

    Returns (x: (n, size, size) uint8, y: (n,) int64). Each class is a
    stroke pattern; position (+-3 px), size, stroke width, brightness and
    pixel noise are random, so the classes overlap a little, as real ones do.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    c = (size - 1) / 2
    cy = c + rng.uniform(-3, 3, (n, 1, 1))
    cx = c + rng.uniform(-3, 3, (n, 1, 1))
    s = rng.uniform(0.22, 0.36, (n, 1, 1)) * size          # half-length of a stroke
    t = rng.uniform(0.8, 1.8, (n, 1, 1))                     # half-width of a stroke
    grid = np.arange(size, dtype=np.float64)
    img = np.zeros((n, size, size))
    for k in range(10):
        idx = np.flatnonzero(y == k)
        dy, dx = grid[None, :, None] - cy[idx], grid[None, None, :] - cx[idx]
        img[idx] = _pattern(k, dy, dx, s[idx], t[idx])
    img *= rng.uniform(0.6, 1.0, (n, 1, 1))
    img += rng.normal(0.0, 0.12, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8), y.astype(np.int64)


def _choice():
    value = os.environ.get("MINIDL_LESSONS_DATA", "auto").strip().lower()
    if value not in ("auto", "real", "synthetic"):
        raise ValueError(f"MINIDL_LESSONS_DATA must be 'auto', 'real' or 'synthetic', "
                         f"received {value!r}")
    return value


def _real(dataset):
    """The real dataset if a copy is already on this machine (never downloads), else None."""
    from .. import datasets
    from ..zoo import CLASS_NAMES
    try:   # download=False: nothing is downloaded or installed
        (x, y), (xt, yt) = datasets.load(dataset, download=False)
    except (FileNotFoundError, OSError):
        return None
    return x, y.astype(np.int64), xt, yt.astype(np.int64), CLASS_NAMES[dataset]


def lesson_images(dataset="fashion_mnist", n_train=2000, n_test=500, seed=0):
    """A small image set for a lesson: the real ``dataset`` ('mnist' or
    'fashion_mnist') when present here, else the synthetic shapes.

    Takes a fixed random subset (``seed``) of n_train training and n_test
    test images. Returns a ``LessonData``.
    """
    choice = _choice()
    real = None if choice == "synthetic" else _real(dataset)
    if real is None and choice == "real":
        raise FileNotFoundError(
            f"MINIDL_LESSONS_DATA=real, but no copy of {dataset} is on this machine; set "
            f"MINIDL_DATA to a folder holding it, or MINIDL_LESSONS_DATA=auto")
    rng = np.random.default_rng(seed)
    if real is not None:
        x, y, xt, yt, names = real
        keep = np.sort(rng.choice(len(x), n_train, replace=False))
        keep_t = np.sort(rng.choice(len(xt), n_test, replace=False))
        x, y, xt, yt = x[keep], y[keep], xt[keep_t], yt[keep_t]
        source, synthetic = dataset, False
    else:
        x, y = shapes(n_train, seed=seed)
        xt, yt = shapes(n_test, seed=seed + 1)
        names, source, synthetic = SHAPE_NAMES, "synthetic shapes", True
    prep = lambda a: (a.reshape(-1, 28, 28, 1) / np.float32(255)).astype(np.float32)  # noqa: E731
    return LessonData(prep(x), y, prep(xt), yt, tuple(names), source, synthetic)


def describe(data):
    """One line saying what the lesson trains on (printed by the lessons)."""
    kind = ("SYNTHETIC stand-in (no real dataset on this machine; set MINIDL_DATA to use it)"
            if data.synthetic else "real data")
    return (f"data: {data.source}, {len(data.x_train)} train / {len(data.x_test)} test images "
            f"-- {kind}")


def spirals(n_per_class=100, classes=3, noise=0.2, seed=0):
    """Points on ``classes`` interleaved spiral arms: x (N, 2) float64, y (N,) int64.

    Not linearly separable, so a hidden layer is needed; small enough to train
    in a fraction of a second.
    """
    rng = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.05, 1.0, n_per_class), classes)
    y = np.repeat(np.arange(classes), n_per_class)
    angle = (y * 2 * np.pi / classes + r * 4.0 + rng.normal(0, noise, r.size))
    x = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    return x, y.astype(np.int64)
