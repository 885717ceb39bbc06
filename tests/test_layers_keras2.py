"""The Keras 2 layers that tutorials use beyond the studies' five.

AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, Reshape,
ZeroPadding2D, Cropping2D, UpSampling2D, LeakyReLU, ELU, ReLU, Softmax,
SpatialDropout2D and Keras 1's Convolution2D: gradients by central
differences on every backend, forward semantics on small hand-made cases
(the Keras fixtures in tests/fixtures/keras2 check them against tf.keras too,
in test_keras_reference.py), config and save/load round trips, and errors.
"""
import warnings

import numpy as np
import pytest

import minidl
from minidl import backend as K
from minidl import gradcheck, layers
from minidl.layers import (ELU, AveragePooling2D, Conv2D, Convolution2D, Cropping2D, Dense,
                           GlobalAveragePooling2D, GlobalMaxPooling2D, LeakyReLU, ReLU, Reshape,
                           Softmax, SpatialDropout2D, UpSampling2D, ZeroPadding2D)
from minidl.models import Sequential, load_model
from gradcheck_helpers import assert_gradients_ok, distinct



def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)




def _run(layer, x, training=False):
    with K.floatx_scope("float64"):
        return K.to_numpy(layer.forward(K.asarray(x, dtype="float64"), training=training))


# ----------------------------------------------------------------- gradients
GRADCHECK_CASES = [
    # (layer, input shape, distinct values needed)
    (lambda: AveragePooling2D(), (2, 4, 5, 2), False),
    (lambda: AveragePooling2D(3, strides=2, padding="same"), (2, 5, 6, 2), False),
    (lambda: AveragePooling2D((2, 3), strides=1, padding="same"), (1, 4, 5, 3), False),
    (lambda: AveragePooling2D(3, strides=1), (2, 5, 5, 1), False),
    (lambda: GlobalAveragePooling2D(), (2, 3, 4, 3), False),
    (lambda: GlobalAveragePooling2D(keepdims=True), (2, 3, 4, 3), False),
    (lambda: GlobalMaxPooling2D(), (2, 3, 4, 3), True),
    (lambda: GlobalMaxPooling2D(keepdims=True), (2, 3, 4, 3), True),
    (lambda: Reshape((4, -1)), (2, 3, 4, 2), False),
    (lambda: ZeroPadding2D(), (2, 3, 4, 2), False),
    (lambda: ZeroPadding2D(((1, 0), (2, 3))), (2, 3, 4, 2), False),
    (lambda: Cropping2D((1, 2)), (2, 5, 6, 2), False),
    (lambda: Cropping2D(((0, 2), (1, 0))), (2, 5, 6, 2), False),
    (lambda: UpSampling2D(), (2, 3, 2, 2), False),
    (lambda: UpSampling2D((3, 2)), (1, 2, 3, 2), False),
    (lambda: LeakyReLU(), (3, 7), False),
    (lambda: ELU(alpha=0.5), (3, 7), False),
    (lambda: ReLU(), (3, 7), False),
    (lambda: ReLU(max_value=1.0, negative_slope=0.1, threshold=0.3), (3, 7), False),
    (lambda: ReLU(negative_slope=0.2, threshold=-0.4), (3, 7), False),
    (lambda: Softmax(), (3, 7), False),
    (lambda: Softmax(axis=1), (2, 3, 4), False),
    (lambda: SpatialDropout2D(0.5), (3, 2, 3, 4), False),
    (lambda: Convolution2D(3, 2, 3, border_mode="same", subsample=(2, 1)), (2, 5, 4, 2), False),
]


@pytest.mark.parametrize("make,shape,no_ties", GRADCHECK_CASES,
                         ids=[f"case{i}" for i in range(len(GRADCHECK_CASES))])
def test_gradients(xp, make, shape, no_ties):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # Convolution2D's Keras 1 note
        layer = make()
    x = distinct(shape) if no_ties else _x(shape)
    assert_gradients_ok(gradcheck.check_layer(layer, x))


