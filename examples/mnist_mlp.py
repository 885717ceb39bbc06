"""Study 003: multilayer perceptrons on flattened MNIST, Keras 2.2 style.

    python examples/mnist_mlp.py                 # model 8: relu + dropout, Adam
    python examples/mnist_mlp.py --model 1       # sigmoid, SGD (lr 0.01)
    python examples/mnist_mlp.py --model 4 --epochs 5 --limit 5000

Nine models (minidl.zoo.mnist_mlp_*), all trained as the study did: batch
128, 50 epochs, validating on the test set, optimizer 'sgd' (models 1-7) or
'adam' (8, 9). Writes the study's plot, categorical cross-entropy per epoch,
train vs validation, to --out.
"""
import argparse
import os
import sys

import minidl
from minidl import plotting, zoo
from minidl.datasets import DatasetNotFoundError, mnist
from minidl.utils import np_utils

MODELS = {  # the study's numbering: (model function, optimizer)
    1: (zoo.mnist_mlp_sigmoid, "sgd"),
    2: (zoo.mnist_mlp_relu, "sgd"),
    3: (zoo.mnist_mlp_relu_dropout, "sgd"),
    4: (zoo.mnist_mlp_relu_dropout_bn, "sgd"),
    5: (zoo.mnist_mlp_relu_dropout2_bn, "sgd"),
    6: (zoo.mnist_mlp_tanh_dropout_bn, "sgd"),
    7: (zoo.mnist_mlp_sigmoid_dropout_bn, "sgd"),
    8: (zoo.mnist_mlp_relu_dropout_adam, "adam"),
    9: (zoo.mnist_mlp_relu_dropout2_adam, "adam"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=int, default=8, choices=sorted(MODELS))
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--limit", type=int, help="use only the first N train/test images")
    parser.add_argument("--device", choices=("cpu", "gpu", "auto"), default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out/mnist_mlp")
    parser.add_argument("--data", help="folder holding mnist/ (default: MINIDL_DATA, cache)")
    args = parser.parse_args(argv)
    minidl.backend.set_device(args.device)
    minidl.seed(args.seed)

    try:
        (X_train, y_train), (X_test, y_test) = mnist.load_data(path=args.data)
    except DatasetNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    X_train, y_train = X_train[:args.limit], y_train[:args.limit]
    X_test, y_test = X_test[:args.limit], y_test[:args.limit]
    X_train = X_train.reshape(X_train.shape[0], X_train.shape[1] * X_train.shape[2]) / 255
    X_test = X_test.reshape(X_test.shape[0], X_test.shape[1] * X_test.shape[2]) / 255
    Y_train = np_utils.to_categorical(y_train, 10)
    Y_test = np_utils.to_categorical(y_test, 10)
    batch_size, nb_epoch = 128, args.epochs

    build, optimizer = MODELS[args.model]
    model = build()
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X_train, Y_train, batch_size=batch_size, epochs=nb_epoch, verbose=1,
                        validation_data=(X_test, Y_test))
    score = model.evaluate(X_test, Y_test, verbose=0)
    print("Test score:", score[0])
    print("Test accuracy:", score[1])

    path = plotting.plot_history(history, os.path.join(args.out, f"model{args.model}_curves.png"),
                                 title=f"Model {args.model}: {build.__name__}, {optimizer}")
    print(f"loss and accuracy curves: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
