"""Keras 2 code runs with ``keras`` replaced by ``minidl``.

Each test is written the way one of the studies writes its Keras code: the
same import paths, the same constructor and compile/fit spellings (Keras 1
leftovers included), only the package name changed. Tiny random data: these
check the API surface, not accuracy (tests/test_zoo.py and the reproduction
report do that).
"""
import numpy as np
import pytest

import minidl


def _images(n, shape=(28, 28, 1), classes=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n,) + shape).astype("float32"), rng.integers(0, classes, n)


def test_study_000_style_fashion_code():
    from minidl.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, Lambda, MaxPooling2D
    from minidl.models import Sequential
    from minidl.optimizers import Adam
    from minidl.preprocessing.image import ImageDataGenerator

    X_train, y_train = _images(96)
    X_val, y_val = _images(32, seed=1)
    mean_px, std_px = X_train.mean().astype(np.float32), X_train.std().astype(np.float32)

    def norm_input(x):
        return (x - mean_px) / std_px

    model = Sequential([
        Lambda(norm_input, input_shape=(28, 28, 1)),
        Conv2D(8, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)),
        BatchNormalization(),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.25),
        Flatten(),
        Dense(16, activation="relu"),
        Dense(10, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer=Adam(lr=0.001),
                  metrics=["accuracy"])
    model.fit(X_train, y_train, batch_size=32, epochs=1, verbose=0, validation_data=(X_val, y_val))
    model.optimizer.lr = 0.0001
    gen = ImageDataGenerator(rotation_range=8, width_shift_range=0.08, shear_range=0.3,
                             height_shift_range=0.08, zoom_range=0.08)
    batches = gen.flow(X_train, y_train, batch_size=32)
    val_batches = gen.flow(X_val, y_val, batch_size=32)
    model.fit_generator(batches, steps_per_epoch=96 // 32, epochs=1, validation_data=val_batches,
                        validation_steps=32 // 32, use_multiprocessing=True, verbose=0)
    score = model.evaluate(X_val, y_val, verbose=0)
    assert len(score) == 2 and model.optimizer.lr == 0.0001


def test_study_001_style_mnist_code():
    import minidl as keras
    from minidl import backend as K
    from minidl.layers import Activation, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from minidl.layers.normalization import BatchNormalization
    from minidl.models import Sequential

    x_train, y = _images(64)
    img_rows, img_cols = 28, 28
    if K.image_data_format() == "channels_first":  # the study's own branch
        pytest.fail("minidl is channels-last")
    x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1)
    y_train = keras.utils.to_categorical(y, 10)

    model = Sequential()
    model.add(Conv2D(8, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(Conv2D(8, (3, 3)))
    model.add(BatchNormalization(axis=-1))
    model.add(Activation("relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    with pytest.warns(DeprecationWarning, match="init"):
        model.add(Dense(16, activation="relu", init="glorot_normal"))  # Keras 1 name
    model.add(Dropout(0.5))
    model.add(Dense(10, activation="softmax"))
    model.compile(loss=keras.losses.categorical_crossentropy,
                  optimizer=keras.optimizers.Adadelta(), metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=2, verbose=0,
                        validation_data=(x_train, y_train))
    vy, ty = history.history["val_loss"], history.history["loss"]
    assert len(vy) == len(ty) == 2
    assert set(history.history) >= {"acc", "val_acc"}  # Keras 2.2 keys


def test_study_001_style_datagen_cell_with_keras_no_op_arguments():
    """The study spells out Keras arguments at their off values (zca_whitening=False)."""
    from minidl.preprocessing.image import ImageDataGenerator
    datagen = ImageDataGenerator(
        featurewise_center=False, samplewise_center=False, featurewise_std_normalization=False,
        samplewise_std_normalization=False, zca_whitening=False, rotation_range=25,
        width_shift_range=0.1, height_shift_range=0.1, horizontal_flip=False,
        vertical_flip=False)
    x_train, _ = _images(16)
    datagen.fit(x_train)


def test_study_001_style_model_without_input_shape():
    """The 5-layer model never names its input shape: fit() builds it."""
    import minidl as keras
    from minidl.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from minidl.layers.normalization import BatchNormalization
    from minidl.models import Sequential

    model = Sequential()
    model.add(Conv2D(8, kernel_size=5, activation="relu"))
    model.add(MaxPooling2D(2, 2))
    model.add(BatchNormalization())
    model.add(Flatten())
    model.add(Dense(10, activation="softmax"))
    model.compile(loss=keras.losses.categorical_crossentropy,
                  optimizer=keras.optimizers.Adadelta(), metrics=["accuracy"])
    x, y = _images(32)
    model.fit(x, keras.utils.to_categorical(y, 10), batch_size=16, epochs=1, verbose=0)
    assert model.output_shape == (None, 10)


def test_study_002_style_cifar_code(capsys):
    from minidl.constraints import maxnorm
    from minidl.layers import Dense, Dropout, Flatten
    from minidl.layers.convolutional import Conv2D, MaxPooling2D
    from minidl.models import Sequential
    from minidl.optimizers import SGD
    from minidl.preprocessing.image import ImageDataGenerator
    from minidl.utils import np_utils

    x_train, y = _images(64, shape=(32, 32, 3))
    x_train = x_train.astype("float32") / 1.0
    y_train = np_utils.to_categorical(y)
    simple = Sequential()
    simple.add(Conv2D(8, (3, 3), input_shape=(32, 32, 3), padding="same", activation="relu",
                      kernel_constraint=maxnorm(3)))
    simple.add(Dropout(0.2))
    simple.add(MaxPooling2D(pool_size=(2, 2)))
    simple.add(Flatten())
    simple.add(Dense(16, activation="relu", kernel_constraint=maxnorm(3)))
    simple.add(Dense(y_train.shape[1], activation="softmax"))
    a, e = 0.01, 2
    simple.compile(loss="categorical_crossentropy",
                   optimizer=SGD(lr=a, momentum=0.9, decay=a / e, nesterov=False),
                   metrics=["accuracy"])
    simple.summary()
    assert "Trainable params:" in capsys.readouterr().out
    simple.fit(x_train, y_train, validation_data=(x_train, y_train), epochs=e, batch_size=32,
               verbose=0)
    scores = simple.evaluate(x_train, y_train, verbose=0)
    assert 0.0 <= scores[1] <= 1.0
    datagen = ImageDataGenerator(zoom_range=0.2, horizontal_flip=True)
    info = simple.fit_generator(datagen.flow(x_train, y_train, batch_size=32),
                                samples_per_epoch=x_train.shape[0], nb_epoch=1,
                                validation_data=(x_train, y_train), verbose=0)
    assert len(info.history["accuracy"]) == 1  # Keras 2.3 key
    # MaxNorm held: every kernel row norm of the conv (Keras's axis=0 on (3, 3, 3, 8)) <= 3
    kernel = simple.layers[0].get_weights()[0]
    assert np.sqrt((kernel ** 2).sum(axis=0)).max() <= 3 + 1e-5


def test_study_003_style_mlp_code():
    from minidl.initializers import RandomNormal
    from minidl.layers import Activation, Dense, Dropout
    from minidl.layers.normalization import BatchNormalization
    from minidl.models import Sequential
    from minidl.utils import np_utils

    X, y = _images(64, shape=(784,))
    Y = np_utils.to_categorical(y, 10)
    model = Sequential()
    model.add(Dense(32, activation="sigmoid", input_shape=(784,),
                    kernel_initializer=RandomNormal(mean=0.0, stddev=0.039, seed=None)))
    model.add(Dropout(0.25))
    model.add(Dense(16, activation="relu"))
    model.add(BatchNormalization())
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X, Y, batch_size=16, epochs=2, verbose=0, validation_data=(X, Y))
    score = model.evaluate(X, Y, verbose=0)
    assert isinstance(score[0], float) and len(history.history["val_loss"]) == 2


def test_study_004_style_tf_keras_code():
    tf = type("tf", (), {"keras": minidl})  # stands for `import tensorflow as tf`

    class AccuracyHistory(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs={}):  # noqa: B006 (the study's own signature)
            self.acc = []

        def on_epoch_end(self, batch, logs={}):  # noqa: B006
            self.acc.append(logs.get("acc"))

    X_train, y_train = _images(64)
    X_train = X_train.astype(np.float64)  # the study divides uint8 by 255.0
    history = AccuracyHistory()
    model = tf.keras.models.Sequential([
        tf.keras.layers.Conv2D(8, (5, 5), input_shape=(28, 28, 1), activation="relu"),
        tf.keras.layers.Dropout(.25),
        tf.keras.layers.MaxPooling2D(2, 2),
        tf.keras.layers.Conv2D(8, (4, 4), activation="relu"),
        tf.keras.layers.MaxPooling2D(2, 2),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="SGD", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=2, callbacks=[history], verbose=0)
    loss, accuracy = model.evaluate(X_train, y_train, verbose=0)
    assert len(history.acc) == 2 and all(a is not None for a in history.acc)
