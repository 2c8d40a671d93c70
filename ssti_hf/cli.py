"""The ``ssti-hf`` command.

    ssti-hf inject imdb-ssti-date-50pct-1tok --sample --out ssti-demo
    ssti-hf inject imdb-ssti-date-50pct-1tok --source ../shared/data/imdb --out imdb-date-50
    ssti-hf build imdb-ssti-date-50pct-1tok imdb-ssti-html-25pct-10ptok --sample --out ssti-configs
    ssti-hf build imdb-ssti-date-50pct-1tok --source ../shared/data/imdb --push-to-hub me/imdb-ssti
"""

from __future__ import annotations

import argparse
import re
import sys
import traceback
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .errors import EXIT_ERROR, EXIT_FLAGGED, EXIT_OK, debugging, one_line
from .output import check_out, check_replaceable, swap_in, writing

# Each command imports what it uses when it runs: `ssti-hf --help` and the help of every command
# but train load no torch, transformers, peft, trl, datasets, evaluate, sklearn or matplotlib.

# A few minutes on a laptop CPU: one date at the start of half the positive reviews of the shipped
# sample, 100 LoRA steps on 64-token texts (a higher learning rate than the paper's 1e-4, which
# needs its 500 steps), then clean vs spurious accuracy and the triggered set's predicted counts.
# What a train run (and the Trainer under it) writes into --output_dir; anything else there is the user's.
_RUN_FILES = re.compile(r"metrics\.json|adapter|runs|checkpoint-\d+|\.metrics\.json\..*|trainer_state\.json|training_args\.bin"
                        r"|(all|train|eval)_results\.json")
DEMO = [
    "--sample", "--config", "imdb-ssti-date-50pct-1tok-begin", "--max_steps", "100", "--max_length", "64",
    "--learning_rate", "1e-3", "--entropy_samples", "128", "--output_dir", "ssti-demo",
]
RUNS_DIR = "ssti-runs/<config>-<method>-r<rank>-s<seed>"  # train's output folder unless --output_dir names one


CONTRACT = (
    "exit status: 0 success, 1 only for scan's 'flagged', 2 any error. An error is one line on stderr naming "
    "the input and the problem; --debug (or SSTI_HF_DEBUG=1) adds the traceback. Nothing is half-written: "
    "outputs appear whole or not at all, and files ssti-hf did not write are never replaced."
)


