"""``ssti-hf report RESULTS``: the paper's figures and tables from a sweep's results.

- ``accuracy_vs_rank_<family>.png`` (Fig. 3a/4a): balanced accuracy on the clean and the spurious
  test set against LoRA rank, mean and standard deviation over seeds, one panel per rate.
- ``gap_vs_rate_<family>.png`` (Fig. 3b/4b): spurious minus clean balanced accuracy against the
  rate, one line per rank, with error bars over seeds.
- a Table-1 style table of predicted counts on the triggered set, and ``report.md`` embedding all;
- the verdict on each claim of the paper the runs allow (:mod:`ssti_hf.training.verdicts`), with intervals
  over seeds: Table 1, the rank trends, Fig. 5 (location and type), diversity, the entropy heuristic
  with both token importances.

Several results folders make one report: their runs are pooled (a run id found twice is taken from
the first folder that has it).

A *family* is one (base, source, amount, location, label, model, method) combination; rates,
ranks and seeds vary inside it.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from ..config import SSTIConfig  # noqa: E402
from ..output import check_out, swap_in, writing  # noqa: E402
from .sweep import read_results  # noqa: E402
from .verdicts import check_all, unmeasured  # noqa: E402


def _family(config: SSTIConfig, run: dict) -> str:
    """Runs that differ only by rate, rank and seed: one family, one set of plots. The attack and
    the parts it has (a label flip has no source, amount, location or target) name it."""
    model = Path(str(run.get("model", ""))).name or "model"
    parts = [config.base, config.attack]
    if config.source is not None:
        parts += [config.source, config.amount_name, config.location]
    if config.diversity is not None:
        parts.append(f"div{config.diversity}")
    if config.label is not None:
        parts.append(f"label{config.label}")
    return "-".join(parts + [model, run["method"]])


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def report(results, out) -> Path:
    """Write the figures, the tables and ``report.md`` into ``out``; returns the report's path.
    ``results``: a results folder, or a list of them."""
    folders = [results] if isinstance(results, (str, Path)) else list(results)
    grids, runs, seen = [], [], set()
    for folder in folders:
        grid, found = read_results(folder)
        grids.append(grid)
        runs += [run for run in found if run["run_id"] not in seen]
        seen.update(run["run_id"] for run in found)
    if not runs:
        raise ValueError(f"{', '.join(repr(str(f)) for f in folders)} has no finished runs yet")
    out = check_out(out)
    if out.is_dir() and any(out.iterdir()) and not _is_report(out):
        raise ValueError(f"--out {str(out)!r} holds files that are not a report of ssti-hf; choose an empty or new folder")
    with writing(out) as tmp:  # the whole report appears at once, replacing a previous one
        _write_report(grids, runs, tmp)
        swap_in(tmp, out)
    return out / "report.md"


def _is_report(folder: Path) -> bool:
    report = folder / "report.md"
    return report.is_file() and report.read_text(encoding="utf-8", errors="replace").startswith(_TITLE)


_TITLE = "# SSTI results\n"


def _write_report(grids: list[dict], runs: list[dict], out: Path) -> None:
    families: dict[str, list[tuple[SSTIConfig, dict]]] = defaultdict(list)
    for run in runs:
        config = SSTIConfig.from_name(run["config"], seed=run["seed"])
        families[_family(config, run)].append((config, run))

    grid_text = "\n\n".join(f"```\n{_grid_text(grid)}\n```" for grid in grids)
    sections = [f"{_TITLE}\n{len(runs)} runs, made by {_code_text(runs)}. Grid{'s' if len(grids) > 1 else ''}:\n\n{grid_text}\n",
                _verdict_section(runs, out)]
    for family, members in sorted(families.items()):
        sections.append(f"## {family}\n")
        sections.append(_accuracy_vs_rank(family, members, out))
        sections.append(_gap_vs_rate(family, members, out))
        sections.append(_summary_table(members))
    sections.append(_triggered_table(runs))
    (out / "report.md").write_text("\n".join(sections))


def _code_text(runs) -> str:
    """Which code made the runs (runs from before results named it: "unrecorded code")."""
    commits = Counter(str((run.get("code") or {}).get("commit") or "unrecorded code") for run in runs)
    return ", ".join(f"{commit} ({count} runs)" if len(commits) > 1 else commit for commit, count in commits.most_common())


def _verdict_section(runs, out: Path) -> str:
    checked = check_all(runs)
    if not checked.verdicts:
        return ""
    lines = ["## Verdicts\n", "Means over seeds, [95% t-interval over seeds], sd: the seeds' standard deviation.\n",
             "| claim | verdict | evidence |", "|---|---|---|"]
    lines += [f"| {v.claim} | **{v.verdict}** | {v.evidence} |" for v in checked.verdicts + unmeasured(checked.verdicts)]
    figures = [_levels_figure(levels, out) for levels in checked.levels]
    return "\n".join(lines) + "\n\n" + "\n".join(checked.tables) + "\n" + "".join(figures)


def _levels_figure(levels, out: Path) -> str:
    """Fig. 5 style: degradation (gap, pp) against rank, a line per level, a panel per amount."""
    amounts = sorted({amount for amount, _, _ in levels.estimates}, key=lambda a: a.endswith("ptok"))
    fig, axes = plt.subplots(1, len(amounts), figsize=(4.2 * len(amounts), 3.4), squeeze=False)
    for ax, amount in zip(axes[0], amounts):
        for level in levels.levels:
            points = sorted((rank, e) for (a, rank, l), e in levels.estimates.items() if a == amount and l == level)
            if not points:
                continue
            means = [e.mean * 100 for _, e in points]
            errors = [0 if e.n < 2 else (e.high - e.mean) * 100 for _, e in points]
            ax.errorbar([str(rank) for rank, _ in points], means, yerr=errors, marker="o", capsize=3, label=str(level))
        ax.set_title(f"{'light' if not amount.endswith('ptok') else 'aggressive'} SSTI ({amount})")
        ax.set_xlabel("LoRA rank")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("degradation: spurious - clean (pp)")
    axes[0][-1].legend(fontsize=8, title=levels.name)
    fig.suptitle(f"{levels.title} (95% interval over seeds)", fontsize=9)
    fig.tight_layout()
    name = f"levels_{levels.name}.png"
    fig.savefig(out / name, dpi=120)
    plt.close(fig)
    return f"![{levels.title}]({name})\n"


def _grid_text(grid: dict) -> str:
    return "\n".join(f"{key}: {value}" for key, value in grid.items())


def _by(members, *keys) -> dict:
    groups = defaultdict(list)
    for config, run in members:
        point = {"rate": config.rate, "rank": run["rank"] or 0, "method": run["method"]}
        groups[tuple(point[k] for k in keys)].append(run)
    return groups


def _accuracy_vs_rank(family, members, out: Path) -> str:
    rates = sorted({c.rate for c, _ in members})
    fig, axes = plt.subplots(1, len(rates), figsize=(3.2 * len(rates), 3.2), sharey=True, squeeze=False)
    groups = _by(members, "rate", "rank")
    for ax, rate in zip(axes[0], rates):
        ranks = sorted(rank for (r, rank) in groups if r == rate)
        for key, label in (("clean_balanced_accuracy", "clean"), ("spurious_balanced_accuracy", "spurious")):
            stats = [_mean_std([run[key] for run in groups[(rate, rank)]]) for rank in ranks]
            ax.errorbar([str(r) for r in ranks], [m for m, _ in stats], yerr=[s for _, s in stats], marker="o", capsize=3, label=label)
        ax.set_title(f"{rate}% injected")
        ax.set_xlabel("LoRA rank")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("balanced accuracy")
    axes[0][0].legend()
    fig.suptitle(family, fontsize=9)
    fig.tight_layout()
    name = f"accuracy_vs_rank_{family}.png"
    fig.savefig(out / name, dpi=120)
    plt.close(fig)
    return f"![balanced accuracy against rank]({name})\n"


def _gap_vs_rate(family, members, out: Path) -> str:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    groups = _by(members, "rank", "rate")
    for rank in sorted({rank for rank, _ in groups}):
        rates = sorted(rate for (k, rate) in groups if k == rank)
        stats = [_mean_std([run["gap"] for run in groups[(rank, rate)]]) for rate in rates]
        ax.errorbar(rates, [m for m, _ in stats], yerr=[s for _, s in stats], marker="o", capsize=3, label=f"rank {rank}")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("rows of the target label injected (%)")
    ax.set_ylabel("spurious - clean balanced accuracy")
    ax.set_title(family, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    name = f"gap_vs_rate_{family}.png"
    fig.savefig(out / name, dpi=120)
    plt.close(fig)
    return f"![gap against rate]({name})\n"


def _summary_table(members) -> str:
    lines = ["| rate % | rank | clean | spurious | gap | ASR | entropy ratio | runs |", "|---|---|---|---|---|---|---|---|"]
    for (rate, rank), runs in sorted(_by(members, "rate", "rank").items()):
        cells = []
        for key in ("clean_balanced_accuracy", "spurious_balanced_accuracy", "gap", "asr", "ratio"):
            values = [run[key] for run in runs if key in run]
            mean, std = _mean_std(values) if values else (None, None)
            if not values:
                cells.append("-")
            else:  # one seed has no spread to show
                cells.append(f"{mean:.3f} ± {std:.3f}" if len(values) > 1 else f"{mean:.3f}")
        lines.append(f"| {rate} | {rank} | " + " | ".join(cells) + f" | {len(runs)} |")
    return "\n".join(lines) + "\n"


def _triggered_table(runs) -> str:
    """Table 1: how the triggered test set (every row injected) is predicted."""
    lines = [
        "## Predicted counts on the triggered test set (Table 1)\n",
        "| config | method | rank | seed | predicted counts |",
        "|---|---|---|---|---|",
    ]
    for run in sorted(runs, key=lambda r: (r["config"], r["rank"] or 0, r["seed"])):
        counts = run.get("predicted_counts", {}).get("triggered", {})
        shown = ", ".join(f"{label}: {count}" for label, count in sorted(counts.items(), key=lambda kv: int(kv[0])))
        lines.append(f"| {run['config']} | {run['method']} | {run['rank']} | {run['seed']} | {shown} |")
    return "\n".join(lines) + "\n"
