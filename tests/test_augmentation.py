"""ImageDataGenerator: Keras 2 augmentation, one whole batch per call.

Every test runs on NumPy; the ones taking ``device`` also run on CuPy when a
GPU is visible. scipy and keras-preprocessing are not minidl dependencies:
the tests that compare against them skip when they are not installed.
"""
import numpy as np
import pytest

import minidl
from minidl import backend
from minidl.preprocessing import affine
from minidl.preprocessing.image import ImageDataGenerator, transform_batch

FILL_MODES = ("nearest", "constant", "reflect", "wrap")


@pytest.fixture(params=["cpu", pytest.param("gpu", marks=pytest.mark.skipif(
    not backend.gpu_available(), reason="CuPy with a visible GPU is needed for the GPU path"))])
def device(request):
    saved = backend.device()
    backend.set_device(request.param)
    yield request.param
    backend.set_device(saved)


def images(n=4, h=8, w=8, c=1, seed=0):
    """Random float32 images (N, H, W, C) on the host."""
    return np.random.default_rng(seed).random((n, h, w, c)).astype(np.float32)


def translation(n, dr, dc):
    """(N, 3, 3) matrices that read output (r, c) from input (r + dr, c + dc)."""
    m = np.tile(np.eye(3), (n, 1, 1))
    m[:, 0, 2], m[:, 1, 2] = dr, dc
    return m


def random_matrices(n, seed=0):
    rng = np.random.default_rng(seed)
    m = np.tile(np.eye(3), (n, 1, 1))
    m[:, :2, :2] += rng.normal(0, 0.3, (n, 2, 2))
    m[:, :2, 2] = rng.normal(0, 3, (n, 2))
    return m


# --------------------------------------------------------- transform_batch ---

@pytest.mark.parametrize("mode", FILL_MODES)
def test_identity_matrix_returns_the_input_exactly(device, mode):
    x = backend.asarray(images())
    out = transform_batch(x, backend.asarray(translation(4, 0, 0)), fill_mode=mode)
    np.testing.assert_array_equal(backend.to_numpy(out), backend.to_numpy(x))


def test_integer_shift_moves_the_image_and_fills_the_border(device):
    x = images(n=2, h=6, w=7, c=3)
    out = transform_batch(backend.asarray(x), backend.asarray(translation(2, 2, -1)),
                          fill_mode="constant", cval=-1.0)
    expected = np.full_like(x, -1.0)
    expected[:, :-2, 1:] = x[:, 2:, :-1]  # output (r, c) = input (r + 2, c - 1)
    np.testing.assert_array_equal(backend.to_numpy(out), expected)


def test_fill_modes_on_one_row():
    """Row a b c d read two pixels to the left of itself: the mode fills the gap."""
    x = np.array([1, 2, 3, 4], dtype=np.float32).reshape(1, 1, 4, 1)
    expected = {"nearest": [1, 1, 1, 2],    # a a | a b: edge repeated
                "constant": [9, 9, 1, 2],   # cval
                "reflect": [2, 1, 1, 2],    # b a | a b: mirrored about the edge
                "wrap": [3, 4, 1, 2]}       # c d | a b: tiled
    for mode, row in expected.items():
        out = transform_batch(x, translation(1, 0, -2), fill_mode=mode, cval=9.0)
        np.testing.assert_array_equal(out.ravel(), row, err_msg=mode)


def test_quarter_turns_equal_rot90(device):
    x = images(n=3, h=5, w=5, c=2)
    e = 5 - 1  # last index
    # np.rot90(x, k)[r, c] reads x at: k=1 (c, e - r); k=2 (e - r, e - c); k=3 (e - c, r)
    reads = {1: [[0, 1, 0], [-1, 0, e]], 2: [[-1, 0, e], [0, -1, e]], 3: [[0, -1, e], [1, 0, 0]]}
    for k, m in reads.items():
        out = transform_batch(backend.asarray(x), backend.asarray(np.tile(m, (3, 1, 1))))
        np.testing.assert_array_equal(backend.to_numpy(out), np.rot90(x, k, axes=(1, 2)))


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", FILL_MODES)
def test_numba_kernel_equals_the_array_reference(mode, order):
    pytest.importorskip("numba")
    x, m = images(n=6, h=9, w=7, c=3), random_matrices(6).astype(np.float32)[:, :2]
    fast = affine._transform_numba(x, np.ascontiguousarray(m), mode, -2.0, order)
    ref = affine._transform_reference(x, m, mode, -2.0, order)
    np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", FILL_MODES)
