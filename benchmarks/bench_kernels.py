"""Time the window kernels at the sizes the five studies train with.

    python benchmarks/bench_kernels.py            # writes benchmarks/results/kernels.json

For each layer shape: the plain NumPy reference vs the numba kernel (best
of several runs, ms) and the numba kernel's effective bandwidth (bytes it
must read and write / time). Then the elementwise kernels against the best
of a few NumPy expressions, and the first-call cost of every numba kernel in
a fresh process, once with an empty cache (compilation) and once with the
cache that run left (loading), via a throwaway ``NUMBA_CACHE_DIR``.

Timings on a shared machine vary; the minimum of several runs is the
least disturbed one.
"""
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

# minidl and numba are imported inside the functions, so that the fresh
# processes of bench_first_calls() time their import too.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "kernels.json")

# (study layer, batch, (H, W, C), kernel, stride, padding)
CONVS = [
    ("mnist conv1 28x28x1 3x3 valid", 512, (28, 28, 1), 3, 1, "valid"),
    ("mnist conv 28x28x32 3x3 same", 512, (28, 28, 32), 3, 1, "same"),
    ("mnist conv 14x14x64 3x3 same", 512, (14, 14, 64), 3, 1, "same"),
    ("mnist conv2 28x28x32 3x3 valid", 128, (28, 28, 32), 3, 1, "valid"),
    ("cifar conv1 32x32x3 3x3 same", 128, (32, 32, 3), 3, 1, "same"),
    ("cifar conv2 32x32x32 3x3 same", 128, (32, 32, 32), 3, 1, "same"),
]
POOLS = [
    ("mnist pool 26x26x32 2x2", 512, (26, 26, 32), 2, 2, "valid"),
    ("mnist pool 24x24x64 2x2", 512, (24, 24, 64), 2, 2, "valid"),
    ("mnist pool 28x28x32 2x2", 512, (28, 28, 32), 2, 2, "valid"),
    ("cifar pool 32x32x32 2x2", 128, (32, 32, 32), 2, 2, "valid"),
    ("cifar pool 16x16x64 2x2", 128, (16, 16, 64), 2, 2, "valid"),
    ("overlapping pool 28x28x32 3x3/2 same", 128, (28, 28, 32), 3, 2, "same"),
]
ELEMENTWISE_SHAPE = (512 * 26 * 26, 32)  # the first conv layer's output, flattened


def best_ms(fns, repeat=9):
    """{name: fn} -> {name: best time in ms}, the runs interleaved so that a
    burst of load from elsewhere hits every candidate alike."""
    for fn in fns.values():
        fn()  # warm up (and compile)
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: 1e3 * min(t) for name, t in times.items()}


def _one_thread(fn):
    """fn run by numba on one thread: what a core gives when the other is busy."""
    import numba

    def run():
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            fn()
        finally:
            numba.set_num_threads(threads)
    return run


def _row(name, fns, nbytes, **extra):
    ms = best_ms(dict(fns, numba_1_thread=_one_thread(fns["numba"])))
    ref, fast = ms["reference"], ms["numba"]
    row = dict(name=name, reference_ms=round(ref, 3), numba_ms=round(fast, 3),
               speedup=round(ref / fast, 2), numba_gb_s=round(nbytes / fast / 1e6, 2),
               numba_1_thread_ms=round(ms["numba_1_thread"], 3), **extra)
    print(row, flush=True)
    return row


