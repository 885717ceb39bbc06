"""Activation functions: y = f(z) and its backward, dL/dz = f'(z) * dL/dy.

Most backwards are written in terms of the output y, which the layer keeps
anyway, so no pre-activation has to be stored. Where f'(z) is not a
function of y (swish, gelu; relu with a negative threshold or slope, elu
with a negative alpha) the activation says ``needs_input = True``: the layer
then keeps z as well and passes it, ``backward(grad_y, y, z)``. Others get
``z=None`` and never look at it, so relu and softmax keep nothing extra.

``forward(z, out=None)``: pass ``out=z`` to overwrite a fresh pre-activation
in place (Dense and Conv2D do; it saves a pass over memory). ``backward``
may overwrite ``grad_y`` (ReLU does): a gradient is consumed once.

Each activation is also a function, as in Keras: ``activations.selu(x)``,
``activations.relu(x, alpha=0.1, max_value=6.)`` (keyword arguments make a
configured copy, ``ReLU(alpha=0.1)``). These classes are activation
functions; the layers ``minidl.layers.ReLU``, ``layers.Softmax``,
``layers.LeakyReLU`` and ``layers.ELU`` wrap them.

Formulas and defaults as Keras 2.2.4 activations.py and backend relu/elu/
hard_sigmoid; swish and gelu as tf.keras 2.15 (gelu exact by default).
"""
import math

from . import kernels
from .backend import get_array_module


class Activation:
    name = None
    needs_input = False  # True: backward needs z, not only y

    def forward(self, z, out=None):
        raise NotImplementedError

    def backward(self, grad_y, y, z=None):
        raise NotImplementedError

    def get_config(self):
        """The settings that distinguish this activation from its default."""
        return {}

    def __call__(self, z, *args, **kwargs):
        """f(z); extra arguments configure a copy: ``relu(x, alpha=0.1)``."""
        act = type(self)(*args, **kwargs) if (args or kwargs) else self
        return act.forward(z)

    def __repr__(self):
        config = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"<activation {self.name}{'(' + config + ')' if config else ''}>"


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"activation {what}: expected a number, received {value!r}")
    return float(value)


def _as(mask, like):
    """A boolean mask as 0/1 in ``like``'s dtype (float32 stays float32)."""
    return mask.astype(like.dtype)


class Linear(Activation):
    name = "linear"

    def forward(self, z, out=None):
        return z

    def backward(self, grad_y, y, z=None):
        """dL/dz = dL/dy"""
        return grad_y


class ReLU(Activation):
    """max(z, 0); configured as Keras 2.2.4 backend.relu:

        y = z for z > threshold (then clipped to [0, max_value] if given),
        y = alpha * (z - threshold) otherwise.
    """
    name = "relu"

    def __init__(self, alpha=0.0, max_value=None, threshold=0.0):
        self.alpha = _number(alpha, "relu: alpha")
        self.max_value = None if max_value is None else _number(max_value, "relu: max_value")
        self.threshold = _number(threshold, "relu: threshold")
        self._plain = (self.alpha, self.max_value, self.threshold) == (0.0, None, 0.0)
        # With threshold >= 0, alpha >= 0 and max_value > 0, y > 0 exactly where
        # z > threshold, so y tells the pieces apart; otherwise backward reads z.
        self.needs_input = self.threshold < 0 or self.alpha < 0 or self.max_value == 0

    def get_config(self):
        return {} if self._plain else {"alpha": self.alpha, "max_value": self.max_value,
                                       "threshold": self.threshold}

    def forward(self, z, out=None):
        xp = get_array_module(z)
        if self._plain:
            if out is z:
                return kernels.relu_forward_inplace(z)
            return xp.maximum(z, 0, out=out)
        y = z * _as(z > self.threshold, z)
        if self.max_value is not None:
            y = xp.clip(y, 0, self.max_value, out=y)
        if self.alpha:
            y += self.alpha * xp.minimum(z - self.threshold, 0)
        if out is not None:
            out[...] = y
            return out
        return y

    def backward(self, grad_y, y, z=None):
        """dL/dz = dL/dy * (1 on the linear part, 0 where clipped, alpha below threshold)"""
        if self._plain:
            return kernels.relu_backward_inplace(grad_y, y)
        if z is not None:
            above = z > self.threshold
            linear = above & (z >= 0) if self.max_value is not None else above
            if self.max_value is not None:
                linear &= z < self.max_value
        else:
            above = y > 0
            linear = above & (y < self.max_value) if self.max_value is not None else above
        slope = _as(linear, grad_y)
        if self.alpha:
            slope += self.alpha * _as(~above, grad_y)
        return grad_y * slope


