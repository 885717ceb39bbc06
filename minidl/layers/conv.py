"""Conv2D: a 2-D convolution as im2col followed by one matrix product."""
from .. import backend as K
from ..kernels import bias_grad, col2im, im2col, window_geometry
from .base import LinearLayer, int_pair, positive_int


class Conv2D(LinearLayer):
    """y = f(conv(x, W) + b), channels-last.

    x: (N, H, W, C) -> y: (N, H_out, W_out, filters); kernel W:
    (kh, kw, C, filters), Keras's own layout, so weights move between Keras
    and minidl unchanged. Every (kh, kw, C) window of x becomes one row of
    ``cols`` (im2col), and the whole layer is one matrix product:

        z = cols @ W.reshape(kh*kw*C, filters)       (N*H_out*W_out, filters)

    which, rows being ordered (n, h, w), already *is* y in NHWC order.
    padding='same' pads as TensorFlow (extra pixel bottom/right).
    Defaults as Keras 2.2.4 convolutional.py.

    ``cols`` is kh*kw times larger than x, so the batch is processed in
    blocks of samples whose cols fit ``backend.workspace_bytes()`` (a few
    MiB on the CPU: the buffer never leaves the cache), and backward
    recomputes each block's cols from x instead of keeping them all: the
    layer holds only x between forward and backward, as PyTorch does.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_constraint, bias_constraint, **kwargs)
        cls = type(self).__name__
        self.filters = positive_int(filters, f"{cls}: filters")
        self.kernel_size = int_pair(kernel_size, f"{cls}: kernel_size")
        self.strides = int_pair(strides, f"{cls}: strides")
        if padding not in ("valid", "same"):
            raise ValueError(f"{cls}: padding must be 'valid' or 'same', received {padding!r}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{cls}: minidl is channels-last only; received data_format={data_format!r}; "
                             f"pass images as (N, H, W, C): x.transpose(0, 2, 3, 1) converts (N, C, H, W)")
        if int_pair(dilation_rate, f"{cls}: dilation_rate") != (1, 1):
            raise ValueError(f"{cls}: dilation_rate other than (1, 1) is not supported, "
                             f"received {dilation_rate!r}")
        self.padding = padding
        self.geometry = None

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
        self._add_kernel_and_bias(self.kernel_size + (c, self.filters), self.filters)
        super().build(input_shape)

    def _output_shape(self, x):
        return (x.shape[0], self.geometry.out_h, self.geometry.out_w, self.filters)

    def _linear(self, x, training):
        """z = cols @ W, without bias: (N*Ho*Wo, F); keeps x for backward."""
        self._check_input(x)
        if training:
            self.x = x
        kernel = self.params["kernel"].reshape(-1, self.filters)    # (kh*kw*C, F)
        blocks = self._blocks(x)
        if len(blocks) == 1:
            return im2col(x, self.geometry) @ kernel
        xp = K.get_array_module(x)
        rows = self.geometry.out_h * self.geometry.out_w
        z = xp.empty((x.shape[0] * rows, self.filters), dtype=x.dtype)
        for start, stop in blocks:
            xp.matmul(im2col(x[start:stop], self.geometry), kernel, out=z[start * rows:stop * rows])
        return z

    def _blocks(self, x):
        """[(start, stop)] sample ranges whose cols fit the workspace."""
        g = self.geometry
        per_sample = g.out_h * g.out_w * g.kh * g.kw * x.shape[-1] * x.dtype.itemsize
        step = max(1, K.workspace_bytes() // per_sample)
        return [(s, min(s + step, x.shape[0])) for s in range(0, x.shape[0], step)]

    def backward_preactivation(self, grad_z, need_input_grad=True):
        """dW = cols^T dz,  db = sum dz,  dx = col2im(dz W^T)    (dz: (N*Ho*Wo, F))

        Block by block of samples, with each block's cols made again from x.
        """
        if self.x is None:
            raise self._missing_cache()
        x, g = self.x, self.geometry
        xp = K.get_array_module(x)
        kernel = self.params["kernel"].reshape(-1, self.filters)    # (kh*kw*C, F)
        grad_z = grad_z.reshape(-1, self.filters)
        rows = g.out_h * g.out_w
        grad_kernel = xp.zeros_like(kernel)
        grad_x = xp.empty_like(x) if need_input_grad else None
        for start, stop in self._blocks(x):
            cols = im2col(x[start:stop], g)                          # (B*Ho*Wo, kh*kw*C)
            dz = grad_z[start * rows:stop * rows]
            grad_kernel += cols.T @ dz
            if grad_x is not None:
                grad_x[start:stop] = col2im(dz @ kernel.T, (stop - start,) + x.shape[1:], g)
        self.grads["kernel"] = grad_kernel.reshape(self.params["kernel"].shape)
        if self.use_bias:
            self.grads["bias"] = bias_grad(grad_z)
        return grad_x

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding}

