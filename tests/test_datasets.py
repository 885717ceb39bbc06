"""minidl.datasets: where data comes from, how it is checked, how it is parsed.

Most tests build tiny datasets by hand in temporary directories. The tests at
the end load the real MNIST, Fashion-MNIST and CIFAR-10 (JPEG copy) from the
directory in MINIDL_DATA, and are skipped when it is unset.
"""
import gzip
import hashlib
import importlib
import os
import struct
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import minidl
from minidl import datasets
from minidl.datasets import _files, cifar10, fashion_mnist, mnist
from minidl.datasets.idx import load_idx, parse_idx

image_folder_module = importlib.import_module("minidl.datasets.image_folder")

REAL_DATA = os.environ.get("MINIDL_DATA")   # read before the fixture below hides it


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Each test gets its own empty cache, no MINIDL_DATA, and no network:
    only file:// URLs may be opened."""
    monkeypatch.setenv("MINIDL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MINIDL_DATA", raising=False)
    real_urlopen = urllib.request.urlopen

    def local_only(url, *args, **kwargs):
        assert url.startswith("file:"), f"a test tried to reach the network: {url}"
        return real_urlopen(url, *args, **kwargs)
    monkeypatch.setattr(urllib.request, "urlopen", local_only)


def md5(data):
    return hashlib.md5(data).hexdigest()


# ------------------------------------------------------------------ IDX ---

def idx_bytes(array, type_code=0x08):
    """IDX by hand: 0x00 0x00 <type> <ndim>, then each dim as big-endian
    uint32, then the big-endian payload."""
    dtype = {0x08: ">u1", 0x0C: ">i4"}[type_code]
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + np.asarray(array, dtype=dtype).tobytes()


def test_idx_images_and_labels_parse_from_raw_and_gzip_files(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 1], dtype=np.uint8)
    data = idx_bytes(images)
    assert data[:4] == b"\x00\x00\x08\x03"                  # magic 0x00000803: uint8, 3-D
    assert idx_bytes(labels)[:4] == b"\x00\x00\x08\x01"     # magic 0x00000801: uint8, 1-D
    (tmp_path / "img").write_bytes(data)
    (tmp_path / "img.gz").write_bytes(gzip.compress(data))
    for name in ("img", "img.gz"):
        x = load_idx(tmp_path / name, ndim=3)
        assert x.dtype == np.uint8 and x.shape == (2, 3, 4)
        np.testing.assert_array_equal(x, images)
        x[0, 0, 0] = 99                                      # a writable array, like Keras's
    np.testing.assert_array_equal(parse_idx(idx_bytes(labels), ndim=1), labels)


def test_idx_multibyte_types_are_big_endian_on_disk():
    values = np.array([[1, -2], [70000, 3]], dtype=np.int32)
    x = parse_idx(idx_bytes(values, type_code=0x0C))
    assert x.dtype == np.int32 and x.dtype.isnative
    np.testing.assert_array_equal(x, values)


def test_idx_wrong_magic_and_wrong_size_are_reported_with_the_file_name():
    labels = idx_bytes(np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"labels\.idx: magic number 0x00000801 says 1-D, expected 3-D"):
        parse_idx(labels, name="labels.idx", ndim=3)
    with pytest.raises(ValueError, match=r"t\.idx: size mismatch: shape \(5,\) .* needs 13 bytes, the file holds 12"):
        parse_idx(labels[:-1], name="t.idx")
    with pytest.raises(ValueError, match=r"notes\.txt is not an IDX file: magic number 0x68656c6c"):
        parse_idx(b"hello world", name="notes.txt")


# ----------------------------------------- a tiny MNIST, and where it is found ---

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    """A 5-train / 3-test 'MNIST' of 28x28 images, its four .gz files on a
    local 'server', and mnist.load_data pointed at it (checksums, mirror,
    and a system directory all belong to the tiny files)."""
    rng = np.random.default_rng(0)
    arrays = {
        NAMES[0]: rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        NAMES[1]: np.array([0, 1, 2, 3, 4], np.uint8),
        NAMES[2]: rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        NAMES[3]: np.array([9, 8, 7], np.uint8),
    }
    raw = {name: idx_bytes(a) for name, a in arrays.items()}
    server = tmp_path / "server"
    server.mkdir()
    for name, data in raw.items():
        (server / (name + ".gz")).write_bytes(gzip.compress(data))
    dataset = _files.Dataset(
        name="mnist", folder="mnist",
        files={name: _files.Checksum(len(data), md5(data)) for name, data in raw.items()},
        mirrors=((tmp_path / "no-such-mirror").as_uri() + "/", server.as_uri() + "/"),
        system_dirs=(str(tmp_path / "system"),))
    monkeypatch.setattr(mnist, "_DATASET", dataset)

    class Tiny:
        pass
    tiny = Tiny()
    tiny.arrays, tiny.raw, tiny.dataset, tiny.server = arrays, raw, dataset, server
    tiny.cache = tmp_path / "cache" / "mnist"
    tiny.system = tmp_path / "system"

    def put(directory, compress=True):
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in raw.items():
            if compress:
                (directory / (name + ".gz")).write_bytes(gzip.compress(data, mtime=123))
            else:
                (directory / name).write_bytes(data)
        return directory
    tiny.put = put
    return tiny


