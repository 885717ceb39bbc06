"""minidl.zoo: the studies' models and the recipes that train them.

The models are checked against real Keras 2.15 (parameter counts, the
trainable split and every layer's output shape, from
fixtures/keras2/study_param_counts.json) and against the summaries the
studies printed. Every recipe is run end to end on a few random images, and
on real data when MINIDL_DATA is set.
"""
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from minidl import zoo
from minidl.layers import BatchNormalization, Lambda
from minidl.optimizers import SGD, Adam, Adadelta

FIXTURE = Path(__file__).parent / "fixtures" / "keras2" / "study_param_counts.json"
KERAS = json.loads(FIXTURE.read_text())


def _trainable(model):
    return sum(layer.count_trainable_params() for layer in model.layers)


@pytest.mark.parametrize("key", sorted(KERAS))
def test_model_matches_keras_layer_by_layer(key):
    expected = KERAS[key]
    model = zoo.RECIPES[key].build_model()
    assert model.count_params() == expected["total"]
    assert _trainable(model) == expected["trainable"]
    assert model.count_params() - _trainable(model) == expected["non_trainable"]
    layers = [[type(layer).__name__, list(layer.output_shape), layer.count_params()]
              for layer in model.layers]
    assert layers == expected["layers"]


@pytest.mark.parametrize("build, total, non_trainable", [
    (zoo.fashion_mlp, 468_874, 0),           # study 000's model.summary()
    (zoo.cifar_simple_cnn, 4_210_090, 0),    # study 002's summaries
    (zoo.cifar_cnn_48_96_192, 1_172_410, 0),
    (lambda: zoo.cifar_cnn_48_96_192(dropout=True), 1_172_410, 0),
    (zoo.cifar_bn_cnn, 685_354, 896),
    (zoo.fashion_tf_cnn, 108_618, 0),        # study 004's model1.summary()
])
def test_parameter_counts_the_studies_printed(build, total, non_trainable):
    model = build()
    assert (model.count_params(), model.count_params() - _trainable(model)) == \
        (total, non_trainable)


def test_models_come_uncompiled_and_fresh():
    a, b = zoo.fashion_cnn1(), zoo.fashion_cnn1()
    assert a.optimizer is None and a.loss is None
    assert not np.array_equal(a.get_weights()[0], b.get_weights()[0])


def test_the_lambda_standardizes_with_the_mean_and_std_passed_in():
    model = zoo.fashion_cnn4_bn(mean=0.5, std=0.25)
    standardize = model.layers[0]
    assert isinstance(standardize, Lambda)
    x = np.full((2, 28, 28, 1), 0.75, dtype=np.float32)
    x[1] = 0.0
    y = standardize.forward(x)
    np.testing.assert_allclose(y[0], 1.0)       # (0.75 - 0.5) / 0.25
    np.testing.assert_allclose(y[1], -2.0)      # (0 - 0.5) / 0.25


def test_keras_version_semantics_of_each_study():
    # Adam's epsilon: 1e-8 in Keras 2.0.x (study 000), K.epsilon() = 1e-7 later.
    assert zoo.RECIPES["s000_cnn1"].make_optimizer().epsilon == 1e-8
    for key in ("s002_cnn_48_96_192", "s003_model8_relu_dropout_adam", "s004_model3_adam"):
        opt = zoo.RECIPES[key].make_optimizer()
        assert isinstance(opt, Adam) and opt.epsilon == 1e-7
    # Adadelta of Keras 2.2.x (study 001): lr 1.0, epsilon 1e-7 (tf.keras's lr 0.001 would stall).
    opt = zoo.RECIPES["s001_keras_cnn"].make_optimizer()
    assert isinstance(opt, Adadelta) and (opt.lr, opt.rho, opt.epsilon) == (1.0, 0.95, 1e-7)
    # Study 002's SGD with time decay lr / epochs.
    opt = zoo.RECIPES["s002_large_cnn_100ep"].make_optimizer()
    assert isinstance(opt, SGD) and (opt.lr, opt.momentum) == (0.01, 0.9)
    assert math.isclose(opt.decay, 0.01 / 100)
    # BatchNormalization's moving variance: Keras 2.1.4-2.3.1 rescale the batch
    # variance by n/(n-(1+eps)) (studies 001, 003: 2.2.x, also zero-debiased;
    # study 002: 2.3.x, plain average); Keras 2.0.x (study 000) does neither.
    for key, (rescaled, debiased) in [("s001_conv3_bn", (True, True)),
                                      ("s003_model4_relu_dropout_bn", (True, True)),
                                      ("s000_vgg_bn", (False, False)),
                                      ("s000_cnn4_bn", (False, False)),
                                      ("s002_cnn_bn", (True, False))]:
        bns = [l for l in zoo.RECIPES[key].build_model().layers
               if isinstance(l, BatchNormalization)]
        assert bns and all((bn.unbiased_moving_variance, bn.zero_debias) == (rescaled, debiased)
                           for bn in bns), key


