"""Keras 2 import path: ``from keras.layers.convolutional import Conv2D, MaxPooling2D``."""
from .conv import Conv2D  # noqa: F401
from .pooling import MaxPool2D, MaxPooling2D  # noqa: F401