def fetch_first_file(dataset, **kwargs):
    """Where the first file of ``dataset`` is taken from."""
    name = NAMES[0]
    where, _ = _files.fetch(dataset, (name + ".gz", name),
                            lambda p: _files.read_checked(p, dataset.files[name]),
                            caller="test", download_name=name + ".gz", **kwargs)
    return where


def test_load_data_reads_a_user_directory_in_keras_layout(tiny_mnist, tmp_path):
    tiny_mnist.put(tmp_path / "data" / "mnist")            # <data>/mnist/*.gz
    (x, y), (xt, yt) = mnist.load_data(path=tmp_path / "data", download=False)
    np.testing.assert_array_equal(x, tiny_mnist.arrays[NAMES[0]])
    np.testing.assert_array_equal(yt, [9, 8, 7])
    assert x.shape == (5, 28, 28) and y.shape == (5,) and x.dtype == y.dtype == np.uint8

    tiny_mnist.put(tmp_path / "flat", compress=False)      # raw files directly in the dir
    (x2, _), _ = mnist.load_data(path=tmp_path / "flat", download=False)
    np.testing.assert_array_equal(x2, x)


def test_search_order_user_dir_then_cache_then_system_then_download(tiny_mnist, tmp_path, monkeypatch):
    user = tiny_mnist.put(tmp_path / "data" / "mnist")
    tiny_mnist.put(tiny_mnist.cache)
    tiny_mnist.put(tiny_mnist.system)
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "data"))   # path=None: MINIDL_DATA
    ds, gz = tiny_mnist.dataset, NAMES[0] + ".gz"

    assert fetch_first_file(ds, path=None, download=False) == user / gz
    (user / gz).unlink()
    assert fetch_first_file(ds, path=None, download=False) == tiny_mnist.cache / gz
    (tiny_mnist.cache / gz).unlink()
    assert fetch_first_file(ds, path=None, download=False) == tiny_mnist.system / gz
    (tiny_mnist.system / gz).unlink()
    # the first mirror does not exist, the second one (a file:// URL) does
    assert fetch_first_file(ds, path=None, download=True) == tiny_mnist.cache / gz
    assert (tiny_mnist.cache / gz).read_bytes() == (tiny_mnist.server / gz).read_bytes()
    assert sorted(p.name for p in tiny_mnist.cache.iterdir()) == sorted(n + ".gz" for n in NAMES)


def test_download_fills_the_cache_and_the_next_load_uses_it(tiny_mnist):
    (x, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x, tiny_mnist.arrays[NAMES[0]])
    for gz in tiny_mnist.server.iterdir():
        gz.unlink()                                         # the server goes away
    (x2, _), _ = mnist.load_data(download=False)
    np.testing.assert_array_equal(x2, x)


def test_not_found_error_lists_every_place_and_how_to_provide_the_files(tiny_mnist, tmp_path):
    data = tmp_path / "empty"
    data.mkdir()
    with pytest.raises(datasets.DatasetNotFoundError) as info:
        mnist.load_data(path=data, download=False)
    message = str(info.value)
    assert f"argument path= {data / 'mnist'}: no such directory" in message
    assert f"argument path= {data}: not found" in message
    assert f"cache {tiny_mnist.cache}: no such directory" in message
    assert f"system copy {tiny_mnist.system}: no such directory" in message
    assert "download: not attempted (download=False)" in message
    assert "set MINIDL_DATA" in message and f"cache directory {tiny_mnist.cache}/" in message
    assert isinstance(info.value, FileNotFoundError)

    with pytest.raises(datasets.DatasetNotFoundError, match="no-such-mirror.*failed") as info:
        for gz in tiny_mnist.server.iterdir():
            gz.unlink()
        mnist.load_data()
    assert "MINIDL_DATA unset" in str(info.value)
    assert list(tiny_mnist.cache.glob("*.part")) == []      # failed downloads leave nothing


