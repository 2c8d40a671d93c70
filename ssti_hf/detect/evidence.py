"""Planted or natural? Injection picks rows at random within a label, so given the label a planted
string's presence is independent of the rest of the text, while natural label signal ("worst",
tennis scores in sport news) comes with its content. The test: within the label's rows, a
cross-validated ridge classifier on the rows' words (the candidate's own words left out)
predicts which rows hold the candidate; its ROC-AUC is about 0.5 for a planted string and well
above for a natural one."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

FOLDS = 3
SAMPLE = 200  # rows of each side (holding / not holding the candidate) at most, seeded
MIN_ROWS = 3  # a word is a feature when this many sampled rows hold it
RIDGE = 1.0  # L2 penalty of the ridge classifier
REPEATS = 3  # samples and fold splits averaged
NULL_DRAWS = 8  # random sets of rows that measure chance's spread, where the standard error alone would reject
CLEAR = 0.7  # unless the first draw is above this: content (one draw of 0.5 spreads ~0.04-0.07 on clean corpora)


def _auc(scores: np.ndarray, y: np.ndarray) -> float:
    """ROC-AUC from ranks (Mann-Whitney U), ties halved."""
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    n_pos, n_neg = y.sum(), (~y).sum()
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auc_se(n_pos: int, n_neg: int) -> float:
    """Standard error of a ROC-AUC of 0.5 (no signal) with these sides (Hanley and McNeil 1982)."""
    return float(np.sqrt((n_pos + n_neg + 1) / (12.0 * n_pos * n_neg)))


class Content:
    """The rows' words as a binary sparse matrix (rows x words), built once per scan from
    families' distinct (member, row) pairs: ``sources`` of (pair_member, pair_row, the members'
    words; members of one word share its column)."""

    def __init__(self, sources: list[tuple[np.ndarray, np.ndarray, list[str]]], rows: int):
        self.index: dict[str, int] = {}
        columns, pair_rows = [], []
        for pair_member, pair_row, words in sources:
            column = np.array([self.index.setdefault(w, len(self.index)) for w in words], np.int64)
            columns.append(column[pair_member] if len(words) else np.zeros(0, np.int64))
            pair_rows.append(pair_row)
        column, row = np.concatenate(columns), np.concatenate(pair_rows)
        # a column once per row: the binary matrix of "the row holds the word"
        self.matrix = sp.csr_matrix((np.ones(len(row)), (row, column)), shape=(rows, len(self.index)))
        self.matrix.sum_duplicates()
        self.matrix.data[:] = 1.0

    def auc(self, holding: np.ndarray, others: np.ndarray, exclude, seed: int = 0):
        """Cross-validated ROC-AUC of telling ``holding`` rows from ``others`` by their words
        (``exclude``: the candidate's own words), the mean over :data:`REPEATS` samples and fold
        splits, the rows used and the two sides' sizes. None: too few rows, or no words beside the
        candidate's own.

        One sample and split is noisy: on random rows of a clean corpus its AUC spreads 1.4-1.6
        times as wide as Hanley and McNeil's standard error says (IMDB, 40 draws), so that a
        planted string can score 0.62 on one draw and 0.41-0.55 on seven others."""
        if len(holding) < 2 * FOLDS or len(others) < 2 * FOLDS:
            return None
        runs = [self._auc_once(holding, others, exclude, seed)]
        if runs[0] is None:
            return None
        while len(runs) < REPEATS and runs[0][0] <= CLEAR:  # far above 0.5, one draw says enough
            runs.append(self._auc_once(holding, others, exclude, seed + len(runs)))
        runs = [r for r in runs if r is not None]
        return float(np.mean([r[0] for r in runs])), runs[0][1], runs[0][2], runs[0][3]

    def null_spread(self, others: np.ndarray, size: int, exclude, seed: int = 0) -> float | None:
        """The spread (standard deviation) of :meth:`auc` over :data:`NULL_DRAWS` sets of ``size``
        rows drawn at random from ``others`` (the rest of them the other side): what chance gives
        on this label's content. On some it spreads wider than Hanley and McNeil's standard error
        says: 0.039 on TREC's location questions (draws of 209 of 626 rows), against 0.029; on
        IMDB's reviews 0.022-0.031, at or under it. None: too few rows for both sides."""
        size = min(size, len(others) // 2)
        if size < 2 * FOLDS:
            return None
        rng = np.random.default_rng(seed)
        aucs = []
        for draw in range(NULL_DRAWS):
            chosen = np.zeros(len(others), bool)
            chosen[rng.permutation(len(others))[:size]] = True
            result = self.auc(others[chosen], others[~chosen], exclude, seed + draw)
            if result is not None:
                aucs.append(result[0])
        return float(np.std(aucs, ddof=1)) if len(aucs) >= NULL_DRAWS // 2 else None

    def _auc_once(self, holding, others, exclude, seed):
        from sklearn.preprocessing import normalize

        rng = np.random.default_rng(seed)
        pos, neg = rng.permutation(holding)[:SAMPLE], rng.permutation(others)[:SAMPLE]
        y = np.r_[np.ones(len(pos), bool), np.zeros(len(neg), bool)]
        x = self.matrix[np.concatenate([pos, neg])]
        used = np.asarray(x.sum(0)).ravel() >= MIN_ROWS
        used[[self.index[w] for w in exclude if w in self.index]] = False
        if not used.any():  # no word to read besides its own (a class of whole CJK clauses): no test
            return None
        x = normalize(x[:, np.flatnonzero(used)])
        gram = (x @ x.T).toarray()  # a linear kernel: ridge regression in its dual form, 3 solves of n x n
        fold = np.empty(len(y), np.int64)
        for side in (y, ~y):  # stratified folds
            where = np.flatnonzero(side)
            fold[where] = rng.permutation(len(where)) % FOLDS
        target = np.where(y, 1.0, -1.0)
        scores = np.zeros(len(y))
        for f in range(FOLDS):
            train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
            t = target[train] - target[train].mean()
            dual = np.linalg.solve(gram[np.ix_(train, train)] + RIDGE * np.eye(len(train)), t)
            scores[test] = gram[np.ix_(test, train)] @ dual
        return _auc(scores, y), len(y), int(y.sum()), int((~y).sum())


class LabelMargin:
    """How strongly each row's words say its label: one-vs-rest Bernoulli naive Bayes weights per
    label, fitted in closed form on all rows. Rows holding natural label signal ("awful." in a
    negative review) say their label more strongly than the label's other rows; rows that an
    injection picked at random do not."""

    def __init__(self, content: Content, labels: np.ndarray, k: int):
        x = content.matrix
        self.x, self.labels, self.weights = x, labels, []
        self._rows: dict[int, tuple] = {}  # label -> its rows and their words, sliced once
        for label in range(k):
            inside = labels == label
            p = (np.asarray(x[inside].sum(0)).ravel() + 1) / (inside.sum() + 2)
            q = (np.asarray(x[~inside].sum(0)).ravel() + 1) / ((~inside).sum() + 2)
            self.weights.append(np.log(p / q) - np.log((1 - p) / (1 - q)))

    def auc(self, holding: np.ndarray, label: int, exclude_columns, besides=None) -> float | None:
        """``besides``: rows of the label left out of the comparison."""
        w = self.weights[label].copy()
        w[list(exclude_columns)] = 0.0
        if label not in self._rows:
            rows = np.flatnonzero(self.labels == label)
            self._rows[label] = rows, self.x[rows]
        rows, x = self._rows[label]
        y = np.isin(rows, holding)
        scores = x @ w
        if besides is not None and len(besides):
            kept = y | ~np.isin(rows, besides)
            y, scores = y[kept], scores[kept]
        if y.sum() < 2 or (~y).sum() < 2:
            return None
        return _auc(scores, y)
