"""Optimizers with Keras 2's update rules and defaults (Keras 2.2.4 keras/optimizers.py).

Every optimizer updates the weights in place on their device. All but Nadam
share Keras's time decay of the learning rate,

    lr_t = lr / (1 + decay * iterations),

where ``iterations`` counts updates (batches) and is never reset between
epochs. ``lr`` is a plain attribute: ``model.optimizer.lr = 1e-4`` between two
``fit`` calls takes effect at the next update (study 000 does this).
``learning_rate=`` is accepted as the newer name of ``lr``.

Gradients are clipped first, as Keras 2.2.4's get_gradients does: with
``clipnorm=c`` all gradients are scaled together by c / max(global norm, c);
with ``clipvalue=v`` each is clipped to [-v, v] (0 or None: off). (tf.keras's
legacy optimizers clip each tensor by its own norm instead.)

After each update the weight's constraint (e.g. MaxNorm) is applied to the
new value, as Keras's optimizers do. Every scalar of an update rule is cast
to the weight's dtype first, so a float32 step makes no float64 temporaries.

The lowercase names (``minidl.optimizers.adam``) are the classes, as in
Keras 2.
"""
import math

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
        for name, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue)):
            if value is not None and not value >= 0:
                raise ValueError(f"{type(self).__name__}: {name} must be >= 0 or None, "
                                 f"received {value!r}")
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
        if self.clipnorm:  # Keras: only when > 0
            norm = xp.sqrt(sum((g * g).sum() for g in grads))
            scale = self.clipnorm / xp.maximum(norm, self.clipnorm)  # on the device: no wait
            grads = [g * scale.astype(g.dtype) for g in grads]
        if self.clipvalue:
            grads = [xp.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def update(self, weights, grads, constraints=None, keys=None):
        """One step: ``weights[i]`` updated in place from ``grads[i]``.

        keys: a name per weight ('dense_1/kernel'), under which its state
        (momentum, Adam's moments...) is kept; default: the positions.
        """
        keys = keys or [str(i) for i in range(len(weights))]
        if self.clipnorm or self.clipvalue:
            grads = self._clip(grads)
        lr_t = self.current_lr()
        self._prepare_step(self.iterations + 1)
        for i, (key, w, g) in enumerate(zip(keys, weights, grads)):
            if g.shape != w.shape:
                raise ValueError(f"{type(self).__name__}.update: gradient of {key} has shape "
                                 f"{g.shape}, its weight {w.shape}")
            self._update_one(key, w, g, lr_t)
            c = constraints[i] if constraints else None
            if c is not None:
                w[...] = c(w)
        self.iterations += 1

    def _prepare_step(self, t):
        """Per-step scalars shared by all weights (t = iterations + 1, Keras's t)."""

    def _slot(self, slot, key, w, fill=0.0):
        """The state array ``slot`` of weight ``key`` (``fill``, like w, at first use)."""
        arrays = self.state.setdefault(slot, {})
        a = arrays.get(key)
        if a is None or a.shape != w.shape or a.dtype != w.dtype:
            a = arrays[key] = K.get_array_module(w).zeros_like(w)
            if fill:
                a += w.dtype.type(fill)
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


def _epsilon(epsilon):
    """Keras 2.1.3+: epsilon=None means K.epsilon() (1e-7), read when the optimizer is made."""
    return K.epsilon() if epsilon is None else float(epsilon)


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
        t = w.dtype.type
        if not self.momentum:
            w -= t(lr_t) * g
            return
        kernels.sgd_momentum_update(w, g, self._slot("moments", key, w), t(lr_t), t(self.momentum),
                                    self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    w -= lr_t m / (sqrt(v) + eps),  lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), t = iterations + 1.
    AMSGrad (amsgrad=True): vhat = max(vhat, v) and sqrt(vhat) in place of sqrt(v).
    Keras 2.2.4 optimizers.py L458-503; epsilon 1e-7 = K.epsilon() of Keras >= 2.1.3
    (Keras <= 2.1.2 used 1e-8).
    """

    def __init__(self, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=0.0,
                 amsgrad=False, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = _epsilon(epsilon)
        self.amsgrad = bool(amsgrad)
        self.slots = ("m", "v", "vhat") if self.amsgrad else ("m", "v")

    def _prepare_step(self, t):
        self._bias_correction = math.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)

    def _update_one(self, key, w, g, lr_t):
        t = w.dtype.type
        m, v = self._slot("m", key, w), self._slot("v", key, w)
        step = t(lr_t * self._bias_correction)
        if not self.amsgrad:
            kernels.adam_update(w, g, m, v, step, t(self.beta_1), t(self.beta_2), t(self.epsilon))
            return
        xp = K.get_array_module(w)
        m *= t(self.beta_1)
        m += t(1.0 - self.beta_1) * g
        v *= t(self.beta_2)
        v += t(1.0 - self.beta_2) * (g * g)
        vhat = self._slot("vhat", key, w)
        xp.maximum(vhat, v, out=vhat)
        w -= step * m / (xp.sqrt(vhat) + t(self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class RMSprop(Optimizer):
    """a = rho a + (1 - rho) g^2;  w -= lr_t g / (sqrt(a) + eps).
    Defaults lr=0.001, rho=0.9, epsilon=1e-7 as Keras 2.2.4.
    """
    slots = ("accumulators",)

    def __init__(self, lr=0.001, rho=0.9, epsilon=1e-7, decay=0.0, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        self.rho = float(rho)
        self.epsilon = _epsilon(epsilon)

    def _update_one(self, key, w, g, lr_t):
        xp, t = K.get_array_module(w), w.dtype.type
        a = self._slot("accumulators", key, w)
        a *= t(self.rho)
        a += t(1.0 - self.rho) * (g * g)
        w -= t(lr_t) * g / (xp.sqrt(a) + t(self.epsilon))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adagrad(Optimizer):
    """a += g^2;  w -= lr_t g / (sqrt(a) + eps).
    Keras 2.2.4 optimizers.py class Adagrad: lr=0.01, epsilon=None -> K.epsilon(),
    decay=0, accumulators starting at 0. ``initial_accumulator_value`` is
    tf.keras's argument (its default there is 0.1, and its lr 0.001).
    """
    slots = ("accumulators",)

    def __init__(self, lr=0.01, epsilon=None, decay=0.0, initial_accumulator_value=0.0,
                 **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        self.epsilon = _epsilon(epsilon)
        if initial_accumulator_value < 0:
            raise ValueError(f"Adagrad: initial_accumulator_value must be >= 0, received "
                             f"{initial_accumulator_value}")
        self.initial_accumulator_value = float(initial_accumulator_value)

    def _update_one(self, key, w, g, lr_t):
        xp, t = K.get_array_module(w), w.dtype.type
        a = self._slot("accumulators", key, w, fill=self.initial_accumulator_value)
        a += g * g
        w -= t(lr_t) * g / (xp.sqrt(a) + t(self.epsilon))

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon,
                "initial_accumulator_value": self.initial_accumulator_value}


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
        self.epsilon = _epsilon(epsilon)

    def _update_one(self, key, w, g, lr_t):
        t = w.dtype.type
        kernels.adadelta_update(w, g, self._slot("accumulators", key, w),
                                self._slot("delta_accumulators", key, w), t(lr_t), t(self.rho),
                                t(self.epsilon))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """m = b1 m + (1 - b1) g;  u = max(b2 u, |g|);
    w -= lr_t m / (u + eps),  lr_t = lr / (1 - b1^t), t = iterations + 1.
    Keras 2.2.4 optimizers.py class Adamax: lr=0.002, beta_1=0.9, beta_2=0.999,
    epsilon=None -> K.epsilon(), decay=0 (tf.keras's lr is 0.001).
    """
    slots = ("m", "u")

    def __init__(self, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = _epsilon(epsilon)

    def _prepare_step(self, t):
        self._bias_correction = 1.0 / (1.0 - self.beta_1 ** t)

    def _update_one(self, key, w, g, lr_t):
        xp, t = K.get_array_module(w), w.dtype.type
        m, u = self._slot("m", key, w), self._slot("u", key, w)
        m *= t(self.beta_1)
        m += t(1.0 - self.beta_1) * g
        u *= t(self.beta_2)
        xp.maximum(u, xp.abs(g), out=u)
        w -= t(lr_t * self._bias_correction) * m / (u + t(self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Adam with Nesterov momentum and a warming momentum schedule (Keras 2.2.4
    optimizers.py class Nadam; lr=0.002, beta_1=0.9, beta_2=0.999,
    epsilon=None -> K.epsilon(), schedule_decay=0.004). With t = iterations + 1,

        mu_t = b1 (1 - 0.5 * 0.96^(t * schedule_decay)),   M_t = mu_1 ... mu_t
        m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
        m_bar = (1 - mu_t) g / (1 - M_t) + mu_{t+1} m / (1 - M_t mu_{t+1})
        w -= lr m_bar / (sqrt(v / (1 - b2^t)) + eps)

    M_t is Keras's m_schedule; minidl recomputes it from ``iterations``, so
    saved optimizer state needs nothing more. No Keras 2 version applies a
    learning-rate decay to Nadam (2.2.4 and 2.3.1 reject decay=, tf.keras's
    legacy Nadam reads it as schedule_decay), so decay must stay 0. tf.keras's
    defaults differ: lr=0.001.
    """
    slots = ("m", "v")

    def __init__(self, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=None, schedule_decay=0.004,
                 decay=0.0, **kwargs):
        if decay:
            raise ValueError(
                f"Nadam: decay={decay!r} is not supported; Keras 2's Nadam has no learning-rate "
                f"decay (its momentum schedule is schedule_decay=0.004); use a "
                f"LearningRateScheduler callback to lower lr")
        super().__init__(lr, **kwargs)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = _epsilon(epsilon)
        self.schedule_decay = float(schedule_decay)
        self._m_schedule = (0, 1.0)  # (steps taken, M after them)

    def _momentum(self, t):
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** (t * self.schedule_decay))

    def _prepare_step(self, t):
        steps, m_schedule = self._m_schedule
        if steps != t - 1:  # iterations was restored or reset: recompute the product
            steps, m_schedule = 0, 1.0
        for i in range(steps + 1, t):
            m_schedule *= self._momentum(i)
        mu_t, mu_next = self._momentum(t), self._momentum(t + 1)
        m_schedule_new = m_schedule * mu_t
        self._m_schedule = (t, m_schedule_new)
        # m_bar = c_g g + c_m m, and sqrt(v / (1 - b2^t)) = sqrt(v) * c_v
        self._coefficients = ((1.0 - mu_t) / (1.0 - m_schedule_new),
                              mu_next / (1.0 - m_schedule_new * mu_next),
                              1.0 / math.sqrt(1.0 - self.beta_2 ** t))

    def _update_one(self, key, w, g, lr_t):
        xp, t = K.get_array_module(w), w.dtype.type
        c_g, c_m, c_v = self._coefficients
        m, v = self._slot("m", key, w), self._slot("v", key, w)
        m *= t(self.beta_1)
        m += t(1.0 - self.beta_1) * g
        v *= t(self.beta_2)
        v += t(1.0 - self.beta_2) * (g * g)
        m_bar = t(c_g) * g
        m_bar += t(c_m) * m
        w -= t(lr_t) * m_bar / (xp.sqrt(v) * t(c_v) + t(self.epsilon))

    def get_config(self):
        config = {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                  "epsilon": self.epsilon, "schedule_decay": self.schedule_decay}
        del config["decay"]
        return config


_CLASSES = {cls.__name__: cls for cls in (SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam)}
_BY_NAME = {name.lower(): cls for name, cls in _CLASSES.items()}

# Keras 2's lowercase aliases (keras/optimizers.py): the classes themselves
sgd, rmsprop, adagrad, adadelta, adam, adamax, nadam = SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam


def get(identifier):
    """An optimizer from a name ('sgd', 'SGD', 'adam', ...), a dict from ``serialize``,
    an Optimizer, or an Optimizer class."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(
        f"optimizer: unknown optimizer {identifier!r}; valid names are "
        f"{sorted(_CLASSES)} (any case) or an Optimizer object")


def serialize(opt):
    return {"class_name": type(opt).__name__, "config": opt.get_config()}


def deserialize(config):
    cls = _BY_NAME.get(str(config.get("class_name")).lower())
    if cls is None:
        raise ValueError(f"optimizer: cannot rebuild {config.get('class_name')!r}")
    return cls(**config.get("config", {}))