class Sigmoid(Activation):
    name = "sigmoid"

    def forward(self, z, out=None):
        # 1/(1+e^-z) written through tanh: no overflow for large |z|
        xp = get_array_module(z)
        y = xp.multiply(z, 0.5, out=out)
        xp.tanh(y, out=y)
        y += 1
        y *= 0.5
        return y

    def backward(self, grad_y, y, z=None):
        """dL/dz = dL/dy * y (1 - y)"""
        return grad_y * y * (1 - y)


class HardSigmoid(Activation):
    """clip(0.2 z + 0.5, 0, 1): Keras 2.2.4 backend.hard_sigmoid (Keras 3 changed the slope)."""
    name = "hard_sigmoid"

    def forward(self, z, out=None):
        xp = get_array_module(z)
        y = xp.multiply(z, 0.2, out=out)
        y += 0.5
        return xp.clip(y, 0, 1, out=y)

    def backward(self, grad_y, y, z=None):
        """dL/dz = dL/dy * 0.2 where 0 < y < 1, else 0"""
        return grad_y * (0.2 * _as((y > 0) & (y < 1), grad_y))


class Tanh(Activation):
    name = "tanh"

    def forward(self, z, out=None):
        return get_array_module(z).tanh(z, out=out)

    def backward(self, grad_y, y, z=None):
        """dL/dz = dL/dy * (1 - y^2)"""
        return grad_y * (1 - y * y)


class Softmax(Activation):
    """exp(z - max z) / sum over ``axis`` (default the last): no overflow."""

    def __init__(self, axis=-1):
        if isinstance(axis, (list, tuple)):
            axis = tuple(int(a) for a in axis)
        elif isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"activation softmax: axis must be an int, received {axis!r}")
        self.axis = axis

    @property
    def name(self):
        # Only a last-axis softmax may meet cross-entropy on the model's fused path.
        return "softmax" if self.axis == -1 else f"softmax(axis={self.axis})"

    def get_config(self):
        return {} if self.axis == -1 else {"axis": self.axis}

    def forward(self, z, out=None):
        xp = get_array_module(z)
        y = xp.subtract(z, z.max(axis=self.axis, keepdims=True), out=out)
        xp.exp(y, out=y)
        y /= y.sum(axis=self.axis, keepdims=True)
        return y

    def backward(self, grad_y, y, z=None):
        """dL/dz_i = y_i (dL/dy_i - sum_j dL/dy_j y_j)

        Followed by cross-entropy this collapses to (y - t) / N, which the
        model uses directly instead (see models.Sequential).
        """
        return y * (grad_y - (grad_y * y).sum(axis=self.axis, keepdims=True))


class ELU(Activation):
    """z for z > 0, alpha (e^z - 1) otherwise (Keras 2.2.4 backend.elu)."""
    name = "elu"

    def __init__(self, alpha=1.0):
        self.alpha = _number(alpha, "elu: alpha")
        self.needs_input = self.alpha < 0  # then y > 0 no longer means z > 0

    def get_config(self):
        return {} if self.alpha == 1.0 else {"alpha": self.alpha}

    def forward(self, z, out=None):
        xp = get_array_module(z)
        y = xp.where(z > 0, z, self.alpha * xp.expm1(xp.minimum(z, 0)))
        if out is not None:
            out[...] = y
            return out
        return y

    def backward(self, grad_y, y, z=None):
        """dL/dz = dL/dy * (1 if z > 0 else alpha e^z = y + alpha)"""
        positive = (z if z is not None else y) > 0
        xp = get_array_module(grad_y)
        return grad_y * xp.where(positive, 1.0, y + self.alpha)


