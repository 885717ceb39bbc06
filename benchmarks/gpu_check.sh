#!/usr/bin/env bash
# The GPU check: what only a GPU can show about minidl, in one command that ends
# within 8 minutes, on a machine with an NVIDIA GPU, CuPy and PyTorch installed and
# no internet (nothing is installed or downloaded; minidl runs from this checkout).
#
#   benchmarks/gpu_check.sh [--data DIR] [--out DIR] [--steps LIST] [--dry-run]
#   ./dev.sh gpu-check [the same options]
#
# Steps, each under a hard timeout (seconds; 470 in all, then the report):
#   preflight  20  GPU, CuPy, PyTorch and their versions; refuses without a GPU
#   data       45  Fashion-MNIST and CIFAR-10 loaded and checksummed into a private cache
#   tests     125  the test suite on the real CuPy (MINIDL_DEVICE=gpu, no stand-in)
#   bench      90  benchmarks/bench_models.py --device gpu: minidl on CuPy vs PyTorch CUDA
#   vgg        60  study 000's VGG-BN recipe, one epoch of each phase (the third augmented)
#   s002      130  one epoch of each phase of study 002's 100- and 300-epoch recipes
# vgg and s002 measure seconds per epoch on this GPU and project each full run's time.
# --steps picks some of them (comma-separated; preflight always runs).
#
# Data: --data DIR, else $MINIDL_DATA, else .data/ in the repository. Needed:
# fashion-mnist/ (its four IDX files, .gz or not) and CIFAR-10 (cifar-10-binary.tar.gz,
# cifar-10-batches-bin/ or the JPEG copy cifar10-jpg.tar.gz), as minidl's loaders find
# them; mnist/ is optional (the real-data tests that need it are skipped without it).
# --dry-run prints the plan and checks the data folder, then exits: no GPU needed.
#
# Results, in one folder: --out DIR, else $OUT, else benchmarks/results/gpu_check/:
# gpu_check.json, gpu_check.md, gpu_check.log, junit.xml, models_gpu.json, models_gpu.md.
# Exit status: 0 every step passed; 1 a step failed or ran out of time; 2 bad usage or
# missing data; 3 no usable GPU (or minidl's dependencies missing).
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python3}
TOTAL_S=470          # the steps' share of the 8 minutes; the report takes a few seconds
GRACE_S=8            # a step gets SIGINT at its limit (pytest still writes its report), then SIGKILL
ALL_STEPS="data tests bench vgg s002"
S002_MODELS="s002_large_cnn_100ep s002_cnn_48_96_192 s002_cnn_48_96_192_dropout"
declare -A FASHION_GZ_SIZE=([train-images-idx3-ubyte]="25 MiB" [train-labels-idx1-ubyte]="29 KiB"
                           [t10k-images-idx3-ubyte]="4.2 MiB" [t10k-labels-idx1-ubyte]="5 KiB")
declare -A BUDGET=([preflight]=20 [data]=45 [tests]=125 [bench]=90 [vgg]=60
                   [s002_large_cnn_100ep]=40 [s002_cnn_48_96_192]=50
                   [s002_cnn_48_96_192_dropout]=40)

usage() { { echo usage:; sed -n '6,7p' "$0" | sed 's/^#/ /'; } >&2; exit 2; }
die() { echo "gpu_check: $1" >&2; exit "${2:-2}"; }

data="" out="" steps=$ALL_STEPS dry=0
while [ $# -gt 0 ]; do
    case "$1" in
        --data) [ $# -ge 2 ] || usage; data=$2; shift 2 ;;
        --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
        --steps) [ $# -ge 2 ] || usage; steps=${2//,/ }; shift 2 ;;
        --dry-run) dry=1; shift ;;
        -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "gpu_check: unknown argument '$1'" >&2; usage ;;
    esac
done
for s in $steps; do
    case " $ALL_STEPS " in *" $s "*) ;; *) die "--steps: unknown step '$s' (steps: $ALL_STEPS)" ;; esac
