"""Initializers by the names Keras programs use, with Keras 2.2.4's statistics."""
import numpy as np
import pytest

from minidl import initializers
from minidl.layers import Dense
from minidl.models import Sequential, load_model


def test_truncated_normal_keeps_within_two_standard_deviations():
    w = initializers.get("truncated_normal")((300, 200), dtype="float64")
    assert np.abs(w).max() <= 2 * 0.05
    assert abs(w.std() - 0.05 * 0.8796) < 0.002        # the std of N(0, s) cut at 2 s
    w = initializers.TruncatedNormal(mean=1.0, stddev=0.1, seed=3)((1000,))
    assert w.min() >= 0.8 and w.max() <= 1.2 and abs(w.mean() - 1.0) < 0.01


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (3, 3, 2, 5)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    w = initializers.Orthogonal(gain=2.0, seed=0)(shape, dtype="float64")
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    small = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(small, 4.0 * np.eye(len(small)), atol=1e-12)


def test_identity_and_its_refusal_of_other_shapes():
    np.testing.assert_array_equal(initializers.get("identity")((3, 3)), np.eye(3))
    for shape in ((2, 3), (3, 3, 1, 1)):
        with pytest.raises(ValueError, match="only square 2-D weights"):
            initializers.Identity()(shape)


def test_new_initializers_survive_save_and_load(tmp_path):
    model = Sequential([Dense(4, input_shape=(3,), kernel_initializer=initializers.Orthogonal(0.5)),
                        Dense(2, kernel_initializer="truncated_normal")])
    model.save(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_layers_initializers_survive_its_config():
    """model_from_json / from_config rebuild Dense with its own initializers."""
    layer = Dense(3, kernel_initializer="zeros", bias_initializer=initializers.Constant(0.5))
    again = Dense.from_config(layer.get_config())
    again.build((4,))
    np.testing.assert_array_equal(again.get_weights()[0], np.zeros((4, 3)))
    np.testing.assert_array_equal(again.get_weights()[1], np.full(3, 0.5))
