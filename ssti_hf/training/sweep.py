"""``ssti-hf sweep GRID.yaml``: the paper's grids (rank x rate x amount x source x location x seed),
and grids of training-time attacks (an ``attack`` axis, or config names listed under ``config``).

A grid file names the axes (lists) and fixed settings; every combination is one run of
:func:`ssti_hf.training.trainer.run`. Each finished run writes ``RESULTS/runs/<run id>.json`` through a
temporary file and a rename, so a killed sweep never leaves a half-written result and a restarted
one skips what is done. ``--shard i/n`` runs every n-th run from the i-th, so any scheduler (a
SLURM array, one process per GPU) can spread a sweep; shards share the results folder. On a GPU
the LoRA runs of one model and rank train together in groups (``--stack``, :mod:`ssti_hf.engine.stacked`).

    base: imdb
    source: [date]
    rate: [0, 25, 50, 75, 100]
    amount: [1tok]
    location: [random]
    diversity: [all]             # k distinct items of the source (the paper's appendix A.8), or all
    label: 1
    rank: [1, 16, 32, 64]
    method: lora
    seed: [0, 1, 2]
    model: minilm
    data: ../shared/data/imdb     # base data source (default: the base's Hub id)
    training: {max_steps: 500}   # any TrainingArguments flag
    ssti: {max_length: 512}      # any SSTIArguments flag

``attack`` (default ``ssti``) is an axis too: ``ssti``, ``backdoor``, ``backdoor-clean``,
``poison-flip`` (:data:`ssti_hf.config.ATTACKS`); the parts an attack has not (a label flip's
source, amount, location and label) are ignored for it, so combinations differing only there are
one run. Where each attack needs its own rates, list the config names instead of the name parts:

    config: [imdb-poison-flip-10pct, imdb-backdoor-date-1pct-1tok]
    method: [lora, full]          # full fine-tuning is one run per point, whatever the ranks
    rank: [1, 16, 64]
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hashlib
import itertools
import json
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

from ..config import LOCATION_NAMES, SSTIConfig, get_attack, parse_amount
from .runs import write_json

NAME_AXES = ("base", "attack", "source", "rate", "amount", "location", "diversity", "label")  # the parts of a config name
RUN_AXES = ("rank", "method", "seed", "model")  # how each config is trained
AXES = ("config", *NAME_AXES, *RUN_AXES)
SETTINGS = ("data", "training", "ssti")


@dataclasses.dataclass(frozen=True)
class Run:
    config: str
    rank: int | None  # None for full fine-tuning
    method: str
    seed: int
    model: str

    @property
    def id(self) -> str:
        rank = f"-r{self.rank}" if self.rank is not None else ""
        return f"{self.config}-{self.method}{rank}-s{self.seed}-{self.model.replace('/', '--')}"


def load_grid(path) -> dict:
    """Read and check a grid file: unknown keys and empty axes are errors."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"grid file {str(path)!r} does not exist")
    try:
        grid = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as error:
        raise ValueError(f"grid file {str(path)!r} is not UTF-8 text (byte at offset {error.start})") from None
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ValueError(f"grid file {str(path)!r} is not valid YAML{line}: {problem}") from None
    if not isinstance(grid, dict):
        raise ValueError(f"grid file {str(path)!r} must be a mapping of axes to values")
    unknown = sorted(set(grid) - set(AXES) - set(SETTINGS))
    if unknown:
        raise ValueError(f"grid file {str(path)!r} has unknown key(s) {unknown}; axes: {list(AXES)}, settings: {list(SETTINGS)}")
    for key in AXES:
        if isinstance(grid.get(key), list) and not grid[key]:
            raise ValueError(f"grid axis {key!r} is empty: give it at least one value")
    for key in ("training", "ssti"):
        if not isinstance(grid.get(key, {}), dict):
            raise ValueError(f"grid setting {key!r} must be a mapping of flags to values")
        secrets = sorted(flag for flag in grid.get(key, {}) if "token" in str(flag).lower())
        if secrets:  # the grid is copied into RESULTS/grid.json: a token must never be written
            raise ValueError(f"grid file {str(path)!r}: {key}.{secrets[0]} holds a token; set HF_TOKEN instead (a grid is stored with its results)")
    for key, low, high in (("rank", 1, None), ("seed", 0, None), ("rate", 0, 100), ("label", 0, None)):
        for value in grid.get(key) if isinstance(grid.get(key), list) else [grid[key]] if key in grid else []:
            if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
                bounds = f"{low}..{high}" if high is not None else f">= {low}"
                raise ValueError(f"grid file {str(path)!r}: {key} {value!r} is not an int {bounds}")
    for value in grid.get("method") if isinstance(grid.get("method"), list) else [grid.get("method", "lora")]:
        if value not in ("lora", "dora", "full"):
            raise ValueError(f"grid file {str(path)!r}: method {value!r} is not one of lora, dora, full")
    return grid


