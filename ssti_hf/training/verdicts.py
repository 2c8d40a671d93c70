"""The paper's claims checked against a sweep's runs, each with an interval over seeds.

Every number is a mean over seeds with its 95% t-interval (``[low, high]``) and the seed standard
deviation of the metric itself (``sd``). A difference between two settings (rank 64 against rank
1, say) is taken seed by seed first, so its interval is the interval of those differences. A claim
is checked only where the runs hold what it needs; each check returns a verdict row and, for
Fig. 5, diversity and the entropy heuristic, a table.

Accuracy degradation (the paper's Fig. 5, in percentage points) is the gap the rest of the paper
plots (Fig. 3b, 4b): spurious minus clean balanced accuracy, what the token adds on the spurious
test set over the clean one.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..config import SSTIConfig

THRESHOLD = 0.95  # the paper's entropy heuristic
IMPORTANCES = {"attention": "last-layer attention", "rollout": "attention rollout"}


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds, its 95% t-interval and the seeds' standard deviation."""

    mean: float
    low: float
    high: float
    sd: float
    n: int

    @classmethod
    def of(cls, values) -> "Estimate":
        from scipy import stats

        values = [float(v) for v in values]
        mean = statistics.fmean(values)
        if len(values) < 2:
            return cls(mean, math.nan, math.nan, math.nan, len(values))
        sd = statistics.stdev(values)
        half = float(stats.t.ppf(0.975, len(values) - 1)) * sd / math.sqrt(len(values))
        return cls(mean, mean - half, mean + half, sd, len(values))

    def text(self, scale: float = 1.0, digits: int = 3) -> str:
        if self.n < 2:
            return f"{self.mean * scale:.{digits}f} (1 seed)"
        return f"{self.mean * scale:.{digits}f} [{self.low * scale:.{digits}f}, {self.high * scale:.{digits}f}] sd {self.sd * scale:.{digits}f}"

    @property
    def above_zero(self) -> bool:
        return self.n > 1 and self.low > 0

    @property
    def excludes_zero(self) -> bool:
        return self.n > 1 and (self.low > 0 or self.high < 0)


@dataclass(frozen=True)
class Verdict:
    claim: str
    verdict: str
    evidence: str


@dataclass
class Run:
    config: SSTIConfig
    rank: int | None
    method: str
    metrics: dict

    @property
    def seed(self) -> int:
        return self.config.seed


def runs_of(results: list[dict]) -> list[Run]:
    return [Run(SSTIConfig.from_name(r["config"], seed=r["seed"]), r["rank"], r["method"], r) for r in results]


def _cells(runs: list[Run], key) -> dict:
    """Runs grouped by ``key(run)`` (None: left out), each group as {seed: metrics}."""
    cells: dict = defaultdict(dict)
    for run in runs:
        k = key(run)
        if k is not None:
            cells[k][run.seed] = run.metrics
    return cells


def _estimate(cell: dict, value) -> Estimate | None:
    values = [value(m) for m in cell.values()]
    values = [v for v in values if v is not None]
    return Estimate.of(values) if values else None


def _difference(a: dict, b: dict, value) -> Estimate | None:
    """``value`` of a minus that of b, seed by seed (the seeds both have)."""
    values = [value(a[s]) - value(b[s]) for s in sorted(set(a) & set(b)) if value(a[s]) is not None and value(b[s]) is not None]
    return Estimate.of(values) if values else None


def _gap(m: dict) -> float:
    return m["gap"]


def _setting(run: Run) -> tuple | None:
    """A LoRA SSTI setting: everything but the seed."""
    c = run.config
    if run.method == "full" or c.attack != "ssti":
        return None
    return (c.base, c.source, c.amount_name, c.location, c.diversity, c.label, c.rate, run.rank)


@dataclass
class Levels:
    """Degradation (the gap) at each (amount, rank, level) of one factor, for a table and a figure."""

    name: str  # location, type, diversity ...
    title: str
    levels: list
    estimates: dict  # (amount name, rank, level) -> Estimate


@dataclass
class Checked:
    verdicts: list[Verdict]
    tables: list[str]  # markdown
    levels: list[Levels]


