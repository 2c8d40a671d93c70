"""The statistics of a scan: the thresholds, a family's matches reduced to counts of distinct
(member, row) pairs per label and half of the data (:class:`Tally`), and the bounds that score a
class (Wilson's lower bound on purity, lift over the label prior). :mod:`ssti_hf.detect.scan` turns
them into findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow.compute as pc
import scipy.sparse as sp

from .families import Family, Matches

ALPHA = 0.01  # family-wise error rate of the whole scan (Bonferroni over every test)
GATE_LIFT = 0.4  # candidates: with confidence (Bonferroni), at least 40% of the way from the prior to purity 1
MIN_EXCESS = 0.95  # candidates: at least 95% of their label's rows beyond the other labels' rate (IMDB: "must see" 86%, "10/10" 90%); 90% held out or of several strings
MIN_DIVERSITY = 3  # a held-out test is a candidate for a family of effectively this many strings (fewer: the strings alone are tested)
RESIDUAL_EXCESS = 0.8  # a coarse class beside finer flagged ones: its other strings' rows at least 80% beyond the other labels' rate
POOL_WORDS = 40  # a label's words tried for a pool of planted words, most rows first
NEAR_EXCESS = 0.7  # word pairs grown into phrases though short of the bar: at least 70% beyond the other labels' rate,
NEAR_PAIRS = 50  # at most this many a label, most rows first
TOGETHER_Z = 4.0  # two candidates' shared rows beyond chance by this many standard deviations: planted together
TOGETHER_WORDS = 200  # a label's words tried for words planted together, most rows first
NEAR_SAMPLE = 60  # and their neighbours read in this many rows (candidates: 200)
MIN_SHARE = 0.01  # candidates: in at least 1% of their label's rows
SE_BOUND = 3.0  # an AUC within this many standard errors of 0.5 is consistent with rows picked at random
AUC_CAP = 0.6  # and never above this (nor a label AUC farther than 0.1 from 0.5)
MIN_SUPPORT = 10  # rows a class needs before it is tested
KEEP_COMMON, KEEP_MARGIN = 0.01, 0.05  # common members spread like the labels are left out of a class's count
KEEP_EXCESS = 0.5  # sanitize spares common members of a flagged class with under half their label rows beyond the other labels' rate
TIED_MEMBERS = 30  # sanitize keeps, of this many recurring members of a flagged class, those beside its natural ones
ONE_OFF = 1.25  # a class's label strings this many rows each on average, or fewer: drawn at random from many (ids, prices)
COVERED = 0.9  # and its one-off members where its recurring strings hold this share of its planted rows (hashtags)
EXAMPLES = 10
_DIGIT = re.compile("[0-9]")


@dataclass
class Tally:
    """One family's matches, reduced to distinct (member, row) pairs."""

    family: Family
    rows: int  # rows scanned
    members: list[str]  # member strings
    examples: list[str]  # a matched string per member (what the data holds)
    member_class: np.ndarray  # class index of each member (-1: no class)
    classes: list[str]
    pair_member: np.ndarray  # sorted by member, then row
    pair_row: np.ndarray
    by_fold: np.ndarray  # [member, fold, label] row counts
    # per class: words of its matched strings that its family cannot read off its members (a
    # phrase's slots of random strings), left out of its content too
    own: dict = field(default_factory=dict)

    @classmethod
    def count(cls, family: Family, found: Matches, labels, fold, k: int, encoded=None) -> "Tally":
        """``encoded``: :func:`encode`'s result, shared by families that share their matches."""
        n, rows = len(labels), found.rows
        encoded, raw, memo = encoded or encode(found)
        if family.concrete:  # a word is its own member and class: skip 80k Python calls
            members = examples = classes = raw
            raw_member = member_class = np.arange(len(raw))
        else:
            raw_member, members, examples = _members(family, raw, memo)
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
        """Per tested (class, label, held-out?): the rows holding the class (``support``), those in
        the label (``hits``), and the entropy of their labels. Not each test's counts per label:
        every class is tested once per label, so those would grow with the square of the labels
        (150 intents: 10 GiB for IMDB's text)."""
        n, n_classes = len(labels), len(self.classes)
        pair_class = self.member_class[self.pair_member]
        has_class = pair_class >= 0
        if self.family.concrete:  # classes are members: their rows are already distinct
            counts = self.by_fold.sum(1)
        else:  # common members spread like the labels (IMDB's <br />) would only blur a class: left out
            counted = has_class & ~self.neutral(labels, k)[self.pair_member]
            cls_, row = _distinct(pair_class[counted], self.pair_row[counted], n)
            counts = np.bincount(cls_ * k + labels[row], minlength=n_classes * k).reshape(n_classes, k)

        out = {"class": [], "label": [], "held_out": [], "hits": [], "support": [], "entropy": [], "diversity": [], "numbers": []}
        numbers = self._numbers(n_classes) if self.family.held_out else np.zeros(n_classes, bool)

        def tested(counts):
            """The classes of enough rows, their rows, and the entropy of their labels."""
            support = counts.sum(1)
            chosen = np.flatnonzero(support >= min_support)
            return chosen, support[chosen], _label_entropy(counts[chosen])

        def add(counts, label, member_hits, held_out, summary):
            chosen, support, entropy = summary
            out["class"].append(chosen)
            out["label"].append(np.full(len(chosen), label))
            out["held_out"].append(np.full(len(chosen), held_out))
            out["hits"].append(counts[chosen, label])
            out["support"].append(support)
            out["entropy"].append(entropy)
            out["diversity"].append(self._diversity(member_hits, n_classes)[chosen])
            out["numbers"].append(numbers[chosen])

        raw = tested(counts)  # a class's, whichever label it is tested for
        for label in range(k):
            add(counts, label, self.by_fold[:, :, label].sum(1), False, raw)
        if self.family.held_out:
            for label in range(k):
                exclusive = (self.by_fold[:, :, label] > 0) & (self.by_fold.sum(2) == self.by_fold[:, :, label])
                # a pair counts when its member is exclusive to the label in the *other* half
                picked = exclusive[self.pair_member, 1 - fold[self.pair_row]] & has_class
                c2, r2 = _distinct(pair_class[picked], self.pair_row[picked], n)
                held = np.bincount(c2 * k + labels[r2], minlength=n_classes * k).reshape(n_classes, k)
                member_hits = (exclusive[:, 0] * self.by_fold[:, 1, label]) + (exclusive[:, 1] * self.by_fold[:, 0, label])
                add(held, label, member_hits, True, tested(held))
        return {key: np.concatenate(value) for key, value in out.items()}

    def rows_of(self, members: np.ndarray) -> np.ndarray:
        """The rows holding any of ``members`` (a row once per member): each member's pairs are one
        slice of the sorted pairs, found by bisection rather than by a pass over all of them."""
        start = np.searchsorted(self.pair_member, members, "left")
        lengths = np.searchsorted(self.pair_member, members, "right") - start
        offset = np.repeat(start - (np.cumsum(lengths) - lengths), lengths)
        return self.pair_row[np.arange(lengths.sum()) + offset]

    def neutral(self, labels, k) -> np.ndarray:
        """Per member: common (in >= KEEP_COMMON of the rows) and spread over the labels like the
        rows are (each label's share within KEEP_MARGIN of its prior)."""
        total = self.by_fold.sum((1, 2))
        share = self.by_fold.sum(1) / np.maximum(total, 1)[:, None]
        prior = np.bincount(labels, minlength=k) / len(labels)
        return (total >= KEEP_COMMON * self.rows) & (np.abs(share - prior).max(1) <= KEEP_MARGIN)

    def _numbers(self, n_classes: int) -> np.ndarray:
        """Per class, whether most of its strings hold a digit (ratings, scores, prices: values)."""
        # a regex finds ASCII digits 5x faster; str.isdigit also knows superscripts and the like
        digit = np.array([bool(_DIGIT.search(m)) or (not m.isascii() and any(c.isdigit() for c in m)) for m in self.members], bool)
        has = self.member_class >= 0
        count = np.bincount(self.member_class[has], minlength=n_classes)
        return np.bincount(self.member_class[has], weights=digit[has], minlength=n_classes) >= 0.5 * np.maximum(count, 1)

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