class SELU(Activation):
    """scale * elu(z, alpha) with Keras 2.2.4's constants (self-normalizing nets;
    use with kernel_initializer='lecun_normal')."""
    name = "selu"
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946

    def forward(self, z, out=None):
        xp = get_array_module(z)
        y = xp.where(z > 0, z, self.alpha * xp.expm1(xp.minimum(z, 0)))
        y *= self.scale
        if out is not None:
            out[...] = y
            return out
        return y

    def backward(self, grad_y, y, z=None):
        """dL/dz = dL/dy * (scale if y > 0 else scale alpha e^z = y + scale alpha)"""
        xp = get_array_module(grad_y)
        return grad_y * xp.where(y > 0, self.scale, y + self.scale * self.alpha)


class Softplus(Activation):
    """log(1 + e^z), as max(z, 0) + log1p(e^-|z|): no overflow."""
    name = "softplus"

    def forward(self, z, out=None):
        xp = get_array_module(z)
        y = xp.log1p(xp.exp(-xp.abs(z)))
        return xp.add(y, xp.maximum(z, 0), out=out)

    def backward(self, grad_y, y, z=None):
        """dL/dz = dL/dy * sigmoid(z) = dL/dy * (1 - e^-y)"""
        return grad_y * -get_array_module(y).expm1(-y)


class Softsign(Activation):
    """z / (1 + |z|)"""
    name = "softsign"

    def forward(self, z, out=None):
        xp = get_array_module(z)
        denominator = xp.abs(z)
        denominator += 1
        return xp.divide(z, denominator, out=out)

    def backward(self, grad_y, y, z=None):
        """dL/dz = dL/dy / (1 + |z|)^2 = dL/dy * (1 - |y|)^2"""
        s = 1 - get_array_module(y).abs(y)
        return grad_y * (s * s)


class Exponential(Activation):
    name = "exponential"

    def forward(self, z, out=None):
        return get_array_module(z).exp(z, out=out)

    def backward(self, grad_y, y, z=None):
        """dL/dz = dL/dy * y"""
        return grad_y * y


def _sigmoid(z):
    s = get_array_module(z).tanh(z * 0.5)
    s += 1
    s *= 0.5
    return s


class Swish(Activation):
    """z * sigmoid(z) (tf.keras 2.15 swish, beta = 1)."""
    name = "swish"
    needs_input = True

    def forward(self, z, out=None):
        return get_array_module(z).multiply(z, _sigmoid(z), out=out)

    def backward(self, grad_y, y, z=None):
        """dL/dz = dL/dy * s (1 + z (1 - s)),  s = sigmoid(z)"""
        s = _sigmoid(z)
        return grad_y * (s * (1 + z * (1 - s)))


class GELU(Activation):
    """z * Phi(z), Phi the standard normal CDF (tf.keras 2.15 gelu, exact by
    default); ``approximate=True``: 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))."""
    name = "gelu"
    needs_input = True
    _C = math.sqrt(2 / math.pi)

    def __init__(self, approximate=False):
        if not isinstance(approximate, bool):
            raise TypeError(f"activation gelu: approximate must be True or False, "
                            f"received {approximate!r}")
        self.approximate = approximate

    def get_config(self):
        return {"approximate": True} if self.approximate else {}

    def forward(self, z, out=None):
        if self.approximate:
            t = get_array_module(z).tanh(self._C * (z + 0.044715 * z * z * z))
            t += 1
            t *= 0.5
            return get_array_module(z).multiply(z, t, out=out)
        return get_array_module(z).multiply(z, _normal_cdf(z), out=out)

    def backward(self, grad_y, y, z=None):
        """exact: dL/dz = dL/dy * (Phi(z) + z phi(z)),  phi(z) = e^(-z^2/2) / sqrt(2 pi);
        approximate: d/dz of the tanh form."""
        xp = get_array_module(z)
        if self.approximate:
            t = xp.tanh(self._C * (z + 0.044715 * z * z * z))
            inner = self._C * (1 + 3 * 0.044715 * z * z)
            return grad_y * (0.5 * (1 + t) + 0.5 * z * (1 - t * t) * inner)
        density = xp.exp(-0.5 * z * z)
        density *= 1 / math.sqrt(2 * math.pi)
        return grad_y * (_normal_cdf(z) + z * density)


