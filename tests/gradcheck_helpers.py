"""What the gradient-check tests share: the bound, and inputs without near ties."""
import numpy as np

TOL = 1e-6   # a correct backward gives ~1e-9 in float64; a wrong one is off by order 1


def assert_gradients_ok(errors):
    """errors: {tensor: max relative error} from minidl.gradcheck."""
    bad = {k: v for k, v in errors.items() if not v <= TOL}
    assert not bad, f"relative errors above {TOL}: {bad} (all: {errors})"


def distinct(shape, seed=0):
    """Values at least 0.01 apart, so no max-pool window has a near tie."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(n).reshape(shape) * 0.01
