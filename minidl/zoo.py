"""The models of the five studies minidl reproduces, and how each was trained.

One function per model builds it with the public Keras-like API, layer for
layer as its study wrote it, and returns it *uncompiled* (the recipe knows
the optimizer)::

    from minidl import zoo
    model = zoo.fashion_cnn1()
    model.summary()

``RECIPES['s000_cnn1']`` says how the study trained that model: data,
preprocessing, validation, optimizer, batch size, and the schedule as
phases (one ``fit`` / ``fit_generator`` call each), with the test accuracy
the study published after each phase. ``run_recipe`` replays it::

    result = zoo.run_recipe("s000_cnn1", max_epochs=1, limit=2000)
    result["phases"][-1]["test_accuracy"]

The studies ran different Keras versions, whose defaults differ (Adam's
epsilon, BatchNormalization's moving variance, ImageDataGenerator's shear
units and interpolation). Each recipe and model follows its own study's
version; the comments name it.

    study 000  Fashion-MNIST  Keras 2.0.x (2017)
    study 001  MNIST          Keras 2.2.x
    study 002  CIFAR-10       Keras 2.3.x
    study 003  MNIST (MLPs)   Keras 2.2.x
    study 004  Fashion-MNIST  tf.keras of TensorFlow 1.x
"""
import dataclasses
import json
import os
import re
import resource
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple

import numpy as np

from . import backend as K
from . import datasets, optimizers
from .callbacks import BackupAndRestore, Callback
from .constraints import MaxNorm
from .layers import (Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten, Lambda,
                     MaxPooling2D)
from .models import Sequential
from .preprocessing.image import ImageDataGenerator
from .utils import to_categorical
from .utils.files import write_json_atomic

CLASS_NAMES = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                "truck"),
}

# Study 000 standardizes its input with the pixel mean and std of its 48,000
# training images (Fashion-MNIST /255, train_val_split(val_size=0.2,
# seed=12345)), computed as the study did, in float32 with NumPy. run_recipe
# recomputes them from the data it trains on; these are the defaults for a
# model built alone.
FASHION_MNIST_MEAN = 0.28619078
FASHION_MNIST_STD = 0.353142

MNIST_SHAPE = (28, 28, 1)
CIFAR_SHAPE = (32, 32, 3)


# ============================================================ study 000
# Fashion-MNIST, Keras 2.0.x: BatchNormalization's moving averages are the
# plain exponential average of the biased batch variance (Keras 2.0.8 had no
# n/(n-1) rescaling and no zero-debiasing), set explicitly by _bn_keras20:
# minidl's default is Keras 2.2/2.3's rescaled variance.

def _bn_keras20(**kwargs):
    """BatchNormalization as Keras 2.0.x updated its moving statistics."""
    return BatchNormalization(unbiased_moving_variance=False, **kwargs)


def _standardize(mean, std):
    """The study's ``norm_input``: x -> (x - mean) / std with float32 scalars."""
    mean, std = np.float32(mean), np.float32(std)

    def norm_input(x):
        return (x - mean) / std
    return norm_input


