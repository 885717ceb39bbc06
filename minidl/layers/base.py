"""The Layer base class: weights, lazy building, Keras-style names and config.

A layer maps x to y in ``forward(x, training=False)`` and maps dL/dy to dL/dx
in ``backward(grad_out)``, filling ``grads`` with dL/dw for its trainable
weights on the way. What backward needs is kept by the last forward made
with ``training=True`` (inference keeps nothing, so predicting holds no
extra memory).

Weights live in two dicts keyed by their Keras names: ``params`` (trained by
the optimizer) and ``state`` (non-trainable, e.g. BatchNormalization's moving
statistics). ``get_weights()`` returns both in Keras's order.
"""
from collections import defaultdict
import re

from .. import activations, constraints, initializers, regularizers
from .. import backend as K

_name_counts = defaultdict(int)


def _snake_case(name):
    """Conv2D -> conv2d, MaxPooling2D -> max_pooling2d: Keras 2.2's rule."""
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def reset_names():
    """Forget the names given so far (``backend.clear_session``)."""
    _name_counts.clear()


def unique_name(prefix):
    """dense_1, dense_2, ...: Keras 2.2's per-class layer names."""
    _name_counts[prefix] += 1
    return f"{prefix}_{_name_counts[prefix]}"


class Layer:
    def __init__(self, name=None, input_shape=None, batch_input_shape=None, input_dim=None,
                 trainable=True, dtype=None, **kwargs):
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kwargs)}")
        self.name = name or unique_name(_snake_case(type(self).__name__))
        self.trainable = trainable
        if input_dim is not None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        # declared by the user on a first layer, e.g. input_shape=(28, 28, 1)
        self.declared_input_shape = None if input_shape is None else _shape_tuple(
            input_shape, f"{type(self).__name__}: input_shape")
        self._in_shape = None     # per sample, without the batch axis
        self._out_shape = None
        self.built = False
        self.params = {}            # trainable weights, dL/dw in self.grads
        self.grads = {}
        self.state = {}             # non-trainable weights
        self.constraints = {}
        self.regularizers = {}      # weight name -> penalty added to the loss
        self._weight_order = []     # Keras get_weights() order

    # -------------------------------------------------------------- building
    def build(self, input_shape):
        """Create the weights for per-sample ``input_shape`` (no batch axis)."""
        self._in_shape = tuple(input_shape)
        self._out_shape = self.compute_output_shape(self._in_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def add_weight(self, name, shape, initializer, trainable=True, constraint=None,
                   regularizer=None):
        init = initializers.get(initializer)
        value = K.asarray(init(tuple(shape), dtype=K.floatx()))
        (self.params if trainable else self.state)[name] = value
        if constraint is not None:
            self.constraints[name] = constraint
        if regularizer is not None:
            self.regularizers[name] = regularizer
        self._weight_order.append(name)
        return value

    def _check_input(self, x):
        """Build from the first input seen; afterwards refuse a different shape."""
        shape = tuple(x.shape[1:])
        if not self.built:
            self.build(shape)
        elif shape != self._in_shape:
            raise ValueError(
                f"{self.name}: expected input of shape (batch, {', '.join(map(str, self._in_shape))})"
                f", received {tuple(x.shape)}")

    # --------------------------------------------------------- forward/back
    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, grad_out, need_input_grad=True):
        """dL/dx from dL/dy, filling ``grads``. A model passes
        ``need_input_grad=False`` to its first weighted layer, where nothing
        below needs dL/dx; a layer may then skip computing it and return None."""
        raise NotImplementedError

    def __call__(self, x, training=False):
        """``layer(x)``: the forward pass on an array, as Keras's eager call."""
        if isinstance(x, Layer):  # keras.Input(...) given to a layer: the functional API
            from .input_layer import FUNCTIONAL_API
            raise TypeError(f"{self.name}: {FUNCTIONAL_API}")
        x = K.asarray(x)
        if x.dtype.kind != "f" or x.dtype != K.floatx():
            x = x.astype(K.floatx())
        return self.forward(x, training=training)

    def _missing_cache(self):
        return RuntimeError(
            f"{self.name}.backward: no cached forward; call forward(x, training=True) first")

    # --------------------------------------------------------------- weights
    @property
    def named_weights(self):
        """All weights by name, trainable and not, in Keras order."""
        return {n: (self.params[n] if n in self.params else self.state[n]) for n in self._weight_order}

    @property
    def weights(self):
        """Keras's ``layer.weights``: the weight arrays (live, on the device), in
        get_weights() order."""
        return list(self.named_weights.values())

    @property
    def trainable_weights(self):
        """The weights the optimizer updates (none when ``trainable`` is False)."""
        if not self.trainable:
            return []
        return [w for n, w in self.named_weights.items() if n in self.params]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for n, w in self.named_weights.items() if n not in self.params]

    # Keras's layer.input_shape / output_shape include the batch axis, as None;
    # the layers themselves work with the per-sample shapes _in_shape / _out_shape.
    @property
    def input_shape(self):
        """(None, ...): the input's shape, batch axis first (Keras 2.2.4 Layer.input_shape)."""
        if self._in_shape is None:
            raise AttributeError(f"{self.name}: the layer has not been built yet, so it has no "
                                 f"input_shape")
        return (None,) + tuple(self._in_shape)

    @property
    def output_shape(self):
        """(None, ...): the output's shape, batch axis first (Keras 2.2.4 Layer.output_shape)."""
        if self._out_shape is None:
            raise AttributeError(f"{self.name}: the layer has not been built yet, so it has no "
                                 f"output_shape")
        return (None,) + tuple(self._out_shape)

    def get_weights(self):
        """NumPy copies of the weights in Keras order (e.g. [kernel, bias])."""
        return [K.to_numpy(w).copy() for w in self.named_weights.values()]

    def set_weights(self, weights):
        names = self._weight_order
        if len(weights) != len(names):
            raise ValueError(
                f"{self.name}.set_weights: expected {len(names)} arrays {names}, received {len(weights)}")
        for name, w in zip(names, weights):
            store = self.params if name in self.params else self.state
            old = store[name]
            if tuple(w.shape) != tuple(old.shape):
                raise ValueError(
                    f"{self.name}.set_weights: {name} must have shape {tuple(old.shape)}, "
                    f"received {tuple(w.shape)}")
            store[name] = K.asarray(w, dtype=old.dtype).copy()

    def _extra_arrays(self):
        """Arrays besides the weights that a saved model must keep (by name)."""
        return {}

    def _load_extra_arrays(self, arrays):
        pass

    def count_params(self):
        return sum(int(w.size) for w in self.named_weights.values())

    def count_trainable_params(self):
        return sum(int(w.size) for w in self.params.values()) if self.trainable else 0

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        if self.declared_input_shape is not None:
            config["input_shape"] = list(self.declared_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}>"