done
wants() { case " $steps " in *" $1 "*) return 0 ;; esac; return 1; }
data=${data:-${MINIDL_DATA:-$REPO/.data}}
out=${out:-${OUT:-$REPO/benchmarks/results/gpu_check}}
case $data in /*) ;; *) data=$PWD/$data ;; esac   # the steps run from the repository root
case $out in /*) ;; *) out=$PWD/$out ;; esac

# ------------------------------------------------------------------ the data
human() { awk -v b="$1" 'BEGIN { printf (b >= 1048576 ? "%.1f MiB" : "%.0f KiB"), b / (b >= 1048576 ? 1048576 : 1024) }'; }
size_of() { du -sb "$1" 2>/dev/null | cut -f1; }
first_of() {  # the first existing path among the arguments
    for p in "$@"; do [ -e "$p" ] && { echo "$p"; return 0; }; done; return 1
}
missing=() total=0
check_data() {
    echo "Data folder: $data"
    [ -d "$data" ] || { missing+=("the folder itself"); echo "  (no such folder)"; return; }
    local f p
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        if p=$(first_of "$data/fashion-mnist/$f.gz" "$data/fashion-mnist/$f" "$data/$f.gz" "$data/$f"); then
            printf '  %-52s %10s  ok\n' "${p#"$data"/}" "$(human "$(size_of "$p")")"
            total=$((total + $(size_of "$p")))
        else
            printf '  %-52s %10s  MISSING\n' "fashion-mnist/$f.gz" "${FASHION_GZ_SIZE[$f]}"
            missing+=("fashion-mnist/$f(.gz)")
        fi
    done
    if p=$(first_of "$data"/{cifar-10/,}cifar-10-binary.tar.gz "$data"/{cifar-10/,}cifar-10-batches-bin \
                    "$data"/{cifar-10/,}cifar10-jpg.tar.gz "$data"/{cifar-10/,}cifar10-jpg); then
        printf '  %-52s %10s  ok\n' "${p#"$data"/}" "$(human "$(size_of "$p")")"
        total=$((total + $(size_of "$p")))
    else
        printf '  %-52s %10s  MISSING\n' "cifar-10-binary.tar.gz (or cifar10-jpg.tar.gz)" "163 MiB (19 MiB)"
        missing+=("CIFAR-10: cifar-10-binary.tar.gz, cifar-10-batches-bin/ or cifar10-jpg.tar.gz")
    fi
    if [ -d "$data/mnist" ]; then
        printf '  %-52s %10s  ok (optional)\n' "mnist/" "$(human "$(size_of "$data/mnist")")"
        total=$((total + $(size_of "$data/mnist")))
    else
        printf '  %-52s %10s  absent (optional: its real-data tests skip)\n' "mnist/" "11 MiB"
    fi
    echo "  in all: $(human "$total") to bring along to a machine without internet"
}

plan() {
    echo "minidl GPU check: the plan (${TOTAL_S} s of steps in all, each under a hard timeout)"
    printf '  %-36s %6s  %s\n' step "budget" "what"
    printf '  %-36s %5ss  %s\n' preflight "${BUDGET[preflight]}" "$PY: GPU, CuPy, PyTorch, versions (refuses without a GPU)"
    wants data && printf '  %-36s %5ss  %s\n' data "${BUDGET[data]}" "load + checksum Fashion-MNIST and CIFAR-10 into a private cache"
    wants tests && printf '  %-36s %5ss  %s\n' tests "${BUDGET[tests]}" "MINIDL_DEVICE=gpu $PY -m pytest tests (real CuPy)"
    wants bench && printf '  %-36s %5ss  %s\n' bench "${BUDGET[bench]}" "$PY benchmarks/bench_models.py --device gpu (vs PyTorch CUDA)"
    wants vgg && printf '  %-36s %5ss  %s\n' "vgg (s000_vgg_bn)" "${BUDGET[vgg]}" "$PY -m minidl.studies --models s000_vgg_bn --max-epochs 1"
    if wants s002; then
        for m in $S002_MODELS; do
            printf '  %-36s %5ss  %s\n' "s002 ($m)" "${BUDGET[$m]}" "$PY -m minidl.studies --models $m --max-epochs 1"
        done
    fi
    echo "Results: $out/ (gpu_check.json, gpu_check.md, gpu_check.log, junit.xml, models_gpu.json, models_gpu.md)"
}

plan
check_data
if [ ${#missing[@]} -gt 0 ] && { wants data || wants tests || wants vgg || wants s002; }; then
    echo "gpu_check: refused: the data folder $data lacks:" >&2
    for m in "${missing[@]}"; do echo "  - $m" >&2; done
    echo "Give the folder with --data DIR (or MINIDL_DATA); the machine has no internet to download them." >&2
    exit 2
fi
if [ "$dry" = 1 ]; then
    echo "Dry run: nothing was run."
    exit 0
fi
command -v timeout >/dev/null || die "needs coreutils' timeout" 2
command -v "$PY" >/dev/null || die "no Python '$PY' (set PYTHON)" 3

# ------------------------------------------------------------------ running
mkdir -p "$out" || die "cannot create the results folder $out"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/minidl-gpu-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
LOG=$out/gpu_check.log
: >"$LOG"
say() { echo "$*" | tee -a "$LOG"; }
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" MINIDL_DATA="$data" MINIDL_CACHE="$WORK/cache" \
       MINIDL_CUPY_STANDIN=0 MINIDL_NO_APT=1 PYTHONUNBUFFERED=1 MPLBACKEND=Agg
START=$(date +%s)
DEADLINE=$((START + TOTAL_S))
printf 'step\tstatus\trc\tseconds\tlimit_s\n' >"$WORK/steps.tsv"

run_step() {  # NAME COMMAND...: run under min(budget, time left), log it, record how it ended
    local name=$1; shift
    local left=$((DEADLINE - $(date +%s))) limit=${BUDGET[$name]}
    [ "$left" -lt "$limit" ] && limit=$left
    limit=$((limit - GRACE_S))
    if [ "$limit" -lt 5 ]; then
        say "=== [$name] skipped: the 8 minutes are spent"
        printf '%s\tskipped\t\t0\t0\n' "$name" >>"$WORK/steps.tsv"
        return 1
    fi
    say "=== [$name] limit ${limit}s: $*"
    local t0 rc status
    t0=$(date +%s.%N)
    (cd "$REPO" && timeout -s INT -k "$GRACE_S" "$limit" "$@") 2>&1 | tee "$WORK/$name.log" >>"$LOG"
    rc=${PIPESTATUS[0]}
    local secs
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    case $rc in 0) status=passed ;; 124|137) status="timed out" ;; *) status=failed ;; esac
    say "=== [$name] $status (exit $rc) after ${secs}s"
    [ "$name" = preflight ] || tail -n 3 "$WORK/$name.log"
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$rc" "$secs" "$limit" >>"$WORK/steps.tsv"
    return "$rc"
}

# preflight: refuse clearly where there is no GPU (or no CuPy, or minidl's dependencies lack)
if ! run_step preflight "$PY" - "$WORK/preflight.json" <<'PY'
import importlib, json, os, platform, sys
info = {"python": platform.python_version(), "executable": sys.executable,
        "machine": platform.machine(), "cpu_count": os.cpu_count()}
missing = []
for mod in ("numpy", "numba", "matplotlib", "tqdm", "PIL", "pytest", "xdist", "pytest_timeout",
            "torch"):
    try:
        info[mod] = getattr(importlib.import_module(mod), "__version__", "present")
    except Exception as e:
        info[mod] = None
        if mod in ("numpy", "numba", "matplotlib", "tqdm", "pytest"):
            missing.append(f"{mod} ({type(e).__name__}: {e})")
refusal = None
try:
    import cupy
    info["cupy"], info["cupy_path"] = cupy.__version__, os.path.dirname(cupy.__file__)
    n = cupy.cuda.runtime.getDeviceCount()
    info["gpus"] = n
    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    info["gpu"] = name.decode() if isinstance(name, bytes) else str(name)
    info["gpu_memory_gib"] = round(props["totalGlobalMem"] / 2**30, 1)
    info["compute_capability"] = f"{props['major']}.{props['minor']}"
    info["cuda_runtime"] = cupy.cuda.runtime.runtimeGetVersion()
    info["cuda_driver"] = cupy.cuda.runtime.driverGetVersion()
    x = cupy.arange(1000, dtype=cupy.float32)
    info["first_kernel_ok"] = float((x * 2).sum()) == 999000.0
except Exception as e:
    refusal = f"CuPy {'is not installed' if 'cupy' not in info else 'sees no usable GPU'} ({type(e).__name__}: {e})"
if info.get("torch"):
    import torch
    info["torch_cuda"] = torch.cuda.is_available()
    info["torch_cuda_version"] = torch.version.cuda
import minidl
info["minidl"], info["minidl_path"] = minidl.__version__, os.path.dirname(minidl.__file__)
json.dump(info, open(sys.argv[1], "w"), indent=1)
print(json.dumps(info))
if refusal:
    print(f"gpu_check: refused: no usable GPU here: {refusal}. This check needs an NVIDIA GPU "
          f"with CuPy (and PyTorch for the benchmark); --dry-run prints the plan without one.",
          file=sys.stderr)
    sys.exit(3)
if missing:
    print(f"gpu_check: refused: minidl needs {', '.join(missing)}", file=sys.stderr)
    sys.exit(3)
PY
then
    grep -h "gpu_check: refused" "$WORK/preflight.log" >&2 ||
        { tail -n 5 "$WORK/preflight.log"; echo "gpu_check: the preflight failed; see $LOG" >&2; }
    exit 3
fi

if wants data; then
    run_step data "$PY" - "$WORK/data.json" <<'PY'
import json, os, sys, time, warnings
from minidl.datasets import cifar10, fashion_mnist
report = {}
for name, loader in (("fashion_mnist", fashion_mnist), ("cifar10", cifar10)):
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (x, y), (xt, yt) = loader.load_data(path=os.environ["MINIDL_DATA"], download=False)
    report[name] = {"train": list(x.shape), "test": list(xt.shape),
                    "seconds": round(time.perf_counter() - t, 1),
                    "notes": [str(w.message).split(". ")[0] for w in caught]}
    print(name, report[name])
json.dump(report, open(sys.argv[1], "w"), indent=1)
PY
fi

if wants tests; then
    extra=()
    grep -q '"xdist": null' "$WORK/preflight.json" || extra+=(-n 8)
    grep -q '"pytest_timeout": null' "$WORK/preflight.json" || extra+=(--timeout 90)
    MINIDL_DEVICE=gpu run_step tests "$PY" -m pytest -q -p no:cacheprovider -rfE \
        --junitxml="$WORK/junit.xml" "${extra[@]}" tests
fi

if wants bench; then
    torch_flag=()
    grep -q '"torch_cuda": true' "$WORK/preflight.json" || torch_flag=(--no-torch)
    run_step bench "$PY" benchmarks/bench_models.py --device gpu --threads 4 --min-steps 5 \
        --min-seconds 1 --warmup 2 --out "$WORK/bench" "${torch_flag[@]}"
fi

if wants vgg; then
    run_step vgg "$PY" -m minidl.studies --models s000_vgg_bn --max-epochs 1 --device gpu \
        --out "$WORK/studies" --data "$data" --verbose 2
fi

if wants s002; then
    for m in $S002_MODELS; do
        run_step "$m" "$PY" -m minidl.studies --models "$m" --max-epochs 1 --device gpu \
            --out "$WORK/studies" --data "$data" --verbose 2
    done
fi

# ------------------------------------------------------------------ the report
"$PY" - "$WORK" "$out" "$REPO" "$START" <<'PY' 2>&1 | tee -a "$LOG"
import glob, json, os, re, shutil, subprocess, sys, time
import xml.etree.ElementTree as ET

work, out, repo, start = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
rd = lambda p: json.load(open(p)) if os.path.exists(p) else None   # noqa: E731
text = lambda p: open(p, errors="replace").read() if os.path.exists(p) else ""  # noqa: E731

steps = []
for line in open(os.path.join(work, "steps.tsv")).read().splitlines()[1:]:
    name, status, rc, secs, limit = line.split("\t")
    steps.append({"step": name, "status": status, "exit": int(rc) if rc else None,
                  "seconds": float(secs), "limit_s": int(limit)})
report = {"what": "minidl GPU check (benchmarks/gpu_check.sh)",
          "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
          "wall_s": round(time.time() - start, 1), "steps": steps,
          "machine": rd(os.path.join(work, "preflight.json")),
          "data": rd(os.path.join(work, "data.json"))}
try:
    report["commit"] = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True,
                                      text=True, timeout=10).stdout.strip() or None
except (OSError, subprocess.SubprocessError):
    report["commit"] = None

# tests: counts and failures from pytest's JUnit XML
junit = os.path.join(work, "junit.xml")
if os.path.exists(junit):
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    counts = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    failed, skip_reasons = [], {}
    for case in root.iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        for tag in ("failure", "error"):
            el = case.find(tag)
            if el is not None:
                failed.append({"test": name, "kind": tag, "message": (el.get("message") or "")[:300]})
        el = case.find("skipped")
        if el is not None:
            reason = (el.get("message") or "")[:160]
            skip_reasons[reason] = skip_reasons.get(reason, 0) + 1
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    report["tests"] = {**counts, "failed": failed,
                       "skip_reasons": dict(sorted(skip_reasons.items(), key=lambda kv: -kv[1]))}
    shutil.copy(junit, os.path.join(out, "junit.xml"))

# bench: its own report, or the rows it printed before it was stopped
bench = rd(os.path.join(work, "bench", "models_gpu.json"))
if bench is None:
    rows = [json.loads(l) for l in text(os.path.join(work, "bench.log")).splitlines()
            if l.startswith('{"model"')]
    bench = {"partial": True, "results": rows} if rows else None
else:
    for ext in ("json", "md"):
        shutil.copy(os.path.join(work, "bench", f"models_gpu.{ext}"), out)
report["bench"] = bench

# epochs: seconds per epoch of each phase, and the projected full run on this GPU
def from_log(key):
    """(phase, augmented, seconds) of the epochs a stopped run printed (whole seconds)."""
    rows, phase, aug = [], None, False
    for line in text(os.path.join(work, key + ".log")).splitlines():
        m = re.match(r"\[\S+\] phase (\d+)/\d+: .*?(augmented)?$", line)
        if m:
            phase, aug = int(m.group(1)), bool(m.group(2))
        m = re.match(r"\s*(\d+)s - ", line)
        if m and phase:
            rows.append((phase, aug, float(m.group(1))))
    return rows

sys.path.insert(0, repo)
from minidl import zoo  # noqa: E402
epochs = []
for key in ["s000_vgg_bn", "s002_large_cnn_100ep", "s002_cnn_48_96_192", "s002_cnn_48_96_192_dropout"]:
    log_key = "vgg" if key == "s000_vgg_bn" else key
    if not any(s["step"] == log_key for s in steps):
        continue
    recipe = zoo.get_recipe(key)
    record = rd(os.path.join(work, "studies", key + ".json"))
    measured = {}
    if record:
        h = record["history"]
        for t, p in zip(h["epoch_time_s"], h["phase"]):
            measured.setdefault(p, t)
        accuracy = {p["phase"]: p["test_accuracy"] for p in record["phases"]}
    else:
        for p, _, t in from_log(log_key):
            measured.setdefault(p, t)
        accuracy = {}
    phases = []
    for i, phase in enumerate(recipe.phases, 1):
        phases.append({"phase": i, "epochs_planned": phase.epochs, "augmented": bool(phase.augment),
                       "s_per_epoch": measured.get(i), "test_accuracy_after_1_epoch": accuracy.get(i)})
    full = (sum(p["epochs_planned"] * p["s_per_epoch"] for p in phases)
            if all(p["s_per_epoch"] for p in phases) else None)
    epochs.append({"model": key, "epochs": recipe.epochs, "phases": phases,
                   "projected_full_run_s": full, "source": "json" if record else "log",
                   "peak_memory": (record or {}).get("peak_memory")})
report["epochs"] = epochs

with open(os.path.join(out, "gpu_check.json"), "w") as f:
    json.dump(report, f, indent=1)

# the Markdown
m = report["machine"] or {}
md = ["# minidl GPU check", "",
      f"{m.get('gpu', '?')} ({m.get('gpu_memory_gib', '?')} GiB, compute capability "
      f"{m.get('compute_capability', '?')}), CUDA runtime {m.get('cuda_runtime')}, driver "
      f"{m.get('cuda_driver')}; CuPy {m.get('cupy')}, PyTorch {m.get('torch')}, NumPy "
      f"{m.get('numpy')}, Python {m.get('python')}, {m.get('cpu_count')} CPU cores. "
      f"Commit {report.get('commit', '?')[:12]}; finished {report['finished']}, "
      f"{report['wall_s']:.0f} s in all.", "",
      "| step | status | seconds | limit (s) |", "|---|---|---:|---:|"]
md += [f"| {s['step']} | {s['status']} | {s['seconds']:.0f} | {s['limit_s']} |" for s in steps]
t = report.get("tests")
if t:
    md += ["", "## Test suite on the real CuPy", "",
           f"{t['passed']} passed, {t['failures']} failed, {t['errors']} errors, "
           f"{t['skipped']} skipped (of {t['tests']}); full results in junit.xml."]
    if t["failed"]:
        md += ["", "Failed:", ""] + [f"- `{f['test']}`: {f['message'][:160]}" for f in t["failed"][:40]]
    if t["skip_reasons"]:
        md += ["", "Skipped, by reason:", ""] + [f"- {n}x {r}" for r, n in list(t["skip_reasons"].items())[:10]]
if bench and not bench.get("partial"):
    md += ["", text(os.path.join(out, "models_gpu.md")).replace("# Training-step", "## Training-step")]
elif bench:
    md += ["", "## Training-step benchmark (stopped early; the rows it finished)", "",
           "| model | minidl ms/step | PyTorch ms/step |", "|---|---:|---:|"]
    def ms(worker):
        if not worker:
            return "n/a"
        return f"{worker['ms_per_step']:.1f}" if "ms_per_step" in worker else worker.get("error")
    for r in bench["results"]:
        md.append(f"| {r['model']} | {ms(r['minidl'])} | {ms(r.get('torch'))} |")
if epochs:
    md += ["", "## Seconds per epoch on this GPU, and the projected full runs", "",
           "One real epoch of each phase (the first epoch of a process also pays CuPy's "
           "kernel loading, so these are upper bounds). The full run is the recipe's epochs "
           "times these figures; `python -m minidl.studies --models KEY --device gpu --resume` "
           "runs it.", "",
           "| model | phase | epochs | augmented | s/epoch | test acc. after 1 epoch |",
           "|---|---|---:|---|---:|---:|"]
    for e in epochs:
        for p in e["phases"]:
            secs, acc = p["s_per_epoch"], p["test_accuracy_after_1_epoch"]
            md.append(f"| {e['model']} | {p['phase']}/{len(e['phases'])} | {p['epochs_planned']} | "
                      f"{'yes' if p['augmented'] else 'no'} | "
                      f"{'not measured' if secs is None else format(secs, '.1f')} | "
                      f"{'' if acc is None else format(100 * acc, '.2f') + '%'} |")
    md += ["", "| model | epochs | projected full run on this GPU |", "|---|---:|---:|"]
    for e in epochs:
        full = e["projected_full_run_s"]
        md.append(f"| {e['model']} | {e['epochs']} | "
                  f"{'n/a' if full is None else f'{full / 60:.0f} min ({full:.0f} s)'} |")
with open(os.path.join(out, "gpu_check.md"), "w") as f:
    f.write("\n".join(md) + "\n")
print("\n".join(md))
PY
report_rc=${PIPESTATUS[0]}
status=0
awk -F'\t' 'NR > 1 && $2 != "passed" { bad = 1 } END { exit bad }' "$WORK/steps.tsv" || status=1
[ "$report_rc" = 0 ] || { echo "gpu_check: writing the report failed (exit $report_rc)" >&2; status=1; }
say "gpu_check: $( [ $status = 0 ] && echo "every step passed" || echo "some steps did not pass") in $(( $(date +%s) - START ))s; results in $out/"
exit $status
