"""Reproduce the studies: ``python -m minidl.studies``.

    python -m minidl.studies --list
    python -m minidl.studies --models s000_cnn1 s004_model1 [--max-epochs N] [--limit N]
    python -m minidl.studies --study 000 [--device gpu] [--out results/] [--data PATH]
    python -m minidl.studies --all
    python -m minidl.studies --models s000_vgg --resume     # after a kill: go on
    python -m minidl.studies --models s000_vgg_bn --project # one epoch per phase, timed

For each model it replays the recipe (``minidl.zoo.run_recipe``) and writes
``<out>/<model>.json`` (recipe, device, versions, seed, epochs, per-epoch
history, per-phase test accuracy, time per epoch, peak memory) and
``<out>/<model>_curves.png``, then rewrites ``<out>/README.md``: a table of
published vs minidl test accuracy built from *all* the JSON files there.

``--project`` is for recipes too long for the machine at hand: it trains one
real epoch of each phase, times them, and writes the projected time of the
full recipe to ``<out>/projections/<model>.json``; the table lists it with the
published figure, marked as runnable in the GPU check.

Every run backs itself up at each epoch's end in ``<out>/.backup/<model>/``
(weights, optimizer, random streams, history: minidl.callbacks.BackupAndRestore),
and removes the backup when it is done. ``--resume`` continues a run that was
killed from its last complete epoch, across the recipe's phases, and ends
exactly as the uninterrupted run would; without it a stale backup is
discarded and the run starts over.
"""
import argparse
import glob
import json
import os
import platform
import shutil
import sys

import numpy as np

from . import __version__
from . import backend as K
from . import plotting, zoo
from .datasets import DatasetNotFoundError
from .utils.files import write_json_atomic, write_text_atomic


def describe_device():
    """The machine a run used: CPU model and threads, GPU name when on CuPy."""
    import numba
    info = {"device": K.device(), "cpu": _cpu_name(), "cpu_count": os.cpu_count(),
            "numba_threads": numba.get_num_threads(), "platform": platform.platform()}
    if K.device() == "gpu":
        info["gpu"] = K.gpu_name()
    return info


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions():
    import numba
    cupy = K.array_library_version() if K.device() == "gpu" else None
    return {"minidl": __version__, "numpy": np.__version__, "numba": numba.__version__,
            "cupy": cupy, "python": platform.python_version()}


def device_label(info):
    if info.get("gpu"):
        return f"GPU {info['gpu']}"
    threads = info.get("numba_threads", "?")
    return f"CPU {info.get('cpu', '?')}, {threads} thread{'' if threads == 1 else 's'}"


def run(key, out, max_epochs=None, limit=None, seed=0, data_path=None, verbose=1,
        keras20_lr_assignment=False, resume=False):
    """Run one recipe; write its JSON and curves into ``out``; return (record, JSON path).

    resume: continue from the backup a killed run left in ``out/.backup/<name>``.
    """
    name = key + ("_keras20lr" if keras20_lr_assignment else "")
    backup_dir = os.path.join(out, ".backup", name)
    settings = {"max_epochs": max_epochs, "limit": limit, "seed": seed,
                "keras20_lr_assignment": keras20_lr_assignment, "device": K.device()}
    _prepare_backup(backup_dir, settings, resume, verbose)
    result = zoo.run_recipe(key, max_epochs=max_epochs, limit=limit, seed=seed, verbose=verbose,
                            data_path=data_path, keras20_lr_assignment=keras20_lr_assignment,
                            backup_dir=backup_dir)
    result.pop("trained_model")
    result["device_info"] = describe_device()
    result["versions"] = versions()
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name + ".json")
    write_json_atomic(path, result, indent=1)
    plotting.plot_history(result["history"], os.path.join(out, name + "_curves.png"),
                          title=f"{name}: {result['recipe']['description']}")
    shutil.rmtree(backup_dir, ignore_errors=True)
    return result, path


def project(key, out, seed=0, data_path=None, verbose=1):
    """Time one real epoch of each phase of a recipe and project the full run."""
    recipe = zoo.get_recipe(key)
    result = zoo.run_recipe(key, max_epochs=1, seed=seed, verbose=verbose, data_path=data_path)
    result.pop("trained_model")
    history = result["history"]
    phases = []
    for p, spec in zip(result["phases"], recipe.phases):
        seconds = [t for t, ph in zip(history["epoch_time_s"], history["phase"])
                   if ph == p["phase"]][0]
        phases.append({"phase": p["phase"], "epochs": spec.epochs, "s_per_epoch": seconds,
                       "augmented": p["augmented"], "published_accuracy": p["published_accuracy"]})
    record = {"model": key, "study": recipe.study, "description": recipe.description,
              "phases": phases, "projected_s": sum(p["epochs"] * p["s_per_epoch"] for p in phases),
              "device_info": describe_device(), "versions": versions(),
              "data_notes": result["data_notes"]}
    folder = os.path.join(out, "projections")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, key + ".json")
    write_json_atomic(path, record, indent=1)
    return record, path


