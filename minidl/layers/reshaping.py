"""Layers that move values without computing: Reshape, ZeroPadding2D,
Cropping2D, UpSampling2D. Each backward moves the gradient back the same way.

Semantics as Keras 2.2.4 (Reshape in layers/core.py, the others in
layers/convolutional.py, where ``minidl.layers.convolutional`` re-exports them).
"""
import numpy as np

from .. import backend as K
from .base import Layer, channels_last_only, int_pair


def _images(layer, input_shape):
    if len(input_shape) != 3:
        raise ValueError(
            f"{layer.name}: expected images (batch, height, width, channels), "
            f"received input shape (batch, {', '.join(map(str, input_shape))})")


def _nonnegative(value, what):
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{what}: expected a non-negative int, received {value!r}")
    if int(value) < 0:
        raise ValueError(f"{what}: expected a non-negative int, received {value!r}")
    return int(value)


def _two_sided(value, what):
    """((top, bottom), (left, right)) from an int, a pair (symmetric height,
    symmetric width), or a pair of pairs: Keras's three forms."""
    forms = ("an int, a pair (height, width), or ((top, bottom), (left, right)) of "
             "non-negative ints")
    if isinstance(value, bool):
        raise TypeError(f"{what}: expected {forms}, received {value!r}")
    if hasattr(value, "__index__"):
        v = _nonnegative(value, what)
        return ((v, v), (v, v))
    try:
        rows, cols = value
    except (TypeError, ValueError):
        raise ValueError(f"{what}: expected {forms}, received {value!r}") from None
    out = []
    for side in (rows, cols):
        if hasattr(side, "__index__") and not isinstance(side, bool):
            v = _nonnegative(side, what)
            out.append((v, v))
        else:
            try:
                before, after = side
            except (TypeError, ValueError):
                raise ValueError(f"{what}: expected {forms}, received {value!r}") from None
            out.append((_nonnegative(before, what), _nonnegative(after, what)))
    return tuple(out)


class Reshape(Layer):
    """y = x.reshape(N, *target_shape); one entry of target_shape may be -1
    (inferred). The batch axis is never part of target_shape.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        shape = (target_shape,) if hasattr(target_shape, "__index__") else target_shape
        try:
            shape = tuple(shape)
        except TypeError:
            raise TypeError(f"{cls}: target_shape must be a tuple of ints, "
                            f"received {target_shape!r}") from None
        for d in shape:
            if isinstance(d, bool) or not hasattr(d, "__index__") or not (d == -1 or d > 0):
                raise ValueError(f"{cls}: target_shape entries must be positive ints or one "
                                 f"-1, received {target_shape!r}")
        if list(shape).count(-1) > 1:
            raise ValueError(f"{cls}: target_shape may hold at most one -1, "
                             f"received {target_shape!r}")
        self.target_shape = tuple(int(d) for d in shape)

    def compute_output_shape(self, input_shape):
        size = int(np.prod(input_shape))
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        if -1 in self.target_shape and size % known == 0:
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if -1 not in self.target_shape and known == size:
            return self.target_shape
        raise ValueError(
            f"{self.name}: cannot reshape input of shape (batch, "
            f"{', '.join(map(str, input_shape))}) ({size} values per sample) to target_shape "
            f"{self.target_shape}; the number of values must stay the same")

    def forward(self, x, training=False):
        self._check_input(x)
        return x.reshape((x.shape[0],) + self._out_shape)

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx = dL/dy reshaped back to the input's shape."""
        return grad_out.reshape((grad_out.shape[0],) + self._in_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class ZeroPadding2D(Layer):
    """Rows and columns of zeros around each image: (N, H, W, C) ->
    (N, top + H + bottom, left + W + right, C).

    padding: int (all four sides), (rows, cols) (top = bottom = rows, left =
    right = cols), or ((top, bottom), (left, right)).
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        channels_last_only(data_format, type(self).__name__)
        self.padding = _two_sided(padding, f"{type(self).__name__}: padding")

    def compute_output_shape(self, input_shape):
        _images(self, input_shape)
        (top, bottom), (left, right) = self.padding
        h, w, c = input_shape
        return (top + h + bottom, left + w + right, c)

    def _inside(self):
        """The slices of the padded image that hold x."""
        (top, _), (left, _) = self.padding
        h, w, _ = self._in_shape
        return (slice(None), slice(top, top + h), slice(left, left + w), slice(None))

    def forward(self, x, training=False):
        self._check_input(x)
        y = K.get_array_module(x).zeros((x.shape[0],) + self._out_shape, dtype=x.dtype)
        y[self._inside()] = x
        return y

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx = dL/dy inside the padding (the zeros have no input)."""
        return K.get_array_module(grad_out).ascontiguousarray(grad_out[self._inside()])

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding]}


class Cropping2D(Layer):
    """Rows and columns cut from each image's borders: (N, H, W, C) ->
    (N, H - top - bottom, W - left - right, C). ``cropping`` takes the three
    forms of ZeroPadding2D's padding.
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        channels_last_only(data_format, type(self).__name__)
        self.cropping = _two_sided(cropping, f"{type(self).__name__}: cropping")

    def compute_output_shape(self, input_shape):
        _images(self, input_shape)
        (top, bottom), (left, right) = self.cropping
        h, w, c = input_shape
        if top + bottom >= h or left + right >= w:
            raise ValueError(
                f"{self.name}: cropping {self.cropping} leaves nothing of a {h}x{w} image")
        return (h - top - bottom, w - left - right, c)

    def _kept(self):
        (top, _), (left, _) = self.cropping
        h, w, _ = self._out_shape
        return (slice(None), slice(top, top + h), slice(left, left + w), slice(None))

    def forward(self, x, training=False):
        self._check_input(x)
        return K.get_array_module(x).ascontiguousarray(x[self._kept()])

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx = dL/dy where x was kept, 0 where it was cropped."""
        xp = K.get_array_module(grad_out)
        grad_x = xp.zeros((grad_out.shape[0],) + self._in_shape, dtype=grad_out.dtype)
        grad_x[self._kept()] = grad_out
        return grad_x

    def get_config(self):
        return {**super().get_config(), "cropping": [list(c) for c in self.cropping]}


class UpSampling2D(Layer):
    """Each pixel repeated into a (sh, sw) block: (N, H, W, C) -> (N, sh H, sw W, C)
    (nearest-neighbour, Keras's default interpolation).
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        channels_last_only(data_format, cls)
        self.size = int_pair(size, f"{cls}: size")
        if interpolation != "nearest":
            raise ValueError(
                f"{cls}: interpolation={interpolation!r} is not implemented in minidl; "
                "only 'nearest' (the Keras default) is")
        self.interpolation = interpolation

    def compute_output_shape(self, input_shape):
        _images(self, input_shape)
        h, w, c = input_shape
        return (h * self.size[0], w * self.size[1], c)

    def forward(self, x, training=False):
        self._check_input(x)
        n, h, w, c = x.shape
        sh, sw = self.size
        blocks = K.get_array_module(x).broadcast_to(x[:, :, None, :, None, :],
                                                    (n, h, sh, w, sw, c))
        return blocks.reshape(n, h * sh, w * sw, c)

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx = the sum of dL/dy over each pixel's block."""
        n, h, w, c = (grad_out.shape[0],) + self._in_shape
        sh, sw = self.size
        return grad_out.reshape(n, h, sh, w, sw, c).sum(axis=(2, 4))

    def get_config(self):
        return {**super().get_config(), "size": list(self.size),
                "interpolation": self.interpolation}
