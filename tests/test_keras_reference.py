"""minidl against Keras 2 itself, on the same weights and inputs.

tests/fixtures/keras2/ holds outputs and gradients that tf.keras 2.15 (Keras
2.15.0) computed in float64 for the same inputs and weights
(tests/fixtures/make_keras_fixtures.py made them; its README gives the
format). These tests rebuild each case in minidl and require the same
numbers, so they check the *forward* semantics too (padding placement,
pooling windows, BatchNormalization statistics, loss conventions), which a
gradient check alone cannot see.
"""
import glob
import json
import os

import numpy as np
import pytest

import minidl
from minidl import backend as K
from minidl import constraints, layers, losses, optimizers

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "keras2")
RTOL, ATOL = 1e-9, 1e-12


def _cases(kind):
    out = []
    for path in sorted(glob.glob(os.path.join(HERE, "*.npz"))):
        with np.load(path, allow_pickle=False) as data:
            config = json.loads(str(data["config"]))
            if config["kind"] == kind:
                out.append(pytest.param(path, id=os.path.basename(path)[:-4]))
    return out


def _load(path):
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k != "config"}
        return json.loads(str(data["config"])), arrays


def _np(a):
    return K.to_numpy(a)


def _weights(arrays, prefix="w"):
    i, out = 0, []
    while f"{prefix}{i}" in arrays:
        out.append(arrays[f"{prefix}{i}"])
        i += 1
    return out


def close(actual, expected, rtol=RTOL, atol=ATOL, what=""):
    np.testing.assert_allclose(_np(actual), expected, rtol=rtol, atol=atol, err_msg=what)


@pytest.mark.parametrize("path", _cases("layer"))
def test_layer_forward_and_gradients_match_keras(xp, path):
    config, a = _load(path)
    dtype = config["dtype"]
    float32 = dtype == "float32"
    rtol, atol = (2e-5, 1e-5) if float32 else (RTOL, ATOL)
    kwargs = dict(config["kwargs"])
    if config["layer"] == "BatchNormalization":
        # tf.keras 2.15 moves the biased variance, except its fused kernel (4-D
        # float32), which rescales by n/(n-1)
        kwargs["unbiased_moving_variance"] = bool(config.get("fused"))
    with K.floatx_scope(dtype):
        layer = getattr(layers, config["layer"])(**kwargs)
        x = K.asarray(a["x"])
        layer.build(x.shape[1:])
        layer.set_weights(_weights(a))
        training = config["training"]
        y = layer.forward(x, training=training)
        close(y, a["y"], rtol, atol, "output")
        if "w_after0" in a:  # moving statistics after one training call
            # Keras keeps momentum in float32: ~1e-8 relative in the moving averages
            for got, expected in zip(layer.get_weights(), _weights(a, "w_after")):
                close(got, expected, max(rtol, 1e-6), atol, "moving statistics")
        if not training:
            if config["layer"] == "BatchNormalization":
                return  # inference BN keeps no cache for backward; its output is checked above
            layer.forward(x, training=True)  # same computation here, and it keeps the cache
        close(layer.backward(K.asarray(a["r"])), a["grad_x"], rtol, atol, "dL/dx")
        names = [n for n in layer.named_weights if n in layer.params]
        grads = _weights(a, "grad_w")
        assert len(grads) == len(names)
        for name, expected in zip(names, grads):
            close(layer.grads[name], expected, rtol, atol, f"dL/d{name}")


@pytest.mark.parametrize("path", _cases("loss"))
def test_loss_values_and_gradients_match_keras(xp, path):
    config, a = _load(path)
    loss = losses.get({"class_name": config["loss_class"], "config": config["kwargs"]}
                      if "loss_class" in config else config["loss"])
    with K.floatx_scope("float64"):
        y_pred = K.asarray(a["y_pred"])
        y_true = loss.prepare_targets(K.asarray(a["y_true"]), y_pred.shape[1:])
        close(loss.per_sample(y_true, y_pred), a["loss"], what="per-sample loss")
        close(loss.per_sample(y_true, y_pred).mean(), a["mean_loss"], what="mean loss")
        close(loss.gradient(y_true, y_pred), a["grad_y_pred"], what="d mean / d y_pred")