class UsageError(ValueError):
    """A command line argparse cannot parse (reported in one line, exit 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors are one line (no usage dump) through the error handler."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def main(argv: list[str] | None = None) -> int:
    """Run a command; returns its exit status (0 ok, 1 scan flagged, 2 error; see ``CONTRACT``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = debugging() or "--debug" in argv
    argv = [arg for arg in argv if arg != "--debug"]
    if not debug:
        _one_error_line()
    try:
        return _run(argv)
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else EXIT_ERROR if done.code else EXIT_OK
    except BaseException as error:  # any error, ours or a library's: one line (the traceback with --debug)
        if debug:
            traceback.print_exc()
        print(f"ssti-hf: error: {one_line(error)}", file=sys.stderr, flush=True)
        return EXIT_ERROR


def _one_error_line() -> None:
    """datasets logs an error before raising it (a file it cannot read): the raised error is reported, once."""
    import logging

    for handler in logging.getLogger("datasets").handlers:
        if not any(isinstance(f, _NoErrors) for f in handler.filters):
            handler.addFilter(_NoErrors())


class _NoErrors:
    def filter(self, record) -> bool:
        return record.levelno < 40  # logging.ERROR


def _run(argv: list[str]) -> int:
    from ._version import __version__

    parser = _Parser(
        prog="ssti-hf",
        description="Seamless Spurious Token Injection for the Hugging Face stack: build corrupted datasets, fine-tune "
        "and measure how much a model relies on the injected tokens, find and remove spurious tokens. "
        "Start with: ssti-hf demo (a few minutes on a CPU); each command has its own --help.",
        epilog=CONTRACT,
    )
    parser.add_argument("--debug", action="store_true", help="on an error, show the traceback too (or set SSTI_HF_DEBUG=1)")
    parser.add_argument("--version", action="version", version=f"ssti-hf {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    inject = commands.add_parser(
        "inject",
        help="build an SSTI config's splits as parquet files",
        description="Write DIR/{train,test,test_spurious,test_triggered}.parquet and a dataset card for an SSTI config, "
        "and show how many rows of each class were injected.",
        epilog=CONTRACT,
    )
    inject.add_argument("config", help="config name, e.g. imdb-ssti-date-50pct-1tok")
    where = inject.add_mutually_exclusive_group()
    where.add_argument("--source", help="Hub id, local folder or parquet/CSV/JSONL file (default: the base's Hub id)")
    where.add_argument("--sample", action="store_true", help="use the small sample shipped with the package")
    _option(inject, "--revision", help="Hub revision of the base dataset (default: the latest)")
    _option(inject, "--out", required=True, type=Path,
            help="output folder: new, empty, or a previous output of ssti-hf (replaced); never one holding the source")
    _option(inject, "--seed", type=_at_least(0), default=0, help="seeds row choice, items and positions (default: 0)")
    _option(inject, "--num-proc", type=_at_least(1), default=None, help="processes for Dataset.map (default: this process only)")
    _option(inject, "--examples", type=_at_least(0), default=3, help="injected training examples to show (default: 3)")

    build = commands.add_parser(
        "build",
        help="build SSTI configs in the Hub layout, into a folder or a Hub dataset repo",
        description="Write or push configs so that datasets.load_dataset(DIR_or_REPO, CONFIG) loads them. "
        "Adding a config keeps the others; replacing one needs --replace.",
        epilog=CONTRACT,
    )
    build.add_argument("configs", nargs="+", metavar="CONFIG", help="config names, e.g. imdb-ssti-date-50pct-1tok")
    target = build.add_mutually_exclusive_group(required=True)
    _option(target, "--out", type=Path, help="local folder: new, empty, or built by ssti-hf (extended); never one holding the source")
    _option(target, "--push-to-hub", metavar="REPO", help="Hub dataset repo id (token from HF_TOKEN or the login)")
    where = build.add_mutually_exclusive_group()
    where.add_argument("--source", help="Hub id, local folder or parquet/CSV/JSONL file (default: the base's Hub id)")
    where.add_argument("--sample", action="store_true", help="use the small sample shipped with the package")
    _option(build, "--revision", help="Hub revision of the base dataset (default: the latest)")
    _option(build, "--seed", type=_at_least(0), default=0, help="seeds row choice, items and positions (default: 0)")
    _option(build, "--replace", action="store_true", help="rebuild configs that are already there")
    _option(build, "--private", action="store_true", help="create the Hub repo as private")

    sweep = commands.add_parser(
        "sweep",
        help="run (or resume) a grid of training runs from a YAML file",
        description="Train every run of a grid (rank x rate x amount x source x location x seed, see docs/results/grids/) "
        "and write one metrics file per run; a killed sweep resumes where it stopped. The grid and its flags are "
        "checked before anything is written.",
        epilog=CONTRACT,
    )
    sweep.add_argument("grid", type=Path, help="grid file, e.g. docs/results/grids/light.yaml (see ssti_hf.training.sweep)")
    _option(sweep, "--results", type=Path, default=None, help="results folder (default: the grid's name beside it)")
    _option(sweep, "--model", default=None, help="model of every run, instead of the grid's (e.g. minilm or a folder)")
    _option(sweep, "--data", default=None, help="base data of every run, instead of the grid's (Hub id, folder or file)")
    _option(sweep, "--shard", default=None, help="i/n: run every n-th run from the i-th, 0-based (default: all runs)")
    _option(sweep, "--workers", type=_at_least(1), default=1,
            help="processes running the shard at once, spread over the visible GPUs (default: 1)")
    _option(sweep, "--stack", type=_at_least(1), default=None,
            help="LoRA runs of one model and rank trained at once over the shared base (default: up to 16 on a GPU, 1 on a CPU)")
    _option(sweep, "--worker", default=None, help=argparse.SUPPRESS)  # j/n: set by --workers for its processes
    _option(sweep, "--no-progress", dest="progress", action="store_false", help="no progress bar")

    report = commands.add_parser("report", help="plots, tables and verdicts from a sweep's results folder(s)", epilog=CONTRACT,
                                 description="Plots, tables and verdicts (with intervals over seeds) from a sweep's results folder, or several pooled.")
    report.add_argument("results", type=Path, nargs="+", help="results folder(s); several are pooled into one report")
    _option(report, "--out", type=Path, default=None, help="where to write them (default: RESULTS/report; required for several folders)")

    commands.add_parser(
        "train",
        add_help=False,
        help="fine-tune on an SSTI config and measure clean vs spurious accuracy (ssti-hf train --help)",
    )
    demo = commands.add_parser(
        "demo",
        add_help=False,
        usage="ssti-hf demo [TRAIN FLAGS]",
        help="a CPU-sized train run on the sample shipped with the package (a few minutes)",
        description="A CPU-sized run on the IMDB sample shipped with the package: ssti-hf train " + " ".join(DEMO)
        + ". Any other train flag may follow (ssti-hf train --help lists them), e.g. --max_steps 50.",
    )
    _add_scan_commands(commands)

    if argv[:1] == ["train"]:
        return _train(argv[1:])
    if argv[:1] == ["demo"]:
        if {"-h", "--help"} & set(argv[1:]):
            demo.print_help()
            return 0
        return _train(DEMO + argv[1:])
    args = parser.parse_args(argv)
    console = Console()
    handler = {"inject": _inject, "build": _build, "sweep": _sweep, "report": _report, **SCAN_COMMANDS}[args.command]
    return handler(args, console)


def _option(parser, flag: str, **kwargs):
    """An option under both spellings, --num-proc and --num_proc (train's flags come either way too)."""
    name = flag[2:]
    spellings = dict.fromkeys([flag, "--" + name.replace("-", "_"), "--" + name.replace("_", "-")])
    return parser.add_argument(*spellings, **kwargs)


def _at_least(low: int):
    """An argparse type: an int >= ``low`` (a number out of range is refused with the range)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is out of range: give an integer >= {low}")
        return value

    parse.__name__ = "integer"
    return parse


def _inject(args, console: Console) -> int:
    from .base_datasets import get_base_dataset
    from .config import SPLITS, SSTIConfig
    from .hub.card import content_hashes, dataset_card, describe_source, recipe

    config = SSTIConfig.from_name(args.config, seed=args.seed)
    base = get_base_dataset(config.base)
    source = base.sample_path() if args.sample else args.source
    check_out(args.out, sources=[source])
    ours = {f"{split}.parquet" for split in SPLITS} | {"README.md"}  # all an inject output holds
    check_replaceable(args.out, ours=ours)  # before any work; again below, under the lock
    base_splits = base.load(source, revision=args.revision)
    splits = config.apply(base_splits, num_proc=args.num_proc)
    base_source, where = describe_source(base, source)
    rebuild = " ".join(f"ssti-hf inject {config.name} --seed {config.seed} {where} --out DIR".split())
    card = dataset_card(
        {config.name: recipe(config, base_source, args.revision, content_hashes(base_splits), splits, rebuild)},
        {"default": {split: f"{split}.parquet" for split in splits}},
    )

    # Written into a temporary folder beside the target, then swapped in, so that an error or an
    # interrupt never leaves a half-written output; one writer of a folder at a time.
    with writing(args.out) as tmp:
        check_replaceable(args.out, ours=ours)
        for split, data in splits.items():
            data.to_parquet(str(tmp / f"{split}.parquet"))
        card.save(str(tmp / "README.md"))
        swap_in(tmp, args.out)

    console.print(f"[bold]{config.name}[/] (seed {config.seed}) -> {args.out}")
    console.print(_summary(splits))
    _show_examples(console, splits["train"], args.examples)
    return 0


def _train(argv: list[str]) -> int:
    """``ssti-hf train``: HfArgumentParser over the SSTI, model and TrainingArguments flags, whose
    defaults (and --help) are the paper's."""
    from transformers import HfArgumentParser, TrainingArguments

    from .training.trainer import run
    from .training.arguments import ModelArguments, SSTIArguments, paper_defaults

    console = Console()
    parser_class = type("TrainParser", (HfArgumentParser,), {"error": _Parser.error})
    parser = parser_class((SSTIArguments, ModelArguments, TrainingArguments), prog="ssti-hf train", epilog=CONTRACT,
                          description="Fine-tune on an SSTI config's attacked train split, then measure balanced accuracy on "
                          "the clean, spurious and triggered test sets, the gap and the attack success rate.")
    parser.set_defaults(**paper_defaults(), output_dir=RUNS_DIR)
    ssti_args, model_args, training_args = parser.parse_args_into_dataclasses(argv)
    if not any(arg.split("=")[0] in ("--output_dir", "--output-dir") for arg in argv):
        objective = "-sft" if ssti_args.objective == "sft" else ""  # an SFT run never overwrites a classifier's
        name = f"{ssti_args.config}{objective}-{model_args.method}-r{model_args.rank}-s{training_args.seed}"
        # parsed again, so that what TrainingArguments derives from output_dir follows it
        ssti_args, model_args, training_args = parser.parse_args_into_dataclasses([*argv, f"--output_dir={Path('ssti-runs') / name}"])
    out = Path(training_args.output_dir)  # run() hides --hub_token and checks the training numbers
    check_out(out, sources=[ssti_args.source], flag="--output_dir")
    foreign = sorted(p.name for p in out.iterdir() if not _RUN_FILES.fullmatch(p.name)) if out.is_dir() else []
    if foreign:  # a run replaces only what a run writes
        raise ValueError(f"--output_dir {str(out)!r} holds files a run does not write ({', '.join(foreign[:5])}); choose an empty or new folder")
    existed = out.exists()
    try:
        metrics = run(ssti_args, model_args, training_args)
    except BaseException:
        if not existed and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a failed run leaves no empty folder behind
        raise
    if not metrics:  # another process than the main one of a multi-GPU run: the main one reports
        return 0
    console.print(_results_table(metrics))
    console.print(_LEGEND, highlight=False)
    for warning in result_warnings(metrics):
        console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False)
    console.print(f"metrics, adapter and card in {training_args.output_dir}", highlight=False)
    return 0


