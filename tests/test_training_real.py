"""Training works on a real problem: a slice of Fashion-MNIST (needs MINIDL_DATA)."""
import numpy as np

import minidl
from minidl.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from minidl.models import Sequential
from minidl.optimizers import Adam


def test_mlp_learns_fashion_mnist(fashion_mnist_small):
    (x, y), (xt, yt) = fashion_mnist_small
    minidl.seed(0)
    model = Sequential([Flatten(input_shape=(28, 28, 1)), Dense(128, activation="relu"),
                        Dense(10, activation="softmax")])
    model.compile(Adam(lr=0.002), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    untrained_loss, _ = model.evaluate(xt, yt, verbose=0)
    history = model.fit(x, y, batch_size=64, epochs=4, verbose=0, validation_data=(xt, yt))
    loss, acc = model.evaluate(xt, yt, verbose=0)
    assert history.history["loss"] == sorted(history.history["loss"], reverse=True)
    assert loss < 0.5 * untrained_loss
    assert acc > 0.75, f"test accuracy {acc:.3f} after 4 epochs on 4,000 images"


def test_small_cnn_learns_fashion_mnist(fashion_mnist_small):
    (x, y), (xt, yt) = fashion_mnist_small
    minidl.seed(0)
    model = Sequential([Conv2D(16, (3, 3), activation="relu", input_shape=(28, 28, 1)),
                        MaxPooling2D(), Dropout(0.2), Flatten(), Dense(64, activation="relu"),
                        Dense(10, activation="softmax")])
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=3, verbose=0)
    loss, acc = model.evaluate(xt, yt, verbose=0)
    assert acc > 0.75, f"test accuracy {acc:.3f} after 3 epochs on 4,000 images"
    predictions = model.predict(xt[:50]).argmax(axis=1)
    assert np.mean(predictions == yt[:50]) > 0.6
