"""Layers, channels-last (N, H, W, C), each with a hand-written backward.

    dense.py          Dense             y = f(x W + b)
    conv.py           Conv2D            im2col + one matrix product
    pooling.py        MaxPooling2D      max of each window
    normalization.py  BatchNormalization
    dropout.py        Dropout
    flatten.py        Flatten
    activation.py     Activation
    lambda_layer.py   Lambda            an array function as a layer
"""
from .activation import Activation
from .base import Layer
from .conv import Conv2D
from .dense import Dense
from .dropout import Dropout
from .flatten import Flatten
from .input_layer import Input, InputLayer
from .lambda_layer import Lambda
from .normalization import BatchNormalization
from .pooling import MaxPool2D, MaxPooling2D

_CLASSES = {c.__name__: c for c in (Activation, Conv2D, Dense, Dropout, Flatten, Lambda,
                                     BatchNormalization, MaxPooling2D)}


def serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config, custom_objects=None):
    classes = {**_CLASSES, **(custom_objects or {})}
    name = config.get("class_name")
    if name not in classes:
        raise ValueError(f"layers: unknown layer class {name!r}; known: {sorted(classes)}")
    return classes[name].from_config(config.get("config", {}))