def test_study_000_schedule_and_augmentation():
    recipe = zoo.RECIPES["s000_cnn1"]
    assert [(p.epochs, p.lr) for p in recipe.phases] == [(10, 1e-3), (10, 1e-4), (50, None)]
    assert [p.published for p in recipe.phases] == [None, 91.23, 91.53]
    augment = recipe.phases[2]
    assert augment.augment_validation            # the study validated on augmented images
    # Keras 2.0.x: shear_range=0.3 meant radians, resampling was nearest-neighbour
    assert augment.augment == {"rotation_range": 8, "width_shift_range": 0.08,
                               "shear_range": 0.3, "height_shift_range": 0.08,
                               "zoom_range": 0.08, "shear_units": "radians",
                               "interpolation_order": 0}
    assert (recipe.batch_size, recipe.split, recipe.validation) == (512, (0.2, 12345), "split")
    assert "K.set_value" in recipe.notes          # the Keras 2.0 lr caveat is documented


def _random_data(recipe, n_train=4, n_small=2, seed=0):
    """What load_recipe_data returns, made of random pixels."""
    rng = np.random.default_rng(seed)
    shape = (784,) if recipe.flatten else \
        (32, 32, 3) if recipe.dataset == "cifar10" else (28, 28, 1)

    def part(n):
        x = rng.random((n,) + shape, dtype=np.float32)
        y = rng.integers(0, 10, n)
        return x, (np.eye(10, dtype=np.float32)[y] if recipe.labels == "onehot" else y)

    (xt, yt), (xv, yv), (xs, ys) = part(n_train), part(n_small), part(n_small)
    return {"x_train": xt, "y_train": yt, "x_test": xs, "y_test": ys,
            "x_val": xv if recipe.validation == "split" else None,
            "y_val": yv if recipe.validation == "split" else None,
            "class_names": zoo.CLASS_NAMES[recipe.dataset]}


@pytest.mark.parametrize("key", list(zoo.RECIPES))
def test_every_recipe_runs_one_step_per_phase(key):
    recipe = zoo.RECIPES[key]
    result = zoo.run_recipe(key, max_epochs=1, data=_random_data(recipe), verbose=0)
    n_phases = len(recipe.phases)
    assert result["epochs_run"] == n_phases
    assert result["capped"] == (recipe.epochs > n_phases)
    assert [p["epochs"] for p in result["phases"]] == [1] * n_phases
    assert result["history"]["phase"] == list(range(1, n_phases + 1))
    assert all(np.isfinite(result["history"]["loss"]))
    if recipe.validation:
        assert len(result["history"]["val_loss"]) == n_phases
    for phase, expected in zip(result["phases"], recipe.phases):
        assert 0.0 <= phase["test_accuracy"] <= 1.0
        assert phase["published_accuracy"] == expected.published
    assert result["trained_model"].count_params() == result["params"]
    json.dumps({k: v for k, v in result.items() if k != "trained_model"})  # JSON-able