def fashion_mlp():
    """Study 000's 2-layer net: 784 -> 512 -> 128 -> 10. x: (N, 784)."""
    return Sequential([
        Dense(512, input_shape=(784,), activation="relu"),
        Dense(128, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def fashion_cnn1():
    """Study 000's 'CNN with 1 convolutional layer' (cnn1). x: (N, 28, 28, 1)."""
    return Sequential([
        Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=MNIST_SHAPE),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.2),
        Flatten(),
        Dense(128, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def fashion_cnn3():
    """Study 000's 'CNN with 3 convolutional layers' (cnn2 in its code). x: (N, 28, 28, 1)."""
    return Sequential([
        Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=MNIST_SHAPE),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.2),
        Conv2D(64, kernel_size=(3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.2),
        Conv2D(128, kernel_size=(3, 3), activation="relu"),
        Dropout(0.2),
        Flatten(),
        Dense(128, activation="relu"),
        Dropout(0.2),
        Dense(10, activation="softmax"),
    ])


def fashion_cnn4_bn(mean=FASHION_MNIST_MEAN, std=FASHION_MNIST_STD):
    """Study 000's 4-conv CNN with BatchNormalization (cnn3 in its code).

    The Lambda standardizes x: (N, 28, 28, 1) with the training set's pixel
    ``mean`` and ``std`` (defaults: Fashion-MNIST's, see FASHION_MNIST_MEAN).
    """
    return Sequential([
        Lambda(_standardize(mean, std), input_shape=MNIST_SHAPE),
        Conv2D(32, kernel_size=(3, 3), activation="relu"),
        _bn_keras20(),
        Conv2D(32, kernel_size=(3, 3), activation="relu"),
        _bn_keras20(),
        Dropout(0.25),
        Conv2D(64, kernel_size=(3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.25),
        Conv2D(128, kernel_size=(3, 3), activation="relu"),
        _bn_keras20(),
        Dropout(0.25),
        Flatten(),
        Dense(512, activation="relu"),
        _bn_keras20(),
        Dropout(0.5),
        Dense(128, activation="relu"),
        _bn_keras20(),
        Dropout(0.5),
        Dense(10, activation="softmax"),
    ])


def _vgg_block(filters, convs):
    return [Conv2D(filters, kernel_size=(3, 3), activation="relu", padding="same")
            for _ in range(convs)]


def fashion_vgg(mean=FASHION_MNIST_MEAN, std=FASHION_MNIST_STD):
    """Study 000's 'VGG like model' (cnn4): blocks of 'same' 3x3 convs
    32x2, 64x2, 128x2, 256x3, each block max-pooled, then Dense 512-512.
    x: (N, 28, 28, 1), standardized by the Lambda as in ``fashion_cnn4_bn``."""
    return Sequential(
        [Lambda(_standardize(mean, std), input_shape=MNIST_SHAPE)]
        + _vgg_block(32, 2) + [MaxPooling2D(pool_size=(2, 2))]
        + _vgg_block(64, 2) + [MaxPooling2D(pool_size=(2, 2))]
        + _vgg_block(128, 2) + [MaxPooling2D(pool_size=(2, 2))]
        + _vgg_block(256, 3) + [MaxPooling2D(pool_size=(2, 2))]
        + [Flatten(),
           Dense(512, activation="relu"), Dropout(0.5),
           Dense(512, activation="relu"), Dropout(0.5),
           Dense(10, activation="softmax")])


def fashion_vgg_bn(mean=FASHION_MNIST_MEAN, std=FASHION_MNIST_STD):
    """Study 000's 'VGG like model with Batchnorm' (cnn5). Unlike ``fashion_vgg``
    it pools only twice (after the 64 and the 256 blocks) and adds
    BatchNormalization and Dropout. x: (N, 28, 28, 1), standardized."""
    return Sequential(
        [Lambda(_standardize(mean, std), input_shape=MNIST_SHAPE)]
        + _vgg_block(32, 2) + [_bn_keras20(), Dropout(0.25)]
        + _vgg_block(64, 2) + [MaxPooling2D(pool_size=(2, 2)), Dropout(0.25)]
        + _vgg_block(128, 2) + [_bn_keras20(), Dropout(0.25)]
        + _vgg_block(256, 3) + [MaxPooling2D(pool_size=(2, 2))]
        + [Flatten(),
           Dense(512, activation="relu"), _bn_keras20(), Dropout(0.5),
           Dense(512, activation="relu"), _bn_keras20(), Dropout(0.5),
           Dense(10, activation="softmax")])


# ============================================================ study 001
# MNIST, Keras 2.2.x.

def _bn_keras22(**kwargs):
    """BatchNormalization as Keras 2.1.4-2.2.x updated its moving variance:
    the batch variance rescaled by n / (n - (1 + eps)), averaged with
    TensorFlow's zero-debiased moving average."""
    return BatchNormalization(unbiased_moving_variance=True, zero_debias=True, **kwargs)


def mnist_keras_cnn(dense_initializer="glorot_uniform"):
    """Keras's examples/mnist_cnn.py: Conv32, Conv64, pool, Dropout, Dense128.

    dense_initializer: the two Dense layers' kernel initializer. The study's
    last model passes Keras 1's ``init='glorot_normal'`` to them, which
    Keras 2 reads as ``kernel_initializer='glorot_normal'``.
    x: (N, 28, 28, 1); 10 softmax outputs.
    """
    return Sequential([
        Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=MNIST_SHAPE),
        Conv2D(64, (3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.25),
        Flatten(),
        Dense(128, activation="relu", kernel_initializer=dense_initializer),
        Dropout(0.5),
        Dense(10, activation="softmax", kernel_initializer=dense_initializer),
    ])


def mnist_conv3_bn():
    """Study 001's '3 layer CNN': convs 32, 32, 64, each followed by
    BatchNormalization then ReLU; Dense 256 + BN. x: (N, 28, 28, 1)."""
    return Sequential([
        Conv2D(32, (3, 3), input_shape=MNIST_SHAPE),
        _bn_keras22(axis=-1),
        Activation("relu"),
        Conv2D(32, (3, 3)),
        _bn_keras22(axis=-1),
        Activation("relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Conv2D(64, (3, 3)),
        _bn_keras22(axis=-1),
        Activation("relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Flatten(),
        Dense(256),
        _bn_keras22(),
        Activation("relu"),
        Dropout(0.2),
        Dense(10, activation="softmax"),
    ])


def mnist_conv5_bn():
    """Study 001's '5 layer CNN': 5x5 convs 32, 32; 3x3 convs 64, 64, 128.

    The study gives no input_shape (Keras built the model from the data on
    fit); here it is (28, 28, 1), what fit would have found.
    """
    return Sequential([
        Conv2D(32, kernel_size=5, activation="relu", input_shape=MNIST_SHAPE),
        Conv2D(32, kernel_size=5, activation="relu"),
        MaxPooling2D(2, 2),
        _bn_keras22(),
        Dropout(0.4),
        Conv2D(64, kernel_size=3, activation="relu"),
        Conv2D(64, kernel_size=3, activation="relu"),
        MaxPooling2D(2, 2),
        _bn_keras22(),
        Dropout(0.4),
        Conv2D(128, kernel_size=3, activation="relu"),
        _bn_keras22(),
        Flatten(),
        Dense(256, activation="relu"),
        Dropout(0.4),
        Dense(128, activation="relu"),
        Dropout(0.4),
        Dense(10, activation="softmax"),
    ])


def mnist_conv7_bn():
    """Study 001's '7 layer CNN': 3x3 convs 32 (valid), 32, 32, 64, 64, 64,
    128 ('same'). No input_shape in the study either: (28, 28, 1) here."""
    return Sequential([
        Conv2D(32, kernel_size=3, activation="relu", input_shape=MNIST_SHAPE),
        Conv2D(32, kernel_size=3, activation="relu", padding="same"),
        Conv2D(32, kernel_size=3, activation="relu", padding="same"),
        MaxPooling2D(2, 2),
        _bn_keras22(),
        Dropout(0.4),
        Conv2D(64, kernel_size=3, activation="relu", padding="same"),
        Conv2D(64, kernel_size=3, activation="relu", padding="same"),
        MaxPooling2D(2, 2),
        _bn_keras22(),
        Dropout(0.4),
        Conv2D(64, kernel_size=3, activation="relu", padding="same"),
        MaxPooling2D(2, 2),
        _bn_keras22(),
        Dropout(0.4),
        Conv2D(128, kernel_size=3, activation="relu", padding="same"),
        _bn_keras22(),
        Flatten(),
        Dense(256, activation="relu"),
        Dropout(0.4),
        Dense(128, activation="relu"),
        Dropout(0.4),
        Dense(10, activation="softmax"),
    ])


# ============================================================ study 002
# CIFAR-10, Keras 2.3.x: BatchNormalization rescales the batch variance by
# n / (n - (1 + eps)) and averages plainly (no zero-debiasing): minidl's default.
# ``maxnorm(3)`` on a Conv2D keeps Keras's default axis=0 (see MaxNorm).

def cifar_simple_cnn():
    """Study 002's simple CNN: two 'same' Conv32 with MaxNorm(3), Dense512.
    x: (N, 32, 32, 3)."""
    return Sequential([
        Conv2D(32, (3, 3), input_shape=CIFAR_SHAPE, padding="same", activation="relu",
               kernel_constraint=MaxNorm(3)),
        Dropout(0.2),
        Conv2D(32, (3, 3), activation="relu", padding="same", kernel_constraint=MaxNorm(3)),
        MaxPooling2D(pool_size=(2, 2)),
        Flatten(),
        Dense(512, activation="relu", kernel_constraint=MaxNorm(3)),
        Dropout(0.5),
        Dense(10, activation="softmax"),
    ])


def _large_cnn(conv_dropouts):
    layers = []
    for i, filters in enumerate((32, 64, 128)):
        first = {"input_shape": CIFAR_SHAPE} if i == 0 else {}
        layers.append(Conv2D(filters, (3, 3), activation="relu", padding="same", **first))
        if i == 0 or conv_dropouts:
            layers.append(Dropout(0.2))
        layers += [Conv2D(filters, (3, 3), activation="relu", padding="same"), MaxPooling2D()]
    layers.append(Flatten())
    if conv_dropouts:
        layers.append(Dropout(0.2))
    layers += [Dense(1024, activation="relu", kernel_constraint=MaxNorm(3)), Dropout(0.2),
               Dense(512, activation="relu", kernel_constraint=MaxNorm(3)), Dropout(0.2),
               Dense(10, activation="softmax")]
    return Sequential(layers)


def cifar_large_cnn():
    """Study 002's larger CNN: three times (conv, Dropout 0.2, conv, pool) with
    32, 64, 128 filters, then Dropout, Dense 1024 and 512 with MaxNorm(3).
    x: (N, 32, 32, 3)."""
    return _large_cnn(conv_dropouts=True)


def cifar_large_cnn_fewer_dropouts():
    """``cifar_large_cnn`` keeping only the first conv's Dropout and the
    Dense layers' ones. x: (N, 32, 32, 3)."""
    return _large_cnn(conv_dropouts=False)


def cifar_cnn_48_96_192(dropout=False):
    """Study 002's 48-96-192 CNN: per block a 'same' then a 'valid' 3x3 conv
    and a pool; Dense 512-256. ``dropout=True`` adds Dropout(0.25) after each
    pool and Dropout(0.5) after each hidden Dense (the study's 'latest').
    x: (N, 32, 32, 3)."""
    layers = []
    for i, filters in enumerate((48, 96, 192)):
        first = {"input_shape": CIFAR_SHAPE} if i == 0 else {}
        layers += [Conv2D(filters, (3, 3), activation="relu", padding="same", **first),
                   Conv2D(filters, (3, 3), activation="relu"),
                   MaxPooling2D(pool_size=(2, 2))]
        if dropout:
            layers.append(Dropout(0.25))
    layers.append(Flatten())
    for units in (512, 256):
        layers.append(Dense(units, activation="relu"))
        if dropout:
            layers.append(Dropout(0.5))
    layers.append(Dense(10, activation="softmax"))
    return Sequential(layers)


def cifar_bn_cnn():
    """Study 002's last model: 32-64-128 convs, BatchNormalization after every
    conv, Dropout 0.25 per block, Dense 512-256 with Dropout 0.5.
    685,354 parameters, 896 non-trainable (the study's summary).
    x: (N, 32, 32, 3)."""
    layers = []
    for i, filters in enumerate((32, 64, 128)):
        first = {"input_shape": CIFAR_SHAPE} if i == 0 else {}
        second = {"padding": "same"} if i == 0 else {}   # as written: 'valid' from block 2
        layers += [Conv2D(filters, (3, 3), activation="relu", padding="same", **first),
                   BatchNormalization(),
                   Conv2D(filters, (3, 3), activation="relu", **second),
                   BatchNormalization(),
                   MaxPooling2D(pool_size=(2, 2)),
                   Dropout(0.25)]
    layers += [Flatten(),
               Dense(512, activation="relu"), Dropout(0.5),
               Dense(256, activation="relu"), Dropout(0.5),
               Dense(10, activation="softmax")]
    return Sequential(layers)


# ============================================================ study 003
# MNIST flattened to 784, Keras 2.2.x. Each function is the study's layer
# list as written in its code (where the code and the text differ, the code;
# see the recipes' notes).

def _mlp(*layers):
    return Sequential([Dense(512, activation=layers[0], input_shape=(784,))] + list(layers[1:])
                      + [Dense(10, activation="softmax")])


def mnist_mlp_sigmoid():
    """Model 1: 784-512-128-64-10, sigmoid."""
    return _mlp("sigmoid", Dense(128, activation="sigmoid"), Dense(64, activation="sigmoid"))


def mnist_mlp_relu():
    """Model 2: 784-512-128-64-10, ReLU."""
    return _mlp("relu", Dense(128, activation="relu"), Dense(64, activation="relu"))


def mnist_mlp_relu_dropout():
    """Model 3: ReLU, Dropout(0.25) after the 512 and the 64 layer."""
    return _mlp("relu", Dropout(0.25), Dense(128, activation="relu"),
                Dense(64, activation="relu"), Dropout(0.25))


def mnist_mlp_relu_dropout_bn():
    """Model 4: ReLU, Dropout(0.25) after 512, BatchNormalization after 128."""
    return _mlp("relu", Dropout(0.25), Dense(128, activation="relu"), _bn_keras22(),
                Dense(64, activation="relu"))


def mnist_mlp_relu_dropout2_bn():
    """Model 5: ReLU, Dropout(0.25) after 512, Dropout(0.5) + BatchNormalization after 128."""
    return _mlp("relu", Dropout(0.25), Dense(128, activation="relu"), Dropout(0.5),
                _bn_keras22(), Dense(64, activation="relu"))


def mnist_mlp_tanh_dropout_bn():
    """Model 6: model 4 with tanh (the text's Dropout(0.5) is not in its code)."""
    return _mlp("tanh", Dropout(0.25), Dense(128, activation="tanh"), _bn_keras22(),
                Dense(64, activation="tanh"))


def mnist_mlp_sigmoid_dropout_bn():
    """Model 7: model 4 with sigmoid (the text's Dropout(0.5) is not in its code)."""
    return _mlp("sigmoid", Dropout(0.25), Dense(128, activation="sigmoid"), _bn_keras22(),
                Dense(64, activation="sigmoid"))


def mnist_mlp_relu_dropout_adam():
    """Model 8, trained with Adam: 784-512-128-10 (no 64 layer, as written), ReLU,
    Dropout(0.25) after 512."""
    return _mlp("relu", Dropout(0.25), Dense(128, activation="relu"))


def mnist_mlp_relu_dropout2_adam():
    """Model 9, trained with Adam: model 8 plus Dropout(0.5) after 128."""
    return _mlp("relu", Dropout(0.25), Dense(128, activation="relu"), Dropout(0.5))


# ============================================================ study 004
# Fashion-MNIST, tf.keras of TensorFlow 1.x (no BatchNormalization used).

def fashion_tf_cnn():
    """Study 004's model1: Conv16, pool, Conv32, pool, Dense128. 108,618
    parameters. x: (N, 28, 28, 1)."""
    return Sequential([
        Conv2D(16, (3, 3), input_shape=MNIST_SHAPE, activation="relu"),
        MaxPooling2D(2, 2),
        Conv2D(32, (3, 3), activation="relu"),
        MaxPooling2D(2, 2),
        Flatten(),
        Dense(128, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def fashion_tf_cnn_dropout(units=128):
    """Study 004's model2: Conv16 5x5, Dropout(0.25), pool, Conv32 4x4, pool,
    Dense ``units``. x: (N, 28, 28, 1)."""
    return Sequential([
        Conv2D(16, (5, 5), input_shape=MNIST_SHAPE, activation="relu"),
        Dropout(0.25),
        MaxPooling2D(2, 2),
        Conv2D(32, (4, 4), activation="relu"),
        MaxPooling2D(2, 2),
        Flatten(),
        Dense(units, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def fashion_tf_cnn_adam():
    """Study 004's model3 (trained with Adam): model2 with Dense 256."""
    return fashion_tf_cnn_dropout(units=256)


# ============================================================ recipes

@dataclass(frozen=True)
class Phase:
    """One ``fit`` (or ``fit_generator``) call of a study.

    epochs: epochs of this call.
    lr: ``model.optimizer.lr`` is set to this before the call (None: unchanged).
    augment: ImageDataGenerator keyword arguments: train with
      ``fit_generator(datagen.flow(x_train, y_train, batch_size),
      steps_per_epoch=len(x_train) // batch_size)``; None: ``fit`` on arrays.
    augment_validation: validate on ``datagen.flow(x_val, y_val)`` for
      len(x_val) // batch_size steps (study 000 did), not on the arrays.
    batch_size: None means the recipe's.
    published: the test accuracy (%) the study reports after this call.
    """
    epochs: int
    lr: Optional[float] = None
    augment: Optional[dict] = None
    augment_validation: bool = False
    batch_size: Optional[int] = None
    published: Optional[float] = None


@dataclass(frozen=True)
class Recipe:
    """How a study trained one model.

    dataset: 'mnist', 'fashion_mnist' or 'cifar10'; pixels are scaled by
      1/255 to float32; ``flatten`` gives (N, 784) instead of images.
    labels: 'sparse' (integer labels) or 'onehot' (to_categorical).
    validation: 'split' (train_val_split of the training set by ``split``
      = (val_size, seed)), 'test' (validation_data = the test set) or None.
    optimizer: (class name in minidl.optimizers, keyword arguments).
    standardize_input: the builder takes the training pixels' mean and std.
    keras: the Keras version whose semantics the recipe follows.
    """
    key: str
    study: str
    build: Callable
    description: str
    dataset: str
    labels: str
    validation: Optional[str]
    optimizer: Tuple[str, dict]
    loss: str
    batch_size: int
    phases: Tuple[Phase, ...]
    keras: str
    flatten: bool = False
    split: Optional[Tuple[float, int]] = None
    standardize_input: bool = False
    notes: str = ""
    build_kwargs: dict = field(default_factory=dict)

    @property
    def epochs(self):
        return sum(p.epochs for p in self.phases)

    def make_optimizer(self):
        name, kwargs = self.optimizer
        return getattr(optimizers, name)(**kwargs)

    def build_model(self, mean=None, std=None):
        kwargs = dict(self.build_kwargs)
        if self.standardize_input:
            kwargs.update(mean=mean if mean is not None else FASHION_MNIST_MEAN,
                          std=std if std is not None else FASHION_MNIST_STD)
        return self.build(**kwargs)

    def summary(self):
        """The recipe as plain JSON-able values."""
        name, kwargs = self.optimizer
        return {
            "key": self.key, "study": self.study, "description": self.description,
            "model_function": self.build.__name__, "build_kwargs": dict(self.build_kwargs),
            "dataset": self.dataset, "input": "flat (N, 784)" if self.flatten else "images",
            "labels": self.labels, "validation": self.validation,
            "split": list(self.split) if self.split else None,
            "optimizer": f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})",
            "loss": self.loss, "batch_size": self.batch_size, "keras": self.keras,
            "phases": [dataclasses.asdict(p) for p in self.phases],
            "epochs": self.epochs, "notes": self.notes,
        }


# --- study 000: Keras 2.0.x -------------------------------------------------
_S000_ADAM = ("Adam", {"lr": 1e-3, "epsilon": 1e-8})   # Keras <= 2.1.2: Adam epsilon 1e-8
# ImageDataGenerator of Keras 2.0.x: shear_range in radians, nearest-neighbour
# resampling (scipy order=0; bilinear came with Keras 2.1.3, keras#8849).
_S000_AUGMENT = {"rotation_range": 8, "width_shift_range": 0.08, "shear_range": 0.3,
                 "height_shift_range": 0.08, "zoom_range": 0.08,
                 "shear_units": "radians", "interpolation_order": 0}
_S000_LR_NOTE = (
    "Phase 2 follows the study's written intent, lr 1e-4 from `model.optimizer.lr = 0.0001`. "
    "In Keras 2.0.x that assignment did not change the learning rate: the training function "
    "was already compiled with the old lr variable (only K.set_value would have), so the "
    "published run most likely trained all epochs at lr 1e-3; "
    "run_recipe(keras20_lr_assignment=True) replays that. Validation during the augmented "
    "phase is on the *augmented* validation flow, as in the study.")


def _s000(key, build, description, after_fit, after_augment, standardize=False):
    """Study 000's schedule: fit 10 epochs at lr 1e-3; ``model.optimizer.lr =
    0.0001`` and fit 10 more; then 50 epochs of fit_generator on the study's
    ImageDataGenerator, validating on the augmented validation flow.

    Keras 2.0.x fact: that lr assignment had no effect (the training function
    was compiled with the old lr variable; only K.set_value changes it), so
    the published runs most likely used lr 1e-3 throughout. The recipe
    follows the written intent; run_recipe(keras20_lr_assignment=True)
    replays what Keras 2.0 did.
    """
    return Recipe(
        key=key, study="000", build=build, description=description,
        dataset="fashion_mnist", labels="sparse", validation="split", split=(0.2, 12345),
        optimizer=_S000_ADAM, loss="sparse_categorical_crossentropy", batch_size=512,
        phases=(Phase(10, lr=1e-3),
                Phase(10, lr=1e-4, published=after_fit),
                Phase(50, augment=_S000_AUGMENT, augment_validation=True,
                      published=after_augment)),
        keras="2.0.x", standardize_input=standardize, notes=_S000_LR_NOTE)


# --- study 001: Keras 2.2.x -------------------------------------------------
_S001_ADADELTA = ("Adadelta", {"lr": 1.0, "rho": 0.95, "epsilon": 1e-7})  # Keras 2.1.3-2.3.1


def _s001(key, build, description, published, notes="", augment=None, **build_kwargs):
    return Recipe(
        key=key, study="001", build=build, description=description, dataset="mnist",
        labels="onehot", validation="test", optimizer=_S001_ADADELTA,
        loss="categorical_crossentropy", batch_size=128,
        phases=(Phase(12, augment=augment, published=published),), keras="2.2.x",
        notes=notes, build_kwargs=build_kwargs)


# --- study 002: Keras 2.3.x -------------------------------------------------
def _s002_sgd(epochs):
    """SGD(lr=0.01, momentum=0.9, decay=lr/epochs): the study's time decay."""
    return ("SGD", {"lr": 0.01, "momentum": 0.9, "decay": 0.01 / epochs, "nesterov": False})


_S002_ADAM = ("Adam", {"lr": 1e-3, "epsilon": 1e-7})   # 'adam' in Keras 2.3.x: epsilon K.epsilon()
_S002_ZOOM_FLIP = {"zoom_range": 0.2, "horizontal_flip": True}   # degrees/bilinear: Keras 2.3.x
_S002_LAST_EPOCH = ("The study printed no evaluate() for this run; the published figure is the "
                    "test-set val_accuracy of its last epoch (the text says 'about' / '≈').")
_S002_SAMPLES = ("`fit_generator(samples_per_epoch=50000, nb_epoch=...)` is Keras 1's API; "
                 "Keras 2.3 converts it to steps_per_epoch = 50000 // 128 = 390 (its warning "
                 "says so).")


def _s002(key, build, description, optimizer, batch_size, phases, notes=""):
    return Recipe(
        key=key, study="002", build=build, description=description, dataset="cifar10",
        labels="onehot", validation="test", optimizer=optimizer,
        loss="categorical_crossentropy", batch_size=batch_size, phases=phases, keras="2.3.x",
        notes=notes)


# --- study 003: Keras 2.2.x -------------------------------------------------
_S003_SGD = ("SGD", {"lr": 0.01})                       # optimizer='sgd': Keras 2.2 defaults
_S003_ADAM = ("Adam", {"lr": 1e-3, "epsilon": 1e-7})    # optimizer='adam': K.epsilon() = 1e-7


def _s003(key, build, description, optimizer, published, notes=""):
    return Recipe(
        key=key, study="003", build=build, description=description, dataset="mnist",
        flatten=True, labels="onehot", validation="test", optimizer=optimizer,
        loss="categorical_crossentropy", batch_size=128,
        phases=(Phase(50, published=published),), keras="2.2.x", notes=notes)


# --- study 004: tf.keras of TensorFlow 1.x --------------------------------------
def _s004(key, build, description, optimizer, published):
    # fit(X, y, epochs=30): tf.keras's default batch_size 32, no validation
    return Recipe(
        key=key, study="004", build=build, description=description, dataset="fashion_mnist",
        labels="sparse", validation=None, optimizer=optimizer,
        loss="sparse_categorical_crossentropy", batch_size=32,
        phases=(Phase(30, published=published),), keras="tf.keras (TF 1.x)")


_RECIPE_LIST = [
    Recipe(key="s000_mlp", study="000", build=fashion_mlp, description="MLP 784-512-128-10",
           dataset="fashion_mnist", flatten=True, labels="sparse", validation="split",
           split=(0.2, 12345), optimizer=_S000_ADAM, loss="sparse_categorical_crossentropy",
           batch_size=512, phases=(Phase(20, lr=1e-3, published=88.79),), keras="2.0.x",
           notes="One fit of 20 epochs: the study trains the MLP without the lr change and "
                 "without augmentation."),
    _s000("s000_cnn1", fashion_cnn1, "CNN with 1 conv layer (cnn1)", 91.23, 91.53),
    _s000("s000_cnn3", fashion_cnn3, "CNN with 3 conv layers (cnn2)", 90.62, 90.95),
    _s000("s000_cnn4_bn", fashion_cnn4_bn, "4-conv CNN with BatchNorm and input "
          "standardization (cnn3)", 92.67, 93.54, standardize=True),
    _s000("s000_vgg", fashion_vgg, "VGG-like model (cnn4)", 92.08, 93.59, standardize=True),
    _s000("s000_vgg_bn", fashion_vgg_bn, "VGG-like model with BatchNorm (cnn5)", 92.96, 94.01,
          standardize=True),

    _s001("s001_keras_cnn", mnist_keras_cnn, "Keras mnist_cnn: Conv32, Conv64, pool, Dense128",
          99.26, notes="Published figure from the study's table; its first cell died on a "
                       "NameError after training, the log shows val_acc 0.9926."),
    _s001("s001_keras_cnn_glorot_normal", mnist_keras_cnn,
          "Keras mnist_cnn with init='glorot_normal' on the Dense layers", 99.22,
          notes="The table calls this row 'Conv 3 Layer with (32,64,128) filters (data "
                "augmentation)', 99.2; its code is the 2-conv mnist_cnn with Keras 1's "
                "init='glorot_normal' on the Dense layers, no augmentation, evaluate() 0.9922.",
          dense_initializer="glorot_normal"),
    _s001("s001_conv3_bn", mnist_conv3_bn, "3 conv layers (32, 32, 64) with BatchNorm", 99.45,
          notes="The cell's code is cut in the study text; the full model is the one repeated "
                "in its 'with data augmentation' cell."),
    _s001("s001_conv3_bn_augment", mnist_conv3_bn,
          "3 conv layers with BatchNorm, augmentation (rotation 25, shifts 0.1)", 99.41,
          augment={"rotation_range": 25, "width_shift_range": 0.1, "height_shift_range": 0.1},
          notes="Trains with fit_generator(datagen.flow(x_train, y_train, batch_size=128), "
                "steps_per_epoch=60000 // 128), the table's stated intent. The study's cell "
                "builds and fits the ImageDataGenerator but then calls model.fit on the plain "
                "arrays, so its 99.41 is really a second run of s001_conv3_bn."),
    _s001("s001_conv5_bn", mnist_conv5_bn, "5 conv layers (k5 32, 32; k3 64, 64, 128) with "
          "BatchNorm", 99.48),
    _s001("s001_conv7_bn", mnist_conv7_bn, "7 conv layers (32 x3, 64 x3, 128) with BatchNorm",
          99.44),

    _s002("s002_simple_cnn", cifar_simple_cnn, "simple CNN with MaxNorm(3)", _s002_sgd(25), 32,
          (Phase(25, published=69.88),)),
    _s002("s002_large_cnn", cifar_large_cnn, "larger CNN, 25 epochs", _s002_sgd(25), 64,
          (Phase(25, published=80.0),),
          notes="The study gives no exact figure for this run: 'an accuracy of about 80%'."),
    _s002("s002_large_cnn_100ep", cifar_large_cnn, "larger CNN, 100 epochs", _s002_sgd(100),
          64, (Phase(100, published=82.48),),
          notes="82.48 is the last epoch's val_accuracy (test set): the evaluate() after it "
                "died on a NameError."),
    _s002("s002_large_cnn_fewer_dropouts", cifar_large_cnn_fewer_dropouts,
          "larger CNN with fewer dropouts", _s002_sgd(25), 64, (Phase(25, published=74.31),)),
    _s002("s002_cnn_48_96_192", cifar_cnn_48_96_192, "48-96-192 CNN, Adam; then the same "
          "model 200 more epochs with zoom + flip augmentation", _S002_ADAM, 128,
          (Phase(100, published=78.07), Phase(200, augment=_S002_ZOOM_FLIP, published=83.24)),
          notes=_S002_LAST_EPOCH + " " + _S002_SAMPLES),
    Recipe(key="s002_cnn_48_96_192_dropout", study="002", build=cifar_cnn_48_96_192,
           build_kwargs={"dropout": True},
           description="48-96-192 CNN with dropout, zoom + flip augmentation, Adam",
           dataset="cifar10", labels="onehot", validation="test", optimizer=_S002_ADAM,
           loss="categorical_crossentropy", batch_size=128,
           phases=(Phase(100, augment=_S002_ZOOM_FLIP, published=83.42),), keras="2.3.x",
           notes=_S002_SAMPLES),
    _s002("s002_cnn_bn", cifar_bn_cnn, "32-64-128 CNN with BatchNorm, shift + flip "
          "augmentation", _s002_sgd(50), 64,
          (Phase(50, augment={"horizontal_flip": True, "width_shift_range": 0.1,
                              "height_shift_range": 0.1}, published=83.15),),
          notes=_S002_LAST_EPOCH + " steps_per_epoch = 50000 // 64 as written."),

    _s003("s003_model1_sigmoid", mnist_mlp_sigmoid, "512-128-64 sigmoid, SGD", _S003_SGD, 87.46,
          notes="evaluate() printed 0.8746; the study's summary table says 87.52."),
    _s003("s003_model2_relu", mnist_mlp_relu, "512-128-64 relu, SGD", _S003_SGD, 97.62),
    _s003("s003_model3_relu_dropout", mnist_mlp_relu_dropout, "512-128-64 relu + Dropout(0.25) "
          "x2, SGD", _S003_SGD, 97.58,
          notes="evaluate() printed 0.9758; the study's summary table says 97.05."),
    _s003("s003_model4_relu_dropout_bn", mnist_mlp_relu_dropout_bn, "512-128-64 relu, Dropout, "
          "BatchNorm after 128, SGD", _S003_SGD, 98.17,
          notes="The text adds a Dropout(0.25) after the 64 layer; the code (followed) has none."),
    _s003("s003_model5_relu_dropout_bn", mnist_mlp_relu_dropout2_bn, "512-128-64 relu, "
          "Dropout(0.25), Dropout(0.5), BatchNorm after 128, SGD", _S003_SGD, 98.01),
    _s003("s003_model6_tanh_dropout_bn", mnist_mlp_tanh_dropout_bn, "512-128-64 tanh, Dropout, "
          "BatchNorm after 128, SGD", _S003_SGD, 97.21,
          notes="The text names a Dropout(0.5) that the code (followed) does not have."),
    _s003("s003_model7_sigmoid_dropout_bn", mnist_mlp_sigmoid_dropout_bn, "512-128-64 sigmoid, "
          "Dropout, BatchNorm after 128, SGD", _S003_SGD, 92.57,
          notes="evaluate() printed 0.9257; the summary table says 92.47. The text names a "
                "Dropout(0.5) that the code (followed) does not have."),
    _s003("s003_model8_relu_dropout_adam", mnist_mlp_relu_dropout_adam, "512-128 relu + "
          "Dropout(0.25), Adam", _S003_ADAM, 98.55,
          notes="As written: no 64 layer."),
    _s003("s003_model9_relu_dropout_adam", mnist_mlp_relu_dropout2_adam, "512-128 relu + "
          "Dropout(0.25), Dropout(0.5), Adam", _S003_ADAM, 98.39,
          notes="As written: no 64 layer."),

    _s004("s004_model1", fashion_tf_cnn, "Conv16, pool, Conv32, pool, Dense128, SGD",
          ("SGD", {"lr": 0.01}), 89.43),             # optimizer='SGD': tf.keras default lr 0.01
    _s004("s004_model2_dropout", fashion_tf_cnn_dropout, "Conv16 k5, Dropout, pool, Conv32 k4, "
          "pool, Dense128, SGD", ("SGD", {"lr": 0.01}), 88.65),
    _s004("s004_model3_adam", fashion_tf_cnn_adam, "as model2 with Dense256, Adam",
          ("Adam", {"lr": 1e-3, "epsilon": 1e-7}), 89.84),  # tf.keras Adam: epsilon 1e-7
]

RECIPES = {r.key: r for r in _RECIPE_LIST}


def get_recipe(key):
    """RECIPES[key], with an error that lists the keys."""
    if isinstance(key, Recipe):
        return key
    if key not in RECIPES:
        raise ValueError(f"zoo.get_recipe: unknown recipe {key!r}; known: {', '.join(RECIPES)}")
    return RECIPES[key]


# ============================================================ running a recipe

def _without_paths(note):
    """A loader's message with absolute file paths reduced to the file's name:
    results are committed, and the machine they ran on is nobody's business."""
    return re.sub(r"(?<![\w.])/(?:[^\s/]+/)+([^\s/]+?)(?=[\s,;:]|\.(?:\s|$)|$)",
                  r"\1 (in the data folder)", note)


def load_recipe_data(recipe, limit=None, data_path=None):
    """The recipe's data, preprocessed as its study did.

    Returns a dict: x_train, y_train, x_val, y_val (None without a split),
    x_test, y_test, class_names, data_notes (the loader's warnings, e.g. that
    CIFAR-10 came from its JPEG copy, kept for the run's record). x: (N, 28, 28, 1), (N, 32, 32, 3) or
    (N, 784) float32 in [0, 1]; y: (N,) integer labels or (N, 10) one-hot.
    limit: keep at most this many samples of each part (after the split):
      a fixed random subset, the same on every call, so that a copy stored
      in class order (the CIFAR-10 JPEG fallback) still gives every class.
    """
    recipe = get_recipe(recipe)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (x, y), (x_test, y_test) = datasets.load(recipe.dataset, path=data_path)
    for w in caught:  # shown as usual, and remembered
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    parts = {"train": (x, y), "test": (x_test, y_test)}
    if recipe.validation == "split":
        val_size, seed = recipe.split
        parts["train"], parts["val"] = datasets.train_val_split(x, y, val_size=val_size,
                                                                seed=seed)
    out = {"class_names": CLASS_NAMES[recipe.dataset], "x_val": None, "y_val": None,
           "data_notes": [_without_paths(str(w.message)) for w in caught]}
    for name, (xs, ys) in parts.items():
        if limit is not None and limit < len(xs):
            keep = np.sort(np.random.default_rng(0).choice(len(xs), limit, replace=False))
            xs, ys = xs[keep], ys[keep]
        out["x_" + name], out["y_" + name] = _prepare(recipe, xs, ys)
    return out


def _prepare(recipe, x, y):
    x = x.astype(np.float32) / np.float32(255)
    if recipe.flatten:
        x = x.reshape(len(x), -1)
    elif x.ndim == 3:
        x = x.reshape(x.shape + (1,))
    y = np.asarray(y).reshape(-1)
    if recipe.labels == "onehot":
        y = to_categorical(y, 10)
    return x, y


class _EpochLog(Callback):
    """Wall time, learning rate and device memory of every epoch."""

    _state_attrs = ("times", "lrs")   # kept by BackupAndRestore across a resume

    def __init__(self, memory):
        super().__init__()
        self.times, self.lrs, self.memory = [], [], memory

    def on_epoch_begin(self, epoch, logs=None):
        K.synchronize()
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        K.synchronize()  # queued GPU work belongs to this epoch
        self.times.append(time.perf_counter() - self._start)
        self.lrs.append(float(self.model.optimizer.lr))
        self.memory.sample()


class _PeakMemory:
    """Peak memory of the run, as well as each device lets us see it.

    cpu: the process's peak resident set size (ru_maxrss), over its whole
         life (data loading included, earlier runs in the same process too).
    gpu: CuPy's default memory pool, bytes it holds (in use + cached),
         sampled at each epoch's end; the pool keeps freed blocks for reuse,
         so this is its high-water mark at those moments.
    """

    def __init__(self):
        self.device = K.device()
        self.gpu_bytes = 0

    def sample(self):
        if self.device == "gpu":
            self.gpu_bytes = max(self.gpu_bytes, K.gpu_pool_bytes())

    def result(self):
        if self.device == "gpu":
            self.sample()
            return {"kind": "gpu_memory_pool_total_bytes", "bytes": self.gpu_bytes,
                    "meaning": "CuPy memory pool high-water (in use + cached), sampled at "
                               "epoch ends"}
        # Linux reports ru_maxrss in KiB
        return {"kind": "cpu_max_rss", "bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                * 1024, "meaning": "peak resident memory of the whole process"}


def _pixel_stats(x):
    """The study's ``X_train.mean()`` and ``X_train.std()`` in float32."""
    return float(x.mean(dtype=np.float32)), float(x.std(dtype=np.float32))


def run_recipe(recipe, max_epochs=None, limit=None, seed=0, verbose=1, data_path=None,
               data=None, keras20_lr_assignment=False, eval_batch_size=500, backup_dir=None):
    """Train a study's model the way the study did, phase by phase.

    recipe: a key of RECIPES or a Recipe.
    max_epochs: cap every phase at this many epochs (quick runs); the result
      says ``capped``.
    limit: keep at most this many train / validation / test samples.
    seed: ``minidl.seed(seed)`` before building: weights, shuffles, dropout
      and augmentation repeat.
    data: a dict as ``load_recipe_data`` returns, instead of loading.
    keras20_lr_assignment: skip the lr changes the study made by assigning
      ``model.optimizer.lr`` (study 000), as Keras 2.0.x silently did.
    eval_batch_size: batch size of the test evaluations (inference gives the
      same numbers for any batch size; larger is faster than Keras's 32).
    backup_dir: make the run resumable. Each phase trains with a
      BackupAndRestore in ``backup_dir/phase<k>/`` and, once evaluated, writes
      ``backup_dir/phase<k>.json``. Called again with the same folder after
      being killed, the run skips the finished phases, puts the model and the
      random streams where the last of them ended, and resumes the phase it
      was in after its last complete epoch: the result is the uninterrupted
      run's, bit for bit.

    After each phase the model is evaluated on the test set. Returns a dict:
    model, study, recipe (summary), device, seed, capped, limit, params,
    phases (per phase: epochs, lr, augmented, test_loss, test_accuracy,
    published_accuracy, wall_s), history (per epoch: loss, accuracy,
    val_loss, val_accuracy, lr (the base rate, before SGD's time decay, as
    Keras reports it), epoch_time_s (training + validation), phase),
    epochs_run, wall_s,
    mean_epoch_s, peak_memory, and 'trained_model': the model itself.
    """
    recipe = get_recipe(recipe)
    if max_epochs is not None and (not isinstance(max_epochs, int) or max_epochs < 1):
        raise ValueError(f"run_recipe: max_epochs must be a positive int or None, "
                         f"received {max_epochs!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"run_recipe: limit must be a positive int or None, received {limit!r}")
    start = time.perf_counter()
    if data is None:
        data = load_recipe_data(recipe, limit=limit, data_path=data_path)
    K.seed(seed)
    mean, std = _pixel_stats(data["x_train"]) if recipe.standardize_input else (None, None)
    model = recipe.build_model(mean=mean, std=std)
    model.compile(optimizer=recipe.make_optimizer(), loss=recipe.loss, metrics=["accuracy"])
    memory = _PeakMemory()
    log = _EpochLog(memory)
    history, phases = {}, []
    finished = None   # the backup folder of the last phase found finished
    for index, phase in enumerate(recipe.phases):
        epochs = phase.epochs if max_epochs is None else min(phase.epochs, max_epochs)
        done = _finished_phase(backup_dir, index)
        if done is not None:
            phases.append(done["phase"])
            _extend_history(history, done["history"], index)
            log.times, log.lrs = done["times"], done["lrs"]
            finished = os.path.join(backup_dir, f"phase{index + 1}")
            if verbose:
                print(f"[{recipe.key}] phase {index + 1}/{len(recipe.phases)}: finished "
                      f"earlier (test accuracy {100 * done['phase']['test_accuracy']:.2f}%)")
            continue
        if finished is not None:   # continue from where the last finished phase ended
            _restore_phase_end(model, finished)
            finished = None
        if phase.lr is not None and not (keras20_lr_assignment and index > 0):
            model.optimizer.lr = phase.lr
        if verbose:
            print(f"[{recipe.key}] phase {index + 1}/{len(recipe.phases)}: {epochs} epoch(s), "
                  f"lr {model.optimizer.lr:g}" + (", augmented" if phase.augment else ""))
        t = time.perf_counter()
        backup = None if backup_dir is None else BackupAndRestore(
            os.path.join(backup_dir, f"phase{index + 1}"), delete_checkpoint=False)
        h = _fit_phase(model, recipe, phase, data, epochs, verbose, log, backup)
        test_loss, test_acc = model.evaluate(data["x_test"], data["y_test"],
                                             batch_size=eval_batch_size, verbose=0)
        memory.sample()
        _extend_history(history, h.history, index)
        phases.append({"phase": index + 1, "epochs": epochs, "epochs_planned": phase.epochs,
                       "lr": model.optimizer.lr, "augmented": phase.augment is not None,
                       "test_loss": float(test_loss), "test_accuracy": float(test_acc),
                       "published_accuracy": phase.published,
                       "wall_s": time.perf_counter() - t,
                       **({"resumed_after_epoch": backup.resumed_from}
                          if backup is not None and backup.resumed_from else {})})
        if backup_dir is not None:
            write_json_atomic(os.path.join(backup_dir, f"phase{index + 1}.json"),
                               {"phase": phases[-1], "history": h.history,
                                "times": log.times, "lrs": log.lrs})
        if verbose:
            published = f" (published {phase.published:.2f}%)" if phase.published else ""
            print(f"[{recipe.key}] phase {index + 1}: test accuracy {100 * test_acc:.2f}%"
                  f"{published}, test loss {test_loss:.4f}")
    if finished is not None:   # every phase had finished earlier: the trained model back
        _restore_phase_end(model, finished)
    history["lr"] = log.lrs
    history["epoch_time_s"] = log.times
    return {
        "model": recipe.key, "study": recipe.study, "recipe": recipe.summary(),
        "device": K.device(), "seed": seed,
        "capped": max_epochs is not None and any(p.epochs > max_epochs for p in recipe.phases),
        "max_epochs": max_epochs, "limit": limit,
        "samples": {k: (None if data[f"x_{k}"] is None else len(data[f"x_{k}"]))
                    for k in ("train", "val", "test")},
        "data_notes": data.get("data_notes", []),
        "keras20_lr_assignment": keras20_lr_assignment, "params": model.count_params(),
        "phases": phases, "history": history, "epochs_run": len(log.times),
        "wall_s": time.perf_counter() - start,
        "mean_epoch_s": float(np.mean(log.times)) if log.times else None,
        "peak_memory": memory.result(), "trained_model": model,
    }


def _extend_history(history, phase_history, index):
    for k, v in phase_history.items():
        if k not in ("acc", "val_acc"):     # aliases of 'accuracy', 'val_accuracy'
            history.setdefault(k, []).extend(v)
    history.setdefault("phase", []).extend([index + 1] * len(phase_history["loss"]))


def _finished_phase(backup_dir, index):
    """The record a resumable run wrote when phase ``index`` ended, or None."""
    if backup_dir is None:
        return None
    path = os.path.join(backup_dir, f"phase{index + 1}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _restore_phase_end(model, folder):
    """The model, optimizer and random streams as the phase backed up in
    ``folder`` left them after its last epoch."""
    from . import saving, training_state
    header, arrays = saving.read_npz(os.path.join(folder, BackupAndRestore.FILES[0]),
                                     "run_recipe(backup_dir)")
    training_state.restore_model(model, header, arrays, "run_recipe(backup_dir)")
    K.set_rng_state(training_state.restored_rng_state(header, arrays))


def _fit_phase(model, recipe, phase, data, epochs, verbose, log, backup=None):
    callbacks = [log] + ([backup] if backup is not None else [])
    bs = phase.batch_size or recipe.batch_size
    x, y = data["x_train"], data["y_train"]
    validation = None
    if recipe.validation == "split":
        validation = (data["x_val"], data["y_val"])
    elif recipe.validation == "test":
        validation = (data["x_test"], data["y_test"])
    if phase.augment is None:
        return model.fit(x, y, batch_size=bs, epochs=epochs, verbose=verbose,
                         validation_data=validation, callbacks=callbacks)
    datagen = ImageDataGenerator(**phase.augment)
    validation_steps = None
    if phase.augment_validation and validation is not None:
        validation_steps = max(1, len(validation[0]) // bs)
        validation = datagen.flow(validation[0], validation[1], batch_size=bs)
    # the studies' steps_per_epoch: len(x_train) // batch_size (48000 // 512 = 93, ...)
    return model.fit_generator(datagen.flow(x, y, batch_size=bs),
                               steps_per_epoch=max(1, len(x) // bs), epochs=epochs,
                               verbose=verbose, validation_data=validation,
                               validation_steps=validation_steps, callbacks=callbacks)