def bench_windows(cpu):
    from minidl.kernels import window_geometry
    from minidl.kernels.im2col import col2im_reference, im2col_reference
    from minidl.kernels.pooling import maxpool_backward_reference, maxpool_forward_reference
    rng = np.random.default_rng(0)
    rows = []
    for name, n, (h, w, c), k, s, padding in CONVS:
        x = rng.standard_normal((n, h, w, c), dtype=np.float32)
        g = window_geometry(h, w, (k, k), (s, s), padding)
        cols = cpu.im2col(x, g)
        moved = x.nbytes + cols.nbytes
        rows.append(_row(f"im2col {name} (batch {n})",
                         {"reference": lambda: im2col_reference(x, g),
                          "numba": lambda: cpu.im2col(x, g)}, moved, shape=list(cols.shape)))
        rows.append(_row(f"col2im {name} (batch {n})",
                         {"reference": lambda: col2im_reference(cols, x.shape, g),
                          "numba": lambda: cpu.col2im(cols, x.shape, g)}, moved))
    for name, n, (h, w, c), k, s, padding in POOLS:
        x = rng.standard_normal((n, h, w, c), dtype=np.float32)
        g = window_geometry(h, w, (k, k), (s, s), padding)
        out, argmax = cpu.maxpool_forward(x, g)
        grad = rng.standard_normal(out.shape, dtype=np.float32)
        rows.append(_row(f"maxpool_forward {name} (batch {n})",
                         {"reference": lambda: maxpool_forward_reference(x, g),
                          "numba": lambda: cpu.maxpool_forward(x, g)},
                         x.nbytes + out.nbytes + argmax.nbytes))
        rows.append(_row(f"maxpool_backward {name} (batch {n})",
                         {"reference":
                          lambda: maxpool_backward_reference(grad, argmax, x.shape, g),
                          "numba": lambda: cpu.maxpool_backward(grad, argmax, x.shape, g)},
                         grad.nbytes + argmax.nbytes + x.nbytes))
    return rows


def bench_elementwise(cpu):
    """Each numba kernel against the fastest of a few NumPy spellings."""
    rng = np.random.default_rng(1)
    z0 = rng.standard_normal(ELEMENTWISE_SHAPE, dtype=np.float32)
    g = rng.standard_normal(ELEMENTWISE_SHAPE, dtype=np.float32)
    u = rng.random(ELEMENTWISE_SHAPE, dtype=np.float32)
    b = rng.standard_normal(ELEMENTWISE_SHAPE[1], dtype=np.float32)
    y = np.maximum(z0, 0)
    z = z0.copy()
    scale = np.float32(1 / 0.75)

    def bias_relu_numpy():
        np.add(z, b, out=z)
        np.maximum(z, 0, out=z)

    candidates = {
        "relu_forward_inplace": (
            {"np.maximum(z, 0, out=z)": lambda: np.maximum(z, 0, out=z),
             "np.clip(z, 0, None, out=z)": lambda: np.clip(z, 0, None, out=z)},
            lambda: cpu.relu_forward_inplace(z)),
        "relu_backward_inplace": (
            {"grad * (y > 0)": lambda: g * (y > 0),
             "np.multiply(grad, y > 0, out=grad)": lambda: np.multiply(g, y > 0, out=g),
             "np.where(y > 0, grad, 0)": lambda: np.where(y > 0, g, 0)},
            lambda: cpu.relu_backward_inplace(g, y)),
        "bias_add_relu_inplace": (
            {"z += b; np.maximum(z, 0, out=z)": bias_relu_numpy},
            lambda: cpu.bias_add_relu_inplace(z, b)),
        "dropout_forward": (
            {"x * scale * (u >= rate)": lambda: z0 * scale * (u >= 0.25),
             "np.where(u >= rate, x * scale, 0)": lambda: np.where(u >= 0.25, z0 * scale, 0)},
            lambda: cpu.dropout_forward(z0, u, 0.25)),
    }
    rows = []
    for name, (numpy_versions, fast) in candidates.items():
        ms = best_ms(dict(numpy_versions, numba=fast, numba_1_thread=_one_thread(fast)), repeat=21)
        fast_ms, one_ms = ms.pop("numba"), ms.pop("numba_1_thread")
        rows.append(dict(name=name, shape=list(ELEMENTWISE_SHAPE), dtype="float32",
                         numpy_ms={k: round(v, 3) for k, v in ms.items()},
                         numba_ms=round(fast_ms, 3), numba_1_thread_ms=round(one_ms, 3),
                         speedup_over_best_numpy=round(min(ms.values()) / fast_ms, 2)))
        print(rows[-1], flush=True)
    return rows