def test_run_recipe_follows_the_lr_schedule_and_the_study_generator(monkeypatch):
    made = []

    class RecordingGenerator(zoo.runner.ImageDataGenerator):
        def __init__(self, **kwargs):
            made.append(kwargs)
            self.flows = []
            super().__init__(**kwargs)

        def flow(self, x, y=None, **kwargs):
            self.flows.append(len(x))
            return super().flow(x, y, **kwargs)

    monkeypatch.setattr(zoo.runner, "ImageDataGenerator", RecordingGenerator)
    recipe = zoo.RECIPES["s000_cnn1"]
    data = _random_data(recipe, n_train=6, n_small=3)
    result = zoo.run_recipe(recipe, max_epochs=1, data=data, verbose=0)
    assert result["history"]["lr"] == [1e-3, 1e-4, 1e-4]
    assert made == [recipe.phases[2].augment]
    # Keras 2.0.x ignored `model.optimizer.lr = 0.0001`: every epoch at 1e-3
    replay = zoo.run_recipe(recipe, max_epochs=1, data=data, verbose=0,
                            keras20_lr_assignment=True)
    assert replay["history"]["lr"] == [1e-3, 1e-3, 1e-3]


def test_run_recipe_is_repeatable_with_a_seed():
    recipe = zoo.RECIPES["s004_model2_dropout"]
    data = _random_data(recipe, n_train=64)
    runs = [zoo.run_recipe(recipe, max_epochs=1, data=data, seed=3, verbose=0)
            for _ in range(2)]
    assert runs[0]["history"]["loss"] == runs[1]["history"]["loss"]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown recipe 'nope'"):
        zoo.get_recipe("nope")
    with pytest.raises(ValueError, match="max_epochs must be a positive int"):
        zoo.run_recipe("s004_model1", max_epochs=0)
    with pytest.raises(ValueError, match="limit must be a positive int"):
        zoo.run_recipe("s004_model1", limit=-5)


@pytest.fixture
def real_data():
    path = os.environ.get("MINIDL_DATA")
    if not (path and os.path.isdir(path)):
        pytest.skip("real data: set MINIDL_DATA to a folder holding mnist/ and fashion-mnist/")


def test_fashion_mnist_pixel_statistics_of_the_48k_split(real_data):
    data = zoo.load_recipe_data("s000_cnn4_bn")
    assert data["x_train"].shape == (48_000, 28, 28, 1) and data["x_val"].shape[0] == 12_000
    mean, std = zoo.runner._pixel_stats(data["x_train"])
    assert (np.float32(mean), np.float32(std)) == \
        (np.float32(zoo.FASHION_MNIST_MEAN), np.float32(zoo.FASHION_MNIST_STD))


@pytest.mark.parametrize("key, shape", [("s003_model2_relu", (784,)),
                                        ("s000_cnn1", (28, 28, 1))])
def test_run_recipe_on_real_data(real_data, key, shape):
    result = zoo.run_recipe(key, max_epochs=1, limit=256, verbose=0)
    assert result["capped"] and result["limit"] == 256
    assert result["trained_model"].input_shape == (None,) + shape
    expected_val = 256 if zoo.RECIPES[key].validation == "split" else None
    assert result["samples"] == {"train": 256, "val": expected_val, "test": 256}
    assert result["peak_memory"]["bytes"] > 0
    assert len(result["history"]["epoch_time_s"]) == result["epochs_run"]
    final = result["phases"][-1]
    assert 0.1 < final["test_accuracy"] <= 1.0     # above chance on 256 test images


def test_a_run_records_where_its_data_came_from(tmp_path, tiny_cifar_jpeg_copy):
    """CIFAR-10 read from its JPEG copy (the only one in this workplace) is
    said in the run's JSON and in the results table, not only on stderr."""
    from minidl import studies
    with pytest.warns(UserWarning, match="JPEG re-encoding"):      # still shown to the user
        data = zoo.load_recipe_data("s002_simple_cnn", data_path=tiny_cifar_jpeg_copy)
    assert len(data["data_notes"]) == 1 and "JPEG re-encoding" in data["data_notes"][0]

    result = zoo.run_recipe("s002_simple_cnn", max_epochs=1, data=data, verbose=0)
    assert result.pop("trained_model") is not None
    assert result["data_notes"] == data["data_notes"]
    (tmp_path / "s002_simple_cnn.json").write_text(json.dumps(result))
    table = Path(studies.write_readme(str(tmp_path))).read_text()
    assert "- **s002_simple_cnn**: data: cifar10.load_data: the official binary release " \
           "was not found; using the JPEG re-encoding" in table