@pytest.mark.parametrize("path", _cases("loss_through_layer"))
def test_softmax_dense_with_crossentropy_matches_keras_logits_path(xp, path):
    config, a = _load(path)
    assert config["loss_used_logits"]
    with K.floatx_scope("float64"):
        model = minidl.models.Sequential([getattr(layers, config["layer"])(
            input_shape=a["x"].shape[1:], **config["kwargs"])])
        model.compile("sgd", loss=config["loss"])
        model.set_weights(_weights(a))
        x, y = model._arrays(a["x"], a["y_true"], "test")
        loss, y_pred, z = model._batch_loss(x, y, training=True)
        assert z is not None, "softmax + cross-entropy must take the fused path"
        close(y_pred, a["y"], what="probabilities")
        close(loss, a["mean_loss"], what="mean loss from the logits")
        grad_x = model._backprop(y, y_pred, z, need_input_grad=True)
        close(grad_x, a["grad_x"], what="dL/dx")
        for name, expected in zip(["kernel", "bias"], _weights(a, "grad_w")):
            close(model.layers[0].grads[name], expected, what=f"dL/d{name}")


_OPTIMIZERS = {"SGD": optimizers.SGD, "Adam": optimizers.Adam,
               "Adadelta": optimizers.Adadelta, "RMSprop": optimizers.RMSprop,
               "Adagrad": optimizers.Adagrad, "Adamax": optimizers.Adamax,
               "Nadam": optimizers.Nadam}


@pytest.mark.parametrize("path", _cases("optimizer"))
def test_optimizer_update_rules_match_keras(xp, path):
    config, a = _load(path)
    cfg = config["get_config"]
    # Keras holds these hyperparameters as float32 variables: round them the same
    # way, so the update rules themselves are compared (epsilon stays float64).
    f32 = lambda v: float(np.float32(v))  # noqa: E731
    kwargs = {"lr": f32(cfg["learning_rate"]), "decay": f32(cfg.get("decay", 0.0))}
    for key in ("momentum", "rho", "beta_1", "beta_2"):
        if key in cfg and not (key == "momentum" and config["optimizer"] == "RMSprop"):
            kwargs[key] = f32(cfg[key])
    for key in ("nesterov", "epsilon", "amsgrad", "initial_accumulator_value"):
        if key in cfg:
            kwargs[key] = cfg[key]
    if config["optimizer"] == "Nadam":  # tf.keras's legacy Nadam: decay is Keras 2's schedule_decay
        kwargs["schedule_decay"] = cfg["decay"]
        del kwargs["decay"]
    with K.floatx_scope("float64"):
        opt = _OPTIMIZERS[config["optimizer"]](**kwargs)
        w = K.asarray(a["params"][0]).copy()
        for step, g in enumerate(a["grads"]):
            opt.update([w], [K.asarray(g)])
            close(w, a["params"][step + 1], rtol=1e-9, atol=1e-10, what=f"after step {step + 1}")


@pytest.mark.parametrize("path", _cases("constraint"))
def test_maxnorm_matches_keras_axis_semantics(xp, path):
    config, a = _load(path)
    assert config["constraint"] == "MaxNorm"
    c = constraints.MaxNorm(**config["kwargs"])
    close(c(K.asarray(a["kernel"])), a["kernel_constrained"])


@pytest.mark.parametrize("path", _cases("model"))
def test_small_model_matches_keras(xp, path):
    config, a = _load(path)
    with K.floatx_scope("float64"):
        stack = []
        for i, spec in enumerate(config["layers"]):
            kwargs = dict(spec["kwargs"])
            if i == 0:
                kwargs["input_shape"] = a["x"].shape[1:]
            if spec["layer"] == "BatchNormalization":  # float64: tf.keras 2.15's non-fused path
                kwargs["unbiased_moving_variance"] = False
            stack.append(getattr(layers, spec["layer"])(**kwargs))
        model = minidl.models.Sequential(stack)
        model.compile("sgd", loss=config["loss"])
        model.set_weights(_weights(a))
        x, y = model._arrays(a["x"], a["y_true"], "test")
        close(model.predict(a["x"]), a["y_infer"], what="inference output")
        loss, y_pred, z = model._batch_loss(x, y, training=True)
        close(y_pred, a["y_train"], what="training output")
        close(loss, a["mean_loss"], what="mean loss")
        close(model._backprop(y, y_pred, z, need_input_grad=True), a["grad_x"], what="dL/dx")
        # grad_w{i} is indexed like get_weights(): the non-trainable statistics have none
        i = 0
        for layer in model.layers:
            for name in layer.named_weights:
                if name in layer.params:
                    close(layer.grads[name], a[f"grad_w{i}"], what=f"{layer.name}/{name}")
                else:
                    assert f"grad_w{i}" not in a
                i += 1
        assert sum(k.startswith("grad_w") for k in a) == sum(len(l.params) for l in model.layers)
        if "w_after0" in a:
            for got, expected in zip(model.get_weights(), _weights(a, "w_after")):
                close(got, expected, rtol=1e-6, what="weights after the training call")