def check_all(results: list[dict]) -> Checked:
    """Every verdict the runs allow, the tables (markdown) that support them and what the level
    figures draw."""
    models = defaultdict(list)  # a classifier and a decoder fine-tuned by SFT are checked apart
    for run in runs_of(results):
        models[(Path(str(run.metrics.get("model", ""))).name, run.metrics.get("objective", "classification"))].append(run)
    checked = Checked([], [], [])
    for (model, objective), runs in sorted(models.items()):
        named = f"{model}, {objective}" if len(models) > 1 else ""
        for check in (_table1, _rank_trend, _location_and_type, _diversity, _entropy, _attacks):
            found = check(runs)
            if not found:
                continue
            checked.verdicts += [dataclasses.replace(v, claim=f"[{named}] {v.claim}") if named else v for v in found[0]]
            checked.tables += [f"*{named}*\n\n{t}" if named else t for t in found[1]]
            for levels in found[2] if len(found) > 2 else []:
                checked.levels.append(dataclasses.replace(levels, name=f"{levels.name}-{model}-{objective}") if named else levels)
    return checked


# Every claim of both seed papers a verdict row is made for: a phrase of its row, its short form
# and the grid (docs/results/grids/) whose runs check it.
CLAIMS = [
    ("§4.1, Table 1", "A single injected token is enough to control predictions (§4.1, Table 1)", "table1"),
    ("Light SSTI:", "Light SSTI: a higher LoRA rank amplifies the reliance on the token (§4.2, Fig. 3)", "light"),
    ("Aggressive SSTI:", "Aggressive SSTI: a higher rank shrinks the gap (§4.3, Fig. 4)", "aggressive"),
    ("location of the token", "The location of the token does not matter (§5.1, Fig. 5)", "location-type"),
    ("type of the token", "The type of the token does not matter (§5.1, Fig. 5)", "location-type"),
    ("diversity of the tokens", "The diversity of the tokens does not matter (appendix A.8)", "diversity"),
    ("entropy is below 95%", "The spurious class's entropy is below 95% of the other's in every setting (§5.2)", "light"),
    ("robust to backdoors", "LoRA is more robust to backdoors than full fine-tuning (Liang et al. 2025)", "attacks"),
    ("robust to untargeted poisoning", "LoRA is less robust to untargeted poisoning than full fine-tuning (Liang et al. 2025)",
     "attacks"),
]


def unmeasured(verdicts: list[Verdict]) -> list[Verdict]:
    """A row for each claim of :data:`CLAIMS` that the runs could not check, so that a report's
    table always lists every claim and says which grid's runs are missing."""
    return [Verdict(claim, "not measured", f"no runs among these results check it; docs/results/grids/{grid}.yaml's do")
            for phrase, claim, grid in CLAIMS if not any(phrase in v.claim for v in verdicts)]


def _order(item) -> list:
    """A sort key for settings: numbers as numbers, None first."""
    key = item[0] if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], tuple) else item
    return [(x is not None, x if isinstance(x, (int, float)) else 0, str(x)) for x in key]


# -- §4.1, Table 1 ------------------------------------------------------------------------------

def _table1(runs):
    full = [r for r in runs if _setting(r) is not None and r.config.rate == 100 and r.config.amount == 1]
    if not full:
        return None
    top = max(r.rank for r in full)  # the paper's Table 1: rank 64
    cells = _cells([r for r in full if r.rank == top], _setting)
    rows, weakest = [], None
    for (base, source, amount, location, diversity, label, rate, rank), cell in sorted(cells.items(), key=_order):
        asr = _estimate(cell, lambda m: m.get("asr"))
        if asr is None:
            continue
        rows.append(f"{source} into label {label}, rank {rank}: ASR {asr.text()}")
        weakest = asr.mean if weakest is None else min(weakest, asr.mean)
    if weakest is None:
        return None
    verdict = "holds" if weakest >= 0.9 else "does not hold"
    return [Verdict("A single injected token is enough to control predictions (§4.1, Table 1; "
                    "checked as: the triggered set goes to the token's label, ASR >= 0.9, when every row of one class has it)",
                    verdict, "; ".join(rows))], []


# -- §4.2 / §4.3: rank against the gap ------------------------------------------------------------

