"""When no copy of a dataset is found and the download fails, a dataset that
Debian packages is installed with apt-get, if that needs no password, and
loaded from the system directory; otherwise the error names the command.

apt-get, sudo and the download are all mocked: these tests never run apt."""
import gzip
import hashlib
import subprocess
import urllib.error

import numpy as np
import pytest

from minidl.datasets import DatasetNotFoundError, _files, fashion_mnist, system_packages
from minidl.datasets.idx import _load_idx_dataset

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
PACKAGE = "dataset-tiny-mnist"
INSTALL = ["apt-get", "install", "-y", "--no-install-recommends", PACKAGE]


def idx_bytes(a):
    return bytes([0, 0, 8, a.ndim]) + b"".join(n.to_bytes(4, "big") for n in a.shape) + a.tobytes()


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A 4-train / 2-test MNIST-style dataset that Debian 'packages' into
    tmp_path/system, with no copy anywhere and every download failing."""
    rng = np.random.default_rng(0)
    arrays = {NAMES[0]: rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
              NAMES[1]: np.array([0, 1, 2, 3], np.uint8),
              NAMES[2]: rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
              NAMES[3]: np.array([9, 8], np.uint8)}
    raw = {name: idx_bytes(a) for name, a in arrays.items()}
    system = tmp_path / "system"
    dataset = _files.Dataset(
        name="tiny", folder="tiny",
        files={n: _files.Checksum(len(d), hashlib.md5(d).hexdigest()) for n, d in raw.items()},
        mirrors=("http://mirror.invalid/",), system_dirs=(str(system),),
        debian_package=PACKAGE)
    monkeypatch.delenv("MINIDL_DATA", raising=False)
    monkeypatch.delenv(system_packages.OPT_OUT, raising=False)
    monkeypatch.setenv("MINIDL_CACHE", str(tmp_path / "cache"))

    def no_internet(url, dest, verify):
        raise urllib.error.URLError("Temporary failure in name resolution")
    monkeypatch.setattr(_files, "_download", no_internet)

    class Tiny:
        pass
    t = Tiny()
    t.arrays, t.raw, t.dataset, t.system = arrays, raw, dataset, system
    t.load = lambda download=True: _load_idx_dataset(dataset, None, download, "tiny.load_data")
    return t


class FakeSystem:
    """Stands in for shutil.which, os.geteuid and subprocess.run: records
    every command; ``apt`` maps an apt-get subcommand to (status, output),
    and a successful install writes the package's files like dpkg would."""

    def __init__(self, monkeypatch, tiny, *, root, tools=("apt-get", "sudo"), sudo_ok=False,
                 apt=None):
        self.calls, self.tiny, self.sudo_ok = [], tiny, sudo_ok
        self.apt = {"install": [(0, "Setting up dataset-tiny-mnist ...")], **(apt or {})}
        monkeypatch.setattr(system_packages.shutil, "which",
                            lambda name: f"/usr/bin/{name}" if name in tools else None)
        monkeypatch.setattr(system_packages.os, "geteuid", lambda: 0 if root else 1000,
                            raising=False)
        monkeypatch.setattr(system_packages.subprocess, "run", self.run)

    def run(self, cmd, **kwargs):
        self.calls.append(cmd)
        if cmd == ["sudo", "-n", "true"]:
            return subprocess.CompletedProcess(cmd, 0 if self.sudo_ok else 1, b"", b"")
        sub = cmd[cmd.index("apt-get") + 1]
        status, output = self.apt[sub].pop(0) if len(self.apt[sub]) > 1 else self.apt[sub][0]
        if sub == "install" and status == 0:
            self.tiny.system.mkdir(exist_ok=True)
            for name, data in self.tiny.raw.items():
                (self.tiny.system / (name + ".gz")).write_bytes(gzip.compress(data))
        return subprocess.CompletedProcess(cmd, status, output)


@pytest.fixture(autouse=True)
def never_run_real_commands(monkeypatch):
    def refuse(cmd, **kwargs):
        raise AssertionError(f"a test tried to run {cmd}")
    monkeypatch.setattr(system_packages.subprocess, "run", refuse)


def test_as_root_apt_installs_the_package_says_so_first_and_loads_it(tiny, monkeypatch, capsys):
    fake = FakeSystem(monkeypatch, tiny, root=True)
    (x, y), (xt, yt) = tiny.load()
    np.testing.assert_array_equal(x, tiny.arrays[NAMES[0]])
    np.testing.assert_array_equal(yt, [9, 8])
    assert fake.calls == [INSTALL]                 # once, not per file; no apt-get update
    err = capsys.readouterr().err
    assert "tiny.load_data: found no copy of tiny and could not download it" in err
    assert "apt-get install -y --no-install-recommends dataset-tiny-mnist" in err
    assert "MINIDL_NO_APT=1" in err and err.index("installing") < err.index("installed")


def test_without_root_passwordless_sudo_runs_apt_get_through_sudo_n(tiny, monkeypatch, capsys):
    fake = FakeSystem(monkeypatch, tiny, root=False, sudo_ok=True)
    (x, _), _ = tiny.load()
    np.testing.assert_array_equal(x, tiny.arrays[NAMES[0]])
    assert fake.calls == [["sudo", "-n", "true"], ["sudo", "-n", *INSTALL]]
    assert "sudo -n apt-get install -y --no-install-recommends" in capsys.readouterr().err


