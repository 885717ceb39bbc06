"""Optimizers with Keras 2's update rules and defaults.

Every optimizer updates the weights in place on their device. All share
Keras's time decay of the learning rate,

    lr_t = lr / (1 + decay * iterations),

where ``iterations`` counts updates (batches) and is never reset between
epochs. ``lr`` is a plain attribute: ``model.optimizer.lr = 1e-4`` between two
``fit`` calls takes effect at the next update (study 000 does this).
``learning_rate=`` is accepted as the newer name of ``lr``.

After each update the weight's constraint (e.g. MaxNorm) is applied to the
new value, as Keras's optimizers do.
"""
import numpy as np

from . import backend as K
from . import kernels


class Optimizer:
    #: names of the per-weight state arrays (e.g. Adam's 'm', 'v')
    slots = ()

    def __init__(self, lr, decay=0.0, clipnorm=None, clipvalue=None, learning_rate=None,
                 **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kwargs)}")
        self.lr = float(lr if learning_rate is None else learning_rate)
        if self.lr < 0:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0, received {self.lr}")
        if decay < 0:
            raise ValueError(f"{type(self).__name__}: decay must be >= 0, received {decay}")
        self.decay = float(decay)
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.iterations = 0
        self.state = {}  # slot name -> {weight key: array}, e.g. state['m']['dense_1/kernel']

    @property
    def learning_rate(self):
        return self.lr

    @learning_rate.setter
    def learning_rate(self, value):
        self.lr = float(value)

    def current_lr(self):
        """The decayed learning rate of the next update."""
        return self.lr / (1.0 + self.decay * self.iterations) if self.decay else self.lr

    def _clip(self, grads):
        """Keras 2.2.4 get_gradients: clipnorm scales *all* gradients by one global norm."""
        xp = K.get_array_module(grads[0])
        if self.clipnorm is not None:
            norm = xp.sqrt(sum((g * g).sum() for g in grads))
            scale = self.clipnorm / xp.maximum(norm, self.clipnorm)  # on the device: no wait
            grads = [g * scale.astype(g.dtype) for g in grads]
        if self.clipvalue is not None:
            grads = [xp.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def update(self, weights, grads, constraints=None, keys=None):
        """One step: ``weights[i]`` updated in place from ``grads[i]``.

        keys: a name per weight ('dense_1/kernel'), under which its state
        (momentum, Adam's moments...) is kept; default: the positions.
        """
        keys = keys or [str(i) for i in range(len(weights))]
        if self.clipnorm is not None or self.clipvalue is not None:
            grads = self._clip(grads)
        lr_t = self.current_lr()
        for i, (key, w, g) in enumerate(zip(keys, weights, grads)):
            if g.shape != w.shape:
                raise ValueError(f"{type(self).__name__}.update: gradient of {key} has shape "
                                 f"{g.shape}, its weight {w.shape}")
            self._update_one(key, w, g, lr_t)
            c = constraints[i] if constraints else None
            if c is not None:
                w[...] = c(w)
        self.iterations += 1

    def _slot(self, slot, key, w):
        """The state array ``slot`` of weight ``key`` (zeros, like w, at first use)."""
        arrays = self.state.setdefault(slot, {})
        a = arrays.get(key)
        if a is None or a.shape != w.shape or a.dtype != w.dtype:
            a = arrays[key] = K.get_array_module(w).zeros_like(w)
        return a

    def _update_one(self, key, w, g, lr_t):
        raise NotImplementedError

    # ------------------------------------------------------------- saving
    def get_config(self):
        return {"lr": self.lr, "decay": self.decay, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue}

    def get_state(self):
        """{'iterations': int, slot: {key: NumPy array}} for saving."""
        return {"iterations": self.iterations,
                **{s: {k: K.to_numpy(a) for k, a in arrays.items()}
                   for s, arrays in self.state.items()}}

    def set_state(self, state):
        self.iterations = int(state.get("iterations", 0))
        self.state = {s: {k: K.asarray(a) for k, a in state[s].items()}
                      for s in self.slots if s in state}


class SGD(Optimizer):
    """v = momentum * v - lr_t * g;  w += v
    (Nesterov: w += momentum * v - lr_t * g). Keras 2.2.4 optimizers.py L171-206;
    defaults lr=0.01, momentum=0, decay=0, nesterov=False.
    """

    def __init__(self, lr=0.01, momentum=0.0, decay=0.0, nesterov=False, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        if momentum < 0:
            raise ValueError(f"SGD: momentum must be >= 0, received {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.slots = ("moments",) if self.momentum else ()

    def _update_one(self, key, w, g, lr_t):
        if not self.momentum:
            w -= lr_t * g
            return
        kernels.sgd_momentum_update(w, g, self._slot("moments", key, w), lr_t, self.momentum,
                                    self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    w -= lr_t m / (sqrt(v) + eps),  lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), t = iterations + 1.
    Keras 2.2.4 optimizers.py L458-503; epsilon 1e-7 = K.epsilon() of Keras >= 2.1.3
    (Keras <= 2.1.2 used 1e-8).
    """
    slots = ("m", "v")

    def __init__(self, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0,
                 amsgrad=False, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        if amsgrad:
            raise ValueError("Adam: amsgrad=True is not supported")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = K.epsilon() if epsilon is None else float(epsilon)

    def update(self, weights, grads, constraints=None, keys=None):
        t = self.iterations + 1
        self._bias_correction = np.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)
        super().update(weights, grads, constraints, keys)

    def _update_one(self, key, w, g, lr_t):
        kernels.adam_update(w, g, self._slot("m", key, w), self._slot("v", key, w),
                            lr_t * self._bias_correction, self.beta_1, self.beta_2, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """a = rho a + (1 - rho) g^2;  w -= lr_t g / (sqrt(a) + eps).
    Defaults lr=0.001, rho=0.9, epsilon=1e-7 as Keras 2.2.4.
    """
    slots = ("accumulators",)

    def __init__(self, lr=0.001, rho=0.9, epsilon=1e-7, decay=0.0, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        self.rho = float(rho)
        self.epsilon = K.epsilon() if epsilon is None else float(epsilon)

    def _update_one(self, key, w, g, lr_t):
        xp = K.get_array_module(w)
        a = self._slot("accumulators", key, w)
        a *= self.rho
        a += (1.0 - self.rho) * (g * g)
        w -= lr_t * g / (xp.sqrt(a) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """a = rho a + (1 - rho) g^2;  u = g sqrt(d + eps) / sqrt(a + eps);
    w -= lr_t u;  d = rho d + (1 - rho) u^2.
    Defaults lr=1.0, rho=0.95, epsilon=1e-7 as Keras 2.1.3-2.3.1 (Keras <= 2.1.2
    used 1e-8; tf.keras changed lr to 0.001, which trains study 001 to ~84%).
    """
    slots = ("accumulators", "delta_accumulators")

    def __init__(self, lr=1.0, rho=0.95, epsilon=1e-7, decay=0.0, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        self.rho = float(rho)
        self.epsilon = K.epsilon() if epsilon is None else float(epsilon)

    def _update_one(self, key, w, g, lr_t):
        kernels.adadelta_update(w, g, self._slot("accumulators", key, w),
                                self._slot("delta_accumulators", key, w), lr_t, self.rho,
                                self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


_CLASSES = {"SGD": SGD, "Adam": Adam, "RMSprop": RMSprop, "Adadelta": Adadelta}
_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adadelta": Adadelta}


def get(identifier):
    """An optimizer from a name ('sgd', 'SGD', 'adam', ...) or an Optimizer."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(
        f"optimizer: unknown optimizer {identifier!r}; valid names are "
        f"{sorted(_CLASSES)} (any case) or an Optimizer object")


def serialize(opt):
    return {"class_name": type(opt).__name__, "config": opt.get_config()}


def deserialize(config):
    cls = _CLASSES.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"optimizer: cannot rebuild {config.get('class_name')!r}")
    return cls(**config.get("config", {}))