def _rank_trend(runs):
    """Light (one item): the gap grows from rank 1 to the largest; aggressive (a share of the
    words): it shrinks. Per family and rate > 0, the seed-paired difference of the gaps."""
    cells = _cells(runs, _setting)
    families = defaultdict(dict)
    for (base, source, amount, location, diversity, label, rate, rank), cell in cells.items():
        if rate > 0:
            families[(base, source, amount, location, diversity, label, rate)][rank] = cell
    light, aggressive = [], []
    for family, by_rank in sorted(families.items(), key=_order):
        if len(by_rank) < 2:
            continue
        low, high = min(by_rank), max(by_rank)
        difference = _difference(by_rank[high], by_rank[low], _gap)
        if difference is None:
            continue
        base, source, amount, location, diversity, label, rate = family
        name = f"{source} {amount} {location}{f' div{diversity}' if diversity else ''} {rate}%"
        (light if amount.endswith("tok") and not amount.endswith("ptok") else aggressive).append((name, low, high, difference))
    verdicts = []
    if light:
        holds = [d.above_zero for *_, d in light]
        verdicts.append(Verdict(
            "Light SSTI: a higher LoRA rank amplifies the reliance on the token (§4.2, Fig. 3; checked as: "
            "gap at the largest rank minus gap at rank 1, over seeds, above 0)",
            _share(holds), "; ".join(f"{n}: r{h} - r{l} = {d.text(100, 1)} pp" for n, l, h, d in light)))
    if aggressive:
        holds = [(-d.mean > 0 and d.high < 0) if d.n > 1 else False for *_, d in aggressive]
        verdicts.append(Verdict(
            "Aggressive SSTI: a higher rank shrinks the gap (§4.3, Fig. 4; checked as: gap at the largest rank "
            "minus gap at rank 1, over seeds, below 0)",
            _share(holds), "; ".join(f"{n}: r{h} - r{l} = {d.text(100, 1)} pp" for n, l, h, d in aggressive)))
    return (verdicts, []) if verdicts else None


def _share(holds: list[bool]) -> str:
    if all(holds):
        return f"holds ({len(holds)} of {len(holds)})"
    if any(holds):
        return f"partly ({sum(holds)} of {len(holds)})"
    return f"does not hold (0 of {len(holds)})"


# -- §5.1, Fig. 5: location and type ----------------------------------------------------------------

AMOUNTS = {"1tok": "Light", "10ptok": "Agg."}


def _levels_table(runs, factor: str, others: str, title: str):
    """Degradation (pp) per level of ``factor`` (location or source), each seed's value the mean
    over the levels of ``others``, at 50%: rows (amount, rank), a column per level."""
    chosen = [run for run in runs if _setting(run) is not None and run.config.rate == 50 and run.config.amount_name in AMOUNTS
              and run.config.diversity is None]
    # Every mean is over the same levels of the other factor: the set that the most cells share
    # (levels x other levels), so that a grid of every location and type pooled with the light
    # grid (dates at the random location alone) keeps the full grid's cells and drops the rest.
    seen = defaultdict(set)
    for run in chosen:
        seen[getattr(run.config, factor)].add(getattr(run.config, others))

    def cells_kept(candidate):
        covering = sum(found >= candidate for found in seen.values())
        return covering * len(candidate) if covering >= 2 and len(candidate) >= 2 else 0

    other_levels = max(seen.values(), key=cells_kept, default=set())
    if not cells_kept(other_levels):
        return None
    cells = defaultdict(lambda: defaultdict(list))  # (amount, rank, level) -> seed -> gaps over the other factor
    for run in chosen:
        c = run.config
        if getattr(c, others) in other_levels:
            cells[(c.amount_name, run.rank, getattr(c, factor))][c.seed].append(run.metrics["gap"])
    # A seed counts where it has every one of those levels.
    complete = {k: {s: statistics.fmean(g) for s, g in seeds.items() if len(g) == len(other_levels)} for k, seeds in cells.items()}
    complete = {k: seeds for k, seeds in complete.items() if seeds}
    levels = {level for _, _, level in complete}
    if len(levels) < 2:
        return None
    levels = sorted(levels, key=lambda v: ["beginning", "random", "end", "date", "country", "html"].index(v) if v in
                    ("beginning", "random", "end", "date", "country", "html") else 9)
    lines = [f"**{title}** (pp; mean over seeds [95% interval] sd over seeds; each seed averaged over the {len(other_levels)} "
             f"{'types' if others == 'source' else 'locations'})\n",
             "| SSTI | rank | " + " | ".join(levels) + " |", "|---|---|" + "---|" * len(levels)]
    estimates = {}
    for amount in AMOUNTS:
        for rank in sorted({k[1] for k in complete if k[0] == amount}):
            row = []
            for level in levels:
                cell = complete.get((amount, rank, level), {})
                e = Estimate.of(cell.values()) if cell else None
                if e:
                    estimates[(amount, rank, level)] = e
                row.append(e.text(100, 1) if e else "-")
            lines.append(f"| {AMOUNTS[amount]} | {rank} | " + " | ".join(row) + " |")
    return levels, complete, Levels(factor if factor == "location" else "type", title, levels, estimates), "\n".join(lines) + "\n"


