"""Utilities: ``to_categorical`` (also as minidl.utils.np_utils.to_categorical)."""
from . import np_utils
from .np_utils import normalize, to_categorical

__all__ = ["to_categorical", "normalize", "np_utils"]
