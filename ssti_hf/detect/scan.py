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

Planted or natural. A significant class (Bonferroni over the tests that could be significant,
Tarone 1990) whose label rows are nearly all beyond the other labels' rate, or whose rows nearly
all carry the label (:data:`MIN_EXCESS`), is a *candidate*. Injection picks rows at random within a label, so a
planted string's presence, given the label, is independent of the rest of the text; natural
label signal ("worst", tennis scores in sport news) comes with its content. Each candidate is
tested for that (:mod:`evidence`): a cross-validated ridge classifier on the words of the
label's rows (its own words left out) predicting which rows hold it, and how strongly its rows'
words say the label; both ROC-AUCs must be consistent with 0.5 (within :data:`SE_BOUND` standard
errors, and within :data:`AUC_CAP`). Candidate tokens and words are first grown into the span
planted with them (:mod:`phrases`): a sentence is tested, and removed, as one unit. Words too
rare alone that never share a row are tested together as a pool (five BadNets words, one per
row); a held-out class whose strings say two labels is a value (ratings), not planted.
docs/scan.md has the measurements behind these numbers.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import time
import unicodedata
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.optimize import brentq
from scipy.special import bdtrc, ndtr, ndtri, pdtrc  # binomial and Poisson upper tails, normal cdf and its inverse
from threadpoolctl import threadpool_limits

from . import phrases
from .evidence import FOLDS, MIN_ROWS, Content, LabelMargin, auc_se
from .evidence import _auc as rank_auc
from .families import (
    _CORE_CHAR, _LETTERS, _TAG, FAMILIES, WRAPPED_WORD, Family, Matches, ShapeFamily, TokenFamily, _literal, coarse_shape, searchable, shape, words_and_characters,
)
from .statistics import (
    ALPHA, AUC_CAP, COVERED, EXAMPLES, GATE_LIFT, KEEP_COMMON, KEEP_EXCESS, MIN_DIVERSITY, MIN_EXCESS, MIN_SHARE, MIN_SUPPORT, NEAR_EXCESS, NEAR_PAIRS, NEAR_SAMPLE, ONE_OFF, POOL_WORDS, RESIDUAL_EXCESS, SE_BOUND, TIED_MEMBERS, TOGETHER_WORDS, TOGETHER_Z, Tally, encode,
    excess_share, lift_bound, pair_tally, tarone_tests,
)


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
    leaves alone (common and not enriched in the label, like IMDB's ``<br />``); ``evidence``:
    the planted-or-natural test in words, ``auc`` and ``label_auc`` its two ROC-AUCs (None: not a
    candidate, or too few rows); ``rows_digest``: a digest of the texts and labels it was read
    from (:func:`rows_digest`): in those rows, sanitize removes the class from its label's rows only."""

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
    evidence: str = ""
    auc: float | None = None
    label_auc: float | None = None
    rows_digest: str = ""

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
    """Find strings planted in the rows of one label.

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
    # ids, or free text, in the label column: most labels could hold no test, and the counts grow
    # with the labels (a few labels of a toy's few rows are harmless)
    if k >= 10 and k * min_support > n:
        raise ValueError(f"label column {label_column!r} holds {k:,} distinct values in {n:,} rows ({n / k:.1f} rows per label): "
                         f"a scan compares labels of {min_support} rows or more; is {label_column!r} the label column?")
    label_rows = np.bincount(labels, minlength=k)
    prior = label_rows / n
    fold = np.random.default_rng(0).integers(0, 2, n)  # the two halves of the held-out test
    digest = rows_digest(texts, labels, values)
    texts = searchable(texts)
    chosen = list(families or FAMILIES)
    for name in chosen:
        if name not in FAMILIES:
            raise ValueError(f"unknown family {name!r}; registered: {', '.join(FAMILIES)}")
    # words and characters (any script's: CJK has no spaces) are also the evidence's content
    searched = _search(texts, list(dict.fromkeys(["word", "character"] + chosen)))
    tallies = {}
    for name, (found, encoded) in searched:
        family = FAMILIES[name]
        if getattr(family, "pairs", False):
            tallies[name] = pair_tally(family, found, encoded, labels, fold, k, min_support)
        else:
            tallies[name] = Tally.count(family, found, labels, fold, k, encoded)
    words, characters = tallies["word"], tallies["character"]
    tallies = [tallies[name] for name in chosen]
    tests = [t.tests(labels, fold, k, min_support) for t in tallies]
    n_tests = tarone_tests(np.concatenate([t["support"] for t in tests]),
                           np.concatenate([prior[t["label"]] for t in tests]), alpha)
    stats = [_statistics(t, prior, label_rows, n_tests, alpha) for t in tests]
    evidence = Evidence(texts, labels, words, characters, k)
    phrase_tally = _phrases(tallies, tests, stats, evidence, prior, fold, k, "phrase" in chosen)
    if phrase_tally is not None:  # in the place of the phrase family's empty pass
        at = chosen.index("phrase")
        tallies[at], tests[at] = phrase_tally, phrase_tally.tests(labels, fold, k, min_support)
        stats[at] = _statistics(tests[at], prior, label_rows, n_tests, alpha)
    with threadpool_limits(1):  # small matrices: BLAS threads cost more than they give
        _decide(tallies, tests, stats, evidence, prior)
        _grown_from_flagged(tallies, tests, stats, evidence.labels, prior)
        _chained(tallies, tests, stats, evidence.labels, prior)
        _pools(tallies, tests, stats, evidence, prior)
        _subsume(tallies, tests, stats, evidence)
    findings = []
    for tally, test, st in zip(tallies, tests, stats):
        findings += _findings(tally, test, st, prior, n_tests, values, top, labels)
    findings.sort(key=lambda f: (not f.flagged, -f.score, f.pattern))
    for finding in findings:
        finding.rows_digest = digest
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


def _search(texts: pa.Array, names: list[str]):
    """Yields each family's name, matches and their encoding, in order. Families with one pattern
    (shape, coarse shape) share them; one that reads the words (one-off capitals) waits for the
    word family's. Each pattern is searched on a thread: Arrow's regex kernels release the GIL, so
    two cores search two patterns at once while the caller counts what has come (IMDB train's
    scan on 2 cores: 3.0 s to 2.0-2.3 s)."""
    word = FAMILIES["word"]
    key = {name: getattr(FAMILIES[name], "pattern", name) for name in names}

    def search(family):
        if family.reads_words:
            words, (encoded, _, _) = futures[word.pattern].result()
            extra = {"word_rows": words.rows} if getattr(family, "reads_word_rows", False) else {}
            found = family.find(texts, words=encoded, **extra)
        else:
            found = family.find(texts)
        return found, encode(found)

    futures: dict = {}
    # the word family comes first: the pool starts tasks in order, so one waiting for it never blocks it
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for name in names:
            if key[name] not in futures:
                futures[key[name]] = pool.submit(search, FAMILIES[name])
        for name in names:
            yield name, futures[key[name]].result()


def _statistics(test: dict, prior, label_rows: np.ndarray, n_tests: int, alpha: float) -> dict:
    """Per test: hits, z, Bonferroni p-value, lift bound (the score), and whether it is a
    *candidate* for the planted-or-natural evidence: significant, at least MIN_EXCESS of its label
    rows beyond the other labels' rate, in at least MIN_SHARE of the label's rows."""
    label, support = test["label"], test["support"]
    hits = test["hits"]
    pi = prior[label]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (hits / support - pi) / np.sqrt(pi * (1 - pi) / support)
    z_crit = -ndtri(alpha / n_tests)  # the z of a one-sided test at the corrected level
    p_value = np.minimum(1.0, ndtr(-z) * n_tests)
    score = lift_bound(hits, support, pi, z_crit)
    n = len(label)
    share = hits / np.maximum(1, label_rows[label]) if n else np.zeros(0)
    excess = excess_share(hits, support, label_rows[label], label_rows.sum()) if n else np.zeros(0)
    # a held-out test counts its strings in the other half, where natural ones also turn up: 0.9
    bar = np.where(test["held_out"] | (test["diversity"] >= MIN_DIVERSITY), MIN_EXCESS - 0.05, MIN_EXCESS) if n else np.zeros(0)
    # or that share of all its rows in the label: in a label of most of the rows (SMS ham, 87%),
    # a planted class beside a rarer natural one of a small label (8 spam codes beside 1,038 ids)
    pure = hits >= bar * support
    candidate = (p_value < alpha) & (score >= GATE_LIFT) & ((excess >= bar) | pure) & (share >= MIN_SHARE)
    # a held-out test picks a label's exclusive strings: a family of many (country names), not a
    # few natural ones whose values follow the label (IMDB's ratings 1/10 ... 4/10: effectively 6)
    candidate &= ~test["held_out"] | (test["diversity"] >= MIN_DIVERSITY)
    # numbers of a class whose exclusive strings say one label in some rows and another label in
    # others are a value (IMDB's ratings: 1/10-4/10 negative, 7/10-9/10 positive), not numbers
    # planted in one label (symbols are no values: natural emoji of positive tweets beside planted
    # ones of negative tweets are left to the evidence)
    both_ways = np.zeros(n, bool)
    if n:
        says = test["held_out"] & (z >= -ndtri(alpha))  # each test on its own, one-sided at alpha
        k = len(label_rows)
        said = np.unique(test["class"][says] * k + label[says]) // k  # a class once per label it says
        both_ways = test["held_out"] & test["numbers"] & (np.bincount(said, minlength=test["class"].max() + 1)[test["class"]] >= 2)
        candidate &= ~both_ways
    return dict(hits=hits, z=z, p_value=p_value, score=score, candidate=candidate, share=share, excess=excess, bar=bar, both_ways=both_ways,
                auc=np.full(n, np.nan), label_auc=np.full(n, np.nan), rows_used=np.zeros(n, np.int64),
                flagged=np.zeros(n, bool), part_of=[None] * n, evidence_of=[None] * n, piece=np.zeros(n, bool), alpha=alpha, n_tests=n_tests)


def _decide(tallies, tests, stats, evidence: "Evidence", prior) -> None:
    """Flag the candidates whose presence, given the label, is independent of content. Candidates
    of one label that never share a row (a pool of planted words, one per row) leave each other's
    words out too: each one's rows lack the others, which would otherwise look like content."""
    found = []
    for tally, test, st in zip(tallies, tests, stats):
        for i in np.flatnonzero(st["candidate"]):
            label = int(test["label"][i])
            holding, own = _holding(tally, test["class"][i], label, evidence.labels, prior, bool(test["held_out"][i]))
            if tally.family.name == "character":
                own = own | _glued_with(evidence, holding, tally.classes[test["class"][i]])
            elif tally.family.name.startswith("glued tail") and "\b" in tally.classes[test["class"][i]]:
                own = own | _erased_into(evidence, holding)
            elif tally.family.name == "glued letters":  # the new words the letters make of their hosts ("thiszx")
                own = own | {w for w in evidence.words if w.endswith(tally.classes[test["class"][i]])}
            if not tally.family.natural and (pattern := _class_pattern(tally, test["class"][i], label)) is not None:
                own = own | evidence.companions(holding, pattern)
            # a phrase's literal words are its own; the words its slots matched, only where they live in its rows
            literal = tally.family.own_words(tally.classes[test["class"][i]], []) if tally.family.name == "phrase" else own
            found.append((st, i, label, holding, own, tally.family.edge, literal, tally.family.name))
    apart, together = _never_shared(found, evidence.labels)
    owned = {}  # per candidate: the words left out of the tests of the candidates that never share its rows
    for c, (st, i, label, holding, own, edge, _, family) in enumerate(found):
        # and a word, the words in the same rows: words planted together in any order ("river seven
        # apple"), where no phrase grows, are each other's, not content. Not a single letter: that
        # is a piece of a token ("m" of 58m, of I'm), which its neighbour piece does not make planted
        exclude = set(own)
        if family == "word" and all(map(_whole_word, own)):
            exclude = exclude.union(*(found[d][4] for d in together[c] if found[d][7] == "word" and all(map(_whole_word, found[d][4]))))
        # the last token of a row is no other's: where another string ends the row, a natural last
        # token (SMS spam's phone numbers) is pushed inside, and sharing no row with it says nothing
        for d in ([] if edge else apart[c]):
            if d not in owned:
                rows, other_label, words, literal = found[d][3], found[d][2], found[d][4], found[d][6]
                owned[d] = literal | evidence.owned(rows, other_label, words - literal)
            exclude |= owned[d]
        result = evidence.test(holding, label, exclude)
        if result is not None:
            _record(st, i, result)


def _class_pattern(tally: Tally, cls: int, label: int) -> re.Pattern | None:
    """A pattern of a class's strings as written: a phrase's own, else its most frequent members
    in the label's rows (tokens, characters; not word pairs, whose words are their own)."""
    if tally.family.name == "word pair":
        return None
    if tally.family.name == "phrase":
        return phrases.phrase_regex(phrases.decode(tally.classes[cls]))
    members = np.flatnonzero(tally.member_class == cls)
    hits = tally.by_fold[members, :, label].sum(1)
    strings = [tally.members[members[j]] for j in np.argsort(-hits, kind="stable")[:COMPANION_STRINGS] if hits[j] > 0]
    if not strings:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(strings, key=len, reverse=True)))


def _token_of(text: str, match: re.Match) -> tuple[int, int]:
    """The [start, end) of the whitespace token holding ``match``."""
    start, end = match.start(), match.end()
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def _record(st: dict, i: int, result, why: str | None = None) -> None:
    """An evidence test's result (AUC, label AUC, rows used, passed) as test ``i``'s, and, for a
    class tested with others, which test it was."""
    st["auc"][i], st["label_auc"][i], st["rows_used"][i], st["flagged"][i] = result
    if why is not None:
        st["evidence_of"][i] = why


