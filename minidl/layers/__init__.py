"""Layers, channels-last (N, H, W, C), each with a hand-written backward.

    dense.py          Dense             y = f(x W + b)
    conv.py           Conv2D            im2col + one matrix product
    convolutional.py  Convolution2D     Conv2D with the Keras 1 signature too
    pooling.py        MaxPooling2D      max of each window
                      AveragePooling2D  mean of each window (padding not counted)
    global_pooling.py GlobalAveragePooling2D, GlobalMaxPooling2D   one value per channel
    normalization.py  BatchNormalization
    dropout.py        Dropout
                      SpatialDropout2D  drops whole channels
    flatten.py        Flatten
    reshaping.py      Reshape, ZeroPadding2D, Cropping2D, UpSampling2D (nearest)
    activation.py     Activation        any function of minidl.activations
    advanced_activations.py  LeakyReLU, ELU, ReLU, Softmax   activations with settings
    lambda_layer.py   Lambda            an array function as a layer

Keras's aliases: MaxPool2D, AvgPool2D, GlobalMaxPool2D, GlobalAvgPool2D.
"""
from .activation import Activation
from .advanced_activations import ELU, LeakyReLU, ReLU, Softmax
from .base import Layer
from .conv import Conv2D
from .convolutional import Convolution2D
from .dense import Dense
from .dropout import Dropout, SpatialDropout2D
from .flatten import Flatten
from .global_pooling import (GlobalAveragePooling2D, GlobalAvgPool2D, GlobalMaxPool2D,
                             GlobalMaxPooling2D)
from .input_layer import Input, InputLayer
from .lambda_layer import Lambda
from .normalization import BatchNormalization
from .pooling import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D
from .reshaping import Cropping2D, Reshape, UpSampling2D, ZeroPadding2D

_CLASSES = {c.__name__: c for c in (
    Activation, Conv2D, Dense, Dropout, Flatten, Lambda, BatchNormalization, MaxPooling2D,
    AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, Reshape, ZeroPadding2D,
    Cropping2D, UpSampling2D, LeakyReLU, ELU, ReLU, Softmax, SpatialDropout2D, Convolution2D)}


def serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config, custom_objects=None):
    classes = {**_CLASSES, **(custom_objects or {})}
    name = config.get("class_name")
    if name not in classes:
        raise ValueError(f"layers: unknown layer class {name!r}; known: {sorted(classes)}")
    return classes[name].from_config(config.get("config", {}))