def test_sudo_asking_for_a_password_is_not_used_and_the_error_names_the_command(tiny, monkeypatch):
    fake = FakeSystem(monkeypatch, tiny, root=False, sudo_ok=False)
    with pytest.raises(DatasetNotFoundError) as info:
        tiny.load()
    assert fake.calls == [["sudo", "-n", "true"]]
    message = str(info.value)
    assert "it needs root, and sudo is missing or asks for a password" in message
    assert f"sudo apt-get install {PACKAGE}" in message
    assert f"install Debian's package, which puts the files in {tiny.system}/" in message


def test_without_apt_get_nothing_runs_and_the_error_names_the_one_command(tiny, monkeypatch):
    fake = FakeSystem(monkeypatch, tiny, root=False, tools=("sudo",))
    with pytest.raises(DatasetNotFoundError) as info:
        tiny.load()
    assert fake.calls == []
    message = str(info.value)
    assert "download http://mirror.invalid/train-images-idx3-ubyte.gz: failed" in message
    assert f"Debian package {PACKAGE}: not installed: no apt-get on this system" in message
    assert f"  - install Debian's package, which puts the files in {tiny.system}/: " \
           f"sudo apt-get install {PACKAGE}\n  - or set MINIDL_DATA" in message


def test_apt_failure_is_a_clear_error_with_the_tail_of_apts_output(tiny, monkeypatch, capsys):
    output = "\n".join([f"line {i}" for i in range(30)] + ["E: Could not get lock /var/lib/dpkg/lock"])
    fake = FakeSystem(monkeypatch, tiny, root=True, apt={"install": [(100, output)]})
    with pytest.raises(DatasetNotFoundError) as info:
        tiny.load()
    assert fake.calls == [INSTALL]                 # not a lists problem: no apt-get update
    message = str(info.value)
    assert f"'{' '.join(INSTALL)}' failed with exit status 100" in message
    assert "| E: Could not get lock /var/lib/dpkg/lock" in message and "| line 29" in message
    assert "line 5\n" not in message               # only the tail
    assert not tiny.system.exists()


def test_missing_package_lists_trigger_apt_get_update_and_a_second_install(tiny, monkeypatch, capsys):
    fake = FakeSystem(monkeypatch, tiny, root=True, apt={
        "install": [(100, f"E: Unable to locate package {PACKAGE}"), (0, "Setting up ...")],
        "update": [(0, "Reading package lists... Done")]})
    (x, _), _ = tiny.load()
    np.testing.assert_array_equal(x, tiny.arrays[NAMES[0]])
    assert fake.calls == [INSTALL, ["apt-get", "update"], INSTALL]
    assert f"package lists lack {PACKAGE}; running apt-get update" in capsys.readouterr().err


def test_a_failed_apt_get_update_is_reported_with_its_output(tiny, monkeypatch):
    fake = FakeSystem(monkeypatch, tiny, root=True, apt={
        "install": [(100, f"E: Unable to locate package {PACKAGE}")],
        "update": [(100, "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm")]})
    with pytest.raises(DatasetNotFoundError, match=r"'apt-get update' failed with exit status 100;"
                                                   r" its output ends:\n +\| E: Failed to fetch"):
        tiny.load()
    assert fake.calls == [INSTALL, ["apt-get", "update"]]


@pytest.mark.parametrize("value", ["1", "yes"])
def test_minidl_no_apt_opts_out(tiny, monkeypatch, value):
    monkeypatch.setenv("MINIDL_NO_APT", value)
    fake = FakeSystem(monkeypatch, tiny, root=True)
    with pytest.raises(DatasetNotFoundError) as info:
        tiny.load()
    assert fake.calls == []
    assert f"Debian package {PACKAGE}: not installed: MINIDL_NO_APT is set" in str(info.value)
    assert f"apt-get install {PACKAGE}" in str(info.value)      # root: no sudo in the hint


def test_download_false_never_runs_apt(tiny, monkeypatch):
    fake = FakeSystem(monkeypatch, tiny, root=True)
    with pytest.raises(DatasetNotFoundError, match=r"Debian package dataset-tiny-mnist: not "
                                                   r"installed \(download=False\)"):
        tiny.load(download=False)
    assert fake.calls == []


def test_a_working_download_is_used_and_apt_never_runs(tiny, monkeypatch, tmp_path):
    fake = FakeSystem(monkeypatch, tiny, root=True)
    fetched = []

    def download(url, dest, verify):               # the mirror answers
        fetched.append(url)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(gzip.compress(tiny.raw[dest.name[:-3]]))
        return verify(dest)
    monkeypatch.setattr(_files, "_download", download)
    (x, _), _ = tiny.load()
    np.testing.assert_array_equal(x, tiny.arrays[NAMES[0]])
    assert fake.calls == [] and len(fetched) == 4
    cached = sorted(p.name for p in (tmp_path / "cache" / "tiny").iterdir())
    assert cached == sorted(n + ".gz" for n in NAMES)


def test_installed_files_are_checked_like_any_other_copy(tiny, monkeypatch):
    FakeSystem(monkeypatch, tiny, root=True)
    tiny.raw[NAMES[1]] = tiny.raw[NAMES[1]][:-1] + b"\x07"      # the package ships a wrong label
    with pytest.raises(_files.ChecksumError,
                       match=r"system/train-labels-idx1-ubyte.gz: checksum mismatch"):
        tiny.load()


def test_fashion_mnist_declares_its_debian_package_and_install_directory():
    ds = fashion_mnist._DATASET
    assert ds.debian_package == "dataset-fashion-mnist"
    assert ds.system_dirs[0] == "/usr/share/datasets/fashion-mnist"
