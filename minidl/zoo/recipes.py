"""How each study trained its models: data, optimizer, batch size, and the schedule as phases."""
import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple

from .. import optimizers
from .models import (
    FASHION_MNIST_MEAN, FASHION_MNIST_STD, cifar_bn_cnn, cifar_cnn_48_96_192, cifar_large_cnn,
    cifar_large_cnn_fewer_dropouts, cifar_simple_cnn, fashion_cnn1, fashion_cnn3,
    fashion_cnn4_bn, fashion_mlp, fashion_tf_cnn, fashion_tf_cnn_adam, fashion_tf_cnn_dropout,
    fashion_vgg, fashion_vgg_bn, mnist_conv3_bn, mnist_conv5_bn, mnist_conv7_bn,
    mnist_keras_cnn, mnist_mlp_relu, mnist_mlp_relu_dropout, mnist_mlp_relu_dropout2_adam,
    mnist_mlp_relu_dropout2_bn, mnist_mlp_relu_dropout_adam, mnist_mlp_relu_dropout_bn,
    mnist_mlp_sigmoid, mnist_mlp_sigmoid_dropout_bn, mnist_mlp_tanh_dropout_bn)


# ============================================================ recipes

@dataclass(frozen=True)
class Phase:
    """One ``fit`` (or ``fit_generator``) call of a study.

    epochs: epochs of this call.
    lr: ``model.optimizer.lr`` is set to this before the call (None: unchanged).
    augment: ImageDataGenerator keyword arguments: train with
      ``fit_generator(datagen.flow(x_train, y_train, batch_size),
      steps_per_epoch=len(x_train) // batch_size)``; None: ``fit`` on arrays.
    augment_validation: validate on ``datagen.flow(x_val, y_val)`` for
      len(x_val) // batch_size steps (study 000 did), not on the arrays.
    batch_size: None means the recipe's.
    published: the test accuracy (%) the study reports after this call.
    """
    epochs: int
    lr: Optional[float] = None
    augment: Optional[dict] = None
    augment_validation: bool = False
    batch_size: Optional[int] = None
    published: Optional[float] = None


@dataclass(frozen=True)
class Recipe:
    """How a study trained one model.

    dataset: 'mnist', 'fashion_mnist' or 'cifar10'; pixels are scaled by
      1/255 to float32; ``flatten`` gives (N, 784) instead of images.
    labels: 'sparse' (integer labels) or 'onehot' (to_categorical).
    validation: 'split' (train_val_split of the training set by ``split``
      = (val_size, seed)), 'test' (validation_data = the test set) or None.
    optimizer: (class name in minidl.optimizers, keyword arguments).
    standardize_input: the builder takes the training pixels' mean and std.
    keras: the Keras version whose semantics the recipe follows.
    """
    key: str
    study: str
    build: Callable
    description: str
    dataset: str
    labels: str
    validation: Optional[str]
    optimizer: Tuple[str, dict]
    loss: str
    batch_size: int
    phases: Tuple[Phase, ...]
    keras: str
    flatten: bool = False
    split: Optional[Tuple[float, int]] = None
    standardize_input: bool = False
    notes: str = ""
    build_kwargs: dict = field(default_factory=dict)

    @property
    def epochs(self):
        return sum(p.epochs for p in self.phases)

    def make_optimizer(self):
        name, kwargs = self.optimizer
        return getattr(optimizers, name)(**kwargs)

    def build_model(self, mean=None, std=None):
        kwargs = dict(self.build_kwargs)
        if self.standardize_input:
            kwargs.update(mean=mean if mean is not None else FASHION_MNIST_MEAN,
                          std=std if std is not None else FASHION_MNIST_STD)
        return self.build(**kwargs)

    def summary(self):
        """The recipe as plain JSON-able values."""
        name, kwargs = self.optimizer
        return {
            "key": self.key, "study": self.study, "description": self.description,
            "model_function": self.build.__name__, "build_kwargs": dict(self.build_kwargs),
            "dataset": self.dataset, "input": "flat (N, 784)" if self.flatten else "images",
            "labels": self.labels, "validation": self.validation,
            "split": list(self.split) if self.split else None,
            "optimizer": f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})",
            "loss": self.loss, "batch_size": self.batch_size, "keras": self.keras,
            "phases": [dataclasses.asdict(p) for p in self.phases],
            "epochs": self.epochs, "notes": self.notes,
        }


