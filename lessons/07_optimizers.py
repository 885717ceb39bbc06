# %% [markdown]
# # Lesson 7 — Optimizers on a 2-D loss surface
#
# Backprop gives the gradient; the optimizer decides what to do with it. To
# *see* the difference between update rules, we give them a loss of only two
# weights, whose every value we can draw:
#
#     f(w1, w2) = 0.5 w1^2 + 5 w2^2 + 0.5 w1 w2
#
# a tilted valley, ten times steeper across (w2) than along (w1). Real loss
# surfaces have millions of such directions with very different curvatures;
# this one has two.
#
# We write four of Keras 2's update rules by hand, exactly as Keras (and
# minidl) apply them, and check that they give minidl's numbers; the other
# two, Nesterov momentum and Adam, are the exercises.

# %%
import numpy as np

from minidl import backend as K
from minidl import exercises, optimizers, plotting

K.set_device("cpu")
out = exercises.output_dir("07_optimizers")


def f(w1, w2):
    return 0.5 * w1 ** 2 + 5 * w2 ** 2 + 0.5 * w1 * w2


def grad(w):
    return np.array([w[0] + 0.5 * w[1], 10 * w[1] + 0.5 * w[0]])


start, steps = np.array([-1.5, 1.0]), 150

# %% [markdown]
# ## Keras 2's rules, by hand
#
# g is the gradient, lr the learning rate. Every state array (v, a, d)
# starts at zero. (Keras 2 also decays the rate, lr_t = lr / (1 + decay *
# iterations); with the default decay = 0, lr_t = lr.)
#
# * **SGD**: w -= lr g. Across the valley the gradient is large, along it
#   small, so a rate small enough not to bounce across is slow along.
# * **Momentum**: v = mu v - lr g; w += v. v is a running sum of past steps:
#   directions where the gradient keeps its sign build up speed, directions
#   where it flips sign cancel.
# * **RMSprop**: a = rho a + (1 - rho) g^2; w -= lr g / (sqrt(a) + eps).
#   Each weight's step is divided by the recent size of its own gradient, so
#   steep and flat directions move at similar speeds.
# * **Adadelta**: a = rho a + (1 - rho) g^2; u = g sqrt(d + eps) / sqrt(a + eps);
#   w -= lr u; d = rho d + (1 - rho) u^2. Like RMSprop, with the step scaled
#   by the recent size of the *steps* (d) instead of a learning rate.

# %%
def sgd(w, g, state, lr=0.05):
    return w - lr * g, state


def momentum(w, g, v, lr=0.01, mu=0.9):
    v = mu * v - lr * g
    return w + v, v


def rmsprop(w, g, a, lr=0.01, rho=0.9, eps=1e-7):
    a = rho * a + (1 - rho) * g * g
    return w - lr * g / (np.sqrt(a) + eps), a


def adadelta(w, g, state, lr=1.0, rho=0.95, eps=1e-7):
    a, d = state
    a = rho * a + (1 - rho) * g * g
    u = g * np.sqrt(d + eps) / np.sqrt(a + eps)
    d = rho * d + (1 - rho) * u * u
    return w - lr * u, (a, d)


def path_by_hand(rule, state):
    w, path = start.copy(), [start.copy()]
    for _ in range(steps):
        w, state = rule(w, grad(w), state)
        path.append(w)
    return np.array(path)


def path_of(optimizer):
    w, path = start.copy(), [start.copy()]
    for _ in range(steps):
        optimizer.update([w], [grad(w)])      # in place, as during training
        path.append(w.copy())
    return np.array(path)


zero = np.zeros(2)
pairs = {
    "SGD lr 0.05": (path_by_hand(sgd, None), optimizers.SGD(lr=0.05)),
    "momentum 0.9, lr 0.01": (path_by_hand(momentum, zero), optimizers.SGD(lr=0.01, momentum=0.9)),
    "RMSprop lr 0.01": (path_by_hand(rmsprop, zero), optimizers.RMSprop(lr=0.01)),
    "Adadelta lr 1": (path_by_hand(adadelta, (zero, zero)), optimizers.Adadelta(lr=1.0)),
}
paths = {}
for label, (by_hand, optimizer) in pairs.items():
    paths[label] = path_of(optimizer)
    diff = np.abs(paths[label] - by_hand).max()
    print(f"{label:22s} by hand vs minidl: max difference {diff:.1e}")
    assert diff < 1e-12

# %% [markdown]
# ## The paths
#
# Nesterov and Adam join them (run by minidl), and we draw all six.

# %%
paths["Nesterov, lr 0.01"] = path_of(optimizers.SGD(lr=0.01, momentum=0.9, nesterov=True))
paths["Adam lr 0.05"] = path_of(optimizers.Adam(lr=0.05))
exercises.show(plotting.plot_optimizer_paths(f, paths, f"{out}/paths.png", xlim=(-2, 2),
                                             ylim=(-1.5, 1.5), minimum=(0, 0)))
for label, p in paths.items():
    print(f"{label:22s} f after {steps} steps: {f(*p[-1]):.2e}")

# %% [markdown]
# What to see in the picture:
#
# * SGD drops into the valley at once (the steep direction) and then crawls
#   along it.
# * Momentum overshoots and swings across the valley, but travels along it
#   faster; Nesterov, which looks at the gradient after the momentum step,
#   damps the swings and ends lowest.
# * RMSprop heads for the minimum almost in a straight line: dividing by
#   sqrt(a) makes each coordinate's step about lr in size, steep or flat.
#   That is also why it is slow here: 0.01 per step takes over a hundred
#   steps to cover the distance, and near the minimum the steps stay about
#   lr in size instead of shrinking with the gradient.
# * Adam, momentum plus RMSprop's scaling, curves in smoothly.
# * Adadelta has barely moved: its first steps are about sqrt(eps) / sqrt(1 -
#   rho) ≈ 0.0014 in size, and they only grow as d accumulates. It is made
#   for long trainings with many weights; study 001 used it for 12 epochs of
#   MNIST.

# %%
final = {label: f(*p[-1]) for label, p in paths.items()}
f0 = f(*start)
assert all(final[k] < f0 / 100 for k in final if not k.startswith("Adadelta"))
assert min(final, key=final.get) == "Nesterov, lr 0.01"
assert f0 / 2 < final["Adadelta lr 1"] < f0

# %% [markdown]
# ## Exercises
#
# 1. Keras 2's **Nesterov** momentum: v = mu v - lr g, then w = w + mu v - lr g
#    (the step looks one momentum step ahead). Write
#    `nesterov_step(w, g, v, lr, momentum)` -> (new w, new v).
# 2. Keras 2's **Adam**, step t = 1, 2, ...:
#    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
#    lr_t = lr sqrt(1 - b2^t) / (1 - b1^t);  w = w - lr_t m / (sqrt(v) + eps).
#    (m and v start at zero, which biases them toward zero early on; lr_t
#    corrects for that.) Write `adam_step(w, g, m, v, t, lr, beta_1, beta_2,
#    epsilon)` -> (new w, new m, new v).
#
# The checks run 30 steps of yours beside minidl's optimizer on this surface.

# %%
def nesterov_step(w, g, v, lr, momentum):
    raise NotImplementedError   # your code here


def adam_step(w, g, m, v, t, lr, beta_1, beta_2, epsilon):
    raise NotImplementedError   # your code here


# %%
verdict1 = exercises.check_nesterov_step(nesterov_step)
verdict2 = exercises.check_adam_step(adam_step)
