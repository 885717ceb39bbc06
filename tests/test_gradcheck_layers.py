"""Every layer's backward against central differences, in float64.

``gradcheck.check_layer(layer, x)`` returns the max relative error of dL/dx
and of dL/dw for each weight (see minidl/gradcheck.py). A correct backward
gives ~1e-9; a wrong one is off by order 1. The bound here is 1e-6.
"""
import numpy as np
import pytest

from minidl import backend as K
from minidl import gradcheck
from minidl.layers import (Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                           Lambda, MaxPooling2D)
from gradcheck_helpers import assert_gradients_ok, distinct



def _input(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)




# ----------------------------------------------------------------- Dense
@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "softmax"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense(xp, activation, use_bias):
    layer = Dense(5, activation=activation, use_bias=use_bias)
    errors = gradcheck.check_layer(layer, _input((4, 7)))
    assert set(errors) == {"input", "kernel"} | ({"bias"} if use_bias else set())
    assert_gradients_ok(errors)


def test_dense_on_rank3_input_maps_the_last_axis(xp):
    assert_gradients_ok(gradcheck.check_layer(Dense(3, activation="tanh"), _input((2, 3, 4))))


# ----------------------------------------------------------------- Conv2D
CONV_CASES = [
    # kernel, strides, padding, input (N, H, W, C)
    (1, 1, "valid", (2, 5, 5, 3)),
    (2, 1, "same", (2, 5, 6, 2)),      # even kernel: TF pads the extra pixel bottom/right
    (3, 1, "valid", (2, 6, 5, 2)),
    (3, 1, "same", (2, 5, 5, 2)),
    (3, 2, "same", (2, 6, 7, 2)),
    (3, 2, "valid", (2, 7, 7, 2)),
    (4, 1, "valid", (2, 7, 7, 2)),     # study 004's 4x4 kernel
    (4, 2, "same", (2, 7, 8, 2)),
    (5, 1, "same", (1, 6, 6, 2)),
    (5, 3, "valid", (2, 9, 8, 1)),
    (7, 1, "valid", (1, 8, 8, 2)),
    (7, 2, "same", (1, 7, 7, 1)),
    ((2, 3), (2, 1), "same", (2, 5, 6, 2)),
]


@pytest.mark.parametrize("kernel,strides,padding,shape", CONV_CASES)
def test_conv2d(xp, kernel, strides, padding, shape):
    layer = Conv2D(3, kernel, strides=strides, padding=padding, activation="relu")
    assert_gradients_ok(gradcheck.check_layer(layer, _input(shape)))


@pytest.mark.parametrize("activation", ["linear", "tanh", "sigmoid"])
def test_conv2d_without_bias_and_other_activations(xp, activation):
    layer = Conv2D(2, 3, padding="same", use_bias=False, activation=activation)
    errors = gradcheck.check_layer(layer, _input((2, 4, 5, 2)))
    assert "bias" not in errors
    assert_gradients_ok(errors)


# ----------------------------------------------------------------- pooling
@pytest.mark.parametrize("pool,strides,padding,shape", [
    (2, None, "valid", (2, 6, 6, 3)),
    (2, None, "valid", (2, 7, 5, 2)),  # odd sizes: the last row/column is dropped
    (3, 2, "valid", (2, 7, 7, 2)),     # overlapping windows
    (2, 1, "valid", (1, 5, 5, 2)),
    ((2, 3), None, "valid", (2, 6, 6, 1)),
    (2, None, "same", (2, 5, 7, 2)),
    (3, 2, "same", (1, 6, 5, 2)),
])
def test_max_pooling(xp, pool, strides, padding, shape):
    layer = MaxPooling2D(pool, strides=strides, padding=padding)
    assert_gradients_ok(gradcheck.check_layer(layer, distinct(shape)))


# ----------------------------------------------------------------- BatchNorm
@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 4, 3)], ids=["after_dense", "after_conv"])
@pytest.mark.parametrize("center,scale", [(True, True), (False, True), (True, False)])
def test_batch_normalization_training_mode(xp, shape, center, scale):
    layer = BatchNormalization(center=center, scale=scale)
    layer.build(shape[1:])
    if scale:  # non-trivial gamma so its gradient path is exercised
        layer.set_weights([np.linspace(0.5, 1.5, shape[-1])] + layer.get_weights()[1:])
    assert_gradients_ok(gradcheck.check_layer(layer, _input(shape) * 2 + 1, training=True))


def test_batch_normalization_inference_mode_is_an_affine_map(xp):
    layer = BatchNormalization()
    layer.build((3,))
    layer.set_weights([np.array([1.0, 2.0, 0.5]), np.array([0.1, 0.0, -0.2]),
                       np.array([0.3, -1.0, 2.0]), np.array([1.5, 0.5, 4.0])])
    x = _input((4, 3))
    y = layer.forward(K.asarray(x), training=False)
    g, b, m, v = layer.get_weights()
    np.testing.assert_allclose(K.to_numpy(y), (x - m) / np.sqrt(v + 1e-3) * g + b, rtol=1e-6)