def _section(title, intro, header, align, rows):
    """A titled markdown table, or nothing when it has no rows."""
    if not rows:
        return []
    return ["", f"## {title}", "", intro, "", "| " + " | ".join(header) + " |",
            "| " + " | ".join(align) + " |"] + rows


def _figures(published, epochs):
    """'92.96 → 94.01' and '10 + 10 + 50': a recipe's published figures and epochs per phase."""
    return (" → ".join(f"{a:.2f}" for a in published if a is not None),
            " + ".join(str(e) for e in epochs))


def _projection_rows(out):
    rows = []
    for path in sorted(glob.glob(os.path.join(out, "projections", "*.json"))):
        with open(path) as f:
            r = json.load(f)
        published, epochs = _figures([p["published_accuracy"] for p in r["phases"]],
                                     [p["epochs"] for p in r["phases"]])
        per_epoch = " / ".join(f"{p['s_per_epoch']:.0f}" for p in r["phases"])
        rows.append(f"| {r['model']} | {r['study']} | {published} | {epochs} | {per_epoch} "
                    f"| {r['projected_s'] / 3600:.1f} h | {device_label(r['device_info'])} "
                    f"| runs in the GPU check |")
    return _section(
        "Too long for this machine: projected",
        "Written by `python -m minidl.studies --project`: one real epoch of each phase, "
        "timed, times the recipe's epochs. These runs are part of the GPU check "
        "(`./dev.sh gpu-check`), which runs the day a GPU is lent.",
        ["model", "study", "published", "epochs per phase", "s/epoch per phase",
         "projected time", "device", ""],
        ["---", "---", "---:", "---:", "---:", "---:", "---", "---"], rows)


def _pending_rows(out, measured):
    """Published rows with no figure in ``out`` yet: they keep their place in the table."""
    rows = []
    for key, recipe in zoo.RECIPES.items():
        published, epochs = _figures([p.published for p in recipe.phases],
                                     [p.epochs for p in recipe.phases])
        if not published or key in measured or \
                os.path.exists(os.path.join(out, "projections", key + ".json")):
            continue
        started = os.path.isdir(os.path.join(out, ".backup", key))
        rows.append(f"| {key} | {recipe.study} | {published} | {epochs} "
                    f"| {'started; resumes from its backup' if started else 'not yet run'} |")
    return _section(
        "Published, not yet measured here",
        "Recipes with a published figure and no run or projection in this folder yet. "
        "`results/run_remaining.sh` runs them one after another, resumably.",
        ["model", "study", "published", "epochs per phase", "state"],
        ["---", "---", "---:", "---:", "---"], rows)


def _prepare_backup(backup_dir, settings, resume, verbose):
    """Keep a backup only to resume the same run (same settings); else start afresh."""
    marker = os.path.join(backup_dir, "settings.json")
    if os.path.isdir(backup_dir):
        saved = None
        if os.path.exists(marker):
            with open(marker) as f:
                saved = json.load(f)
        if resume and saved == settings:
            if verbose:
                print(f"resuming from {backup_dir}")
            return
        if resume:
            raise SystemExit(f"--resume: the backup in {backup_dir} is of a run with other "
                             f"settings ({saved}); remove it or run with those settings")
        shutil.rmtree(backup_dir)
    os.makedirs(backup_dir)
    write_json_atomic(marker, settings)


def _phase_epoch_time(record, phase):
    h = record["history"]
    times = [t for t, p in zip(h.get("epoch_time_s", []), h.get("phase", [])) if p == phase]
    return float(np.median(times)) if times else None  # median: robust to a busy machine