def test_a_path_that_is_not_a_directory_is_an_error_not_a_silent_download(tiny_mnist):
    with pytest.raises(FileNotFoundError, match=r"path='mnist.npz' is not a directory"):
        mnist.load_data(path="mnist.npz")                   # Keras's path means a file name


def test_corrupt_cache_entry_is_deleted_and_downloaded_again(tiny_mnist):
    gz = tiny_mnist.put(tiny_mnist.cache) / (NAMES[0] + ".gz")
    gz.write_bytes(gz.read_bytes()[:100])                   # truncated
    with pytest.warns(UserWarning, match="removed a bad cache entry") as warned, \
            pytest.raises(datasets.DatasetNotFoundError, match="bad copy removed .*not a readable gzip"):
        mnist.load_data(download=False)
    assert not gz.exists()
    assert warned[0].filename == __file__                   # the warning points at the caller's line
    (x, _), _ = mnist.load_data(download=True)              # a fresh copy from the mirror
    np.testing.assert_array_equal(x, tiny_mnist.arrays[NAMES[0]])


def test_bad_file_in_the_users_directory_is_reported_and_kept(tiny_mnist, tmp_path):
    user = tiny_mnist.put(tmp_path / "data", compress=False)
    bad = user / NAMES[1]
    bad.write_bytes(idx_bytes(np.array([0, 1, 2, 3, 5], np.uint8)))   # one label changed
    with pytest.raises(datasets.ChecksumError, match=r"train-labels-idx1-ubyte: checksum mismatch: md5"):
        mnist.load_data(path=user)
    bad.write_bytes(tiny_mnist.raw[NAMES[1]][:-2])
    with pytest.raises(datasets.ChecksumError, match=r"size mismatch: holds 11 bytes .*expected 13"):
        mnist.load_data(path=user)
    assert bad.exists()


def test_a_download_with_the_wrong_content_is_rejected(tiny_mnist):
    gz = tiny_mnist.server / (NAMES[3] + ".gz")
    gz.write_bytes(gzip.compress(idx_bytes(np.array([1, 1, 1], np.uint8))))
    with pytest.raises(datasets.DatasetNotFoundError, match="t10k-labels-idx1-ubyte.gz: failed .*checksum mismatch"):
        mnist.load_data()
    assert not (tiny_mnist.cache / gz.name).exists()


def test_gzip_is_checked_by_content_so_a_recompressed_copy_is_accepted(tmp_path):
    data = idx_bytes(np.arange(10, dtype=np.uint8))
    a, b = gzip.compress(data, mtime=1), gzip.compress(data, mtime=2, compresslevel=1)
    assert a != b
    checksum = _files.Checksum(len(data), md5(data))
    for i, gz in enumerate((a, b)):
        (tmp_path / f"{i}.gz").write_bytes(gz)
        assert _files.read_checked(tmp_path / f"{i}.gz", checksum) == data
    # an official .gz is also accepted by its own md5 (Fashion-MNIST publishes
    # only those), even if the content md5 on record came from another copy
    (tmp_path / "official.gz").write_bytes(a)
    other = _files.Checksum(len(data), "0" * 32, gz_md5=(md5(a),))
    assert _files.read_checked(tmp_path / "official.gz", other) == data


