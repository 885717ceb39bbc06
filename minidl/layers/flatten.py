"""Flatten: (N, d1, d2, ...) -> (N, d1*d2*...)."""
import numpy as np

from .base import Layer


class Flatten(Layer):
    """y = x.reshape(N, -1), in C order of the channels-last layout.

    (N, H, W, C) flattens in (h, w, c) order, the order of Keras's TensorFlow
    backend, so a Dense kernel after Flatten transfers from Keras unchanged.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"Flatten: minidl is channels-last only; received data_format={data_format!r}; "
                             f"pass images as (N, H, W, C): x.transpose(0, 2, 3, 1) converts (N, C, H, W)")

    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x, training=False):
        self._check_input(x)
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx = dL/dy reshaped back to the input's shape."""
        return grad_out.reshape((grad_out.shape[0],) + tuple(self._in_shape))