# ----------------------------------------------------------------- erf
# NumPy has no erf, and the usual 7-digit approximations are too coarse for
# float64 gradient checks. erfc is computed from two classical expansions,
# each used where it converges fast (term counts chosen by measuring the
# error against libm's erfc: <= 2e-16 absolute in float64, <= 1e-8 in float32):
#
#   |t| < 2:  erf(t)  = 2/sqrt(pi) e^(-t^2) sum_k (2 t^2)^k t / (1*3*...*(2k+1))
#             (positive terms, no cancellation)
#   |t| >= 2: erfc(t) = t e^(-t^2)/sqrt(pi) / (t^2 + 1/2 - 1*2/4 / (t^2 + 5/2 - 3*4/4 /
#             (t^2 + 9/2 - ...)))  (the even part of Laplace's continued fraction)
_SPLIT = 2.0
_TERMS = {"float64": (30, 20), "float32": (20, 10), "float16": (20, 10)}


def _erf_series(a, terms):
    z2 = 2 * a * a
    term = a.copy()
    total = a.copy()
    for k in range(1, terms):
        term *= z2
        term *= 1.0 / (2 * k + 1)
        total += term
    total *= get_array_module(a).exp(-a * a)
    total *= 2 / math.sqrt(math.pi)
    return total


def _erfc_continued_fraction(a, depth):
    z = a * a
    t = z + (4 * depth + 1) / 2
    for k in range(depth, 0, -1):
        t = (z + (4 * k - 3) / 2) - ((2 * k - 1) * (2 * k) / 4) / t
    y = get_array_module(a).exp(-z)
    y *= a / t
    y *= 1 / math.sqrt(math.pi)
    return y


def _erfc(t):
    """The complementary error function 1 - erf(t), elementwise, to ~1e-16."""
    xp = get_array_module(t)
    series_terms, depth = _TERMS.get(str(t.dtype), _TERMS["float64"])
    a = xp.abs(t)
    near = 1 - _erf_series(xp.minimum(a, _SPLIT), series_terms)
    far = _erfc_continued_fraction(xp.maximum(a, _SPLIT), depth)
    upper = xp.where(a < _SPLIT, near, far)      # erfc(|t|)
    return xp.where(t < 0, 2 - upper, upper)


def _normal_cdf(z):
    """Phi(z) = P(N(0, 1) <= z) = erfc(-z / sqrt 2) / 2, accurate in both tails."""
    return 0.5 * _erfc(z * -math.sqrt(0.5))


# ----------------------------------------------------------------- registry
linear = Linear()
relu = ReLU()
sigmoid = Sigmoid()
hard_sigmoid = HardSigmoid()
tanh = Tanh()
softmax = Softmax()
elu = ELU()
selu = SELU()
softplus = Softplus()
softsign = Softsign()
exponential = Exponential()
swish = Swish()
gelu = GELU()

_BY_NAME = {a.name: a for a in (linear, relu, sigmoid, hard_sigmoid, tanh, softmax, elu, selu,
                                softplus, softsign, exponential, swish, gelu)}


def add_bias_and_activate(z, bias, activation):
    """y = f(z + b) for z: (M, F), b: (F,) or None.

    In place in z (used by Dense and Conv2D on their fresh matrix product);
    ReLU with a bias is one fused pass over z (kernels.bias_add_relu_inplace).
    For an activation that ``needs_input``, y is a new array and z keeps
    z + b for the backward.
    """
    if activation is relu and bias is not None:
        return kernels.bias_add_relu_inplace(z, bias)
    if bias is not None:
        z += bias
    if activation.needs_input:
        return activation.forward(z)
    return activation.forward(z, out=z)


def get(identifier):
    """An activation object from a name, an activation, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]
    raise ValueError(
        f"activation: unknown activation {identifier!r}; valid names are "
        f"{sorted(_BY_NAME)} (or None for linear)")


def serialize(activation):
    """The Keras name of an activation; a configured one (relu with alpha, a
    softmax over another axis) has none, as in Keras: use its layer instead."""
    named = _BY_NAME.get(activation.name)
    if named is None or type(named) is not type(activation) or activation.get_config():
        raise ValueError(
            f"activation: {activation!r} has settings that its name cannot carry, so it "
            "cannot be saved; use the layer instead (layers.ReLU, layers.LeakyReLU, "
            "layers.ELU, layers.Softmax) or a plain activation name")
    return activation.name