def _location_and_type(runs):
    verdicts, tables, figures = [], [], []
    for factor, others, title, name in (("location", "source", "Accuracy degradation by injection location", "location"),
                                        ("source", "location", "Accuracy degradation by token type", "type")):
        made = _levels_table(runs, factor, others, title)
        if made is None:
            continue
        levels, complete, figure, table = made
        tables.append(table)
        figures.append(figure)
        verdicts.append(_levels_verdict(f"The {name} of the token does not matter (§5.1, Fig. 5)", levels, complete, "rank"))
    return (verdicts, tables, figures) if verdicts else None


def _levels_verdict(claim: str, levels, complete: dict, axis: str) -> Verdict:
    """Whether the rank trend holds at every level (light: up, aggressive: down), and how far the
    levels lie apart at each rank (the largest seed-paired difference between two levels)."""
    trend, apart, notes = [], [], []
    for amount in AMOUNTS:
        ranks = sorted({k[1] for k in complete if k[0] == amount})
        if len(ranks) < 2:
            continue
        for level in levels:
            low, high = complete.get((amount, ranks[0], level)), complete.get((amount, ranks[-1], level))
            if not low or not high:
                continue
            d = Estimate.of([high[s] - low[s] for s in sorted(set(low) & set(high))])
            ok = d.above_zero if amount == "1tok" else (d.n > 1 and d.high < 0)
            trend.append(ok)
            if not ok:
                notes.append(f"{AMOUNTS[amount]} {level}: r{ranks[-1]} - r{ranks[0]} = {d.text(100, 1)} pp")
        for rank in ranks:
            pairs = [(a, b) for i, a in enumerate(levels) for b in levels[i + 1:]
                     if complete.get((amount, rank, a)) and complete.get((amount, rank, b))]
            if not pairs:
                continue
            diffs = {(a, b): Estimate.of([complete[(amount, rank, a)][s] - complete[(amount, rank, b)][s]
                                          for s in sorted(set(complete[(amount, rank, a)]) & set(complete[(amount, rank, b)]))])
                     for a, b in pairs}
            (a, b), widest = max(diffs.items(), key=lambda kv: abs(kv[1].mean))
            apart.append(widest.excludes_zero)
            if widest.excludes_zero:
                notes.append(f"{AMOUNTS[amount]} r{rank}: {a} - {b} = {widest.text(100, 1)} pp")
    trend_text = f"the {axis} trend holds at {sum(trend)} of {len(trend)} (SSTI, level) pairs"
    apart_text = f"levels differ beyond their seed interval at {sum(apart)} of {len(apart)} (SSTI, {axis}) cells"
    if all(trend) and not any(apart):
        verdict = "holds"
    elif not any(trend):
        verdict = "does not hold"
    else:
        verdict = "partly"
    return Verdict(claim, verdict, f"{trend_text}; {apart_text}" + (f". Where not: {'; '.join(notes)}" if notes else ""))


# -- appendix A.8: diversity ----------------------------------------------------------------------

