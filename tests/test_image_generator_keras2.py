"""ImageDataGenerator's data side, keras-preprocessing 1.1.2 semantics (Keras 2.2-2.3):
standardize, preprocessing_function, channel_shift_range, brightness_range,
zca_whitening, validation_split / subset, and flow_from_directory.

Each feature is checked against a direct NumPy (or Pillow, where Keras goes
through Pillow) computation of the 1.1.2 formula. Tests taking ``device`` run
on NumPy, and on CuPy when a GPU is visible.
"""
import sys
import warnings

import numpy as np
import pytest

from minidl import backend
from minidl.preprocessing.image import DirectoryIterator, ImageDataGenerator
from minidl.preprocessing.intensity import brightness_batch, channel_shift_batch

Image = pytest.importorskip("PIL.Image")
ImageEnhance = pytest.importorskip("PIL.ImageEnhance")


@pytest.fixture(params=["cpu", pytest.param("gpu", marks=pytest.mark.skipif(
    not backend.gpu_available(), reason="CuPy with a visible GPU is needed for the GPU path"))])
def device(request):
    saved = backend.device()
    backend.set_device(request.param)
    yield request.param
    backend.set_device(saved)


def host(a):
    return backend.to_numpy(a)


def images(n=6, h=5, w=4, c=3, seed=0, scale=255.0):
    return (np.random.default_rng(seed).random((n, h, w, c)) * scale).astype(np.float32)


