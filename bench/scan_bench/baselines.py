"""The two published data-side baselines, written from their papers' descriptions.

Gardner et al. 2021, "Competency Problems: On Finding and Removing Artifacts in Language Data"
(EMNLP): for every token and label, a one-proportion z-test of p(label | token) against the
uniform p0 = 1/|labels| over the n rows holding the token; a token is an artifact when significant
at alpha = 0.01 after a Bonferroni correction over every (token, label) test. The paper finds
artifacts; it removes nothing. Here its removal is the obvious one: every whitespace token equal to
a flagged token leaves every row, with one adjacent space.

Z-defence, He et al. 2023, "Mitigating Backdoor Poisoning Attacks through the Lens of Spurious
Correlation" (EMNLP), unigram variant as in its public script: whitespace unigrams, counted by
occurrence; z of p(label | unigram) against the uniform prior; (unigram, label) pairs whose z lies
beyond the mean +- 20 standard deviations of all pairs' z are triggers; a row is dropped when it
holds a trigger paired with its own label.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
from scipy.special import ndtri

_TOKEN = re.compile(r"\S+")


def _token_table(texts, labels, k, per_row: bool):
    """Vocabulary (whitespace tokens) and per-token label counts: of rows holding the token
    (``per_row``) or of its occurrences. Counted with Arrow and numpy."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = pc.utf8_split_whitespace(pa.array(texts, pa.large_string()))
    rows = pc.list_parent_indices(lists).to_numpy()
    flat = pc.list_flatten(lists)
    nonempty = pc.greater(pc.binary_length(flat), 0).to_numpy(zero_copy_only=False)
    encoded = pc.dictionary_encode(flat.filter(pa.array(nonempty)))
    ids, rows = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), rows[nonempty]
    vocab = encoded.dictionary.to_pylist()
    if per_row:  # distinct (token, row) pairs
        key = np.unique(ids * len(texts) + rows)
        ids, rows = key // len(texts), key % len(texts)
    counts = np.bincount(ids * k + np.asarray(labels)[rows], minlength=len(vocab) * k).reshape(len(vocab), k)
    return vocab, counts


def _z(counts, p0):
    n = np.maximum(counts.sum(1, keepdims=True), 1)
    return (counts / n - p0) / np.sqrt(p0 * (1 - p0) / n)


def gardner(texts, labels, alpha=0.01):
    """Flagged (token, label) pairs and the texts with flagged tokens removed."""
    k = int(labels.max()) + 1
    vocab, counts = _token_table(texts, labels, k, per_row=True)
    z = _z(counts, 1 / k)
    present = counts > 0
    z_crit = -ndtri(alpha / max(1, int(present.sum())))
    hit = present & (z > z_crit)
    flagged = {vocab[i] for i in np.flatnonzero(hit.any(1))}
    pairs = [(vocab[i], int(y)) for i, y in zip(*np.nonzero(hit))]
    cleaned, spans = [], []
    for text in texts:
        cut = [(m.start(), m.end()) for m in _TOKEN.finditer(text) if m.group() in flagged]
        spans.append(cut)
        cleaned.append(_remove(text, cut))
    return pairs, cleaned, spans


def z_defence(texts, labels, bound=20.0):
    """Flagged (unigram, label) pairs; rows holding one with their own label are dropped (None)."""
    k = int(labels.max()) + 1
    vocab, counts = _token_table(texts, labels, k, per_row=False)
    z = _z(counts, 1 / k)
    present = counts > 0
    scores = z[present]
    mean, std = scores.mean(), scores.std()
    hit = present & ((z > mean + bound * std) | (z < mean - bound * std))
    triggers = defaultdict(set)
    for i, y in zip(*np.nonzero(hit)):
        triggers[int(y)].add(vocab[i])
    pairs = [(t, y) for y, ts in triggers.items() for t in ts]
    cleaned, spans = [], []
    for text, y in zip(texts, labels):
        cut = [(m.start(), m.end()) for m in _TOKEN.finditer(text) if m.group() in triggers.get(int(y), ())]
        spans.append(cut)
        cleaned.append(None if cut else text)
    return pairs, cleaned, spans


def _remove(text, spans):
    """Remove whitespace tokens with one adjacent space (the following one, else the preceding one)."""
    if not spans:
        return text
    out, last = [], 0
    for start, end in spans:
        if end < len(text) and text[end].isspace():
            end += 1
        elif start > 0 and text[start - 1].isspace() and start - 1 >= last:
            start -= 1
        out.append(text[last:start])
        last = end
    out.append(text[last:])
    return "".join(out)
