"""minidl: a small deep-learning kit written from scratch on NumPy and CuPy.

Its API is the Keras 2 subset that the studies in the docs use: replace
``keras`` by ``minidl`` in their code. Every layer's forward and backward is
written by hand in ``minidl/layers``; ``minidl.gradcheck`` checks them.
"""
__version__ = "0.1.0"

from . import backend
from .backend import seed
from . import (activations, callbacks, constraints, gradcheck, initializers, layers, losses,
               metrics, models, optimizers, regularizers, utils)
from . import datasets, preprocessing
from . import plotting, zoo
# tf.keras style: keras.Sequential, keras.Model, keras.Input
from .layers import Input
from .models import Model, Sequential

__all__ = ["Input", "Model", "Sequential", "backend", "seed", "activations", "callbacks", "constraints", "datasets",
           "gradcheck", "initializers", "layers", "losses", "metrics", "models",
           "optimizers", "plotting", "regularizers", "preprocessing", "utils", "zoo"]
