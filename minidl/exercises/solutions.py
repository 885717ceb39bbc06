"""Model answers to the lessons' exercises (lessons/*.py). Try first, then look.

Each function has the signature its exercise asks for and is what the
matching ``check_*`` in ``minidl.exercises`` accepts. Plain NumPy, written
to be read, not to be fast; the comments carry the reasoning.
"""
import numpy as np

from .. import backend as K


# ------------------------------------------------------------- lesson 1
def dense_tanh_backward(x, W, y, grad_y):
    """y = tanh(x W + b). x: (N, in), W: (in, out), y and grad_y: (N, out).
    Returns (dx, dW, db)."""
    grad_z = grad_y * (1.0 - y * y)       # tanh'(z) = 1 - tanh(z)^2 = 1 - y^2
    return grad_z @ W.T, x.T @ grad_z, grad_z.sum(axis=0)


# ------------------------------------------------------------- lesson 2
def leaky_relu_backward(grad_y, x, alpha):
    """y = x where x > 0, alpha x elsewhere; the slope is 1 or alpha."""
    return grad_y * np.where(x > 0, 1.0, alpha)


def sigmoid_backward(grad_y, y):
    """sigma'(z) = sigma(z) (1 - sigma(z)) = y (1 - y): the output suffices."""
    return grad_y * y * (1.0 - y)


# ------------------------------------------------------------- lesson 3
def log_softmax(z):
    """log softmax(z) row by row, finite for any z: shift by the row max first."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def sigmoid_bce_gradient(z, t):
    """dL/dz of L = mean over all N*D entries of BCE(sigmoid(z), t): (p - t) / (N D)."""
    p = 0.5 * (1.0 + np.tanh(0.5 * z))    # sigmoid without overflow
    return (p - t) / z.size


# ------------------------------------------------------------- lesson 4
def im2col_simple(x, kh, kw):
    """x: (N, H, W, C) -> (N*Ho*Wo, kh*kw*C), stride 1, no padding, columns (i, j, c)."""
    n, h, w, c = x.shape
    ho, wo = h - kh + 1, w - kw + 1
    cols = np.empty((n, ho, wo, kh, kw, c), dtype=x.dtype)
    for i in range(kh):                   # one strided copy per kernel offset
        for j in range(kw):
            cols[:, :, :, i, j, :] = x[:, i:i + ho, j:j + wo, :]
    return cols.reshape(n * ho * wo, kh * kw * c)


def conv_weight_grad(x, grad_y, kh, kw):
    """dL/dW of y = conv(x, W) (stride 1, valid): cols^T dy, reshaped to (kh, kw, C, F)."""
    f = grad_y.shape[-1]
    cols = im2col_simple(x, kh, kw)
    return (cols.T @ grad_y.reshape(-1, f)).reshape(kh, kw, x.shape[-1], f)


# ------------------------------------------------------------- lesson 5
def maxpool_backward(x, grad_y):
    """2x2 max pooling, stride 2: each window's gradient goes to its max."""
    n, h, w, c = x.shape
    windows = x.reshape(n, h // 2, 2, w // 2, 2, c)
    is_max = windows == windows.max(axis=(2, 4), keepdims=True)
    # with ties only the first max may take it; the checks use distinct values
    return (is_max * grad_y[:, :, None, :, None, :]).reshape(x.shape)


def avgpool_backward(grad_y, x_shape):
    """2x2 average pooling, stride 2: each of the 4 cells gets a quarter."""
    n, h, w, c = x_shape
    spread = np.broadcast_to(grad_y[:, :, None, :, None, :] / 4.0,
                             (n, h // 2, 2, w // 2, 2, c))
    return spread.reshape(x_shape)


# ------------------------------------------------------------- lesson 6
def batchnorm_backward(grad_y, x, gamma, epsilon):
    """Training-mode batch norm of x: (M, C). Returns (dx, dgamma, dbeta)."""
    m = x.shape[0]
    mean = x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + epsilon)
    x_hat = (x - mean) * inv_std
    dbeta = grad_y.sum(axis=0)
    dgamma = (grad_y * x_hat).sum(axis=0)
    dx = gamma * inv_std / m * (m * grad_y - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def batchnorm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon):
    """Inference: the moving statistics, folded into one scale and one shift."""
    scale = gamma / np.sqrt(moving_variance + epsilon)
    return x * scale + (beta - moving_mean * scale)


# ------------------------------------------------------------- lesson 7
def nesterov_step(w, g, v, lr, momentum):
    """Keras 2's SGD(nesterov=True): v = mu v - lr g;  w = w + mu v - lr g."""
    v = momentum * v - lr * g
    return w + momentum * v - lr * g, v


def adam_step(w, g, m, v, t, lr, beta_1, beta_2, epsilon):
    """Keras 2's Adam, step t = 1, 2, ...: the bias correction sits in lr_t."""
    m = beta_1 * m + (1.0 - beta_1) * g
    v = beta_2 * v + (1.0 - beta_2) * g * g
    lr_t = lr * np.sqrt(1.0 - beta_2 ** t) / (1.0 - beta_1 ** t)
    return w - lr_t * m / (np.sqrt(v) + epsilon), m, v


# ------------------------------------------------------------- lesson 8
def train_epoch_mse(layers, optimizer, x, y, batch_size):
    """One epoch of model.fit with loss='mse': shuffle, forward, MSE gradient,
    backward, update. Returns the mean loss over the epoch."""
    n = len(x)
    order = K.permutation(n)                        # what fit draws first each epoch
    total = 0.0
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        xb, yb = x[idx], y[idx]
        out = xb
        for layer in layers:
            out = layer.forward(out, training=True)
        diff = out - yb
        total += float((diff * diff).mean(axis=-1).sum())
        grad = 2.0 * diff / diff.size               # d mean((p - t)^2) / dp
        for layer in reversed(layers):
            grad = layer.backward(grad)
        weights = [w for layer in layers for w in layer.params.values()]
        grads = [layer.grads[name] for layer in layers for name in layer.params]
        optimizer.update(weights, grads)
    return total / n


# ------------------------------------------------------------- lesson 9
def confusion_matrix(y_true, y_pred, num_classes):
    """counts[i, j]: samples of true class i predicted as class j."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts
