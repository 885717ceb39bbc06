"""Lambda: wrap an array function as a layer (e.g. input standardization)."""
import numpy as np

from .. import backend as K
from .base import Layer


class Affine:
    """x -> x * scale + offset, the form in which a saved Lambda comes back."""

    def __init__(self, scale, offset):
        self.scale, self.offset = scale, offset

    def __call__(self, x):
        return x * self.scale + self.offset


class Lambda(Layer):
    """y = function(x, **arguments), with ``function`` written on arrays.

    Backward: minidl differentiates a Lambda only when its function is
    *elementwise affine*, y = a * x + b, like the input standardization
    ``(x - mean) / std`` of study 000; dL/dx is then a * dL/dy. At build time
    the function is probed (a = f(1) - f(0), b = f(0), then checked on a
    random input); any other function still runs forward, but asking for its
    gradient raises a ValueError that says so. A Lambda placed first in a
    model is never asked: nothing below it needs a gradient.
    """

    def __init__(self, function, output_shape=None, arguments=None, **kwargs):
        # output_shape is accepted for Keras code: minidl finds the shape by calling function
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable, received {type(function).__name__}")
        self.function = function
        self.arguments = dict(arguments or {})
        self.scale = self.offset = None   # set when the function is affine

    def _call(self, x):
        return self.function(x, **self.arguments)

    def build(self, input_shape):
        xp = K.array_module()
        dtype = K.floatx()
        zeros = xp.zeros((1,) + tuple(input_shape), dtype=dtype)
        f0 = self._call(zeros)
        self._output_shape = tuple(f0.shape[1:])
        if self._output_shape == tuple(input_shape):
            offset = f0
            scale = self._call(zeros + 1) - offset
            probe = K.asarray(np.random.default_rng(0).standard_normal(zeros.shape), dtype=dtype)
            expected = probe * scale + offset
            err = float(xp.max(xp.abs(self._call(probe) - expected)))
            tol = 1e-4 if np.dtype(dtype).itemsize < 8 else 1e-10
            if err <= tol * (1.0 + float(xp.max(xp.abs(expected)))):
                self.scale, self.offset = scale, offset
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return self._output_shape

    def forward(self, x, training=False):
        self._check_input(x)
        y = self._call(x)
        if y.dtype.kind == "f" and y.dtype != x.dtype:
            # e.g. (x - mean) / std with float64 constants: keep the model in x's float type
            y = y.astype(x.dtype)
        return y

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx = a * dL/dy for an elementwise affine function y = a x + b."""
        if self.scale is None:
            name = getattr(self.function, "__name__", repr(self.function))
            raise ValueError(
                f"{self.name}: cannot back-propagate through Lambda({name}): minidl "
                f"differentiates a Lambda only when it is elementwise affine (y = a*x + b). "
                f"Put it first in the model, where no gradient is needed, or write a Layer "
                f"subclass with its own backward.")
        return grad_out * self.scale

    def get_config(self):
        if self.scale is None:
            name = getattr(self.function, "__name__", repr(self.function))
            raise ValueError(
                f"{self.name}: cannot save Lambda({name}): only elementwise affine functions "
                f"can be stored without pickling code")
        return {**super().get_config(), "affine": True}

    @classmethod
    def from_config(cls, config):
        config = {k: v for k, v in config.items() if k != "affine"}
        return cls(Affine(0.0, 0.0), **config)  # scale/offset come back with the arrays

    def _extra_arrays(self):
        self.get_config()  # refuses a function that is not affine
        return {"scale": K.to_numpy(self.scale), "offset": K.to_numpy(self.offset)}

    def _load_extra_arrays(self, arrays):
        self.scale, self.offset = K.asarray(arrays["scale"]), K.asarray(arrays["offset"])
        self.function = Affine(self.scale, self.offset)