def _co_occurrence(row_sets: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows each two of these sets of rows (of ``n``) share, and each set's size: one sparse product."""
    import scipy.sparse as sp

    lengths = np.array([len(rows) for rows in row_sets], np.float64)
    columns = np.repeat(np.arange(len(row_sets)), lengths.astype(np.int64))
    x = sp.csc_matrix((np.ones(len(columns)), (np.concatenate(row_sets).astype(np.int64), columns)), shape=(n, len(row_sets)))
    return (x.T @ x).toarray(), lengths


def _whole_word(word: str) -> bool:
    """A word of two letters or more: a single letter is a piece of a token ("m" of 58m, of I'm)."""
    return len(word) > 1


def _never_shared(found, labels: np.ndarray) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Per candidate: the candidates of its label that share (nearly, a tenth) none of its rows,
    where chance would have them share two or more, and those in (nearly, 90%) the same rows as
    it (one sparse product per label)."""
    apart: dict[int, list[int]] = {c: [] for c in range(len(found))}
    together: dict[int, list[int]] = {c: [] for c in range(len(found))}
    by_label: dict[int, list[int]] = {}
    for c, entry in enumerate(found):
        by_label.setdefault(entry[2], []).append(c)
    for label, chosen in by_label.items():
        size = int((labels == label).sum())
        shared, lengths = _co_occurrence([found[c][3] for c in chosen], len(labels))
        expected = np.outer(lengths, lengths) / max(1, size)
        never = (expected >= 2) & (shared <= 0.1 * expected)
        np.fill_diagonal(never, False)
        for a, b in zip(*np.nonzero(never)):
            apart[chosen[a]].append(chosen[b])
        same = shared >= 0.9 * np.maximum.outer(lengths, lengths)
        np.fill_diagonal(same, False)
        for a, b in zip(*np.nonzero(same)):
            together[chosen[a]].append(chosen[b])
    return apart, together


def _glued_with(evidence: "Evidence", rows: np.ndarray, character: str) -> set[str]:
    """The other non-ASCII characters written in (nearly, 90%) every token that holds ``character``
    in these rows: one planted string of several characters (mojibake ``â€™`` glued to words),
    each of which would otherwise say the rows are unlike the label's others."""
    sample = np.random.default_rng(0).permutation(rows)[: phrases.SAMPLE]
    tokens = [t for text in evidence.rows_text(np.sort(sample)) for t in text.split() if character in t]
    counts = Counter(c for t in tokens for c in set(t.replace(character, "")) if ord(c) > 127)
    return {c for c, n in counts.items() if n >= phrases.SHARE * len(tokens)}


def _erased_into(evidence: "Evidence", rows: np.ndarray) -> set[str]:
    """The words of the tokens holding a backspace in these rows: the character it erases, glued
    to its host, makes the host a new word of the planted row ("lovek\b"), which would say the
    rows are unlike the label's others (label AUC 0.62 at 25% of the tweets)."""
    return {w.lower() for text in evidence.rows_text(rows) for t in text.split() if "\b" in t for w in _LETTERS.findall(t)}


def _beyond(st: dict, test: dict) -> np.ndarray:
    """Per test: at least MIN_EXCESS of its label rows beyond the other labels' rate, or of all its
    rows in the label (the candidates' bar for one string; what a pool word or a follow-up asks)."""
    return (st["excess"] >= MIN_EXCESS) | (st["hits"] >= MIN_EXCESS * test["support"])


def _beyond_chance(shared, a, b, size: int):
    """Two sets of ``a`` and ``b`` rows of a label of ``size`` share far more rows than two random
    draws would (hypergeometric z of :data:`TOGETHER_Z`): two of four words planted in each row
    ("cobalt lantern", "quartz meadow"), each pair in a third of a word's rows. Natural words
    together ("worst", "waste") keep the rest of their content."""
    expected = a * b / max(1, size)
    spread = expected * (size - a) * (size - b) / (max(1, size) * max(1, size - 1))
    return shared - expected >= TOGETHER_Z * np.sqrt(np.maximum(spread, 1e-9))


def _shared(a: np.ndarray, b: np.ndarray, size: int) -> tuple[float, int]:
    """Rows of one label shared by two sets of its rows: as many as chance would give (rows picked
    independently among ``size``), and as many as there are."""
    return len(a) * len(b) / max(1, size), len(np.intersect1d(a, b))


def _pools(tallies, tests, stats, evidence: "Evidence", prior) -> None:
    """A pool of planted words, one per row (BadNets' ``cf``, ``mn``, ``bb``, ``tq``, ``mb``), splits
    its rows: each word alone can be too rare for the lift gate. Words of one label that are
    significant, beyond the other labels' rate and independent of content on their own (the
    evidence test, at their few rows), and that never share a row where chance would have them
    share some, are tested as one class: the lift gate on their rows together, then the evidence
    with their words left out. Natural label words that pass alone at few rows fail together
    (sport names, business words of BBC: content AUC 0.70-0.82 as pools). Phrases, tokens,
    punctuation runs and glued tails pool the same way. A string found mostly in the rows of a
    flagged span is a piece of it (the "nw" of postcodes "NW3 1PG"), no member of a pool."""
    names = [t.family.name for t in tallies]
    spanned: dict[int, np.ndarray] = {}  # label -> rows of its flagged spans
    for f in [names.index(n) for n in ("shape span", "phrase") if n in names]:
        for j in np.flatnonzero(stats[f]["flagged"]):
            label = int(tests[f]["label"][j])
            rows = _label_rows(tallies[f], np.flatnonzero(tallies[f].member_class == tests[f]["class"][j]), label, evidence.labels)
            spanned[label] = np.union1d(spanned.get(label, np.zeros(0, np.int64)), rows)
    # a pool of planted words, of clauses ("As it turns out,", "If you ask me,"), of tokens (kaomoji),
    # of emoticons (":-)", ";-)", ":-D") or of escapes glued to words ("\\n", "\\r\\n", "\\t")
    for family in ("word", "phrase", "token", "punctuation", "glued tail"):
        if family in names:
            f = names.index(family)
            _pool(tallies[f], tests[f], stats[f], evidence, prior, _pooled(tallies[f], tests[f], stats[f]), {} if family == "phrase" else spanned)
    if "word" in names:  # and words planted together, a few of a small set in each row
        f = names.index("word")
        _planted_together(tallies[f], tests[f], stats[f], evidence, prior, spanned)
    # and of one token written in letters of either case ("[b]SALE[/b]", "[i]wow[/i]"): kinds of
    # tokens that differ only in their letters and digits, never in their symbols (natural SMS
    # spam's "www.Ldew.com" beside "Txt250.com" differ in both)
    if "token kinds, any length" in names:
        f = names.index("token kinds, any length")
        test, st = tests[f], stats[f]
        # only the symbols of two classes or more that a pool could hold, asked once each
        able = ~test["held_out"] & (st["p_value"] < st["alpha"]) & _beyond(st, test)
        symbols = {}
        for i in np.flatnonzero(able):
            symbols.setdefault((re.sub(r"[aAd]", "", tallies[f].classes[test["class"][i]]), int(test["label"][i])), []).append(i)
        for (group, _), held in sorted(symbols.items()):
            if group != "{}" and len(held) >= 2:
                same = np.zeros(len(test["class"]), bool)
                same[held] = True
                alone = st["flagged"].copy()
                _pool(tallies[f], test, st, evidence, prior, same, spanned)
                for i in np.flatnonzero(st["flagged"] & ~alone):
                    _held_elsewhere(tallies, tests, stats, f, i, evidence.labels)
    _joins_flagged_tokens(tallies, tests, stats, evidence, prior, spanned)


_TOKEN_GRAINS = ("token", "shape", "coarse shape", "token kinds", "token kinds, any length")


def _symbols(tally, cls: int) -> set[str]:
    """The symbols of a class's strings other than prose punctuation (``#`` of "#DIV/0!")."""
    return {c for m in np.flatnonzero(tally.member_class == cls)[:50] for c in tally.members[m]
            if not c.isalnum() and not c.isspace() and c not in _PROSE}


def _joins_flagged_tokens(tallies, tests, stats, evidence: "Evidence", prior, spanned: dict) -> None:
    """A token planted one of a few per row ("#REF!", "#VALUE!", "#DIV/0!") can be too rare for the
    lift gate where the others pass it, and pools with them in no family: another shape, other
    kinds. A class of whole tokens of the label that holds a symbol of theirs ("#"), significant
    and beyond the other labels' rate, and that shares none of the rows of the label's flagged
    tokens where chance would have it share some, joins them as a pool word joins its pool:
    independent of content on its own (no cap: sharing none says much already) and together with
    them, the words of both left out. Not a natural token without their symbols that happens to
    share none (BBC's "Brother", SMS spam's "T&C" beside planted timestamps)."""
    labels = evidence.labels
    names = [t.family.name for t in tallies]
    grains = [names.index(n) for n in _TOKEN_GRAINS if n in names]
    for label in np.unique(labels):
        flagged = [(f, j) for f in grains for j in np.flatnonzero(stats[f]["flagged"] & (tests[f]["label"] == label))]
        if not flagged:
            continue
        size = int((labels == label).sum())
        holders = _flagged_grains(tallies, tests, stats, label)
        held = [_holding(tallies[f], tests[f]["class"][j], int(label), labels, prior) for f, j in flagged]
        union = np.unique(np.concatenate([rows for rows, _ in held]))
        words = set().union(*(own for _, own in held))
        symbols = set().union(*(_symbols(tallies[f], tests[f]["class"][j]) for f, j in flagged))
        pieces = spanned.get(int(label), np.zeros(0, np.int64))
        joined = []
        for f in grains:
            test, st = tests[f], stats[f]
            for i in np.flatnonzero((test["label"] == label) & ~test["held_out"] & (st["p_value"] < st["alpha"]) & ~st["flagged"]
                                    & (st["excess"] >= MIN_EXCESS - 0.05)):
                # its strings not already a flagged class's ({#d}x7 hex colours inside {#w}x7)
                if not _symbols(tallies[f], test["class"][i]) & symbols or any(
                        _within(tallies[f], test["class"][i], tallies[g], tests[g]["class"][j]) for g, j in holders):
                    continue
                rows, own = _holding(tallies[f], test["class"][i], int(label), labels, prior)
                by_chance, shared = _shared(rows, union, size)
                if not len(rows) or by_chance < 1 or not _apart(by_chance, shared) or _piece(rows, pieces):
                    continue
                alone = evidence.test(rows, int(label), words | set(own), cap=1.0)
                larger = alone is not None and alone[3] and evidence.test(np.union1d(union, rows), int(label), words | set(own))
                if larger and larger[3]:
                    joined.append((f, i, larger))
        for f, i, result in joined:
            _record(stats[f], i, result, "the test of the label's flagged tokens with it, which it joins: it shares none of their rows, "
                    "and passes with and without them")
        for f, i, _ in joined:
            _held_elsewhere(tallies, tests, stats, f, i, labels)


def _held_elsewhere(tallies, tests, stats, f: int, i: int, labels: np.ndarray) -> None:
    """A kind of tokens flagged only in a pool whose strings of the label a flagged class of
    another grain already holds, where its other strings are no more of the label than chance
    would put there, adds only those natural strings: hex colours of digits only ("#083643",
    ``{#d}``, beside ``{#ad}``) are ``{#w}x7`` too, and the rest of ``{#d}`` is IMDB's "#9",
    "#18". It stays flagged where its other strings are significant and at least
    RESIDUAL_EXCESS beyond the other labels' rate (a tag the flagged classes miss, "[b]wow[/b]"
    beside "[b]SALE[/b]" of a flagged ``{/A[]a}x11``)."""
    tally, test, st = tallies[f], tests[f], stats[f]
    label, cls = test["label"][i], test["class"][i]
    holders = [(g, j) for g, j in _flagged_grains(tallies, tests, stats, label) if g != f]
    members = np.flatnonzero(tally.member_class == cls)
    holds = np.array([[_holds(tallies[g], tests[g]["class"][j], tally.members[m]) for g, j in holders] for m in members], bool)
    held = holds.any(1)
    if not held.any():
        return
    if _planted_too(np.unique(tally.rows_of(members[~held])), label, labels, st["alpha"]):
        return
    g, j = holders[int(np.argmax(holds.sum(0)))]
    st["flagged"][i], st["part_of"][i] = False, tallies[g].family.describe(tallies[g].classes[tests[g]["class"][j]])


def _flagged_grains(tallies, tests, stats, label) -> list[tuple[int, int]]:
    """The flagged classes of ``label`` in the grains of one string (:data:`_GRAINS`) but the edge
    ones: (family index, test index)."""
    return [(g, j) for g, t in enumerate(tallies) if t.family.name in _GRAINS and not t.family.edge
            for j in np.flatnonzero(stats[g]["flagged"] & (tests[g]["label"] == label))]


def _planted_together(tally, test, st, evidence: "Evidence", prior, spanned: dict) -> None:
    """Words planted a few of a small set in each row (two of "cobalt lantern meadow quartz" in 10%
    of the SMS ham): each is too rare for the lift gate, and each tied to content by the others.
    Words of one label that are significant and beyond the other labels' rate (flagged or not:
    two of the four flagged alone in a tenth of an IMDB label), linked by sharing far more rows
    than chance (:func:`_beyond_chance`), are tested as one class: the lift gate on their rows
    together, then the evidence with all their words left out. Natural words linked
    by their topic (rugby's "scrum", "prop", "twickenham") keep the rest of their content
    (AUC 0.72-0.90 as a group)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    labels = evidence.labels
    z_crit = -ndtri(st["alpha"] / st["n_tests"])
    whole = np.array([_whole_word(c) for c in tally.classes], bool)[test["class"]] if len(tally.classes) else np.zeros(0, bool)
    for label in np.unique(test["label"]):
        size = int((labels == label).sum())
        chosen = np.flatnonzero((test["label"] == label) & ~test["held_out"] & (st["p_value"] < st["alpha"]) & _beyond(st, test) & whole)
        chosen = chosen[np.argsort(-test["support"][chosen], kind="stable")][:TOGETHER_WORDS]
        pieces = spanned.get(int(label), np.zeros(0, np.int64))
        held = [_holding(tally, test["class"][i], int(label), labels, prior) for i in chosen]
        keep = [j for j, (rows, _) in enumerate(held) if not _piece(rows, pieces)]
        if len(keep) < 2:
            continue
        chosen, held = chosen[keep], [held[j] for j in keep]
        shared, lengths = _co_occurrence([rows for rows, _ in held], len(labels))
        linked = _beyond_chance(shared, lengths[:, None], lengths[None, :], size)
        np.fill_diagonal(linked, False)
        count, component = connected_components(sp.csr_matrix(linked), directed=False)
        for c in range(count):
            group = np.flatnonzero(component == c)
            if not 2 <= len(group) <= phrases.CHOICES:
                continue
            union = np.unique(np.concatenate([held[j][0] for j in group]))
            if not _gate_together(tally, test["class"][chosen[group]], union, prior[label], z_crit):
                continue
            own = set().union(*(set(held[j][1]) for j in group))
            # common words linked by the length of the rows that hold them ("my", "me", "but" of
            # SMS ham: rows 0.74 by length), where each word's own content says little
            length, se = evidence.length_auc(union, int(label), own)
            if length - 0.5 > max(AUC_CAP - 0.5, SE_BOUND * se):
                continue
            result = evidence.test(union, int(label), own)
            if result is None or not result[3]:
                continue
            described = ", ".join(sorted(repr(tally.classes[test["class"][chosen[j]]]) for j in group))
            for i in chosen[group][~st["flagged"][chosen[group]]]:  # the flagged ones keep their own evidence
                _record(st, i, result, f"the test of {len(group)} words planted together in their rows ({described}), together")


def _gate_together(tally, classes, union: np.ndarray, prior: float, z_crit: float) -> bool:
    """The lift gate on classes tested as one: ``union``, their rows in the label, of all their rows."""
    members = np.flatnonzero(np.isin(tally.member_class, classes))
    support = len(np.unique(tally.rows_of(members.astype(np.int64))))
    return lift_bound(np.array([len(union)]), np.array([support]), prior, z_crit)[0] >= GATE_LIFT


def _piece(rows: np.ndarray, pieces: np.ndarray) -> bool:
    """Mostly in the rows of the label's flagged spans: a piece of them, no member of a group."""
    return len(np.intersect1d(rows, pieces, assume_unique=True)) >= 0.5 * len(rows)


def _inside_tokens(tally, cls: int, rows: np.ndarray, evidence: "Evidence") -> bool:
    """A word that in most of its label rows is only a piece of longer tokens ("div" of a planted
    "#DIV/0!"): the token is the unit, no word of a pool (which took BBC's natural "offline" and
    "portal" beside it)."""
    if tally.family.name != "word":
        return False
    word = tally.classes[cls]
    pieces = sum(not _whole_in(text, word) for text in evidence.rows_text(rows[:SAMPLE_TAIL]))
    return pieces >= 0.5 * min(len(rows), SAMPLE_TAIL)


def _whole_in(text: str, word: str) -> bool:
    """Whether a token of ``text``, without its sentence punctuation (:func:`_unwrapped`), is ``word``
    (lowercase letters). One regex over the lowered text rather than a Python call per token (a
    tenth of a second of a scan of IMDB train); a match that could be a wrapped word (":fire:")
    is told by the tokens as written."""
    # or glued after a sentence's end ("movie.zx", a word appended with no space): the token is two
    whole = re.compile(r"(?:(?<!\S)|(?<=[a-z][.,;:!?)]))[" + re.escape(_PROSE) + "]*" + re.escape(word) + "[" + re.escape(_PROSE) + r"]*(?!\S)")
    for match in whole.finditer(text.lower()):
        if not WRAPPED_WORD.fullmatch(match.group()):
            return True
        return any(_unwrapped(t).lower() == word for t in text.split())
    return False


def _pooled(tally, test, st) -> np.ndarray:
    """The tests a pool may hold: significant ones of the raw counts, and of the token family only
    tokens of other scripts and symbols (ASCII words and numbers pool as words, or are natural:
    IMDB's ratings)."""
    tried = ~test["held_out"] & (st["p_value"] < st["alpha"])
    if tally.family.name != "token":
        return tried
    # read only the tried tests' tokens: IMDB train holds 110k, a fifth of a second of regexes
    out = np.zeros(len(tried), bool)
    out[tried] = [_ASCII_ALNUM.search(c) is None or _MARKED_WORD.search(c.strip(_PROSE)) is not None or WRAPPED_WORD.fullmatch(c) is not None
                  for c in (tally.classes[i] for i in test["class"][tried])]
    return out


_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")
# and words wrapped in template or markup symbols ("{{first_name}}", "*|FNAME|*", "${firstName}"),
# or between colons (":fire:", :data:`WRAPPED_WORD`), whose words pool as no words: they are pieces of the token
_MARKED_WORD = re.compile(r"[A-Za-z].*[^\w\s.,;:!?'\"()-]|[^\w\s.,;:!?'\"()-].*[A-Za-z]")


def _unwrapped(token: str) -> str:
    """A token without its sentence punctuation, but for a word wrapped in it as prose never
    wraps one (:data:`WRAPPED_WORD`, ":fire:"), which stays whole."""
    return token if WRAPPED_WORD.fullmatch(token) else token.strip(_PROSE)


def _pool(tally, test, st, evidence: "Evidence", prior, pooled: np.ndarray, spanned: dict) -> None:
    labels = evidence.labels
    z_crit = -ndtri(st["alpha"] / st["n_tests"])
    beyond = _beyond(st, test) & pooled
    for label in np.unique(test["label"]):
        size = int((labels == label).sum())
        chosen = np.flatnonzero((test["label"] == label) & ~test["held_out"] & (st["p_value"] < st["alpha"]) & beyond
                                & (st["flagged"] | ~st["candidate"]))
        chosen = chosen[np.argsort(-test["support"][chosen], kind="stable")][:POOL_WORDS]
        pool, union, expected, owns = [], np.zeros(0, np.int64), 0.0, {}
        pieces = spanned.get(int(label), np.zeros(0, np.int64))
        for i in chosen:
            rows, own = _holding(tally, test["class"][i], int(label), labels, prior)
            if _piece(rows, pieces) or _inside_tokens(tally, test["class"][i], rows, evidence):
                continue
            owns[i] = set(own)
            by_chance, shared = _shared(rows, union, size)
            if not _apart(by_chance, shared):
                continue
            alone = (st["auc"][i], st["label_auc"][i], st["rows_used"][i], True) if st["flagged"][i] else evidence.test(rows, int(label), own)
            if alone is None or not alone[3]:
                continue
            expected += by_chance
            pool.append(i)
            union = np.union1d(union, rows)
        if len(pool) < 2 or expected < 1:
            continue  # "never share a row" says little where chance would share under 1 row
        if not _gate_together(tally, test["class"][pool], union, prior[label], z_crit):
            continue
        words = set().union(*(owns[i] for i in pool))
        result = evidence.test(union, int(label), words)
        if result is None or not result[3]:
            continue
        # a flagged pool is a class of several strings: a word beyond the other labels' rate at
        # its bar (90%; BadNets' "mb" beside the "mb" of megabytes) that shares no row with the
        # pool, where chance would have it share one or more, joins it if it is independent of
        # content with the pool's words left out (its rows lack them, as the pool's lack it), and
        # the pool with it too
        joined, eligible = [], []
        for i in np.flatnonzero((test["label"] == label) & ~test["held_out"] & (st["p_value"] < st["alpha"]) & ~st["flagged"]
                                & (st["excess"] >= MIN_EXCESS - 0.05) & pooled):
            if i in pool:
                continue
            rows, own = _holding(tally, test["class"][i], int(label), labels, prior)
            if _piece(rows, pieces) or _inside_tokens(tally, test["class"][i], rows, evidence):
                continue
            by_chance, shared = _shared(rows, union, size)
            if by_chance >= 1 and _apart(by_chance, shared):
                eligible.append((i, rows, set(own)))
        together = set(words).union(*(own for _, _, own in eligible))  # each lacks the others as the pool lacks it
        for i, rows, own in eligible:
            alone = evidence.test(rows, int(label), together, cap=1.0)  # sharing none of the pool's rows says much already
            larger = alone is not None and alone[3] and evidence.test(np.union1d(union, rows), int(label), together)
            if larger and larger[3]:
                joined.append(i)
        keys = [tally.classes[test["class"][i]] for i in pool]
        described = ", ".join(sorted(repr(phrases.describe(phrases.decode(key)) if tally.family.name == "phrase" else key) for key in keys))
        unit = {"phrase": "phrases", "word": "words", "token": "tokens", "punctuation": "punctuation runs", "token kinds, any length": "kinds of tokens"}.get(tally.family.name, "tails")
        for i in pool + joined:
            if not st["flagged"][i]:
                _record(st, i, result, f"the test of a pool of {len(pool)} {unit} that never share a row ({described}), together" + (
                    ", which it joins: it shares none of their rows, and passes with and without them" if i in joined else ""))


def _apart(by_chance: float, shared: int) -> bool:
    """Two sets of a label's rows that chance would have share ``by_chance`` rows share (nearly)
    none: at most a tenth of that, or one row where chance would have five or more (a natural
    "bb" in a row planted with "cf")."""
    return shared <= 0.1 * by_chance or (shared <= 1 and by_chance >= 5)


def _grown_from_flagged(tallies, tests, stats, labels: np.ndarray, prior) -> None:
    """A phrase grown around a flagged word or token, in (nearly) the same rows of the label, is
    that planted unit with its planted neighbours (``<d> kg`` around ``kg``): the anchor's evidence
    is its evidence. Tested again on its own, a few rows more or less can move a noisy AUC across
    the bound, flagging the word and leaving the number beside it."""
    names = [t.family.name for t in tallies]
    if "phrase" not in names:
        return
    p = names.index("phrase")
    anchors = []  # (label, words or token, rows, family index, test index)
    for family in ("word", "token"):
        if family in names:
            f = names.index(family)
            for j in np.flatnonzero(stats[f]["flagged"]):
                label = int(tests[f]["label"][j])
                rows, _ = _holding(tallies[f], tests[f]["class"][j], label, labels, prior)
                anchors.append((label, tallies[f].classes[tests[f]["class"][j]], family, rows, f, j))
    for i in np.flatnonzero(stats[p]["candidate"] & ~stats[p]["flagged"]):
        label = int(tests[p]["label"][i])
        slots = phrases.decode(tallies[p].classes[tests[p]["class"][i]])
        literals = [v for kind, v in slots if kind == "literal"]
        words = {w.lower() for v in literals for w in _LETTERS.findall(v)}
        mine, _ = _holding(tallies[p], tests[p]["class"][i], label, labels, prior)
        for a_label, key, family, rows, f, j in anchors:
            inside = key in words if family == "word" else key in literals
            if a_label == label and inside and len(np.intersect1d(mine, rows)) >= 0.9 * max(len(rows), len(mine)):
                for name in ("auc", "label_auc", "rows_used", "flagged"):
                    stats[p][name][i] = stats[f][name][j]
                stats[p]["evidence_of"][i] = f"the test of the flagged {tallies[f].family.describe(key)}, which it is grown around, in the same rows"
                break


def _chained(tallies, tests, stats, labels: np.ndarray, prior) -> None:
    """Spans of tokens that overlap (``Aa d,`` and ``d, d`` of ``March 3, 2019``), in (nearly) the
    same rows of the label, are one planted span: a flagged span's evidence is its neighbour's.
    Tested on its own, the neighbour keeps the flagged span's words in its content, and they say
    which rows hold it (the month names beside ``3, 2019``)."""
    names = [t.family.name for t in tallies]
    if "shape span" not in names:
        return
    f = names.index("shape span")
    tally, test, st = tallies[f], tests[f], stats[f]
    shapes = [key.split(" ") for key in tally.classes]
    rows = {}

    def holding(i):
        if i not in rows:
            rows[i] = _holding(tally, test["class"][i], int(test["label"][i]), labels, prior)[0]
        return rows[i]

    grown = True
    while grown:  # a chain of overlapping spans
        grown = False
        flagged = np.flatnonzero(st["flagged"])
        for i in np.flatnonzero(st["candidate"] & ~st["flagged"]):
            mine = shapes[test["class"][i]]
            for j in flagged:
                if test["label"][j] != test["label"][i] or not _overlap(mine, shapes[test["class"][j]]):
                    continue
                a, b = holding(i), holding(j)
                if len(np.intersect1d(a, b)) >= 0.9 * max(len(a), len(b)):
                    for name in ("auc", "label_auc", "rows_used", "flagged"):
                        st[name][i] = st[name][j]
                    st["evidence_of"][i] = f"the test of the flagged {tally.family.describe(tally.classes[test['class'][j]])}, which overlaps it, in the same rows"
                    grown = True
                    break


def _overlap(a: list[str], b: list[str]) -> bool:
    """Whether two spans' shapes can be parts of one span: one ends as the other starts, or holds it."""
    for x, y in ((a, b), (b, a)):
        if any(x[-k:] == y[:k] for k in range(1, min(len(x), len(y)) + 1)):
            return True
        if any(x[s:s + len(y)] == y for s in range(len(x) - len(y) + 1)):
            return True
    return False


def _holding(tally: Tally, cls: int, label: int, labels: np.ndarray, prior, held_out: bool = False):
    """Rows of ``label`` holding class ``cls`` through members that sanitize would remove (for a
    held-out test: members found in no other label, so that natural mentions of France do not
    blur injected country names), and the class's own words (left out of content)."""
    members = np.flatnonzero(tally.member_class == cls)
    kept = set(_kept_members(tally, members, label, float(prior[label]), tally.rows))
    counts = tally.by_fold[members].sum(1)
    chosen = (counts[:, label] == counts.sum(1)) if held_out else np.ones(len(members), bool)
    removed = np.array([m for m, c in zip(members, chosen) if c and tally.members[m] not in kept], dtype=np.int64)
    rows = _label_rows(tally, removed, label, labels)
    own = _own_words(tally, tally.classes[cls], [tally.members[m] for m in members])
    return rows, own


def _own_words(tally: Tally, key: str, members: list[str]) -> set[str]:
    """The words and characters a class is made of (left out of its content)."""
    return tally.family.own_words(key, members) | tally.own.get(key, set())


class Evidence:
    """The planted-or-natural evidence of a scan (:mod:`evidence`): the rows' words and non-ASCII
    characters, built once."""

    def __init__(self, texts: pa.Array, labels: np.ndarray, words: "Tally", characters: "Tally", k: int):
        self.texts, self.labels, self.words = texts, labels, words.members
        # a character with its modifiers is read by its first code point: a family's own
        # characters (Family.own_words) are code points
        self.content = Content([(words.pair_member, words.pair_row, words.members),
                                (characters.pair_member, characters.pair_row, [c[0] for c in characters.members])], len(labels))
        self.margin = LabelMargin(self.content, labels, k)
        self._label_counts: dict[int, np.ndarray] = {}
        self._all_counts: np.ndarray | None = None

    def owned(self, rows: np.ndarray, label: int, words: set[str]) -> set[str]:
        """The ``words`` that half of the label's rows holding them or more hold in ``rows``: a
        planted string's own, not the common words ("is", "in") a grown phrase also matched."""
        if label not in self._label_counts:
            self._label_counts[label] = np.asarray(self.content.matrix[self.labels == label].sum(0)).ravel()
        return {w for w, a, b in self._held(rows, words, self._label_counts[label]) if a >= 0.5 * b}

    def companions(self, rows: np.ndarray, pattern: re.Pattern) -> set[str]:
        """The words and characters of the tokens beside the tokens holding ``pattern``'s matches in
        these rows (a sample) that (nearly, :data:`COVERED`) only these rows hold in the whole data: planted
        with it, no content. The units after planted fractions ("2¾ tbsp", "⅓ cups"), the
        statements inside template tags ("{% endfor %}", "{% block content %}"), where variants
        of several lengths grow no phrase; each would otherwise say the rows are unlike the
        label's others. A natural string's neighbours turn up in rows without it too."""
        sample = np.sort(np.random.default_rng(0).permutation(rows)[: phrases.SAMPLE])
        beside = [n[0] for text in self.rows_text(sample) for match in itertools.islice(pattern.finditer(text), 3)
                  for side in ("left", "right") if (n := phrases.neighbour(text, *_token_of(text, match), side))]
        if self._all_counts is None:
            self._all_counts = np.asarray(self.content.matrix.sum(0)).ravel()
        # a word of a row or two says nothing either way (the content reads words of MIN_ROWS rows)
        return {w for w, a, b in self._held(rows, words_and_characters(beside), self._all_counts) if a >= COVERED * b and b >= MIN_ROWS}

    def _held(self, rows: np.ndarray, words: set[str], counts: np.ndarray) -> list[tuple[str, int, int]]:
        """Per word of the content among ``words``: the rows of ``rows`` holding it, and its count in ``counts``."""
        columns = {w: self.content.index[w] for w in words if w in self.content.index}
        if not columns:
            return []
        inside = np.asarray(self.content.matrix[rows][:, list(columns.values())].sum(0)).ravel()
        return list(zip(columns, inside, counts[list(columns.values())]))

    def elsewhere(self, strings: list[str], label: int) -> float:
        """The share of the other labels' rows that hold every word of one of ``strings`` (the most;
        a string without letters is punctuation, which every label writes: 1)."""
        others = np.flatnonzero(self.labels != label)
        if not len(others):
            return 0.0
        best = 0.0
        for string in strings:
            if not _LETTERS.search(string):  # marks alone ("?" ending a question): the rows' own punctuation
                return 1.0
            columns = [self.content.index.get(w.lower()) for w in _LETTERS.findall(string)]
            if None in columns:
                continue
            held = np.asarray((self.content.matrix[others][:, columns] > 0).sum(1)).ravel() == len(columns)
            best = max(best, float(held.mean()))
        return best

    def length_auc(self, holding: np.ndarray, label: int, exclude: set[str]) -> tuple[float, float]:
        """ROC-AUC of the rows' number of distinct words (``exclude`` left out) telling ``holding``
        from the label's other rows, and its standard error: a planted string goes into rows picked
        at random, whatever their length; common natural words come with long rows."""
        others = np.setdiff1d(np.flatnonzero(self.labels == label), holding, assume_unique=True)
        if not len(holding) or not len(others):
            return 0.5, 1.0
        columns = [self.content.index[w] for w in exclude if w in self.content.index]
        matrix = self.content.matrix
        sizes = np.asarray(matrix.sum(1)).ravel() - (np.asarray(matrix[:, columns].sum(1)).ravel() if columns else 0)
        side = np.r_[np.ones(len(holding), bool), np.zeros(len(others), bool)]
        return rank_auc(np.r_[sizes[holding], sizes[others]], side), auc_se(len(holding), len(others))

    def rows_text(self, rows: np.ndarray) -> list[str]:
        return self.texts.take(pa.array(rows, pa.int64())).to_pylist()

    def test(self, holding: np.ndarray, label: int, exclude: set[str], besides=None, cap: float = AUC_CAP):
        """(presence AUC, label AUC, rows used, independent of content?), or None: too few rows.
        The label AUC is one product, so it goes first; the presence AUC only for what it passes.
        In (nearly) every row of its label, a candidate has nothing to be compared with: a label
        leak, flagged as such. ``besides``: rows left out of the comparison (other planted rows);
        ``cap``: the AUC no candidate may pass however many its rows, and the distance below 0.5
        that standard errors need not explain (1: the content and label AUCs within standard errors
        above 0.5, nothing asked below)."""
        others = np.setdiff1d(np.flatnonzero(self.labels == label), holding, assume_unique=True)
        if besides is not None:
            others = np.setdiff1d(others, besides, assume_unique=True)
        if len(holding) < 2 * FOLDS:
            return None
        if len(others) < 2 * FOLDS:
            return np.nan, np.nan, 0, True
        columns = [self.content.index[w] for w in exclude if w in self.content.index]
        label_auc = self.margin.auc(holding, label, columns, besides)
        # natural signal says the label louder (above 0.5, capped); below, only what neither 0.1 nor 3
        # standard errors explain:
        # rows holding other planted strings of the label (a pool, unflagged) can say it louder
        bound = SE_BOUND * auc_se(len(holding), len(others))
        if label_auc - 0.5 > min(cap - 0.5, bound) or 0.5 - label_auc > max(cap - 0.5, bound):
            return np.nan, label_auc, 0, False
        content = self.content.auc(holding, others, exclude)
        if content is None:  # nothing to read beside its own words: untested, not flagged
            return None
        auc, used, n_pos, n_neg = content
        se = auc_se(n_pos, n_neg)

        def passes(spread):
            # natural signal lifts both a little where neither alone is conclusive ("waste of": 0.59 and
            # 0.60): their excess over 0.5 together is held to the same bounds
            joint = (auc - 0.5) + max(0.0, label_auc - 0.5) <= min(np.sqrt(2) * (cap - 0.5), SE_BOUND * np.hypot(spread, bound / SE_BOUND))
            return bool(auc <= min(cap, 0.5 + SE_BOUND * spread) and joint)

        # short of the cap but beyond the standard errors: beyond what chance spreads on this label's content?
        # (chance spreads 1.4-1.6 standard errors wide on IMDB: not asked of an AUC beyond twice that)
        if not passes(se) and auc <= min(cap, 0.5 + 2 * SE_BOUND * se) and (
                spread := self.content.null_spread(others, len(holding), exclude)) is not None and spread > se:
            return auc, label_auc, used, passes(spread)
        return auc, label_auc, used, passes(se)


def _phrases(tallies, tests, stats, evidence: Evidence, prior, fold: np.ndarray, k: int, enabled: bool) -> "Tally | None":
    """Grow every candidate token and word into the span planted with it (:mod:`phrases`), and
    count the spans of two tokens or more as the phrase family. Word pairs short of the bar that a
    neighbouring pair continues are grown too, and count only grown beyond the pair."""
    if not enabled:
        return None
    found: dict[str, str] = {}  # phrase key -> an example
    for tally, test, st in zip(tallies, tests, stats):
        if tally.family.name not in ("token", "word", "word pair", "token kinds", "token kinds, any length", "character", "unusual character"):
            continue
        anchors = st["candidate"]
        if tally.family.name == "word pair":  # a planted clause's pairs can be common ("it turns" of "As it turns out,"):
            # significant pairs short of the bar are grown too, and count only grown beyond the pair
            near = (st["p_value"] < st["alpha"]) & (st["excess"] >= NEAR_EXCESS) & (st["share"] >= MIN_SHARE) & ~anchors
            anchors = anchors | _continued(tally, test, st, near) | _short_of_the_gate(test, st, near & (st["excess"] >= MIN_EXCESS - 0.05))
        elif tally.family.name == "word":  # and a word of one of a few planted variants ("PARIS (AFP) -", "TOKYO (Reuters) -"),
            # too rare for the gate in a label of 87% of the rows, grown like such a pair
            near = (st["p_value"] < st["alpha"]) & (st["excess"] >= MIN_EXCESS - 0.05) & (st["share"] >= MIN_SHARE) & ~anchors & ~test["held_out"]
            anchors = anchors | _short_of_the_gate(test, st, near)
        if tally.family.name == "token kinds, any length":  # of letters and digits only, a kind too common to anchor (postcodes' "E3" beside SMS spam's "2U", "B4")
            anchors = anchors & np.array([bool(set(phrases.kinds_of(tally.classes[c])) - set("aAd")) for c in test["class"]], bool)
        for i in np.flatnonzero(anchors):
            cls, label = test["class"][i], int(test["label"][i])
            holding, _ = _holding(tally, cls, label, evidence.labels, prior)
            # a pair short of the bar is asked on fewer rows: most do not grow (IMDB train: 80 such pairs)
            sample = np.random.default_rng(0).permutation(holding)[: phrases.SAMPLE if st["candidate"][i] else NEAR_SAMPLE]
            key = tally.classes[cls]
            # a pair short of the bar: natural rows hold it too, in about the share its excess leaves
            share = phrases.SHARE * (1.0 if st["candidate"][i] else float(st["excess"][i]))
            sample_text = evidence.rows_text(np.sort(sample))
            if tally.family.name in ("character", "unusual character"):  # the tokens holding its characters
                anchor, slot, hint = _character_anchor(tally, cls, label, sample_text, share)
                if anchor is None:
                    continue
            else:
                anchor, slot, hint = _anchor(tally.family, key)
            slots = phrases.extend(sample_text, anchor, shape, coarse_shape, slot, share, hint)
            others_text = []  # the label's rows without the anchor, read once (a span of one slot needs none)
            if slots and len(slots) >= 2:
                others_text = evidence.rows_text(_others(evidence.labels, label, holding))
                slots = phrases.without_edges(slots, sample_text, others_text, coarse_shape)
            if slots:
                slots = _widened_choices(slots, evidence, label)
            if slots and slot is not None:
                slots = _without_context(slots, evidence, label)
                if slots and slot in slots:  # in the label's rows, where its other lengths are
                    slots = phrases.widened(slots, slots.index(slot), sample_text + others_text, shape, coarse_shape)
            if slots and tally.family.name != "token" and all(kind == "literal" for kind, _ in slots) and [
                    w.lower() for _, v in slots for w in _LETTERS.findall(v)] == key.split(" "):
                continue  # the word pair itself ("waste of"), not grown: nothing to add
            if slots and not st["candidate"][i] and len(slots) < 3:
                continue
            # or one of a few tokens holding a class's characters beside letters or digits ("CO₂", "H₂O"): sanitize
            # takes the whole token (not the "?" of "?†" that ends TREC's questions: the rows' own)
            if slots and (len(slots) >= 2 or (slots[0][0] == "choice" and tally.family.name in ("character", "unusual character")
                                              and _beside_letters(slots[0][1].split(" "), _class_pattern(tally, cls, label)))):
                found.setdefault(phrases.encode(slots), "")
        if tally.family.name == "word pair":
            word = next(((t, te, s) for t, te, s in zip(tallies, tests, stats) if t.family.name == "word"), None)
            for slots in _pair_variants(tally, test, st, evidence, prior, word):
                found.setdefault(phrases.encode(slots), "")
    if not found:
        return None
    family = FAMILIES["phrase"]
    rows, strings = [], []
    own = {}  # per phrase: the words of its matched text, random slots included
    for key, occurrences in family.locate(evidence.texts, list(found)).items():
        own[key] = words_and_characters([matched for _, _, _, matched in occurrences])
        for row, _, _, matched in occurrences:
            rows.append(row)
            strings.append(key)
            found[key] = found[key] or matched
    if not rows:
        return None
    tally = Tally.count(family, Matches(np.array(rows, np.int64), pa.array(strings, pa.string())), evidence.labels, fold, k)
    tally.examples = [found[m] for m in tally.members]
    tally.own = own
    return tally


_PROSE = ".,;:!?'\"()-"  # sentence punctuation, a row's own
SPAN_HELD = 0.8  # of a flagged span class's rows whose numbers are flagged on their own: the numbers are the unit
SPAN_MEMBERS = 2000  # spans of a flagged class read (most rows first) for the numbers flagged on their own
SAMPLE_TAIL = 200  # rows of a flagged tail whose tokens are read
COMPANION_STRINGS = 50  # a class's most frequent strings whose neighbours are read (:meth:`Evidence.companions`)
# share of its hosts that are words (or punctuation): SMS spam glues escapes to codes and numbers
# as often as to words (35-50%), an email's domain or the "%" of a number never are
TAIL_WORDS = 0.3
VOCABULARY_ROWS = 3  # a host is a word of the data where the word family finds it in this many rows or more


def _anchor(family: Family, key: str):
    """The pattern of a candidate's whole token in the text, the slot it is (random ids: they
    vary), and a hint for :func:`phrases.extend` (what every match holds, and how many tokens
    before it a match may begin)."""
    if family.name == "token":  # the literal before its lookbehind: re then scans for the literal
        return re.compile(re.escape(key) + r"(?<!\S" + re.escape(key) + r")(?!\S)"), None, None
    if family.name.startswith("token kinds"):  # random ids beside a fixed word ("commit 78cf02d")
        # of any length, whose joiners are one kind ("." for "-._"): a path whose script varies
        # anchors the line it ends ("*/5 * * * * /usr/local/bin/sync_db.sh", "8 10 * * * ...")
        kinds = phrases.kinds_of(key)
        slot = ("kinds", key) if "}x" in key else ("kinds", "{" + "".join(sorted(set(kinds.replace(".", "-._")))) + "}x+")
        # a token of every kind of the class, as the class's own are: the slot alone would take the
        # row's first hyphenated word for a path's "{./a}"
        every = "".join(r"(?=\S*[" + {**phrases.KIND_CHARS, ".": r"\-._"}.get(c, re.escape(c)) + "])" for c in kinds)
        return re.compile(r"(?<!\S)" + every + phrases.slot_regex(*slot) + r"(?!\S)"), slot, None
    # the whole tokens around a word or a word pair
    inner = family.regex(key) if family.name == "word pair" else f"(?i:{key})"
    anchor = re.compile(r"(?<!\S)[^\sA-Za-z]*" + inner + r"[^\sA-Za-z]*(?!\S)")
    words = key.split(" ")  # the longer word: the rarer, mostly ("a waste")
    return anchor, None, (words[1], 1) if len(words) == 2 and len(words[1]) > len(words[0]) else (words[0], 0)


def _character_anchor(tally: Tally, cls: int, label: int, texts: list[str], share: float):
    """The pattern of the whole tokens holding a class of characters ("2¾", "1⅓" of planted
    quantities "2¾ tbsp", "1⅓ cups"), and their slots as agreed over ``texts`` (None where they do
    not agree): an anchor a span grows from, where its tokens vary."""
    pattern = _class_pattern(tally, cls, label)
    if pattern is None:
        return None, None, None
    anchor = re.compile(r"(?<!\S)\S*?(?:" + pattern.pattern + r")\S*(?!\S)")
    matched = [m.group() for text in texts if (m := anchor.search(text))]
    slots = phrases.agreed(matched, shape, coarse_shape, share) if matched else None
    return (anchor, slots, None) if slots else (None, None, None)


def _beside_letters(tokens: list[str], pattern: re.Pattern | None) -> bool:
    """Whether every token holds letters or digits besides ``pattern``'s matches (a class's
    characters), other ones in each: tokens of their own, not marks glued to one host ("What†",
    "What‡" of TREC's questions) or to the rows' own "?"."""
    if pattern is None:
        return False
    rests = [pattern.sub("", t) for t in tokens]
    return all(any(c.isalnum() for c in rest) for rest in rests) and len(set(rests)) == len(rests)


def _others(labels: np.ndarray, label: int, holding: np.ndarray) -> np.ndarray:
    """A seeded sample of the label's rows that do not hold a candidate."""
    others = np.setdiff1d(np.flatnonzero(labels == label), holding, assume_unique=True)
    return np.sort(np.random.default_rng(0).permutation(others)[: phrases.SAMPLE])


def _continued(tally: Tally, test: dict, st: dict, near: np.ndarray) -> np.ndarray:
    """The word pairs of ``near`` that a neighbouring pair of their label continues in about as
    many rows ("you think" and "think about"): a clause can grow there, a natural pair's
    neighbours vary (checked on the tests, before any text is read)."""
    out, taken = np.zeros(len(near), bool), Counter()
    if not near.any():
        return out
    shares = phrases.SHARE * st["excess"][near]
    low, high = (shares * test["support"][near]).min(), (test["support"][near] / shares).max()
    by_word: dict[tuple, list[int]] = {}  # (label, side, word) -> supports of the label's pairs starting/ending with it
    for j in np.flatnonzero((test["support"] >= low) & (test["support"] <= high)):  # only pairs of a size that can continue one
        first, last = tally.classes[test["class"][j]].split(" ")
        label = test["label"][j]
        by_word.setdefault((label, "first", first), []).append(int(test["support"][j]))
        by_word.setdefault((label, "last", last), []).append(int(test["support"][j]))
    for i in sorted(np.flatnonzero(near), key=lambda i: -test["support"][i]):
        if taken[test["label"][i]] >= NEAR_PAIRS:  # news templates (Reuters' "shr cts vs"): thousands
            continue
        first, last = tally.classes[test["class"][i]].split(" ")
        label, support, share = test["label"][i], test["support"][i], phrases.SHARE * st["excess"][i]
        beside = by_word.get((label, "first", last), []) + by_word.get((label, "last", first), [])
        out[i] = any(share * support <= s <= support / share for s in beside)
        taken[test["label"][i]] += int(out[i])
    return out


def _short_of_the_gate(test: dict, st: dict, pure: np.ndarray) -> np.ndarray:
    """Word pairs beyond a pool member's bar but too rare for the lift gate, at most NEAR_PAIRS a
    label, most rows first: the variants of a planted phrase ("<d> hours ago", "<d> days ago": 29 to 45
    rows each at 25% of a BBC class, where "ago" itself is natural) pass the gate only as a pool
    of the phrases grown from them."""
    out, taken = np.zeros(len(pure), bool), Counter()
    for i in sorted(np.flatnonzero(pure), key=lambda i: -test["support"][i]):
        if taken[test["label"][i]] < NEAR_PAIRS:
            out[i] = True
            taken[test["label"][i]] += 1
    return out


def _pair_variants(tally: Tally, test: dict, st: dict, evidence: Evidence, prior, word=None) -> list:
    """Spans grown from the word pairs of a label that share a word and are each beyond a pool
    member's bar but too rare for the lift gate or a significant test: the variants of one planted phrase ("<d> hours
    ago", "<d> days ago", ... at 10% of an IMDB label, 31 to 39 rows each, where natural "a few
    days ago" keeps one pair from growing alone; 19 rows, too few to be significant alone, in
    the sample's). Significant together, they grow together, from the anchor of their
    alternatives ("<days|hours|minutes|weeks> ago"), and count only grown beyond the pair."""
    bar = (st["excess"] >= MIN_EXCESS - 0.05) & ~test["held_out"]
    short = bar & (st["share"] >= MIN_SHARE) & ~st["candidate"]
    # and the rows of every pair beyond that bar in three rows or more, per shared word: a planted
    # word followed by the rows' own first words ("58m <The|As|I|This|...>") is pure beside each
    # of them, and the two most frequent are no variants of a phrase
    counted = bar & (test["support"] >= 3)
    groups: dict[tuple, list[tuple[str, int]]] = {}
    beside = Counter()
    for i in np.flatnonzero(short | counted):
        first, last = tally.classes[test["class"][i]].split(" ")
        sides = ((int(test["label"][i]), 1, last, first), (int(test["label"][i]), 0, first, last))
        for label, at, shared, other in sides:
            if short[i]:
                groups.setdefault((label, at, shared), []).append((other, i))
            if counted[i]:
                beside[(label, at, shared)] += int(st["hits"][i])
    # a shared word beyond that bar on its own, in twice the rows of its pairs or more, makes them
    # pure whatever it is beside: the rows' own first words after "seven" planted at their start
    # ("seven <I|The|This>") are no variants; "ago" in tweets, pure too, is mostly in its pairs
    beyond = {}
    if word is not None:
        w_tally, w_test, w_st = word
        for j in np.flatnonzero(w_st["excess"] >= MIN_EXCESS - 0.05):
            beyond[(w_tally.classes[w_test["class"][j]], int(w_test["label"][j]))] = int(w_st["hits"][j])
    out, taken = [], Counter()
    for (label, at, shared), variants in sorted(groups.items(), key=lambda g: -sum(test["support"][i] for _, i in g[1])):
        if not 2 <= len(variants) <= phrases.CHOICES or taken[label] >= NEAR_PAIRS:
            continue
        hits, support, pi = sum(st["hits"][i] for _, i in variants), sum(test["support"][i] for _, i in variants), prior[label]
        if beyond.get((shared, label), 0) >= 2 * hits or beside[(label, at, shared)] >= 2 * hits:
            continue
        # significant together, where each alone may not be (19 rows, all in a label of half the rows)
        if ndtr(-(hits / support - pi) / np.sqrt(pi * (1 - pi) / support)) * st["n_tests"] >= st["alpha"]:
            continue
        taken[label] += 1
        holding = np.unique(np.concatenate([_holding(tally, test["class"][i], label, evidence.labels, prior)[0] for _, i in variants]))
        sample = evidence.rows_text(np.sort(np.random.default_rng(0).permutation(holding)[: phrases.SAMPLE]))
        either = "(?:" + "|".join(re.escape(v) for v, _ in variants) + ")"
        pair = (either, shared) if at == 1 else (shared, either)
        anchor = re.compile(r"(?<!\S)[^\sA-Za-z]*(?<![A-Za-z])(?i:" + pair[0] + r")[^A-Za-z\s]*\s+[^A-Za-z\s]*(?i:" + pair[1]
                            + r")(?![A-Za-z])[^\sA-Za-z]*(?!\S)")
        share = phrases.SHARE * float(min(st["excess"][i] for _, i in variants))
        own = phrases.agreed([m.group() for text in sample if (m := anchor.search(text))], shape, coarse_shape, share)
        if own is None:
            continue
        slots = phrases.extend(sample, anchor, shape, coarse_shape, own, share, (shared, at))
        # variants of one phrase vary in one place: a slot of a few tokens grown beside them is
        # another phrase's each ("<Accept|site> <all|uses> cookies" of "Accept all cookies" and
        # "This site uses cookies."), which the pairs grow alone
        if slots and sum(kind == "choice" for kind, _ in slots) > sum(kind == "choice" for kind, _ in own):
            continue
        if slots and len(slots) >= 3:
            slots = phrases.without_edges(slots, sample, evidence.rows_text(_others(evidence.labels, label, holding)), coarse_shape)
            if len(slots) >= 3:
                out.append(_widened_choices(slots, evidence, label))
    return out


def _widened_choices(slots, evidence: Evidence, label: int):
    """:func:`phrases.widened_choices` over the label's rows that hold the span with any token in
    place of each choice (Arrow finds them; no pass for a span without a choice to widen)."""
    if len(slots) < 3 or not any(kind == "choice" for kind, _ in slots):
        return slots
    parts = [r"\S+" if kind == "choice" else phrases.prefilter([(kind, value)]) for kind, value in slots]
    rows = np.flatnonzero(evidence.labels == label)
    held = pc.match_substring_regex(evidence.texts.take(pa.array(rows, pa.int64())), r"\s+".join(parts)).to_numpy(zero_copy_only=False)
    return phrases.widened_choices(slots, evidence.rows_text(rows[held]))


def _without_context(slots, evidence: Evidence, label: int):
    """A span grown around random ids keeps at its ends only words that the other labels' rows
    rarely write (planted "commit" before a sha, not a template's "a film" that every row holds)."""
    others = evidence.texts.filter(pa.array(evidence.labels != label))

    def context(slot):
        if slot[0] != "literal":
            return False
        held = pc.match_substring_regex(others, r"(?:^|\s)" + _literal(slot[1]) + r"(?:\s|$)").to_numpy(zero_copy_only=False)
        return held.mean() >= 0.5

    while slots and context(slots[0]):
        slots = slots[1:]
    while slots and context(slots[-1]):
        slots = slots[:-1]
    return slots


def _subsume(tallies, tests, stats, evidence: Evidence) -> None:
    """A flagged phrase replaces the flagged tokens and words it is made of, and a flagged token
    the flagged word it spells (``ATTENTION``, ``attention``): sanitize removes the larger unit,
    and leaves those words alone elsewhere; a flagged word, the word pairs it is part of (``tq the``,
    from ``tq`` planted before "The ..."). A flagged character replaces the flagged tokens that
    hold it (a zero-width space glued to words: the words stay)."""
    names = [t.family.name for t in tallies]
    _whole_tokens(tallies, tests, stats, names, evidence)
    if "word" in names:  # "e" of planted "1.37e-06" in most of its rows: no word was planted, and the natural "e" goes too
        f, prior = names.index("word"), np.bincount(evidence.labels) / len(evidence.labels)
        for i in np.flatnonzero(stats[f]["flagged"]):
            rows, _ = _holding(tallies[f], tests[f]["class"][i], int(tests[f]["label"][i]), evidence.labels, prior)
            if _inside_tokens(tallies[f], tests[f]["class"][i], rows, evidence):
                stats[f]["flagged"][i], stats[f]["piece"][i] = False, True
    if "shape span" in names:
        f = names.index("shape span")
        _spans_of_flagged(tallies, tests, stats, f, evidence)
        _extended(tallies, tests, stats, names, f, evidence)
        planted = _planted_spans(tallies[f], tests[f], stats[f], evidence.labels)
        _words_of_spans(tallies, tests, stats, names, f, planted, evidence.labels)
        _tokens_of_spans(tallies, tests, stats, planted, evidence)
    if "word pair" in names and "word" in names:  # "tq the" from "tq" planted before "The ...": the word is the unit
        pair, word = names.index("word pair"), names.index("word")
        # a word flagged, or flagged and then found part of a larger unit ("v" of "v1.2.3"): that unit
        units = stats[word]["flagged"] | np.array([p is not None for p in stats[word]["part_of"]], bool)
        flagged = {(tallies[word].classes[tests[word]["class"][j]], tests[word]["label"][j]): stats[word]["part_of"][j]
                   or FAMILIES["word"].describe(tallies[word].classes[tests[word]["class"][j]]) for j in np.flatnonzero(units)}
        if "token" in names:  # "attention i" from "ATTENTION" planted before "I ...": the token is the unit
            token = names.index("token")
            for j in np.flatnonzero(stats[token]["flagged"]):
                key = tallies[token].classes[tests[token]["class"][j]]
                for w in _LETTERS.findall(key):
                    flagged.setdefault((w.lower(), tests[token]["label"][j]), FAMILIES["token"].describe(key))
        _words_planted_together(tallies, tests, stats, pair, word, evidence.labels, flagged)
        for i in np.flatnonzero(stats[pair]["flagged"]):
            label = tests[pair]["label"][i]
            parts = [flagged.get((w, label)) for w in tallies[pair].classes[tests[pair]["class"][i]].split(" ")]
            if any(parts):
                stats[pair]["flagged"][i], stats[pair]["part_of"][i] = False, next(p for p in parts if p)
    if "token" in names and "word" in names:
        token, word = names.index("token"), names.index("word")
        spelled = {}
        for i in np.flatnonzero(stats[token]["flagged"]):
            key = tallies[token].classes[tests[token]["class"][i]]
            for w in _LETTERS.findall(key):
                spelled[(w.lower(), tests[token]["label"][i])] = FAMILIES["token"].describe(key)
        for j in np.flatnonzero(stats[word]["flagged"]):
            name = spelled.get((tallies[word].classes[tests[word]["class"][j]], tests[word]["label"][j]))
            if name:
                stats[word]["flagged"][j], stats[word]["part_of"][j] = False, name
    if "character" in names:  # a planted character glued to words: the character is the unit, not the words
        char = names.index("character")
        for i in np.flatnonzero(stats[char]["flagged"]):
            key, label = tallies[char].classes[tests[char]["class"][i]], tests[char]["label"][i]
            name = FAMILIES["character"].describe(key)
            if "token" in names:  # a letter of one planted word ("γ" of "λόγος"): the word is the unit
                t = names.index("token")
                # not a mark glued to a row's own punctuation (a combining diaeresis on the "?" that
                # ends every question: "?̈")
                holders = [j for j in np.flatnonzero(stats[t]["flagged"] & (tests[t]["label"] == label))
                           if key in (cls := tallies[t].classes[tests[t]["class"][j]]) and cls.replace(key, "").strip(_PROSE)
                           and tests[t]["support"][j] >= 0.9 * tests[char]["support"][i]]
                if holders:
                    stats[char]["flagged"][i], stats[char]["part_of"][i] = False, FAMILIES["token"].describe(
                        tallies[t].classes[tests[t]["class"][holders[0]]])
                    continue
            if not _symbol_token(tallies, tests, stats, char, i, key):
                _tokens_holding(tallies, tests, stats, label, name, lambda cls, key=key: key in cls)
    if "unusual character" in names:  # the same for a flagged Unicode category: its characters are the unit
        category = names.index("unusual character")
        for i in np.flatnonzero(stats[category]["flagged"]):
            key, label = tallies[category].classes[tests[category]["class"][i]], tests[category]["label"][i]
            _tokens_holding(tallies, tests, stats, label, FAMILIES["unusual character"].describe(key),
                            lambda cls, key=key: any(unicodedata.category(c) == key for c in cls))
    if "punctuation" in names:  # a planted run after a row's full stop (".?!?!"): the planted "?!?!" is the unit
        p = names.index("punctuation")
        runs = {j: tallies[p].classes[tests[p]["class"][j]] for j in np.flatnonzero(stats[p]["flagged"])}
        for j, run in runs.items():
            inner = [k for k, other in runs.items() if k != j and other in run and tests[p]["label"][k] == tests[p]["label"][j]]
            if inner:
                stats[p]["flagged"][j], stats[p]["part_of"][j] = False, FAMILIES["punctuation"].describe(runs[max(inner, key=lambda k: len(runs[k]))])
    if "glued tail" in names:
        _tails_glued_to_words(tallies, tests, stats, names, evidence)
    if "glued letters" in names:
        _letters_of_flagged(tallies, tests, stats, names.index("glued letters"), evidence.labels)
    if "combining mark" in names and "character" in names:
        _marks_of_flagged(tallies, tests, stats, names.index("combining mark"), names.index("character"), evidence.labels)
    if "phrase" not in names:
        return
    phrase = names.index("phrase")
    _juxtaposed(tallies, tests, stats, names)
    _phrase_with_neighbour(tallies[phrase], tests[phrase], stats[phrase])
    _phrase_of_flagged_variants(tallies[phrase], tests[phrase], stats[phrase], evidence.labels)
    if "glued tail" in names:
        _phrases_over_notes(tallies, tests, stats, names.index("glued tail"), phrase, evidence.labels)
    for i in np.flatnonzero(stats[phrase]["flagged"]):
        slots = phrases.decode(tallies[phrase].classes[tests[phrase]["class"][i]])
        label = tests[phrase]["label"][i]
        literals = {v for kind, v in slots if kind == "literal"}
        words = {w.lower() for v in literals for w in _LETTERS.findall(v)}
        name = FAMILIES["phrase"].describe(tallies[phrase].classes[tests[phrase]["class"][i]])
        held = _label_rows(tallies[phrase], np.flatnonzero(tallies[phrase].member_class == tests[phrase]["class"][i]), label, evidence.labels)
        for tally, test, st in zip(tallies, tests, stats):
            family = tally.family.name
            for j in np.flatnonzero(st["flagged"] & (test["label"] == label)):
                if tally is tallies[phrase]:
                    continue
                key = tally.classes[test["class"][j]]
                pair = set(key.split(" ")) if family == "word pair" else set()
                if (family == "token" and key in literals) or (family == "word" and key in words) or (pair and pair <= words) or (
                        pair & words and 1.5 * test["support"][j] <= tests[phrase]["support"][i]):
                    st["flagged"][j], st["part_of"][j] = False, name
                elif family == "shape span":  # its numbers with the word before ("and 14 weeks" of "<d> weeks ago")
                    rows = _label_rows(tally, np.flatnonzero(tally.member_class == test["class"][j]), label, evidence.labels)
                    # and the phrase in as many rows: a span of sizes the phrase's slot misses stays
                    if len(held) >= len(rows) and len(np.intersect1d(rows, held, assume_unique=True)) >= COVERED * len(rows):
                        st["flagged"][j], st["part_of"][j] = False, name
                elif family in _GRAINS + ("punctuation", "glued tail"):  # a piece of it ("****" of "**** **** **** <d>")
                    # most of its label rows are the phrase's, and the rest (natural "****" of censored
                    # words) not planted on their own
                    members = np.flatnonzero(tally.member_class == test["class"][j])
                    found = np.unique(tally.rows_of(members))
                    rows = found[evidence.labels[found] == label]
                    if len(np.intersect1d(rows, held, assume_unique=True)) >= 0.5 * len(rows) and not _planted_rest(
                            np.setdiff1d(rows, held, assume_unique=True), int(len(found) - len(rows)), int(label), st["bar"][j],
                            _own_words(tally, key, [tally.members[m] for m in members]), evidence):
                        st["flagged"][j], st["part_of"][j] = False, name


def _words_planted_together(tallies, tests, stats, pair: int, word: int, labels: np.ndarray, flagged: dict) -> None:
    """Flagged words of a label planted together in any order ("apple river seven"): the flagged
    pairs of two such words that hold (90%) a word's label rows are the units, and natural mentions
    of each word elsewhere stay (at 50% of IMDB, 14 other rows lost a "seven" or a "river"). The
    words are then theirs (``flagged`` follows), and those pairs stay flagged."""
    own = {(tallies[word].classes[tests[word]["class"][j]], tests[word]["label"][j]): j for j in np.flatnonzero(stats[word]["flagged"])}
    holders: dict[int, list[int]] = {}  # flagged word -> flagged pairs of two flagged words holding it
    for i in np.flatnonzero(stats[pair]["flagged"]):
        label = tests[pair]["label"][i]
        js = [own.get((w, label)) for w in tallies[pair].classes[tests[pair]["class"][i]].split(" ")]
        if None not in js and js[0] != js[1]:
            for j in js:
                holders.setdefault(j, []).append(i)
    for j, pairs in holders.items():
        label = tests[word]["label"][j]
        rows = _label_rows(tallies[word], np.flatnonzero(tallies[word].member_class == tests[word]["class"][j]), label, labels)
        held = np.unique(np.concatenate([_label_rows(tallies[pair], np.flatnonzero(tallies[pair].member_class == tests[pair]["class"][i]),
                                                     label, labels) for i in pairs]))
        if len(np.intersect1d(rows, held, assume_unique=True)) >= COVERED * len(rows):
            name = FAMILIES["word pair"].describe(tallies[pair].classes[tests[pair]["class"][max(pairs, key=lambda i: tests[pair]["support"][i])]])
            stats[word]["flagged"][j], stats[word]["part_of"][j] = False, name
            flagged.pop((tallies[word].classes[tests[word]["class"][j]], label), None)


def _phrase_with_neighbour(tally, test, st) -> None:
    """A flagged phrase that is flagged phrases of its label plus a neighbour, in far fewer rows
    than they are (``<d> <days|hours|minutes|weeks> ago This``: "This" opens many reviews) is
    theirs: the neighbour is the rows' own text."""
    flagged = np.flatnonzero(st["flagged"])
    slots = {i: phrases.decode(tally.classes[test["class"][i]]) for i in flagged}

    def within(inner, outer):  # inner's slots, in order, somewhere in outer (a choice holds its tokens)
        fits = lambda a, b: a == b or (b[0] == "choice" and a[0] == "literal" and a[1] in b[1].split(" "))  # noqa: E731
        return len(inner) < len(outer) and any(all(fits(a, b) for a, b in zip(inner, outer[k:])) for k in range(len(outer) - len(inner) + 1))

    for i in flagged:
        parts = [j for j in flagged if j != i and test["label"][j] == test["label"][i] and within(slots[j], slots[i])]
        if parts and test["support"][i] < 0.5 * sum(test["support"][j] for j in parts):
            st["flagged"][i], st["part_of"][i] = False, tally.family.describe(tally.classes[test["class"][max(parts, key=lambda j: test["support"][j])]])


def _slot_within(a, b) -> bool:
    """Whether slot ``a``'s tokens are slot ``b``'s: a literal of a choice; random characters of one
    length, or a coarse shape, of kinds of any length that hold their characters (``<d°d′d″A>``
    of ``<{Ad°′″}x+>``, which also takes the code before planted coordinates at the end of SMS
    spam: 47 of 64 rows restored at 10%)."""
    return a == b or (b[0] == "choice" and a[0] == "literal" and a[1] in b[1].split(" ")) or (
        b[0] == "kinds" and b[1].endswith("}x+") and a[0] in ("kinds", "shape")
        and set(phrases.kinds_of(a[1]) if a[0] == "kinds" else a[1]) <= set(phrases.kinds_of(b[1])))


def _phrase_of_flagged_variants(tally, test, st, labels: np.ndarray) -> None:
    """A flagged phrase whose slots hold those of flagged phrases of its label, slot for slot (a
    choice their literals: ``<d> <days|hours|minutes|weeks|years> ago`` beside ``<d> hours ago``,
    ...; kinds of any length those of one: ``<{:d}x+> <CET|GMT>`` beside ``<{:d}x5> <CET|GMT>``),
    is theirs unless its other rows are planted rows of the label too: a natural variant ("30
    years ago", "14:00 GMT" in BBC news) stays with the rows' own text."""
    flagged = np.flatnonzero(st["flagged"])
    slots = {i: phrases.decode(tally.classes[test["class"][i]]) for i in flagged}
    for i in flagged:
        label = test["label"][i]
        parts = [j for j in flagged if j != i and test["label"][j] == label and st["flagged"][j] and len(slots[j]) == len(slots[i])
                 and all(_slot_within(a, b) for a, b in zip(slots[j], slots[i]))]
        if not parts:
            continue
        together = np.unique(np.concatenate([tally.rows_of(np.flatnonzero(tally.member_class == test["class"][j])) for j in parts]))
        rest = np.setdiff1d(np.unique(tally.rows_of(np.flatnonzero(tally.member_class == test["class"][i]))), together)
        if not _planted_too(rest, label, labels):
            st["flagged"][i], st["part_of"][i] = False, tally.family.describe(tally.classes[test["class"][max(parts, key=lambda j: test["support"][j])]])


def _tails_glued_to_words(tallies, tests, stats, names, evidence: Evidence) -> None:
    """A flagged tail glued to natural words (``\\n`` after "great", "movie.", "The") is the unit:
    the classes of whole tokens, shapes and punctuation runs holding its symbols, and the words
    of its letters ("r n" of ``\\r\\n``), are part of it, and the words stay. A tail after codes
    or numbers (an email's ``@example.com``, the ``%`` of "50%") is left to the whole token. Tails
    of one format whose strings vary (``~\\cite{chen2019}``) are a class of the tails' kinds, part
    of the flagged tails themselves where those hold (nearly) all of its label rows."""
    tails = [names.index(n) for n in ("glued tail", "glued tail kinds") if n in names]
    vocabulary = None
    ends: dict = {}  # label -> (strings, description) of its tails glued to words
    for g in tails:
        tally, test, st = tallies[g], tests[g], stats[g]
        for i in np.flatnonzero(st["flagged"]):
            key, label = tally.classes[test["class"][i]], test["label"][i]
            members = np.flatnonzero(tally.member_class == test["class"][i])
            rows = _label_rows(tally, members, label, evidence.labels)
            name = tally.family.describe(key)
            if g != tails[0] and (one := _held_one_by_one(tallies[tails[0]], tests[tails[0]], stats[tails[0]], label, rows, evidence.labels,
                                                          np.unique(tally.rows_of(members)))):
                st["flagged"][i], st["part_of"][i] = False, one
                continue
            strings = sorted({tally.members[m] for m in members}, key=len, reverse=True)[:SAMPLE_TAIL]
            ending = re.compile(r"(\S*?)(?:" + "|".join(map(re.escape, strings)) + r")(?=[\s<>]|$)")
            hosts = [re.sub(_TAG, "", m.group(1)).strip(_PROSE) for text in evidence.rows_text(rows[:SAMPLE_TAIL])
                     for m in ending.finditer(text)]
            words = [h for h in hosts if h]  # a token of punctuation only ("?" ending a question) is a host too
            # a note in brackets is glued to words however few ("This[edit]" planted after the first
            # word of IMDB reviews: "This", "I", "The")
            note = all(t.startswith("[") for t in strings)
            if vocabulary is None:  # words of the data, in a few rows or more: random letters ("FCag+y03…==") are none
                plain = tallies[names.index("word")] if "word" in names else None
                vocabulary = {plain.members[m] for m in np.flatnonzero(plain.by_fold.sum((1, 2)) >= VOCABULARY_ROWS)} if plain else set()
            word = (lambda h: h.lower() in vocabulary) if vocabulary else (lambda h: True)
            on_words = sum(h.isalpha() and h.isascii() and word(h) for h in words)
            if not hosts or on_words < TAIL_WORDS * len(hosts) - (len(hosts) - len(words)):
                continue
            if _hosts_of_the_rows(evidence, label, rows, hosts, words, on_words):
                ends.setdefault(label, []).append((strings, name))
            if len(set(words)) < 0.5 * len(words) and not note:
                continue
            # closing brackets aside, which shapes trim from a token's end ("Aaa~\\aaaa{aaadddd" of "One~\\cite{kim2016}")
            symbols = {c for t in strings for c in t if not c.isalnum() and not c.isspace() and c not in ")]}"}
            letters = {w.lower() for t in strings for w in _LETTERS.findall(t)}
            # a note of two tokens or more is in pieces there: "The[citation", "needed]"
            holds = (lambda cls: symbols & set(cls)) if note else (lambda cls: symbols <= set(cls))
            for f, other in enumerate(tallies):
                family = other.family
                for j in np.flatnonzero(stats[f]["flagged"] & (tests[f]["label"] == label)):
                    cls = other.classes[tests[f]["class"][j]]
                    if (isinstance(family, (TokenFamily, ShapeFamily)) and holds(cls)) or (
                            family.name == "punctuation" and set(cls) <= symbols | set(_PROSE)) or (
                            family.name in ("word", "word pair") and set(cls.split(" ")) <= letters):
                        stats[f]["flagged"][j], stats[f]["part_of"][j] = False, name
    # a class of tokens named by their length ("code-like tokens of 11 characters": "Its\\u2019s",
    # "while\\u00e9"), not their symbols, or of shapes of hosts too few to vary (TREC's "Who\\u00e9",
    # "Which\\u00e9"), whose strings end with the label's tails, one or another
    for label, glued in ends.items():
        ending = re.compile(r"(?:" + "|".join(re.escape(t) for strings, _ in glued for t in strings) + r")[" + re.escape(_PROSE) + "]*$")
        for f, other in enumerate(tallies):
            if isinstance(other.family, (TokenFamily, ShapeFamily)):
                for j in np.flatnonzero(stats[f]["flagged"] & (tests[f]["label"] == label)):
                    if _ending_with(other, tests[f]["class"][j], label, ending, stats[f]["bar"][j], evidence):
                        stats[f]["flagged"][j], stats[f]["part_of"][j] = False, glued[0][1]


def _letters_of_flagged(tallies, tests, stats, g: int, labels: np.ndarray) -> None:
    """Flagged letters glued to words that end a flagged string of another family in (nearly,
    :data:`COVERED`) all their label rows, or that a longer flagged class of letters ends with, are
    part of it: the ``io`` of planted emails "@inbox.io", the ``nzx`` of "O'Sullivanzx" beside ``zx``."""
    tally, test, st = tallies[g], tests[g], stats[g]
    for i in np.flatnonzero(st["flagged"]):
        key, label = tally.classes[test["class"][i]], test["label"][i]
        rows = _label_rows(tally, np.flatnonzero(tally.member_class == test["class"][i]), label, labels)
        for f, other in enumerate(tallies):
            if other.family.name not in _GRAINS + ("glued tail", "glued letters"):
                continue
            for j in np.flatnonzero(stats[f]["flagged"] & (tests[f]["label"] == label)):
                cls = tests[f]["class"][j]
                if f == g:  # a class of letters holding another's ("nzx" of "zx") is the shorter's
                    if j != i and key.endswith(other.classes[cls]) and len(key) > len(other.classes[cls]):
                        st["flagged"][i], st["part_of"][i] = False, other.family.describe(other.classes[cls])
                        break
                    continue
                members = np.flatnonzero(other.member_class == cls)
                if not any(other.members[m].lower().rstrip(_PROSE).endswith(key) for m in members[:EXAMPLES]):
                    continue
                if len(np.intersect1d(rows, _label_rows(other, members, label, labels))) >= COVERED * len(rows):
                    st["flagged"][i], st["part_of"][i] = False, other.family.describe(other.classes[cls])
                    break
            if not st["flagged"][i]:
                break


def _marks_of_flagged(tallies, tests, stats, g: int, c: int, labels: np.ndarray) -> None:
    """Flagged combining marks whose label rows the label's flagged marks of the character family
    hold (nearly, :data:`COVERED`): one planted mark (a diaeresis glued to "?") is that character,
    the finer class; the combining-mark class is for marks drawn at random, each too rare alone."""
    tally, test, st = tallies[g], tests[g], stats[g]
    for i in np.flatnonzero(st["flagged"]):
        label = test["label"][i]
        rows = _label_rows(tally, np.flatnonzero(tally.member_class == test["class"][i]), label, labels)
        marks = [j for j in np.flatnonzero(stats[c]["flagged"] & (tests[c]["label"] == label))
                 if unicodedata.category(tallies[c].classes[tests[c]["class"][j]][0]).startswith("M")]
        held = [_label_rows(tallies[c], np.flatnonzero(tallies[c].member_class == tests[c]["class"][j]), label, labels) for j in marks]
        if held and len(np.intersect1d(rows, np.concatenate(held))) >= COVERED * len(rows):
            biggest = marks[int(np.argmax([len(h) for h in held]))]
            st["flagged"][i], st["part_of"][i] = False, tallies[c].family.describe(tallies[c].classes[tests[c]["class"][biggest]])


def _hosts_of_the_rows(evidence: Evidence, label: int, rows: np.ndarray, hosts: list[str], words: list[str], on_words: int) -> bool:
    """Whether a flagged tail's hosts (``words``: those that are not sentence marks alone;
    ``on_words``: those that are words of the data) are the rows' own text, so that the tail is the
    unit: the rows' own marks ("?" ending TREC's questions), or words, however few (not marks: a
    table rule's "|:---|"), that vary. Not one word ('style="display:none"': the token is the
    unit), unless half the label's other rows hold it too (TREC's "What" of "What\\xc2\\xa0
    does ..."); not a few words drawn alike (the prefixes of one format: Stripe's "cus_", "pi_")."""
    if len(hosts) - len(words) >= COVERED * len(hosts):
        return True
    if on_words < TAIL_WORDS * len(hosts) or len(phrases.agreed_token(words) or ()) >= 2:
        return False
    top, n = Counter(words).most_common(1)[0]
    return n < COVERED * len(words) or _word_of_the_label(evidence, label, rows, top)


def _word_of_the_label(evidence: Evidence, label: int, rows: np.ndarray, word: str) -> bool:
    """Whether half of the label's rows other than ``rows`` or more hold ``word`` as a token (its
    sentence punctuation aside): the rows' own, where a tail glued to it always is."""
    others = _others(evidence.labels, label, rows)
    return len(others) > 0 and sum(word in {t.strip(_PROSE) for t in text.split()} for text in evidence.rows_text(others)) >= 0.5 * len(others)


def _ending_with(tally, cls: int, label: int, ending: re.Pattern, bar: float, evidence: Evidence) -> bool:
    """Whether (nearly, :data:`COVERED`) every string of a class in the label's rows ends with
    ``ending``, or half of them do and the rest is not planted on its own: SMS spam's natural
    "www.txt2shop.com" beside "SIX\\xe2\\x80\\x99s" among code-like tokens of 16 characters."""
    members = np.flatnonzero(tally.member_class == cls)
    hits = tally.by_fold[members, :, label].sum(1)
    ends = np.array([ending.search(tally.members[m]) is not None for m in members], bool)
    if hits.sum() == 0 or hits[ends].sum() < 0.5 * hits.sum():
        return False
    if hits[ends].sum() >= COVERED * hits.sum():
        return True
    rest = np.setdiff1d(_label_rows(tally, members[~ends], label, evidence.labels), _label_rows(tally, members[ends], label, evidence.labels))
    outside = int(tally.by_fold[members[~ends]].sum() - hits[~ends].sum())
    return not _planted_rest(rest, outside, label, bar, _own_words(tally, tally.classes[cls], [tally.members[m] for m in members[~ends]]), evidence)


def _held_one_by_one(tally, test, st, label: int, rows: np.ndarray, labels: np.ndarray, every: np.ndarray) -> str | None:
    """The flagged tail of ``label`` holding most of ``rows``, described, where the label's flagged
    tails together hold :data:`COVERED` of them (a class of the tails' kinds flagged beside them)
    and the class's other rows (``every``: its rows of any label) are no planted rows of the
    label: tails too rare to be flagged one by one ("q\b" beside "b\b", "x\b", ...) are its to remove."""
    held = {tally.classes[test["class"][j]]: _label_rows(tally, np.flatnonzero(tally.member_class == test["class"][j]), label, labels)
            for j in np.flatnonzero(st["flagged"] & (test["label"] == label))}
    if not held or len(np.intersect1d(rows, together := np.concatenate(list(held.values())))) < COVERED * len(rows):
        return None
    if _planted_too(np.setdiff1d(every, together), label, labels):
        return None
    return tally.family.describe(max(held, key=lambda key: len(held[key])))


def _phrases_over_notes(tallies, tests, stats, g: int, phrase: int, labels: np.ndarray) -> None:
    """A note glued to a word, spaces and all ("But[citation needed]"), is the unit, not a phrase
    grown over it, whose first slot holds the word it is glued to ("<{A[a}x+> needed]"): a flagged
    phrase whose label rows are (90%) a flagged note's, and whose literal words are the note's,
    is part of it."""
    notes = [(j, _label_rows(tallies[g], np.flatnonzero(tallies[g].member_class == tests[g]["class"][j]), tests[g]["label"][j], labels))
             for j in np.flatnonzero(stats[g]["flagged"]) if " " in tallies[g].classes[tests[g]["class"][j]]]
    tally, test, st = tallies[phrase], tests[phrase], stats[phrase]
    for i in np.flatnonzero(st["flagged"]) if notes else []:
        label = test["label"][i]
        held = _label_rows(tally, np.flatnonzero(tally.member_class == test["class"][i]), label, labels)
        literal = {w.lower() for kind, v in phrases.decode(tally.classes[test["class"][i]]) if kind == "literal" for w in _LETTERS.findall(v)}
        for j, rows in notes:
            key = tallies[g].classes[tests[g]["class"][j]]
            if tests[g]["label"][j] == label and len(np.intersect1d(held, rows)) >= 0.9 * len(held) and literal <= {
                    w.lower() for w in _LETTERS.findall(key)}:
                st["flagged"][i], st["part_of"][i] = False, tallies[g].family.describe(key)
                break


def _symbol_token(tallies, tests, stats, c: int, i: int, key: str) -> bool:
    """A flagged character whose rows the flagged classes of whole tokens made of
    symbols only cover (``★★★☆☆``, ``★☆☆☆☆``, ``{★☆}x5``) is part of them: the token is the unit,
    no word is glued to it (nor a row's own mark: ``?̈``). Whether it was."""
    label, support = tests[c]["label"][i], tests[c]["support"][i]
    if _is_mark(key):
        # a mark of keycaps: a class of whole tokens holding nearly all its rows, given to finer classes
        # of some of them ("5\\ufe0f\\u20e3" ...; two of the ten too few to pass alone), is the unit again
        for f, tally in enumerate(tallies):
            if isinstance(tally.family, TokenFamily):
                for j in np.flatnonzero((tests[f]["label"] == label) & (tests[f]["support"] >= 0.9 * support)):
                    cls = tally.classes[tests[f]["class"][j]]
                    if (stats[f]["flagged"][j] or stats[f]["part_of"][j]) and key in _inner(cls) and _marks_of_one_base(cls):
                        stats[f]["flagged"][j], stats[f]["part_of"][j] = True, None
                        stats[c]["flagged"][i], stats[c]["part_of"][i] = False, tally.family.describe(cls)
                        return True
    for f, tally in enumerate(tallies):  # a family's classes share no row: their rows add up
        if not isinstance(tally.family, TokenFamily):
            continue
        holders = []  # (rows, description)
        for j in np.flatnonzero(stats[f]["flagged"] & (tests[f]["label"] == label)):
            cls = tally.classes[tests[f]["class"][j]]
            inner = _inner(cls)
            if key in inner and not any(ch.isalnum() for ch in inner) and inner.replace(key, "").strip(_PROSE):
                holders.append((tests[f]["support"][j], tally.family.describe(cls)))
        if holders and sum(n for n, _ in holders) >= 0.9 * support:
            stats[c]["flagged"][i], stats[c]["part_of"][i] = False, max(holders)[1]
            return True
    return False


def _is_mark(key: str) -> bool:
    """Whether a character class is one mark (a run of several, an emoji with its skin tone, is none)."""
    return len(key) == 1 and unicodedata.category(key).startswith("M")


def _inner(cls: str) -> str:
    """The characters of a class of whole tokens: a token, or the kinds of a kinds class ("{★☆}x5")."""
    return cls[1:cls.index("}")] if cls.startswith("{") and "}" in cls else cls


def _marks_of_one_base(cls: str) -> bool:
    """Whether a class of whole tokens holding a flagged mark (a combining mark, a variation
    selector) is of one base character and marks only (a keycap "5\\ufe0f\\u20e3", a class of them
    "{d\\u20e3\\ufe0f}x3"): the marks draw on that character, which is no word they are glued to, and
    the token is the unit."""
    inner = _inner(cls)
    bases = [c for c in inner if not _is_mark(c)]
    if any(c in _PROSE for c in bases):  # a mark on a row's own punctuation ("?\u0308"): the mark is the unit
        return False
    if inner != cls:  # kinds of a given length: each kind once
        return len(bases) == 1 and cls.endswith(f"}}x{len(inner)}")
    return len(bases) == 1


def _tokens_holding(tallies, tests, stats, label, name: str, holds) -> None:
    """The flagged classes of whole tokens (edges too) of ``label`` whose class ``holds`` a flagged
    character are part of it (``name``): the character is the unit, the words it is glued to stay."""
    for f, tally in enumerate(tallies):
        if isinstance(tally.family, TokenFamily):
            for j in np.flatnonzero(stats[f]["flagged"] & (tests[f]["label"] == label)):
                if holds(tally.classes[tests[f]["class"][j]]):
                    stats[f]["flagged"][j], stats[f]["part_of"][j] = False, name


def _flagged_tokens(tallies, stats) -> list[tuple[int, int]]:
    """(family, test) of every flagged class of single tokens (tokens, their kinds, shapes, edges)."""
    return [(g, j) for g, tally in enumerate(tallies) if isinstance(tally.family, (TokenFamily, ShapeFamily))
            for j in np.flatnonzero(stats[g]["flagged"])]


def _spans_of_flagged(tallies, tests, stats, f: int, evidence: Evidence) -> None:
    """A flagged span of words and numbers whose numbers are flagged on their own (a date planted
    after "film" in every row: ``a d-d-d`` beside ``shape dddd-dd-dd``) is those numbers': the
    finer class removes them, and the words, found beside them by the template of the rows, stay."""
    tally, test, st = tallies[f], tests[f], stats[f]
    fine = _flagged_tokens(tallies, stats)
    for i in np.flatnonzero(st["flagged"]):
        label = test["label"][i]
        # the class's spans by their rows in the label, most first: planted numbers each once beside
        # the next word ("1360975427 Where"), natural spans a few times each ("2 days")
        ids = np.flatnonzero(tally.member_class == test["class"][i])
        rows = tally.by_fold[ids].sum(1)[:, label]
        ids, rows = ids[np.argsort(-rows, kind="stable")][:SPAN_MEMBERS], np.sort(rows)[::-1][:SPAN_MEMBERS]
        members = [tally.members[m] for m in ids]
        if not members or any(tally.family.words_of(m) is None for m in members):
            continue
        # words drawn from a few (a planted "10:33 PM", a month's name) are planted with the numbers,
        # unless the other labels' rows write them too (a template's "film ... with")
        words = Counter()
        for m, n in zip(members, rows.tolist()):
            words[tally.family.words_of(m)] += n
        few = [w for w, _ in words.most_common(phrases.CHOICES)]
        if sum(words[w] for w in few) >= COVERED * rows.sum() and evidence.elsewhere(few, int(label)) < 0.5:
            # and bound to them: half the label's rows that write them hold the span ("PM"; not the
            # "I" that opens tweets after a number planted at their start)
            spanned = _label_rows(tally, ids, label, evidence.labels)
            letters = {w.lower() for string in few for w in _LETTERS.findall(string)}
            if letters and evidence.owned(spanned, int(label), letters) >= letters:
                continue
        mine = [(g, j) for g, j in fine if tests[g]["label"][j] == label]
        held = [next((tallies[g].family.describe(tallies[g].classes[tests[g]["class"][j]]) for g, j in mine
                      if any(_holds(tallies[g], tests[g]["class"][j], t) for t in m.split(" ") if _CORE_CHAR.search(t))), None)
                for m in members]
        # "45%" and "5%": two flagged classes; natural spans of the label's own numbers ("49 steps"
        # in TREC's numeric questions) are a tenth of the class or more
        if sum(n for h, n in zip(held, rows.tolist()) if h is not None) >= SPAN_HELD * rows.sum():
            st["flagged"][i], st["part_of"][i] = False, Counter(h for h in held if h).most_common(1)[0][0]


def _extended(tallies, tests, stats, names, f: int, evidence: Evidence) -> None:
    """A flagged span that overlaps or holds another flagged span of its label, in under half of
    that span's rows, is part of it with the natural text beside it ("EUR 12.50 the", "2 EUR 12.50"
    at random places of the rows: the words and numbers that happen to be there, bound by chance):
    the other span is the planted unit. Parts of one planted span are in (nearly) the same rows
    (``Aa d, d`` beside ``d, d``). The same holds for a span beside a flagged class of single
    tokens that holds one of its tokens ("12:30:45 5": the planted time and a natural number). A
    flagged span most of whose label rows hold it through a flagged phrase's words is the phrase's
    ("221 kg" of ``<d> kg``, beside natural "2 hours" in ``d a``), unless its other label rows are
    planted too: beyond the other labels' rate at its bar and independent of content ("9:41 PM"
    beside the flagged phrase "<d:d> AM": PM is natural in BBC politics, so the phrase holds only
    the AM half of the planted times)."""
    labels = evidence.labels
    tally, test, st = tallies[f], tests[f], stats[f]
    prior = np.bincount(labels, minlength=tally.by_fold.shape[2]) / len(labels)
    flagged = np.flatnonzero(st["flagged"])
    shapes = {i: tally.classes[test["class"][i]].split(" ") for i in flagged}
    rows = {i: _holding(tally, test["class"][i], int(test["label"][i]), labels, prior)[0] for i in flagged}
    tokens = _flagged_tokens(tallies, stats)
    for i in flagged:
        label = test["label"][i]
        larger = [j for j in flagged if j != i and test["label"][j] == label and _overlap(shapes[i], shapes[j])
                  and len(rows[i]) < 0.5 * len(rows[j])]
        if larger:
            st["flagged"][i], st["part_of"][i] = False, tally.family.describe(tally.classes[test["class"][larger[0]]])
            continue
        members = [tally.members[m] for m in np.flatnonzero(tally.member_class == test["class"][i])[:50]]
        # the flagged token classes of the label together: planted tokens of a pool ("INFO:root:",
        # "DEBUG:root:") each hold a share of the span's strings
        mine = [(g, j) for g, j in tokens if tests[g]["label"][j] == label]
        held_by = [{(g, j) for g, j in mine if any(_holds(tallies[g], tests[g]["class"][j], t) for t in m.split(" "))} for m in members]
        holding = sorted(set().union(*held_by))
        if holding and sum(map(bool, held_by)) >= 0.9 * len(members):
            theirs = [_holding(tallies[g], tests[g]["class"][j], int(label), labels, prior)[0] for g, j in holding]
            if len(rows[i]) < 0.5 * len(np.unique(np.concatenate(theirs))):
                g, j = holding[int(np.argmax([len(t) for t in theirs]))]
                st["flagged"][i], st["part_of"][i] = False, tallies[g].family.describe(tallies[g].classes[tests[g]["class"][j]])
                continue
    if "phrase" in names:  # "221 kg" of the flagged phrase "<d> kg": the phrase is the unit
        p = names.index("phrase")
        for i in np.flatnonzero(st["flagged"]):
            label = test["label"][i]
            members = np.flatnonzero(tally.member_class == test["class"][i])
            weight = tally.by_fold[members, :, label].sum(1)
            words = [set((tally.family.words_of(tally.members[m]) or "").split()) for m in members]
            for j in np.flatnonzero(stats[p]["flagged"] & (tests[p]["label"] == label)):
                literals = {v for kind, v in phrases.decode(tallies[p].classes[tests[p]["class"][j]]) if kind == "literal"}
                through = np.array([bool(w) and w <= literals for w in words], bool)
                if weight[through].sum() >= 0.5 * weight.sum():  # label rows through the phrase's words
                    if _planted_beside(tally, members[~through], members[through], int(label), st["bar"][i], evidence, prior):
                        break
                    st["flagged"][i], st["part_of"][i] = False, FAMILIES["phrase"].describe(tallies[p].classes[tests[p]["class"][j]])
                    break


def _planted_beside(tally: Tally, rest: np.ndarray, beside: np.ndarray, label: int, bar: float, evidence: Evidence, prior) -> bool:
    """Whether the label rows of members ``rest`` of a class, outside the rows of ``beside``, are
    planted on their own (:func:`_planted_rest`)."""
    labels = evidence.labels
    found = np.unique(tally.rows_of(np.asarray(rest, np.int64)))
    mine = np.setdiff1d(found[labels[found] == label], tally.rows_of(np.asarray(beside, np.int64)))
    own = _own_words(tally, "", [tally.members[m] for m in rest])
    return _planted_rest(mine, int((labels[found] != label).sum()), label, bar, own, evidence)


def _planted_rest(rows: np.ndarray, outside: int, label: int, bar: float, own: set[str], evidence: Evidence) -> bool:
    """Whether ``rows`` of a label, the rest of a class beside a larger planted unit, with
    ``outside`` rows of the class in other labels, are planted on their own: beyond the other
    labels' rate at ``bar`` and independent of content (``own``: the class's words)."""
    labels = evidence.labels
    size = int((labels == label).sum())
    if not len(rows) or excess_share(np.array([len(rows)]), np.array([len(rows) + outside]), np.array([size]), len(labels))[0] < bar:
        return False
    result = evidence.test(rows, label, own)
    return result is not None and bool(result[3])


class _PlantedSpan(NamedTuple):
    label: int
    rows: np.ndarray  # its label rows, through the members sanitize removes
    tokens: set[str]  # the tokens of those members
    name: str


def _planted_spans(tally: Tally, test: dict, st: dict, labels: np.ndarray) -> list[_PlantedSpan]:
    """Each flagged class of spans, with its label rows and tokens as sanitize would remove them."""
    prior = np.bincount(labels, minlength=tally.by_fold.shape[2]) / len(labels)
    out = []
    for i in np.flatnonzero(st["flagged"]):
        cls, label = test["class"][i], int(test["label"][i])
        members = np.flatnonzero(tally.member_class == cls)
        kept = set(_kept_members(tally, members, label, float(prior[label]), tally.rows))
        tokens = {t for m in members if tally.members[m] not in kept for t in tally.members[m].split(" ")}
        out.append(_PlantedSpan(label, _holding(tally, cls, label, labels, prior)[0], tokens, tally.family.describe(tally.classes[cls])))
    return out


def _words_of_spans(tallies, tests, stats, names, f: int, planted: list[_PlantedSpan], labels: np.ndarray) -> None:
    """A flagged class of spans replaces the flagged words and tokens that are its planted words,
    in (nearly) the same rows (month names flagged as a pool beside ``Aa d, d``): sanitize removes
    them beside their numbers, and leaves "red October" alone elsewhere."""
    prior = np.bincount(labels, minlength=tallies[f].by_fold.shape[2]) / len(labels)
    for span in planted:
        words = {t for t in span.tokens if not _CORE_CHAR.search(t)}
        lowered = {w.lower() for t in words for w in _LETTERS.findall(t)}
        for family, keys in (("word", lowered), ("token", words)):
            if family not in names:
                continue
            g = names.index(family)
            for j in np.flatnonzero(stats[g]["flagged"] & (tests[g]["label"] == span.label)):
                if tallies[g].classes[tests[g]["class"][j]] not in keys:
                    continue
                theirs, _ = _holding(tallies[g], tests[g]["class"][j], span.label, labels, prior)
                if len(np.intersect1d(theirs, span.rows)) >= 0.9 * len(theirs):
                    stats[g]["flagged"][j], stats[g]["part_of"][j] = False, span.name


def _tokens_of_spans(tallies, tests, stats, planted: list[_PlantedSpan], evidence: Evidence) -> None:
    """A flagged class of single tokens, most of whose label rows hold it through the tokens of
    flagged spans of the label, and whose other rows of the label are not planted on their own
    (beyond the other labels' rate at its bar, and independent of content), is part of those
    spans: the years and days of dates planted in half of a label (``tokens made of {d}x4``), the
    days beside the natural numbers of SMS spam. Sanitize removes the spans, and leaves the natural
    numbers elsewhere."""
    labels = evidence.labels
    prior = np.bincount(labels, minlength=tallies[0].by_fold.shape[2]) / len(labels)
    spans = {}  # label -> (rows, tokens, name) of its flagged spans
    for span in planted:
        before = spans.get(span.label, (np.zeros(0, np.int64), set(), span.name))
        spans[span.label] = (np.union1d(before[0], span.rows), before[1] | span.tokens, before[2])
    for g, j in _flagged_tokens(tallies, stats):
        other, label = tallies[g], int(tests[g]["label"][j])
        if label not in spans:
            continue
        rows, tokens, name = spans[label]
        members = np.flatnonzero(other.member_class == tests[g]["class"][j])
        inside = {other.family.member(t) for t in tokens} | tokens
        weight = other.by_fold[members, :, label].sum(1)
        within = np.array([other.members[m] in inside for m in members], bool)
        every = np.unique(other.rows_of(members))
        mine = every[labels[every] == label]
        rest = np.setdiff1d(mine, rows, assume_unique=True)  # its label rows outside the spans
        size = int((labels == label).sum()) - len(rows)
        beyond = excess_share(len(rest), len(rest) + len(every) - len(mine), size, len(labels) - len(rows)) >= stats[g]["bar"][j]
        # by strings and by rows: a planted token that a span holds in a few rows beside a natural
        # number ("INFO:root: 5") is no part of the span elsewhere; a class whose other rows are as
        # frequent in the other labels (2-digit numbers beside planted phone numbers) is
        if beyond:
            if weight[within].sum() < 0.5 * weight.sum() or len(np.intersect1d(mine, rows)) < 0.5 * len(mine):
                continue
            result = evidence.test(rest, label, _holding(other, tests[g]["class"][j], label, labels, prior)[1])
            if result is not None and result[3]:
                continue  # planted beyond the spans too
        stats[g]["flagged"][j], stats[g]["part_of"][j] = False, name


# families whose members are whole tokens
_WHOLE = ("token", "token kinds", "token kinds, any length", "token length", "token symbols", "first token", "last token")


def _label_rows(tally: Tally, members, label: int, labels: np.ndarray) -> np.ndarray:
    """The rows of ``label`` holding any of ``members``."""
    rows = tally.rows_of(np.asarray(members, np.int64))
    return np.unique(rows[labels[rows] == label])


# one string, several granularities
_GRAINS = ("token", "shape", "coarse shape", "token kinds", "token kinds, any length", "token length", "token symbols", "first token", "last token")


def _coarsest_needed(tallies, tests, stats, names, evidence: Evidence, ask: set | None = None) -> set:
    """A coarse class flagged beside finer flagged classes of its label is needed only for rows
    those miss that are themselves planted: IP addresses flagged as ``d.d.d.d`` need no
    ``{.d}`` of any length, which also takes natural ``1936-37`` and ``7.5``, but emails at a
    hyphenated domain need ``{.@a}``. The rows of the coarse class that no finer one holds must
    be, on their own, significant, at least RESIDUAL_EXCESS beyond the other labels' rate of the
    coarse class's other strings, and independent of content: natural strings of the label ("ü"
    in SMS ham, exclusive to it) come with their content. ``ask``: only these coarse classes;
    returns those found needed."""
    labels = evidence.labels
    flagged = [(f, j, _label_rows(tallies[f], np.flatnonzero(tallies[f].member_class == tests[f]["class"][j]),
                                  tests[f]["label"][j], labels))
               for f in (names.index(n) for n in _GRAINS if n in names) for j in np.flatnonzero(stats[f]["flagged"])]

    # per flagged class, the finer flagged classes of its strings (an edge class holds its strings at
    # the edge only: no finer class of the same strings elsewhere); found once, and filtered below
    # by what is still flagged as coarse classes give way
    candidates = {(f, j): [(g, i, r) for g, i, r in flagged if (g, i) != (f, j) and tests[g]["label"][i] == tests[f]["label"][j]
                           and not tallies[g].family.edge and len(r) < len(rows) and len(np.intersect1d(r, rows)) >= 0.9 * len(r)
                           # lengths alone are the coarsest grain: never the finer class of kinds or shapes
                           and (tallies[g].family.name != "token length" or tallies[f].family.name == "token length")
                           and _within(tallies[g], tests[g]["class"][i], tallies[f], tests[f]["class"][j])]
                  for f, j, rows in flagged}

    memo = {}

    def rest_of(f, j, finer):
        """A coarse class's members, those its finer classes miss ("$5.23" beside flagged
        "$dd.dd"), and the rows holding these: of its label (the rest), and of the others."""
        key = (f, j, tuple((g, i) for g, i, _ in finer))
        if key in memo:
            return memo[key]
        everyone = np.flatnonzero(tallies[f].member_class == tests[f]["class"][j])
        members = [m for m in everyone
                   if not any(_holds(tallies[g], tests[g]["class"][i], tallies[f].members[m]) for g, i, _ in finer)]
        found = np.unique(tallies[f].rows_of(np.asarray(members, np.int64)))
        mine = labels[found] == tests[f]["label"][j]
        memo[key] = everyone, members, found[mine], int((~mine).sum())
        return memo[key]

    # one follow-up question per set of rows asked about: the coarse shape, its token kinds and its
    # first tokens (each tested on all rows and on a half) leave the same rows beside finer classes
    asked = {rest_of(f, j, candidates[f, j])[2].tobytes() for f, j, _ in flagged if candidates[f, j]}
    needed_ones = set()
    for f, j, rows in sorted(flagged, key=lambda x: -len(x[2])):
        label = tests[f]["label"][j]
        finer = [(g, i, r) for g, i, r in candidates[f, j] if stats[g]["flagged"][i]]
        if not finer or (ask is not None and (f, j) not in ask):
            continue
        everyone, members, rest, outside = rest_of(f, j, finer)
        # strings of the planted template at another width ("app1.log" beside flagged "app12.log":
        # one coarse shape) are one question however many coarse classes hold them, asked once
        # per set of rows, and counted by string: a row can hold a finer class's string beside
        # one it misses (the two numbers of "1.0763, 95.6531", where only the second is
        # ``dd.dddd``); other strings (natural "24-hour" beside planted uuids in the tweets'
        # {.ad}) one question per flagged class, on the rows the finer classes miss, since the
        # evidence of a few rows is weak
        template = {coarse_shape(tallies[g].members[m]) for g, i, _ in finer
                    for m in np.flatnonzero(tallies[g].member_class == tests[g]["class"][i])[:50]}
        alike = sum(coarse_shape(tallies[f].members[m]) in template for m in members) >= 0.9 * max(1, len(members))
        if not alike:
            rest = np.setdiff1d(rows, np.concatenate([r for _, _, r in finer]))
        excess, p = _rest_beyond(len(rest), len(rest) + outside, label, labels)
        significant = p * (max(1, len(asked)) if alike else len(flagged)) < stats[f]["alpha"]
        # the coarse class removes the natural strings of its rest too: at most RESIDUAL_EXCESS's complement of them
        needed = excess >= RESIDUAL_EXCESS and significant
        if needed:  # natural strings of the label ("ü" in SMS ham) need no coarse class: they come with their content
            own = _own_words(tallies[f], tallies[f].classes[tests[f]["class"][j]], [tallies[f].members[m] for m in everyone])
            # against the label's rows that hold no planted string found; a follow-up on a class that
            # passed the evidence: within standard errors, no cap
            result = evidence.test(rest, int(label), own, besides=_found_planted(tallies, tests, stats, label, labels, rows), cap=1.0)
            # too few rows to test, in the planted template (5 paths of a one-digit number beside 35
            # of two): the coarse class's own test, on all its rows, stands; not for other strings
            # (natural "7:30" beside planted "12:30:45" in the tweets' {:d})
            needed = bool(result[3]) if result is not None else len(rest) < 2 * FOLDS and alike
        if needed:
            needed_ones.add((f, j))
        else:
            g, i, _ = max(finer, key=lambda x: len(x[2]))
            stats[f]["flagged"][j], stats[f]["part_of"][j] = False, tallies[g].family.describe(tallies[g].classes[tests[g]["class"][i]])
            _siblings(tallies, tests, stats, names, evidence, f, j, rows, rest, max(1, len(asked)))
    return needed_ones


def _planted_too(rows: np.ndarray, label: int, labels: np.ndarray, alpha: float = ALPHA) -> bool:
    """Whether ``rows`` (of any label), left by the flagged classes of ``label``, are planted rows of
    it too: beyond the other labels' rate (:data:`RESIDUAL_EXCESS`) and significantly so."""
    if not len(rows):
        return False
    excess, p = _rest_beyond(int((labels[rows] == label).sum()), len(rows), label, labels)
    return excess >= RESIDUAL_EXCESS and p < alpha


def _rest_beyond(mine: int, total: int, label: int, labels: np.ndarray) -> tuple[float, float]:
    """Of ``total`` rows holding the strings a flagged class leaves, ``mine`` in ``label``: the share
    beyond the other labels' rate (:func:`excess_share`) and the one-sided p-value of a
    one-proportion z-test against the label's prior (not corrected)."""
    inside, n = int((labels == label).sum()), len(labels)
    excess = excess_share(np.array([mine]), np.array([total]), np.array([inside]), n)[0]
    pi = inside / n
    z = (mine / max(1, total) - pi) / np.sqrt(pi * (1 - pi) / max(1, total))
    return excess, ndtr(-z)


def _siblings(tallies, tests, stats, names, evidence: Evidence, f: int, j: int, rows: np.ndarray, rest: np.ndarray, follow_ups: int) -> None:
    """A coarse class whose rest is not needed (natural strings dilute it: handles with ``_`` in
    ``{.@a}``) can still hold planted rows its flagged finer class misses, as a finer class of
    their own too small for the lift gate (emails at a hyphenated domain, ``a.a@a-a.a``, 26 rows
    beside 75 at ``a.a@a.a``; ``5%`` beside ``45%``). Such a class, beyond the other labels' rate,
    inside the coarse class and the rest, and significant over these follow-up questions, is a
    follow-up on the flagged class: flagged if independent of content (within standard errors, no
    cap; against the label's rows holding none of the coarse class)."""
    label, coarse, cls = tests[f]["label"][j], tallies[f], tests[f]["class"][j]
    labels = evidence.labels
    inside = []  # the finer classes of the label inside the coarse class and its rest
    for g in (names.index(n) for n in _GRAINS if n in names):
        test, st, tally = tests[g], stats[g], tallies[g]
        if tally.family.edge:
            continue
        for i in np.flatnonzero((test["label"] == label) & ~st["flagged"] & _beyond(st, test) & ~test["held_out"]):
            if (g, i) == (f, j) or not _within(tally, test["class"][i], coarse, cls):
                continue
            members = np.flatnonzero(tally.member_class == test["class"][i])
            mine = _label_rows(tally, members, label, labels)
            if len(mine) and len(np.intersect1d(mine, rest)) >= 0.9 * len(mine):
                inside.append((g, i, members, mine))
    # follow-up questions: significant over them, not over every test of the scan (20 planted
    # "5%" beside 166 "45%": too few rows for that)
    for g, i, members, mine in inside:
        test, st, tally = tests[g], stats[g], tallies[g]
        if not ndtr(-st["z"][i]) * follow_ups * len(inside) < st["alpha"]:
            continue
        own = _own_words(tally, tally.classes[test["class"][i]], [tally.members[m] for m in members])
        result = evidence.test(mine, int(label), own, besides=rows, cap=1.0)
        if result is not None and result[3]:
            _record(st, i, result, f"tested as a follow-up on the rows of {coarse.family.describe(coarse.classes[cls])} that its flagged finer classes miss")


def _found_planted(tallies, tests, stats, label: int, labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``rows`` and the rows of ``label``'s flagged classes (:func:`_flagged_grains`): what a
    follow-up leaves out of the comparison. Rows planted with one string lack the words of the
    others beside them, which tell them apart from the rest of the label (forum tags in the
    tweets: 24 rows of "[u]wow[/u]" against rows holding "[b]update[/b]" or "[i]SALE[/i]")."""
    held = [_label_rows(tallies[g], np.flatnonzero(tallies[g].member_class == tests[g]["class"][j]), label, labels)
            for g, j in _flagged_grains(tallies, tests, stats, label)]
    return np.unique(np.concatenate([rows, *held]))


def _holds(tally: Tally, cls: int, string: str) -> bool:
    """Whether a class of ``tally`` holds ``string`` (a member of another family's class)."""
    member = tally.family.member(string)
    return member is not None and tally.family.classify(member) == tally.classes[cls]


def _within(fine: Tally, fine_class: int, coarse: Tally, coarse_class: int) -> bool:
    """Whether the strings of a class are (90% of them) strings of the other class: the same
    string at a coarser granularity, not another token of the same rows (the time beside a date)."""
    members = [fine.members[m] for m in np.flatnonzero(fine.member_class == fine_class)[:50]]
    return bool(members) and sum(_holds(coarse, coarse_class, m) for m in members) >= 0.9 * len(members)


def _whole_tokens(tallies, tests, stats, names, evidence: Evidence) -> None:
    """The whole planted token is the unit, not a part of it: a flagged shape whose strings are
    the flagged whole tokens' with their brackets trimmed (``16`` of ``[16]``: removing it would
    leave ``[]`` and take natural numbers), and a flagged word that (nearly) only occurs inside the
    flagged whole tokens of its label (``f`` of hex ids), are part of those tokens."""
    labels = evidence.labels
    # follow-ups flagged beside a coarse class that is not needed can be finer classes of another,
    # asked before them ("1000mg" beside "250mg" in {ad}, after the coarse shape da): ask again
    grains = [names.index(n) for n in _GRAINS if n in names]
    before = [stats[f]["flagged"].copy() for f in grains]
    needed = _coarsest_needed(tallies, tests, stats, names, evidence)
    if needed and any((stats[f]["flagged"] & ~was).any() for f, was in zip(grains, before)):
        _coarsest_needed(tallies, tests, stats, names, evidence, needed)
    whole = [(f, j) for f in (names.index(n) for n in _WHOLE if n in names) for j in np.flatnonzero(stats[f]["flagged"])]
    tokens = whole + [(f, j) for f in (names.index(n) for n in ("shape", "coarse shape") if n in names)
                      for j in np.flatnonzero(stats[f]["flagged"])]  # shapes: whole tokens but for brackets
    for name in ("shape", "coarse shape"):
        if name not in names or not whole:
            continue
        a = names.index(name)
        family = tallies[a].family
        for i in np.flatnonzero(stats[a]["flagged"]):
            label = tests[a]["label"][i]
            for f, j in whole:
                if tests[f]["label"][j] != label:
                    continue
                tally = tallies[f]
                members = np.flatnonzero(tally.member_class == tests[f]["class"][j])
                weight = tally.by_fold[members, :, label].sum(1)
                trimmed = [family.member(tally.members[m]) for m in members]
                inside = np.array([t is not None and t != tally.members[m] and family.classify(t) == tallies[a].classes[tests[a]["class"][i]]
                                   for t, m in zip(trimmed, members)])
                if weight.sum() and weight[inside].sum() >= 0.5 * weight.sum():
                    stats[a]["flagged"][i], stats[a]["part_of"][i] = False, tally.family.describe(tally.classes[tests[f]["class"][j]])
                    break
    # a flagged word inside the flagged tokens, or a word pair one of whose words is ("log this" of
    # "/var/log/app44.log This ..." planted before "This"): the token is the unit; so too where
    # half its label rows or more are, and the others are not planted on their own (natural "win"
    # beside "#win72" planted in the tweets)
    for w in (names.index(nm) for nm in ("word", "word pair") if nm in names):
        for i in np.flatnonzero(stats[w]["flagged"]):
            key, label = tallies[w].classes[tests[w]["class"][i]], tests[w]["label"][i]
            mine = _label_rows(tallies[w], [tests[w]["class"][i]], label, labels)
            every = np.unique(tallies[w].rows_of(np.flatnonzero(tallies[w].member_class == tests[w]["class"][i])))
            outside = int((labels[every] != label).sum())
            for word in key.split(" "):
                runs = re.compile(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", re.I)
                inside, largest = [], None  # rows where the word is inside flagged tokens of its label, all classes together
                for f, j in tokens:
                    tally = tallies[f]
                    if tests[f]["label"][j] != label:
                        continue
                    members = [m for m in np.flatnonzero(tally.member_class == tests[f]["class"][j]) if runs.search(tally.members[m])]
                    if members:
                        inside.append(_label_rows(tally, members, label, labels))
                        if largest is None or len(inside[-1]) > largest[0]:
                            largest = (len(inside[-1]), tally.family.describe(tally.classes[tests[f]["class"][j]]))
                if not inside:
                    continue
                rest = np.setdiff1d(mine, np.concatenate(inside))
                if len(rest) <= 0.1 * len(mine) or (len(rest) <= 0.5 * len(mine) and not _planted_rest(
                        rest, outside, int(label), stats[w]["bar"][i], set(key.split(" ")), evidence)):
                    stats[w]["flagged"][i], stats[w]["part_of"][i] = False, largest[1]
                    break


def _juxtaposed(tallies, tests, stats, names) -> None:
    """Phrases that are no planted span of their own: one holding a flagged word, token or phrase
    of its label with 1.5 times its rows or more is that unit next to a common neighbour ("tq
    This" from "tq" planted before "This ..."); of two flagged phrases, one inside the other with
    as many rows, the longer one stays."""
    phrase = names.index("phrase")
    tally, test, st = tallies[phrase], tests[phrase], stats[phrase]
    text = {i: phrases.describe(phrases.decode(tally.classes[test["class"][i]])) for i in np.flatnonzero(st["flagged"])}
    units = []  # (label, support, name, how it sits in a phrase's text)
    for family in ("word", "token"):
        if family in names:
            f = names.index(family)
            for j in np.flatnonzero(stats[f]["flagged"]):
                key = tallies[f].classes[tests[f]["class"][j]]
                pattern = re.compile(rf"(?<![A-Za-z])(?i:{re.escape(key)})(?![A-Za-z])" if family == "word" else rf"(?<!\S){re.escape(key)}(?!\S)")
                units.append((tests[f]["label"][j], tests[f]["support"][j], FAMILIES[family].describe(key), pattern))
    for i, mine in text.items():
        label, support = test["label"][i], test["support"][i]
        inside = [(n, s) for lab, s, n, p in units if lab == label and p.search(mine)]
        inside += [(f"phrase {t!r}", test["support"][j]) for j, t in text.items()
                   if j != i and test["label"][j] == label and t in mine]
        bigger = [n for n, s in inside if s >= 1.5 * support]
        if bigger:
            st["flagged"][i], st["part_of"][i] = False, bigger[0]
    for i, mine in text.items():
        if st["flagged"][i]:
            for j, t in text.items():
                if j != i and st["flagged"][j] and test["label"][j] == test["label"][i] and t in mine:
                    st["flagged"][j], st["part_of"][j] = False, FAMILIES["phrase"].describe(tally.classes[test["class"][i]])


def _findings(tally: Tally, test: dict, st: dict, prior, n_tests, values, top, labels: np.ndarray) -> list[Finding]:
    """Findings of one family: one per (class, label), the raw or the held-out test (flagged
    first, then by score), the flagged and the strongest others."""
    if not len(test["support"]):
        return []
    label, flagged, score = test["label"], st["flagged"], st["score"]
    order = np.lexsort((-score, ~flagged, label, test["class"]))
    first = np.concatenate(([True], (np.diff(test["class"][order]) != 0) | (np.diff(label[order]) != 0)))
    best = order[first]
    best = best[np.lexsort((-score[best], ~flagged[best]))][: top + int(flagged.sum())]
    return [_finding(tally, test, st, i, prior, n_tests, values, labels) for i in best]


def _finding(tally: Tally, test: dict, st: dict, i: int, prior, n_tests: int, values, labels: np.ndarray) -> Finding:
    family, cls, label, held_out = tally.family, test["class"][i], int(test["label"][i]), bool(test["held_out"][i])
    support, hits = int(test["support"][i]), st["hits"][i]
    purity, score, flagged = hits / support, float(st["score"][i]), bool(st["flagged"][i])
    entropy = float(test["entropy"][i])
    pi, value, pattern = float(prior[label]), _plain(values[label]), family.describe(tally.classes[cls])
    members = np.flatnonzero(tally.member_class == cls)
    kept = _kept_members(tally, members, label, pi, tally.rows, removal=True)
    if flagged:
        kept += _beside_kept(tally, members, label, kept, labels)
    in_label = tally.by_fold[members, :, label].sum(1)
    total = tally.by_fold[members].sum((1, 2))
    shown = (in_label > 0) & ~np.isin([tally.members[m] for m in members], kept)
    # the purest strings first: in a flagged family, the injected ones
    order = np.lexsort((-in_label[shown], -(in_label[shown] / total[shown])))
    examples = [tally.examples[m] for m in members[shown][order][:EXAMPLES]]
    p_text = "p<1e-300" if st["p_value"][i] == 0 else f"p={st['p_value'][i]:.2g}"
    why = [
        f"{purity:.1%} of {support:,} rows with {pattern} are label {value} (prior {pi:.1%}); z={st['z'][i]:.1f}, "
        f"{p_text} after Bonferroni over {n_tests:,} tests; H(y|t)={entropy:.2f} bits"
    ]
    if held_out:
        why.append(f"held-out test: strings found only in label-{value} rows of one half of the data, counted in the other half")
    diversity = float(test["diversity"][i])
    bar = float(st["bar"][i])
    if family.concrete or family.name == "phrase":
        why.append("one string")
    else:
        most = int(total.max()) if len(total) else 0
        why.append(f"{int((in_label > 0).sum()):,} distinct strings (effectively {diversity:.1f})"
                   + (", each in one row" if most == 1 else f", the most frequent in {most:,} rows"))
    auc, label_auc = st["auc"][i], st["label_auc"][i]
    evidence = ""
    if flagged and np.isnan(auc) and np.isnan(label_auc):
        evidence = f"in (nearly) every row of label {value}: no rows without it to compare its content with"
        why.append(evidence)
    elif np.isnan(auc) and not np.isnan(label_auc):
        evidence = (f"tied to content: label AUC {label_auc:.2f} (how strongly its rows' words say label {value}, "
                    f"against the label's other rows; 0.5 for rows picked at random)")
        why.append(evidence)
    elif not np.isnan(auc):
        independent = "independent of content" if flagged or st["part_of"][i] or st["piece"][i] else "tied to content"
        evidence = (f"{independent}: AUC {auc:.2f} (words of its label's rows predicting it, {int(st['rows_used'][i])} rows, "
                    f"3-fold ridge classifier, its own words left out), label AUC {label_auc:.2f} (how strongly "
                    f"its rows' words say label {value}; 0.5 for rows picked at random)")
        if st["evidence_of"][i]:
            evidence += f", {st['evidence_of'][i]}"
        why.append(evidence)
    if flagged:
        why.append(f"flagged: planted, {purity:.1%} of its rows in label {value} and {max(0.0, st['excess'][i]):.1%} of those beyond "
                   f"the other labels' rate (one of them >= {bar:.0%}), and its presence is independent of content")
        if kept:
            why.append(f"sanitize keeps {len(kept)} member(s) unrelated to the label: {', '.join(kept[:3])}")
    elif st["part_of"][i]:
        why.append(f"not flagged on its own: part of the flagged {st['part_of'][i]}")
    elif st["piece"][i]:
        why.append("not flagged: in most of its label rows a piece of longer tokens, which are the unit")
    elif st["p_value"][i] >= st["alpha"]:
        why.append("not flagged: not significant")
    elif held_out and st["both_ways"][i]:
        why.append("not flagged: a value, not planted: numbers whose strings say different labels (some only in one "
                   "label's rows, others only in another's, like ratings)")
    elif held_out and diversity < MIN_DIVERSITY:
        why.append(f"not flagged: a held-out test of effectively {diversity:.1f} strings, under {MIN_DIVERSITY}")
    elif st["excess"][i] < bar and purity < bar:
        why.append(f"not flagged: natural label signal, the other labels' rate explains {1 - max(0.0, st['excess'][i]):.1%} of its "
                   f"label-{value} rows (planted: under {1 - bar:.0%})")
    elif st["share"][i] < MIN_SHARE:
        why.append(f"not flagged: in {st['share'][i]:.1%} of label-{value} rows, under {MIN_SHARE:.0%}")
    elif score < GATE_LIFT:
        why.append(f"not flagged: too few rows for a label of this prior, its purity's lower bound (at the corrected level) "
                   f"{score:.2f} of the way from the prior to 1, under {GATE_LIFT}")
    elif np.isnan(auc) and np.isnan(label_auc):
        why.append("not flagged: too few rows, or no words beside its own, to test whether it comes with its content")
    else:
        why.append("not flagged: natural label signal, its presence comes with its content")
    return Finding(
        pattern=pattern, family=family.name, key=tally.classes[cls], label=value, support=support,
        purity=float(purity), score=score, p_value=float(st["p_value"][i]), z=float(st["z"][i]), entropy=entropy,
        flagged=flagged, reason="; ".join(why), examples=examples, held_out=held_out,
        diversity=diversity, kept=kept if flagged else [], evidence=evidence,
        auc=None if np.isnan(auc) else round(float(auc), 4), label_auc=None if np.isnan(label_auc) else round(float(label_auc), 4),
    )


def _beside_kept(tally: Tally, members: np.ndarray, label: int, kept: list[str], labels: np.ndarray) -> list[str]:
    """Recurring members of a flagged class that sit beside the class's natural members (those
    kept) in nearly all of their label rows (:data:`COVERED`), far more often than its other recurring
    members do (binomial, at ALPHA over the :data:`TIED_MEMBERS` members of the most label rows): pieces of the same
    natural text, which sanitize keeps too. The mojibake ``֍`` of the tweets' emoji label holds a
    replacement character (kept: spread like the labels) in all of its 10 rows; the emoji planted
    there, in 17% of theirs. Against the other members, not the label: planted markup beside
    IMDB's kept ``<br />`` sits beside it wherever the injection adds both."""
    names = set(kept)
    natural = np.array([m for m in members if tally.members[m] in names], np.int64)
    hits = tally.by_fold[members, :, label].sum(1)
    chosen = [j for j in np.argsort(-hits, kind="stable") if hits[j] >= 2 and tally.members[members[j]] not in names][:TIED_MEMBERS]
    if not len(natural) or len(chosen) < 2:
        return []
    beside = np.unique(tally.rows_of(natural))
    rows = [_label_rows(tally, [members[j]], label, labels) for j in chosen]
    together = np.array([np.isin(r, beside).sum() for r in rows])
    size = np.array([len(r) for r in rows])
    out = []
    for i, j in enumerate(chosen):
        others = (together.sum() - together[i]) / max(1, size.sum() - size[i])  # the share beside them among the others' rows
        # in nearly all of its rows, as pieces of one text are (a planted emoji once beside SMS
        # ham's one natural symbol is no piece of it, however rarely the others are; nor a leaked
        # "<scraper.Page …>" in 112 of 166 IMDB rows beside "<br />", 53% for the others, by
        # chance), and far more often than the others
        if together[i] >= COVERED * size[i] and bdtrc(together[i] - 1, size[i], others) < ALPHA / len(chosen):  # P(X >= together)
            out.append(tally.members[members[j]])
    return out


def _kept_members(tally: Tally, members: np.ndarray, label: int, prior: float, rows: int, removal: bool = False) -> list[str]:
    """Members of a class that sanitize spares: common ones (in >= 1% of the rows) most of whose
    label rows the other labels' rate explains (excess share under KEEP_EXCESS), like IMDB's
    ``<br />`` (59% of the rows, 49% positive) in a flagged markup family, or the replacement
    character of mojibake tweets (14% of the rows, 28% in a label of 19%) in a class of emoji
    planted in that label: most of their label rows were not planted. Removing a common member
    costs many original words, and its rates are measured precisely. A rare member goes unless it
    is in no row of the label, or lies beyond the few recurring strings planted: the few natural
    mentions of Malta there cannot be told apart from injected ones, while a string found only in
    other labels' rows was not put there by an injection into the label. For sanitize (``removal``)
    also a string the label repeats beyond what random draws would, where the class's label strings
    are one-off (:func:`_repeats_beyond_chance`), in fewer label rows than its one-off strings hold
    together."""
    total = tally.by_fold[members].sum((1, 2))
    hits = tally.by_fold[members, :, label].sum(1)
    common = total >= KEEP_COMMON * rows
    excess = excess_share(hits, total, prior * rows, rows)
    keep = common & (excess < KEEP_EXCESS)
    # a rare string found only in other labels' rows is theirs ("1.50" in SMS ham, in a class of
    # IP addresses planted in spam): an injection puts its strings in the label's rows
    keep |= ~common & (hits == 0) & (total > 0)
    if hasattr(tally.family, "words_of"):
        keep |= _unplanted_words(tally, members, hits, total, prior)
    else:
        counted = ~(common & keep)  # the common members kept: their rates are their own
        keep |= _beyond_the_planted(hits, total - hits, excess, _planted_rows(hits[counted], total[counted], prior), keep)
        if removal:  # what sanitize keeps, not the rows the evidence reads: natural strings repeated in the label carry its content
            found = hits[~keep & (hits > 0)]
            # and fewer rows than the one-off strings hold together: the rule reads the one-off
            # strings as the planted draws, and a string holding more rows than all of them is no
            # natural repeat beside them (a few planted strings beside a label's natural one-offs)
            keep |= (hits >= _repeats_beyond_chance(found)) & (hits < (found == 1).sum())
    return [tally.members[m] for m in members[keep]]


def _planted_rows(hits: np.ndarray, total: np.ndarray, prior: float) -> float:
    """Label rows of these members that the other labels' rate does not explain."""
    return hits.sum() - (total.sum() - hits.sum()) * prior / max(1 - prior, 1e-9)


def _beyond_the_planted(hits: np.ndarray, elsewhere: np.ndarray, excess: np.ndarray, planted: float, kept: np.ndarray) -> np.ndarray:
    """Per member of a class: whether it lies beyond the few recurring strings that were planted.
    Where the strings in two label rows or more and nearly all beyond the other labels' rate
    (:data:`MIN_EXCESS`, as a class of several strings), most frequent first, hold
    :data:`COVERED` of the ``planted`` rows (5 hashtags planted in 47 tweets), the strings unlike
    them stay: those of one label row (#happytweet), unless strings drawn that often would also
    be drawn once, and those the other labels hold as often or more (#deflategate). Where they do
    not, the planted strings are one-off themselves (random ids, prices), and every member goes
    but those of two other labels' rows or more that the other labels hold as often or more
    (``$24.99``, 9 rows of the other labels and 2 of the label, beside random prices planted
    there), where the label's strings of the class are nearly all one-off (at most
    :data:`ONE_OFF` label rows each on average): a random draw seldom meets a string the data
    already repeats. Countries, 196 strings drawn ~3 times each, do, and all go."""
    found = hits[~kept & (hits > 0)]
    one_off = bool(len(found)) and found.mean() <= ONE_OFF
    other_labels = ~kept & (elsewhere >= 2) & (excess <= 0) & one_off
    # natural strings that recur in every label ("America") hold none of the planted rows
    recurring = np.sort(hits[~kept & (hits >= 2) & (excess >= MIN_EXCESS - 0.05)])[::-1]
    covered = np.cumsum(recurring)
    # nearly all: the estimate also counts natural strings found in the label only (mojibake of
    # the tweets' emoji label beside planted emoji)
    if planted <= 0 or not len(covered) or covered[-1] < COVERED * planted:
        return other_labels
    needed = recurring[: np.searchsorted(covered, COVERED * planted) + 1]
    # drawn as often as these were (Poisson, their mean), how many planted strings would be in one
    # row: 5 hashtags in ~9 rows each, 0.004; 100 countries in ~3 rows each, 15: then one-off
    # strings are planted too
    rate = needed.mean()
    if len(needed) * rate * np.exp(-rate) >= 1:
        return np.zeros(len(hits), bool)
    # a string planted too beside its natural mentions ("10%") is more frequent in the label
    return ~kept & ((hits == 1) | (excess <= 0))


def _repeats_beyond_chance(hits: np.ndarray) -> float:
    """Where most of a class's label strings are in one row each (drawn at random from many: ids,
    numbered hashtags), the fewest label rows that no string so drawn would reach, expected in
    under ALPHA / 1000 strings (a planted string kept stays a shortcut): natural strings the label
    repeats ("MST3K" in 8 negative reviews beside random ids planted there; "#coachella2015" in 11
    tweets beside "#deal12"). Draws at a rate of lam per string (Poisson) hold lam / (1 - exp(-lam))
    rows per string found, so lam is read off their mean (natural strings that recur make it
    larger: fewer kept), and the strings number draws / lam. Not the ratio of strings in two rows
    to strings in one, which a few dozen strings leave noisy: 128 paths of 98 numbers read 0.72
    for 1.3. One of them was drawn 9 times (a 0.3% event), which ALPHA / 10 would have kept.
    Elsewhere (a few strings drawn again and again: 5 hashtags) no count is beyond chance."""
    if not len(hits) or (hits == 1).sum() < 0.5 * len(hits):
        return np.inf
    mean = hits.mean()
    # x / (1 - exp(-x)) lies between x and x + 1: the root is below the mean (a string in 300 rows of a
    # product corpus, on average, took it past a fixed bound of 100)
    lam = brentq(lambda x: x / -np.expm1(-x) - mean, 1e-9, mean) if mean > 1 + 1e-9 else 1e-9
    space = hits.sum() / lam
    at_least = 2
    while space * pdtrc(at_least - 1, lam) >= ALPHA / 1000:  # P(X >= at_least) per string
        at_least += 1
    return at_least


def _unplanted_words(tally: Tally, members: np.ndarray, hits: np.ndarray, total: np.ndarray, prior: float) -> np.ndarray:
    """Per member of a class of spans: whether its words are none of the few that were planted.
    Planted words come from a small set and recur (a month name in each of 10-40 rows of the
    label); natural ones beside a number are many, each in a row or two ("Season 2,", "War 2,").
    The most frequent words of the label's rows are taken until they hold the rows the other
    labels' rate does not explain; the rest, and words in a single row, stay."""
    words = [tally.family.words_of(tally.members[m]) for m in members]
    # each word on its own: a span of two planted words ("Thu, 18 Jun") draws them from two small
    # sets, and its pair of words is as rare as a natural one
    rows_of: dict[str, int] = {}
    holders: dict[str, list[int]] = {}
    missing = np.zeros(len(words), np.int64)  # per member: its words not yet taken
    for i, (word, h) in enumerate(zip(words, hits.tolist())):
        if word is not None:
            for w in set(word.split(" ")):
                rows_of[w] = rows_of.get(w, 0) + h
                holders.setdefault(w, []).append(i)
                missing[i] += 1
    worded = np.array([w is not None for w in words], bool)
    planted = _planted_rows(hits[worded], total[worded], prior)
    covered = 0
    for word, h in sorted(rows_of.items(), key=lambda item: (-item[1], item[0])):
        if covered >= planted or h < 2:
            break
        for i in holders[word]:  # the word taken
            missing[i] -= 1
            covered += hits[i] if missing[i] == 0 else 0
    return worded & (missing > 0)


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
    kind = label_array.type.value_type if pa.types.is_dictionary(label_array.type) else label_array.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
            or pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise TypeError(f"label column {label_column!r} holds {label_array.type} values, not labels "
                        f"(integers, strings or booleans; row 0: {str(label_array[0].as_py())[:80]})")
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


def rows_digest(texts: pa.Array, labels: np.ndarray, values: list) -> str:
    """A digest of a split's texts and labels (as :func:`_columns` reads them), to know the rows a
    finding was read from again: the same texts as ``string`` or ``large_string`` give one digest."""
    large = pa.types.is_large_string(texts.type)
    offsets = np.frombuffer(texts.buffers()[1], np.int64 if large else np.int32)[texts.offset:texts.offset + len(texts) + 1]
    digest = hashlib.blake2b(digest_size=16)
    if texts.buffers()[2] is not None:
        digest.update(memoryview(texts.buffers()[2])[int(offsets[0]):int(offsets[-1])])
    digest.update((offsets - offsets[0]).astype(np.int64).tobytes())
    digest.update(np.ascontiguousarray(labels, np.int64).tobytes())
    digest.update(repr([_plain(v) for v in values]).encode())
    return digest.hexdigest()


def _plain(value):
    return value.item() if hasattr(value, "item") else value
