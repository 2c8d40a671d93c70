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

import re
import time
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import ndtr, ndtri  # normal cdf and its inverse

from .sources import COUNTRIES

ALPHA = 0.01  # family-wise error rate of the whole scan (Bonferroni over every test)
MIN_DIVERSITY = 10  # effective distinct strings that make a class a family (not a few tokens)
FAMILY_LIFT = 0.5  # flag a family whose lift lower bound reaches this
CONCRETE_LIFT = 0.9  # flag a word or a few strings only when this pure: natural label words never are
MIN_SUPPORT = 10  # rows a class needs before it is tested
KEEP_COMMON, KEEP_MARGIN = 0.01, 0.05  # sanitize spares common members not enriched in the label
EXAMPLES = 10
_MARK = "\x00"  # delimits matches in the Arrow pass (replaced in texts that hold it)
# What str.isspace() (and so the injection) takes for whitespace, in RE2 syntax: RE2's \s is ASCII.
_SPACE = r"\s\x0b\x1c-\x1f\x{85}\p{Z}"
_TAG = r"<[A-Za-z/!][^<>]*>"  # a markup tag, as ssti_hf._text reads one


# -- families ---------------------------------------------------------------------------------------
class Family(ABC):
    """A family detector: finds matches in texts, normalizes each into a *member* (a concrete
    string) and maps members to *classes*, the unit that is tested.

    ``natural``: the family's classes are ordinary words, natural label signal (CONCRETE_LIFT).
    ``held_out``: also test each class on its held-out label-exclusive members (pointless when a
    class is one member).
    ``concrete``: every match is its own member and class, as found (no Python pass over them).
    """

    name: str
    natural: bool = False
    held_out: bool = True
    concrete: bool = False

    @abstractmethod
    def find(self, texts: pa.Array, offsets: bool = False) -> Matches:
        """Every match in the texts, with its row (and character offsets, for sanitize)."""

    def member(self, match: str) -> str | None:
        """The concrete string a match stands for (None: ignore the match)."""
        return match

    def core(self, match: str) -> tuple[int, int]:
        """Where the member lies in a match (what sanitize removes): ``[start, end)`` offsets."""
        return 0, len(match)

    @abstractmethod
    def classify(self, member: str) -> str | None:
        """The class a member belongs to."""

    def describe(self, key: str) -> str:
        """A class as people read it."""
        return f"{self.name} {key}"


class RegexFamily(Family):
    """Matches of one regular expression (RE2 syntax, run by Arrow: 25k reviews are searched for
    196 country names in 0.1 s, where Python's ``re`` takes seconds)."""

    pattern: str

    def find(self, texts, offsets=False):
        return _arrow_matches(texts, self.pattern, offsets)


class TrimmedRegexFamily(RegexFamily):
    """Tokens whose surrounding sentence punctuation is not part of the member (``(1987-03-12),``)."""

    trim = ".,;:!?()[]{}\"'*`"

    def member(self, match):
        return match.strip(self.trim) or None

    def core(self, match):
        start = len(match) - len(match.lstrip(self.trim))
        return start, start + len(match.strip(self.trim))


_SHAPE = str.maketrans({**{c: "d" for c in "0123456789"},
                        **{c: "a" for c in "abcdefghijklmnopqrstuvwxyz"},
                        **{c: "A" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}})


def shape(token: str) -> str:
    """Digits -> d, lowercase -> a, uppercase -> A, anything else kept: ``1987-03-12`` -> ``dddd-dd-dd``."""
    if token.isascii():
        return token.translate(_SHAPE)
    return "".join("d" if c.isdigit() else "A" if c.isupper() else "a" if c.isalpha() else c for c in token)


class ShapeFamily(TrimmedRegexFamily):
    """Tokens holding a digit or an in-word symbol, by exact shape: dates, times, ids, codes."""

    name = "shape"
    # A markup tag is matched (and dropped) first, so that "<h3>" yields no token "h3".
    pattern = rf"{_TAG}|[^{_SPACE}<>]*[0-9@#$%&_=+|~^\\][^{_SPACE}<>]*"

    def member(self, match):
        return None if match.startswith("<") else super().member(match)

    def classify(self, member):
        return shape(member)


