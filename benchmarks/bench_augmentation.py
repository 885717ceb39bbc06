"""Augmented images per second: minidl's ImageDataGenerator against Keras's.

Times ``next(datagen.flow(x, y, batch_size))`` -- gather, float conversion,
random affine warp and standardization of one batch -- on random uint8
images of the studies' shapes:

    mnist-000    512 x 28x28x1, rotation 8, shifts .08, shear .3 rad, zoom .08
                 (study 000, Keras 2.0.x: shear in radians)
    cifar-zoom   128 x 32x32x3, zoom .2 + horizontal flip
    cifar-shift  128 x 32x32x3, shifts .1 + horizontal flip

on the CPU (numba kernel on all cores and on one, and the array reference
that CuPy runs), on the GPU when one is visible, and with keras-preprocessing (scipy, one image at a
time) when it is installed. Prints a table and
writes benchmarks/results/augmentation.json.

    python benchmarks/bench_augmentation.py [--seconds 1] [--no-keras]
"""
import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import minidl  # noqa: E402
from minidl import backend  # noqa: E402
from minidl.preprocessing import affine  # noqa: E402
from minidl.preprocessing.image import ImageDataGenerator  # noqa: E402

CONFIGS = {
    "mnist-000": dict(shape=(28, 28, 1), batch=512, epoch=48000,
                      args=dict(rotation_range=8, width_shift_range=0.08,
                                height_shift_range=0.08, shear_range=0.3, zoom_range=0.08,
                                interpolation_order=0),  # Keras 2.0's nearest-pixel warp
                      radians=True),
    "cifar-zoom": dict(shape=(32, 32, 3), batch=128, epoch=50000,
                       args=dict(zoom_range=0.2, horizontal_flip=True), radians=False),
    "cifar-shift": dict(shape=(32, 32, 3), batch=128, epoch=50000,
                        args=dict(width_shift_range=0.1, height_shift_range=0.1,
                                  horizontal_flip=True), radians=False),
}


def timed(step, batch, seconds, min_batches=3, repeats=3):
    """Images per second of ``step()`` (one batch): best of ``repeats`` windows.

    The best window, because other work on a shared machine only ever slows
    a window down.
    """
    step()  # warm-up: numba compilation, CuPy kernel caches
    backend.synchronize()
    rates = []
    for _ in range(repeats):
        count, start = 0, time.perf_counter()
        while count < min_batches or time.perf_counter() - start < seconds:
            step()
            count += 1
        backend.synchronize()
        rates.append(count * batch / (time.perf_counter() - start))
    return max(rates)


def bench_minidl(cfg, x, y, seconds):
    args = dict(cfg["args"], shear_units="radians") if cfg["radians"] else cfg["args"]
    it = ImageDataGenerator(**args).flow(x, y, batch_size=cfg["batch"], seed=0)
    return timed(lambda: next(it), cfg["batch"], seconds)


def bench_one_thread(cfg, x, y, seconds):
    """The numba kernel on one core: what a busy shared machine cannot slow down much."""
    saved = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return bench_minidl(cfg, x, y, seconds)
    finally:
        numba.set_num_threads(saved)


def bench_reference(cfg, x, y, seconds):
    """The same on the CPU through the array reference (what CuPy runs) instead of numba."""
    saved, affine.numba = affine.numba, None
    try:
        return bench_minidl(cfg, x, y, seconds)
    finally:
        affine.numba = saved


def bench_keras(kp, cfg, x, y, seconds):
    args = dict(cfg["args"])
    if cfg["radians"]:  # keras-preprocessing reads degrees
        args["shear_range"] = float(np.rad2deg(args["shear_range"]))
    it = kp.ImageDataGenerator(**args).flow(x, y, batch_size=cfg["batch"], seed=0)
    return timed(lambda: next(it), cfg["batch"], seconds, min_batches=2, repeats=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="length of each timing window")
    parser.add_argument("--no-keras", action="store_true", help="skip keras-preprocessing")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "augmentation.json"))
    opts = parser.parse_args()

    try:
        if opts.no_keras:
            raise ImportError
        import keras_preprocessing
        import keras_preprocessing.image as kp
        import scipy
        keras_version = f"keras-preprocessing {keras_preprocessing.__version__}, scipy {scipy.__version__}"
    except ImportError:
        kp, keras_version = None, None

    devices = ["cpu"] + (["gpu"] if backend.gpu_available() else [])
    machine = {"cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine(),
               "python": platform.python_version(), "numpy": np.__version__,
               "numba": numba.__version__, "devices": devices, "keras": keras_version,
               "floatx": backend.floatx(), "data": "random uint8 images",
               "loadavg_1min_at_start": round(os.getloadavg()[0], 2)}
    if "gpu" in devices:
        backend.set_device("gpu")
        machine["gpu"], machine["cupy"] = backend.gpu_name(), backend.array_library_version()
        backend.set_device("cpu")

    rows = []
    saved = backend.device()
    for name, cfg in CONFIGS.items():
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (4 * cfg["batch"],) + cfg["shape"], dtype=np.uint8)
        y = rng.integers(0, 10, len(x))
        runs = []
        for dev in devices:
            backend.set_device(dev)
            minidl.seed(0)
            runs.append((f"minidl-{dev}", bench_minidl(cfg, x, y, opts.seconds)))
        backend.set_device("cpu")
        runs.append(("minidl-cpu-1-thread", bench_one_thread(cfg, x, y, opts.seconds)))
        runs.append(("minidl-cpu-reference", bench_reference(cfg, x, y, opts.seconds)))
        backend.set_device(saved)
        if kp is not None:
            runs.append(("keras-preprocessing", bench_keras(kp, cfg, x, y, opts.seconds)))
        for impl, rate in runs:
            rows.append({"config": name, "implementation": impl, "batch": cfg["batch"],
                         "image_shape": list(cfg["shape"]),
                         "settings": dict(cfg["args"], **({"shear_units": "radians"}
                                                          if cfg["radians"] else {})),
                         "images_per_s": round(rate, 1),
                         "ms_per_batch": round(1000 * cfg["batch"] / rate, 3),
                         "s_per_epoch": round(cfg["epoch"] / rate, 3), "epoch_images": cfg["epoch"]})

    print(f"{'config':<12} {'implementation':<20} {'images/s':>12} {'ms/batch':>10} {'s/epoch':>9}")
    for r in rows:
        print(f"{r['config']:<12} {r['implementation']:<20} {r['images_per_s']:>12,.0f} "
              f"{r['ms_per_batch']:>10.2f} {r['s_per_epoch']:>9.2f}")
    machine["loadavg_1min_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(machine))
    out = Path(opts.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine, "results": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
