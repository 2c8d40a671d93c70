"""A family's matches reduced to distinct (member, row) pairs: the radix sort gives what sorting
and np.unique give, word pairs are counted like plain Python counts them, and a tally's rows of
some members are those a pass over all its pairs picks; the label statistics of a scan: Tarone's
count of the tests that could be significant, and the share of a label's rows beyond the other
labels' rate."""

import re
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest

from ssti_hf.detect.families import _TAG, FAMILIES
from ssti_hf.detect.statistics import Tally, _distinct, encode, excess_share, pair_tally, tarone_tests


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


# The label statistics of a scan: Tarone's count of the tests that could be significant, and the
# share of a label's rows beyond the other labels' rate.


def test_tarone_counts_only_tests_that_could_be_significant():
    prior = np.full(10_010, 0.5)
    rare = np.full(10_000, 10)  # best p of 10 rows at prior 0.5: 7.8e-4, not under 0.01 / m for m >= 13
    frequent = np.full(10, 500)
    assert tarone_tests(np.r_[rare, frequent], prior, 0.01) == 13  # the smallest m with <= m tests that could pass
    assert tarone_tests(np.full(50, 500), np.full(50, 0.5), 0.01) == 50
    # a 5-class corpus (prior 0.2): 10 rows can reach p ~ 1e-10, so they count
    assert tarone_tests(np.full(1000, 10), np.full(1000, 0.2), 0.01) == 1000


def test_excess_share_is_the_same_bar_for_a_small_and_a_large_label():
    # 100 rows, 5 of them in other labels: in a 13% label (SMS spam) and in an 87% label (ham)
    rows = 4862
    small = excess_share(np.array([95]), np.array([100]), np.array([632]), rows)[0]
    large = excess_share(np.array([95]), np.array([100]), np.array([4230]), rows)[0]
    assert small > 0.99 and large < 0.7  # the same purity says much more in the small label
    balanced = excess_share(np.array([95]), np.array([100]), np.array([1000]), 2000)[0]
    assert abs(balanced - (1 - 5 / 95)) < 1e-9