def _label_entropy(counts: np.ndarray) -> np.ndarray:
    """Per row of label counts, the entropy (bits) of the labels: H(y|t) of a class's rows."""
    share = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(share > 0, share * np.log2(share), 0.0).sum(1) + 0.0


def encode(found: Matches):
    """The matched strings dictionary-encoded, their distinct values as Python strings, and a memo
    of their members (families sharing a ``member`` method compute them once)."""
    encoded = pc.dictionary_encode(found.strings)
    return encoded, encoded.dictionary.to_pylist(), {}


def _members(family: Family, raw: list[str], memo: dict):
    """Per distinct string its member index (-1: none), the members, and an example of each."""
    method = type(family).member
    if method not in memo:
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
        memo[method] = (raw_member, list(ids), examples)
    return memo[method]


def pair_tally(family: Family, found: Matches, encoded, labels, fold, k: int, min_support: int) -> Tally:
    """Two consecutive matches of one row (the word family's, in order) as one concrete member,
    counted in numpy: only pairs in >= ``min_support`` rows become strings."""
    n = len(labels)
    indices, raw, _ = encoded
    ids = indices.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    rows = found.rows
    same = rows[1:] == rows[:-1]
    code = ids[:-1][same] * max(1, len(raw)) + ids[1:][same]
    pair_code, pair_row = _distinct(code, rows[1:][same], n)
    start = np.flatnonzero(np.diff(pair_code, prepend=-1))  # sorted already: its runs (np.unique would sort again)
    codes, counts = pair_code[start], np.diff(np.append(start, len(pair_code)))
    frequent = counts >= min_support
    keep = np.repeat(frequent, counts)
    member = np.repeat(np.cumsum(frequent) - 1, counts)[keep]
    pair_row = pair_row[keep]
    members = [f"{raw[c // len(raw)]} {raw[c % len(raw)]}" for c in codes[frequent].tolist()]
    by_fold = np.bincount((member * 2 + fold[pair_row]) * k + labels[pair_row], minlength=len(members) * 2 * k)
    return Tally(family, n, members, members, np.arange(len(members)), members, member, pair_row,
                 by_fold.reshape(len(members), 2, k))


