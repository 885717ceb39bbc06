"""Utilities: ``to_categorical`` (also as minidl.utils.np_utils.to_categorical) and
``Sequence`` (keras.utils.Sequence)."""
from . import data_utils, np_utils
from .data_utils import Sequence
from .np_utils import to_categorical

__all__ = ["Sequence", "to_categorical", "np_utils", "data_utils"]