def test_matches_scipy_affine_transform(mode, order):
    ndimage = pytest.importorskip("scipy.ndimage")
    x, m = images(n=5, h=9, w=7, c=2), random_matrices(5)
    out = transform_batch(x, m, fill_mode=mode, cval=-2.0, interpolation_order=order)
    scipy_mode = "grid-wrap" if mode == "wrap" else mode  # scipy's 'wrap' has period n-1
    expected = np.stack([np.stack([
        ndimage.affine_transform(x[i, :, :, k].astype(np.float64), m[i], order=order,
                                 mode=scipy_mode, cval=-2.0) for k in range(2)], axis=-1)
        for i in range(5)])
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_gpu_equals_numpy_for_the_same_matrices():
    if not backend.gpu_available():
        pytest.skip("CuPy with a visible GPU is needed for the GPU path")
    import cupy
    x, m = images(n=8, h=12, w=10, c=3), random_matrices(8)
    for mode in FILL_MODES:
        for order in (0, 1):
            cpu = transform_batch(x, m, mode, -2.0, order)
            gpu = transform_batch(cupy.asarray(x), cupy.asarray(m), mode, -2.0, order)
            np.testing.assert_allclose(cupy.asnumpy(gpu), cpu, atol=1e-5, err_msg=mode)


# ------------------------------------------------ ImageDataGenerator.flow ---

def test_no_augmentation_yields_the_data_unchanged(device):
    x = (np.arange(5 * 4 * 4 * 3) % 256).astype(np.uint8).reshape(5, 4, 4, 3)
    it = ImageDataGenerator().flow(x, batch_size=5, shuffle=False)
    batch = next(it)
    assert it.x.dtype == np.uint8  # moved to the device as uint8, converted per batch
    assert batch.dtype == np.float32 and type(batch) is type(backend.asarray(x))
    np.testing.assert_array_equal(backend.to_numpy(batch), x.astype(np.float32))


@pytest.mark.parametrize("flip,axis", [("horizontal_flip", 2), ("vertical_flip", 1)])
def test_flips_mirror_exactly_about_half_of_the_images(device, flip, axis):
    x = images(n=200, h=5, w=6, c=2)
    batch = backend.to_numpy(next(ImageDataGenerator(**{flip: True}).flow(
        x, batch_size=200, shuffle=False, seed=0)))
    flipped = np.array([np.array_equal(b, np.flip(a, axis - 1)) for a, b in zip(x, batch)])
    kept = np.array([np.array_equal(b, a) for a, b in zip(x, batch)])
    assert np.all(flipped | kept)
    assert 70 < flipped.sum() < 130  # p = 0.5


def test_apply_transform_quarter_turns_equal_rot90(device):
    x = images(n=1, h=7, w=7, c=3)[0]
    datagen = ImageDataGenerator()
    # as in Keras, theta = +90 turns the picture clockwise as displayed: np.rot90(k=-1)
    for theta, k in [(90, -1), (180, 2), (270, 1), (-90, 1)]:
        out = backend.to_numpy(datagen.apply_transform(x, {"theta": theta}))
        np.testing.assert_array_equal(out, np.rot90(x, k))


def test_apply_transform_shift_and_flip_keys(device):
    x = images(n=1, h=6, w=6)[0]
    datagen = ImageDataGenerator(fill_mode="constant", cval=0.0)
    out = backend.to_numpy(datagen.apply_transform(x, {"tx": 2, "ty": 1}))  # tx rows, ty cols
    expected = np.zeros_like(x)
    expected[:-2, :-1] = x[2:, 1:]
    np.testing.assert_array_equal(out, expected)
    out = backend.to_numpy(datagen.apply_transform(x, {"flip_horizontal": True}))
    np.testing.assert_array_equal(out, x[:, ::-1])


def test_zoom_above_one_shrinks_the_content():
    x = np.zeros((21, 21, 1), np.float32)
    x[6:15, 6:15] = 1.0  # a 9x9 square around the centre (10, 10)

    def extent(img):  # (height, width) of the bright part
        rows, cols = np.nonzero(img[..., 0] > 0.5)
        return np.ptp(rows) + 1, np.ptp(cols) + 1

    datagen = ImageDataGenerator(fill_mode="constant")
    # output pixel d from the centre reads input 1.5 d: about 9 / 1.5 = 6 pixels remain
    assert extent(datagen.apply_transform(x, {"zx": 1.5, "zy": 1.5})) == (5, 5)
    assert extent(datagen.apply_transform(x, {"zy": 1.5})) == (9, 5)  # zy: the column axis
    assert extent(datagen.apply_transform(x, {"zx": 0.5})) == (17, 9)  # z < 1 enlarges