def write_readme(out):
    """Rewrite ``out/README.md`` from every result JSON in ``out``; return its path."""
    records = []
    for path in sorted(glob.glob(os.path.join(out, "*.json"))):
        with open(path) as f:
            record = json.load(f)
        if isinstance(record, dict) and "phases" in record and "recipe" in record:
            records.append((os.path.splitext(os.path.basename(path))[0], record))
    lines = ["# minidl vs the published studies", "",
             "Written by `python -m minidl.studies` from the JSON files in this folder. "
             "Accuracies are on each study's test set, in %; 'diff' is minidl minus "
             "published, in percentage points. One row per training phase the study "
             "published a figure for. 's/epoch' is the median wall time of an epoch of that "
             "phase (training and validation).", "",
             "| model | study | phase | published | minidl | diff (pp) | epochs | s/epoch "
             "| device |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    notes = []
    for name, r in records:
        for p in r["phases"]:
            if p.get("published_accuracy") is None:
                continue
            ours = 100 * p["test_accuracy"]
            epochs = str(p["epochs"]) if p["epochs"] == p["epochs_planned"] else \
                f"{p['epochs']} of {p['epochs_planned']}"
            t = _phase_epoch_time(r, p["phase"])
            lines.append(
                f"| {name} | {r['study']} | {p['phase']}/{len(r['phases'])} "
                f"| {p['published_accuracy']:.2f} | {ours:.2f} "
                f"| {ours - p['published_accuracy']:+.2f} | {epochs} "
                f"| {'' if t is None else f'{t:.2f}' if t < 10 else f'{t:.0f}'} | {device_label(r.get('device_info', {}))} |")
        caveats = []
        if r.get("capped"):
            caveats.append(f"capped at {r['max_epochs']} epoch(s) per phase")
        if r.get("limit"):
            caveats.append(f"limited to {r['limit']} samples per part "
                           f"(train {r['samples']['train']}, test {r['samples']['test']})")
        if caveats:
            notes.append(f"- **{name}**: " + "; ".join(caveats) + ": not comparable with the "
                         "published figure.")
        for note in r.get("data_notes", []):
            notes.append(f"- **{name}**: data: {note}")
        if r.get("keras20_lr_assignment"):
            notes.append(f"- **{name}**: replays Keras 2.0.x, which ignored "
                         "`model.optimizer.lr = ...`: the lr stays at its compiled value.")
    lines += _projection_rows(out)
    lines += _pending_rows(out, {name for name, _ in records})
    if notes:
        lines += ["", "Runs that differ from the study's recipe:", ""] + notes
    # The notes are about the recipe and the study, not the run: today's text wins.
    study_notes = {r["model"]: (zoo.RECIPES[r["model"]].notes if r["model"] in zoo.RECIPES
                                else r["recipe"].get("notes")) for _, r in records}
    study_notes = {k: v for k, v in study_notes.items() if v}
    if study_notes:
        lines += ["", "Notes on the recipes and the published figures:", ""]
        lines += [f"- **{k}**: {v}" for k, v in study_notes.items()]
    path = os.path.join(out, "README.md")
    write_text_atomic(path, "\n".join(lines) + "\n")
    return path


def _select(args):
    if args.all:
        return list(zoo.RECIPES)
    keys = list(args.models or [])
    for study in args.study or []:
        study = study.zfill(3)
        found = [k for k, r in zoo.RECIPES.items() if r.study == study]
        if not found:
            raise SystemExit(f"--study: no study {study!r}; studies are "
                             f"{sorted({r.study for r in zoo.RECIPES.values()})}")
        keys += found
    unknown = [k for k in keys if k not in zoo.RECIPES]
    if unknown:
        raise SystemExit(f"--models: unknown {unknown}; see --list")
    return list(dict.fromkeys(keys))


def _list():
    for key, r in zoo.RECIPES.items():
        published = " -> ".join(f"{p.published:.2f}" for p in r.phases if p.published)
        print(f"{key:32s} {r.epochs:4d} epochs  published {published:15s}  {r.description}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minidl.studies", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_argument_group("what to run")
    what.add_argument("--models", nargs="+", metavar="KEY", help="recipe keys (see --list)")
    what.add_argument("--study", nargs="+", metavar="ID", help="every model of these studies")
    what.add_argument("--all", action="store_true", help="every recipe")
    what.add_argument("--list", action="store_true", help="list the recipes and exit")
    parser.add_argument("--max-epochs", type=int, help="cap every phase (quick runs)")
    parser.add_argument("--limit", type=int, help="at most N train/val/test samples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("cpu", "gpu", "auto"), default="auto")
    parser.add_argument("--out", default="results", help="output folder (default results/)")
    parser.add_argument("--data", help="dataset folder (default: MINIDL_DATA, cache, download)")
    parser.add_argument("--keras20-lr", action="store_true",
                        help="skip study 000's `optimizer.lr = ...` as Keras 2.0.x did")
    parser.add_argument("--project", action="store_true",
                        help="time one epoch per phase and project the full run (for recipes "
                             "too long for this machine)")
    parser.add_argument("--resume", action="store_true",
                        help="continue a killed run from its last complete epoch "
                             "(backups in <out>/.backup/)")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2))
    args = parser.parse_args(argv)
    if args.list:
        _list()
        return 0
    keys = _select(args)
    if not keys:
        parser.error("name what to run: --models KEY..., --study ID... or --all")
    K.set_device(args.device)
    if args.project:
        for key in keys:
            record, path = project(key, args.out, seed=args.seed, data_path=args.data,
                                   verbose=args.verbose)
            print(f"{key}: projected {record['projected_s'] / 3600:.1f} h -> {path}")
        write_readme(args.out)
        return 0
    for key in keys:
        try:
            result, path = run(key, args.out, max_epochs=args.max_epochs, limit=args.limit,
                         seed=args.seed, data_path=args.data, verbose=args.verbose,
                         keras20_lr_assignment=args.keras20_lr, resume=args.resume)
        except DatasetNotFoundError as err:
            print(err, file=sys.stderr)
            return 2
        last = result["phases"][-1]
        print(f"{key}: test accuracy {100 * last['test_accuracy']:.2f}% "
              f"(published {last['published_accuracy']}), {result['epochs_run']} epochs, "
              f"{result['wall_s']:.0f}s -> {path}")
        write_readme(args.out)
    print(f"table: {os.path.join(args.out, 'README.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
