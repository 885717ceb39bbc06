"""Conv2D: a 2-D convolution as im2col followed by one matrix product."""
from .. import activations, constraints
from ..kernels import col2im, im2col, window_geometry
from .base import Layer, int_pair, positive_int


class Conv2D(Layer):
    """y = f(conv(x, W) + b), channels-last.

    x: (N, H, W, C) -> y: (N, H_out, W_out, filters); kernel W:
    (kh, kw, C, filters), Keras's own layout, so weights move between Keras
    and minidl unchanged. Every (kh, kw, C) window of x becomes one row of
    ``cols`` (im2col), and the whole layer is one matrix product:

        z = cols @ W.reshape(kh*kw*C, filters)       (N*H_out*W_out, filters)

    which, rows being ordered (n, h, w), already *is* y in NHWC order.
    padding='same' pads as TensorFlow (extra pixel bottom/right).
    Defaults as Keras 2.2.4 convolutional.py.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.filters = positive_int(filters, f"{cls}: filters")
        self.kernel_size = int_pair(kernel_size, f"{cls}: kernel_size")
        self.strides = int_pair(strides, f"{cls}: strides")
        if padding not in ("valid", "same"):
            raise ValueError(f"{cls}: padding must be 'valid' or 'same', received {padding!r}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{cls}: minidl is channels-last only; data_format={data_format!r}")
        if int_pair(dilation_rate, f"{cls}: dilation_rate") != (1, 1):
            raise ValueError(f"{cls}: dilation_rate other than (1, 1) is not supported")
        self.padding = padding
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.geometry = None
        self.cols = self.y = self.x_shape = None

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"{self.name}: expected images (batch, height, width, channels), "
                f"received input shape (batch, {', '.join(map(str, input_shape))})")
        g = window_geometry(input_shape[0], input_shape[1], self.kernel_size, self.strides,
                            self.padding, layer=self.name)
        return (g.out_h, g.out_w, self.filters)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # validates before any weight is drawn
        h, w, c = input_shape
        self.geometry = window_geometry(h, w, self.kernel_size, self.strides, self.padding,
                                        layer=self.name)
        self.add_weight("kernel", self.kernel_size + (c, self.filters), self.kernel_initializer,
                        constraint=self.kernel_constraint)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer,
                            constraint=self.bias_constraint)
        super().build(input_shape)

    def forward(self, x, training=False):
        z = self.forward_preactivation(x, training)
        y = self.activation.forward(z, out=z)            # in place: z is ours
        if training:
            self.y = y
        return y

    def forward_preactivation(self, x, training=False):
        """z = conv(x, W) + b, before the activation: (N, H, W, C) -> (N, Ho, Wo, F)."""
        self._check_input(x)
        g = self.geometry
        cols = im2col(x, g)                                        # (N*Ho*Wo, kh*kw*C)
        z = cols @ self.params["kernel"].reshape(-1, self.filters)  # (N*Ho*Wo, F)
        if self.use_bias:
            z += self.params["bias"]
        if training:
            self.cols, self.x_shape = cols, x.shape
        return z.reshape(x.shape[0], g.out_h, g.out_w, self.filters)

    def backward(self, grad_out):
        """dL/dz = f'(z) * dL/dy, then through the convolution (below)."""
        if self.y is None:
            raise self._missing_cache()
        return self.backward_preactivation(self.activation.backward(grad_out, self.y))

    def backward_preactivation(self, grad_z):
        """dW = cols^T dz,  db = sum dz,  dx = col2im(dz W^T)   (dz: (N, Ho, Wo, F))"""
        if self.cols is None:
            raise self._missing_cache()
        kernel = self.params["kernel"]
        grad_z = grad_z.reshape(-1, self.filters)                  # (N*Ho*Wo, F)
        self.grads["kernel"] = (self.cols.T @ grad_z).reshape(kernel.shape)
        if self.use_bias:
            self.grads["bias"] = grad_z.sum(axis=0)
        if not self.input_grad_needed:
            return None
        grad_cols = grad_z @ kernel.reshape(-1, self.filters).T    # (N*Ho*Wo, kh*kw*C)
        return col2im(grad_cols, self.x_shape, self.geometry)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


Convolution2D = Conv2D  # Keras 1 name