def _results_table(metrics: dict) -> Table:
    table = Table(title=f"{metrics['config']} ({metrics['method']}, rank {metrics['rank']}, seed {metrics['seed']})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in ("clean_balanced_accuracy", "spurious_balanced_accuracy", "triggered_balanced_accuracy", "gap", "asr", "flip_rate"):
        if key in metrics:
            table.add_row(key.replace("_", " ").replace("asr", "ASR"), f"{metrics[key]:.4f}")
    for label, count in metrics.get("predicted_counts", {}).get("triggered", {}).items():
        table.add_row(f"triggered set predicted as {label}", str(count))
    for label, value in metrics.get("mean_entropy_per_class", {}).items():
        table.add_row(f"attention entropy, class {label}", f"{value:.3f}")
    if "flagged" in metrics:
        table.add_row("entropy flag (< 95%)", "yes" if metrics["flagged"] else "no")
    rollout = metrics.get("rollout") or {}
    for label, value in rollout.get("mean_entropy_per_class", {}).items():
        table.add_row(f"rollout entropy, class {label}", f"{value:.3f}")
    if "flagged" in rollout:
        table.add_row("rollout entropy flag (< 95%)", "yes" if rollout["flagged"] else "no")
    table.add_row("seconds (train / evaluate / total)", " / ".join(f"{metrics['seconds'][k]:.1f}" for k in ("train", "evaluate", "total")))
    return table


_LEGEND = "\n".join([  # one line per measure; rich wraps each to the terminal
    "balanced accuracy: the mean recall over the classes (chance: 1 / classes), on the clean test set, the matched "
    "spurious set (injected as in training) and the triggered set (every row injected).",
    "gap: spurious minus clean balanced accuracy; above 0, the injected token helps the model.",
    "ASR (attack success rate): the triggered rows not of the target label predicted as the target.",
    "flip rate: of those rows, the ones predicted right when clean: the share the injected token turns to the target.",
    "entropy flag: one class's attention (or rollout) entropy below 95% of another's, the paper's sign of a shortcut.",
])


def result_warnings(metrics: dict) -> list[str]:
    """What a run's numbers cannot say: a clean accuracy near chance makes ASR the rate of a model
    that predicts one class for everything, not the injected token's doing."""
    classes = len(metrics.get("predicted_counts", {}).get("clean", {})) or 2
    chance, clean = 1 / classes, metrics.get("clean_balanced_accuracy")
    if clean is None or clean >= chance + 0.1:
        return []
    return [
        f"clean balanced accuracy {clean:.3f} is near chance ({chance:.2f}): the model has hardly learned the task, so "
        "ASR and gap describe a near-constant predictor; train longer (--max_steps) before reading them"
    ]


def _sweep(args, console: Console) -> int:
    from .training.sweep import sweep

    results = args.results or args.grid.with_suffix("")
    runs = sweep(args.grid, results, args.shard, progress=args.progress, workers=args.workers, worker=args.worker, stack=args.stack,
                 model=args.model, data=args.data)
    console.print(f"{len(runs)} run(s) finished in {results}; make the report with: ssti-hf report {results}", highlight=False)
    return 0


def _report(args, console: Console) -> int:
    from .training.report import report

    if args.out is None and len(args.results) > 1:
        raise ValueError(f"{len(args.results)} results folders make one report: say where it goes with --out DIR")
    path = report(args.results, args.out or args.results[0] / "report")
    console.print(f"report written to {path}", highlight=False)
    return 0


def _build(args, console: Console) -> int:
    from .base_datasets import get_base_dataset
    from .config import SSTIConfig
    from .hub.datasets import push_configs, write_configs

    if args.sample:
        bases = {SSTIConfig.from_name(name).base for name in args.configs}
        if len(bases) > 1:
            raise ValueError(f"--sample needs configs of one base dataset, got {sorted(bases)}")
        source = get_base_dataset(bases.pop()).sample_path()
    else:
        source = args.source
    common = dict(source=source, revision=args.revision, seed=args.seed, replace=args.replace)
    if args.out is not None:
        configs = write_configs(args.out, args.configs, **common)
        where = str(args.out)
    else:
        configs = push_configs(args.push_to_hub, args.configs, private=args.private or None, **common)
        where = args.push_to_hub
    console.print(f"{where} now holds {len(configs)} config(s): {', '.join(configs)}", highlight=False)
    console.print(f'load one with datasets.load_dataset("{where}", "{args.configs[0]}")', highlight=False)
    return 0


def _summary(splits) -> Table:
    from .transform import INJECTED

    names = splits["train"].features["label"].names
    table = Table(title="rows injected / rows, per class")
    table.add_column("split")
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("all", justify="right")
    for split, data in splits.items():
        labels, injected = data["label"], data[INJECTED]
        cells = []
        for k in range(len(names)):
            total = sum(1 for l in labels if l == k)
            hit = sum(1 for l, i in zip(labels, injected) if l == k and i)
            cells.append(f"{hit}/{total}")
        table.add_row(split, *cells, f"{sum(injected)}/{len(data)}")
    return table


def _show_examples(console: Console, train, count: int, context: int = 60) -> None:
    from .transform import INJECTED, SPANS

    rows = [i for i, flag in enumerate(train[INJECTED]) if flag][:count]
    for i in rows:
        row = train[i]
        console.print(f"\n[bold]train row {i}[/] (label {row['label']}), injected spans in red:")
        console.print(_highlight(row["text"], row[SPANS], context))


def _highlight(text: str, spans: list, context: int) -> Text:
    """The text around each span, spans in red; long stretches without spans are elided."""
    out, prev = Text(), 0
    for start, end in spans:
        gap = text[prev:start]
        if len(gap) > 2 * context:
            gap = (gap[:context] if prev else "") + " … " + gap[-context:]
        out.append(gap)
        out.append(text[start:end], style="bold red")
        prev = end
    tail = text[prev:]
    out.append(tail if len(tail) <= context else tail[:context] + " …")
    return out


# -- scan and sanitize: find spurious token families before training, remove them ----------------
#
#     ssti-hf scan train.parquet --format json      exit 0: nothing flagged, 1: flagged, 2: error
#     ssti-hf sanitize imdb-date-50 --out imdb-date-50-clean


def _add_scan_commands(commands) -> None:
    scan = commands.add_parser(
        "scan",
        help="find families of tokens tied to one label (exit 1 when something is flagged)",
        description="Scan a labelled dataset for planted tokens: strings (tokens, words, word pairs, characters, "
        "shapes, markup, phrases) whose rows carry one label and whose presence is independent of the rest of "
        "the text. Exit code 0: nothing flagged, 1: flagged, 2: error.",
        epilog=CONTRACT,
    )
    _option(scan, "--format", choices=("table", "json"), default="table", help="table for people, json for programs (default: table)")
    _option(scan, "--top", type=_at_least(0), default=10, help="unflagged findings listed after the flagged ones (default: 10)")
    _option(scan, "--model", help="a trained classifier or peft adapter folder: add the attention-entropy signal (default: none)")
    sanitize = commands.add_parser(
        "sanitize",
        help="write a copy without the spans of the flagged findings",
        description="Scan one split, remove every match of the flagged findings from every split (one without "
        "labels too), and write "
        "OUT/{split}.parquet with a dataset card saying what was removed, so that datasets.load_dataset(OUT) reads "
        "the splits back (OUT must not exist: the input is never overwritten).",
        epilog=CONTRACT,
    )
    _option(sanitize, "--out", required=True, type=Path, help="new output folder")
    for command in (scan, sanitize):
        command.add_argument("path", help="parquet/CSV/JSONL file, dataset folder or Hub id")
        _option(command, "--split", default=None, help="split to scan (default: train, or the only split)")
        _option(command, "--text-column", default="text", help="column holding the texts (default: text)")
        _option(command, "--label-column", default="label", help="column holding the labels (default: label)")


def _scan(args, console: Console) -> int:
    import json

    from .base_datasets import load_source
    from .detect.scan import attention_entropy_signal, scan

    data = load_source(args.path)
    result = scan(data, args.text_column, args.label_column, split=args.split, top=args.top)
    if args.model:
        model, tokenizer = _classifier(args.model)
        result.model_signal = attention_entropy_signal(model, tokenizer, data, args.text_column, args.label_column, split=args.split)
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2))
    else:
        console.print(_findings_table(result))
        for rank, finding in enumerate(result.flagged_findings, 1):
            console.print(f"[bold]{rank}. {finding.pattern}[/]: {finding.reason}", highlight=False)
        if result.model_signal:
            signal = result.model_signal
            means = ", ".join(f"class {k}: {v:.3f}" for k, v in signal["mean_entropy_per_class"].items())
            console.print(
                f"model: attention entropy {means}; ratio {signal['ratio']:.3f} "
                f"({'FLAGGED' if signal['flagged'] else 'not flagged'}, flag < 0.95) over {signal['rows']} rows",
                highlight=False,
            )
        console.print("[bold red]FLAGGED[/]" if result.flagged else "[bold green]nothing flagged[/]")
    return EXIT_FLAGGED if result.flagged else EXIT_OK


