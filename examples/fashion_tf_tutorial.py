"""Study 004: a tf.keras tutorial on Fashion-MNIST, with `tf.keras` -> `minidl`.

    python examples/fashion_tf_tutorial.py                # model2: dropout, SGD, 30 epochs
    python examples/fashion_tf_tutorial.py --model 3      # Dense 256, Adam
    python examples/fashion_tf_tutorial.py --epochs 2 --limit 5000

As the tutorial: inputs / 255.0, integer labels with
sparse_categorical_crossentropy, fit's default batch size 32, no validation.
The tutorial's AccuracyHistory callback reads ``logs.get('acc')``, the key of
TensorFlow 1.x; minidl logs accuracy as 'accuracy' and also as 'acc'. Its
accuracy-per-epoch plot is written to --out.
"""
import argparse
import os
import sys

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minidl
from minidl.datasets import DatasetNotFoundError


class AccuracyHistory(minidl.callbacks.Callback):
    def on_train_begin(self, logs={}):
        self.acc = []

    def on_epoch_end(self, batch, logs={}):
        self.acc.append(logs.get("acc"))


def build(which):
    layers = minidl.layers
    if which == 1:
        return minidl.models.Sequential([
            layers.Conv2D(16, (3, 3), input_shape=(28, 28, 1), activation="relu"),
            layers.MaxPooling2D(2, 2),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D(2, 2),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ])
    return minidl.models.Sequential([
        layers.Conv2D(16, (5, 5), input_shape=(28, 28, 1), activation="relu"),
        layers.Dropout(.25),
        layers.MaxPooling2D(2, 2),
        layers.Conv2D(32, (4, 4), activation="relu"),
        layers.MaxPooling2D(2, 2),
        layers.Flatten(),
        layers.Dense(128 if which == 2 else 256, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=int, default=2, choices=(1, 2, 3),
                        help="1: Conv16/Conv32, SGD; 2: with Dropout, SGD; 3: Dense 256, Adam")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--limit", type=int, help="use only the first N train/test images")
    parser.add_argument("--device", choices=("cpu", "gpu", "auto"), default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out/fashion_tf_tutorial")
    parser.add_argument("--data", help="folder holding fashion-mnist/ (default: MINIDL_DATA)")
    args = parser.parse_args(argv)
    minidl.backend.set_device(args.device)
    minidl.seed(args.seed)

    fashion_mnist = minidl.datasets.fashion_mnist
    try:
        (X_train, y_train), (X_test, y_test) = fashion_mnist.load_data(path=args.data)
    except DatasetNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    X_train, y_train = X_train[:args.limit], y_train[:args.limit]
    X_test, y_test = X_test[:args.limit], y_test[:args.limit]
    X_train = X_train.reshape(len(X_train), 28, 28, 1)
    X_test = X_test.reshape(len(X_test), 28, 28, 1)
    X_train, X_test = X_train / 255.0, X_test / 255.0

    history = AccuracyHistory()
    model = build(args.model)
    model.compile(optimizer="Adam" if args.model == 3 else "SGD",
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    model.fit(X_train, y_train, epochs=args.epochs, callbacks=[history])

    loss, accuracy = model.evaluate(X_test, y_test)
    print(f"Test Accuracy of model{args.model}: |{accuracy}|, Test loss: |{loss}|")

    fig = Figure(figsize=(10, 10))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(range(1, len(history.acc) + 1), history.acc)
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Accuracy")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"model{args.model}_accuracy.png")
    fig.savefig(path)
    print(f"accuracy per epoch: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
