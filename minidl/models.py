"""Sequential: a stack of layers with Keras 2's compile / fit / evaluate API.

This file builds the model (add, build, compile, summary) and saves it; the
training loop (fit, evaluate, predict, and backprop on one batch) is in
``minidl/training.py``.
"""
import numpy as np

from . import backend as K
from . import distributed
from . import losses as losses_mod
from . import metrics as metrics_mod
from . import optimizers as optimizers_mod
from .layers.activation import Activation
from .layers.base import Layer, unique_name
from .layers.input_layer import FUNCTIONAL_API, InputLayer
from .training import Training, TrainingDivergedError  # noqa: F401  (minidl.models' names)


class Sequential(Training):
    def __init__(self, layers=None, name=None):
        self.name = name or unique_name("sequential")
        self.layers = []
        self.optimizer = None
        self.loss = None
        self.metrics = []
        self._metric_names = []
        self.stop_training = False
        self._bad_targets = None   # device flag: a generator yielded targets the loss refuses
        self._dp = None            # minidl.distributed's hooks during fit (None: one process)
        self.history = None
        self.built = False
        self._input_shape = None  # per sample, without the batch axis
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------ building
    def add(self, layer):
        if isinstance(layer, Sequential):
            # A model inside a model (tf.keras's Sequential([model, Softmax()])): its layers
            # join this one, shared, so both models use the same weights. Unlike Keras,
            # summary() lists them one by one rather than as one nested row.
            if not self.layers and self._input_shape is None:
                self._input_shape = layer._input_shape
            for inner in layer.layers:
                self.add(inner)
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"{self.name}.add: expected a minidl Layer, received {type(layer).__name__}")
        if isinstance(layer, InputLayer):
            # Keras 2.2.4 sequential.py: an InputLayer fixes the input shape and is not
            # listed in model.layers
            if self.layers or self._input_shape is not None:
                raise ValueError(f"{self.name}.add: an InputLayer (keras.Input) can only be the "
                                 f"first element of a Sequential model")
            self._input_shape = layer.declared_input_shape
            return
        if not self.layers and layer.declared_input_shape is not None:
            if self._input_shape is not None and tuple(self._input_shape) != tuple(
                    layer.declared_input_shape):
                raise ValueError(
                    f"{self.name}.add: {layer.name} declares input_shape "
                    f"{layer.declared_input_shape}, but the model's input is {self._input_shape}")
            self._input_shape = layer.declared_input_shape
        self.layers.append(layer)
        self.built = False
        if self._input_shape is not None:
            self.build()

    def pop(self):
        """Remove the last layer (Keras 2.2.4 Sequential.pop)."""
        if not self.layers:
            raise TypeError(f"{self.name}.pop: there are no layers in the model")
        self.layers.pop()
        self.built = False
        if self.layers and self._input_shape is not None:
            self.build()

    def get_layer(self, name=None, index=None):
        """A layer by its name or by its position in ``layers`` (Keras 2.2.4)."""
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"{self.name}.get_layer: index {index} is out of range for a "
                                 f"model of {len(self.layers)} layers")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"{self.name}.get_layer: no layer named {name!r}; the layers are "
                         f"{[layer.name for layer in self.layers]}")

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    def build(self, input_shape=None):
        """Build every layer from the per-sample input shape.

        ``input_shape`` may include the batch axis as None, Keras-style.
        """
        if input_shape is not None:
            input_shape = tuple(input_shape)
            if input_shape and input_shape[0] is None:
                input_shape = input_shape[1:]
            self._input_shape = input_shape
        if self._input_shape is None:
            raise ValueError(
                f"{self.name}: the input shape is unknown; pass input_shape= to the first layer, "
                f"call build((None, ...)), or fit() on data")
        if not self.layers:
            raise ValueError(f"{self.name}: the model has no layers")
        shape = self._input_shape
        for layer in self.layers:
            if not layer.built:
                layer.build(shape)
            elif tuple(layer._in_shape) != tuple(shape):
                raise ValueError(
                    f"{layer.name}: built for input (None, {', '.join(map(str, layer._in_shape))}) "
                    f"but receives (None, {', '.join(map(str, shape))})")
            shape = layer._out_shape
        # Below the first layer with weights nobody needs dL/dx: backprop skips it.
        self._input_grad_needed, needed = [], False
        for layer in self.layers:
            self._input_grad_needed.append(needed)
            needed = needed or bool(layer.params)
        self.built = True
        self._resolve_metrics()

    def _build_from(self, x_shape):
        if not self.built:
            self.build(tuple(x_shape[1:]))

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None,) + tuple(self._input_shape)

    @property
    def output_shape(self):
        self._require_built("output_shape")
        return (None,) + tuple(self.layers[-1]._out_shape)

    def _require_built(self, what):
        if not self.built:
            raise ValueError(
                f"{self.name}.{what}: the model has not been built yet; give the first layer an "
                f"input_shape, call build(), or fit() on data first")

    # ------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **kwargs):  # Keras 2.2.4 default
        """Set the optimizer, the loss and the metrics (e.g. ['accuracy'])."""
        unknown = sorted(set(kwargs) - _COMPILE_ARGUMENTS)
        if unknown:
            raise TypeError(f"{self.name}.compile: unexpected argument(s) {unknown}")
        unsupported = {k for k, v in kwargs.items() if v is not None}
        if unsupported:
            raise TypeError(f"{self.name}.compile: unsupported argument(s) {sorted(unsupported)} "
                            f"(accepted only as None)")
        if loss is None:
            raise ValueError(f"{self.name}.compile: a loss is required, e.g. loss='categorical_crossentropy'")
        self.optimizer = optimizers_mod.get(optimizer)
        self.loss = losses_mod.get(loss)
        if isinstance(metrics, str):
            metrics = [metrics]
        self._metric_names = list(metrics or [])
        self.metrics = []
        self._resolve_metrics()

    def _resolve_metrics(self):
        """'accuracy' depends on the loss and the output shape: resolve once both are known."""
        if self.loss is not None and self.built:
            self.loss.check_output_shape(self.layers[-1]._out_shape)
            self.metrics = [metrics_mod.get(m, self.loss, self.layers[-1]._out_shape)
                            for m in self._metric_names]

    @property
    def metrics_names(self):
        return ["loss"] + [m.key for m in self.metrics]

    def _fuses_output(self):
        """Softmax + cross-entropy (or sigmoid + binary cross-entropy): the model
        starts backprop at the logits. Never without a loss (predict before compile)."""
        last = self.layers[-1]
        fuses_with = getattr(self.loss, "fuses_with", None)
        return (fuses_with is not None and getattr(last, "activation", None) is not None
                and last.activation.name == fuses_with
                and (isinstance(last, Activation) or hasattr(last, "backward_preactivation")))

    def __call__(self, x, training=False):
        """``model(x)``: the output for a batch, on the active device (Keras's eager call)."""
        if isinstance(x, Layer):
            raise TypeError(f"{self.name}: {FUNCTIONAL_API}")
        x, _ = self._arrays(x, None, "__call__", check_values=False)
        if x.dtype != np.dtype(K.floatx()):
            x = x.astype(K.floatx())
        return self._forward(x, training)[0]

    # ------------------------------------------------------------ weights
    def get_weights(self):
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights):
        self._require_built("set_weights")
        weights = list(weights)
        expected = sum(len(layer.named_weights) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"{self.name}.set_weights: expected {expected} arrays, received {len(weights)}")
        for layer in self.layers:
            k = len(layer.named_weights)
            layer.set_weights(weights[:k])
            weights = weights[k:]

    def count_params(self):
        self._require_built("count_params")
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, line_length=65, positions=(0.45, 0.85, 1.0), print_fn=None):
        """Print a Keras 2 summary table: layer, output shape, parameters.

        Layout as Keras 2.2.4 layer_utils.print_summary (65 columns, column
        stops at .45, .85, 1.).
        """
        self._require_built("summary")
        print_fn = print_fn or print
        stops = [int(line_length * p) for p in positions]

        def row(fields):
            line = ""
            for i, (field, stop) in enumerate(zip(fields, stops)):
                if i > 0:
                    line = line[:-1] + " "
                line = (line + str(field))[:stop]
                line += " " * (stop - len(line))
            print_fn(line)

        print_fn(f'Model: "{self.name}"')
        print_fn("_" * line_length)
        row(["Layer (type)", "Output Shape", "Param #"])
        print_fn("=" * line_length)
        for i, layer in enumerate(self.layers):
            shape = (None,) + tuple(layer._out_shape)
            row([f"{layer.name} ({type(layer).__name__})", str(shape), layer.count_params()])
            print_fn(("=" if i == len(self.layers) - 1 else "_") * line_length)
        total = self.count_params()
        trainable = sum(layer.count_trainable_params() for layer in self.layers)
        print_fn(f"Total params: {total:,}")
        print_fn(f"Trainable params: {trainable:,}")
        print_fn(f"Non-trainable params: {total - trainable:,}")
        print_fn("_" * line_length)

    # ------------------------------------------------------------ saving
    def get_config(self):
        from .layers import serialize
        config = {"name": self.name, "layers": [serialize(layer) for layer in self.layers]}
        if self._input_shape is not None:
            config["input_shape"] = list(self._input_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .layers import deserialize
        model = cls(name=config.get("name"))
        if config.get("input_shape") is not None:
            model._input_shape = tuple(config["input_shape"])
        for c in config["layers"]:
            model.add(deserialize(c, custom_objects))
        return model

    def to_json(self, **kwargs):
        """The architecture as a JSON string (Keras 2.2.4); ``model_from_json`` reads it."""
        import json
        return json.dumps({"class_name": "Sequential", "config": self.get_config(),
                           "backend": "minidl"}, **kwargs)

    def save(self, filepath, include_optimizer=True, overwrite=True):
        """Architecture, weights and optimizer state in one .npz (JSON inside); atomic.

        The file is minidl's own format whatever its name: ``model.save('m.h5')``
        writes it to m.h5 (and says so), and ``load_model('m.h5')`` reads it back.
        """
        if not distributed.is_main():
            return   # minidl.distributed: rank 0 writes; the weights are the same everywhere
        from .saving import save_model
        save_model(self, filepath, include_optimizer=include_optimizer, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        if not distributed.is_main():
            return   # minidl.distributed: rank 0 writes
        from .saving import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        from .saving import load_weights
        load_weights(self, filepath)


_COMPILE_ARGUMENTS = {"loss_weights", "sample_weight_mode", "weighted_metrics", "target_tensors",
                      "run_eagerly", "steps_per_execution", "jit_compile", "options",
                      "run_metadata"}


def model_from_json(json_string, custom_objects=None):
    """A new, untrained model from ``model.to_json()`` (Keras 2.2.4)."""
    import json
    spec = json.loads(json_string)
    if spec.get("class_name") not in ("Sequential", "Model"):
        raise ValueError(f"model_from_json: minidl builds Sequential models, the JSON holds "
                         f"{spec.get('class_name')!r}")
    return Sequential.from_config(spec["config"], custom_objects=custom_objects)


def load_model(filepath, custom_objects=None, compile=True):
    """A model saved by ``model.save``; never unpickles anything."""
    from .saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile)


class Model(Sequential):
    """``keras.Model``: in minidl, a Sequential model under Keras's other name.

    The functional API (``Model(inputs, outputs)``) and subclassing with a
    ``call`` method build graphs that minidl does not have; both raise an error
    that says so instead of failing later.
    """

    def __init__(self, *args, inputs=None, outputs=None, **kwargs):
        if inputs is not None or outputs is not None or (args and isinstance(args[0], Layer)):
            raise TypeError(f"Model(inputs, outputs): {FUNCTIONAL_API}")
        if "call" in type(self).__dict__:
            raise TypeError(
                f"{type(self).__name__}: subclassing Model with a call() method is not supported; "
                f"minidl builds Sequential models only: Sequential([layer, layer, ...])")
        super().__init__(*args, **kwargs)