def test_gradients_of_a_model_made_of_the_new_layers(xp):
    minidl.seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = _model_with_every_new_layer()
    model.compile("sgd", loss="categorical_crossentropy")
    x = _x((2, 8, 8, 3))
    y = np.eye(3)[[0, 2]]
    assert_gradients_ok(gradcheck.check_model(model, x, y))


# ----------------------------------------------------------------- pooling semantics
def test_average_pooling_same_does_not_count_the_padding(xp):
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    y = _run(AveragePooling2D(2, padding="same"), x)[0, :, :, 0]
    # windows: {0,1,3,4}, {2,5}, {6,7}, {8}: TF pads bottom/right and averages what is inside
    np.testing.assert_allclose(y, [[2.0, 3.5], [6.5, 8.0]])


def test_average_pooling_valid_is_the_block_mean(xp):
    x = _x((2, 6, 4, 3))
    expected = x.reshape(2, 3, 2, 2, 2, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(_run(AveragePooling2D(), x), expected, rtol=1e-14)


def test_global_pooling_values_and_shapes(xp):
    x = _x((2, 3, 4, 5))
    np.testing.assert_allclose(_run(GlobalAveragePooling2D(), x), x.mean(axis=(1, 2)))
    np.testing.assert_allclose(_run(GlobalMaxPooling2D(), x), x.max(axis=(1, 2)))
    assert _run(GlobalMaxPooling2D(keepdims=True), x).shape == (2, 1, 1, 5)
    assert GlobalAveragePooling2D().compute_output_shape((3, 4, 5)) == (5,)


def test_global_max_pooling_shares_the_gradient_among_tied_maxima(xp):
    x = np.array([[[1.0], [3.0]], [[3.0], [2.0]]])[None]      # (1, 2, 2, 1), two maxima
    layer = GlobalMaxPooling2D()
    with K.floatx_scope("float64"):
        layer.forward(K.asarray(x), training=True)
        grad = K.to_numpy(layer.backward(K.asarray(np.array([[1.0]]))))
    # TF's reduce_max gradient (Keras 2.2.4 and tf.keras 2.15): split equally
    np.testing.assert_array_equal(grad[0, :, :, 0], [[0, 0.5], [0.5, 0]])


# ----------------------------------------------------------------- reshaping semantics
def test_reshape_infers_one_unknown_dimension(xp):
    layer = Reshape((-1, 4))
    assert _run(layer, _x((2, 3, 8))).shape == (2, 6, 4)
    assert layer.get_config()["target_shape"] == [-1, 4]


def test_zero_padding_forms(xp):
    x = _x((1, 2, 3, 1))
    assert _run(ZeroPadding2D(), x).shape == (1, 4, 5, 1)
    assert _run(ZeroPadding2D((1, 2)), x).shape == (1, 4, 7, 1)
    y = _run(ZeroPadding2D(((1, 0), (0, 2))), x)
    assert y.shape == (1, 3, 5, 1)
    np.testing.assert_array_equal(y[:, 1:, :3], x)
    assert not y[:, 0].any() and not y[:, :, 3:].any()


def test_cropping_undoes_zero_padding(xp):
    x = _x((2, 3, 4, 2))
    for value in [2, (1, 3), ((2, 0), (1, 2))]:
        padded = _run(ZeroPadding2D(value), x)
        np.testing.assert_array_equal(_run(Cropping2D(value), padded), x)


def test_upsampling_repeats_each_pixel_into_a_block(xp):
    x = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    y = _run(UpSampling2D((2, 3)), x)[0, :, :, 0]
    np.testing.assert_array_equal(y, [[1, 1, 1, 2, 2, 2]] * 2 + [[3, 3, 3, 4, 4, 4]] * 2)


# ----------------------------------------------------------------- activation layers
def test_activation_layer_formulas(xp):
    x = np.array([[-2.0, -0.25, 0.2, 0.5, 3.0]])
    np.testing.assert_allclose(_run(LeakyReLU(), x), np.where(x > 0, x, 0.3 * x))
    np.testing.assert_allclose(_run(ELU(0.5), x), np.where(x > 0, x, 0.5 * np.expm1(x)))
    # Keras 2.2.4 ReLU: max_value above, x on [threshold, max_value), slope below threshold
    np.testing.assert_allclose(_run(ReLU(max_value=1.0, negative_slope=0.1, threshold=0.3), x),
                               [[-0.23, -0.055, -0.01, 0.5, 1.0]])
    y = _run(Softmax(axis=0), np.vstack([x, -x]))
    np.testing.assert_allclose(y.sum(axis=0), np.ones(5))


def test_keras_defaults():
    # Keras 2.2.4 advanced_activations.py (tf.keras 2.15 has the same defaults)
    assert LeakyReLU().get_config()["alpha"] == 0.3
    assert ELU().get_config()["alpha"] == 1.0
    assert {k: ReLU().get_config()[k] for k in ("max_value", "negative_slope", "threshold")} == \
        {"max_value": None, "negative_slope": 0.0, "threshold": 0.0}
    assert Softmax().get_config()["axis"] == -1
    assert UpSampling2D().get_config()["size"] == [2, 2]
    assert ZeroPadding2D().get_config()["padding"] == [[1, 1], [1, 1]]
    assert AveragePooling2D().get_config()["strides"] == [2, 2]


def _loss_with_output(last, logit_scale):
    minidl.seed(0)
    model = Sequential([Dense(3, input_shape=(4,)), last])
    model.compile("sgd", loss="categorical_crossentropy")
    kernel, bias = model.layers[0].get_weights()
    model.layers[0].set_weights([kernel * logit_scale, bias])
    x = _x((6, 4)).astype(np.float32)
    y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    return model.evaluate(x, y, verbose=0)


def test_softmax_layer_meets_crossentropy_on_the_logits_like_activation_softmax():
    # Logits so large that some probabilities underflow: only the logits path stays exact.
    fused = _loss_with_output(layers.Activation("softmax"), 200.0)
    assert _loss_with_output(Softmax(), 200.0) == pytest.approx(fused, rel=1e-6)
    assert fused > -np.log(1e-7)  # beyond what clipped probabilities could give


# ----------------------------------------------------------------- SpatialDropout2D
def test_spatial_dropout_drops_whole_channels(xp):
    layer = SpatialDropout2D(0.5)
    minidl.seed(0)
    y = K.to_numpy(layer.forward(K.asarray(np.ones((50, 4, 3, 8)), dtype="float32"),
                                 training=True))
    per_map = y.reshape(50, 12, 8)
    assert (per_map == per_map[:, :1]).all()                    # one value per (sample, channel)
    assert set(np.unique(per_map)) == {0.0, 2.0}                # dropped, or kept * 1/(1-rate)
    assert 0.4 < (per_map[:, 0] == 0).mean() < 0.6
    np.testing.assert_array_equal(K.to_numpy(layer.forward(K.asarray(y))), y)  # inference: identity


def test_spatial_dropout_is_repeatable_with_seed(xp):
    x = K.asarray(np.ones((4, 2, 2, 6)), dtype="float32")
    draws = []
    for _ in range(2):
        minidl.seed(7)
        draws.append(K.to_numpy(SpatialDropout2D(0.3).forward(x, training=True)))
    np.testing.assert_array_equal(*draws)


# ----------------------------------------------------------------- Keras 1 Convolution2D
def test_convolution2d_keras1_signature_builds_the_keras2_layer(xp):
    with pytest.warns(DeprecationWarning, match="Keras 1"):
        old = Convolution2D(4, 3, 2, border_mode="same", subsample=(2, 1), init="he_normal",
                            bias=False, input_shape=(5, 6, 2))
    new = Conv2D(4, (3, 2), padding="same", strides=(2, 1), use_bias=False, input_shape=(5, 6, 2),
                 kernel_initializer="he_normal")
    drop_name = lambda c: {k: v for k, v in c.items() if k != "name"}  # noqa: E731
    assert drop_name(old.get_config()) == drop_name(new.get_config())
    assert old.get_config()["kernel_initializer"]["config"]["scale"] == 2.0   # he_normal
    x = _x((2, 5, 6, 2))
    old.build((5, 6, 2))
    new.build((5, 6, 2))
    new.set_weights(old.get_weights())
    np.testing.assert_allclose(_run(old, x), _run(new, x))


def test_convolution2d_other_keras1_forms():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert Convolution2D(8, 5, nb_col=3).kernel_size == (5, 3)
        assert Convolution2D(nb_filter=8, nb_row=2, nb_col=4).kernel_size == (2, 4)
        assert Convolution2D(8, 3, 3, dim_ordering="tf").kernel_size == (3, 3)
    assert Convolution2D(8, (3, 3), strides=2).strides == (2, 2)  # the Keras 2 form too


def test_convolution2d_keras1_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ValueError, match=r"transpose\(0, 2, 3, 1\)"):
            Convolution2D(8, 3, 3, dim_ordering="th")
        with pytest.raises(TypeError, match="'border_mode'.*'padding'"):
            Convolution2D(8, 3, 3, border_mode="same", padding="same")
        with pytest.raises(TypeError, match="at most 2 positional"):
            Convolution2D(8, 3, 3, 3)
        with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
            Convolution2D(8, 3, 3, border_mode="full")