def first_calls():
    """Run in a fresh process: seconds of each kernel's first and second call."""
    start = time.perf_counter()
    from minidl.kernels import cpu, window_geometry
    import_s = time.perf_counter() - start
    x = np.random.default_rng(0).standard_normal((8, 12, 12, 4), dtype=np.float32)
    g_same = window_geometry(12, 12, (3, 3), (1, 1), "same")
    g_tiles = window_geometry(12, 12, (2, 2), (2, 2), "valid")
    v4 = np.ones(4, np.float32)
    calls = {
        "im2col (+ starting numba's thread pool)": lambda: cpu.im2col(x, g_same),
        "col2im": lambda: cpu.col2im(np.ones((8 * 144, 36), np.float32), x.shape, g_same),
        "maxpool_forward (padded)": lambda: cpu.maxpool_forward(x, g_same),
        "maxpool_forward (unpadded)": lambda: cpu.maxpool_forward(x, g_tiles),
        "maxpool_backward (general)": lambda: cpu.maxpool_backward(
            np.ones(x.shape, np.float32), np.zeros(x.shape, np.int32), x.shape, g_same),
        "maxpool_backward (tiled)": lambda: cpu.maxpool_backward(
            np.ones((8, 6, 6, 4), np.float32), np.zeros((8, 6, 6, 4), np.int32), x.shape, g_tiles),
        "relu_forward_inplace": lambda: cpu.relu_forward_inplace(x.copy()),
        "relu_backward_inplace": lambda: cpu.relu_backward_inplace(x.copy(), x),
        "bias_add_relu_inplace": lambda: cpu.bias_add_relu_inplace(
            x.reshape(-1, 4).copy(), np.ones(4, np.float32)),
        "dropout_forward": lambda: cpu.dropout_forward(x, x, 0.5),
        "bias_grad": lambda: cpu.bias_grad(x.reshape(-1, 4)),
        "batchnorm_forward": lambda: cpu.batchnorm_forward(x.reshape(-1, 4), v4, v4, 1e-3),
        "batchnorm_backward": lambda: cpu.batchnorm_backward(x.reshape(-1, 4), x.reshape(-1, 4),
                                                             v4, v4),
        "sgd_momentum_update": lambda: cpu.sgd_momentum_update(x.copy(), x, x.copy(), 0.1,
                                                               0.9, False),
        "adam_update": lambda: cpu.adam_update(x.copy(), x, x.copy(), x * x, 1e-3, 0.9,
                                               0.999, 1e-7),
        "adadelta_update": lambda: cpu.adadelta_update(x.copy(), x, x * x, x * x, 1.0, 0.95,
                                                       1e-7),
    }
    result = {"import minidl + numba + kernels.cpu": round(import_s, 3)}
    for name, fn in calls.items():
        start = time.perf_counter()
        fn()
        first = time.perf_counter() - start
        start = time.perf_counter()
        fn()
        result[name] = round(first - (time.perf_counter() - start), 3)
    result["total"] = round(sum(result.values()), 3)
    print(json.dumps(result))


def bench_first_calls():
    """Cold (empty cache: numba compiles) and warm (cache load) first calls, float32."""
    here = os.path.abspath(__file__)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        runs = {}
        for label in ("cold_compile_s", "warm_cache_load_s"):
            done = subprocess.run([sys.executable, here, "--first-calls"], env=env, check=True,
                                  capture_output=True, text=True)
            runs[label] = json.loads(done.stdout.strip().splitlines()[-1])
            print(label, runs[label], flush=True)
    return runs


def main():
    if "--first-calls" in sys.argv:
        return first_calls()
    if "--first-calls-only" in sys.argv:  # refresh that part of the saved results
        with open(RESULTS) as f:
            results = json.load(f)
        results["first_call"] = bench_first_calls()
        results["first_call"]["load_average"] = os.getloadavg()
        with open(RESULTS, "w") as f:
            json.dump(results, f, indent=1)
        return None
    import numba
    from minidl.kernels import cpu
    results = dict(
        machine=dict(platform=platform.platform(), processor=platform.processor(),
                     cpu_count=os.cpu_count(), numba_threads=numba.get_num_threads(),
                     numpy=np.__version__, numba=numba.__version__, dtype="float32",
                     timing="best of 9 interleaved runs (elementwise: 21), ms",
                     load_average_before=os.getloadavg()),
        windows=bench_windows(cpu),
        elementwise=bench_elementwise(cpu),
        first_call=bench_first_calls(),
    )
    results["machine"]["threading_layer"] = numba.threading_layer()
    results["machine"]["load_average_after"] = os.getloadavg()  # others' jobs skew timings
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        json.dump(results, f, indent=1)
    print("wrote", RESULTS)


if __name__ == "__main__":
    main()