def test_cache_directory_follows_minidl_cache_then_xdg_then_home(monkeypatch, tmp_path):
    assert _files.cache_dir() == tmp_path / "cache"         # set by the fixture
    monkeypatch.delenv("MINIDL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _files.cache_dir() == tmp_path / "xdg" / "minidl"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _files.cache_dir() == tmp_path / "home" / ".cache" / "minidl"


def test_unknown_dataset_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown dataset 'imdb'; available: cifar10, cifar100, fashion_mnist, mnist"):
        datasets.load("imdb")
    with pytest.raises(AttributeError, match=r"no attribute 'imdb'; the datasets are cifar10, cifar100"):
        datasets.imdb


def test_load_by_name_is_the_modules_load_data(tiny_mnist, tmp_path):
    tiny_mnist.put(tmp_path / "d")
    (x, _), _ = datasets.load("MNIST", path=tmp_path / "d", download=False)
    np.testing.assert_array_equal(x, tiny_mnist.arrays[NAMES[0]])


# ---------------------------------------------------------------- CIFAR-10 ---

def cifar_batch(labels, images):
    """Binary CIFAR records: 1 label byte, then 1024 R, 1024 G, 1024 B bytes."""
    return b"".join(bytes([lab]) + img.transpose(2, 0, 1).tobytes()   # HWC -> CHW
                    for lab, img in zip(labels, images))


def test_cifar_binary_records_become_channels_last():
    img = np.zeros((32, 32, 3), np.uint8)
    img[0, 1] = (10, 20, 30)                                # pixel at row 0, column 1
    img[5, 0, 2] = 200
    x, y = cifar10._parse_batch(cifar_batch([3, 9], [img, img[::-1]]))
    assert x.shape == (2, 32, 32, 3) and x.dtype == np.uint8 and x.flags.c_contiguous
    np.testing.assert_array_equal(y, [3, 9])
    assert tuple(x[0, 0, 1]) == (10, 20, 30) and x[0, 5, 0, 2] == 200
    np.testing.assert_array_equal(x[1], img[::-1])
    with pytest.raises(ValueError, match="3074 bytes is not a whole number of 3073-byte records"):
        cifar10._parse_batch(cifar_batch([0], [img]) + b"\x00")


@pytest.fixture
def tiny_cifar(tmp_path, monkeypatch):
    """A release with 2 records per batch, as a tarball and as a folder."""
    rng = np.random.default_rng(1)
    batches, content = {}, {}
    for i, name in enumerate(cifar10._TRAIN + (cifar10._TEST,)):
        labels, images = [i, 9 - i], rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
        batches[name] = cifar_batch(labels, images)
        content[name] = (images, labels)
    folder = tmp_path / "release" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for name, data in batches.items():
        (folder / name).write_bytes(data)
    tarball = tmp_path / "data" / "cifar-10" / "cifar-10-binary.tar.gz"
    tarball.parent.mkdir(parents=True)
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-bin")
    monkeypatch.setattr(cifar10, "_DATASET", cifar10._DATASET._replace(
        files={"cifar-10-binary.tar.gz": _files.Checksum(None, md5(tarball.read_bytes()))}))
    monkeypatch.setattr(cifar10, "_RECORDS_PER_BATCH", 2)
    return content, tmp_path / "data", tmp_path / "release"


def test_cifar10_loads_the_binary_release_from_tarball_or_folder(tiny_cifar):
    content, data_dir, release_dir = tiny_cifar
    for where in (data_dir, release_dir):
        (x, y), (xt, yt) = cifar10.load_data(path=where, download=False)
        assert x.shape == (10, 32, 32, 3) and y.shape == (10, 1) and y.dtype == np.uint8
        assert xt.shape == (2, 32, 32, 3) and yt.shape == (2, 1)
        np.testing.assert_array_equal(x[2:4], content["data_batch_2.bin"][0])
        np.testing.assert_array_equal(y[:, 0], [0, 9, 1, 8, 2, 7, 3, 6, 4, 5])


def test_cifar10_rejects_a_bad_tarball_and_a_truncated_batch(tiny_cifar):
    _, data_dir, release_dir = tiny_cifar
    tarball = data_dir / "cifar-10" / "cifar-10-binary.tar.gz"
    tarball.write_bytes(tarball.read_bytes()[:-10])
    with pytest.raises(datasets.ChecksumError, match="cifar-10-binary.tar.gz: checksum mismatch"):
        cifar10.load_data(path=data_dir)
    batch = release_dir / "cifar-10-batches-bin" / "test_batch.bin"
    batch.write_bytes(batch.read_bytes()[:3073])
    with pytest.raises(datasets.ChecksumError, match="test_batch.bin: size mismatch: 3073 bytes, expected 6146"):
        cifar10.load_data(path=release_dir)


def test_cifar10_falls_back_to_a_jpeg_copy_in_the_data_directory(tmp_path, tiny_cifar_jpeg_copy):
    with pytest.warns(UserWarning, match="JPEG re-encoding .*differ slightly"):
        (x, y), (xt, yt) = cifar10.load_data(path=tiny_cifar_jpeg_copy, download=False)
    assert x.shape == (10, 32, 32, 3) and y.shape == (10, 1) and y.dtype == np.uint8
    np.testing.assert_array_equal(np.sort(y[:, 0]), np.arange(10))
    # labels in CIFAR's class order, not alphabetical: red level 25 * label
    np.testing.assert_allclose(x[:, 16, 16, 0], 25 * y[:, 0], atol=3)   # JPEG is lossy

    with pytest.raises(datasets.DatasetNotFoundError, match="JPEG copy .*: no cifar10-jpg.tar.gz or cifar10-jpg"):
        cifar10.load_data(path=tmp_path, download=False)


@pytest.fixture
def cifar_jpeg_copy_4_per_class(tmp_path):
    """cifar10-jpg/{train,test}/<class>/{0..3}.jpg; red = 25 * label, green = 60 * index."""
    Image = pytest.importorskip("PIL.Image")
    for subset in ("train", "test"):
        for label, cls in enumerate(cifar10._CLASSES):
            folder = tmp_path / "data" / "cifar10-jpg" / subset / cls
            folder.mkdir(parents=True)
            for i in range(4):
                Image.new("RGB", (32, 32), (25 * label, 60 * i, 0)).save(folder / f"{i}.jpg")
    return tmp_path / "data"


def test_cifar10_jpeg_copy_comes_in_a_fixed_shuffled_order_not_by_class(cifar_jpeg_copy_4_per_class):
    """The copy is stored by class; returned as is, validation_split=0.2 would
    validate on ships and trucks only. The order is documented: the
    class-sorted samples permuted by np.random.default_rng(2009)."""
    with pytest.warns(UserWarning, match=r"fixed shuffled order \(numpy.random.default_rng\(2009\)"):
        (x, y), (xt, yt) = cifar10.load_data(path=cifar_jpeg_copy_4_per_class, download=False)
    by_class = np.repeat(np.arange(10), 4)                    # label order of the stored files
    index = np.tile(np.arange(4), 10)                         # file 0..3 within each class
    for images, labels in ((x, y), (xt, yt)):
        order = np.random.default_rng(2009).permutation(40)
        np.testing.assert_array_equal(labels[:, 0], by_class[order])
        np.testing.assert_allclose(images[:, 16, 16, 0], 25 * by_class[order], atol=3)
        np.testing.assert_allclose(images[:, 16, 16, 1], 60 * index[order], atol=3)  # pixels follow labels
    assert len(np.unique(y[:10])) >= 5                        # a first-N subset sees many classes
    assert len(np.unique(y[-8:])) >= 5                        # so does validation_split=0.2


# --------------------------------------------------------------- CIFAR-100 ---

def cifar100_records(coarse, fine, images):
    """Binary CIFAR-100 records: coarse label byte, fine label byte, then
    1024 R, 1024 G, 1024 B bytes."""
    return b"".join(bytes([c, f]) + img.transpose(2, 0, 1).tobytes()   # HWC -> CHW
                    for c, f, img in zip(coarse, fine, images))


@pytest.fixture
def tiny_cifar100(tmp_path, monkeypatch):
    """A release of 3 train and 2 test records, as a tarball and as a folder."""
    from minidl.datasets import cifar100
    rng = np.random.default_rng(2)
    content = {"train.bin": ([19, 0, 7], [99, 3, 42]), "test.bin": ([4, 11], [0, 58])}
    folder = tmp_path / "release" / "cifar-100-binary"
    folder.mkdir(parents=True)
    for name, (coarse, fine) in content.items():
        images = rng.integers(0, 256, (len(fine), 32, 32, 3), dtype=np.uint8)
        (folder / name).write_bytes(cifar100_records(coarse, fine, images))
        content[name] = (images, coarse, fine)
    (folder / "fine_label_names.txt").write_text("apple\n")       # also in the release
    tarball = tmp_path / "data" / "cifar-100" / "cifar-100-binary.tar.gz"
    tarball.parent.mkdir(parents=True)
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(folder, arcname="cifar-100-binary")
    monkeypatch.setattr(cifar100, "_DATASET", cifar100._DATASET._replace(
        files={"cifar-100-binary.tar.gz": _files.Checksum(None, md5(tarball.read_bytes()))}))
    monkeypatch.setattr(cifar100, "_RECORDS", {"train.bin": 3, "test.bin": 2})
    return content, tmp_path / "data", tmp_path / "release"


def test_cifar100_reads_fine_or_coarse_labels_from_tarball_or_folder(tiny_cifar100):
    from minidl.datasets import cifar100
    content, data_dir, release_dir = tiny_cifar100
    for where in (data_dir, release_dir):
        (x, y), (xt, yt) = cifar100.load_data(path=where, download=False)   # label_mode='fine'
        assert x.shape == (3, 32, 32, 3) and x.dtype == np.uint8 and x.flags.c_contiguous
        assert y.shape == (3, 1) and y.dtype == np.int64 and yt.shape == (2, 1)  # as Keras 2.2.4
        np.testing.assert_array_equal(x, content["train.bin"][0])
        np.testing.assert_array_equal(xt, content["test.bin"][0])
        np.testing.assert_array_equal(y[:, 0], [99, 3, 42])
        np.testing.assert_array_equal(yt[:, 0], [0, 58])
        (x2, y2), (_, yt2) = cifar100.load_data(label_mode="coarse", path=where, download=False)
        np.testing.assert_array_equal(x2, x)
        np.testing.assert_array_equal(y2[:, 0], [19, 0, 7])
        np.testing.assert_array_equal(yt2[:, 0], [4, 11])
    (_, y3), _ = datasets.load("CIFAR-100", label_mode="coarse", path=data_dir, download=False)
    np.testing.assert_array_equal(y3[:, 0], [19, 0, 7])


def test_cifar100_rejects_a_bad_label_mode_and_bad_files(tiny_cifar100):
    from minidl.datasets import cifar100
    _, data_dir, release_dir = tiny_cifar100
    with pytest.raises(ValueError, match="label_mode must be 'fine' or 'coarse', received 'superclass'"):
        cifar100.load_data(label_mode="superclass", path=data_dir)
    img = np.zeros((1, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="fine label 100 out of range 0..99"):
        cifar100._parse(cifar100_records([0], [100], img), "fine")
    with pytest.raises(ValueError, match="coarse label 20 out of range 0..19"):
        cifar100._parse(cifar100_records([20], [0], img), "fine")
    with pytest.raises(ValueError, match="3073 bytes is not a whole number of 3074-byte records"):
        cifar100._parse(cifar_batch([0], img), "fine")          # a CIFAR-10 record
    train = release_dir / "cifar-100-binary" / "train.bin"
    train.write_bytes(train.read_bytes()[:-1])
    with pytest.raises(datasets.ChecksumError, match="train.bin: size mismatch: 9221 bytes, expected 9222"):
        cifar100.load_data(path=release_dir)
    tarball = data_dir / "cifar-100" / "cifar-100-binary.tar.gz"
    tarball.write_bytes(tarball.read_bytes()[:-10])
    with pytest.raises(datasets.ChecksumError, match="cifar-100-binary.tar.gz: checksum mismatch"):
        cifar100.load_data(path=data_dir)


def test_cifar100_downloads_the_tarball_into_the_cache(tiny_cifar100, tmp_path, monkeypatch):
    from minidl.datasets import cifar100
    _, data_dir, _ = tiny_cifar100
    mirror = data_dir / "cifar-100"
    monkeypatch.setattr(cifar100, "_DATASET", cifar100._DATASET._replace(
        mirrors=(mirror.as_uri() + "/",)))
    (_, y), _ = cifar100.load_data(path=tmp_path / "release")      # folder there is used first
    (_, y2), _ = cifar100.load_data()                              # nothing local: download
    np.testing.assert_array_equal(y2, y)
    assert (tmp_path / "cache" / "cifar-100" / "cifar-100-binary.tar.gz").is_file()


def test_cifar100_not_found_lists_the_places_and_the_official_file(tmp_path):
    from minidl.datasets import cifar100
    with pytest.raises(datasets.DatasetNotFoundError) as err:
        cifar100.load_data(path=tmp_path, download=False)
    message = str(err.value)
    assert "'cifar-100-binary.tar.gz' or 'cifar-100-binary'" in message
    assert "download: not attempted (download=False)" in message
    assert "cifar-100/" in message


# ------------------------------------------------------------ image_folder ---

@pytest.fixture
def tree(tmp_path):
    """train/{dog,cat,ant}/ and test/{...}: 2x3 PNGs of one colour each; the
    red channel encodes (class, image) so every pixel can be checked."""
    Image = pytest.importorskip("PIL.Image")
    root = tmp_path / "pets"
    for subset, per_class in (("train", 3), ("test", 1)):
        for c, cls in enumerate(("dog", "cat", "ant")):
            (root / subset / cls).mkdir(parents=True)
            for i in range(per_class):
                Image.new("RGB", (3, 2), (10 * c + i, 100, 200)).save(root / subset / cls / f"{i}.png")
    (root / "train" / "README.txt").write_text("not an image, outside the class folders")
    (root / "train" / "cat" / "notes.txt").write_text("not an image")
    return root


def test_image_folder_loads_a_directory_with_sorted_class_names(tree):
    x, y, names = datasets.image_folder(tree, subset="train")
    assert names == ["ant", "cat", "dog"]                    # alphabetical, as Keras
    assert x.shape == (9, 2, 3, 3) and x.dtype == np.uint8   # (N, H, W, C)
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(x[:, 0, 0, 0], [20, 21, 22, 10, 11, 12, 0, 1, 2])
    assert (x[..., 1] == 100).all() and (x[..., 2] == 200).all()


def test_image_folder_reads_a_tarball_the_same_way(tree, tmp_path):
    tarball = tmp_path / "pets.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(tree, arcname=".")
    for subset in ("train", "test"):
        from_dir, from_tar = (datasets.image_folder(src, subset=subset, cache=False)
                              for src in (tree, tarball))
        np.testing.assert_array_equal(from_dir[0], from_tar[0])
        np.testing.assert_array_equal(from_dir[1], from_tar[1])
        assert from_dir[2] == from_tar[2]
    with pytest.raises(ValueError, match=r"subset='val' not found in .*pets.tar.gz; its top-level folders: \['test', 'train'\]"):
        datasets.image_folder(tarball, subset="val")


def test_image_folder_options_classes_grayscale_and_size(tree):
    x, y, names = datasets.image_folder(tree, subset="test", classes=["dog", "cat", "ant"],
                                        color_mode="grayscale", image_size=(4, 5))
    assert names == ["dog", "cat", "ant"] and list(y) == [0, 1, 2]
    assert x.shape == (3, 4, 5, 1)
    with pytest.raises(ValueError, match=r"classes=\['dog', 'cat'\] must name each class folder .*found \['ant', 'cat', 'dog'\]"):
        datasets.image_folder(tree, subset="test", classes=["dog", "cat"])
    with pytest.raises(ValueError, match="color_mode must be one of .*received 'rgbx'"):
        datasets.image_folder(tree, color_mode="rgbx")
    with pytest.raises(ValueError, match=r"image_size must be None or \(height, width\)"):
        datasets.image_folder(tree, image_size=32)


def test_image_folder_needs_image_size_when_sizes_differ(tree):
    from PIL import Image
    Image.new("RGB", (7, 7)).save(tree / "test" / "cat" / "big.png")
    with pytest.raises(ValueError, match=r"differ in size: ant/0.png is 3x2 \(w x h\), cat/big.png is 7x7; pass image_size"):
        datasets.image_folder(tree, subset="test")
    x, _, _ = datasets.image_folder(tree, subset="test", image_size=(2, 3))
    assert x.shape == (4, 2, 3, 3)


def test_image_folder_names_an_undecodable_file(tree):
    (tree / "test" / "cat" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="cannot decode cat/broken.jpg"):
        datasets.image_folder(tree, subset="test")


def test_image_folder_caches_decoded_arrays_and_notices_changes(tree, tmp_path, monkeypatch):
    first = datasets.image_folder(tree, subset="train")
    cached = list((tmp_path / "cache" / "image_folder").glob("*.npz"))
    assert len(cached) == 1

    def no_decoding(*args):
        raise AssertionError("decoded although the cache is valid")
    with monkeypatch.context() as patch:
        patch.setattr(image_folder_module._Decoder, "one", no_decoding)
        again = datasets.image_folder(tree, subset="train")
    np.testing.assert_array_equal(again[0], first[0])
    assert again[2] == first[2]

    from PIL import Image                                    # a changed tree is decoded again
    Image.new("RGB", (3, 2), (250, 0, 0)).save(tree / "train" / "ant" / "9.png")
    x, _, _ = datasets.image_folder(tree, subset="train")
    assert len(x) == 10 and x[3, 0, 0, 0] == 250


def test_image_folder_without_pillow_says_how_to_install_it(tree, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)            # import PIL now fails
    with pytest.raises(ImportError, match=r"pip install pillow.*pip install minidl\[images\]"):
        datasets.image_folder(tree)


# --------------------------------------------------------- train_val_split ---

def sklearn_train_test_split_indices(n, test_size, seed):
    """scikit-learn's ShuffleSplit, written out: n_test = ceil(test_size * n)
    for a fraction, test = perm[:n_test], train = perm[n_test:]."""
    n_test = int(np.ceil(test_size * n)) if isinstance(test_size, float) else test_size
    perm = np.random.RandomState(seed).permutation(n)
    return perm[n_test:], perm[:n_test]


@pytest.mark.parametrize("n,val_size,seed", [(10, 0.2, 12345), (103, 0.3, 0), (50, 7, 42)])
def test_train_val_split_equals_sklearns_train_test_split(n, val_size, seed):
    x = np.arange(n * 2).reshape(n, 2)
    y = np.arange(n) * 10
    (xtr, ytr), (xva, yva) = datasets.train_val_split(x, y, val_size=val_size, seed=seed)
    train, val = sklearn_train_test_split_indices(n, val_size, seed)
    np.testing.assert_array_equal(xtr, x[train])
    np.testing.assert_array_equal(yva, y[val])
    assert len(xva) == len(val) and len(ytr) == len(train)


def test_train_val_split_without_shuffle_keeps_order_and_seed_none_follows_minidl_seed():
    x, y = np.arange(10), np.arange(10)
    (xtr, _), (xva, _) = datasets.train_val_split(x, y, val_size=0.25, shuffle=False)
    np.testing.assert_array_equal(xtr, np.arange(7))
    np.testing.assert_array_equal(xva, [7, 8, 9])           # ceil(0.25 * 10) = 3
    minidl.seed(3)
    a = datasets.train_val_split(x, y)
    minidl.seed(3)
    b = datasets.train_val_split(x, y)
    np.testing.assert_array_equal(a[1][0], b[1][0])


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(y=np.arange(9)), ValueError, "same number of samples, received x: 10, y: 9"),
    (dict(val_size=0.0), ValueError, r"val_size=0.0 as a fraction must be in \(0, 1\)"),
    (dict(val_size=1.0), ValueError, r"val_size=1.0 as a fraction must be in \(0, 1\)"),
    (dict(val_size=10), ValueError, r"val_size=10 as a count must be in \[1, 9\]"),
    (dict(val_size=True), TypeError, "val_size must be a float"),
    (dict(seed=1.5), TypeError, "seed must be an int or None"),
])
def test_train_val_split_rejects_bad_arguments(kwargs, error, message):
    args = dict(x=np.arange(10), y=np.arange(10))
    args.update(kwargs)
    with pytest.raises(error, match=message):
        datasets.train_val_split(**args)