# ----------------------------------------------------------------- config, save, load
def _model_with_every_new_layer():
    return Sequential([
        ZeroPadding2D(1, input_shape=(8, 8, 3)),                    # (10, 10, 3)
        Convolution2D(4, 3, 3),                                     # (8, 8, 4)
        LeakyReLU(0.2),
        layers.AvgPool2D(3, strides=2, padding="same"),            # (4, 4, 4)
        SpatialDropout2D(0.25),
        UpSampling2D(),                                             # (8, 8, 4)
        Cropping2D(((1, 0), (0, 1))),                               # (7, 7, 4)
        ELU(0.5),
        ReLU(max_value=6.0, negative_slope=0.1, threshold=0.05),
        layers.MaxPool2D(2, strides=2),                             # (3, 3, 4)
        Reshape((9, 4)),
        Softmax(axis=1),
        Reshape((3, 3, 4)),
        GlobalMaxPooling2D(keepdims=True),                          # (1, 1, 4)
        GlobalAveragePooling2D(),                                   # (4,)
        Dense(3, activation="selu", kernel_initializer="lecun_normal"),
        Softmax(),
    ])


def test_save_and_load_keep_every_new_layer(tmp_path):
    minidl.seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = _model_with_every_new_layer()
    model.compile("adam", loss="categorical_crossentropy")
    x = _x((6, 8, 8, 3)).astype(np.float32)
    model.fit(x, np.eye(3)[[0, 1, 2, 0, 1, 2]], epochs=1, verbose=0)
    model.save(tmp_path / "m.npz")
    restored = load_model(tmp_path / "m.npz")
    assert [type(layer) for layer in restored.layers] == [type(layer) for layer in model.layers]
    assert [layer.get_config() for layer in restored.layers] == \
        [layer.get_config() for layer in model.layers]
    np.testing.assert_allclose(restored.predict(x), model.predict(x), rtol=1e-6)