def _shape_tuple(shape, what):
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{what}: expected a tuple of ints, received {shape!r}") from None
    if any(d is not None and d <= 0 for d in shape):
        raise ValueError(f"{what}: dimensions must be positive, received {shape}")
    return shape


def positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int,)) and not (
            hasattr(value, "__index__")):
        raise TypeError(f"{what}: expected a positive int, received {value!r}")
    value = int(value)
    if value <= 0:
        raise ValueError(f"{what}: expected a positive int, received {value}")
    return value


def number(value, what):
    """A real number (not a str, not a bool), or a TypeError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not (
            hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0):
        raise TypeError(f"{what}: expected a number, received {value!r}")
    return float(value)


def channels_last_only(data_format, what):
    """Accept data_format None or 'channels_last'; refuse channels-first, saying how to convert."""
    if data_format in (None, "channels_last"):
        return
    if data_format == "channels_first":
        raise ValueError(
            f"{what}: minidl is channels-last only: images are (batch, height, width, channels). "
            "Transpose channels-first arrays once with x.transpose(0, 2, 3, 1) and drop "
            "data_format='channels_first'")
    raise ValueError(
        f"{what}: data_format must be 'channels_last' or None, received {data_format!r}")


def int_pair(value, what):
    """(a, b) from an int or a pair of ints, each positive (kernel sizes, strides)."""
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        pair = tuple(pair)
    except TypeError:
        raise TypeError(f"{what}: expected an int or a pair of ints, received {value!r}") from None
    if len(pair) != 2:
        raise ValueError(f"{what}: expected an int or a pair of ints, received {value!r}")
    return tuple(positive_int(v, what) for v in pair)


class LinearLayer(Layer):
    """Base of Dense and Conv2D: y = f(z + b), z a linear map of x with a kernel.

    A subclass supplies the linear map and its backward:
      ``_linear(x, training)`` -> z without bias, a fresh (M, F) array, keeping
      what backward needs; ``backward_preactivation(dz, need_input_grad)`` -> dL/dx, filling
      dL/dkernel and dL/dbias; and ``_output_shape(x)``.
    This class adds the bias and the activation, in one fused pass where a
    kernel exists (ReLU on the CPU), and takes dL/dy back through f. It keeps
    y for that, and z + b too when f'(z) is not a function of y (gelu, swish:
    ``activation.needs_input``).
    """

    def __init__(self, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_constraint=None, bias_constraint=None,
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        if activity_regularizer is not None:
            raise ValueError(f"{type(self).__name__}: activity_regularizer is not supported; "
                             f"kernel_regularizer and bias_regularizer are")
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.x = self.y = self.z = None

    def _add_kernel_and_bias(self, kernel_shape, units):
        self.add_weight("kernel", kernel_shape, self.kernel_initializer,
                        constraint=self.kernel_constraint, regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (units,), self.bias_initializer, constraint=self.bias_constraint,
                            regularizer=self.bias_regularizer)

    def forward(self, x, training=False):
        z = self._linear(x, training)                    # (M, F), ours to overwrite
        y = activations.add_bias_and_activate(z, self.params.get("bias"), self.activation)
        if training:
            self.y = y
            self.z = z if self.activation.needs_input else None  # z + b, not overwritten
        return y.reshape(self._output_shape(x))

    def forward_preactivation(self, x, training=False):
        """z = linear(x) + b, before the activation (the model's fused softmax path)."""
        z = activations.add_bias_and_activate(self._linear(x, training), self.params.get("bias"),
                                              activations.linear)
        return z.reshape(self._output_shape(x))

    def backward(self, grad_out, need_input_grad=True):
        """dL/dz = f'(z) * dL/dy, then through the linear map (backward_preactivation)."""
        if self.y is None:
            raise self._missing_cache()
        grad_z = self.activation.backward(grad_out.reshape(self.y.shape), self.y, self.z)
        return self.backward_preactivation(grad_z, need_input_grad)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}
