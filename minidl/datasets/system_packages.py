"""Installing a dataset's Debian package when nothing else provides it.

Some datasets are packaged by Debian (``dataset-fashion-mnist`` puts the
Fashion-MNIST files in ``/usr/share/datasets/fashion-mnist/``). A machine that
reaches the package archive but not the dataset's own site (a build box behind
a proxy, a fresh cloud image) can then still get the data. ``_files.fetch``
calls ``install`` only as the last resort: after every data directory, the
cache and the system directories came up empty *and* the download failed.

It installs only when it can without asking anything: ``apt-get`` is on PATH,
and minidl runs as root or ``sudo -n`` works (no password prompt). It says on
stderr what it runs and why before running it. ``MINIDL_NO_APT=1`` turns it
off. Otherwise the error names the command to run by hand
(``install_command``). The installed files are checked against the dataset's
checksums like any other copy.
"""
import os
import shutil
import subprocess
import sys

OPT_OUT = "MINIDL_NO_APT"
_TAIL_LINES = 12
_SUDO_CHECK_TIMEOUT_S = 10
_APT_TIMEOUT_S = 900     # an install or update that takes longer is stuck (a held lock)
# What apt-get prints when its package lists do not know the package (a fresh
# image ships none) or are stale (the archive has moved on): then, and only
# then, ``apt-get update`` and a second try. Matched with LC_ALL=C.
_LISTS_MISSING = ("Unable to locate package", "has no installation candidate",
                  "is not available, but is referred to", "maybe run apt-get update")


class NotInstalled(Exception):
    """The package was not installed; the message says why, for the list of
    places looked in a DatasetNotFoundError."""


def opted_out():
    """True when MINIDL_NO_APT is set to anything but '', '0' or 'false'."""
    return os.environ.get(OPT_OUT, "").strip().lower() not in ("", "0", "false", "no")


def _is_root():
    geteuid = getattr(os, "geteuid", None)    # absent on Windows
    return geteuid is not None and geteuid() == 0


def _passwordless_sudo():
    if shutil.which("sudo") is None:
        return False
    try:
        return subprocess.run(["sudo", "-n", "true"], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=_SUDO_CHECK_TIMEOUT_S).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def install_command(package):
    """The one command that installs ``package`` by hand, e.g.
    ``'sudo apt-get install dataset-fashion-mnist'`` (no sudo for root)."""
    return ("" if _is_root() else "sudo ") + f"apt-get install {package}"


def _apt_get(prefix, *args):
    """Run ``apt-get args`` (behind ``prefix``, e.g. ['sudo', '-n']) without a
    terminal: ``(exit status, combined output)``."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
    try:
        proc = subprocess.run([*prefix, "apt-get", *args], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, errors="replace", env=env, timeout=_APT_TIMEOUT_S)
    except OSError as e:
        return 127, str(e)
    except subprocess.TimeoutExpired as e:   # e.g. waiting on another apt's lock
        out = e.output if isinstance(e.output, str) else (e.output or b"").decode(errors="replace")
        return 124, f"{out}\napt-get did not finish within {_APT_TIMEOUT_S} s"
    return proc.returncode, proc.stdout or ""


def _tail(output):
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    return "\n      | ".join([""] + lines[-_TAIL_LINES:]) if lines else " (no output)"


def install(package, *, caller, why):
    """Install the Debian ``package`` with
    ``apt-get install -y --no-install-recommends``, as root or through
    ``sudo -n``; when the package lists lack it, ``apt-get update`` and try
    once more. ``why`` completes the sentence printed on stderr first.

    Returns the command line run; raises NotInstalled (the reason, with the
    tail of apt-get's output when it ran and failed) when it did not run or
    did not succeed."""
    if opted_out():
        raise NotInstalled(f"not installed: {OPT_OUT} is set")
    if shutil.which("apt-get") is None:
        raise NotInstalled("not installed: no apt-get on this system (not Debian or a derivative)")
    if _is_root():
        prefix = []
    elif _passwordless_sudo():
        prefix = ["sudo", "-n"]
    else:
        raise NotInstalled("not installed: it needs root, and sudo is missing or asks "
                           "for a password")

    args = ["install", "-y", "--no-install-recommends", package]
    shown = " ".join([*prefix, "apt-get", *args])
    print(f"{caller}: {why}; installing Debian's package {package} with:\n"
          f"    {shown}\n"
          f"  (set {OPT_OUT}=1 to never let minidl run apt-get)", file=sys.stderr, flush=True)
    status, output = _apt_get(prefix, *args)
    if status != 0 and any(marker in output for marker in _LISTS_MISSING):
        print(f"{caller}: apt-get's package lists lack {package}; running "
              f"{' '.join([*prefix, 'apt-get', 'update'])} and trying again",
              file=sys.stderr, flush=True)
        status, update_output = _apt_get(prefix, "update")
        if status != 0:
            raise NotInstalled(f"'{' '.join([*prefix, 'apt-get', 'update'])}' failed with exit "
                               f"status {status}; its output ends:{_tail(update_output)}")
        status, output = _apt_get(prefix, *args)
    if status != 0:
        raise NotInstalled(f"'{shown}' failed with exit status {status}; its output "
                           f"ends:{_tail(output)}")
    print(f"{caller}: installed {package}.", file=sys.stderr, flush=True)
    return shown
