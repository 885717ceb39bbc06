"""The studies' models, one builder per model, layer for layer as each study wrote it."""
import numpy as np

from ..constraints import MaxNorm
from ..layers import (Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten, Lambda,
                     MaxPooling2D)
from ..models import Sequential

CLASS_NAMES = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                "truck"),
}

# Study 000 standardizes its input with the pixel mean and std of its 48,000
# training images (Fashion-MNIST /255, train_val_split(val_size=0.2,
# seed=12345)), computed as the study did, in float32 with NumPy. run_recipe
# recomputes them from the data it trains on; these are the defaults for a
# model built alone.
FASHION_MNIST_MEAN = 0.28619078
FASHION_MNIST_STD = 0.353142

MNIST_SHAPE = (28, 28, 1)
CIFAR_SHAPE = (32, 32, 3)


# ============================================================ study 000
# Fashion-MNIST, Keras 2.0.x: BatchNormalization's moving averages are the
# plain exponential average of the biased batch variance (Keras 2.0.8 had no
# n/(n-1) rescaling and no zero-debiasing), set explicitly by _bn_keras20:
# minidl's default is Keras 2.2/2.3's rescaled variance.

def _bn_keras20(**kwargs):
    """BatchNormalization as Keras 2.0.x updated its moving statistics."""
    return BatchNormalization(unbiased_moving_variance=False, **kwargs)


def _standardize(mean, std):
    """The study's ``norm_input``: x -> (x - mean) / std with float32 scalars."""
    mean, std = np.float32(mean), np.float32(std)

    def norm_input(x):
        return (x - mean) / std
    return norm_input


