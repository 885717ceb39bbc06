"""InputLayer and Input: declare a Sequential model's input shape up front.

tf.keras code often starts a Sequential model with ``keras.Input(shape=...)``
or ``layers.InputLayer(input_shape=...)`` instead of giving the first layer
``input_shape=``. In a Sequential model both only fix the per-sample input
shape; as in Keras 2.2.4 (engine/sequential.py, ``Sequential.layers`` skips
an InputLayer), the model does not list them among its layers.

minidl builds Sequential models only: calling a layer on an ``Input``, the
functional API, raises an error that says so.
"""
from .base import Layer, _shape_tuple

FUNCTIONAL_API = (
    "minidl builds Sequential models only; the functional API (calling a layer on "
    "keras.Input, keras.Model(inputs, outputs)) is not supported. Stack the layers instead: "
    "Sequential([Input(shape=...), Dense(...), ...])")


class InputLayer(Layer):
    """y = x: the model's input, of per-sample shape ``input_shape``.

    ``batch_input_shape`` / ``batch_size`` are accepted as Keras takes them;
    minidl's batch axis is always free.
    """

    def __init__(self, input_shape=None, batch_size=None, dtype=None, input_tensor=None,
                 sparse=False, name=None, batch_input_shape=None, **kwargs):
        if sparse:
            raise ValueError("InputLayer: sparse inputs are not supported")
        if input_tensor is not None:
            raise ValueError(f"InputLayer: input_tensor is not supported. {FUNCTIONAL_API}")
        super().__init__(name=name, input_shape=input_shape, batch_input_shape=batch_input_shape,
                         dtype=dtype, **kwargs)
        if self.declared_input_shape is None:
            raise ValueError("InputLayer: give the per-sample shape, e.g. input_shape=(28, 28, 1)")
        if any(d is None for d in self.declared_input_shape):
            raise ValueError(
                f"InputLayer: minidl needs every per-sample dimension, received "
                f"{self.declared_input_shape} (only the batch axis may be None)")

    def forward(self, x, training=False):
        self._check_input(x)
        return x

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx = dL/dy"""
        return grad_out

    def __call__(self, *args, **kwargs):
        raise TypeError(FUNCTIONAL_API)


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=False, tensor=None,
          batch_shape=None, **kwargs):
    """``keras.Input(shape=(28, 28, 1))``: an InputLayer to start a Sequential model.

    shape: the per-sample shape, without the batch axis (Keras's meaning).
    """
    if shape is None and batch_shape is None:
        raise ValueError("Input: give shape=, the per-sample shape, e.g. Input(shape=(784,))")
    if shape is not None:
        shape = _shape_tuple(shape, "Input: shape")
    return InputLayer(input_shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                      sparse=sparse, input_tensor=tensor, batch_input_shape=batch_shape, **kwargs)
