#!/usr/bin/env bash
# minidl's two set-up commands (see README.md). Needs only Python >= 3.9 and bash:
#
#   ./dev.sh run [args]    virtual env + install, then python examples/fashion_cnn.py [args]
#   ./dev.sh test [args]   virtual env + install with test extras (dev, mpi), then pytest [args]
#   ./dev.sh bench [args]  the speed benchmark (benchmarks/bench_models.py)
#   ./dev.sh lessons       run every lesson in lessons/ as a script (also run by the tests)
#   ./dev.sh gpu-check [args]  the GPU check (benchmarks/gpu_check.sh, 8 minutes): with the
#                          machine's own Python (PYTHON), CuPy and PyTorch; installs nothing
#
# The environment lives in .venv (MINIDL_VENV overrides); PYTHON picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")"
venv=${MINIDL_VENV:-.venv}
python=${PYTHON:-python3}

setup() {  # $1: the extras to install, e.g. "images" or "dev"
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv" || {
            echo "dev.sh: could not create a virtual environment with '$python -m venv';" >&2
            echo "        install Python's venv module (Debian: apt install python3-venv)." >&2
            exit 1
        }
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[$1]"
}

task=${1:-}
[ $# -gt 0 ] && shift
case "$task" in
    run)   setup images; exec "$venv/bin/python" examples/fashion_cnn.py "$@" ;;
    test)  setup dev,mpi; exec "$venv/bin/python" -m pytest -q "$@" ;;
    bench) setup dev;    exec "$venv/bin/python" benchmarks/bench_models.py "$@" ;;
    gpu-check) exec bash benchmarks/gpu_check.sh "$@" ;;
    lessons) setup dev
        for lesson in lessons/[0-9]*.py; do
            echo "== $lesson"
            MPLBACKEND=Agg "$venv/bin/python" "$lesson" || { echo "dev.sh: $lesson failed" >&2; exit 1; }
        done ;;
    *) echo "usage: ./dev.sh run|test|bench|lessons|gpu-check [args]" >&2; exit 2 ;;
esac
