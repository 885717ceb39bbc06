"""Training-step speed and memory of the studies' models: minidl vs PyTorch.

    python benchmarks/bench_models.py                      # all models, CPU, 2 threads
    python benchmarks/bench_models.py --models s000_cnn1 s000_vgg_bn --threads 2
    python benchmarks/bench_models.py --device gpu         # CuPy vs PyTorch CUDA (cuDNN)
    python benchmarks/bench_models.py --breakdown s000_vgg_bn   # per-layer times only

For every model it measures, each in a fresh subprocess so memory figures do
not mix:
  - ms per training step (forward + backward + update) at the study's batch
    size: the median of timed steps after warm-up steps;
  - inference images/s at batch 1000 (inference mode);
  - peak memory of training: on the CPU the growth of the process's peak
    resident set (VmHWM, reset through /proc/self/clear_refs) over its size
    once model and batch exist, so weights and data are excluded and
    activations, gradients, optimizer state and workspaces included; on the
    GPU the allocator's peak (CuPy pool / torch.cuda.max_memory_allocated).
    A throwaway copy of the model trains one step first, so one-time costs
    (loading numba's compiled kernels, PyTorch's lazy initialization) are
    not counted as training memory.
The PyTorch model is generated from the minidl model layer by layer (same
layers, sizes, dropout, BatchNorm), trained with the same optimizer and
cross-entropy on the logits; images are NCHW, PyTorch's native layout.

Allocator: minidl asks glibc at import to keep freed memory for reuse
(backend._keep_freed_memory). PyTorch's CPU allocator goes through the same
malloc, so the same setting speeds it up too. The main PyTorch column runs
PyTorch as shipped (glibc defaults); ``--torch-tuned`` adds a column with
PyTorch under the same setting (glibc's MALLOC_MMAP_MAX_=0,
MALLOC_TRIM_THRESHOLD_), so both comparisons are on record.

Results go to benchmarks/results/models_<device>.json and .md (device,
threads, versions), and a per-layer forward/backward table for one model.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

# (recipe key, short label) for the issue's list: study 000's six, 001's Keras CNN, 002's BN CNN
MODELS = [("s000_mlp", "000 MLP"), ("s000_cnn1", "000 CNN-1"), ("s000_cnn3", "000 CNN-3"),
          ("s000_cnn4_bn", "000 4-conv BN"), ("s000_vgg", "000 VGG"), ("s000_vgg_bn", "000 VGG-BN"),
          ("s001_keras_cnn", "001 Keras CNN"), ("s002_cnn_bn", "002 BN CNN")]
INFER_BATCH = 1000


# ------------------------------------------------------------------ memory
def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# ------------------------------------------------------------------ models
def _input_shape(recipe):
    if recipe.dataset == "cifar10":
        return (32, 32, 3)
    return (784,) if recipe.flatten else (28, 28, 1)


def _batch(shape, n, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n,) + shape, dtype=np.float32), rng.integers(0, classes, n)


def torch_model(model):
    """A torch.nn.Sequential with the same layers as a built minidl Sequential (NCHW)."""
    import torch.nn as nn
    from minidl import layers as L

    acts = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
    mods = []
    last = model.layers[-1]
    for layer in model.layers:
        shape = layer._in_shape
        if isinstance(layer, L.Lambda):
            scale = float(np.asarray(layer.scale).reshape(-1)[0])
            offset = float(np.asarray(layer.offset).reshape(-1)[0])
            mods.append(_Affine(scale, offset))
            continue
        if isinstance(layer, L.Conv2D):
            same = layer.padding == "same"
            mods.append(nn.Conv2d(shape[-1], layer.filters, layer.kernel_size, layer.strides,
                                  padding="same" if same else 0, bias=layer.use_bias))
        elif isinstance(layer, L.Dense):
            mods.append(nn.Linear(shape[-1], layer.units, bias=layer.use_bias))
        elif isinstance(layer, L.MaxPooling2D):
            mods.append(nn.MaxPool2d(layer.pool_size, layer.strides))
        elif isinstance(layer, L.BatchNormalization):
            bn = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
            mods.append(bn(shape[-1], eps=layer.epsilon, momentum=1 - layer.momentum))
        elif isinstance(layer, L.Dropout):
            mods.append(nn.Dropout(layer.rate))
        elif isinstance(layer, L.Flatten):
            mods.append(nn.Flatten())
        elif not isinstance(layer, L.Activation):
            raise TypeError(f"no PyTorch counterpart for {type(layer).__name__}")
        name = getattr(layer, "activation", None) and layer.activation.name
        if name in acts:
            mods.append(acts[name]())
        elif name == "softmax" and layer is not last:
            mods.append(nn.Softmax(dim=1))
        # a softmax output is folded into CrossEntropyLoss, which takes logits
    return nn.Sequential(*mods)


class _Affine:
    def __new__(cls, scale, offset):
        import torch.nn as nn

        class Affine(nn.Module):
            def forward(self, x):
                return x * scale + offset
        return Affine()


def torch_optimizer(recipe, params):
    import torch
    name, kw = recipe.optimizer
    lr = kw.get("lr", {"Adam": 1e-3, "SGD": 1e-2, "Adadelta": 1.0, "RMSprop": 1e-3}[name])
    if name == "Adam":
        return torch.optim.Adam(params, lr=lr, eps=kw.get("epsilon", 1e-7))
    if name == "SGD":
        return torch.optim.SGD(params, lr=lr, momentum=kw.get("momentum", 0.0))
    if name == "Adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=kw.get("rho", 0.95), eps=kw.get("epsilon", 1e-7))
    return torch.optim.RMSprop(params, lr=lr, alpha=kw.get("rho", 0.9), eps=kw.get("epsilon", 1e-7))


# ------------------------------------------------------------------ workers
def _timed(step, sync, min_steps, min_seconds, warmup):
    for _ in range(warmup):
        step()
    sync()
    times = []
    start = time.perf_counter()
    while len(times) < min_steps or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), len(times)


def _minidl_model(recipe, shape):
    model = recipe.build_model()
    model.build((None,) + shape)
    model.compile(recipe.make_optimizer(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def worker_minidl(key, device, args):
    import gc
    import minidl
    from minidl import backend as K
    from minidl import zoo
    K.set_device(device)
    minidl.seed(0)
    recipe = zoo.get_recipe(key)
    shape = _input_shape(recipe)
    x, y = _batch(shape, recipe.batch_size)
    throwaway = _minidl_model(recipe, shape)
    throwaway._train_step(*throwaway._arrays(x[:2], y[:2], "bench"))  # loads every kernel once
    del throwaway
    gc.collect()
    model = _minidl_model(recipe, shape)
    x, y = model._arrays(x, y, "bench")
    xi = K.asarray(_batch(shape, INFER_BATCH, seed=1)[0])
    pool = K.gpu_pool_bytes
    if device == "gpu":
        K.array_module().get_default_memory_pool().free_all_blocks()
    base = _status("VmRSS")
    reset = _reset_peak_rss()
    step_ms, n = _timed(lambda: model._train_step(x, y), K.synchronize,
                        args.min_steps, args.min_seconds, args.warmup)
    peak = (pool() if device == "gpu" else (_status("VmHWM") - base if reset else None))
    infer_s, _ = _timed(lambda: model._forward(xi, training=False), K.synchronize, 3, 1.0, 1)
    from minidl import kernels
    return {"ms_per_step": step_ms * 1e3, "steps_timed": n, "infer_images_per_s": INFER_BATCH / infer_s,
            "peak_train_bytes": peak, "params": model.count_params(),
            "batch_size": recipe.batch_size, "kernels": kernels.implementation(K.array_module())}


def worker_torch(key, device, args):
    import torch
    from minidl import zoo
    import gc
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    dev = torch.device("cuda" if device == "gpu" else "cpu")
    if device == "gpu":
        # Plain FP32 on both sides: cuDNN convolutions would otherwise use TF32 tensor
        # cores (PyTorch's default), which CuPy's matrix products do not.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    recipe = zoo.get_recipe(key)
    mmodel = recipe.build_model()
    shape = _input_shape(recipe)
    mmodel.build((None,) + shape)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = _batch(shape, recipe.batch_size)
    to_nchw = (lambda a: a.transpose(0, 3, 1, 2).copy()) if len(shape) == 3 else (lambda a: a)
    x, y = torch.from_numpy(to_nchw(x)).to(dev), torch.from_numpy(y).to(dev)
    throwaway = torch_model(mmodel).to(dev)  # one step of a copy: lazy initialization
    opt = torch_optimizer(recipe, throwaway.parameters())
    loss_fn(throwaway(x[:2]), y[:2]).backward()
    opt.step()
    del throwaway, opt
    gc.collect()
    net = torch_model(mmodel).to(dev)
    opt = torch_optimizer(recipe, net.parameters())
    xi = torch.from_numpy(to_nchw(_batch(shape, INFER_BATCH, seed=1)[0])).to(dev)
    sync = torch.cuda.synchronize if device == "gpu" else (lambda: None)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    def infer():
        with torch.no_grad():
            net(xi)

    net.train()
    base = _status("VmRSS")
    reset = _reset_peak_rss()
    if device == "gpu":
        torch.cuda.reset_peak_memory_stats()
    step_ms, n = _timed(step, sync, args.min_steps, args.min_seconds, args.warmup)
    peak = (torch.cuda.max_memory_allocated() if device == "gpu"
            else (_status("VmHWM") - base if reset else None))
    net.eval()
    infer_s, _ = _timed(infer, sync, 3, 1.0, 1)
    return {"ms_per_step": step_ms * 1e3, "steps_timed": n, "infer_images_per_s": INFER_BATCH / infer_s,
            "peak_train_bytes": peak, "params": sum(p.numel() for p in net.parameters()),
            "batch_size": recipe.batch_size, "torch": torch.__version__}


def breakdown(key, device, args):
    """Forward and backward time of each layer of one minidl model (ms per step)."""
    import minidl
    from minidl import backend as K
    from minidl import zoo
    K.set_device(device)
    minidl.seed(0)
    recipe = zoo.get_recipe(key)
    model = recipe.build_model()
    shape = _input_shape(recipe)
    model.build((None,) + shape)
    model.compile(recipe.make_optimizer(), loss="sparse_categorical_crossentropy")
    x, y = model._arrays(*_batch(shape, recipe.batch_size), "bench")
    fwd = np.zeros(len(model.layers))
    bwd = np.zeros(len(model.layers))
    reps = max(3, args.min_steps // 2)
    upd = 0.0
    for rep in range(reps + 1):  # rep 0 warms up

        h = x
        for i, layer in enumerate(model.layers[:-1]):
            t = time.perf_counter()
            h = layer.forward(h, training=True)
            K.synchronize()
            fwd[i] += (time.perf_counter() - t) * (rep > 0)
        last = model.layers[-1]
        t = time.perf_counter()
        z = last.forward_preactivation(h, training=True)
        p = last.activation.forward(z.copy())
        K.synchronize()
        fwd[-1] += (time.perf_counter() - t) * (rep > 0)
        grad = model.loss.gradient_logits(y, p)
        t = time.perf_counter()
        grad = last.backward_preactivation(grad, model._input_grad_needed[-1])
        K.synchronize()
        bwd[-1] += (time.perf_counter() - t) * (rep > 0)
        for i in range(len(model.layers) - 2, -1, -1):
            layer = model.layers[i]
            if not model._input_grad_needed[i] and not layer.params:
                break
            t = time.perf_counter()
            grad = layer.backward(grad, model._input_grad_needed[i])
            K.synchronize()
            bwd[i] += (time.perf_counter() - t) * (rep > 0)
        t = time.perf_counter()
        model._apply_updates()
        K.synchronize()
        upd += (time.perf_counter() - t) * (rep > 0)
    rows = [{"layer": f"{layer.name} ({type(layer).__name__})",
             "output": str((None,) + tuple(layer._out_shape)),
             "forward_ms": fwd[i] / reps * 1e3, "backward_ms": bwd[i] / reps * 1e3}
            for i, layer in enumerate(model.layers)]
    return {"model": key, "batch_size": recipe.batch_size, "layers": rows,
            "update_ms": upd / reps * 1e3}


# ------------------------------------------------------------------ driver
_GLIBC_KEEP_FREED = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def _run_worker(framework, key, args):
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads), NUMBA_NUM_THREADS=str(args.threads))
    if framework.startswith("torch"):
        # the torch worker imports minidl only for the model definition: keep PyTorch's
        # allocator as shipped, or give it minidl's setting explicitly ("torch-tuned")
        env["MINIDL_MALLOC"] = "system"
        if framework == "torch-tuned":
            env.update(_GLIBC_KEEP_FREED)
        framework = "torch"
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", framework, "--models", key,
           "--device", args.device, "--threads", str(args.threads),
           "--min-steps", str(args.min_steps), "--min-seconds", str(args.min_seconds),
           "--warmup", str(args.warmup)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _machine(args):
    import numba
    from minidl import backend as K
    info = {"device": args.device, "threads": args.threads, "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__,
            "platform": platform.platform(), "load_average": os.getloadavg()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f
                               if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import torch
        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    if args.device == "gpu":
        K.set_device("gpu")
        info["gpu"] = K.gpu_name()
        info["cupy"] = K.array_library_version()
        cupy = K.array_module()
        info["cuda_runtime"] = cupy.cuda.runtime.runtimeGetVersion()
        info["cuda_driver"] = cupy.cuda.runtime.driverGetVersion()
        if info["torch"]:
            import torch
            info["torch_cuda"] = torch.version.cuda
            info["cudnn"] = torch.backends.cudnn.version()
            info["torch_tf32"] = False  # worker_torch turns TF32 off: FP32 against FP32
    return info


def _mb(b):
    return "n/a" if b is None else f"{b / 2**20:.0f}"


def markdown(results, machine):
    gpu = ""
    if machine.get("gpu"):
        gpu = f" {machine.get('cupy')}, CUDA runtime {machine.get('cuda_runtime')}"
        if machine.get("cudnn"):
            gpu += f"; PyTorch's cuDNN {machine['cudnn']} with TF32 off (FP32 on both sides)"
        gpu += "; every timed step waits for the GPU to finish."
    lines = [f"# Training-step benchmark ({machine['device'].upper()})", "",
             f"Machine: {machine.get('gpu') or machine.get('cpu')}, {machine['threads']} threads; "
             f"Python {machine['python']}, NumPy {machine['numpy']}, numba {machine['numba']}, "
             f"PyTorch {machine.get('torch')}; load average at start "
             f"{machine['load_average'][0]:.2f}.{gpu}",
             "", "Command: `python benchmarks/bench_models.py " + " ".join(machine["argv"]) + "`", "",
             "| model | batch | minidl ms/step | PyTorch ms/step | ratio | minidl infer img/s | "
             "PyTorch infer img/s | minidl peak MB | PyTorch peak MB | memory ratio |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    tuned_rows = [r for r in results if r.get("torch_tuned") and "error" not in r["torch_tuned"]
                  and "error" not in r["minidl"]]
    for r in results:
        m, t = r["minidl"], r.get("torch") or {}
        if "error" in m:
            lines.append(f"| {r['label']} | | error: {m['error']} | | | | | | | |")
            continue
        has_t = t and "error" not in t
        ratio = f"{m['ms_per_step'] / t['ms_per_step']:.2f}x" if has_t else "n/a"
        mem_ratio = (f"{m['peak_train_bytes'] / t['peak_train_bytes']:.2f}x"
                     if has_t and m["peak_train_bytes"] and t.get("peak_train_bytes") else "n/a")
        lines.append(
            f"| {r['label']} | {m['batch_size']} | {m['ms_per_step']:.1f} | "
            f"{t['ms_per_step']:.1f} | {ratio} | {m['infer_images_per_s']:.0f} | "
            f"{t['infer_images_per_s']:.0f} | {_mb(m['peak_train_bytes'])} | "
            f"{_mb(t.get('peak_train_bytes'))} | {mem_ratio} |" if has_t else
            f"| {r['label']} | {m['batch_size']} | {m['ms_per_step']:.1f} | n/a | n/a | "
            f"{m['infer_images_per_s']:.0f} | n/a | {_mb(m['peak_train_bytes'])} | n/a | n/a |")
    if tuned_rows:
        lines += ["", "PyTorch with minidl's allocator setting (glibc keeps freed memory, "
                  "`MALLOC_MMAP_MAX_=0`), the comparison with equal allocators:", "",
                  "| model | minidl ms/step | PyTorch (same allocator) ms/step | ratio |",
                  "|---|---|---|---|"]
        for r in tuned_rows:
            m, t = r["minidl"]["ms_per_step"], r["torch_tuned"]["ms_per_step"]
            lines.append(f"| {r['label']} | {m:.1f} | {t:.1f} | {m / t:.2f}x |")
    return "\n".join(lines) + "\n"


def breakdown_markdown(b):
    lines = [f"## Where the time goes: {b['model']} at batch {b['batch_size']} (minidl)", "",
             "| layer | output | forward ms | backward ms |", "|---|---|---|---|"]
    for r in b["layers"]:
        lines.append(f"| {r['layer']} | {r['output']} | {r['forward_ms']:.2f} | {r['backward_ms']:.2f} |")
    total_f = sum(r["forward_ms"] for r in b["layers"])
    total_b = sum(r["backward_ms"] for r in b["layers"])
    lines.append(f"| **total** | | **{total_f:.1f}** | **{total_b:.1f}** |")
    lines.append(f"\nOptimizer update: {b['update_ms']:.2f} ms.")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=[k for k, _ in MODELS])
    p.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--min-steps", type=int, default=10)
    p.add_argument("--min-seconds", type=float, default=3.0)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--torch-tuned", action="store_true",
                   help="also time PyTorch with minidl's glibc allocator setting")
    p.add_argument("--breakdown", default="s000_vgg_bn", help="model for the per-layer table ('' = none)")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--worker", choices=["minidl", "torch", "breakdown"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        fn = {"minidl": worker_minidl, "torch": worker_torch, "breakdown": breakdown}[args.worker]
        print(json.dumps(fn(args.models[0], args.device, args)))
        return 0

    machine = _machine(args)
    machine["argv"] = sys.argv[1:] if argv is None else list(argv)
    labels = dict(MODELS)
    results = []
    for key in args.models:
        row = {"model": key, "label": labels.get(key, key), "minidl": _run_worker("minidl", key, args)}
        if not args.no_torch:
            row["torch"] = _run_worker("torch", key, args)
            if args.torch_tuned:
                row["torch_tuned"] = _run_worker("torch-tuned", key, args)
        results.append(row)
        print(json.dumps(row), flush=True)
    report = {"machine": machine, "results": results}
    md = markdown(results, machine)
    if args.breakdown:
        report["breakdown"] = _run_worker("breakdown", args.breakdown, args)
        if "error" not in report["breakdown"]:
            md += "\n" + breakdown_markdown(report["breakdown"])
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"models_{args.device}")
    with open(stem + ".json", "w") as f:
        json.dump(report, f, indent=1)
    with open(stem + ".md", "w") as f:
        f.write(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