def test_committed_results_name_no_path_of_the_machine_they_ran_on():
    import pathlib
    from minidl.zoo.runner import _without_paths
    assert _without_paths("the JPEG re-encoding /srv/data/cifar10-jpg.tar.gz. Its pixels") == \
        "the JPEG re-encoding cifar10-jpg.tar.gz (in the data folder). Its pixels"
    results = pathlib.Path(__file__).resolve().parent.parent / "results"
    for f in list(results.glob("*.json")) + list(results.glob("*.md")):
        text = f.read_text()
        for root in ("/work/", "/root/", "/home/", "/tmp/"):
            assert root not in text, f"{f.name} names a local path ({root}...)"


def test_a_projection_times_one_epoch_per_phase_and_lands_in_the_table(tmp_path, monkeypatch):
    """--project for the runs too long for the machine: one real epoch per phase, timed."""
    from minidl import studies
    recipe = zoo.get_recipe("s004_model1")
    data = {"x_train": np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32),
            "y_train": np.arange(64) % 10, "x_val": None, "y_val": None,
            "x_test": np.random.default_rng(1).random((32, 28, 28, 1), dtype=np.float32),
            "y_test": np.arange(32) % 10, "class_names": list("abcdefghij"), "data_notes": []}
    monkeypatch.setattr(zoo.runner, "load_recipe_data", lambda *a, **k: data)
    record, path = studies.project("s004_model1", str(tmp_path), verbose=0)
    assert [p["epochs"] for p in record["phases"]] == [ph.epochs for ph in recipe.phases]
    assert record["projected_s"] == pytest.approx(
        sum(p["epochs"] * p["s_per_epoch"] for p in record["phases"]))
    table = open(studies.write_readme(str(tmp_path))).read()
    assert "| s004_model1 | 004 |" in table and "runs in the GPU check" in table


def test_every_published_row_keeps_its_place_in_the_table_until_measured(tmp_path):
    """A recipe with a published figure and neither a run nor a projection is listed as
    pending, so the report never silently drops a row it has not reproduced."""
    from minidl import studies

    def pending():
        table = open(studies.write_readme(str(tmp_path))).read()
        section = table.split("## Published, not yet measured here")[1]
        return {line.split(" | ")[0].lstrip("| ") for line in section.splitlines()
                if line.startswith("| s0")}

    published = {k for k, r in zoo.RECIPES.items() if any(p.published for p in r.phases)}
    assert pending() == published
    (tmp_path / ".backup" / "s000_vgg").mkdir(parents=True)
    assert "| s000_vgg | 000 | 92.08 → 93.59 | 10 + 10 + 50 | started; resumes from its " \
           "backup |" in open(studies.write_readme(str(tmp_path))).read()
    (tmp_path / "projections").mkdir()
    (tmp_path / "projections" / "s000_vgg_bn.json").write_text(json.dumps({
        "model": "s000_vgg_bn", "study": "000", "projected_s": 7200.0, "device_info": {},
        "phases": [{"epochs": 10, "s_per_epoch": 100.0, "published_accuracy": None}]}))
    assert pending() == published - {"s000_vgg_bn"}


def test_the_table_names_the_device_and_its_thread_count():
    from minidl import studies
    assert studies.device_label({"cpu": "AMD EPYC", "numba_threads": 1}) == "CPU AMD EPYC, 1 thread"
    assert studies.device_label({"cpu": "AMD EPYC", "numba_threads": 2}) == "CPU AMD EPYC, 2 threads"
    assert studies.device_label({"gpu": "NVIDIA H200"}) == "GPU NVIDIA H200"


def test_the_table_gives_todays_note_on_a_recipe_not_the_one_saved_with_an_old_run(tmp_path):
    """A note is about the study and its figure; a run made before the note was
    improved still shows the current text."""
    from minidl import studies
    record = {"model": "s002_large_cnn", "study": "002", "recipe": {"notes": "an old note"},
              "history": {}, "phases": [{"phase": 1, "epochs": 25, "epochs_planned": 25,
                                         "test_accuracy": 0.5, "published_accuracy": 80.0}]}
    (tmp_path / "s002_large_cnn.json").write_text(json.dumps(record))
    table = open(studies.write_readme(str(tmp_path))).read()
    assert "an old note" not in table
    assert f"- **s002_large_cnn**: {zoo.get_recipe('s002_large_cnn').notes}" in table