# ----------------------------------------------------------------- others
def test_dropout_with_its_mask_fixed_by_the_seed(xp):
    assert_gradients_ok(gradcheck.check_layer(Dropout(0.4), _input((3, 8)), training=True))


def test_dropout_with_noise_shape(xp):
    layer = Dropout(0.5, noise_shape=(None, 1, 1, 3))
    assert_gradients_ok(gradcheck.check_layer(layer, _input((2, 3, 3, 3)), training=True))


def test_flatten(xp):
    assert_gradients_ok(gradcheck.check_layer(Flatten(), _input((2, 3, 4, 2))))


@pytest.mark.parametrize("name", ["linear", "relu", "sigmoid", "tanh", "softmax"])
def test_activation_layer(xp, name):
    assert_gradients_ok(gradcheck.check_layer(Activation(name), _input((4, 6))))


def test_lambda_affine_standardization(xp):
    mean, std = np.float64(0.3), np.float64(0.2)
    layer = Lambda(lambda x: (x - mean) / std)
    assert_gradients_ok(gradcheck.check_layer(layer, _input((3, 4, 4, 1))))


def test_lambda_that_is_not_affine_refuses_to_backpropagate(xp):
    layer = Lambda(lambda x: x * x)
    x = _input((2, 3))
    layer.forward(x, training=True)
    with pytest.raises(ValueError, match="elementwise affine"):
        layer.backward(np.ones((2, 3)))


@pytest.fixture
def one_sample_blocks():
    """Make Conv2D work one sample at a time (its im2col workspace holds one)."""
    from minidl import backend as K
    saved = K.workspace_bytes()
    K.set_workspace_bytes(1)
    yield
    K.set_workspace_bytes(saved)


def test_conv2d_in_blocks_of_samples_gives_the_same_gradients(xp, one_sample_blocks):
    layer = Conv2D(3, 3, strides=2, padding="same", activation="relu")
    x = _input((3, 5, 6, 2))
    assert_gradients_ok(gradcheck.check_layer(layer, x))
    assert len(layer._blocks(layer.x)) == 3  # really one block per sample
    from minidl import backend as K
    blocked = layer.forward(layer.x)
    K.set_workspace_bytes(1 << 30)
    assert len(layer._blocks(layer.x)) == 1
    np.testing.assert_allclose(K.to_numpy(layer.forward(layer.x)), K.to_numpy(blocked), rtol=1e-12)


def test_batchnorm_keras_2_2_moving_statistics(xp):
    """Keras 2.1.4-2.2.x: variance rescaled by n/(n-(1+eps)) and TensorFlow's
    zero-debiased average, moving = biased / (1 - momentum^t), over three steps."""
    from minidl import backend as K
    layer = BatchNormalization(momentum=0.9, unbiased_moving_variance=True, zero_debias=True)
    batches = [_input((8, 3), seed=s) * (s + 1) + s for s in range(3)]
    biased_mean, biased_var = np.zeros(3), np.zeros(3)
    with K.floatx_scope("float64"):
        for t, x in enumerate(batches, 1):
            layer.forward(K.asarray(x), training=True)
            n = x.shape[0]
            biased_mean = 0.9 * biased_mean + 0.1 * x.mean(axis=0)
            biased_var = 0.9 * biased_var + 0.1 * x.var(axis=0) * n / (n - (1 + 1e-3))
            _, _, mean, var = layer.get_weights()
            np.testing.assert_allclose(mean, biased_mean / (1 - 0.9 ** t), rtol=1e-12)
            np.testing.assert_allclose(var, biased_var / (1 - 0.9 ** t), rtol=1e-12)


# ----------------------------------------------------------------- a layer taken from a model
def test_the_first_layer_of_a_model_still_returns_its_input_gradient(xp):
    """The model skips dL/dx below its first weighted layer during fit, but the
    layer itself, called directly, always returns it."""
    from minidl.models import Sequential
    model = Sequential([Dense(3, activation="tanh", input_shape=(4,)), Dense(2)])
    model.compile("sgd", loss="mse")
    x, y = _input((5, 4)), _input((5, 2), seed=1)
    model.fit(x, y, epochs=1, verbose=0)  # fit ran its backprop without dL/dx
    first = model.layers[0]
    first.forward(first_x := xp.asarray(x, dtype=first.params["kernel"].dtype), training=True)
    grad_x = first.backward(xp.ones((5, 3), dtype=first_x.dtype))
    assert grad_x is not None and grad_x.shape == (5, 4)
    assert first.backward(xp.ones((5, 3), dtype=first_x.dtype), need_input_grad=False) is None
    assert_gradients_ok(gradcheck.check_layer(first, _input((5, 4))))