# --- study 000: Keras 2.0.x -------------------------------------------------
_S000_ADAM = ("Adam", {"lr": 1e-3, "epsilon": 1e-8})   # Keras <= 2.1.2: Adam epsilon 1e-8
# ImageDataGenerator of Keras 2.0.x: shear_range in radians, nearest-neighbour
# resampling (scipy order=0; bilinear came with Keras 2.1.3, keras#8849).
_S000_AUGMENT = {"rotation_range": 8, "width_shift_range": 0.08, "shear_range": 0.3,
                 "height_shift_range": 0.08, "zoom_range": 0.08,
                 "shear_units": "radians", "interpolation_order": 0}
_S000_LR_NOTE = (
    "Phase 2 follows the study's written intent, lr 1e-4 from `model.optimizer.lr = 0.0001`. "
    "In Keras 2.0.x that assignment did not change the learning rate: the training function "
    "was already compiled with the old lr variable (only K.set_value would have), so the "
    "published run most likely trained all epochs at lr 1e-3; "
    "run_recipe(keras20_lr_assignment=True) replays that. Validation during the augmented "
    "phase is on the *augmented* validation flow, as in the study.")


def _s000(key, build, description, after_fit, after_augment, standardize=False):
    """Study 000's schedule: fit 10 epochs at lr 1e-3; ``model.optimizer.lr =
    0.0001`` and fit 10 more; then 50 epochs of fit_generator on the study's
    ImageDataGenerator, validating on the augmented validation flow.

    Keras 2.0.x fact: that lr assignment had no effect (the training function
    was compiled with the old lr variable; only K.set_value changes it), so
    the published runs most likely used lr 1e-3 throughout. The recipe
    follows the written intent; run_recipe(keras20_lr_assignment=True)
    replays what Keras 2.0 did.
    """
    return Recipe(
        key=key, study="000", build=build, description=description,
        dataset="fashion_mnist", labels="sparse", validation="split", split=(0.2, 12345),
        optimizer=_S000_ADAM, loss="sparse_categorical_crossentropy", batch_size=512,
        phases=(Phase(10, lr=1e-3),
                Phase(10, lr=1e-4, published=after_fit),
                Phase(50, augment=_S000_AUGMENT, augment_validation=True,
                      published=after_augment)),
        keras="2.0.x", standardize_input=standardize, notes=_S000_LR_NOTE)


# --- study 001: Keras 2.2.x -------------------------------------------------
_S001_ADADELTA = ("Adadelta", {"lr": 1.0, "rho": 0.95, "epsilon": 1e-7})  # Keras 2.1.3-2.3.1


def _s001(key, build, description, published, notes="", augment=None, **build_kwargs):
    return Recipe(
        key=key, study="001", build=build, description=description, dataset="mnist",
        labels="onehot", validation="test", optimizer=_S001_ADADELTA,
        loss="categorical_crossentropy", batch_size=128,
        phases=(Phase(12, augment=augment, published=published),), keras="2.2.x",
        notes=notes, build_kwargs=build_kwargs)


# --- study 002: Keras 2.3.x -------------------------------------------------
def _s002_sgd(epochs):
    """SGD(lr=0.01, momentum=0.9, decay=lr/epochs): the study's time decay."""
    return ("SGD", {"lr": 0.01, "momentum": 0.9, "decay": 0.01 / epochs, "nesterov": False})


