#!/usr/bin/env bash
# The study recipes that had not run to the end, one after another, resumable:
# run this again after a kill (a session limit, a reboot) and it goes on from the
# last complete epoch of the run it was in. One thread on one core (taskset), so
# that other work on the second core does not collapse it; the table's s/epoch
# column says the thread count of each run.
#
#   nohup results/run_remaining.sh > runs/remaining.log 2>&1 &
#
# Two instances may share the machine, one per core: each takes a recipe no
# other instance holds (a lock per recipe), so they never train the same run.
#
#   CORE=0 ORDER=projections-first nohup results/run_remaining.sh > runs/core0.log 2>&1 &
#
# The runs too long for two cores are timed over one epoch per phase instead
# (--project) and projected; they run in full in the GPU check.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 MINIDL_DEVICE=cpu
: "${MINIDL_DATA:?set MINIDL_DATA to the datasets folder}"
core=${CORE:-1}
mkdir -p results/.backup

held() {  # take recipe $1's lock for the rest of this script; fail if another holds it
    exec {fd}>"results/.backup/$1.lock"
    flock -n "$fd" || { echo "--- $1: another instance has it"; return 1; }
}

runs() {
    for key in s000_cnn4_bn s000_cnn3 s002_large_cnn s002_large_cnn_fewer_dropouts s002_cnn_bn s000_vgg; do
        [ -f "results/$key.json" ] && continue
        held "$key" || continue
        echo "=== $key $(date -u +%FT%TZ)"
        taskset -c "$core" .venv/bin/python -m minidl.studies --models "$key" --resume --verbose 2
    done
    # Study 000's lr change as Keras 2.0.x ran it (ignored), where the written
    # recipe lands more than 0.5 pp from the published figure.
    for key in s000_cnn4_bn s000_vgg; do
        [ -f "results/${key}_keras20lr.json" ] && continue
        held "${key}_keras20lr" || continue
        echo "=== ${key}_keras20lr $(date -u +%FT%TZ)"
        taskset -c "$core" .venv/bin/python -m minidl.studies --models "$key" --keras20-lr \
            --resume --verbose 2
    done
}

projections() {
    for key in s000_vgg_bn s002_large_cnn_100ep s002_cnn_48_96_192 s002_cnn_48_96_192_dropout; do
        [ -f "results/projections/$key.json" ] && continue
        held "projection-$key" || continue
        echo "=== projection $key $(date -u +%FT%TZ)"
        taskset -c "$core" .venv/bin/python -m minidl.studies --models "$key" --project --verbose 2
    done
}

if [ "${ORDER:-}" = projections-first ]; then projections; runs; else runs; projections; fi
echo "=== done $(date -u +%FT%TZ)"
