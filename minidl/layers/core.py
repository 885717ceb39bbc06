"""Keras 2 import path: ``from keras.layers.core import Dense, Dropout, ...``."""
from .activation import Activation  # noqa: F401
from .dense import Dense  # noqa: F401
from .dropout import Dropout, SpatialDropout2D  # noqa: F401
from .flatten import Flatten  # noqa: F401
from .lambda_layer import Lambda  # noqa: F401
from .reshaping import Reshape  # noqa: F401