# ---------------------------------------------------------------- real data ---

def real_dir(folder, *files):
    if not REAL_DATA:
        pytest.skip("MINIDL_DATA is not set: it names the directory with the real datasets "
                    "(in CI: ../shared/data from the repository root)")
    missing = [f for f in files if not (Path(REAL_DATA) / folder / f).exists()]
    if missing:
        pytest.skip(f"{Path(REAL_DATA) / folder} lacks {missing}")
    return Path(REAL_DATA)


@pytest.mark.parametrize("module,folder,first_labels", [
    (mnist, "mnist", [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]),
    (fashion_mnist, "fashion-mnist", [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]),
])
def test_real_mnists_load_with_keras_shapes_and_balanced_classes(module, folder, first_labels):
    data = real_dir(folder, *(n + ".gz" for n in NAMES))
    start = time.perf_counter()
    (x, y), (xt, yt) = module.load_data(path=data, download=False)
    seconds = time.perf_counter() - start
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
    assert y.shape == (60000,) and yt.shape == (10000,)
    assert x.dtype == y.dtype == xt.dtype == yt.dtype == np.uint8
    assert x.max() == 255 and x.min() == 0
    np.testing.assert_array_equal(y[:10], first_labels)      # as every tutorial prints them
    for labels, n in ((y, 60000), (yt, 10000)):
        counts = np.bincount(labels, minlength=10)
        assert len(counts) == 10 and counts.sum() == n
        assert counts.min() > 0.08 * n and counts.max() < 0.12 * n   # about 10% each
    assert seconds < 5, f"decompress + md5 + parse took {seconds:.1f} s"


