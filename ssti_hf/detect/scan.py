"""Scan a labelled text dataset for spurious tokens before training; the paper's model-side signal.

SSTI plants many *different* strings (every injected date differs), so counting single tokens
misses it. Each registered **family** detector (:data:`FAMILIES`; :func:`register_family` adds
one) finds matches, normalizes them into *members* and abstracts members into *classes*: a
digit/letter shape (``1987-03-12`` -> ``dddd-dd-dd``), markup tags, a gazetteer class (country
names), an unusual character's Unicode category, or, for plain words, the word itself. Each class
is tested against each label: do the rows holding it carry the label more often than the label
prior? (a one-proportion z-test, as in Gardner et al. 2021, Bonferroni-corrected over every test
made), with H(y|t) beside it.

Natural members dilute a class: reviews mention France and hold ``<br />`` whatever their label.
So every class is also tested **held out**: the members found only in label-k rows of one half of
the rows are tested on the other half (picked without looking at the rows they are tested on).

Score and flag rule. The score is a lower confidence bound on *lift*, the share of the way from
the prior to purity 1 that a class's rows go: ``(LB(purity) - prior) / (1 - prior)``, LB the
Wilson bound at the corrected level. Natural label signal is concentrated in a few strings
("worst", "waste", "4/10": 90-97% pure in IMDB, lift bounds up to 0.78), an injected family is
spread over many. So a class flags when significant and
- a *family*, its label rows spread over >= :data:`MIN_DIVERSITY` effectively distinct strings
  (exp of their entropy): lift bound >= :data:`FAMILY_LIFT` (0.5: >= 75% pure at a 50% prior);
- a word or a class of a few strings: lift bound >= :data:`CONCRETE_LIFT` (0.9), as pure as a
  planted trigger, which natural words are not.
docs/scan.md has the measurements behind these numbers.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import ndtr, ndtri  # normal cdf and its inverse

from .families import FAMILIES, searchable
from .statistics import ALPHA, CONCRETE_LIFT, EXAMPLES, FAMILY_LIFT, KEEP_COMMON, KEEP_MARGIN, MIN_DIVERSITY, MIN_SUPPORT, Tally, lift_bound, wilson_lower


# -- results ---------------------------------------------------------------------------------------
@dataclass
class Finding:
    """A class of strings whose presence is tied to one label.

    ``pattern``: the class as people read it (``family`` and ``key`` name it for sanitize);
    ``support``: rows holding the class (held-out rows for a held-out test); ``purity``: share of
    them with ``label``; ``score``: the lift lower bound that ranks findings; ``p_value``:
    one-sided, Bonferroni-corrected; ``entropy``: H(y|t) in bits over those rows; ``reason``: why
    it is (not) flagged; ``examples``: up to 10 matched strings, purest first; ``diversity``: the
    effective number of distinct strings in its label rows; ``kept``: members that sanitize
    leaves alone (common and not enriched in the label, like IMDB's ``<br />``)."""

    pattern: str
    family: str
    key: str
    label: int | str
    support: int
    purity: float
    score: float
    p_value: float
    z: float
    entropy: float
    flagged: bool
    reason: str
    examples: list[str]
    held_out: bool = False
    diversity: float = 1.0
    kept: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ScanResult:
    """Flagged findings first, then the strongest others (natural label words, for context), each
    group by score. ``prior``: label -> share of rows; ``tests``: the Bonferroni count;
    ``model_signal``: :func:`attention_entropy_signal`'s result, when measured."""

    findings: list[Finding]
    rows: int
    prior: dict
    tests: int
    seconds: float
    label_names: dict = field(default_factory=dict)
    model_signal: dict | None = None

    @property
    def flagged(self) -> bool:
        return any(f.flagged for f in self.findings)

    @property
    def flagged_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.flagged]

    def to_dict(self) -> dict:
        return {
            "flagged": self.flagged,
            "findings": [f.to_dict() for f in self.findings],
            "rows": self.rows,
            "prior": {str(k): v for k, v in self.prior.items()},
            "tests": self.tests,
            "seconds": round(self.seconds, 3),
            "model_signal": self.model_signal,
        }


