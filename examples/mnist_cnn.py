"""Study 001: convolutional nets on MNIST, Keras 2.2 code with `keras` -> `minidl`.

    python examples/mnist_cnn.py                         # Keras's mnist_cnn, 12 epochs
    python examples/mnist_cnn.py --model conv5_bn
    python examples/mnist_cnn.py --model conv3_bn --augment
    python examples/mnist_cnn.py --epochs 1 --limit 2000 # a quick look

The default model is written out below exactly as Keras's
examples/mnist_cnn.py defines it; the study's other models come from
minidl.zoo. All train as the study did: Adadelta (lr 1.0, Keras 2.2),
batch 128, 12 epochs, validating on the test set. Writes the loss curves
(the study's train vs validation plot) to --out.
"""
import argparse
import os
import sys

import minidl
from minidl import plotting, zoo
from minidl.datasets import DatasetNotFoundError, mnist
from minidl.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from minidl.models import Sequential
from minidl.preprocessing.image import ImageDataGenerator
from minidl.utils import to_categorical

OTHER_MODELS = {"keras_cnn_glorot_normal": lambda: zoo.mnist_keras_cnn("glorot_normal"),
                "conv3_bn": zoo.mnist_conv3_bn, "conv5_bn": zoo.mnist_conv5_bn,
                "conv7_bn": zoo.mnist_conv7_bn}


def keras_mnist_cnn(input_shape, num_classes):
    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=input_shape))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(128, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(num_classes, activation="softmax"))
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="keras_cnn", choices=["keras_cnn", *OTHER_MODELS])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--augment", action="store_true",
                        help="rotation 25, shifts 0.1 (the generator the study built)")
    parser.add_argument("--limit", type=int, help="use only the first N train/test images")
    parser.add_argument("--device", choices=("cpu", "gpu", "auto"), default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out/mnist_cnn")
    parser.add_argument("--data", help="folder holding mnist/ (default: MINIDL_DATA, cache)")
    args = parser.parse_args(argv)
    minidl.backend.set_device(args.device)
    minidl.seed(args.seed)

    batch_size, num_classes, epochs = 128, 10, args.epochs
    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data(path=args.data)
    except DatasetNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    x_test, y_test = x_test[:args.limit], y_test[:args.limit]
    x_train = x_train.reshape(x_train.shape[0], 28, 28, 1).astype("float32") / 255
    x_test = x_test.reshape(x_test.shape[0], 28, 28, 1).astype("float32") / 255
    y_train = to_categorical(y_train, num_classes)
    y_test = to_categorical(y_test, num_classes)

    if args.model == "keras_cnn":
        model = keras_mnist_cnn((28, 28, 1), num_classes)
    else:
        model = OTHER_MODELS[args.model]()
    model.compile(loss=minidl.losses.categorical_crossentropy,
                  optimizer=minidl.optimizers.Adadelta(),
                  metrics=["accuracy"])
    model.summary()

    if args.augment:
        datagen = ImageDataGenerator(rotation_range=25, width_shift_range=0.1,
                                     height_shift_range=0.1)
        history = model.fit_generator(datagen.flow(x_train, y_train, batch_size=batch_size),
                                      steps_per_epoch=len(x_train) // batch_size,
                                      epochs=epochs, validation_data=(x_test, y_test))
    else:
        history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=1,
                            validation_data=(x_test, y_test))
    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])

    curves = plotting.plot_history(history, os.path.join(args.out, f"{args.model}_curves.png"),
                                   title=f"MNIST {args.model}")
    print(f"loss and accuracy curves: {curves}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