_S002_ADAM = ("Adam", {"lr": 1e-3, "epsilon": 1e-7})   # 'adam' in Keras 2.3.x: epsilon K.epsilon()
_S002_ZOOM_FLIP = {"zoom_range": 0.2, "horizontal_flip": True}   # degrees/bilinear: Keras 2.3.x
_S002_LAST_EPOCH = ("The study printed no evaluate() for this run; the published figure is the "
                    "test-set val_accuracy of its last epoch (the text says 'about' / '≈').")
_S002_SAMPLES = ("`fit_generator(samples_per_epoch=50000, nb_epoch=...)` is Keras 1's API; "
                 "Keras 2.3 converts it to steps_per_epoch = 50000 // 128 = 390 (its warning "
                 "says so).")


def _s002(key, build, description, optimizer, batch_size, phases, notes=""):
    return Recipe(
        key=key, study="002", build=build, description=description, dataset="cifar10",
        labels="onehot", validation="test", optimizer=optimizer,
        loss="categorical_crossentropy", batch_size=batch_size, phases=phases, keras="2.3.x",
        notes=notes)


# --- study 003: Keras 2.2.x -------------------------------------------------
_S003_SGD = ("SGD", {"lr": 0.01})                       # optimizer='sgd': Keras 2.2 defaults
_S003_ADAM = ("Adam", {"lr": 1e-3, "epsilon": 1e-7})    # optimizer='adam': K.epsilon() = 1e-7


def _s003(key, build, description, optimizer, published, notes=""):
    return Recipe(
        key=key, study="003", build=build, description=description, dataset="mnist",
        flatten=True, labels="onehot", validation="test", optimizer=optimizer,
        loss="categorical_crossentropy", batch_size=128,
        phases=(Phase(50, published=published),), keras="2.2.x", notes=notes)


# --- study 004: tf.keras of TensorFlow 1.x --------------------------------------
def _s004(key, build, description, optimizer, published):
    # fit(X, y, epochs=30): tf.keras's default batch_size 32, no validation
    return Recipe(
        key=key, study="004", build=build, description=description, dataset="fashion_mnist",
        labels="sparse", validation=None, optimizer=optimizer,
        loss="sparse_categorical_crossentropy", batch_size=32,
        phases=(Phase(30, published=published),), keras="tf.keras (TF 1.x)")


