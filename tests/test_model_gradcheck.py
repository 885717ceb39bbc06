"""Whole-model gradient checks: every weight of a small Sequential, through its loss.

``gradcheck.check_model`` runs forward and backward exactly as ``fit`` does
(training mode: BatchNormalization on batch statistics, Dropout with a mask
fixed by the seed, the fused softmax + cross-entropy start) and compares each
gradient with central differences in float64.
"""
import numpy as np
import pytest

from minidl import gradcheck
from minidl.layers import (Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                           Lambda, MaxPooling2D)
from minidl.models import Sequential

TOL = 1e-6


def _data(n=4, shape=(6, 6, 2), classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n,) + shape), rng.integers(0, classes, n)


def assert_ok(errors):
    bad = {k: v for k, v in errors.items() if not v <= TOL}
    assert not bad, f"relative errors above {TOL}: {bad}"


def test_conv_batchnorm_pool_dropout_dense_with_sparse_crossentropy(xp):
    model = Sequential([
        Conv2D(3, 3, padding="same", activation="relu", input_shape=(6, 6, 2)),
        BatchNormalization(),
        MaxPooling2D(),
        Dropout(0.3),
        Flatten(),
        Dense(5, activation="tanh"),
        Dense(3, activation="softmax"),
    ])
    model.compile("sgd", loss="sparse_categorical_crossentropy")
    x, y = _data()
    errors = gradcheck.check_model(model, x, y)
    assert len(errors) == 1 + 2 + 2 + 2 + 2  # input, conv, BN gamma/beta, two Dense
    assert_ok(errors)


def test_separate_softmax_activation_and_one_hot_targets(xp):
    model = Sequential([Flatten(input_shape=(3, 3, 1)), Dense(4), Activation("softmax")])
    model.compile("adam", loss="categorical_crossentropy")
    x, y = _data(shape=(3, 3, 1), classes=4)
    assert_ok(gradcheck.check_model(model, x, np.eye(4)[y]))


def test_mean_squared_error_takes_the_unfused_path(xp):
    model = Sequential([Dense(4, activation="sigmoid", input_shape=(5,)),
                        BatchNormalization(), Dense(2)])
    model.compile("sgd", loss="mse")
    rng = np.random.default_rng(3)
    assert_ok(gradcheck.check_model(model, rng.standard_normal((6, 5)), rng.standard_normal((6, 2))))


def test_affine_lambda_in_the_middle_is_differentiated(xp):
    model = Sequential([Dense(4, activation="tanh", input_shape=(3,)),
                        Lambda(lambda v: v * 2.0 - 1.0), Dense(2, activation="softmax")])
    model.compile("sgd", loss="sparse_categorical_crossentropy")
    x, y = _data(n=5, shape=(3,), classes=2)
    assert_ok(gradcheck.check_model(model, x, y))
