"""The lessons in lessons/ run top to bottom and assert their claims; every
exercise's check passes the model answer and fails a wrong one.

Each lesson runs as ``__main__`` (runpy, in this process: the package is
imported once) with its pictures going to a temporary folder and, unless a
test asks for real data, on the synthetic stand-in. A lesson's own asserts
are its claims; the test adds that every picture it promised was written and
that every exercise's check cell ran.
"""
import os
import re
import runpy
from pathlib import Path

import numpy as np
import pytest

from minidl import backend as K
from minidl import exercises
from minidl.exercises import solutions

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
LESSON_FILES = sorted(LESSONS.glob("[0-9][0-9]_*.py"))

# pictures each lesson writes, under MINIDL_LESSONS_OUT/<folder>/
PICTURES = {
    "02": ("02_activations", ["gradient_stats_sigmoid.png", "gradient_stats_relu.png",
                              "activations_sigmoid.png", "activations_relu.png"]),
    "04": ("04_convolution", ["im2col.png"]),
    "07": ("07_optimizers", ["paths.png"]),
    "09": ("09_study_004", ["curves.png", "confusion.png", "predictions.png", "filters.png",
                            "feature_maps.png", "gradient_stats.png", "weights.png"]),
}


@pytest.fixture
def lesson_env(tmp_path, monkeypatch):
    """Pictures into tmp_path; minidl's global settings restored after the lesson."""
    monkeypatch.setenv("MINIDL_LESSONS_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("MINIDL_LESSONS_DATA", "synthetic")
    saved = (K.device(), K.floatx(), K.epsilon(), K.workspace_bytes(), K.get_rng_state())
    yield tmp_path
    K.set_device(saved[0])
    K.set_floatx(saved[1])
    K.set_epsilon(saved[2])
    K.set_workspace_bytes(saved[3])
    K.set_rng_state(saved[4])


def _run(path, capsys):
    runpy.run_path(str(path), run_name="__main__")
    return capsys.readouterr().out


def _check_pictures(number, out_dir):
    folder, names = PICTURES.get(number, (None, []))
    for name in names:
        picture = out_dir / folder / name
        assert picture.exists(), f"lesson {number} did not write {name}"
        with open(picture, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 5000


def test_there_are_nine_lessons_in_the_percent_format():
    assert [p.name[:2] for p in LESSON_FILES] == [f"{i:02d}" for i in range(1, 10)]
    for path in LESSON_FILES:
        text = path.read_text()
        assert text.startswith("# %% [markdown]\n# # Lesson "), path.name
        assert text.count("\n# %%\n") >= 3, f"{path.name}: too few code cells"


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_lesson_runs_top_to_bottom(path, lesson_env, capsys):
    out = _run(path, capsys)
    number = path.name[:2]
    _check_pictures(number, lesson_env)
    # the exercise cells ran, and said plainly that nothing is written yet
    asked = re.findall(r"^def (\w+)\(.*\n    raise NotImplementedError", path.read_text(), re.M)
    assert asked, f"{path.name} has no exercise"
    assert out.count("NOT WRITTEN YET") == len(asked)
    if number in ("02", "09"):
        assert "SYNTHETIC stand-in" in out     # labelled as such


@pytest.mark.slow
@pytest.mark.parametrize("number", ["02", "09"])
def test_lessons_on_real_data(number, lesson_env, capsys, monkeypatch):
    """Lessons 2 and 9 on MNIST / Fashion-MNIST themselves (CI sets MINIDL_DATA)."""
    data = os.environ.get("MINIDL_DATA")
    if not data or not os.path.isdir(data):
        pytest.skip("real data: set MINIDL_DATA to a folder holding mnist/ and fashion-mnist/")
    monkeypatch.setenv("MINIDL_LESSONS_DATA", "real")
    path = next(p for p in LESSON_FILES if p.name.startswith(number))
    out = _run(path, capsys)
    assert "-- real data" in out and "SYNTHETIC" not in out
    _check_pictures(number, lesson_env)


def test_every_exercise_is_asked_by_a_lesson_and_checked_there():
    asked = {}
    for path in LESSON_FILES:
        text = path.read_text()
        for name in re.findall(r"^def (\w+)\(.*\n    raise NotImplementedError", text, re.M):
            check = exercises.ALL_CHECKS[name]
            assert f"exercises.{check.__name__}({name})" in text, (path.name, name)
            asked[name] = path.name
    assert sorted(asked) == sorted(exercises.ALL_CHECKS)


@pytest.mark.parametrize("name", sorted(exercises.ALL_CHECKS))
def test_check_passes_the_model_answer(name, capsys):
    verdict = exercises.ALL_CHECKS[name](getattr(solutions, name))
    assert verdict and verdict.passed
    assert capsys.readouterr().out.startswith("RIGHT -- ")


# ------------------------------------------------------- deliberately wrong answers
def _wrong_dense_tanh(x, W, y, grad_y):            # forgets tanh'
    return grad_y @ W.T, x.T @ grad_y, grad_y.sum(axis=0)


def _wrong_log_softmax(z):                         # overflows for large logits
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return np.log(p)


def _wrong_bce(z, t):                              # forgets the mean's 1 / (N D)
    return 0.5 * (1 + np.tanh(0.5 * z)) - t


def _wrong_im2col(x, kh, kw):                      # columns ordered (c, i, j)
    n, h, w, c = x.shape
    cols = solutions.im2col_simple(x, kh, kw).reshape(-1, kh, kw, c)
    return cols.transpose(0, 3, 1, 2).reshape(-1, kh * kw * c)


def _wrong_conv_grad(x, grad_y, kh, kw):           # the kernel flipped (a correlation's mix-up)
    return solutions.conv_weight_grad(x, grad_y, kh, kw)[::-1, ::-1]


def _wrong_maxpool(x, grad_y):                     # shares the gradient like average pooling
    return solutions.avgpool_backward(grad_y, x.shape)


def _wrong_avgpool(grad_y, x_shape):               # forgets the 1/4
    return 4 * solutions.avgpool_backward(grad_y, x_shape)


def _wrong_batchnorm(grad_y, x, gamma, epsilon):   # ignores that mu and var depend on x
    dx, dgamma, dbeta = solutions.batchnorm_backward(grad_y, x, gamma, epsilon)
    return gamma * grad_y / np.sqrt(x.var(axis=0) + epsilon), dgamma, dbeta


def _wrong_bn_inference(x, gamma, beta, moving_mean, moving_variance, epsilon):
    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + epsilon) + beta   # batch stats


def _wrong_nesterov(w, g, v, lr, momentum):        # plain momentum
    v = momentum * v - lr * g
    return w + v, v


def _wrong_adam(w, g, m, v, t, lr, beta_1, beta_2, epsilon):   # no bias correction
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    return w - lr * m / (np.sqrt(v) + epsilon), m, v


def _wrong_epoch(layers, optimizer, x, y, batch_size):   # never shuffles
    from minidl import backend

    original = backend.permutation
    backend.permutation = lambda n: np.arange(n)
    try:
        return solutions.train_epoch_mse(layers, optimizer, x, y, batch_size)
    finally:
        backend.permutation = original


WRONG = {
    "dense_tanh_backward": _wrong_dense_tanh,
    "leaky_relu_backward": lambda grad_y, x, alpha: grad_y * (x > 0),   # forgets alpha
    "sigmoid_backward": lambda grad_y, y: grad_y * y,                   # forgets (1 - y)
    "log_softmax": _wrong_log_softmax,
    "sigmoid_bce_gradient": _wrong_bce,
    "im2col_simple": _wrong_im2col,
    "conv_weight_grad": _wrong_conv_grad,
    "maxpool_backward": _wrong_maxpool,
    "avgpool_backward": _wrong_avgpool,
    "batchnorm_backward": _wrong_batchnorm,
    "batchnorm_inference": _wrong_bn_inference,
    "nesterov_step": _wrong_nesterov,
    "adam_step": _wrong_adam,
    "train_epoch_mse": _wrong_epoch,
    "confusion_matrix": lambda y_true, y_pred, k: solutions.confusion_matrix(y_pred, y_true, k),
}


@pytest.mark.parametrize("name", sorted(exercises.ALL_CHECKS))
def test_check_fails_a_wrong_answer(name, capsys):
    verdict = exercises.ALL_CHECKS[name](WRONG[name])
    assert not verdict
    assert verdict.message.startswith("WRONG -- ")
    assert capsys.readouterr().out.strip() == verdict.message


@pytest.mark.parametrize("name", sorted(exercises.ALL_CHECKS))
def test_check_reports_unwritten_and_crashing_answers_without_raising(name):
    def unwritten(*args):
        raise NotImplementedError

    def crashing(*args):
        return args[0].reshape(-1, 7, 13)          # a shape error inside the learner's code
    assert exercises.ALL_CHECKS[name](unwritten, verbose=False).message.startswith(
        "NOT WRITTEN YET")
    verdict = exercises.ALL_CHECKS[name](crashing, verbose=False)
    assert not verdict and "your function raised" in verdict.message


def test_checks_leave_minidl_state_alone():
    K.seed(5)
    expected = K.permutation(10)
    K.seed(5)
    saved = K.device(), K.floatx()
    for name, check in exercises.ALL_CHECKS.items():
        check(getattr(solutions, name), verbose=False)
    assert (K.device(), K.floatx()) == saved
    assert (K.permutation(10) == expected).all()   # the lesson's random stream goes on as before


def test_wrong_answer_messages_say_what_is_wrong():
    assert "column order" in exercises.check_im2col(_wrong_im2col, verbose=False).message
    assert "swapped" in exercises.check_confusion_matrix(WRONG["confusion_matrix"],
                                                         verbose=False).message
    assert "subtract each row's max" in exercises.check_log_softmax(_wrong_log_softmax,
                                                                    verbose=False).message


# ------------------------------------------------------------------ the data
def test_shapes_are_ten_balanced_repeatable_classes():
    x, y = exercises.shapes(500, seed=3)
    assert x.shape == (500, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y, minlength=10).min() > 30
    x2, y2 = exercises.shapes(500, seed=3)
    assert (x == x2).all() and (y == y2).all()


def test_lesson_images_falls_back_to_a_labelled_stand_in(monkeypatch):
    from minidl.exercises import data as data_mod
    monkeypatch.setattr(data_mod, "_real", lambda dataset: None)   # no copy on this machine
    monkeypatch.setenv("MINIDL_LESSONS_DATA", "auto")
    d = exercises.lesson_images("fashion_mnist", n_train=50, n_test=20)
    assert d.synthetic and d.x_train.shape == (50, 28, 28, 1) and d.x_test.dtype == np.float32
    assert "SYNTHETIC" in exercises.describe(d) and d.class_names == data_mod.SHAPE_NAMES
    monkeypatch.setenv("MINIDL_LESSONS_DATA", "real")
    with pytest.raises(FileNotFoundError, match="MINIDL_DATA"):
        exercises.lesson_images("fashion_mnist")
    monkeypatch.setenv("MINIDL_LESSONS_DATA", "maybe")
    with pytest.raises(ValueError, match="MINIDL_LESSONS_DATA"):
        exercises.lesson_images("fashion_mnist")
