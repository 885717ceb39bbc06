"""load_img, img_to_array, array_to_img and save_img: single images between
files, PIL images and arrays, as keras-preprocessing 1.1.2 (Keras 2.2-2.3)
does it. Files are PNGs written here with Pillow; every expected value is
what Pillow itself gives for the same conversion or resize."""
import io
import sys

import numpy as np
import pytest

Image = pytest.importorskip("PIL.Image")

import minidl  # noqa: E402
from minidl import backend as K  # noqa: E402
from minidl.preprocessing import image, image_utils  # noqa: E402
from minidl.preprocessing.image import array_to_img, img_to_array, load_img, save_img  # noqa: E402

NEAREST, BILINEAR = Image.Resampling.NEAREST, Image.Resampling.BILINEAR


@pytest.fixture
def photos(tmp_path):
    """13 x 17 (h x w) PNGs in five Pillow modes, random pixels."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (13, 17, 3), dtype=np.uint8)
    files = {
        "RGB": Image.fromarray(rgb),
        "RGBA": Image.fromarray(rng.integers(0, 256, (13, 17, 4), dtype=np.uint8)),
        "L": Image.fromarray(rng.integers(0, 256, (13, 17), dtype=np.uint8)),
        "P": Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=16),
        "I;16": Image.fromarray(rng.integers(256, 60000, (13, 17), dtype=np.uint16)),
    }
    paths = {}
    for mode, im in files.items():
        paths[mode] = tmp_path / f"{mode.replace(';', '')}.png"
        im.save(paths[mode])
    return paths


def pillow_pixels(path, mode=None, size=None, resample=NEAREST):
    """What Pillow alone gives: open, convert, resize to (h, w) -> (H, W, C) float32."""
    with Image.open(path) as im:
        if mode is not None:
            im = im.convert(mode)
        if size is not None:
            im = im.resize((size[1], size[0]), resample)
        a = np.asarray(im, dtype=np.float32)
    return a[..., None] if a.ndim == 2 else a


def test_keras_import_paths_reach_the_functions():
    for name in ("load_img", "img_to_array", "array_to_img", "save_img"):
        assert getattr(image, name) is getattr(image_utils, name)
        assert name in image.__all__
    assert minidl.preprocessing.image.load_img is load_img


def test_load_img_gives_a_pil_image_and_img_to_array_its_pixels(photos):
    img = load_img(photos["RGB"])
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (17, 13)
    x = img_to_array(img)
    assert x.shape == (13, 17, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x, pillow_pixels(photos["RGB"]))


@pytest.mark.parametrize("source", ["RGB", "RGBA", "L", "P"])
@pytest.mark.parametrize("color_mode, pil_mode, channels",
                         [("rgb", "RGB", 3), ("rgba", "RGBA", 4), ("grayscale", "L", 1)])
def test_every_color_mode_converts_like_pillow(photos, source, color_mode, pil_mode, channels):
    img = load_img(photos[source], color_mode=color_mode)
    assert img.mode == pil_mode
    x = img_to_array(img)
    assert x.shape == (13, 17, channels)
    np.testing.assert_array_equal(x, pillow_pixels(photos[source], pil_mode))


def test_grayscale_keeps_16_bit_images_as_keras_does(photos):
    img = load_img(photos["I;16"], color_mode="grayscale")
    assert img.mode == "I;16"
    x = img_to_array(img)
    assert x.shape == (13, 17, 1) and x.max() > 255
    np.testing.assert_array_equal(x, pillow_pixels(photos["I;16"]))


def test_grayscale_true_is_a_deprecated_spelling_of_color_mode(photos):
    with pytest.warns(UserWarning, match='color_mode="grayscale"'):
        img = load_img(photos["RGB"], grayscale=True)
    assert img.mode == "L"


@pytest.mark.parametrize("interpolation, resample", [("nearest", NEAREST),
                                                     ("bilinear", BILINEAR)])
@pytest.mark.parametrize("target_size", [(7, 11), (20, 9)])
def test_target_size_resizes_like_pillow(photos, interpolation, resample, target_size):
    img = load_img(photos["RGB"], target_size=target_size, interpolation=interpolation)
    assert img.size == (target_size[1], target_size[0])
    np.testing.assert_array_equal(
        img_to_array(img), pillow_pixels(photos["RGB"], "RGB", target_size, resample))


def test_default_interpolation_is_nearest_and_same_size_is_untouched(photos):
    np.testing.assert_array_equal(
        img_to_array(load_img(photos["L"], color_mode="grayscale", target_size=(5, 6))),
        pillow_pixels(photos["L"], "L", (5, 6), NEAREST))
    np.testing.assert_array_equal(img_to_array(load_img(photos["RGB"], target_size=(13, 17))),
                                  pillow_pixels(photos["RGB"]))


def test_img_to_array_dtype_follows_floatx_unless_given(photos):
    img = load_img(photos["L"], color_mode="grayscale")
    assert img_to_array(img, dtype="uint8").dtype == np.uint8
    K.set_floatx("float64")
    assert img_to_array(img).dtype == np.float64
    assert img_to_array(np.zeros((4, 5))).shape == (4, 5, 1)  # a 2-D array gets a channel axis


def test_array_to_img_scale_maps_min_max_to_0_255():
    x = np.array([[[-1.0], [0.0]], [[0.5], [3.0]]])
    img = array_to_img(x)
    assert img.mode == "L"
    # (x + 1) / 4 * 255 in float32, truncated: 0, 63.75, 95.625, 255
    np.testing.assert_array_equal(np.asarray(img), [[0, 63], [95, 255]])
    assert np.asarray(array_to_img(np.full((2, 3, 3), 7.0))).max() == 0  # flat image: all 0


@pytest.mark.parametrize("channels, mode", [(1, "L"), (3, "RGB"), (4, "RGBA")])
def test_array_to_img_without_scale_keeps_levels(channels, mode):
    x = np.random.default_rng(1).uniform(0, 255.99, (6, 5, channels))
    img = array_to_img(x, scale=False)
    assert img.mode == mode and img.size == (5, 6)
    np.testing.assert_array_equal(np.asarray(img).reshape(6, 5, channels),
                                  x.astype(np.float32).astype(np.uint8))


def test_array_to_img_without_scale_clips_and_keeps_big_grayscale_values():
    np.testing.assert_array_equal(
        np.asarray(array_to_img(np.array([[[-5.0, 300.0, 12.5]]]), scale=False)), [[[0, 255, 12]]])
    big = array_to_img(np.array([[[1000.0], [7.0]]]), scale=False)   # above 255: 32-bit
    assert big.mode == "I"
    np.testing.assert_array_equal(np.asarray(big), [[1000, 7]])


def test_array_to_img_takes_arrays_of_any_device(xp):
    x = xp.asarray(np.arange(24, dtype=np.float32).reshape(2, 4, 3) * 10)
    np.testing.assert_array_equal(np.asarray(array_to_img(x, scale=False)),
                                  np.arange(24).reshape(2, 4, 3) * 10)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_save_img_then_load_img_round_trips_through_png(tmp_path, channels):
    x = np.random.default_rng(2).integers(0, 256, (9, 7, channels)).astype(np.float32)
    path = tmp_path / "out.png"
    save_img(path, x, scale=False)
    mode = {1: "grayscale", 3: "rgb", 4: "rgba"}[channels]
    np.testing.assert_array_equal(img_to_array(load_img(path, color_mode=mode)), x)


def test_save_img_scales_by_default_and_writes_file_objects():
    x = np.linspace(-1, 1, 4 * 5 * 3).reshape(4, 5, 3)
    buffer = io.BytesIO()
    save_img(buffer, x, file_format="png")
    buffer.seek(0)
    np.testing.assert_array_equal(np.asarray(Image.open(buffer)), np.asarray(array_to_img(x)))
    assert np.asarray(Image.open(buffer)).max() == 255


def test_save_img_rgba_as_jpeg_warns_and_drops_alpha(tmp_path):
    x = np.full((8, 8, 4), 200.0)
    for path, fmt in ((tmp_path / "a.jpg", None), (tmp_path / "b.img", "jpg")):
        with pytest.warns(UserWarning, match="RGBA image is converted to RGB"):
            save_img(path, x, file_format=fmt, scale=False)
        with Image.open(path) as im:
            assert (im.format, im.mode) == ("JPEG", "RGB")


def test_save_img_passes_keyword_arguments_to_pillow(tmp_path):
    x = np.random.default_rng(3).uniform(0, 255, (32, 32, 3))
    save_img(tmp_path / "fine.jpg", x, quality=95)
    save_img(tmp_path / "coarse.jpg", x, quality=5)
    assert (tmp_path / "fine.jpg").stat().st_size > 2 * (tmp_path / "coarse.jpg").stat().st_size


def test_a_photo_goes_through_a_model(photos):
    """The Keras pattern: load, to array, add a batch axis, predict."""
    model = minidl.models.Sequential([minidl.layers.Flatten(input_shape=(8, 8, 3)),
                                      minidl.layers.Dense(2, activation="softmax")])
    x = img_to_array(load_img(photos["RGBA"], target_size=(8, 8))) / 255.0
    p = model.predict(np.expand_dims(x, axis=0))
    assert p.shape == (1, 2)
    np.testing.assert_allclose(K.to_numpy(p).sum(), 1.0, rtol=1e-6)


@pytest.mark.parametrize("call, hint", [
    (lambda: img_to_array(np.zeros((2, 2, 3)), data_format="channels_first"),
     r"x.transpose\(2, 0, 1\)"),
    (lambda: array_to_img(np.zeros((3, 2, 2)), data_format="channels_first"),
     r"x.transpose\(1, 2, 0\)"),
    (lambda: save_img("x.png", np.zeros((3, 2, 2)), data_format="channels_first"),
     r"x.transpose\(1, 2, 0\)"),
])
def test_channels_first_is_refused_with_the_transpose_to_use(call, hint):
    with pytest.raises(ValueError, match="minidl is channels-last") as e:
        call()
    assert e.match(hint)


@pytest.mark.parametrize("kwargs, message", [
    (dict(color_mode="cmyk"), r"color_mode must be one of \['rgb', 'grayscale', 'rgba'\], "
                              r"received 'cmyk'"),
    (dict(target_size=(0, 4)), r"target_size must be None or \(height, width\)"),
    (dict(target_size=64), r"target_size .* received 64"),
    (dict(interpolation="cubic"), r"interpolation must be one of .*received 'cubic'"),
])
def test_load_img_rejects_bad_arguments(photos, kwargs, message):
    with pytest.raises(ValueError, match="load_img: " + message):
        load_img(photos["RGB"], **kwargs)


def test_load_img_file_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_img(tmp_path / "missing.png")
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match=r"load_img: cannot decode .*notes.png"):
        load_img(tmp_path / "notes.png")
    with pytest.raises(TypeError, match="path must be a file name"):
        load_img(io.BytesIO(b""))


def test_array_to_img_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"one image \(H, W, C\), received .* \(2, 4, 4, 3\)"):
        array_to_img(np.zeros((2, 4, 4, 3)))
    with pytest.raises(ValueError, match=r"1 \(grayscale\), 3 \(RGB\) or 4 \(RGBA\) channels, "
                                         r"received 2"):
        array_to_img(np.zeros((4, 4, 2)))
    with pytest.raises(ValueError, match=r"2-D or 3-D image, received .* \(1, 2, 2, 3\)"):
        img_to_array(np.zeros((1, 2, 2, 3)))


def test_missing_pillow_is_a_clear_import_error(monkeypatch, photos):
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    for call in (lambda: load_img(photos["RGB"]), lambda: array_to_img(np.zeros((2, 2, 3)))):
        with pytest.raises(ImportError, match=r"Pillow.*pip install minidl\[images\]"):
            call()
