#!/usr/bin/python3
"""Plots compare_activations' results (matplotlib, PNG).

Reads <out>/epochs.csv and <out>/histograms.csv and writes next to them:
  activations_accuracy.png       test accuracy per epoch, one line per activation (comparison)
  activations_never_active.png   fc1 units never active over the training set per epoch, both
                                 experiments (the comparison and the dying-ReLU runs)
  activations_histograms.png     fc1's pre-activations over the training set at the end, per
                                 activation (the comparison)

    /usr/bin/python3 tools/plot_activations.py build/release/compare_activations
"""

import argparse
import collections
import csv
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=pathlib.Path, help="compare_activations' --out directory")
    args = parser.parse_args()
    epochs = rows(args.out / "epochs.csv")
    series = collections.defaultdict(list)
    for r in epochs:
        series[(r["experiment"], r["activation"])].append(r)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (experiment, activation), lines in series.items():
        if experiment == "comparison":
            ax.plot([int(r["epoch"]) for r in lines],
                    [float(r["test_accuracy"]) for r in lines], marker="o", label=activation)
    ax.set(xlabel="epoch", ylabel="test accuracy (%)",
           title="784-128-10 on Fashion-MNIST, Adam 1e-3 (nnfuse)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out / "activations_accuracy.png", dpi=120)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, experiment, title in ((axes[0], "comparison", "Adam 1e-3"),
                                  (axes[1], "dying", "SGD, high learning rate")):
        for (e, activation), lines in series.items():
            if e == experiment:
                # An epoch whose loss is NaN diverged: its weights count nothing.
                kept = [r for r in lines if r["loss"] not in ("nan", "-nan")]
                label = activation if len(kept) == len(lines) else f"{activation} (diverged)"
                ax.plot([int(r["epoch"]) for r in kept],
                        [100.0 * int(r["never_active"]) / 128 for r in kept], marker="o",
                        label=label)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set(xlabel="epoch", title=title)
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_ylabel("fc1 units never active on the training set (%)")
    fig.tight_layout()
    fig.savefig(args.out / "activations_never_active.png", dpi=120)

    histograms = collections.defaultdict(list)
    for r in rows(args.out / "histograms.csv"):
        if r["experiment"] == "comparison" and r["low"] not in ("nan", "-inf") \
                and r["high"] != "inf":
            histograms[r["activation"]].append(r)
    if histograms:
        names = list(histograms)
        cols = 4
        fig, axes = plt.subplots((len(names) + cols - 1) // cols, cols, figsize=(13, 6),
                                 squeeze=False)
        for ax, name in zip(axes.flat, names):
            bins = histograms[name]
            lows = [float(b["low"]) for b in bins]
            width = float(bins[0]["high"]) - lows[0]
            ax.bar(lows, [int(b["count"]) for b in bins], width=width, align="edge")
            ax.set_title(name)
            ax.set_yscale("log")
        for ax in list(axes.flat)[len(names):]:
            ax.axis("off")
        fig.suptitle("fc1 pre-activations z over the training set after training")
        fig.tight_layout()
        fig.savefig(args.out / "activations_histograms.png", dpi=110)
    print(f"plot_activations: wrote {args.out}/activations_*.png")


if __name__ == "__main__":
    main()