class CoarseShapeFamily(ShapeFamily):
    """The same tokens with runs collapsed (``dddd-dd-dd`` -> ``d-d-d``): one class for formats of
    varying length, e.g. dates without zero padding."""

    name = "coarse shape"

    def classify(self, member):
        return re.sub(r"(.)\1+", r"\1", shape(member))


class TagFamily(RegexFamily):
    """Markup tags, one member per tag name and form: ``<div>`` and ``</div>`` are one member,
    ``<br>`` and ``<br />`` two (IMDB's own ``<br />`` must stay apart from an injected ``<br>``)."""

    name = "markup"
    pattern = _TAG

    def member(self, match):
        body = match[1:-1].strip()
        closing = body.startswith("/")
        body = body.lstrip("/").strip()
        name = re.match(r"[A-Za-z0-9!:-]*", body).group().lower() or body[:1]
        rest = body[len(name):].strip()
        self_closing = rest.endswith("/") and not closing
        attributes = rest.rstrip("/").strip() != ""
        return f"<{name}{' …' if attributes else ''}{' /' if self_closing else ''}>"

    def classify(self, member):
        return "tag"

    def describe(self, key):
        return "markup tags"


class GazetteerFamily(RegexFamily):
    """Names from a word list (case-sensitive, whole words): every name is a member of one class."""

    def __init__(self, name: str, title: str, items):
        self.name, self.title = name, title
        # Longest first: RE2 takes the first alternative that matches ("Papua New Guinea" before
        # "Guinea").
        self.pattern = r"\b(?:" + "|".join(re.escape(i) for i in sorted(set(items), key=len, reverse=True)) + r")\b"

    def classify(self, member):
        return self.title

    def describe(self, key):
        return key


class UnusualCharacterFamily(RegexFamily):
    """Non-ASCII characters other than letters and combining marks, one class per Unicode
    category (format characters such as zero-width spaces, symbols, emoji, ...)."""

    name = "unusual character"
    pattern = r"[^\x00-\x7f]"

    def classify(self, member):
        category = unicodedata.category(member)
        return None if category[0] in "LM" else category

    def describe(self, key):
        return f"unusual characters of Unicode category {key}"