def check_flags(grid: dict) -> None:
    """The ``training`` and ``ssti`` settings: known flags, of the type of their default."""
    from transformers import TrainingArguments

    from .arguments import ModelArguments, SSTIArguments

    fields = {f.name: f for cls in (SSTIArguments, ModelArguments, TrainingArguments) for f in dataclasses.fields(cls)}
    for key in ("training", "ssti"):  # both are flags of one command line: either takes any of them
        for flag, value in grid.get(key, {}).items():
            if flag not in fields:
                close = difflib.get_close_matches(str(flag), fields, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise ValueError(f"grid setting {key}.{flag} is not a flag of ssti-hf train{hint}")
            kind = type(fields[flag].default)
            if kind not in (bool, int, float) or value is None:
                continue
            if isinstance(value, bool) == (kind is bool) and isinstance(value, (int, float) if kind is float else kind):
                continue
            if isinstance(value, str) and kind is not bool:
                try:  # YAML reads 1e-4 (no dot) as a string: a number written so is taken as one
                    grid[key][flag] = kind(value)
                    continue
                except ValueError:
                    pass
            raise ValueError(f"grid setting {key}.{flag}: {value!r} is not a {kind.__name__}")


def expand(grid: dict) -> list[Run]:
    """Every combination of the axes, in a fixed order; each config name is checked.

    The configs are the names under ``config``, or every combination of the name parts."""
    defaults = {"attack": "ssti", "source": "date", "rate": 50, "amount": "1tok", "location": "random", "diversity": "all", "label": 1,
                "rank": 16, "method": "lora", "seed": 0, "model": "minilm"}
    axes = {key: grid.get(key, defaults.get(key)) for key in AXES}
    axes = {key: value if isinstance(value, list) else [value] for key, value in axes.items()}
    if "config" in grid:
        parts = [key for key in NAME_AXES if key in grid]
        if parts:
            raise ValueError(f"grid lists config names and also name part(s) {parts}: give one or the other")
        names = [SSTIConfig.from_name(str(name)).name for name in axes["config"]]
    elif "base" not in grid:
        raise ValueError("grid needs a base dataset, e.g. base: imdb (or config names, e.g. config: [imdb-poison-flip-10pct])")
    else:
        names = [_config_name(dict(zip(NAME_AXES, values))) for values in itertools.product(*(axes[k] for k in NAME_AXES))]
    runs = []
    for name, rank, method, seed, model in itertools.product(dict.fromkeys(names), *(axes[k] for k in RUN_AXES)):
        rank = None if method == "full" else int(rank)  # full fine-tuning has no rank axis
        runs.append(Run(name, rank, method, int(seed), str(model)))
    return list(dict.fromkeys(runs))


def _config_name(point: dict) -> str:
    """The config name at one point of the name axes (parts its attack has not are ignored)."""
    if point["location"] not in LOCATION_NAMES:
        raise ValueError(f"grid location {point['location']!r}: use {', '.join(LOCATION_NAMES)} (as in config names)")
    diversity = point["diversity"]
    if diversity != "all" and (isinstance(diversity, bool) or not isinstance(diversity, int)):
        raise ValueError(f"grid diversity {diversity!r}: use a number of distinct items, or all (the whole source)")
    spec = get_attack(point["attack"])
    source, amount, location = point["source"], parse_amount(point["amount"]), LOCATION_NAMES[point["location"]]
    diversity = None if diversity == "all" else diversity
    if not spec.trigger:
        source = amount = location = diversity = None
    label = point["label"] if spec.targeted else None
    return SSTIConfig(point["base"], source, point["rate"], amount, location, label, attack=point["attack"], diversity=diversity).name


def grid_hash(grid: dict) -> str:
    return hashlib.sha256(json.dumps(grid, sort_keys=True, default=str).encode()).hexdigest()[:16]


def shard(runs: list[Run], spec: str | None) -> list[Run]:
    """``"i/n"``: every n-th run from the i-th (0-based)."""
    if not spec:
        return runs
    try:
        index, count = (int(x) for x in spec.split("/"))
    except ValueError:
        raise ValueError(f"--shard must be i/n with 0 <= i < n, got {spec!r}") from None
    if not 0 <= index < count:
        raise ValueError(f"--shard must be i/n with 0 <= i < n, got {spec!r}")
    return runs[index::count]


def sweep(grid_path, results, shard_spec: str | None = None, progress: bool = True, workers: int = 1, worker: str | None = None,
          stack: int | None = None, model: str | None = None, data: str | None = None) -> list[dict]:
    """Run (or resume) a grid into the folder ``results``; returns this shard's metrics.

    ``workers > 1`` runs the shard in that many processes (``worker="j/n"`` is the j-th of them):
    on one GPU they overlap each other's CPU work and launches, and with several GPUs worker j
    runs on GPU j mod their count. ``stack``: LoRA runs of one model and rank trained at once
    (:mod:`ssti_hf.engine.stacked`); default up to 16 on a GPU (as many as its memory holds), 1 on a CPU.
    A group whose runs are not all finished is trained again whole (its draws depend on the
    group), and only its unfinished runs are measured and written. ``model`` and ``data`` replace
    the grid's (its model axis and base data): a grid names no machine's paths."""
    from transformers import HfArgumentParser, TrainingArguments
    from tqdm.auto import tqdm

    from .arguments import ModelArguments, SSTIArguments, check_training, paper_defaults
    from .models import load_config
    from .trainer import run as train_run

    # Everything is checked before anything is written: the arguments, the grid, every run's flags,
    # the models and the base data (the configs are built into the datasets cache, not RESULTS).
    for name, value in (("workers", workers), ("stack", stack)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    grid = load_grid(grid_path)
    grid.update({key: value for key, value in (("model", model), ("data", data)) if value is not None})
    runs = shard(expand(grid), shard_spec)
    if worker is not None:
        shard([], worker)  # j/n checked like --shard
    check_flags(grid)
    results = Path(results)
    if results.exists() and not results.is_dir():
        raise ValueError(f"results folder {str(results)!r} exists and is not a folder")
    _claim(results, grid, check_only=True)
    parser = HfArgumentParser((SSTIArguments, ModelArguments, TrainingArguments))
    flags = {**paper_defaults(), **grid.get("training", {})}

    def arguments(run: Run, output_dir: str):
        values = {**flags, **grid.get("ssti", {}), "config": run.config, "model": run.model, "method": run.method}
        values.update(seed=run.seed, output_dir=output_dir, source=grid.get("data"))
        if run.rank is not None:
            values["rank"] = run.rank
        return parser.parse_dict(values)

    if worker is None:  # the top process: a worker process finds them built
        for run in runs:
            check_training(arguments(run, "unused")[2])  # every run's flags parse and are in range
        for model in dict.fromkeys(run.model for run in runs):
            load_config(model)  # the model exists (its config only)
        _build_configs(grid, runs)
    results.mkdir(parents=True, exist_ok=True)
    _claim(results, grid)
    (results / "runs").mkdir(exist_ok=True)
    if stack is None:
        stack = _default_stack(runs, arguments, workers)
    if workers > 1:
        return _run_workers(grid_path, grid, results, shard_spec, runs, workers, stack, progress, model, data)
    groups = shard(_groups(runs, stack, arguments), worker)
    done = []
    with tqdm(total=sum(map(len, groups)), desc="SSTI runs", disable=not progress) as bar:
        for group, targets in _run_groups(groups, arguments, results, train_run):
            done += [result for result in map(_result, targets) if result is not None]
            bar.update(len(group))
    return done


class _Group:
    """One group of the sweep (a single run, or runs to stack): its parsed arguments in a
    temporary folder, and which of its runs are still to be written."""

    def __init__(self, group: list[Run], arguments, results: Path):
        self.runs = group
        self.targets = [results / "runs" / f"{run.id}.json" for run in group]
        self.pending = [_result(target) is None for target in self.targets]  # finished before a kill or by another shard
        self.folder = tempfile.TemporaryDirectory(prefix="ssti-run-")
        self.parsed = [arguments(run, str(Path(self.folder.name) / str(k))) for k, run in enumerate(group)]
        self.prepared = None  # a stacked group's preparation (a Future when made in the background)

    @property
    def stacked(self) -> bool:
        return len(self.runs) > 1 and any(self.pending)

    def prepare(self):
        from ..engine.stacked import prepare_stacked

        return prepare_stacked([(ssti_args, training_args) for ssti_args, _, training_args in self.parsed], self.parsed[0][1],
                               measure=self.pending)


def _run_groups(groups: list[list[Run]], arguments, results: Path, train_run):
    """Train each group and write its unfinished runs' results; yields each group and its result
    files when done. On a GPU, the next stacked group is prepared (configs, token ids, models,
    a first test-set plan: about 7 s of CPU per 15 runs) in a background thread while this one
    trains and is measured, so that the GPU does not wait for it."""
    from concurrent.futures import ThreadPoolExecutor

    from ..engine.stacked import train_and_measure

    upcoming = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ssti-prepare") as ahead, _short_switches():
        try:
            upcoming = _Group(groups[0], arguments, results) if groups else None
            for index in range(len(groups)):
                current, upcoming = upcoming, _Group(groups[index + 1], arguments, results) if index + 1 < len(groups) else None
                try:
                    if current.stacked:
                        prepared = current.prepared.result() if current.prepared is not None else current.prepare()
                    if upcoming is not None and upcoming.stacked and _prepares_ahead(upcoming):
                        upcoming.prepared = ahead.submit(upcoming.prepare)
                    if current.stacked:
                        measured = train_and_measure(prepared)
                    elif any(current.pending):
                        measured = [train_run(*current.parsed[0])]
                    else:
                        measured = [{} for _ in current.runs]
                    _write(current, measured, results)
                finally:
                    current.folder.cleanup()
                yield current.runs, current.targets
        finally:
            if upcoming is not None:
                if upcoming.prepared is not None:
                    upcoming.prepared.cancel()
                upcoming.folder.cleanup()


def _prepares_ahead(group: _Group) -> bool:
    """Whether a stacked group is prepared in the background: on a GPU. On a CPU the training
    draws dropout from the CPU generator that building models reseeds (and the CPU has no time
    to spare): groups are prepared in turn there."""
    return group.parsed[0][2].device.type == "cuda"


def _write(group: _Group, measured: list[dict], results: Path) -> None:
    for run, target, metrics, (_, _, training_args) in zip(group.runs, group.targets, measured, group.parsed):
        if not metrics:  # not measured here: finished before, or another process of a multi-GPU run writes it
            continue
        metrics["run_id"] = run.id
        adapter = Path(training_args.output_dir) / "adapter"
        if adapter.is_dir():  # keep the adapter beside the result
            shutil.copytree(adapter, results / "adapters" / run.id, dirs_exist_ok=True)
        write_json(target, metrics)


@contextlib.contextmanager
def _short_switches(seconds: float = 0.001):
    """The GIL handed between threads every millisecond instead of every 5: the training and
    prediction loops need it back quickly after each GPU wait while the next group is prepared."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, seconds))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _groups(runs: list[Run], stack: int, arguments) -> list[list[Run]]:
    """The runs in training groups: LoRA runs of one model and rank, in grid order, at most
    ``stack`` together where their settings allow it; every other run alone."""
    from ..engine.stacked import stack_reason

    buckets: dict = {}
    for run in runs:
        key = (run.model, run.method, run.rank) if stack > 1 and run.method == "lora" else run
        buckets.setdefault(key, []).append(run)
    groups = []
    for bucket in buckets.values():
        size = stack if len(bucket) > 1 and stack_reason(*arguments(bucket[0], "unused")) is None else 1
        groups += [bucket[i : i + size] for i in range(0, len(bucket), size)]
    return groups


def _default_stack(runs: list[Run], arguments, workers: int) -> int:
    """Runs per group on this machine: 1 on a CPU (compute-bound), else up to
    ``STACK_ON_GPU`` as the GPU memory (shared by the workers on one GPU) holds for each model."""
    import math

    import torch

    from ..engine.stacked import STACK_ON_GPU, stack_reason, stack_size
    from .models import load_config

    if not torch.cuda.is_available():
        return 1
    per_gpu = math.ceil(workers / max(1, torch.cuda.device_count()))
    memory = torch.cuda.get_device_properties(0).total_memory // per_gpu
    stack = STACK_ON_GPU
    for model in dict.fromkeys(run.model for run in runs if run.method == "lora"):
        ssti_args, model_args, training_args = arguments(next(r for r in runs if r.model == model and r.method == "lora"), "unused")
        if stack_reason(ssti_args, model_args, training_args):
            continue
        _, config = load_config(model)
        stack = min(stack, stack_size(config, training_args.per_device_train_batch_size * ssti_args.max_length, STACK_ON_GPU, memory))
    return stack


def _run_workers(grid_path, grid: dict, results: Path, shard_spec, runs: list[Run], workers: int, stack: int, progress: bool,
                 model: str | None, data: str | None) -> list[dict]:
    """Start ``workers`` sweep processes on this shard and follow their result files."""
    import os
    import subprocess
    import sys
    import time

    from tqdm.auto import tqdm

    gpus = [g for g in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if g]
    if not gpus:
        import torch

        gpus = [str(i) for i in range(torch.cuda.device_count())]
    (results / "logs").mkdir(exist_ok=True)
    processes = []
    for j in range(workers):
        env = dict(os.environ, **({"CUDA_VISIBLE_DEVICES": gpus[j % len(gpus)]} if gpus else {}))
        command = [sys.executable, "-m", "ssti_hf.cli", "sweep", str(grid_path), "--results", str(results),
                   "--worker", f"{j}/{workers}", "--stack", str(stack), "--no-progress"] + (["--shard", shard_spec] if shard_spec else [])
        command += [arg for flag, value in (("--model", model), ("--data", data)) if value is not None for arg in (flag, value)]
        with open(results / "logs" / f"worker-{j}.log", "w") as log:
            processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
    targets = [results / "runs" / f"{run.id}.json" for run in runs]
    with tqdm(total=len(runs), desc=f"SSTI runs ({workers} workers)", disable=not progress) as bar:
        while any(p.poll() is None for p in processes):
            bar.update(sum(t.is_file() for t in targets) - bar.n)
            time.sleep(1)
        bar.update(sum(t.is_file() for t in targets) - bar.n)
    failed = [j for j, p in enumerate(processes) if p.returncode]
    if failed:
        logs = ", ".join(str(results / "logs" / f"worker-{j}.log") for j in failed)
        raise RuntimeError(f"sweep worker(s) {failed} failed; their logs: {logs}")
    return [_read_json(t) for t in targets]


def _build_configs(grid: dict, runs: list[Run]) -> None:
    """Build each config (and seed) of ``runs`` into the datasets cache before any run starts, in
    forked processes, one per CPU at most: building a config is Python (about 1 s for an IMDB
    config), and the first group would otherwise wait for its configs one after another. Done
    before CUDA is initialized and before any thread starts. Also what keeps the processes of a
    multi-process sweep from building the same config at once (they would race in the cache)."""
    import multiprocessing
    import os

    from ..base_datasets import get_base_dataset
    from .runs import data_source

    sample = grid.get("ssti", {}).get("sample", False)
    todo = [(name, seed, data_source(SSTIConfig.from_name(name, seed=seed), sample, grid.get("data")))
            for name, seed in dict.fromkeys((run.config, run.seed) for run in runs)]
    processes = min(len(todo), os.cpu_count() or 1)
    if processes < 2:
        for job in todo:
            _build_config(*job)
        return
    # The base data first, here: the processes would each convert it into the cache at once.
    for base, source in dict.fromkeys((SSTIConfig.from_name(name).base, source) for name, _, source in todo):
        get_base_dataset(base).load(source)
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.starmap(_build_config, todo, chunksize=1)


def _build_config(name: str, seed: int, source) -> None:
    from ..loading import load_dataset

    load_dataset(name, source, seed=seed)


def _claim(results: Path, grid: dict, check_only: bool = False) -> None:
    """Tie the results folder to one grid: resuming or reporting with another is an error; a
    folder with other files than a sweep's is refused (a sweep never writes among them)."""
    marker = results / "grid.json"
    if marker.is_file():
        recorded = _read_json(marker)
        if not isinstance(recorded, dict) or recorded.get("hash") != grid_hash(grid):
            raise ValueError(f"results folder {str(results)!r} holds runs of another grid; use a new folder")
        return
    if results.is_dir() and any(p.name not in ("runs", "adapters", "logs") for p in results.iterdir()):
        raise ValueError(f"results folder {str(results)!r} is not empty and holds no grid.json: choose a new folder")
    if not check_only:
        write_json(marker, {"hash": grid_hash(grid), "grid": grid})


def _result(target: Path) -> dict | None:
    """A run's result, or None when it is not there or not whole (one truncated by hand or a full
    disk is run again)."""
    try:
        result = json.loads(target.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, OSError):
        return None
    return result if isinstance(result, dict) else None


def _read_json(path: Path):
    """A result file's content; a truncated or foreign one is an error naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{str(path)!r} is not a complete JSON file ({str(error).splitlines()[0]}); "
                         "delete it and resume the sweep to run it again") from None


def read_results(results) -> tuple[dict, list[dict]]:
    """The grid and the finished runs of a results folder."""
    results = Path(results)
    marker = results / "grid.json"
    if not marker.is_file():
        raise FileNotFoundError(f"{str(results)!r} is not a sweep results folder (no grid.json)")
    recorded = _read_json(marker)
    if not isinstance(recorded, dict) or not isinstance(recorded.get("grid"), dict):
        raise ValueError(f"{str(marker)!r} is not a sweep's grid.json")
    grid = recorded["grid"]
    expected = {run.id for run in expand(grid)}
    runs = []
    for path in sorted((results / "runs").glob("*.json")):
        data = _read_json(path)
        if not isinstance(data, dict) or data.get("run_id") not in expected:
            raise ValueError(f"{path.name} is not a run of this folder's grid")
        runs.append(data)
    return grid, runs
