"""Data preprocessing, Keras's ``keras.preprocessing``: image augmentation."""
from . import image
from .image import ImageDataGenerator

__all__ = ["image", "ImageDataGenerator"]
