"""MaxPooling2D and AveragePooling2D: the max or the mean of each window.

The global poolings (one value per channel) are in global_pooling.py and
re-exported here, where Keras users import them from
(``keras.layers.pooling``), with Keras's short aliases.
"""
from ..kernels import (avgpool_backward, avgpool_forward, maxpool_backward, maxpool_forward,
                       window_geometry)
from .base import Layer, channels_last_only, int_pair
from .global_pooling import (GlobalAveragePooling2D, GlobalAvgPool2D,  # noqa: F401
                             GlobalMaxPool2D, GlobalMaxPooling2D)


class _Pooling2D(Layer):
    """A (ph, pw) window sliding over (N, H, W, C) -> (N, H_out, W_out, C),
    each channel on its own. ``strides`` defaults to the pool size (Keras
    2.2.4 pooling.py), so ``MaxPooling2D(2, 2)`` and ``MaxPooling2D()`` both
    halve H and W; padding='same' pads as TensorFlow (extra pixel bottom/right).
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = int_pair(pool_size, f"{cls}: pool_size")
        self.strides = self.pool_size if strides is None else int_pair(strides, f"{cls}: strides")
        if padding not in ("valid", "same"):
            raise ValueError(f"{cls}: padding must be 'valid' or 'same', received {padding!r}")
        channels_last_only(data_format, cls)
        self.padding = padding
        self.geometry = None
        self.x_shape = None

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"{self.name}: expected images (batch, height, width, channels), "
                f"received input shape (batch, {', '.join(map(str, input_shape))})")
        g = window_geometry(input_shape[0], input_shape[1], self.pool_size, self.strides,
                            self.padding, layer=self.name)
        return (g.out_h, g.out_w, input_shape[2])

    def build(self, input_shape):
        super().build(input_shape)
        self.geometry = window_geometry(input_shape[0], input_shape[1], self.pool_size,
                                        self.strides, self.padding, layer=self.name)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding}


class MaxPooling2D(_Pooling2D):
    """y = max over each window. The gradient goes to the one element of
    each window that was the max (the first, on ties, as TensorFlow's MaxPoolGrad).
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
        self.argmax = None

    def forward(self, x, training=False):
        self._check_input(x)
        y, argmax = maxpool_forward(x, self.geometry)
        if training:
            self.argmax, self.x_shape = argmax, x.shape
        return y

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx = dL/dy at each window's argmax, 0 elsewhere (summed where windows overlap)."""
        if self.argmax is None:
            raise self._missing_cache()
        return maxpool_backward(grad_out, self.argmax, self.x_shape, self.geometry)


class AveragePooling2D(_Pooling2D):
    """y = mean over each window. With padding='same' a border window
    averages only its cells inside the image: padding is not counted, as in
    TensorFlow's average pooling (Keras 2.2.4 and tf.keras 2.15 alike).
    """

    def forward(self, x, training=False):
        self._check_input(x)
        if training:
            self.x_shape = x.shape
        return avgpool_forward(x, self.geometry)

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx_i = sum over the windows holding x_i of dL/dy / (cells of that window)."""
        if self.x_shape is None:
            raise self._missing_cache()
        return avgpool_backward(grad_out, self.x_shape, self.geometry)


# Keras 2.2.4 pooling.py aliases
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