RADIX_BITS = 20  # a counting sort's buckets: 2**20 at most


def _distinct(a: np.ndarray, b: np.ndarray, nb: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (a, b) pairs of non-negative integers (b < nb), sorted by a, then b. The keys
    a * nb + b are radix-sorted: stable counting sorts by b (unless the pairs come in row order
    already), then by a, at most RADIX_BITS at a time (one pass for members, two for word pairs); np.sort,
    O(n log n), took a quarter of a scan of IMDB train."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    key = a * nb + b
    if len(key):
        parts = [] if (b[1:] >= b[:-1]).all() else [(np.remainder, nb - 1)]
        parts.append((np.floor_divide, int(a.max())))
        for part, top in parts:
            # digits of even width: fewer buckets stay in cache (IMDB train's word pairs, 33 bits: 0.21 s as 17 + 16, 0.24 s as 20 + 13)
            bits = max(1, top.bit_length())
            width = -(-bits // -(-bits // RADIX_BITS))
            for shift in range(0, bits, width):
                digit = (part(key, nb) >> shift) & ((1 << width) - 1)
                key = _counting_sort(key, digit, min(1 << width, (top >> shift) + 1))
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    return key // nb, key % nb


def _counting_sort(values: np.ndarray, digit: np.ndarray, n_digits: int) -> np.ndarray:
    """``values`` sorted stably by ``digit`` (integers in ``[0, n_digits)``): a counting sort in C++,
    O(n + n_digits). scipy's CSR-to-CSC conversion is one (each position a row of its own: a column
    lists its rows, and their values, in order)."""
    n = len(values)
    index = np.int32 if max(n, n_digits) < 2**31 else np.int64
    by_position = sp.csr_matrix((values, digit.astype(index), np.arange(n + 1, dtype=index)), shape=(n, n_digits))
    return by_position.tocsc().data


def wilson_lower(hits, support, z):
    """Wilson score lower bound on a proportion (one-sided, ``z`` standard errors)."""
    p = hits / support
    center = p + z * z / (2 * support)
    spread = z * np.sqrt(p * (1 - p) / support + z * z / (4 * support * support))
    return (center - spread) / (1 + z * z / support)


def tarone_tests(support: np.ndarray, prior: np.ndarray, alpha: float) -> int:
    """The Bonferroni count of the tests that could be significant at all (Tarone 1990): a test of
    ``support`` rows can reach at best z = sqrt(support (1 - prior) / prior) (every row in the
    label); the smallest m such that at most m tests could reach p < alpha / m. Rare strings, most
    of the tests a scan makes, cannot be significant and no longer dilute the level."""
    from scipy.special import ndtr

    if not len(support):
        return 1
    best = np.sort(ndtr(-np.sqrt(support * (1 - prior) / prior)))
    low, high = 1, len(best)
    while low < high:  # could(m) = tests whose best p-value is < alpha / m, falling with m
        m = (low + high) // 2
        if np.searchsorted(best, alpha / m) <= m:
            high = m
        else:
            low = m + 1
    return low


def excess_share(hits, support, label_rows, rows):
    """Share of a class's label rows that the other labels' rate does not explain: 1 - rate
    elsewhere / rate in the label. Planted rows raise the rate of one label only; natural strings
    turn up at a background rate in every label (unlike purity, the same bar for a label of 13% of
    the rows as for one of 87%)."""
    inside = hits / np.maximum(label_rows, 1)
    outside = (support - hits) / np.maximum(rows - label_rows, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inside > 0, 1 - outside / inside, 0.0)


def lift_bound(hits, support, prior, z):
    """The lower bound on purity as lift over the prior: (LB - prior) / (1 - prior)."""
    return (wilson_lower(hits, support, z) - prior) / (1 - prior)