# -- the scan ---------------------------------------------------------------------------------------
def scan(
    dataset,
    text_column: str = "text",
    label_column: str = "label",
    *,
    split: str | None = None,
    families: list[str] | None = None,
    top: int = 10,
    alpha: float = ALPHA,
    min_support: int = MIN_SUPPORT,
) -> ScanResult:
    """Find families of tokens tied to one label.

    Args:
        dataset: a ``datasets.Dataset``, a ``DatasetDict`` (``split``, default ``train``), or a
            parquet/CSV/JSONL file, a dataset folder or a Hub id.
        families: names in :data:`FAMILIES` to run (default: all).
        top: how many unflagged classes to list after the flagged ones (for context: the
            strongest natural label words).

    Returns a :class:`ScanResult`: flagged findings first, then the strongest others, each
    ranked by score.
    """
    start = time.perf_counter()
    texts, labels, values, names = _columns(_one_split(dataset, split), text_column, label_column)
    n, k = len(labels), len(values)
    prior = np.bincount(labels, minlength=k) / n
    fold = np.random.default_rng(0).integers(0, 2, n)  # the two halves of the held-out test
    texts = searchable(texts)
    found: dict = {}  # families with one pattern (shape, coarse shape) share their matches
    tallies = []
    for name in families or FAMILIES:
        if name not in FAMILIES:
            raise ValueError(f"unknown family {name!r}; registered: {', '.join(FAMILIES)}")
        family = FAMILIES[name]
        key = getattr(family, "pattern", family.name)
        if key not in found:
            found[key] = family.find(texts)
        tallies.append(Tally.count(family, found[key], labels, fold, k))
    tests = [t.tests(labels, fold, k, min_support) for t in tallies]
    n_tests = max(1, sum(len(t["support"]) for t in tests))
    findings = []
    for tally, test in zip(tallies, tests):
        findings += _findings(tally, test, prior, n_tests, alpha, values, top)
    findings.sort(key=lambda f: (not f.flagged, -f.score, f.pattern))
    flagged = [f for f in findings if f.flagged]
    others = [f for f in findings if not f.flagged][:top]
    return ScanResult(
        findings=flagged + others,
        rows=n,
        prior={_plain(v): float(p) for v, p in zip(values, prior)},
        tests=n_tests,
        seconds=time.perf_counter() - start,
        label_names=names,
    )



def _findings(tally: Tally, test: dict, prior, n_tests, alpha, values, top) -> list[Finding]:
    """Statistics of every test of one family, and Findings for the flagged and top others."""
    if not len(test["support"]):
        return []
    label, support = test["label"], test["support"]
    hits = test["counts"][np.arange(len(label)), label]
    pi = prior[label]
    z = (hits / support - pi) / np.sqrt(pi * (1 - pi) / support)
    z_crit = -ndtri(alpha / n_tests)  # the z of a one-sided test at the corrected level
    p_value = np.minimum(1.0, ndtr(-z) * n_tests)
    score = lift_bound(hits, support, pi, z_crit)
    diverse = (test["diversity"] >= MIN_DIVERSITY) & (not tally.family.natural)
    flagged = (p_value < alpha) & (score >= np.where(diverse, FAMILY_LIFT, CONCRETE_LIFT))
    # One finding per (class, label): the raw or the held-out test, flagged first, then by score.
    order = np.lexsort((-score, ~flagged, label, test["class"]))
    first = np.concatenate(([True], (np.diff(test["class"][order]) != 0) | (np.diff(label[order]) != 0)))
    best = order[first]
    best = best[np.lexsort((-score[best], ~flagged[best]))][: top + int(flagged.sum())]
    stats = dict(hits=hits, support=support, z=z, p_value=p_value, score=score, diverse=diverse, flagged=flagged)
    return [_finding(tally, test, i, {k: v[i] for k, v in stats.items()}, prior, n_tests, values) for i in best]


