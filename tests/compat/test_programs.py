"""Keras programs, run end to end with ``keras`` replaced by ``minidl``.

Each file beside this one is a whole program written the way the public Keras
2.2-2.3 and tf.keras 2.x programs are (the official examples, the Sequential
guide, the TensorFlow quickstart, tutorial blogs): their imports, their
spellings, their print statements. Here each runs on a few hundred samples
(SAMPLES, EPOCHS in the environment) and the test checks what the program
produced: that it learned, saved, froze or stopped as it says.
"""
import os
import pathlib
import runpy

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent


def run_program(name, monkeypatch, tmp_path, **env):
    """Run tests/compat/<name>.py as __main__ in tmp_path; returns its globals."""
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    monkeypatch.setenv("OUT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    import minidl
    minidl.seed(0)
    return runpy.run_path(str(HERE / f"{name}.py"), run_name="__main__")


@pytest.fixture
def real_data():
    if not os.path.isdir(os.environ.get("MINIDL_DATA", "")):
        pytest.skip("real data: set MINIDL_DATA to the datasets folder (CI does)")


def test_mnist_mlp_with_rmsprop(real_data, monkeypatch, tmp_path):
    g = run_program("mnist_mlp", monkeypatch, tmp_path, SAMPLES=600, EPOCHS=2)
    assert g["score"][1] > 0.6
    assert set(g["history"].history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_mnist_cnn_with_adadelta_and_the_data_format_branch(real_data, monkeypatch, tmp_path):
    g = run_program("mnist_cnn", monkeypatch, tmp_path, SAMPLES=300, EPOCHS=2)
    assert g["input_shape"] == (28, 28, 1)
    assert g["score"][1] > 0.4


def test_cifar10_cnn_with_flow_fit_generator_and_an_h5_file(real_data, monkeypatch, tmp_path):
    g = run_program("cifar10_cnn", monkeypatch, tmp_path, SAMPLES=200, EPOCHS=1,
                    SAVE_DIR=tmp_path)
    saved = tmp_path / "saved_models" / "keras_cifar10_trained_model.h5"
    assert saved.is_file()
    from minidl.models import load_model
    again = load_model(saved)
    np.testing.assert_allclose(again.predict(g["x_test"][:8]), g["model"].predict(g["x_test"][:8]))
    assert np.isfinite(g["scores"][0]) and 0 <= g["scores"][1] <= 1


def test_transfer_learning_freezes_the_feature_layers(real_data, monkeypatch, tmp_path):
    g = run_program("mnist_transfer_cnn", monkeypatch, tmp_path, SAMPLES=600, EPOCHS=2)
    after = [w for layer in g["feature_layers"] for w in layer.get_weights()]
    for before, now in zip(g["frozen_weights"], after):
        np.testing.assert_array_equal(before, now)
    assert g["first_score"][1] > 0.5 and g["second_score"][1] > 0.4


def test_binary_classifier_with_sigmoid_and_binary_crossentropy(real_data, monkeypatch, tmp_path):
    g = run_program("binary_classifier", monkeypatch, tmp_path, SAMPLES=500, EPOCHS=4)
    assert g["accuracy"] > 0.8
    assert g["predictions"].shape == (100, 1) and set(np.unique(g["predictions"])) <= {0, 1}
    np.testing.assert_array_equal(g["predictions"], g["rounded"])
    assert "val_accuracy" in g["history"].history


def test_tensorflow_quickstart_with_logits_and_a_softmax_on_top(real_data, monkeypatch, tmp_path):
    g = run_program("tf_quickstart", monkeypatch, tmp_path, SAMPLES=600, EPOCHS=3)
    probs = g["probs"]
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    loss, acc = g["model"].evaluate(g["x_test"], g["y_test"], verbose=0)
    assert acc > 0.7
    # the wrapping model shares the trained layers
    assert g["probability_model"].layers[0] is g["model"].layers[0]


def test_callbacks_stop_restore_checkpoint_and_log(real_data, monkeypatch, tmp_path):
    g = run_program("fashion_callbacks", monkeypatch, tmp_path, SAMPLES=800, EPOCHS=12)
    epochs_run = len(g["history"].history["loss"])
    assert 1 <= epochs_run <= 12
    header, *rows = (tmp_path / "training.log").read_text().splitlines()
    assert header.split(",")[0] == "epoch" and {"val_loss", "val_acc", "lr"} <= set(header.split(","))
    assert len(rows) == epochs_run
    assert (tmp_path / "best_model.h5").is_file()


def _draw_tree(root, per_class, seed):
    """Two classes of 40x36 RGB PNGs: 'bottom' is bright in its lower half, 'top' in its upper."""
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(seed)
    for label in ("bottom", "top"):
        folder = root / label
        folder.mkdir(parents=True)
        for i in range(per_class):
            img = rng.integers(0, 90, (40, 36, 3)).astype(np.uint8)
            half = slice(0, 20) if label == "top" else slice(20, 40)
            img[half] += 150
            Image.fromarray(img).save(folder / f"{i}.png")


def test_own_images_through_flow_from_directory(monkeypatch, tmp_path):
    _draw_tree(tmp_path / "data" / "train", 40, seed=0)
    _draw_tree(tmp_path / "data" / "validation", 16, seed=1)
    g = run_program("shapes_flow_from_directory", monkeypatch, tmp_path,
                    DATA_DIR=tmp_path / "data", EPOCHS=6)
    assert g["train_generator"].class_indices == {"bottom": 0, "top": 1}
    assert g["probabilities"].shape == (32, 1)
    assert g["score"][1] > 0.8
    assert (tmp_path / "first_try.h5").is_file()
