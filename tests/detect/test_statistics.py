"""A family's matches reduced to distinct (member, row) pairs: the radix sort gives what sorting
and np.unique give, word pairs are counted like plain Python counts them, and a tally's rows of
some members are those a pass over all its pairs picks."""

import re
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest

from ssti_hf.detect.families import _TAG, FAMILIES
from ssti_hf.detect.statistics import Tally, _distinct, encode, pair_tally


@pytest.mark.parametrize("top", [1, 7, 70_000, 2**21, 2**35])  # one radix pass, several, keys beyond 32 bits
@pytest.mark.parametrize("in_row_order", [True, False])
def test_distinct_pairs_are_those_of_np_unique(top, in_row_order):
    rng = np.random.default_rng(top)
    for n, nb in [(0, 5), (1, 1), (3000, 40), (3000, 3_000_000)]:
        a, b = rng.integers(0, top, n), rng.integers(0, nb, n)
        if in_row_order:
            b = np.sort(b)
        pairs = np.unique(np.stack([a, b], 1), axis=0)
        got_a, got_b = _distinct(a, b, nb)
        assert got_a.tolist() == pairs[:, 0].tolist() and got_b.tolist() == pairs[:, 1].tolist()
        assert got_a.dtype == got_b.dtype == np.int64


def test_word_pairs_are_counted_like_python_counts_them(imdb_train):
    texts, labels = imdb_train["text"], np.array(imdb_train["label"])
    rows_of = defaultdict(set)
    for row, text in enumerate(texts):
        words = re.findall(r"[a-z]+", re.sub(_TAG, " ", text).lower())
        for pair in zip(words, words[1:]):
            rows_of[" ".join(pair)].add(row)
    expected = {pair: sorted(rows) for pair, rows in rows_of.items() if len(rows) >= 10}
    word = FAMILIES["word"]
    found = word.find(pa.array(texts))
    tally = pair_tally(FAMILIES["word pair"], found, encode(found), labels, np.zeros(len(labels), np.int64), 2, 10)
    code = {w: i for i, w in enumerate(encode(found)[1])}  # pairs come in the order of their words' first occurrence
    assert tally.members == sorted(expected, key=lambda pair: [code[w] for w in pair.split(" ")])
    runs = np.split(tally.pair_row, np.flatnonzero(np.diff(tally.pair_member)) + 1)
    assert {m: rows.tolist() for m, rows in zip(tally.members, runs)} == expected
    assert tally.by_fold.sum((1, 2)).tolist() == [len(expected[m]) for m in tally.members]


def test_rows_of_members_are_those_a_pass_over_all_pairs_picks(imdb_train):
    texts, labels = pa.array(imdb_train["text"]), np.array(imdb_train["label"])
    for name in ("word", "token kinds"):
        family = FAMILIES[name]
        tally = Tally.count(family, family.find(texts), labels, np.zeros(len(labels), np.int64), 2)
        rng = np.random.default_rng(0)
        for members in ([], [0], rng.choice(len(tally.members), 50, replace=False), np.arange(len(tally.members))):
            members = np.asarray(members, np.int64)
            expected = tally.pair_row[np.isin(tally.pair_member, members)]
            assert sorted(tally.rows_of(members).tolist()) == sorted(expected.tolist())