def _diversity(runs):
    cells = defaultdict(dict)
    for run in runs:
        c = run.config
        if _setting(run) is None or c.rate != 50:
            continue
        cells[(c.source, c.amount_name, c.location, c.label, c.diversity, run.rank)][c.seed] = run.metrics
    families = defaultdict(set)
    for (source, amount, location, label, diversity, rank) in cells:
        families[(source, amount, location, label)].add(diversity)
    verdicts, tables, figures = [], [], []
    for family, diversities in sorted(families.items(), key=_order):
        if len(diversities) < 2 or not any(d is not None for d in diversities):
            continue
        levels = sorted(diversities, key=lambda d: math.inf if d is None else d)
        names = ["all" if d is None else str(d) for d in levels]
        source, amount, location, label = family
        ranks = sorted({k[5] for k in cells if k[:4] == family})
        lines = [f"**Token diversity: {source} {amount} {location}, label {label}, 50%** (gap in pp and ASR; mean [95% interval] sd over seeds)\n",
                 "| rank | " + " | ".join(f"k = {n}: gap" for n in names) + " | " + " | ".join(f"k = {n}: ASR" for n in names) + " |",
                 "|---|" + "---|" * (2 * len(levels))]
        complete, estimates = {}, {}
        for rank in ranks:
            gaps, asrs = [], []
            for d, n in zip(levels, names):
                cell = cells.get((*family, d, rank), {})
                complete[(amount, rank, n)] = {s: m["gap"] for s, m in cell.items()}
                g, a = _estimate(cell, _gap) if cell else None, _estimate(cell, lambda m: m.get("asr")) if cell else None
                if g:
                    estimates[(amount, rank, n)] = g
                gaps.append(g.text(100, 1) if g else "-")
                asrs.append(a.text() if a else "-")
            lines.append(f"| {rank} | " + " | ".join(gaps) + " | " + " | ".join(asrs) + " |")
        tables.append("\n".join(lines) + "\n")
        figures.append(Levels(f"diversity-{source}-{amount}", f"Degradation by token diversity ({source} {amount})", names, estimates))
        verdicts.append(_levels_verdict(f"The diversity of the tokens does not matter (appendix A.8; {source} {amount}, k = "
                                        f"{', '.join(names)})", names, {k: v for k, v in complete.items() if v}, "rank"))
    return (verdicts, tables, figures) if verdicts else None


# -- §5.2: the entropy heuristic --------------------------------------------------------------------

def _entropy_ratio(m: dict, importance: str, label: int) -> float | None:
    """The spurious class's mean entropy over the mean of the other classes' means."""
    source = m if importance == "attention" else m.get(importance)
    means = (source or {}).get("mean_entropy_per_class")
    if not means or str(label) not in means or len(means) < 2:
        return None
    others = [v for k, v in means.items() if k != str(label)]
    return means[str(label)] / statistics.fmean(others)


def _entropy(runs):
    cells = _cells(runs, _setting)
    rows, counts = [], {name: [0, 0, 0] for name in IMPORTANCES}  # settings below 0.95, measured, controls flagged
    controls = {name: [0, 0] for name in IMPORTANCES}
    for setting, cell in sorted(cells.items(), key=_order):
        base, source, amount, location, diversity, label, rate, rank = setting
        texts = []
        for name in IMPORTANCES:
            e = _estimate(cell, lambda m: _entropy_ratio(m, name, label))
            texts.append(e.text() if e else "-")
            if e is None:
                continue
            if rate == 0:
                controls[name][0] += e.mean < THRESHOLD
                controls[name][1] += 1
            else:
                counts[name][0] += e.mean < THRESHOLD
                counts[name][2] += e.n > 1 and e.high < THRESHOLD
                counts[name][1] += 1
        if any(t != "-" for t in texts):
            div = f" div{diversity}" if diversity else ""
            target = f" label{label}" if label != 1 else ""
            rows.append(f"| {source} {amount} {location}{div}{target} | {rate} | {rank} | " + " | ".join(texts) + " |")
    if not rows:
        return None
    table = ("**Entropy of the spurious class over the other's** (mean [95% interval] sd over seeds; the paper's flag: below 0.95)\n\n"
             "| setting | rate % | rank | " + " | ".join(IMPORTANCES.values()) + " |\n|---|---|---|" + "---|" * len(IMPORTANCES) + "\n"
             + "\n".join(rows) + "\n")
    verdicts = []
    for name, label in IMPORTANCES.items():
        below, measured, surely = counts[name]
        if not measured:
            continue
        verdict = "holds" if below == measured else "partly" if below else "does not hold"
        flagged, control = controls[name]
        control_text = f"; without SSTI (0%) {flagged} of {control} settings fall below 0.95 too" if control else ""
        verdicts.append(Verdict(
            f"The spurious class's entropy is below 95% of the other's in every setting (§5.2), token importance: {label}",
            f"{verdict} ({below} of {measured} settings)",
            f"mean ratio below 0.95 in {below} of {measured} SSTI settings, its whole interval below 0.95 in {surely}{control_text}"))
    return verdicts, [table]