def test_real_cifar10_jpeg_copy_decodes_into_keras_shapes(monkeypatch):
    pytest.importorskip("PIL")
    data = real_dir("", "cifar10-jpg.tar.gz")
    start = time.perf_counter()
    with pytest.warns(UserWarning, match="JPEG re-encoding"):
        (x, y), (xt, yt) = cifar10.load_data(path=data, download=False)
    cold = time.perf_counter() - start
    assert x.shape == (50000, 32, 32, 3) and xt.shape == (10000, 32, 32, 3)
    assert y.shape == (50000, 1) and yt.shape == (10000, 1) and y.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y[:, 0]), [5000] * 10)
    np.testing.assert_array_equal(np.bincount(yt[:, 0]), [1000] * 10)
    for part in (y[:5000, 0], y[-10000:, 0], yt[:1000, 0]):   # first N; validation_split=0.2
        counts = np.bincount(part, minlength=10)
        assert counts.min() > 0.08 * len(part) and counts.max() < 0.12 * len(part), counts
    start = time.perf_counter()
    with pytest.warns(UserWarning):
        (x2, _), _ = cifar10.load_data(path=data, download=False)
    cached = time.perf_counter() - start
    np.testing.assert_array_equal(x2, x)
    assert cached < 2 and cached < cold / 3, f"cold {cold:.1f} s, cached {cached:.1f} s"