def test_shear_units_degrees_and_radians_agree():
    x = images(n=1, h=9, w=9)[0]
    in_degrees = ImageDataGenerator().apply_transform(x, {"shear": np.rad2deg(0.3)})
    in_radians = ImageDataGenerator(shear_units="radians").apply_transform(x, {"shear": 0.3})
    np.testing.assert_allclose(in_degrees, in_radians, atol=1e-6)
    assert not np.allclose(in_degrees, x)


def test_random_transform_is_apply_transform_of_get_random_transform():
    x = images(n=1, h=10, w=12, c=3)[0]
    datagen = ImageDataGenerator(rotation_range=20, width_shift_range=0.1, shear_range=5,
                                 zoom_range=0.2, horizontal_flip=True, channel_shift_range=0.1,
                                 brightness_range=(0.5, 1.5))
    params = datagen.get_random_transform(x.shape, seed=3)
    assert set(params) == {"theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal",
                           "flip_vertical", "channel_shift_intensity", "brightness"}
    assert ImageDataGenerator().get_random_transform(x.shape)["brightness"] is None
    np.testing.assert_array_equal(datagen.random_transform(x, seed=3),
                                  datagen.apply_transform(x, params))


# -------------------------------------------- random ranges (statistics) ---

def draws(datagen, n=20000, h=28, w=32):
    """n parameter sets as flow() draws them for a batch (host copies), from a
    generator of the active device (NumPy's PCG64, or CuPy's XORWOW)."""
    params = datagen._draw(n, h, w, datagen._generator(0))
    return {k: backend.to_numpy(v) for k, v in params.items()}


def test_rotation_angles_are_uniform_within_the_range():
    theta = draws(ImageDataGenerator(rotation_range=8))["theta"]
    assert theta.min() >= -8 and theta.max() <= 8
    counts, _ = np.histogram(theta, bins=8, range=(-8, 8))
    assert np.all(np.abs(counts - 2500) < 250)  # ~5 sigma of a binomial count


def test_float_shift_ranges_are_fractions_of_the_size():
    p = draws(ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.25))
    assert np.abs(p["ty"]).max() <= 0.1 * 32 and np.abs(p["ty"]).max() > 0.09 * 32
    assert np.abs(p["tx"]).max() <= 0.25 * 28 and np.abs(p["tx"]).max() > 0.24 * 28
    assert abs(p["tx"].mean()) < 0.1


def test_int_and_list_shift_ranges_pick_values_with_a_random_sign():
    p = draws(ImageDataGenerator(width_shift_range=3, height_shift_range=[0.5, 2.0]))
    assert set(np.unique(p["ty"])) == {-2, -1, 0, 1, 2}  # int 3: 0, 1 or 2 pixels, either sign
    assert set(np.unique(p["tx"])) == {-2.0, -0.5, 0.5, 2.0}  # max >= 1: pixels
    p = draws(ImageDataGenerator(height_shift_range=[0.25, 0.5]))
    assert set(np.unique(p["tx"])) == {-14.0, -7.0, 7.0, 14.0}  # max < 1: fractions of 28


def test_zoom_x_and_y_are_drawn_independently():
    p = draws(ImageDataGenerator(zoom_range=[0.8, 1.2]))
    for z in (p["zx"], p["zy"]):
        assert z.min() >= 0.8 and z.max() <= 1.2
    assert abs(np.corrcoef(p["zx"], p["zy"])[0, 1]) < 0.05
    assert ImageDataGenerator(zoom_range=0.2).zoom_range == (0.8, 1.2)


def test_shear_and_flips():
    p = draws(ImageDataGenerator(shear_range=0.3, horizontal_flip=True))
    assert np.abs(p["shear"]).max() <= 0.3
    assert 0.47 < p["flip_horizontal"].mean() < 0.53 and p["flip_vertical"].max() == 0


# ------------------------------------------------------ iterator contract ---

