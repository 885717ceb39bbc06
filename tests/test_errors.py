"""Bad input gets a clear error naming the layer or argument, expected vs received."""
import numpy as np
import pytest

from minidl import activations, initializers, losses, optimizers
from minidl import backend as K
from minidl.layers import Conv2D, Dense, Dropout, MaxPooling2D
from minidl.models import Sequential


def classifier(loss="sparse_categorical_crossentropy"):
    model = Sequential([Dense(8, activation="relu", input_shape=(4,)),
                        Dense(3, activation="softmax")])
    model.compile("adam", loss=loss, metrics=["accuracy"])
    return model


X = np.zeros((10, 4), np.float32)
Y = np.arange(10) % 3


def test_input_shape_that_does_not_fit_the_model():
    with pytest.raises(ValueError, match=r"expected input of shape \(None, 4\), received \(10, 5\)"):
        classifier().fit(np.zeros((10, 5)), Y, verbose=0)


def test_a_layer_refuses_an_input_of_another_shape():
    layer = Dense(2)
    layer.forward(K.asarray(np.zeros((1, 3), np.float32)))
    with pytest.raises(ValueError, match=r"dense_\d+: expected input of shape \(batch, 3\), received \(1, 4\)"):
        layer.forward(K.asarray(np.zeros((1, 4), np.float32)))


def test_labels_outside_the_classes():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\).*received values in \[0, 5\]"):
        classifier().fit(X, np.arange(10) % 6, verbose=0)


def test_labels_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"expected integer labels of shape \(10,\) or \(10, 1\)"):
        classifier().fit(X, np.zeros((10, 3)), verbose=0)
    with pytest.raises(ValueError, match=r"one-hot targets of shape \(10, 3\), received \(10,\).*sparse"):
        classifier("categorical_crossentropy").fit(X, Y, verbose=0)


def test_non_integer_labels():
    with pytest.raises(ValueError, match="whole numbers"):
        classifier().fit(X, Y + 0.5, verbose=0)


def test_nan_or_inf_in_the_inputs():
    x = X.copy()
    x[3, 1] = np.nan
    x[4, 0] = np.inf
    with pytest.raises(ValueError, match="x contains 2 NaN or infinite"):
        classifier().fit(x, Y, verbose=0)


def test_x_and_y_of_different_lengths():
    with pytest.raises(ValueError, match="same number of samples, received 10 and 9"):
        classifier().fit(X, Y[:9], verbose=0)


@pytest.mark.parametrize("getter,name,listed", [
    (activations.get, "relux", "relu"),
    (losses.get, "crossentropy", "categorical_crossentropy"),
    (optimizers.get, "adamw", "Adam"),
    (initializers.get, "xavier", "glorot_uniform"),
])
def test_unknown_names_list_the_valid_ones(getter, name, listed):
    with pytest.raises(ValueError, match=rf"unknown .*{name}.*{listed}"):
        getter(name)


def test_unknown_names_in_layers_and_compile():
    with pytest.raises(ValueError, match="unknown activation 'snake'"):
        Dense(3, activation="snake")
    with pytest.raises(ValueError, match="unknown loss"):
        classifier(loss="hinge2")