@pytest.mark.parametrize("layer", [
    AveragePooling2D((2, 3), strides=1, padding="same"), GlobalMaxPooling2D(keepdims=True),
    GlobalAveragePooling2D(), Reshape((2, -1)), ZeroPadding2D(((1, 0), (2, 3))),
    Cropping2D((1, 2)), UpSampling2D(3), LeakyReLU(0.1), ELU(2.0),
    ReLU(6.0, 0.1, 0.5), Softmax(axis=(1, 2)), SpatialDropout2D(0.3)], ids=lambda layer: layer.name)
def test_config_round_trip(layer):
    again = layers.deserialize(layers.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == layer.get_config()


def test_keras_import_paths_and_aliases():
    from minidl.layers.advanced_activations import LeakyReLU as leaky  # noqa: F401
    from minidl.layers.convolutional import Convolution2D as conv, Cropping2D as crop  # noqa
    from minidl.layers.convolutional import UpSampling2D as up, ZeroPadding2D as pad  # noqa
    from minidl.layers.core import Reshape as reshape, SpatialDropout2D as sd  # noqa: F401
    from minidl.layers.pooling import GlobalAveragePooling2D as gap  # noqa: F401
    assert layers.AvgPool2D is AveragePooling2D and layers.MaxPool2D is layers.MaxPooling2D
    assert layers.GlobalAvgPool2D is GlobalAveragePooling2D
    assert layers.GlobalMaxPool2D is GlobalMaxPooling2D


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize("make", [
    lambda: AveragePooling2D(data_format="channels_first"),
    lambda: GlobalAveragePooling2D(data_format="channels_first"),
    lambda: GlobalMaxPooling2D(data_format="channels_first"),
    lambda: ZeroPadding2D(data_format="channels_first"),
    lambda: Cropping2D(data_format="channels_first"),
    lambda: UpSampling2D(data_format="channels_first"),
    lambda: SpatialDropout2D(0.5, data_format="channels_first"),
    lambda: layers.MaxPooling2D(data_format="channels_first")])
def test_channels_first_is_refused_with_the_transpose_to_use(make):
    with pytest.raises(ValueError, match=r"channels-last.*x\.transpose\(0, 2, 3, 1\)"):
        make()


@pytest.mark.parametrize("make,error,match", [
    (lambda: UpSampling2D(interpolation="bilinear"), ValueError, "'bilinear' is not implemented"),
    (lambda: Reshape((-1, -1)), ValueError, "at most one -1"),
    (lambda: Reshape((0, 3)), ValueError, "positive ints or one -1"),
    (lambda: ZeroPadding2D(-1), ValueError, "padding: expected a non-negative int"),
    (lambda: ZeroPadding2D((1, 2, 3)), ValueError, r"\(\(top, bottom\), \(left, right\)\)"),
    (lambda: Cropping2D("1"), ValueError, "Cropping2D: cropping"),
    (lambda: ReLU(max_value=-1), ValueError, "max_value cannot be negative"),
    (lambda: ReLU(negative_slope=-0.1), ValueError, "negative_slope cannot be negative"),
    (lambda: LeakyReLU(alpha=None), TypeError, "LeakyReLU: alpha"),
    (lambda: AveragePooling2D(padding="full"), ValueError, "'valid' or 'same'"),
    (lambda: SpatialDropout2D(1.0), ValueError, r"rate must be in \[0, 1\)"),
    (lambda: GlobalMaxPooling2D(keepdims=1), TypeError, "keepdims"),
])
def test_bad_arguments_are_named(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("layer,shape,match", [
    (Reshape((5, -1)), (3, 4), r"cannot reshape input of shape \(batch, 3, 4\)"),
    (Reshape((5, 2)), (3, 4), "12 values per sample"),
    (Cropping2D(((2, 1), (0, 0))), (3, 4, 1), "leaves nothing of a 3x4 image"),
    (GlobalAveragePooling2D(), (3, 4), r"expected images \(batch, height, width, channels\)"),
    (UpSampling2D(), (3, 4), "expected images"),
    (SpatialDropout2D(0.5), (3, 4), "expected images"),
    (Softmax(axis=3), (3, 4), "axis 3 is out of range"),
])
def test_bad_input_shapes_are_named(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer.build(shape)
