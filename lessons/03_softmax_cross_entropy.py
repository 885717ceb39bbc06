# %% [markdown]
# # Lesson 3 — Softmax and cross-entropy
#
# A classifier's last Dense layer produces K numbers per sample, the
# *logits* z. Softmax turns them into probabilities,
#
#     p_k = exp(z_k) / sum_j exp(z_j),
#
# and cross-entropy scores them against the true class c: L_n = -log p_c.
# The batch loss is the mean over the N samples. Written with a one-hot
# target row t (1 at the true class, 0 elsewhere): L = -(1/N) sum_n sum_k
# t_nk log p_nk.
#
# Two things make this pair special. Their combined gradient is strikingly
# simple, dL/dz = (p - t) / N. And computed naively they overflow; computed
# the right way they never do. minidl (like tf.keras) uses both facts.

# %%
import numpy as np

from minidl import backend as K
from minidl import exercises, gradcheck, losses
from minidl.activations import softmax

K.set_device("cpu")
K.set_floatx("float64")
rng = np.random.default_rng(0)
N, classes = 5, 4
z = rng.normal(size=(N, classes)) * 2
labels = rng.integers(0, classes, N)
t = np.eye(classes)[labels]

# %% [markdown]
# ## The long way: through the softmax's Jacobian
#
# Backprop could treat them as two layers. The loss's own gradient is
# dL/dp = -t / (N p). Softmax's Jacobian is dp_i/dz_j = p_i (δ_ij - p_j),
# a K x K matrix per sample, and dL/dz = J^T dL/dp:
#
#     dL/dz_j = sum_i dL/dp_i p_i (δ_ij - p_j)
#             = -(1/N) sum_i t_i (δ_ij - p_j)
#             = -(1/N) (t_j - p_j sum_i t_i) = (p_j - t_j) / N
#
# because the t_i of a sample sum to 1. Everything about the Jacobian cancels.

# %%
p = softmax.forward(z.copy())
grad_p = -t / (N * p)
jacobians = p[:, :, None] * (np.eye(classes)[None] - p[:, None, :])   # (N, K, K)
grad_z_long = np.einsum("nij,ni->nj", jacobians, grad_p)
grad_z_short = (p - t) / N
assert np.allclose(grad_z_long, grad_z_short)
print("Jacobian route == (p - t) / N:", np.abs(grad_z_long - grad_z_short).max())

# %% [markdown]
# Central differences agree, and so does minidl's loss, whose
# `gradient_logits` is the short form. `Sequential` uses it whenever a
# softmax output meets a cross-entropy loss: backprop starts at the logits.

# %%
def loss_of_z():
    zz = z - z.max(axis=1, keepdims=True)
    return float(-(t * (zz - np.log(np.exp(zz).sum(axis=1, keepdims=True)))).sum() / N)


numeric = gradcheck.numerical_gradient(loss_of_z, z)
print("relative error vs central differences:", gradcheck.relative_error(grad_z_short, numeric))
assert gradcheck.relative_error(grad_z_short, numeric) < 1e-7
cce = losses.get("categorical_crossentropy")
assert np.allclose(cce.gradient_logits(t, p), grad_z_short)

# %% [markdown]
# ## The stable form
#
# exp(1000) is infinite in float64, and in float32, minidl's default, exp(89)
# already is. Logits near 100 do occur, in a network that trains badly or with
# too large a learning rate. Two identities make the computation safe for any z:
#
# * softmax(z) = softmax(z - m) for any constant m per row; take m = max_k z_k,
#   so the largest exponent is exp(0) = 1;
# * log p_k = z_k - m - log sum_j exp(z_j - m)  (the *log-sum-exp*), which
#   never takes the log of a probability that underflowed to 0.

# %%
big = np.array([[1000.0, 0.0, -1000.0]])
target = np.array([[0.0, 1.0, 0.0]])
with np.errstate(all="ignore"):
    naive_p = np.exp(big) / np.exp(big).sum(axis=1, keepdims=True)
    naive_loss = -(target * np.log(naive_p)).sum()
print("naive softmax:", naive_p, " naive loss:", naive_loss)
stable_loss = cce.from_logits(target, big)[0]
print("stable loss from the logits:", stable_loss)
assert np.isnan(naive_p).any() and np.isfinite(stable_loss) and abs(stable_loss - 1000.0) < 1e-9

# %% [markdown]
# The naive version gives NaN (inf / inf); the stable one the exact loss,
# 1000: the true class's logit is 1000 below the top one.
#
# A second trap: *clipping*. Keras 2 computed cross-entropy on the
# probabilities and clipped them to [1e-7, 1 - 1e-7] to avoid log(0). That
# caps a sample's loss at -log(1e-7) ≈ 16.1, and where the clip bites, the
# gradient is zero: a confidently wrong sample stops teaching anything.
# minidl does that too when it only has probabilities (a loss on its own),
# and uses the logits whenever a softmax layer feeds the loss.

# %%
p_big = softmax.forward(big.copy())
clipped_loss = cce(target, p_big)[0]
clipped_grad = cce.gradient(target, p_big)
print(f"clipped loss: {clipped_loss:.2f}, its gradient w.r.t. p: {clipped_grad}")
print("gradient from the logits, (p - t)/N:", cce.gradient_logits(target, p_big))
assert abs(clipped_loss + np.log(1e-7)) < 1e-9 and not clipped_grad.any()

# %% [markdown]
# ## Exercises
#
# 1. Write `log_softmax(z)` for a batch of logits (N, K), exact and finite
#    even for logits of size 1000.
# 2. The binary case: one sigmoid output per entry, p = sigmoid(z), and the
#    loss the mean over all N*D entries of -(t log p + (1 - t) log(1 - p)).
#    Derive dL/dz (it is as simple as softmax's) and write
#    `sigmoid_bce_gradient(z, t)`.

# %%
def log_softmax(z):
    raise NotImplementedError   # your code here


def sigmoid_bce_gradient(z, t):
    raise NotImplementedError   # your code here


# %%
verdict1 = exercises.check_log_softmax(log_softmax)
verdict2 = exercises.check_sigmoid_bce_gradient(sigmoid_bce_gradient)