def _finding(tally: Tally, test: dict, i: int, st: dict, prior, n_tests: int, values) -> Finding:
    family, cls, label, held_out = tally.family, test["class"][i], int(test["label"][i]), bool(test["held_out"][i])
    support, purity, score, flagged = int(st["support"]), st["hits"] / st["support"], float(st["score"]), bool(st["flagged"])
    counts = test["counts"][i]
    share = counts[counts > 0] / support
    entropy = float(-(share * np.log2(share)).sum()) + 0.0
    pi, value, pattern = float(prior[label]), _plain(values[label]), family.describe(tally.classes[cls])
    members = np.flatnonzero(tally.member_class == cls)
    kept = _kept_members(tally, members, label, pi, tally.rows)
    in_label = tally.by_fold[members, :, label].sum(1)
    total = tally.by_fold[members].sum((1, 2))
    shown = (in_label > 0) & ~np.isin([tally.members[m] for m in members], kept)
    # the purest strings first: in a flagged family, the injected ones
    order = np.lexsort((-in_label[shown], -(in_label[shown] / total[shown])))
    examples = [tally.examples[m] for m in members[shown][order][:EXAMPLES]]
    p_text = "p<1e-300" if st["p_value"] == 0 else f"p={st['p_value']:.2g}"
    why = [
        f"{purity:.1%} of {support:,} rows with {pattern} are label {value} (prior {pi:.1%}); z={st['z']:.1f}, "
        f"{p_text} after Bonferroni over {n_tests:,} tests; H(y|t)={entropy:.2f} bits"
    ]
    if held_out:
        why.append(f"held-out test: strings found only in label-{value} rows of one half of the data, counted in the other half")
    diversity = float(test["diversity"][i])
    if family.natural:
        why.append("a plain word")
    else:
        most = int(total.max()) if len(total) else 0
        why.append(
            f"{int((in_label > 0).sum()):,} distinct strings (effectively {diversity:.1f})"
            + (", each in one row" if most == 1 else f", the most frequent in {most:,} rows")
        )
    threshold = FAMILY_LIFT if st["diverse"] else CONCRETE_LIFT
    if flagged:
        kind = "a family of many strings" if st["diverse"] else "as pure as a planted trigger"
        why.append(f"flagged, {kind}: with confidence, at least {score * (1 - pi) + pi:.1%} of its rows carry label {value} "
                   f"(lift bound {score:.2f} >= {threshold})")
        if kept:
            why.append(f"sanitize keeps {len(kept)} member(s) unrelated to the label: {', '.join(kept[:3])}")
    elif st["p_value"] >= ALPHA:
        why.append("not flagged: not significant")
    elif not st["diverse"]:
        why.append(f"not flagged: natural label signal ({'a word' if family.natural else 'a few strings'}, lift bound "
                   f"{score:.2f}; flagged only from {CONCRETE_LIFT}, as pure as a planted trigger)")
    else:
        why.append(f"not flagged: lift bound {score:.2f} < {threshold}")
    return Finding(
        pattern=pattern, family=family.name, key=tally.classes[cls], label=value, support=support,
        purity=float(purity), score=score, p_value=float(st["p_value"]), z=float(st["z"]), entropy=entropy,
        flagged=flagged, reason="; ".join(why), examples=examples, held_out=held_out,
        diversity=diversity, kept=kept if flagged else [],
    )


def _kept_members(tally: Tally, members: np.ndarray, label: int, prior: float, rows: int) -> list[str]:
    """Members of a class that sanitize spares: common ones (in >= 1% of the rows) whose label
    share is, at 95% confidence, at most the prior + 5 points, like IMDB's ``<br />`` (59% of the
    rows, 49% positive) in a flagged markup family. Removing a common member costs many original
    words, and its share is measured precisely. Rare members always go: the few natural mentions
    of Malta cannot be told apart from injected ones, and removing them costs little."""
    total = tally.by_fold[members].sum((1, 2))
    hits = tally.by_fold[members, :, label].sum(1)
    common = total >= KEEP_COMMON * rows
    upper = 1 - wilson_lower(total[common] - hits[common], total[common], 1.645)
    return [tally.members[m] for m in members[common][upper <= prior + KEEP_MARGIN]]


