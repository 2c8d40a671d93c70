"""Issue 5, target 2: the fast path's metrics against the plain path's, grid point by grid point.

Reads two sweep results folders of the same grid (e.g. docs/results/plain-trainer/light, the
plain HF Trainer in float32, and docs/results/light, the fast path) and prints, per config and
rank, each path's mean ± std over seeds of clean balanced accuracy, gap and ASR, and how far
apart the means are in units of the seeds' spread.

    python bench/compare_paths.py docs/results/plain-trainer/light docs/results/light
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict

from ssti_hf.training.sweep import read_results

METRICS = (("clean_balanced_accuracy", "clean"), ("gap", "gap"), ("asr", "ASR"))


def by_point(folder) -> dict:
    _, runs = read_results(folder)
    points = defaultdict(list)
    for run in runs:
        points[(run["config"], run["rank"])].append(run)
    return points


def fmt(values) -> str:
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("plain")
    parser.add_argument("fast")
    args = parser.parse_args()
    plain, fast = by_point(args.plain), by_point(args.fast)
    print("| config | rank | seeds | " + " | ".join(f"{n} plain | {n} fast" for _, n in METRICS) + " | largest difference / seed std |")
    print("|---|---|---|" + "---|---|" * len(METRICS) + "---|")
    ratios = []
    for point in sorted(set(plain) & set(fast), key=lambda p: (p[0], p[1] or 0)):
        a, b = plain[point], fast[point]
        cells, worst = [], 0.0
        for key, _ in METRICS:
            x, y = [r[key] for r in a if key in r], [r[key] for r in b if key in r]
            cells += [fmt(x), fmt(y)]
            if len(x) > 1 and len(y) > 1:
                spread = max(statistics.pstdev(x + y), 1e-3)
                worst = max(worst, abs(statistics.mean(x) - statistics.mean(y)) / spread)
        ratios.append(worst)
        print(f"| {point[0]} | {point[1]} | {len(a)}/{len(b)} | " + " | ".join(cells) + f" | {worst:.2f} |")
    if ratios:
        print(f"\n{len(ratios)} grid points; the largest mean difference is {max(ratios):.2f} pooled standard deviations "
              f"(median {statistics.median(ratios):.2f}).")


if __name__ == "__main__":
    main()