# -- the second seed paper: LoRA against full fine-tuning under training-time attacks --------------

def _attacks(runs):
    """Backdoors: LoRA's flip rate minus full fine-tuning's, seed by seed, per rank and rate (the
    claim: below 0). The flip rate (``ssti_gap``'s conditional ASR: of the rows not of the target
    predicted right when clean, the share the trigger sends to the target) rather than the ASR: a
    model that predicts the target for every row has ASR 1 without having learned the trigger (LoRA
    rank 1 on 5% backdoored IMDB rows does), and no flip rate, so such a setting is named as left
    out. Label flipping: each method's drop in clean balanced accuracy from its own 0% run, LoRA's
    minus full fine-tuning's (the claim: below 0, LoRA loses more). A table gives every cell's clean
    balanced accuracy, ASR and flip rate."""
    cells = defaultdict(dict)  # (attack, source, rate, method, rank) -> seed -> metrics
    for run in runs:
        c = run.config
        if c.attack in ("backdoor", "poison-flip"):
            cells[(c.attack, c.source, c.rate, run.method, run.rank)][c.seed] = run.metrics
    if not cells:
        return None
    clean = lambda m: m.get("clean_balanced_accuracy")  # noqa: E731
    flip_rate = lambda m: m.get("flip_rate")  # noqa: E731
    verdicts, rows = [], []
    backdoor, flips, left_out = [], [], []
    for (attack, source, rate, method, rank), cell in sorted(cells.items(), key=_order):
        texts = [e.text() if e else "-" for e in (_estimate(cell, v) for v in (clean, lambda m: m.get("asr"), flip_rate))]
        name = "full fine-tuning" if method == "full" else f"{method} r{rank}"
        rows.append(f"| {attack}{f' {source}' if source else ''} | {rate} | {name} | " + " | ".join(texts) + " |")
        full = cells.get((attack, source, rate, "full", None))
        if method == "full" or not full:
            continue
        if attack == "backdoor":
            d = _difference(cell, full, flip_rate)
            if d:
                backdoor.append((f"{rate}% r{rank}", d))
            else:
                left_out.append(f"{rate}% r{rank}")
        elif rate > 0:
            own, full_base = cells.get((attack, source, 0, method, rank)), cells.get((attack, source, 0, "full", None))
            if own and full_base:
                seeds = sorted(set(cell) & set(full) & set(own) & set(full_base))
                d = Estimate.of([(clean(cell[s]) - clean(own[s])) - (clean(full[s]) - clean(full_base[s])) for s in seeds]) if seeds else None
                if d:
                    flips.append((f"{rate}% r{rank}", d))
    if backdoor or left_out:
        left = f"left out, no flip rate (no row of the other class predicted right when clean): {', '.join(left_out)}"
        verdicts.append(Verdict(
            "LoRA is more robust to backdoors than full fine-tuning (Liang et al. 2025; checked as: the backdoor's flip rate "
            "of LoRA minus that of full fine-tuning, seed by seed, below 0)",
            _share([d.n > 1 and d.high < 0 for _, d in backdoor]) if backdoor else "not measured",
            "; ".join([f"{n}: {d.text()}" for n, d in backdoor] + ([left] if left_out else []))))
    if flips:
        verdicts.append(Verdict(
            "LoRA is less robust to untargeted poisoning than full fine-tuning (Liang et al. 2025; checked as: LoRA's drop "
            "in clean balanced accuracy from its own 0% run minus full fine-tuning's, seed by seed, below 0)",
            _share([d.n > 1 and d.high < 0 for _, d in flips]), "; ".join(f"label flip {n}: {d.text(100, 1)} pp" for n, d in flips)))
    table = ("**Training-time attacks: LoRA against full fine-tuning** (mean [95% interval] sd over seeds; ASR: triggered rows "
             "not of the target predicted as the target; flip rate: of those predicted right when clean, the share the trigger "
             "sends to the target)\n\n| attack | rate % | method | clean balanced accuracy | ASR | flip rate |\n|---|---|---|---|---|---|\n"
             + "\n".join(rows) + "\n")
    return verdicts, [table]