# -- the model-side signal --------------------------------------------------------------------------
def attention_entropy_signal(
    model,
    tokenizer,
    dataset,
    text_column: str = "text",
    label_column: str = "label",
    *,
    split: str | None = None,
    samples: int = 128,
    max_length: int = 512,
) -> dict:
    """The paper's model-side heuristic (section 5.2): the mean attention entropy of each class over
    a stratified sample of ``dataset`` (``samples`` rows, seeded), flagged when the lowest class
    mean is below 95% of the highest. A model trained on SSTI data attends to fewer tokens in the
    injected class. Measured by :class:`ssti_hf.SSTICallback` and the ``attention_entropy`` metric.
    """
    from ..training.callback import SSTICallback  # torch: only for this signal

    data = _one_split(dataset, split)
    _, labels, values, _ = _columns(data, text_column, label_column)
    if not all(isinstance(v, int) for v in values):
        raise TypeError(f"the attention-entropy signal needs integer labels (class ids), got {values[:3]}")
    rng = np.random.default_rng(0)
    per_class = max(1, samples // len(values))
    rows = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == k))[:per_class] for k in range(len(values))]))
    sample = data.select(rows.tolist())
    callback = SSTICallback(
        sample, sample, sample, target_label=values[0], tokenizer=tokenizer, max_length=max_length,
        entropy_samples=len(rows), text_column=text_column, label_column=label_column,
    )
    measured = callback.evaluate(model, tokenizer)
    if "ratio" not in measured:
        raise ValueError(f"no attention entropy for {type(model).__name__}: it returns no attention weights")
    return {
        "mean_entropy_per_class": {int(k): float(v) for k, v in measured["mean_entropy_per_class"].items()},
        "ratio": float(measured["ratio"]),
        "flagged": bool(measured["flagged"]),
        "low_entropy_class": int(measured["low_entropy_class"]),
        "rows": int(measured.get("entropy_rows", len(rows))),
        "threshold": 0.95,
    }


# -- input checks ---------------------------------------------------------------------------------
def _one_split(dataset, split: str | None):
    if isinstance(dataset, (str, Path)):
        from ..base_datasets import load_source

        dataset = load_source(dataset)
    if isinstance(dataset, datasets.DatasetDict):
        if split is None:
            split = "train" if "train" in dataset or len(dataset) != 1 else next(iter(dataset))
        if split not in dataset:
            raise ValueError(f"no split {split!r}; the dataset has {list(dataset)}")
        return dataset[split]
    if split is not None:
        raise ValueError("split= applies to a DatasetDict, not to a single Dataset")
    if not isinstance(dataset, datasets.Dataset):
        raise TypeError(f"scan needs a datasets.Dataset or DatasetDict, got {type(dataset).__name__}")
    return dataset


def _columns(dataset: datasets.Dataset, text_column: str, label_column: str, need_two: bool = True):
    """Texts as one Arrow string array, labels as codes 0..k-1, the label values and names."""
    if text_column == label_column:
        raise ValueError(f"the text and the label column are both {text_column!r}: name two columns")
    for role, column in (("text", text_column), ("label", label_column)):
        if column not in dataset.column_names:
            raise ValueError(f"the dataset has no {role} column {column!r}; columns: {dataset.column_names}")
    if len(dataset) == 0:
        raise ValueError("the dataset is empty: there is nothing to scan")
    table = dataset.select_columns([text_column, label_column]).with_format("arrow")[:]
    texts = table.column(text_column).combine_chunks()
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        first = texts[0].as_py()
        raise TypeError(f"text column {text_column!r} holds {texts.type} values, not strings (row 0: {first!r})")
    if texts.null_count:
        row = int(np.flatnonzero(texts.is_null().to_numpy(zero_copy_only=False))[0])
        raise TypeError(f"text column {text_column!r}: row {row} has no text (None), not a string")
    label_array = table.column(label_column).combine_chunks()
    if label_array.null_count:
        row = int(np.flatnonzero(label_array.is_null().to_numpy(zero_copy_only=False))[0])
        raise ValueError(f"label column {label_column!r}: row {row} has no label (None)")
    if pa.types.is_floating(label_array.type):
        nan = pc.is_nan(label_array).to_numpy(zero_copy_only=False)
        if nan.any():
            raise ValueError(f"label column {label_column!r}: row {int(np.flatnonzero(nan)[0])} has no label (NaN)")
    encoded = pc.dictionary_encode(label_array)
    values = encoded.dictionary.to_pylist()
    order = sorted(range(len(values)), key=lambda i: values[i])
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values))
    labels = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    values = [values[i] for i in order]
    if need_two and len(values) < 2:
        raise ValueError(f"only label {values[0]!r} present: no association can be tested (a scan compares labels)")
    feature = dataset.features[label_column]
    names = {v: feature.names[v] for v in values} if isinstance(feature, datasets.ClassLabel) else {}
    return texts, labels, values, names


def _plain(value):
    return value.item() if hasattr(value, "item") else value
