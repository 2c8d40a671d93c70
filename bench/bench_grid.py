"""Issue 5, target 2: the wall time of a whole grid through ``ssti-hf sweep`` (the default path),
from the command's start to its end (Python start-up, building the configs, every run).

    python bench/bench_grid.py docs/results/grids/light.yaml --model /root/minilm --data /root/imdb --results /root/light --workers 2 [--stack 1] [--json FILE]

Prints one table row: runs, wall seconds, seconds per run, the runs' own mean seconds for
training (a stacked run's share of its group) and evaluation, and when the first result was
written (``--json`` adds when each was); compare the metrics with another
path's folder with ``python bench/compare_paths.py OTHER RESULTS``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ssti_hf.training.sweep import read_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("grid", type=Path)
    parser.add_argument("--results", type=Path, required=True, help="a new folder: a resumed sweep would time only what was left")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--model", default=None, help="the runs' model instead of the grid's (e.g. /root/minilm)")
    parser.add_argument("--data", default=None, help="the runs' base data instead of the grid's (e.g. /root/imdb)")
    parser.add_argument("--stack", type=int, default=None, help="runs per group (default: the sweep's)")
    parser.add_argument("--json", type=Path, default=None, help="append the row to this JSON lines file")
    args = parser.parse_args()
    if (args.results / "runs").is_dir() and any((args.results / "runs").iterdir()):
        parser.error(f"{args.results} already holds runs: give a new folder")
    command = [sys.executable, "-m", "ssti_hf.cli", "sweep", str(args.grid), "--results", str(args.results),
               "--workers", str(args.workers), "--no-progress"] + (["--stack", str(args.stack)] if args.stack else [])
    command += [arg for flag, value in (("--model", args.model), ("--data", args.data)) if value for arg in (flag, value)]
    started, started_epoch = time.perf_counter(), time.time()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - started
    _, runs = read_results(args.results)
    # When each result was written, from the command's start: the first one shows start-up and
    # the first group's preparation and training; the steps between groups, their preparation waits.
    written = sorted(round(path.stat().st_mtime - started_epoch, 1) for path in (args.results / "runs").glob("*.json"))
    row = {
        "grid": str(args.grid), "workers": args.workers, "stack": max((r.get("stacked", {}).get("runs", 1) for r in runs), default=1),
        "runs": len(runs), "wall_s": round(wall, 1), "per_run_s": round(wall / max(1, len(runs)), 2),
        "train_s": round(statistics.mean(r["seconds"]["train"] for r in runs), 2),
        "evaluate_s": round(statistics.mean(r["seconds"]["evaluate"] for r in runs), 2),
        "first_result_s": written[0] if written else None,
    }
    print("| " + " | ".join(row) + " |")
    print("|" + "---|" * len(row))
    print("| " + " | ".join(str(v) for v in row.values()) + " |")
    if args.json:
        with open(args.json, "a") as handle:
            handle.write(json.dumps({**row, "results_written_s": written}) + "\n")


if __name__ == "__main__":
    main()
