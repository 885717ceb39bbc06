"""Study 002: convolutional nets on CIFAR-10 (Keras 2.3).

    python examples/cifar10_cnn.py                          # the BatchNorm model, 50 epochs
    python examples/cifar10_cnn.py --model s002_simple_cnn
    python examples/cifar10_cnn.py --epochs 1 --limit 2000  # a quick look

Each model trains as the study did (minidl.zoo.RECIPES): SGD(lr=0.01,
momentum=0.9, decay=lr/epochs) or Adam, its batch size and epochs, and
ImageDataGenerator augmentation through fit_generator where the study used
it, validating on the test set. --epochs sets every training phase to N
epochs. Writes the study's accuracy and loss plot and a confusion matrix to
--out.

CIFAR-10 comes from MINIDL_DATA / the cache / a download of the official
release (170 MB), or from a JPEG copy (cifar10-jpg.tar.gz) with a warning.
"""
import argparse
import dataclasses
import os
import sys

import minidl
from minidl import plotting, zoo
from minidl.datasets import DatasetNotFoundError

MODELS = [k for k, r in zoo.RECIPES.items() if r.study == "002"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="s002_cnn_bn", choices=MODELS)
    parser.add_argument("--epochs", type=int, help="epochs of every training phase")
    parser.add_argument("--limit", type=int, help="use only the first N train/test images")
    parser.add_argument("--device", choices=("cpu", "gpu", "auto"), default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out/cifar10_cnn")
    parser.add_argument("--data", help="folder holding the CIFAR-10 release (or its JPEG copy)")
    args = parser.parse_args(argv)
    minidl.backend.set_device(args.device)

    recipe = zoo.RECIPES[args.model]
    if args.epochs:
        recipe = dataclasses.replace(recipe, phases=tuple(
            dataclasses.replace(p, epochs=args.epochs) for p in recipe.phases))
    print(f"{recipe.key}: {recipe.description}")
    print(f"  optimizer {recipe.summary()['optimizer']}, batch {recipe.batch_size}, "
          f"epochs {[p.epochs for p in recipe.phases]}, augmentation "
          f"{[p.augment for p in recipe.phases]}")
    try:
        data = zoo.load_recipe_data(recipe, limit=args.limit, data_path=args.data)
    except DatasetNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    result = zoo.run_recipe(recipe, data=data, seed=args.seed, verbose=1)
    model = result["trained_model"]
    for phase in result["phases"]:
        published = phase["published_accuracy"]
        print(f"phase {phase['phase']}: Accuracy: {100 * phase['test_accuracy']:.2f}%"
              + (f" (published {published:.2f}%)" if published else ""))

    os.makedirs(args.out, exist_ok=True)
    curves = plotting.plot_history(result["history"], os.path.join(args.out, "curves.png"),
                                   title=recipe.description)
    predictions = model.predict(data["x_test"], batch_size=500)
    matrix = plotting.plot_confusion_matrix(data["y_test"], predictions, data["class_names"],
                                            os.path.join(args.out, "confusion_matrix.png"))
    print(f"curves: {curves}\nconfusion matrix: {matrix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