@pytest.mark.parametrize("make,message", [
    (lambda: Dense(0), r"Dense: units: expected a positive int, received 0"),
    (lambda: Dense(-3), r"received -3"),
    (lambda: Conv2D(0, 3), r"Conv2D: filters: expected a positive int, received 0"),
    (lambda: Conv2D(4, 0), r"Conv2D: kernel_size: expected a positive int, received 0"),
    (lambda: Conv2D(4, (3, -1)), r"kernel_size"),
    (lambda: Conv2D(4, 3, strides=0), r"strides"),
    (lambda: Conv2D(4, 3, padding="full"), r"padding must be 'valid' or 'same', received 'full'"),
    (lambda: MaxPooling2D(0), r"pool_size"),
    (lambda: Dropout(1.0), r"rate must be in \[0, 1\), received 1.0"),
    (lambda: Dense(3, kernel_initalizer="zeros"), r"unexpected keyword argument\(s\) \['kernel_initalizer'\]"),
])
def test_bad_layer_arguments(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_kernel_larger_than_its_input():
    with pytest.raises(ValueError, match=r"kernel 5x5 is larger than its 4x4 input"):
        Sequential([Conv2D(2, 5, input_shape=(4, 4, 1))])


def test_channels_first_images_are_refused():
    with pytest.raises(ValueError, match="channels-last only"):
        Conv2D(2, 3, data_format="channels_first")


def test_images_fed_to_conv_must_be_rank_4():
    with pytest.raises(ValueError, match=r"expected images \(batch, height, width, channels\)"):
        Sequential([Conv2D(2, 3, input_shape=(28, 28))])


def test_fit_before_compile():
    model = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(RuntimeError, match="call compile"):
        model.fit(np.zeros((2, 3)), np.zeros((2, 2)), verbose=0)


def test_bad_batch_size_and_epochs():
    with pytest.raises(ValueError, match="batch_size must be a positive int, received 0"):
        classifier().fit(X, Y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="epochs must be a non-negative int"):
        classifier().fit(X, Y, epochs=1.5, verbose=0)


def test_set_weights_with_wrong_shapes():
    layer = Dense(2)
    layer.build((3,))
    with pytest.raises(ValueError, match=r"kernel must have shape \(3, 2\), received \(2, 3\)"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(2)])


def test_hyperparameters_of_the_wrong_type():
    from minidl.layers import BatchNormalization
    with pytest.raises(TypeError, match=r"Dropout: rate: expected a number, received '0.5'"):
        Dropout("0.5")
    with pytest.raises(TypeError, match="momentum: expected a number"):
        BatchNormalization(momentum="0.9")


def test_arguments_that_do_not_apply_are_refused():
    gen = ((X[:5], Y[:5]) for _ in range(10))
    with pytest.raises(ValueError, match="validation_split must be unset"):
        classifier().fit(gen, steps_per_epoch=2, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch applies to generators"):
        classifier().fit(X, Y, steps_per_epoch=3, verbose=0)
    with pytest.raises(ValueError, match="sample weights are not supported"):
        classifier().fit(X, Y, validation_data=(X, Y, np.ones(10)), verbose=0)


def test_numpy_integer_batch_sizes_work():
    model = classifier()
    model.fit(X, Y, batch_size=np.int64(4), verbose=0)
    assert model.predict(X, batch_size=np.int32(3)).shape == (10, 3)


def test_labels_from_a_generator_are_checked_on_the_cpu():
    """The CPU path checks each batch on the host and names the values it received;
    on a GPU one device flag is read with the loss instead (the test below)."""
    saved = K.device()
    K.set_device("cpu")
    try:
        gen = ((X[:5], np.array([0, 1, 2, 5, 1])) for _ in range(3))
        with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\).*received values in \[0, 5\]"):
            classifier().fit(gen, steps_per_epoch=2, verbose=0)
    finally:
        K.set_device(saved)


# ------------------------------------------------------------------ labels from a generator
@pytest.mark.parametrize("labels", [[0, 1, 5, 2], [0, -1, 1, 2], [0.0, 1.5, 2.0, 1.0],
                                    [0.0, float("nan"), 1.0, 2.0]],
                         ids=["too_large", "negative", "non_integer", "nan"])
def test_a_generator_with_bad_labels_stops_fit_on_every_backend(xp, labels):
    """On a GPU the labels are checked on the device, and the flag is read with the
    loss; CuPy's fancy indexing would otherwise train label 5 of 3 classes as class 2."""
    x = xp.asarray(np.random.default_rng(0).standard_normal((4, 3)).astype("float32"))
    y = xp.asarray(np.array(labels))

    def batches():
        while True:
            yield x, y

    model = Sequential([Dense(3, activation="softmax", input_shape=(3,))])
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"labels .*(\[0, 3\)|whole numbers)"):
        model.fit(batches(), steps_per_epoch=2, epochs=1, verbose=0)
