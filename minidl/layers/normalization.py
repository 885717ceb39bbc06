"""BatchNormalization: normalize each channel with batch statistics."""
from .. import backend as K
from .. import constraints, kernels
from .base import Layer, number


class BatchNormalization(Layer):
    """y = gamma * x_hat + beta, x_hat = (x - mean) / sqrt(var + epsilon)

    Statistics are per channel (``axis``, the last one by default), taken over
    every other axis: (N,) after Dense, (N, H, W) after Conv2D.
    training:  mean and *biased* var of the batch; the moving averages move
               toward them, moving = momentum * moving + (1 - momentum) * batch.
    inference: the moving averages instead.

    Weights, in Keras order: gamma, beta (trainable), moving_mean,
    moving_variance (non-trainable, counted so by ``summary()``).
    Defaults axis=-1, momentum=0.99, epsilon=1e-3 as Keras 2.2.4
    normalization.py.

    Keras versions differ in how the moving variance is updated. The default
    is Keras 2.2/2.3's own layer, which rescales the batch variance by
    n / (n - (1 + eps)) before averaging ("sample variance - unbiased
    estimator of population variance", keras/layers/normalization.py from
    2.1.4 to 2.3.1): ``unbiased_moving_variance=True``. Keras 2.1.3-2.2.x also
    kept TensorFlow's zero-debiased average, moving = biased / (1 - momentum^t)
    (``zero_debias=True``; 2.3.x averages plainly). Keras 2.0.x and tf.keras's
    non-fused path average the biased variance: ``unbiased_moving_variance=False``.

    ``synchronized=True`` (tf.keras 2.12+ batch_normalization.py, default False):
    when several processes train together (minidl.distributed), the batch
    statistics are those of the global batch, over every process's slice,
    with the backward pass to match; the model then trains as one process on
    the global batch would. ``minidl.distributed.init(synchronized_batchnorm=True)``
    turns it on for every layer. With one process it changes nothing.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_constraint=None, gamma_constraint=None,
                 unbiased_moving_variance=True,  # Keras 2.1.4-2.3.1 normalization.py
                 zero_debias=False,  # Keras 2.3.x; 2.1.3-2.2.x: True
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        if not isinstance(axis, int):
            raise TypeError(f"{cls}: axis must be an int, received {axis!r}")
        momentum, epsilon = number(momentum, f"{cls}: momentum"), number(epsilon, f"{cls}: epsilon")
        if not 0 <= momentum <= 1:
            raise ValueError(f"{cls}: momentum must be in [0, 1], received {momentum}")
        if epsilon <= 0:
            raise ValueError(f"{cls}: epsilon must be positive, received {epsilon}")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.initializers = {"gamma": gamma_initializer, "beta": beta_initializer,
                             "moving_mean": moving_mean_initializer,
                             "moving_variance": moving_variance_initializer}
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.unbiased_moving_variance = bool(unbiased_moving_variance)
        self.zero_debias = bool(zero_debias)
        self.synchronized = bool(synchronized)
        self.x_hat = self.inv_std = None
        self._global_count = None  # synchronized: rows per channel over all processes, (C,)
        self._biased = None  # zero_debias accumulators: {'mean', 'variance', 'steps'}

    def build(self, input_shape):
        ndim = len(input_shape) + 1
        axis = self.axis % ndim
        if axis == 0:
            raise ValueError(f"{self.name}: axis {self.axis} is the batch axis")
        self._channel_axis = axis
        self._reduce_axes = tuple(a for a in range(ndim) if a != axis)
        self._param_shape = tuple(input_shape[axis - 1] if a == axis else 1 for a in range(ndim))
        c = (input_shape[axis - 1],)
        if self.scale:
            self.add_weight("gamma", c, self.initializers["gamma"], constraint=self.gamma_constraint)
        if self.center:
            self.add_weight("beta", c, self.initializers["beta"], constraint=self.beta_constraint)
        self.add_weight("moving_mean", c, self.initializers["moving_mean"], trainable=False)
        self.add_weight("moving_variance", c, self.initializers["moving_variance"], trainable=False)
        super().build(input_shape)

    def _bcast(self, v):
        """(C,) -> shape broadcasting along the channel axis."""
        return v.reshape(self._param_shape)

    def _gamma_beta(self, dtype):
        """gamma and beta, or ones / zeros where scale / center is off (on the
        weights' device: the layer's input lives there too)."""
        xp = K.get_array_module(self.state["moving_mean"])
        c = self.state["moving_mean"].shape
        gamma = self.params["gamma"] if self.scale else xp.ones(c, dtype=dtype)
        beta = self.params["beta"] if self.center else xp.zeros(c, dtype=dtype)
        return gamma, beta

    def _rows(self, a):
        """(..., C, ...) -> (M, C) with the channel axis last (a view when it already is)."""
        xp = K.get_array_module(a)
        if self._channel_axis != a.ndim - 1:
            a = xp.ascontiguousarray(xp.moveaxis(a, self._channel_axis, -1))
        return a.reshape(-1, a.shape[-1])

    def _unrows(self, a2, shape):
        """Inverse of _rows for an array of the input's ``shape``."""
        xp = K.get_array_module(a2)
        if self._channel_axis == len(shape) - 1:
            return a2.reshape(shape)
        moved = tuple(d for i, d in enumerate(shape) if i != self._channel_axis) + (
            shape[self._channel_axis],)
        return xp.moveaxis(a2.reshape(moved), -1, self._channel_axis)

    def forward(self, x, training=False):
        self._check_input(x)
        xp = K.get_array_module(x)
        gamma, beta = self._gamma_beta(x.dtype)
        if not training:
            # fold the four vectors into one scale and shift: one pass over x
            a = gamma / xp.sqrt(self.state["moving_variance"] + self.epsilon)
            b = beta - self.state["moving_mean"] * a
            return x * self._bcast(a) + self._bcast(b)
        comm = self._synchronized_now()
        if comm:
            return self._forward_synchronized(x, gamma, beta, comm)
        y, x_hat, mean, var, inv_std = kernels.batchnorm_forward(self._rows(x), gamma, beta,
                                                                 self.epsilon)
        self.x_hat, self.inv_std = x_hat, inv_std           # x_hat: (M, C)
        self._update_moving(mean, var, x_hat.shape[0])
        return self._unrows(y, x.shape)

    # ---------------------------------------------- synchronized (minidl.distributed)
    def _synchronized_now(self):
        """The communicator to take statistics over, when this layer synchronizes
        and several processes train (else None: the single-process path)."""
        from .. import distributed
        comm = distributed._active_comm()
        if comm is None or not (self.synchronized or distributed.synchronized_batchnorm()):
            return None
        return comm

    def _forward_synchronized(self, x, gamma, beta, comm):
        """Statistics of the global batch from each process's (count, mean, M2),
        combined in rank order (Chan et al.'s pairwise formula), so every
        process gets the same bits and uneven or empty slices count exactly:
        mean = sum_r n_r mean_r / n,  var = sum_r (M2_r + n_r (mean_r - mean)^2) / n."""
        xp = K.get_array_module(x)
        rows = self._rows(x)                                  # (m, C); m may be 0
        m, c = rows.shape
        mean_r = rows.sum(axis=0) / max(m, 1)
        dev = rows - mean_r
        local = xp.stack([xp.full(c, m, dtype=rows.dtype), mean_r, (dev * dev).sum(axis=0)])
        every = comm.allgather(local)                         # (R, 3, C), rank order
        counts, means, m2 = every[:, 0], every[:, 1], every[:, 2]
        n = counts.sum(axis=0)
        mean = (counts * means).sum(axis=0) / n
        var = (m2 + counts * (means - mean) ** 2).sum(axis=0) / n
        inv_std = 1.0 / xp.sqrt(var + self.epsilon)
        x_hat = (rows - mean) * inv_std
        self.x_hat, self.inv_std = x_hat, inv_std
        self._global_count = n                                # (C,), all equal; on the device
        self._update_moving(mean, var, n)
        return self._unrows(x_hat * gamma + beta, x.shape)

    def _backward_synchronized(self, grad_out, gamma, comm, need_input_grad):
        """dbeta = sum g, dgamma = sum g x_hat over *all* processes (one allreduce of
        the two local sums); each process keeps its local sums as its share of
        dgamma, dbeta (the model's gradient allreduce adds the shares), and
        dx = gamma inv_std / n (n g - dbeta - x_hat dgamma) with the global n and sums."""
        xp = K.get_array_module(grad_out)
        g = self._rows(grad_out)
        sums = xp.stack([g.sum(axis=0), (g * self.x_hat).sum(axis=0)])   # (2, C)
        if self.center:
            self.grads["beta"] = sums[0].copy()
        if self.scale:
            self.grads["gamma"] = sums[1].copy()
        comm.allreduce(sums)
        if not need_input_grad:
            return None
        n = self._global_count
        dx = (g * n - sums[0] - self.x_hat * sums[1]) * (gamma * self.inv_std / n)
        return self._unrows(dx, grad_out.shape)

    def _update_moving(self, mean, var, count):
        if self.unbiased_moving_variance:
            var = var * (count / (count - (1.0 + self.epsilon)))
        m = self.momentum
        if not self.zero_debias:
            for name, batch in (("moving_mean", mean), ("moving_variance", var)):
                moving = self.state[name]
                moving *= m
                moving += (1.0 - m) * batch
            return
        if self._biased is None:
            xp = K.get_array_module(mean)
            self._biased = {"mean": xp.zeros_like(mean), "variance": xp.zeros_like(var), "steps": 0}
        self._biased["steps"] += 1
        correction = 1.0 - m ** self._biased["steps"]
        for key, batch in (("mean", mean), ("variance", var)):
            acc = self._biased[key]
            acc *= m
            acc += (1.0 - m) * batch
            self.state["moving_" + key][...] = acc / correction

    def backward(self, grad_out, need_input_grad=True):
        """With M values per channel and sums over them:
        dgamma = sum(g x_hat),  dbeta = sum(g),
        dx = gamma inv_std / M * (M g - dbeta - x_hat dgamma)
        """
        if self.x_hat is None:
            raise self._missing_cache()
        gamma, _ = self._gamma_beta(grad_out.dtype)
        comm = self._synchronized_now()
        if comm:
            return self._backward_synchronized(grad_out, gamma, comm, need_input_grad)
        dx, dgamma, dbeta = kernels.batchnorm_backward(self._rows(grad_out), self.x_hat, gamma,
                                                       self.inv_std)
        if self.scale:
            self.grads["gamma"] = dgamma
        if self.center:
            self.grads["beta"] = dbeta
        if not need_input_grad:
            return None
        return self._unrows(dx, grad_out.shape)

    def _extra_arrays(self):
        if self._biased is None:
            return {}
        return {"biased_mean": K.to_numpy(self._biased["mean"]),
                "biased_variance": K.to_numpy(self._biased["variance"]),
                "biased_steps": K.to_numpy(K.asarray(self._biased["steps"]))}

    def _load_extra_arrays(self, arrays):
        if "biased_mean" in arrays:
            self._biased = {"mean": K.asarray(arrays["biased_mean"]),
                            "variance": K.asarray(arrays["biased_variance"]),
                            "steps": int(arrays["biased_steps"])}

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "unbiased_moving_variance": self.unbiased_moving_variance,
                "zero_debias": self.zero_debias,
                **({"synchronized": True} if self.synchronized else {})}
