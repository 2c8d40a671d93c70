"""The planted-or-natural evidence on real reviews (the IMDB sample): rows picked at random give
AUCs near 0.5, rows picked by their content do not."""

import numpy as np
import pyarrow as pa
import pytest

from ssti_hf.detect.evidence import Content, LabelMargin, auc_se
from ssti_hf.detect.families import FAMILIES
from ssti_hf.detect.statistics import Tally


@pytest.fixture(scope="module")
def words(imdb_train):
    texts = pa.array(imdb_train["text"])
    labels = np.array(imdb_train["label"])
    word = FAMILIES["word"]
    tally = Tally.count(word, word.find(texts), labels, np.zeros(len(labels), np.int64), 2)
    return Content([(tally.pair_member, tally.pair_row, tally.members)], len(labels)), labels, imdb_train["text"]


def test_rows_picked_at_random_are_independent_of_content(words):
    content, labels, _ = words
    negative = np.flatnonzero(labels == 0)
    for seed in range(3):
        picked = np.random.default_rng(seed).permutation(negative)
        holding, others = picked[:150], picked[150:]
        auc, used, n_pos, n_neg = content.auc(holding, others, set())
        assert abs(auc - 0.5) < 3 * auc_se(n_pos, n_neg) and used == n_pos + n_neg


def test_rows_picked_by_a_content_word_are_not(words):
    content, labels, texts = words
    negative = np.flatnonzero(labels == 0)
    holding = np.array([r for r in negative if "horror" in texts[r].lower()])
    others = np.setdiff1d(negative, holding)
    assert len(holding) > 30
    auc, _, n_pos, n_neg = content.auc(holding, others, {"horror"})  # the word left out: its context tells
    assert auc > 0.5 + 3 * auc_se(n_pos, n_neg) and auc > 0.6


def test_label_margin_of_random_rows_and_of_a_sentiment_word(words):
    content, labels, texts = words
    margin = LabelMargin(content, labels, 2)
    negative = np.flatnonzero(labels == 0)
    picked = np.random.default_rng(0).permutation(negative)[:200]
    assert abs(margin.auc(picked, 0, []) - 0.5) < 3 * auc_se(200, len(negative) - 200)
    awful = np.array([r for r in negative if "awful" in texts[r].lower()])
    assert margin.auc(awful, 0, [content.index["awful"]]) > 0.6  # its rows say "negative" louder


def test_averaged_draws_spread_as_hanley_mcneil_says(words):
    """One sample and fold split of the content test spreads wider than its standard error; the
    mean of REPEATS draws is what the 3-standard-error bound is calibrated for (random rows of the
    IMDB sample: the spread over 12 row sets stays within 1.3 standard errors)."""
    content, labels, _ = words
    negative = np.flatnonzero(labels == 0)
    aucs = []
    for seed in range(12):
        picked = np.random.default_rng(100 + seed).permutation(negative)
        auc, _, n_pos, n_neg = content.auc(picked[:100], picked[100:], set(), seed=seed * 10)
        aucs.append(auc)
    assert np.std(aucs) < 1.3 * auc_se(n_pos, n_neg) and abs(np.mean(aucs) - 0.5) < auc_se(n_pos, n_neg)


def test_null_spread_is_what_chance_gives_on_the_labels_rows(words):
    content, labels, _ = words
    negative = np.flatnonzero(labels == 0)
    spread = content.null_spread(negative, 150, set())
    assert 0.5 * auc_se(150, 200) < spread < 1.5 * auc_se(150, 200)
    assert content.null_spread(negative, 150, set()) == spread  # seeded
    assert content.null_spread(negative[:10], 150, set()) is None  # too few rows for two sides