def test_labels_stay_aligned_with_their_images(device):
    n = 50
    x = np.repeat(np.arange(n, dtype=np.float32), 6 * 6).reshape(n, 6, 6, 1)  # image i is all i
    y = np.arange(n)
    it = ImageDataGenerator(rotation_range=30, width_shift_range=0.2, zoom_range=0.2,
                            horizontal_flip=True).flow(x, y, batch_size=16, seed=1)
    assert len(it) == 4
    seen = []
    for _ in range(len(it)):
        xb, yb = (backend.to_numpy(a) for a in next(it))
        np.testing.assert_allclose(xb.mean(axis=(1, 2, 3)), yb, atol=1e-4)
        seen.append(yb)
    assert [len(b) for b in seen] == [16, 16, 16, 2]  # last batch partial
    epoch1 = np.concatenate(seen)
    assert sorted(epoch1) == list(range(n)) and not np.array_equal(epoch1, y)
    epoch2 = np.concatenate([backend.to_numpy(next(it)[1]) for _ in range(len(it))])
    assert sorted(epoch2) == list(range(n)) and not np.array_equal(epoch1, epoch2)


def test_seeds_make_the_stream_repeatable(device):
    x = images(n=20)
    datagen = ImageDataGenerator(rotation_range=10, zoom_range=0.1)
    a = [backend.to_numpy(next(datagen.flow(x, seed=5, batch_size=8))) for _ in range(2)]
    np.testing.assert_array_equal(a[0], a[1])
    batches = []
    for _ in range(2):
        minidl.seed(7)  # without flow(seed=...), minidl.seed governs the stream
        it = datagen.flow(x, batch_size=8)
        batches.append([backend.to_numpy(next(it)) for _ in range(3)])
    for b0, b1 in zip(*batches):
        np.testing.assert_array_equal(b0, b1)


# ---------------------------------------------------------- normalization ---

def test_standardize_runs_after_augmentation(device):
    x = images(n=8, h=10, w=10, c=3) + 1.0
    # the shift pads zeros; centring afterwards still gives each image mean 0
    datagen = ImageDataGenerator(width_shift_range=0.3, fill_mode="constant", cval=0.0,
                                 samplewise_center=True, samplewise_std_normalization=True)
    batch = backend.to_numpy(next(datagen.flow(x, batch_size=8, seed=0)))
    np.testing.assert_allclose(batch.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(batch.std(axis=(1, 2, 3)), 1, atol=1e-4)


def test_standardize_order_rescale_samplewise_featurewise():
    x = np.random.default_rng(1).integers(0, 256, (6, 4, 4, 3)).astype(np.float32)
    datagen = ImageDataGenerator(rescale=1 / 255, samplewise_center=True,
                                 featurewise_center=True, featurewise_std_normalization=True)
    datagen.fit(x)
    expected = x * np.float32(1 / 255)
    expected = expected - expected.mean(axis=(1, 2, 3), keepdims=True)
    expected = (expected - datagen.mean) / (datagen.std + 1e-6)
    np.testing.assert_allclose(datagen.standardize(x), expected, rtol=1e-5, atol=1e-6)


def test_fit_computes_per_channel_mean_and_std(device):
    x = np.random.default_rng(2).integers(0, 256, (30, 5, 5, 3)).astype(np.uint8)
    datagen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True,
                                 rescale=1 / 255).fit(x)
    xs = x / 255.0
    np.testing.assert_allclose(backend.to_numpy(datagen.mean).ravel(), xs.mean(axis=(0, 1, 2)), rtol=1e-6)
    np.testing.assert_allclose(backend.to_numpy(datagen.std).ravel(), xs.std(axis=(0, 1, 2)), rtol=1e-5)
    batch = backend.to_numpy(next(datagen.flow(x, batch_size=30)))
    np.testing.assert_allclose(batch.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(batch.std(axis=(0, 1, 2)), 1, atol=1e-4)


def test_fit_with_augment_takes_statistics_of_augmented_copies():
    x = np.ones((16, 8, 8, 1), np.float32)
    datagen = ImageDataGenerator(featurewise_center=True, width_shift_range=0.5,
                                 fill_mode="constant", cval=0.0)
    assert datagen.fit(x).mean.ravel()[0] == 1.0
    assert datagen.fit(x, augment=True, rounds=2, seed=0).mean.ravel()[0] < 0.9  # zero padding


def test_featurewise_without_fit_is_an_error():
    with pytest.raises(RuntimeError, match="fit"):
        next(ImageDataGenerator(featurewise_center=True).flow(images()))


# --------------------------------------------------------------- bad input ---

@pytest.mark.parametrize("shape", [(4, 1, 28, 28), (4, 3, 32, 32)])
def test_channels_first_input_is_refused(shape):
    with pytest.raises(ValueError, match="channels-last"):
        ImageDataGenerator().flow(np.zeros(shape, np.float32))


@pytest.mark.parametrize("kwargs,match", [
    (dict(y=np.zeros(3)), "same length"),
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=2.5), "batch_size"),
])
def test_flow_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ImageDataGenerator().flow(images(n=4), **kwargs)