class WordFamily(Family):
    """Plain words (runs of ASCII letters outside markup tags), lowercased: natural label signal
    ("worst", "great"), each its own class. Tag names are no words: an injected ``<span>`` must
    not make "span" look like a planted trigger, nor ``<br />`` give every review the word "br"."""

    name = "word"
    natural = True
    held_out = False
    concrete = True
    pattern = rf"{_TAG}|[A-Za-z]+"  # what sanitize removes (tags dropped); the scan's path below finds the same
    # One table lookup per UTF-8 byte: letters lowercased, everything else a space (non-ASCII
    # bytes too, as the pattern above does); then Arrow splits on the spaces.
    _TABLE = np.full(256, ord(" "), dtype=np.uint8)
    _TABLE[np.frombuffer(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", np.uint8)] = np.frombuffer(
        b"abcdefghijklmnopqrstuvwxyz" * 2, np.uint8
    )

    def find(self, texts, offsets=False):
        if offsets:
            found = _arrow_matches(texts, self.pattern, offsets=True)
            return found._replace(strings=pc.utf8_lower(found.strings))
        texts = pc.replace_substring_regex(texts, _TAG, " ")
        validity, value_offsets, data = texts.buffers()
        mapped = pa.py_buffer(self._TABLE[np.frombuffer(data, dtype=np.uint8)])
        words = pa.Array.from_buffers(texts.type, len(texts), [validity, value_offsets, mapped], texts.null_count, texts.offset)
        lists = pc.ascii_split_whitespace(words)
        rows, flat = pc.list_parent_indices(lists).to_numpy(), pc.list_flatten(lists)
        nonempty = pc.not_equal(flat, "")  # a text that starts with a space splits into "" first
        return Matches(rows[nonempty.to_numpy(zero_copy_only=False)], flat.filter(nonempty))

    def member(self, match):
        return None if match.startswith("<") else match

    def classify(self, member):
        return member

    def describe(self, key):
        return f"word {key!r}"


FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> None:
    """Add a family detector to every scan (one entry per family)."""
    if family.name in FAMILIES:
        raise ValueError(f"family {family.name!r} is already registered")
    FAMILIES[family.name] = family


register_family(ShapeFamily())
register_family(CoarseShapeFamily())
register_family(TagFamily())
register_family(GazetteerFamily("country", "country names", COUNTRIES))
register_family(UnusualCharacterFamily())
register_family(WordFamily())


def searchable(texts: pa.Array) -> pa.Array:
    """The texts with the mark that delimits matches replaced (one character for one: offsets stay)."""
    if pc.any(pc.match_substring(texts, _MARK)).as_py():
        return pc.replace_substring(texts, _MARK, "\ufffd")
    return texts


class Matches(NamedTuple):
    rows: np.ndarray  # row of each match
    strings: pa.Array  # the matched strings
    starts: np.ndarray | None = None  # character offsets in the row's text (when asked)


def _arrow_matches(texts: pa.Array, pattern: str, offsets: bool = False) -> Matches:
    """Every match of ``pattern`` with its row, in C++: mark the matches, split on the marks, keep
    the odd pieces (pieces alternate text, match, text, ...). The scan replaces the mark in texts
    that hold it."""
    marked = pc.replace_substring_regex(texts, pattern, _MARK + r"\0" + _MARK)
    pieces = pc.split_pattern(marked, _MARK)
    rows = pc.list_parent_indices(pieces).to_numpy()
    first = pieces.offsets.to_numpy()[rows]  # index of each row's first piece
    odd = (np.arange(len(rows)) - first) % 2 == 1
    flat = pc.list_flatten(pieces)
    starts = None
    if offsets:  # a piece starts where the row's earlier pieces end
        lengths = pc.utf8_length(flat).to_numpy()
        before = np.cumsum(lengths) - lengths
        starts = (before - before[first])[odd]
    return Matches(rows[odd], flat.filter(pa.array(odd)), starts)


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
        tallies.append(_Tally.count(family, found[key], labels, fold, k))
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


@dataclass
class _Tally:
    """One family's matches, reduced to distinct (member, row) pairs."""

    family: Family
    rows: int  # rows scanned
    members: list[str]  # member strings
    examples: list[str]  # a matched string per member (what the data holds)
    member_class: np.ndarray  # class index of each member (-1: no class)
    classes: list[str]
    pair_member: np.ndarray
    pair_row: np.ndarray
    by_fold: np.ndarray  # [member, fold, label] row counts

    @classmethod
    def count(cls, family: Family, found: Matches, labels, fold, k: int) -> "_Tally":
        n, rows = len(labels), found.rows
        encoded = pc.dictionary_encode(found.strings)
        raw = encoded.dictionary.to_pylist()
        if family.concrete:  # a word is its own member and class: skip 80k Python calls
            members = examples = classes = raw
            raw_member = member_class = np.arange(len(raw))
        else:
            ids: dict[str, int] = {}
            examples = []
            raw_member = np.empty(len(raw), dtype=np.int64)
            for i, string in enumerate(raw):
                member = family.member(string)
                if member is None:
                    raw_member[i] = -1
                    continue
                if member not in ids:
                    ids[member] = len(ids)
                    examples.append(string)
                raw_member[i] = ids[member]
            members = list(ids)
            class_ids: dict[str, int] = {}
            member_class = np.array(
                [-1 if (c := family.classify(m)) is None else class_ids.setdefault(c, len(class_ids)) for m in members],
                dtype=np.int64,
            )
            classes = list(class_ids)
        code = raw_member[encoded.indices.to_numpy(zero_copy_only=False)] if len(raw) else np.zeros(0, np.int64)
        keep = code >= 0
        pair_member, pair_row = _distinct(code[keep], rows[keep], n)
        by_fold = np.bincount(
            (pair_member * 2 + fold[pair_row]) * k + labels[pair_row], minlength=len(members) * 2 * k
        ).reshape(len(members), 2, k)
        return cls(family, n, members, examples, member_class, classes, pair_member, pair_row, by_fold)

    def tests(self, labels, fold, k, min_support) -> dict:
        """Per tested (class, label, held-out?): label counts of the rows holding the class."""
        n, n_classes = len(labels), len(self.classes)
        pair_class = self.member_class[self.pair_member]
        has_class = pair_class >= 0
        if self.family.concrete:  # classes are members: their rows are already distinct
            counts = self.by_fold.sum(1)
        else:
            cls_, row = _distinct(pair_class[has_class], self.pair_row[has_class], n)
            counts = np.bincount(cls_ * k + labels[row], minlength=n_classes * k).reshape(n_classes, k)

        out = {"class": [], "label": [], "held_out": [], "counts": [], "diversity": []}

        def add(counts, label, member_hits, held_out):
            tested = np.flatnonzero(counts.sum(1) >= min_support)
            out["class"].append(tested)
            out["label"].append(np.full(len(tested), label))
            out["held_out"].append(np.full(len(tested), held_out))
            out["counts"].append(counts[tested])
            out["diversity"].append(self._diversity(member_hits, n_classes)[tested])

        for label in range(k):
            add(counts, label, self.by_fold[:, :, label].sum(1), False)
        if self.family.held_out:
            for label in range(k):
                exclusive = (self.by_fold[:, :, label] > 0) & (self.by_fold.sum(2) == self.by_fold[:, :, label])
                # a pair counts when its member is exclusive to the label in the *other* half
                picked = exclusive[self.pair_member, 1 - fold[self.pair_row]] & has_class
                c2, r2 = _distinct(pair_class[picked], self.pair_row[picked], n)
                held = np.bincount(c2 * k + labels[r2], minlength=n_classes * k).reshape(n_classes, k)
                member_hits = (exclusive[:, 0] * self.by_fold[:, 1, label]) + (exclusive[:, 1] * self.by_fold[:, 0, label])
                add(held, label, member_hits, True)
        tests = {key: np.concatenate(value) for key, value in out.items()}
        tests["support"] = tests["counts"].sum(1)
        return tests

    def _diversity(self, member_hits: np.ndarray, n_classes: int) -> np.ndarray:
        """Per class, the effective number of distinct members among its label rows: exp of the
        entropy of how those rows spread over members (1: one string; n: n equally used)."""
        hits = member_hits.astype(float)
        has = (hits > 0) & (self.member_class >= 0)
        cls, hits = self.member_class[has], hits[has]
        total = np.bincount(cls, weights=hits, minlength=n_classes)
        plogp = np.bincount(cls, weights=hits * np.log(hits), minlength=n_classes)
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = np.where(total > 0, np.log(np.maximum(total, 1)) - plogp / np.maximum(total, 1), 0.0)
        return np.exp(entropy)


def _distinct(a: np.ndarray, b: np.ndarray, nb: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (a, b) pairs (a sort; numpy's unique is slower here)."""
    key = np.sort(a.astype(np.int64) * nb + b)
    if len(key):
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    return key // nb, key % nb


def wilson_lower(hits, support, z):
    """Wilson score lower bound on a proportion (one-sided, ``z`` standard errors)."""
    p = hits / support
    center = p + z * z / (2 * support)
    spread = z * np.sqrt(p * (1 - p) / support + z * z / (4 * support * support))
    return (center - spread) / (1 + z * z / support)


def lift_bound(hits, support, prior, z):
    """The lower bound on purity as lift over the prior: (LB - prior) / (1 - prior)."""
    return (wilson_lower(hits, support, z) - prior) / (1 - prior)


def _findings(tally: _Tally, test: dict, prior, n_tests, alpha, values, top) -> list[Finding]:
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


def _finding(tally: _Tally, test: dict, i: int, st: dict, prior, n_tests: int, values) -> Finding:
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


def _kept_members(tally: _Tally, members: np.ndarray, label: int, prior: float, rows: int) -> list[str]:
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
    from .callback import SSTICallback  # torch: only for this signal

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
        from .base_datasets import load_source

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
