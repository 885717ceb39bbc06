"""Keras 2 import path ``keras.layers.convolutional`` (Conv2D, pooling,
ZeroPadding2D, Cropping2D, UpSampling2D), and Convolution2D, the Keras 1
name of Conv2D with the Keras 1 signature that old tutorials still use.
"""
import warnings

from .conv import Conv2D
from .pooling import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D  # noqa: F401
from .reshaping import Cropping2D, UpSampling2D, ZeroPadding2D  # noqa: F401

# Keras 1 argument -> Keras 2 argument, as Keras 2.2.4 legacy/interfaces.py renames them
_KERAS1_NAMES = {"nb_filter": "filters", "subsample": "strides", "border_mode": "padding",
                 "dim_ordering": "data_format", "init": "kernel_initializer",
                 "W_regularizer": "kernel_regularizer", "b_regularizer": "bias_regularizer",
                 "W_constraint": "kernel_constraint", "b_constraint": "bias_constraint",
                 "bias": "use_bias"}
_DIM_ORDERING = {"tf": "channels_last", "th": "channels_first", "default": None}


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _keras1_to_keras2(args, kwargs):
    """(args, kwargs, translated): (filters, kernel_size) and Keras 2 keywords
    from a Keras 1 call, and whether anything was translated."""
    args, kwargs = list(args), dict(kwargs)
    translated = False
    if "nb_row" in kwargs or "nb_col" in kwargs:
        if len(args) == 2 and _is_int(args[1]) and "nb_col" in kwargs:
            args[1], translated = (args[1], kwargs.pop("nb_col")), True
        elif len(args) <= 1 and "nb_row" in kwargs and "nb_col" in kwargs:
            kwargs["kernel_size"] = (kwargs.pop("nb_row"), kwargs.pop("nb_col"))
            translated = True
    elif len(args) == 3 and _is_int(args[1]) and _is_int(args[2]):
        args, translated = [args[0], (args[1], args[2])], True   # Convolution2D(32, 3, 3)
    if len(args) > 2:
        raise TypeError(
            f"Convolution2D: at most 2 positional arguments (filters, kernel_size), or the "
            f"Keras 1 form (nb_filter, nb_row, nb_col); received {args}")
    for old, new in _KERAS1_NAMES.items():
        if old in kwargs:
            if new in kwargs:
                raise TypeError(f"Convolution2D: received both the Keras 1 argument {old!r} "
                                f"and the Keras 2 argument {new!r}; keep {new!r}")
            value = kwargs.pop(old)
            kwargs[new] = _DIM_ORDERING.get(value, value) if old == "dim_ordering" else value
            translated = True
    return args, kwargs, translated


class Convolution2D(Conv2D):
    """Conv2D under its Keras 1 name. Accepts both signatures, as Keras 2.2.4 did:

        Convolution2D(32, 3, 3, border_mode='same', subsample=(2, 2), init='he_normal')
        Convolution2D(32, (3, 3), padding='same', strides=(2, 2),
                      kernel_initializer='he_normal')

    build the same layer. Also renamed: nb_filter, nb_row/nb_col,
    W_constraint/b_constraint, bias (use_bias), dim_ordering ('tf' is
    channels-last; 'th' raises, as data_format='channels_first' does).
    Unlike Keras 2.2.4, Keras 2 keywords may follow the Keras 1 positional
    form (``Convolution2D(32, 3, 3, padding='same')``): the name says which
    signature is meant, so nothing is ambiguous.
    """

    def __init__(self, *args, **kwargs):
        keras2_args, keras2_kwargs, translated = _keras1_to_keras2(args, kwargs)
        if translated:
            warnings.warn("Convolution2D: Keras 1 arguments translated to "
                          f"Conv2D({', '.join(map(repr, keras2_args))}"
                          f"{''.join(f', {k}={v!r}' for k, v in keras2_kwargs.items())})",
                          DeprecationWarning, stacklevel=2)
        super().__init__(*keras2_args, **keras2_kwargs)
