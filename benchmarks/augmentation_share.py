"""Augmentation time as a share of a training step, for the studies that augment.

    python benchmarks/augmentation_share.py     # after bench_augmentation.py and bench_models.py

Reads benchmarks/results/augmentation.json (augmented images/s of each study's
ImageDataGenerator settings, minidl on the CPU) and models_cpu.json (ms per
training step), and prints, per model, the time to augment one batch next to
the time to train on it. Writes benchmarks/results/augmentation_share.md.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")

# model key -> (augmentation config of bench_augmentation.py, batch size of the study)
AUGMENTED = {"s000_mlp": ("mnist-000", 512), "s000_cnn1": ("mnist-000", 512),
             "s000_cnn3": ("mnist-000", 512), "s000_cnn4_bn": ("mnist-000", 512),
             "s000_vgg": ("mnist-000", 512), "s000_vgg_bn": ("mnist-000", 512),
             "s002_cnn_bn": ("cifar-shift", 64)}


def main():
    with open(os.path.join(RESULTS, "augmentation.json")) as f:
        aug = json.load(f)
    with open(os.path.join(RESULTS, "models_cpu.json")) as f:
        models = json.load(f)
    rate = {r["config"]: r["images_per_s"] for r in aug["results"]
            if r["implementation"] == "minidl-cpu"}
    lines = ["# Augmentation as a share of the training step (CPU)", "",
             "| model | batch | augmentation ms/batch | training ms/step | share |",
             "|---|---|---|---|---|"]
    for row in models["results"]:
        key = row["model"]
        if key not in AUGMENTED or "error" in row["minidl"]:
            continue
        config, batch = AUGMENTED[key]
        aug_ms = 1e3 * batch / rate[config]
        step_ms = row["minidl"]["ms_per_step"]
        lines.append(f"| {row['label']} | {batch} | {aug_ms:.1f} | {step_ms:.1f} | "
                     f"{100 * aug_ms / (aug_ms + step_ms):.0f}% |")
    lines += ["", f"Augmentation rates: {', '.join(f'{k} {v:,.0f} images/s' for k, v in rate.items())}"
              f" (load average {aug['machine'].get('loadavg_1min_at_start')} at the start of that run)."]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(RESULTS, "augmentation_share.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
