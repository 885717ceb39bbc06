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
from .models import *  # noqa: F401,F403
from .models import (CIFAR_SHAPE, CLASS_NAMES, FASHION_MNIST_MEAN, FASHION_MNIST_STD,  # noqa: F401
                     MNIST_SHAPE)
from .recipes import RECIPES, Phase, Recipe, get_recipe  # noqa: F401
from .runner import load_recipe_data, run_recipe  # noqa: F401
from . import models, recipes, runner  # noqa: F401