_RECIPE_LIST = [
    Recipe(key="s000_mlp", study="000", build=fashion_mlp, description="MLP 784-512-128-10",
           dataset="fashion_mnist", flatten=True, labels="sparse", validation="split",
           split=(0.2, 12345), optimizer=_S000_ADAM, loss="sparse_categorical_crossentropy",
           batch_size=512, phases=(Phase(20, lr=1e-3, published=88.79),), keras="2.0.x",
           notes="One fit of 20 epochs: the study trains the MLP without the lr change and "
                 "without augmentation."),
    _s000("s000_cnn1", fashion_cnn1, "CNN with 1 conv layer (cnn1)", 91.23, 91.53),
    _s000("s000_cnn3", fashion_cnn3, "CNN with 3 conv layers (cnn2)", 90.62, 90.95),
    _s000("s000_cnn4_bn", fashion_cnn4_bn, "4-conv CNN with BatchNorm and input "
          "standardization (cnn3)", 92.67, 93.54, standardize=True),
    _s000("s000_vgg", fashion_vgg, "VGG-like model (cnn4)", 92.08, 93.59, standardize=True),
    _s000("s000_vgg_bn", fashion_vgg_bn, "VGG-like model with BatchNorm (cnn5)", 92.96, 94.01,
          standardize=True),

    _s001("s001_keras_cnn", mnist_keras_cnn, "Keras mnist_cnn: Conv32, Conv64, pool, Dense128",
          99.26, notes="Published figure from the study's table; its first cell died on a "
                       "NameError after training, the log shows val_acc 0.9926."),
    _s001("s001_keras_cnn_glorot_normal", mnist_keras_cnn,
          "Keras mnist_cnn with init='glorot_normal' on the Dense layers", 99.22,
          notes="The table calls this row 'Conv 3 Layer with (32,64,128) filters (data "
                "augmentation)', 99.2; its code is the 2-conv mnist_cnn with Keras 1's "
                "init='glorot_normal' on the Dense layers, no augmentation, evaluate() 0.9922.",
          dense_initializer="glorot_normal"),
    _s001("s001_conv3_bn", mnist_conv3_bn, "3 conv layers (32, 32, 64) with BatchNorm", 99.45,
          notes="The cell's code is cut in the study text; the full model is the one repeated "
                "in its 'with data augmentation' cell."),
    _s001("s001_conv3_bn_augment", mnist_conv3_bn,
          "3 conv layers with BatchNorm, augmentation (rotation 25, shifts 0.1)", 99.41,
          augment={"rotation_range": 25, "width_shift_range": 0.1, "height_shift_range": 0.1},
          notes="Trains with fit_generator(datagen.flow(x_train, y_train, batch_size=128), "
                "steps_per_epoch=60000 // 128), the table's stated intent. The study's cell "
                "builds and fits the ImageDataGenerator but then calls model.fit on the plain "
                "arrays, so its 99.41 is really a second run of s001_conv3_bn."),
    _s001("s001_conv5_bn", mnist_conv5_bn, "5 conv layers (k5 32, 32; k3 64, 64, 128) with "
          "BatchNorm", 99.48),
    _s001("s001_conv7_bn", mnist_conv7_bn, "7 conv layers (32 x3, 64 x3, 128) with BatchNorm",
          99.44),

    _s002("s002_simple_cnn", cifar_simple_cnn, "simple CNN with MaxNorm(3)", _s002_sgd(25), 32,
          (Phase(25, published=69.88),)),
    _s002("s002_large_cnn", cifar_large_cnn, "larger CNN, 25 epochs", _s002_sgd(25), 64,
          (Phase(25, published=80.0),),
          notes="The study gives no exact figure for this run: 'an accuracy of about 80%', "
                "and its cell printed no output. Its 100-epoch run (decay lr/100 instead of "
                "lr/25, so a higher rate throughout) first passes 80% at epoch 20 of its log; "
                "with decay lr/25 the rate at epoch 25 is 0.0011, a third of that run's "
                "0.0034 there."),
    _s002("s002_large_cnn_100ep", cifar_large_cnn, "larger CNN, 100 epochs", _s002_sgd(100),
          64, (Phase(100, published=82.48),),
          notes="82.48 is the last epoch's val_accuracy (test set): the evaluate() after it "
                "died on a NameError."),
    _s002("s002_large_cnn_fewer_dropouts", cifar_large_cnn_fewer_dropouts,
          "larger CNN with fewer dropouts", _s002_sgd(25), 64, (Phase(25, published=74.31),)),
    _s002("s002_cnn_48_96_192", cifar_cnn_48_96_192, "48-96-192 CNN, Adam; then the same "
          "model 200 more epochs with zoom + flip augmentation", _S002_ADAM, 128,
          (Phase(100, published=78.07), Phase(200, augment=_S002_ZOOM_FLIP, published=83.24)),
          notes=_S002_LAST_EPOCH + " " + _S002_SAMPLES),
    Recipe(key="s002_cnn_48_96_192_dropout", study="002", build=cifar_cnn_48_96_192,
           build_kwargs={"dropout": True},
           description="48-96-192 CNN with dropout, zoom + flip augmentation, Adam",
           dataset="cifar10", labels="onehot", validation="test", optimizer=_S002_ADAM,
           loss="categorical_crossentropy", batch_size=128,
           phases=(Phase(100, augment=_S002_ZOOM_FLIP, published=83.42),), keras="2.3.x",
           notes=_S002_SAMPLES),
    _s002("s002_cnn_bn", cifar_bn_cnn, "32-64-128 CNN with BatchNorm, shift + flip "
          "augmentation", _s002_sgd(50), 64,
          (Phase(50, augment={"horizontal_flip": True, "width_shift_range": 0.1,
                              "height_shift_range": 0.1}, published=83.15),),
          notes=_S002_LAST_EPOCH + " steps_per_epoch = 50000 // 64 as written."),

    _s003("s003_model1_sigmoid", mnist_mlp_sigmoid, "512-128-64 sigmoid, SGD", _S003_SGD, 87.46,
          notes="evaluate() printed 0.8746; the study's summary table says 87.52."),
    _s003("s003_model2_relu", mnist_mlp_relu, "512-128-64 relu, SGD", _S003_SGD, 97.62),
    _s003("s003_model3_relu_dropout", mnist_mlp_relu_dropout, "512-128-64 relu + Dropout(0.25) "
          "x2, SGD", _S003_SGD, 97.58,
          notes="evaluate() printed 0.9758; the study's summary table says 97.05."),
    _s003("s003_model4_relu_dropout_bn", mnist_mlp_relu_dropout_bn, "512-128-64 relu, Dropout, "
          "BatchNorm after 128, SGD", _S003_SGD, 98.17,
          notes="The text adds a Dropout(0.25) after the 64 layer; the code (followed) has none."),
    _s003("s003_model5_relu_dropout_bn", mnist_mlp_relu_dropout2_bn, "512-128-64 relu, "
          "Dropout(0.25), Dropout(0.5), BatchNorm after 128, SGD", _S003_SGD, 98.01),
    _s003("s003_model6_tanh_dropout_bn", mnist_mlp_tanh_dropout_bn, "512-128-64 tanh, Dropout, "
          "BatchNorm after 128, SGD", _S003_SGD, 97.21,
          notes="The text names a Dropout(0.5) that the code (followed) does not have."),
    _s003("s003_model7_sigmoid_dropout_bn", mnist_mlp_sigmoid_dropout_bn, "512-128-64 sigmoid, "
          "Dropout, BatchNorm after 128, SGD", _S003_SGD, 92.57,
          notes="evaluate() printed 0.9257; the summary table says 92.47. The text names a "
                "Dropout(0.5) that the code (followed) does not have."),
    _s003("s003_model8_relu_dropout_adam", mnist_mlp_relu_dropout_adam, "512-128 relu + "
          "Dropout(0.25), Adam", _S003_ADAM, 98.55,
          notes="As written: no 64 layer."),
    _s003("s003_model9_relu_dropout_adam", mnist_mlp_relu_dropout2_adam, "512-128 relu + "
          "Dropout(0.25), Dropout(0.5), Adam", _S003_ADAM, 98.39,
          notes="As written: no 64 layer."),

    _s004("s004_model1", fashion_tf_cnn, "Conv16, pool, Conv32, pool, Dense128, SGD",
          ("SGD", {"lr": 0.01}), 89.43),             # optimizer='SGD': tf.keras default lr 0.01
    _s004("s004_model2_dropout", fashion_tf_cnn_dropout, "Conv16 k5, Dropout, pool, Conv32 k4, "
          "pool, Dense128, SGD", ("SGD", {"lr": 0.01}), 88.65),
    _s004("s004_model3_adam", fashion_tf_cnn_adam, "as model2 with Dense256, Adam",
          ("Adam", {"lr": 1e-3, "epsilon": 1e-7}), 89.84),  # tf.keras Adam: epsilon 1e-7
]

RECIPES = {r.key: r for r in _RECIPE_LIST}


def get_recipe(key):
    """RECIPES[key], with an error that lists the keys."""
    if isinstance(key, Recipe):
        return key
    if key not in RECIPES:
        raise ValueError(f"zoo.get_recipe: unknown recipe {key!r}; known: {', '.join(RECIPES)}")
    return RECIPES[key]
