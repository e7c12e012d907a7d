"""What each part of Day 14's CIFAR-10 recipe gains: leave-one-out runs and speed steps.

Each variant trains ``course.cifar.CifarNet`` with ``course.cifar.Recipe`` minus one part,
on the same split, seed and number of epochs, and reports validation and test accuracy
and seconds per epoch. Speed steps (channels-last, bfloat16) are timed over a few
training steps each.

    COURSE_DATA_DIR=... .venv/bin/python benchmarks/cifar10_recipe.py               # all
    COURSE_DATA_DIR=... .venv/bin/python benchmarks/cifar10_recipe.py --only recipe no-shift
    .venv/bin/python benchmarks/cifar10_recipe.py --speed-only

A full variant takes as long as Day 14's training (about 4-5 minutes on 2 CPU cores).
Results are appended, one JSON line per run, to build/bench/cifar10_recipe.jsonl.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from course import cifar  # noqa: E402

BASE = cifar.Recipe()
VARIANTS: dict[str, cifar.Recipe] = {
    "recipe": BASE,
    "no-shift": dataclasses.replace(BASE, shift=0),
    "no-flip": dataclasses.replace(BASE, flip=False),
    "no-augmentation": dataclasses.replace(BASE, shift=0, flip=False),
    "no-label-smoothing": dataclasses.replace(BASE, label_smoothing=0.0),
    "constant-lr": dataclasses.replace(BASE, one_cycle=False, lr=0.05),
    "fp32": dataclasses.replace(BASE, bf16=False),
}
SPEED = {
    "fp32, contiguous": dataclasses.replace(BASE, bf16=False, channels_last=False),
    "fp32, channels-last": dataclasses.replace(BASE, bf16=False),
    "bf16, contiguous": dataclasses.replace(BASE, channels_last=False),
    "bf16, channels-last (recipe)": BASE,
}


def seconds_per_step(recipe: cifar.Recipe, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Median seconds of one training step (batch of ``recipe.batch_size``), after warm-up."""
    torch.manual_seed(0)
    model = cifar.CifarNet(*cifar.channel_stats(images))
    if recipe.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer, _ = cifar.make_optimizer(model, recipe, 100)
    x = cifar.to_input(images[: recipe.batch_size], torch.device("cpu"), recipe.channels_last)
    y = labels[: recipe.batch_size]
    times = []
    for _ in range(8):
        start = time.perf_counter()
        with cifar._autocast(torch.device("cpu"), recipe.bf16):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[3:])


def accuracy(model: torch.nn.Module, images, labels, recipe: cifar.Recipe) -> float:
    logits = cifar.predict_logits(model, images, recipe)
    return (logits.argmax(1) == labels).float().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(VARIANTS), help="variants to run")
    parser.add_argument("--epochs", type=int, help="override the recipe's epochs")
    parser.add_argument("--speed-only", action="store_true")
    args = parser.parse_args()
    split = cifar.load_split()
    out = ROOT / "build" / "bench" / "cifar10_recipe.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    threads = torch.get_num_threads()

    print(f"Speed, {threads} thread(s), batch {BASE.batch_size}:")
    base_time = None
    for name, recipe in SPEED.items():
        seconds = seconds_per_step(recipe, *split.train)
        base_time = base_time or seconds
        print(f"  {name:30s} {seconds * 1000:7.1f} ms/step  {base_time / seconds:4.2f}x")
    if args.speed_only:
        return

    for name in args.only or VARIANTS:
        recipe = VARIANTS[name]
        if args.epochs:
            recipe = dataclasses.replace(recipe, epochs=args.epochs)
        print(f"\n== {name}: {recipe}")
        torch.manual_seed(0)
        model = cifar.CifarNet(*cifar.channel_stats(split.train[0]))
        history = cifar.train_cifar_net(model, *split.train, recipe, val=split.val)
        row = {
            "variant": name,
            "recipe": dataclasses.asdict(recipe),
            "val_acc": history["val_acc"][-1],
            "test_acc": accuracy(model, *split.test, recipe),
            "test_acc_no_tta": accuracy(model, *split.test, dataclasses.replace(recipe, tta=False)),
            "seconds_per_epoch": statistics.median(history["seconds"]),
            "threads": threads,
            "torch": torch.__version__,
            "date": time.strftime("%Y-%m-%d %H:%M"),
        }
        print(json.dumps(row))
        with out.open("a") as fh:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