def test_flow_needs_a_batch_of_images():
    with pytest.raises(ValueError, match=r"rank-4 array \(N, H, W, C\)"):
        ImageDataGenerator().flow(images(n=1)[0])


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(width_shift_range="0.1"), TypeError, "width_shift_range"),
    (dict(height_shift_range=[[1, 2]]), TypeError, "height_shift_range"),
    (dict(rotation_range=None), TypeError, "rotation_range"),
    (dict(zoom_range=[0.9, 1.0, 1.1]), ValueError, "zoom_range"),
    (dict(fill_mode="mirror"), ValueError, "fill_mode"),
    (dict(interpolation_order=3), ValueError, "interpolation_order"),
    (dict(shear_units="grad"), ValueError, "shear_units"),
])
def test_generator_arguments_are_checked(kwargs, error, match):
    with pytest.raises(error, match=match):
        ImageDataGenerator(**kwargs)


def test_transform_batch_checks_matrix_shape():
    with pytest.raises(ValueError, match=r"\(4, 2, 3\) or \(4, 3, 3\)"):
        transform_batch(images(n=4), np.zeros((3, 2, 3)))


# ------------------------------------- against keras-preprocessing 1.1.2 ---

@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # its scipy.ndimage.interpolation import
def test_same_numbers_as_keras_preprocessing():
    kp = pytest.importorskip("keras_preprocessing.image")
    from keras_preprocessing.image.affine_transformations import transform_matrix_offset_center
    x = images(n=1, h=12, w=10, c=3)[0]
    mine = ImageDataGenerator(fill_mode="reflect")
    keras = kp.ImageDataGenerator(fill_mode="reflect")
    # shifts and flips do not depend on the centre: identical results
    for params in [{"tx": 3, "ty": -2}, {"tx": 1.5, "flip_horizontal": True},
                   {"flip_vertical": True, "ty": 4}]:
        np.testing.assert_allclose(mine.apply_transform(x, params),
                                   keras.apply_transform(x, params), atol=1e-5)
    # rotation/shear/zoom: given Keras's own centre (size/2 + 0.5), the same
    # matrix gives the same image, so the centre is the only difference
    params = {"theta": 20, "shear": 10, "zx": 0.9, "zy": 1.2, "tx": 1, "ty": 2}
    as_arrays = {k: np.array([float(v)]) for k, v in
                 dict(params, flip_horizontal=0, flip_vertical=0).items()}
    uncentred = mine._matrices(as_arrays, 1, 1)[0]  # R @ T @ Sh @ Z: a 1x1 image's centre is 0
    m = transform_matrix_offset_center(uncentred, 12, 10)
    np.testing.assert_allclose(transform_batch(x[None], m[None], "reflect")[0],
                               keras.apply_transform(x, params), atol=1e-5)
    # and with minidl's centre the difference is a sub-pixel shift for small warps
    smooth = np.fromfunction(lambda r, c, k: np.sin(r / 3) + np.cos(c / 4) + k,
                             (12, 10, 3)).astype(np.float32)
    small = {"theta": 8, "zx": 1.08, "zy": 0.95}
    diff = np.abs(mine.apply_transform(smooth, small) - keras.apply_transform(smooth, small))
    assert diff.max() < 0.15 and diff.max() > 1e-3


@pytest.mark.parametrize("device", ["cpu"], indirect=True)  # numba runs on the CPU only
def test_without_numba_the_array_reference_gives_the_same_batches(device, monkeypatch):
    """The array code is also what runs on CuPy: the whole flow() path through it."""
    x = images(n=12, h=9, w=9, c=3)
    datagen = ImageDataGenerator(rotation_range=15, width_shift_range=0.1, shear_range=5,
                                 zoom_range=0.1, horizontal_flip=True, fill_mode="reflect")
    fast = next(datagen.flow(x, batch_size=12, seed=4))
    monkeypatch.setattr(affine, "numba", None)
    np.testing.assert_allclose(next(datagen.flow(x, batch_size=12, seed=4)), fast, atol=1e-6)
