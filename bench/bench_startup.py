"""Issue 18: how long a command takes to start, on this machine. Runs `ssti-hf --help`, the
--help of every command but train, and `python -c "import ssti_hf"` in fresh processes; prints
the median of --repeats wall times each (the target: `ssti-hf --help` well under a second on 2 cores).

    python bench/bench_startup.py --repeats 5 [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(command: list[str], repeats: int) -> float:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each command; the median is printed (default: 5)")
    parser.add_argument("--json", type=Path, default=None, help="append the figures to this JSON lines file (default: none)")
    args = parser.parse_args()
    entry = shutil.which("ssti-hf") or str(Path(sys.executable).with_name("ssti-hf"))
    commands = {"python -c pass": [sys.executable, "-c", "pass"], "import ssti_hf": [sys.executable, "-c", "import ssti_hf"],
                "ssti-hf --help": [entry, "--help"]}
    commands |= {f"ssti-hf {name} --help": [entry, name, "--help"] for name in ("inject", "build", "scan", "sanitize", "sweep", "report")}
    row = {name: round(timed(command, args.repeats), 3) for name, command in commands.items()}
    for name, seconds in row.items():
        print(f"{name:28s} {seconds:6.3f} s")
    if args.json:
        with args.json.open("a") as handle:
            handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
