"""MaxPooling2D: the largest value of each window."""
from ..kernels import maxpool_backward, maxpool_forward, window_geometry
from .base import Layer, int_pair


class MaxPooling2D(Layer):
    """y = max over each (ph, pw) window of x, per channel.

    x: (N, H, W, C) -> y: (N, H_out, W_out, C). ``strides`` defaults to the
    pool size (Keras 2.2.4 pooling.py), so ``MaxPooling2D(2, 2)`` and
    ``MaxPooling2D()`` both halve H and W. The gradient goes to the one
    element of each window that was the max (the first, on ties).
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = int_pair(pool_size, f"{cls}: pool_size")
        self.strides = self.pool_size if strides is None else int_pair(strides, f"{cls}: strides")
        if padding not in ("valid", "same"):
            raise ValueError(f"{cls}: padding must be 'valid' or 'same', received {padding!r}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{cls}: minidl is channels-last only; data_format={data_format!r}")
        self.padding = padding
        self.geometry = None
        self.argmax = self.x_shape = None

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

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding}


MaxPool2D = MaxPooling2D