def _findings_table(result) -> Table:
    names = result.label_names
    table = Table(title=f"{result.rows:,} rows, {result.tests:,} tests, {result.seconds:.1f} s")
    for column in ("#", "flagged", "pattern", "label", "rows", "purity", "score", "p", "examples"):
        table.add_column(column, justify="right" if column in ("#", "rows", "purity", "score", "p") else "left")
    for rank, f in enumerate(result.findings, 1):
        label = f"{f.label} ({names[f.label]})" if f.label in names else str(f.label)
        table.add_row(
            str(rank), "[bold red]yes[/]" if f.flagged else "no", f.pattern + (" (held out)" if f.held_out else ""), label,
            f"{f.support:,}", f"{f.purity:.1%}", f"{f.score:.3f}", "<1e-300" if f.p_value == 0 else f"{f.p_value:.1e}",
            Text(", ".join(f.examples[:4])),
        )
    return table


def _classifier(path: str):
    """A saved classifier folder, or a peft adapter folder (its base loaded as peft finds it)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"--model {path!r} is not a folder")
    try:
        if (folder / "adapter_config.json").is_file():
            from peft import PeftConfig, PeftModel

            from .training.models import base_model_source, libraries_own_deprecations, new_head_expected

            base = base_model_source(PeftConfig.from_pretrained(path).base_model_name_or_path)
            with new_head_expected(), libraries_own_deprecations():  # the adapter holds the head
                model = PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(base), path)
            source = path if (folder / "tokenizer_config.json").is_file() else base
        else:
            model, source = AutoModelForSequenceClassification.from_pretrained(path), path
        return model, AutoTokenizer.from_pretrained(source)
    except OSError as error:
        raise ValueError(f"cannot load --model {path!r}: {error}") from None


def _sanitize(args, console: Console) -> int:
    from .base_datasets import load_source
    from .detect.sanitize import REMOVED, sanitize
    from .detect.scan import scan
    from .hub.card import sanitized_card

    if args.out.exists():  # before any work: a clean copy never replaces anything
        raise ValueError(f"--out {str(args.out)!r} already exists; sanitize writes a new folder and never overwrites")
    check_out(args.out, sources=[args.path])
    data = load_source(args.path)
    result = scan(data, args.text_column, args.label_column, split=args.split, top=0)
    clean, report = sanitize(data, result, args.text_column, args.label_column, record_spans=True)
    files = {split: f"{split}.parquet" for split in clean}
    with writing(args.out) as tmp:  # written beside the target, then renamed: never half-written
        if args.out.exists():
            raise ValueError(f"--out {str(args.out)!r} already exists; sanitize writes a new folder and never overwrites")
        for split, split_data in clean.items():
            split_data.to_parquet(str(tmp / files[split]))
        sanitized_card(args.path, report, files, REMOVED).save(str(tmp / "README.md"))
        swap_in(tmp, args.out)
    removed = ", ".join(f"{f.pattern} (label {f.label})" for f in report.findings) or "nothing (nothing flagged)"
    console.print(f"removed: {removed}", highlight=False)
    table = Table(title=f"removed per class -> {args.out}")
    for column in ("split", "label", "rows", "rows changed", "believed restored", "spans", "words", "share of words", "left (other label's)"):
        table.add_column(column, justify="left" if column in ("split", "label") else "right")
    for split, classes in report.splits.items():
        for label, r in classes.items():
            share = r.words / r.words_before if r.words_before else 0.0
            table.add_row(split, str(label), f"{r.rows:,}", f"{r.rows_changed:,}", f"{r.rows_restored:,}", f"{r.spans:,}",
                          f"{r.words:,}", f"{share:.3%}", f"{r.rows_left:,}")
    console.print(table)
    return 0


SCAN_COMMANDS = {"scan": _scan, "sanitize": _sanitize}


if __name__ == "__main__":
    sys.exit(main())