def quiet(**kwargs):
    """A generator built without the warnings of Keras's flag overrides."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ImageDataGenerator(**kwargs)


# ------------------------------------------------------------ standardize ---

def test_standardize_takes_one_image_or_a_batch(device):
    x = images()
    datagen = quiet(rescale=1 / 255, samplewise_center=True, samplewise_std_normalization=True,
                    featurewise_center=True, featurewise_std_normalization=True).fit(x)
    batch = host(datagen.standardize(x))
    for i in range(len(x)):
        np.testing.assert_allclose(host(datagen.standardize(x[i])), batch[i], rtol=1e-6)
    # 1.1.2 per image: rescale, centre, / (std + 1e-6), then - mean, / (std + 1e-6)
    e = x * np.float32(1 / 255)
    e = e - e.mean(axis=(1, 2, 3), keepdims=True)
    e = e / (e.std(axis=(1, 2, 3), keepdims=True) + 1e-6)
    e = (e - host(datagen.mean)) / (host(datagen.std) + 1e-6)
    np.testing.assert_allclose(batch, e, rtol=1e-5, atol=1e-5)
    assert x.max() > 1  # x itself untouched


def test_preprocessing_function_comes_first_on_each_image(device):
    x = images(n=4)
    seen = []

    def darken_top_row(img):  # a user function of one (H, W, C) image
        seen.append((img.shape, type(img)))
        out = img.copy()
        out[0] = out[0] * 0.5
        return out

    datagen = ImageDataGenerator(preprocessing_function=darken_top_row, rescale=0.01,
                                 samplewise_center=True)
    out = host(datagen.standardize(x))
    expected = x.copy()
    expected[:, 0] *= 0.5        # before rescale, as in 1.1.2's standardize
    expected *= np.float32(0.01)
    expected -= expected.mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert seen == [((5, 4, 3), type(backend.asarray(x)))] * 4  # device arrays, one per image


def test_preprocessing_function_sees_augmented_pixels_before_rescale():
    x = np.zeros((20, 4, 4, 1), np.uint8)
    x[:, :, 0] = 200  # left column bright
    inputs = []

    def record(img):
        inputs.append(host(img).copy())
        return img

    datagen = ImageDataGenerator(horizontal_flip=True, rescale=1 / 255,
                                 preprocessing_function=record)
    batch = host(next(datagen.flow(x, batch_size=20, shuffle=False, seed=0)))
    assert len(inputs) == 20
    for img, out in zip(inputs, batch):
        assert img.max() == 200  # 0..255: rescale comes after
        np.testing.assert_allclose(out, img / 255, rtol=1e-6)
    flipped = sum(img[0, -1, 0] == 200 for img in inputs)  # bright column moved right
    assert 0 < flipped < 20


def test_preprocessing_function_must_keep_the_shape():
    datagen = ImageDataGenerator(preprocessing_function=lambda img: img[:2])
    with pytest.raises(ValueError, match=r"preprocessing_function must return .*\(5, 4, 3\)"):
        datagen.standardize(images())
    with pytest.raises(TypeError, match="preprocessing_function must be callable"):
        ImageDataGenerator(preprocessing_function="vgg16")


# --------------------------------------------------------- channel shift ---

def test_channel_shift_is_one_value_clipped_to_the_image_range(device):
    x = images(n=3, scale=1.0)
    intensity = np.array([-0.3, 0.05, 0.4])
    out = host(channel_shift_batch(backend.asarray(x), backend.asarray(intensity)))
    for img, c, o in zip(x, intensity, out):  # 1.1.2 apply_channel_shift, one image
        np.testing.assert_allclose(o, np.clip(img + np.float32(c), img.min(), img.max()), rtol=1e-6)


def test_flow_channel_shift_draws_one_intensity_per_image(device):
    x = images(n=40, h=6, w=6, c=3, scale=1.0)
    batch = host(next(ImageDataGenerator(channel_shift_range=0.2).flow(
        x, batch_size=40, shuffle=False, seed=1)))
    shifts = []
    for img, out in zip(x, batch):
        inside = (out > img.min()) & (out < img.max())  # pixels the clip left alone
        d = (out - img)[inside]
        np.testing.assert_allclose(d, d[0], atol=1e-6)   # the same c for every channel
        shifts.append(d[0])
    assert np.abs(shifts).max() <= 0.2 and np.std(shifts) > 0.05


# ------------------------------------------------------------ brightness ---

def keras_brightness(img, factor):
    """keras-preprocessing 1.1.2 apply_brightness_shift of one image, through Pillow:
    array_to_img (scale=True), ImageEnhance.Brightness, img_to_array."""
    x = img.astype(np.float32)
    x = x - x.min()
    if x.max() != 0:
        x = x / x.max()
    x = (x * 255).astype(np.uint8)
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[x.shape[-1]]
    pil = Image.fromarray(x[..., 0] if mode == "L" else x, mode)
    out = np.asarray(ImageEnhance.Brightness(pil).enhance(factor), dtype=np.float32)
    return out[..., None] if out.ndim == 2 else out


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_brightness_equals_keras_pil_round_trip(device, channels):
    x = images(n=5, h=6, w=7, c=channels, scale=300.0) - 20  # any range: 1.1.2 stretches it
    x[4] = 7.0  # a flat image
    factors = np.array([0.0, 0.45, 1.0, 1.3, 2.5])
    out = host(brightness_batch(backend.asarray(x), backend.asarray(factors)))
    for img, f, o in zip(x, factors, out):
        np.testing.assert_array_equal(o, keras_brightness(img, f))


def test_flow_brightness_factors_are_uniform_in_the_range(device):
    x = np.tile(np.linspace(0, 255, 16, dtype=np.float32).reshape(1, 4, 4, 1), (300, 1, 1, 1))
    batch = host(next(ImageDataGenerator(brightness_range=(0.5, 0.9)).flow(
        x, batch_size=300, shuffle=False, seed=2)))
    factor = batch[:, -1, -1, 0] / 255  # the brightest pixel: floor(255 f)
    assert factor.min() >= 0.495 and factor.max() <= 0.9
    assert abs(factor.mean() - 0.7) < 0.03
    with pytest.raises(ValueError, match="brightness_range"):
        ImageDataGenerator(brightness_range=0.5)


# ---------------------------------------------------------------- ZCA -------

def numpy_zca(x, rescale, eps=1e-6):
    """1.1.2 fit: rescale, centre per channel, sigma = X^T X / N, U diag(1/sqrt(S+eps)) U^T."""
    xs = x.astype(np.float64) * rescale
    flat = (xs - xs.mean(axis=(0, 1, 2))).reshape(len(x), -1)
    u, s, _ = np.linalg.svd(flat.T @ flat / len(flat))
    return (u * (1 / np.sqrt(s + eps))) @ u.T


def test_zca_whitening_matches_the_formula_and_whitens(device):
    rng = np.random.default_rng(3)
    base = rng.random((200, 2, 3, 3))
    x = (255 * (0.6 * base + 0.4 * base[:, ::-1])).astype(np.float32)  # correlated pixels
    with pytest.warns(UserWarning, match="overrides setting of `featurewise_center`"):
        datagen = ImageDataGenerator(zca_whitening=True, rescale=1 / 255)
    datagen.fit(x)
    pc = host(datagen.principal_components)
    np.testing.assert_allclose(pc, numpy_zca(x, 1 / 255), rtol=1e-4, atol=1e-4)
    out = host(next(datagen.flow(x, batch_size=200, shuffle=False)))
    xs = x * np.float32(1 / 255) - host(datagen.mean)
    np.testing.assert_allclose(out, (xs.reshape(200, -1) @ pc).reshape(x.shape), rtol=1e-4, atol=1e-4)
    flat = out.reshape(200, -1)
    np.testing.assert_allclose(flat.T @ flat / 200, np.eye(18), atol=2e-3)  # whitened


def test_zca_uses_zca_epsilon_and_checks_the_image_size():
    x = images(n=30, h=2, w=2, c=3)
    datagen = quiet(zca_whitening=True, zca_epsilon=0.5).fit(x)
    np.testing.assert_allclose(datagen.principal_components, numpy_zca(x, 1.0, eps=0.5), rtol=1e-5)
    with pytest.raises(ValueError, match="ZCA matrix from fit"):
        datagen.standardize(images(n=2, h=3, w=2, c=3))
    with pytest.raises(RuntimeError, match="fit"):
        quiet(zca_whitening=True).standardize(x)


def test_keras_flag_overrides_warn():
    with pytest.warns(UserWarning, match="zca_whitening"):
        datagen = ImageDataGenerator(zca_whitening=True, featurewise_center=True,
                                     featurewise_std_normalization=True)
    assert datagen.featurewise_center and not datagen.featurewise_std_normalization
    with pytest.warns(UserWarning, match="featurewise_std_normalization"):
        assert ImageDataGenerator(featurewise_std_normalization=True).featurewise_center
    with pytest.warns(UserWarning, match="samplewise_std_normalization"):
        assert ImageDataGenerator(samplewise_std_normalization=True).samplewise_center


def test_channels_first_is_refused_with_the_transpose():
    with pytest.raises(ValueError, match=r"channels-last.*transpose\(0, 2, 3, 1\)"):
        ImageDataGenerator(data_format="channels_first")
    assert ImageDataGenerator(data_format="channels_last").data_format == "channels_last"


# ------------------------------------------------------ validation_split ---

def test_flow_subsets_validation_is_the_first_samples(device):
    x = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1) * np.ones((1, 2, 2, 1), np.float32)
    y = np.array([0, 1] * 5)
    datagen = ImageDataGenerator(validation_split=0.3)
    val = datagen.flow(x, y, batch_size=10, shuffle=False, subset="validation")
    train = datagen.flow(x, y, batch_size=10, shuffle=False, subset="training")
    assert (val.n, train.n, len(val), len(train)) == (3, 7, 1, 1)
    xv, yv = (host(a) for a in next(val))
    xt, yt = (host(a) for a in next(train))
    np.testing.assert_array_equal(xv[:, 0, 0, 0], [0, 1, 2])  # int(10 * 0.3) = 3 first samples
    np.testing.assert_array_equal(xt[:, 0, 0, 0], np.arange(3, 10))
    np.testing.assert_array_equal(yv, y[:3])


def test_flow_subset_errors():
    x, y = images(n=10), np.array([0] * 5 + [1] * 5)
    with pytest.raises(ValueError, match="different classes"):  # sorted labels, as 1.1.2 says
        ImageDataGenerator(validation_split=0.2).flow(x, y, subset="training")
    with pytest.raises(ValueError, match="validation_split"):
        ImageDataGenerator().flow(x, subset="validation")
    with pytest.raises(ValueError, match="subset"):
        ImageDataGenerator(validation_split=0.2).flow(x, subset="test")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        ImageDataGenerator(validation_split=1.5)
    with pytest.raises(ValueError, match="save_to_dir"):
        ImageDataGenerator().flow(x, save_to_dir="/tmp")


# ---------------------------------------------------- flow_from_directory ---

COLOURS = {"cat": (200, 30, 30), "dog": (30, 200, 30), "bird": (30, 30, 200)}


@pytest.fixture
def tree(tmp_path):
    """tmp/images/{bird,cat,dog}/: 4 PNG/JPEG images each of the class colour
    plus noise, sizes 10x12 and 14x9, one in a nested folder; a stray text file."""
    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    for name, colour in COLOURS.items():
        for k in range(4):
            folder = root / name / ("more" if k == 3 else "")
            folder.mkdir(parents=True, exist_ok=True)
            h, w = (10, 12) if k % 2 else (14, 9)
            noise = rng.integers(-20, 21, (h, w, 3))
            a = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(a).save(folder / f"{name}{k}.{'jpg' if k == 1 else 'png'}")
    (root / "cat" / "notes.txt").write_text("not an image")
    return root


def decoded(path, mode, size, resample):
    """What 1.1.2 load_img + img_to_array give: open, convert, resize (w, h)."""
    with Image.open(path) as im:
        im = im.convert(mode)
        im = im.resize((size[1], size[0]), resample)
        a = np.asarray(im, dtype=np.float32)
    return a[..., None] if a.ndim == 2 else a


def test_directory_listing_follows_keras(tree, capsys):
    it = ImageDataGenerator().flow_from_directory(tree, target_size=(8, 8), batch_size=5)
    assert capsys.readouterr().out == "Found 12 images belonging to 3 classes.\n"
    assert isinstance(it, DirectoryIterator)
    assert it.class_indices == {"bird": 0, "cat": 1, "dog": 2}  # sorted folder names
    assert (it.samples, it.n, it.num_classes, len(it)) == (12, 12, 3, 3)
    assert it.filenames[:4] == ["bird/bird0.png", "bird/bird1.jpg", "bird/bird2.png",
                                "bird/more/bird3.png"]
    np.testing.assert_array_equal(it.classes, [0] * 4 + [1] * 4 + [2] * 4)
    assert it.classes.dtype == np.int32 and it.image_shape == (8, 8, 3)
    ordered = ImageDataGenerator().flow_from_directory(tree, classes=["dog", "cat"])
    assert ordered.class_indices == {"dog": 0, "cat": 1} and ordered.samples == 8


@pytest.mark.parametrize("color_mode,mode,channels", [
    ("rgb", "RGB", 3), ("grayscale", "L", 1), ("rgba", "RGBA", 4)])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_directory_images_are_decoded_and_resized_like_keras(tree, device, color_mode, mode,
                                                              channels, interpolation):
    it = ImageDataGenerator().flow_from_directory(
        tree, target_size=(7, 11), color_mode=color_mode, batch_size=12, shuffle=False,
        interpolation=interpolation)
    xb, yb = next(it)
    assert xb.dtype == np.float32 and type(xb) is type(backend.asarray(np.zeros(1)))
    assert xb.shape == (12, 7, 11, channels)
    resample = getattr(getattr(Image, "Resampling", Image), interpolation.upper())
    expected = np.stack([decoded(p, mode, (7, 11), resample) for p in it.filepaths])
    np.testing.assert_array_equal(host(xb), expected)


@pytest.mark.parametrize("class_mode", ["categorical", "sparse", "binary", "input", None])
def test_directory_class_modes(tree, device, class_mode):
    classes = ["cat", "dog"] if class_mode == "binary" else None
    it = ImageDataGenerator(rescale=1 / 255).flow_from_directory(
        tree, target_size=(6, 6), classes=classes, class_mode=class_mode, batch_size=8,
        shuffle=False)
    batch = next(it)
    if class_mode is None:
        assert batch.shape == (8, 6, 6, 3)
        return
    xb, yb = (host(a) for a in batch)
    assert yb.dtype == np.float32
    if class_mode == "categorical":
        np.testing.assert_array_equal(yb, np.eye(3, dtype=np.float32)[[0] * 4 + [1] * 4])
    elif class_mode in ("sparse", "binary"):  # 1.1.2: the class index as a float
        np.testing.assert_array_equal(yb, [0.0] * 4 + [1.0] * 4)
    else:
        np.testing.assert_array_equal(yb, xb)
        assert xb.max() <= 1.0  # standardized input, as Keras copies batch_x


def test_directory_subsets_split_each_class_folder(tree):
    datagen = ImageDataGenerator(validation_split=0.5)
    val = datagen.flow_from_directory(tree, subset="validation", shuffle=False)
    train = datagen.flow_from_directory(tree, subset="training", shuffle=False)
    assert val.filenames == ["bird/bird0.png", "bird/bird1.jpg", "cat/cat0.png", "cat/cat1.jpg",
                             "dog/dog0.png", "dog/dog1.jpg"]  # first int(4 * 0.5) of each class
    assert train.samples == 6 and not set(train.filenames) & set(val.filenames)
    np.testing.assert_array_equal(train.classes, [0, 0, 1, 1, 2, 2])


def test_directory_shuffle_and_seed(tree, device):
    datagen = ImageDataGenerator(rotation_range=20, horizontal_flip=True)

    def epoch(seed):
        it = datagen.flow_from_directory(tree, target_size=(6, 6), batch_size=5, seed=seed)
        batches = [next(it) for _ in range(len(it))]
        return it, [host(b[0]) for b in batches], np.concatenate([host(b[1]) for b in batches])

    it, xa, ya = epoch(7)
    _, xb, yb = epoch(7)
    for a, b in zip(xa, xb):
        np.testing.assert_array_equal(a, b)  # same seed: same order and same augmentation
    np.testing.assert_array_equal(ya, yb)
    assert ya.sum(axis=0).tolist() == [4, 4, 4]  # every image once per epoch
    assert not np.array_equal(ya.argmax(1), it.classes)  # shuffled
    _, _, yc = epoch(8)
    assert not np.array_equal(ya, yc)
    it.reset()
    assert it.batch_index == 0 and len(it[2][0]) == 2  # last batch partial


def test_directory_batches_are_augmented_like_flow(tree):
    datagen = ImageDataGenerator(rotation_range=30, zoom_range=0.2, channel_shift_range=20,
                                 brightness_range=(0.7, 1.2), rescale=1 / 255)
    it = datagen.flow_from_directory(tree, target_size=(8, 8), batch_size=12, shuffle=False,
                                     seed=4, class_mode=None)
    plain = ImageDataGenerator().flow_from_directory(tree, target_size=(8, 8), batch_size=12,
                                                     shuffle=False, class_mode=None)
    same = datagen.flow(next(plain), batch_size=12, shuffle=False, seed=4)
    np.testing.assert_allclose(host(next(it)), host(next(same)), rtol=1e-6)


def test_directory_errors(tree, tmp_path, monkeypatch):
    flow = ImageDataGenerator().flow_from_directory
    with pytest.raises(ValueError, match="save_to_dir"):
        flow(tree, save_to_dir=str(tmp_path))
    with pytest.raises(ValueError, match="class_mode"):
        flow(tree, class_mode="raw")
    with pytest.raises(ValueError, match="color_mode"):
        flow(tree, color_mode="cmyk")
    with pytest.raises(ValueError, match="target_size"):
        flow(tree, target_size=64)
    with pytest.raises(ValueError, match="binary' needs 2 classes"):
        flow(tree, class_mode="binary")
    with pytest.raises(ValueError, match=r"classes \['fish'\]"):
        flow(tree, classes=["cat", "fish"])
    with pytest.raises(FileNotFoundError, match="not a directory"):
        flow(tmp_path / "nowhere")
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="no images"):
        flow(tmp_path / "empty")
    with pytest.raises(ValueError, match="no images.*subset 'validation'"):
        ImageDataGenerator(validation_split=0.1).flow_from_directory(tree, subset="validation")
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"Pillow.*minidl\[images\]"):
        flow(tree)


def test_model_trains_on_flow_from_directory(tree):
    import minidl
    from minidl.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from minidl.models import Sequential

    minidl.seed(0)
    datagen = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True, validation_split=0.25)
    train = datagen.flow_from_directory(tree, target_size=(8, 8), batch_size=3, seed=0,
                                        subset="training")
    val = datagen.flow_from_directory(tree, target_size=(8, 8), batch_size=3, seed=0,
                                      subset="validation")
    model = Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 3)),
                        MaxPooling2D(2), Flatten(), Dense(3, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=minidl.optimizers.Adam(lr=0.03),
                  metrics=["accuracy"])
    history = model.fit_generator(train, steps_per_epoch=len(train), epochs=15, verbose=0,
                                  validation_data=val, validation_steps=len(val))
    more = model.fit(train, epochs=1, verbose=0)
    loss = history.history["loss"]
    assert len(loss) == 15 and loss[-1] < 0.75 * loss[0] and np.isfinite(more.history["loss"][0])
    assert model.evaluate(val, steps=len(val), verbose=0)[1] >= 2 / 3  # colours are easy
    test = ImageDataGenerator(rescale=1 / 255).flow_from_directory(
        tree, target_size=(8, 8), batch_size=5, class_mode=None, shuffle=False)
    assert model.predict_generator(test, steps=len(test)).shape == (12, 3)