def fashion_mlp():
    """Study 000's 2-layer net: 784 -> 512 -> 128 -> 10. x: (N, 784)."""
    return Sequential([
        Dense(512, input_shape=(784,), activation="relu"),
        Dense(128, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def fashion_cnn1():
    """Study 000's 'CNN with 1 convolutional layer' (cnn1). x: (N, 28, 28, 1)."""
    return Sequential([
        Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=MNIST_SHAPE),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.2),
        Flatten(),
        Dense(128, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def fashion_cnn3():
    """Study 000's 'CNN with 3 convolutional layers' (cnn2 in its code). x: (N, 28, 28, 1)."""
    return Sequential([
        Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=MNIST_SHAPE),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.2),
        Conv2D(64, kernel_size=(3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.2),
        Conv2D(128, kernel_size=(3, 3), activation="relu"),
        Dropout(0.2),
        Flatten(),
        Dense(128, activation="relu"),
        Dropout(0.2),
        Dense(10, activation="softmax"),
    ])


def fashion_cnn4_bn(mean=FASHION_MNIST_MEAN, std=FASHION_MNIST_STD):
    """Study 000's 4-conv CNN with BatchNormalization (cnn3 in its code).

    The Lambda standardizes x: (N, 28, 28, 1) with the training set's pixel
    ``mean`` and ``std`` (defaults: Fashion-MNIST's, see FASHION_MNIST_MEAN).
    """
    return Sequential([
        Lambda(_standardize(mean, std), input_shape=MNIST_SHAPE),
        Conv2D(32, kernel_size=(3, 3), activation="relu"),
        _bn_keras20(),
        Conv2D(32, kernel_size=(3, 3), activation="relu"),
        _bn_keras20(),
        Dropout(0.25),
        Conv2D(64, kernel_size=(3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.25),
        Conv2D(128, kernel_size=(3, 3), activation="relu"),
        _bn_keras20(),
        Dropout(0.25),
        Flatten(),
        Dense(512, activation="relu"),
        _bn_keras20(),
        Dropout(0.5),
        Dense(128, activation="relu"),
        _bn_keras20(),
        Dropout(0.5),
        Dense(10, activation="softmax"),
    ])


def _vgg_block(filters, convs):
    return [Conv2D(filters, kernel_size=(3, 3), activation="relu", padding="same")
            for _ in range(convs)]


def fashion_vgg(mean=FASHION_MNIST_MEAN, std=FASHION_MNIST_STD):
    """Study 000's 'VGG like model' (cnn4): blocks of 'same' 3x3 convs
    32x2, 64x2, 128x2, 256x3, each block max-pooled, then Dense 512-512.
    x: (N, 28, 28, 1), standardized by the Lambda as in ``fashion_cnn4_bn``."""
    return Sequential(
        [Lambda(_standardize(mean, std), input_shape=MNIST_SHAPE)]
        + _vgg_block(32, 2) + [MaxPooling2D(pool_size=(2, 2))]
        + _vgg_block(64, 2) + [MaxPooling2D(pool_size=(2, 2))]
        + _vgg_block(128, 2) + [MaxPooling2D(pool_size=(2, 2))]
        + _vgg_block(256, 3) + [MaxPooling2D(pool_size=(2, 2))]
        + [Flatten(),
           Dense(512, activation="relu"), Dropout(0.5),
           Dense(512, activation="relu"), Dropout(0.5),
           Dense(10, activation="softmax")])


def fashion_vgg_bn(mean=FASHION_MNIST_MEAN, std=FASHION_MNIST_STD):
    """Study 000's 'VGG like model with Batchnorm' (cnn5). Unlike ``fashion_vgg``
    it pools only twice (after the 64 and the 256 blocks) and adds
    BatchNormalization and Dropout. x: (N, 28, 28, 1), standardized."""
    return Sequential(
        [Lambda(_standardize(mean, std), input_shape=MNIST_SHAPE)]
        + _vgg_block(32, 2) + [_bn_keras20(), Dropout(0.25)]
        + _vgg_block(64, 2) + [MaxPooling2D(pool_size=(2, 2)), Dropout(0.25)]
        + _vgg_block(128, 2) + [_bn_keras20(), Dropout(0.25)]
        + _vgg_block(256, 3) + [MaxPooling2D(pool_size=(2, 2))]
        + [Flatten(),
           Dense(512, activation="relu"), _bn_keras20(), Dropout(0.5),
           Dense(512, activation="relu"), _bn_keras20(), Dropout(0.5),
           Dense(10, activation="softmax")])


# ============================================================ study 001
# MNIST, Keras 2.2.x.

def _bn_keras22(**kwargs):
    """BatchNormalization as Keras 2.1.4-2.2.x updated its moving variance:
    the batch variance rescaled by n / (n - (1 + eps)), averaged with
    TensorFlow's zero-debiased moving average."""
    return BatchNormalization(unbiased_moving_variance=True, zero_debias=True, **kwargs)


def mnist_keras_cnn(dense_initializer="glorot_uniform"):
    """Keras's examples/mnist_cnn.py: Conv32, Conv64, pool, Dropout, Dense128.

    dense_initializer: the two Dense layers' kernel initializer. The study's
    last model passes Keras 1's ``init='glorot_normal'`` to them, which
    Keras 2 reads as ``kernel_initializer='glorot_normal'``.
    x: (N, 28, 28, 1); 10 softmax outputs.
    """
    return Sequential([
        Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=MNIST_SHAPE),
        Conv2D(64, (3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.25),
        Flatten(),
        Dense(128, activation="relu", kernel_initializer=dense_initializer),
        Dropout(0.5),
        Dense(10, activation="softmax", kernel_initializer=dense_initializer),
    ])


def mnist_conv3_bn():
    """Study 001's '3 layer CNN': convs 32, 32, 64, each followed by
    BatchNormalization then ReLU; Dense 256 + BN. x: (N, 28, 28, 1)."""
    return Sequential([
        Conv2D(32, (3, 3), input_shape=MNIST_SHAPE),
        _bn_keras22(axis=-1),
        Activation("relu"),
        Conv2D(32, (3, 3)),
        _bn_keras22(axis=-1),
        Activation("relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Conv2D(64, (3, 3)),
        _bn_keras22(axis=-1),
        Activation("relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Flatten(),
        Dense(256),
        _bn_keras22(),
        Activation("relu"),
        Dropout(0.2),
        Dense(10, activation="softmax"),
    ])


def mnist_conv5_bn():
    """Study 001's '5 layer CNN': 5x5 convs 32, 32; 3x3 convs 64, 64, 128.

    The study gives no input_shape (Keras built the model from the data on
    fit); here it is (28, 28, 1), what fit would have found.
    """
    return Sequential([
        Conv2D(32, kernel_size=5, activation="relu", input_shape=MNIST_SHAPE),
        Conv2D(32, kernel_size=5, activation="relu"),
        MaxPooling2D(2, 2),
        _bn_keras22(),
        Dropout(0.4),
        Conv2D(64, kernel_size=3, activation="relu"),
        Conv2D(64, kernel_size=3, activation="relu"),
        MaxPooling2D(2, 2),
        _bn_keras22(),
        Dropout(0.4),
        Conv2D(128, kernel_size=3, activation="relu"),
        _bn_keras22(),
        Flatten(),
        Dense(256, activation="relu"),
        Dropout(0.4),
        Dense(128, activation="relu"),
        Dropout(0.4),
        Dense(10, activation="softmax"),
    ])


def mnist_conv7_bn():
    """Study 001's '7 layer CNN': 3x3 convs 32 (valid), 32, 32, 64, 64, 64,
    128 ('same'). No input_shape in the study either: (28, 28, 1) here."""
    return Sequential([
        Conv2D(32, kernel_size=3, activation="relu", input_shape=MNIST_SHAPE),
        Conv2D(32, kernel_size=3, activation="relu", padding="same"),
        Conv2D(32, kernel_size=3, activation="relu", padding="same"),
        MaxPooling2D(2, 2),
        _bn_keras22(),
        Dropout(0.4),
        Conv2D(64, kernel_size=3, activation="relu", padding="same"),
        Conv2D(64, kernel_size=3, activation="relu", padding="same"),
        MaxPooling2D(2, 2),
        _bn_keras22(),
        Dropout(0.4),
        Conv2D(64, kernel_size=3, activation="relu", padding="same"),
        MaxPooling2D(2, 2),
        _bn_keras22(),
        Dropout(0.4),
        Conv2D(128, kernel_size=3, activation="relu", padding="same"),
        _bn_keras22(),
        Flatten(),
        Dense(256, activation="relu"),
        Dropout(0.4),
        Dense(128, activation="relu"),
        Dropout(0.4),
        Dense(10, activation="softmax"),
    ])


# ============================================================ study 002
# CIFAR-10, Keras 2.3.x: BatchNormalization rescales the batch variance by
# n / (n - (1 + eps)) and averages plainly (no zero-debiasing): minidl's default.
# ``maxnorm(3)`` on a Conv2D keeps Keras's default axis=0 (see MaxNorm).

def cifar_simple_cnn():
    """Study 002's simple CNN: two 'same' Conv32 with MaxNorm(3), Dense512.
    x: (N, 32, 32, 3)."""
    return Sequential([
        Conv2D(32, (3, 3), input_shape=CIFAR_SHAPE, padding="same", activation="relu",
               kernel_constraint=MaxNorm(3)),
        Dropout(0.2),
        Conv2D(32, (3, 3), activation="relu", padding="same", kernel_constraint=MaxNorm(3)),
        MaxPooling2D(pool_size=(2, 2)),
        Flatten(),
        Dense(512, activation="relu", kernel_constraint=MaxNorm(3)),
        Dropout(0.5),
        Dense(10, activation="softmax"),
    ])


def _large_cnn(conv_dropouts):
    layers = []
    for i, filters in enumerate((32, 64, 128)):
        first = {"input_shape": CIFAR_SHAPE} if i == 0 else {}
        layers.append(Conv2D(filters, (3, 3), activation="relu", padding="same", **first))
        if i == 0 or conv_dropouts:
            layers.append(Dropout(0.2))
        layers += [Conv2D(filters, (3, 3), activation="relu", padding="same"), MaxPooling2D()]
    layers.append(Flatten())
    if conv_dropouts:
        layers.append(Dropout(0.2))
    layers += [Dense(1024, activation="relu", kernel_constraint=MaxNorm(3)), Dropout(0.2),
               Dense(512, activation="relu", kernel_constraint=MaxNorm(3)), Dropout(0.2),
               Dense(10, activation="softmax")]
    return Sequential(layers)


def cifar_large_cnn():
    """Study 002's larger CNN: three times (conv, Dropout 0.2, conv, pool) with
    32, 64, 128 filters, then Dropout, Dense 1024 and 512 with MaxNorm(3).
    x: (N, 32, 32, 3)."""
    return _large_cnn(conv_dropouts=True)


def cifar_large_cnn_fewer_dropouts():
    """``cifar_large_cnn`` keeping only the first conv's Dropout and the
    Dense layers' ones. x: (N, 32, 32, 3)."""
    return _large_cnn(conv_dropouts=False)


def cifar_cnn_48_96_192(dropout=False):
    """Study 002's 48-96-192 CNN: per block a 'same' then a 'valid' 3x3 conv
    and a pool; Dense 512-256. ``dropout=True`` adds Dropout(0.25) after each
    pool and Dropout(0.5) after each hidden Dense (the study's 'latest').
    x: (N, 32, 32, 3)."""
    layers = []
    for i, filters in enumerate((48, 96, 192)):
        first = {"input_shape": CIFAR_SHAPE} if i == 0 else {}
        layers += [Conv2D(filters, (3, 3), activation="relu", padding="same", **first),
                   Conv2D(filters, (3, 3), activation="relu"),
                   MaxPooling2D(pool_size=(2, 2))]
        if dropout:
            layers.append(Dropout(0.25))
    layers.append(Flatten())
    for units in (512, 256):
        layers.append(Dense(units, activation="relu"))
        if dropout:
            layers.append(Dropout(0.5))
    layers.append(Dense(10, activation="softmax"))
    return Sequential(layers)


def cifar_bn_cnn():
    """Study 002's last model: 32-64-128 convs, BatchNormalization after every
    conv, Dropout 0.25 per block, Dense 512-256 with Dropout 0.5.
    685,354 parameters, 896 non-trainable (the study's summary).
    x: (N, 32, 32, 3)."""
    layers = []
    for i, filters in enumerate((32, 64, 128)):
        first = {"input_shape": CIFAR_SHAPE} if i == 0 else {}
        second = {"padding": "same"} if i == 0 else {}   # as written: 'valid' from block 2
        layers += [Conv2D(filters, (3, 3), activation="relu", padding="same", **first),
                   BatchNormalization(),
                   Conv2D(filters, (3, 3), activation="relu", **second),
                   BatchNormalization(),
                   MaxPooling2D(pool_size=(2, 2)),
                   Dropout(0.25)]
    layers += [Flatten(),
               Dense(512, activation="relu"), Dropout(0.5),
               Dense(256, activation="relu"), Dropout(0.5),
               Dense(10, activation="softmax")]
    return Sequential(layers)


# ============================================================ study 003
# MNIST flattened to 784, Keras 2.2.x. Each function is the study's layer
# list as written in its code (where the code and the text differ, the code;
# see the recipes' notes).

def _mlp(*layers):
    return Sequential([Dense(512, activation=layers[0], input_shape=(784,))] + list(layers[1:])
                      + [Dense(10, activation="softmax")])


def mnist_mlp_sigmoid():
    """Model 1: 784-512-128-64-10, sigmoid."""
    return _mlp("sigmoid", Dense(128, activation="sigmoid"), Dense(64, activation="sigmoid"))


def mnist_mlp_relu():
    """Model 2: 784-512-128-64-10, ReLU."""
    return _mlp("relu", Dense(128, activation="relu"), Dense(64, activation="relu"))


def mnist_mlp_relu_dropout():
    """Model 3: ReLU, Dropout(0.25) after the 512 and the 64 layer."""
    return _mlp("relu", Dropout(0.25), Dense(128, activation="relu"),
                Dense(64, activation="relu"), Dropout(0.25))


def mnist_mlp_relu_dropout_bn():
    """Model 4: ReLU, Dropout(0.25) after 512, BatchNormalization after 128."""
    return _mlp("relu", Dropout(0.25), Dense(128, activation="relu"), _bn_keras22(),
                Dense(64, activation="relu"))


def mnist_mlp_relu_dropout2_bn():
    """Model 5: ReLU, Dropout(0.25) after 512, Dropout(0.5) + BatchNormalization after 128."""
    return _mlp("relu", Dropout(0.25), Dense(128, activation="relu"), Dropout(0.5),
                _bn_keras22(), Dense(64, activation="relu"))


def mnist_mlp_tanh_dropout_bn():
    """Model 6: model 4 with tanh (the text's Dropout(0.5) is not in its code)."""
    return _mlp("tanh", Dropout(0.25), Dense(128, activation="tanh"), _bn_keras22(),
                Dense(64, activation="tanh"))


def mnist_mlp_sigmoid_dropout_bn():
    """Model 7: model 4 with sigmoid (the text's Dropout(0.5) is not in its code)."""
    return _mlp("sigmoid", Dropout(0.25), Dense(128, activation="sigmoid"), _bn_keras22(),
                Dense(64, activation="sigmoid"))


def mnist_mlp_relu_dropout_adam():
    """Model 8, trained with Adam: 784-512-128-10 (no 64 layer, as written), ReLU,
    Dropout(0.25) after 512."""
    return _mlp("relu", Dropout(0.25), Dense(128, activation="relu"))


def mnist_mlp_relu_dropout2_adam():
    """Model 9, trained with Adam: model 8 plus Dropout(0.5) after 128."""
    return _mlp("relu", Dropout(0.25), Dense(128, activation="relu"), Dropout(0.5))


# ============================================================ study 004
# Fashion-MNIST, tf.keras of TensorFlow 1.x (no BatchNormalization used).

def fashion_tf_cnn():
    """Study 004's model1: Conv16, pool, Conv32, pool, Dense128. 108,618
    parameters. x: (N, 28, 28, 1)."""
    return Sequential([
        Conv2D(16, (3, 3), input_shape=MNIST_SHAPE, activation="relu"),
        MaxPooling2D(2, 2),
        Conv2D(32, (3, 3), activation="relu"),
        MaxPooling2D(2, 2),
        Flatten(),
        Dense(128, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def fashion_tf_cnn_dropout(units=128):
    """Study 004's model2: Conv16 5x5, Dropout(0.25), pool, Conv32 4x4, pool,
    Dense ``units``. x: (N, 28, 28, 1)."""
    return Sequential([
        Conv2D(16, (5, 5), input_shape=MNIST_SHAPE, activation="relu"),
        Dropout(0.25),
        MaxPooling2D(2, 2),
        Conv2D(32, (4, 4), activation="relu"),
        MaxPooling2D(2, 2),
        Flatten(),
        Dense(units, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def fashion_tf_cnn_adam():
    """Study 004's model3 (trained with Adam): model2 with Dense 256."""
    return fashion_tf_cnn_dropout(units=256)
