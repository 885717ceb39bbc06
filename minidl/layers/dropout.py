"""Dropout: zero a random fraction of the inputs while training."""
from .. import backend as K
from .. import kernels
from .base import Layer, channels_last_only, number


class Dropout(Layer):
    """Inverted dropout, as Keras 2 (tf.nn.dropout with keep_prob = 1 - rate).

    training:  y = x * mask,  mask = [u >= rate] / (1 - rate),  u ~ U(0, 1)
               (the draws u are kept; backward rebuilds the mask from them)
    inference: y = x (the 1/(1 - rate) scaling in training keeps E[y] = x).

    ``noise_shape`` shares one mask value along axes of size 1, e.g.
    (None, 1, 1, C) drops whole channels. The mask comes from the device's
    generator, so ``minidl.seed(n)`` makes it repeatable.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        rate = number(rate, f"{type(self).__name__}: rate")
        if not 0 <= rate < 1:
            raise ValueError(f"{type(self).__name__}: rate must be in [0, 1), received {rate!r}")
        self.rate = rate
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed  # accepted for Keras compatibility; minidl.seed() governs
        self.draws = None

    def _mask_shape(self, x):
        if self.noise_shape is None:
            return x.shape
        if len(self.noise_shape) != x.ndim:
            raise ValueError(f"{self.name}: noise_shape {self.noise_shape} must have rank {x.ndim}")
        return tuple(d if s is None else s for s, d in zip(self.noise_shape, x.shape))

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self.draws = None
            return x
        u = K.random_uniform(self._mask_shape(x), dtype=x.dtype)   # the draws decide the mask
        self.draws = u
        if u.shape != x.shape:  # noise_shape: one draw shared along the size-1 axes
            u = K.get_array_module(u).broadcast_to(u, x.shape)
        return kernels.dropout_forward(x, u, self.rate)

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx = mask * dL/dy: the same mask multiplies the gradient
        (identity after an inference forward)."""
        if self.draws is None:
            return grad_out
        u = self.draws
        if u.shape != grad_out.shape:
            u = K.get_array_module(u).broadcast_to(u, grad_out.shape)
        return kernels.dropout_forward(grad_out, u, self.rate)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


class SpatialDropout2D(Dropout):
    """Dropout of whole feature maps: one draw per (sample, channel), shared
    by every pixel, i.e. noise shape (N, 1, 1, C) (Keras 2.2.4 core.py).

    Neighbouring pixels of a conv feature map are strongly correlated, so
    dropping single pixels barely regularizes; dropping the whole channel does.
    Training: y = x * mask[n, c]; inference: y = x. Backward as Dropout.
    """

    def __init__(self, rate, data_format=None, **kwargs):
        channels_last_only(data_format, type(self).__name__)
        super().__init__(rate, noise_shape=(None, 1, 1, None), **kwargs)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"{self.name}: expected images (batch, height, width, channels), "
                f"received input shape (batch, {', '.join(map(str, input_shape))})")
        return tuple(input_shape)

    def _mask_shape(self, x):
        self.compute_output_shape(x.shape[1:])
        return super()._mask_shape(x)

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]  # fixed by the layer, not an argument
        return config
