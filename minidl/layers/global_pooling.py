"""GlobalAveragePooling2D and GlobalMaxPooling2D: one value per channel.

x: (N, H, W, C) -> y: (N, C), or (N, 1, 1, C) with ``keepdims=True``
(tf.keras 2.15's argument; Keras 2.2.4 has only the (N, C) form).
"""
from .. import backend as K
from .base import Layer, channels_last_only


class _GlobalPooling2D(Layer):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        channels_last_only(data_format, type(self).__name__)
        if not isinstance(keepdims, bool):
            raise TypeError(f"{type(self).__name__}: keepdims must be True or False, "
                            f"received {keepdims!r}")
        self.keepdims = keepdims

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"{self.name}: expected images (batch, height, width, channels), "
                f"received input shape (batch, {', '.join(map(str, input_shape))})")
        return (1, 1, input_shape[2]) if self.keepdims else (input_shape[2],)

    def _grad_as_maps(self, grad_out):
        """dL/dy as (N, 1, 1, C), whichever output form."""
        return grad_out.reshape(grad_out.shape[0], 1, 1, grad_out.shape[-1])

    def get_config(self):
        return {**super().get_config(), "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """y[n, c] = mean over (h, w) of x[n, h, w, c]."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.x_shape = None

    def forward(self, x, training=False):
        self._check_input(x)
        if training:
            self.x_shape = x.shape
        return x.mean(axis=(1, 2), keepdims=self.keepdims)

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx[n, h, w, c] = dL/dy[n, c] / (H W)"""
        if self.x_shape is None:
            raise self._missing_cache()
        _, h, w, _ = self.x_shape
        xp = K.get_array_module(grad_out)
        grad_x = xp.empty(self.x_shape, dtype=grad_out.dtype)
        grad_x[...] = self._grad_as_maps(grad_out) * (1.0 / (h * w))
        return grad_x


class GlobalMaxPooling2D(_GlobalPooling2D):
    """y[n, c] = max over (h, w) of x[n, h, w, c].

    The gradient is shared equally by all (h, w) that reach the max: the
    gradient of TensorFlow's reduce_max, which Keras 2.2.4 and tf.keras 2.15
    use here (MaxPooling2D instead gives it all to the first max).
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.x = self.y_maps = None

    def forward(self, x, training=False):
        self._check_input(x)
        y_maps = x.max(axis=(1, 2), keepdims=True)            # (N, 1, 1, C)
        if training:
            self.x, self.y_maps = x, y_maps
        return y_maps if self.keepdims else y_maps.reshape(x.shape[0], x.shape[-1])

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx = [x == max] * dL/dy / (number of maxima in the channel)"""
        if self.x is None:
            raise self._missing_cache()
        at_max = (self.x == self.y_maps).astype(grad_out.dtype)
        share = self._grad_as_maps(grad_out) / at_max.sum(axis=(1, 2), keepdims=True)
        at_max *= share
        return at_max


# Keras 2.2.4 pooling.py aliases
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
