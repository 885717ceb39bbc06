"""Utilities: ``to_categorical`` (also as minidl.utils.np_utils.to_categorical)."""
from . import np_utils
from .np_utils import to_categorical

__all__ = ["to_categorical", "np_utils"]
