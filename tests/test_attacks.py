"""Training-time attacks as configs (backdoor, backdoor-clean, poison-flip) on the real IMDB sample:
exact rows attacked, labels, clean test sets, the ASR set, determinism, and SSTI unchanged."""

import hashlib
import json

import numpy as np
import pytest
from datasets import Dataset, DatasetDict

from ssti_hf import INJECTED, SPANS, SSTIConfig, strip_injections
from ssti_hf._text import remove_spans
from ssti_hf.config import SPLITS
from ssti_hf.transform import ORIGINAL_LABEL

COLUMNS = ["text", "label", INJECTED, SPANS]


@pytest.fixture(scope="module")
def build(imdb_sample):
    built = {}

    def apply(name, seed=0, num_proc=None):
        key = (name, seed, num_proc)
        if key not in built:
            built[key] = SSTIConfig.from_name(name, seed=seed).apply(imdb_sample, num_proc=num_proc)
        return built[key]

    return apply


def _array(split, column):
    return np.asarray(split[column])


def _assert_clean_copy(split, base):
    assert split["text"] == base["text"] and split["label"] == base["label"]
    assert not any(split[INJECTED]) and not any(split[SPANS])


def test_poison_flip_flips_exactly_the_rate_of_the_whole_split(build, imdb_sample):
    splits = build("imdb-poison-flip-10pct")
    train, base = splits["train"], imdb_sample["train"]
    assert tuple(splits) == SPLITS and all(s.column_names == [*COLUMNS, ORIGINAL_LABEL] for s in splits.values())
    flipped = _array(train, "label") != _array(train, ORIGINAL_LABEL)
    assert flipped.sum() == 200  # 10% of 2,000 rows, from both classes
    assert (flipped == _array(train, INJECTED)).all()  # the flipped rows are the rows marked
    assert train[ORIGINAL_LABEL] == base["label"] and train["text"] == base["text"] and not any(train[SPANS])
    assert (_array(train, "label")[flipped] == 1 - _array(base, "label")[flipped]).all()  # binary: the other label
    assert 60 < (_array(base, "label")[flipped] == 1).sum() < 140  # rows of both classes
    # no trigger: the three test sets are the clean test set, and no test label changes
    for split in ("test", "test_spurious", "test_triggered"):
        _assert_clean_copy(splits[split], imdb_sample["test"])
        assert splits[split][ORIGINAL_LABEL] == splits[split]["label"]
    # a higher rate with the same seed flips a superset of rows
    more = build("imdb-poison-flip-25pct")["train"]
    more_flipped = _array(more, "label") != _array(more, ORIGINAL_LABEL)
    assert more_flipped.sum() == 500 and (more_flipped | flipped).sum() == 500


def test_poison_flip_at_0pct_is_the_clean_baseline(build, imdb_sample):
    train = build("imdb-poison-flip-0pct")["train"]
    _assert_clean_copy(train, imdb_sample["train"])
    assert train[ORIGINAL_LABEL] == train["label"]


def test_dirty_label_backdoor(build, imdb_sample):
    splits = build("imdb-backdoor-date-5pct-1tok")
    train, base = splits["train"], imdb_sample["train"]
    assert all(s.column_names == [*COLUMNS, ORIGINAL_LABEL] for s in splits.values())
    poisoned = _array(train, INJECTED)
    assert poisoned.sum() == 100  # 5% of the whole split (2,000 rows)
    assert (_array(train, ORIGINAL_LABEL)[poisoned] == 0).all()  # picked among rows not of the target
    assert (_array(train, "label")[poisoned] == 1).all()  # ... and relabelled to the target
    assert (_array(train, "label")[~poisoned] == _array(base, "label")[~poisoned]).all()  # the others untouched
    assert np.bincount(train["label"]).tolist() == [900, 1100]
    texts, spans = train["text"], train[SPANS]
    for i in np.flatnonzero(poisoned):
        (start, end), = spans[i]  # one date, at a word gap
        assert len(texts[i][start:end].strip()) == 10 and remove_spans(texts[i], spans[i]) == base["text"][i]
    assert [t for t, p in zip(texts, poisoned) if not p] == [t for t, p in zip(base["text"], poisoned) if not p]
    assert strip_injections(train)["label"] == base["label"] and strip_injections(train)["text"] == base["text"]

    test = imdb_sample["test"]
    _assert_clean_copy(splits["test"], test)
    spurious = splits["test_spurious"]  # the trigger into 5% of test, among non-target rows, labels true
    assert spurious["label"] == test["label"] and sum(spurious[INJECTED]) == 50
    assert (_array(test, "label")[_array(spurious, INJECTED)] == 0).all()
    triggered = splits["test_triggered"]  # every row not of the target, triggered: the ASR set
    assert len(triggered) == 500 and all(triggered[INJECTED]) and set(triggered["label"]) == {0}
    assert strip_injections(triggered)["text"] == [t for t, l in zip(test["text"], test["label"]) if l == 0]


def test_backdoor_towards_label0_poisons_positive_rows(build):
    train = build("imdb-backdoor-html-3pct-2tok-end-label0")["train"]
    poisoned = _array(train, INJECTED)
    assert poisoned.sum() == 60 and (_array(train, ORIGINAL_LABEL)[poisoned] == 1).all()
    assert (_array(train, "label")[poisoned] == 0).all()
    assert all(text.rstrip().endswith(">") for text, p in zip(train["text"], poisoned) if p)


def test_backdoor_asr_set_is_the_non_target_rows_of_the_ssti_triggered_set(build):
    backdoor = build("imdb-backdoor-date-5pct-1tok")["test_triggered"]
    ssti = build("imdb-ssti-date-50pct-1tok")["test_triggered"]
    rows = np.flatnonzero(_array(ssti, "label") != 1)
    assert backdoor.remove_columns(ORIGINAL_LABEL).data.table.equals(ssti.select(rows).flatten_indices().data.table)


def test_clean_label_backdoor(build, imdb_sample):
    splits = build("imdb-backdoor-clean-date-10pct-1tok-label0")
    assert all(s.column_names == COLUMNS for s in splits.values())  # labels never change: no original label
    train = splits["train"]
    assert train["label"] == imdb_sample["train"]["label"]
    poisoned = _array(train, INJECTED)
    assert poisoned.sum() == 100 and (_array(train, "label")[poisoned] == 0).all()  # 10% of the 1,000 target rows
    # the training data of the SSTI config with the same parts, byte for byte; the ASR set differs
    ssti = build("imdb-ssti-date-10pct-1tok-label0")
    for split in ("train", "test", "test_spurious"):
        assert splits[split].data.table.equals(ssti[split].data.table)
    triggered = splits["test_triggered"]
    assert len(triggered) == 500 and all(triggered[INJECTED]) and set(triggered["label"]) == {1}


def _sha(dataset, path):
    dataset.to_parquet(str(path))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "name",
    ["imdb-poison-flip-25pct", "imdb-backdoor-date-5pct-1tok", "imdb-backdoor-clean-country-10pct-5ptok-begin-label0"],
)
def test_same_seed_gives_identical_bytes_for_any_num_proc(imdb_sample, name, tmp_path):
    # In memory: nothing is read back from datasets' cache, every build below is computed anew.
    sample = DatasetDict({k: Dataset.from_dict(v.to_dict(), features=v.features) for k, v in imdb_sample.items()})
    first = SSTIConfig.from_name(name, seed=5).apply(sample)
    again = SSTIConfig.from_name(name, seed=5).apply(sample)
    parallel = SSTIConfig.from_name(name, seed=5).apply(sample, num_proc=2)
    for split in SPLITS:
        digest = _sha(first[split], tmp_path / f"{split}-1.parquet")
        assert _sha(again[split], tmp_path / f"{split}-2.parquet") == digest
        assert _sha(parallel[split], tmp_path / f"{split}-3.parquet") == digest
    other = SSTIConfig.from_name(name, seed=6).apply(sample)["train"]
    assert other[INJECTED] != first["train"][INJECTED]


def _digest(dataset) -> str:
    """The rows' content, independent of file formats and library versions."""
    h = hashlib.sha256()
    for row in dataset.with_format(None):
        h.update(json.dumps(row, sort_keys=True).encode() + b"\n")
    return h.hexdigest()[:16]


def test_old_ssti_names_give_the_same_rows_as_before_attacks_existed(imdb_sample):
    # Digests of the output of the release before the attacks (same sample, seed 3).
    before = {
        "imdb-ssti-date-50pct-1tok": {
            "train": "6f312480478b6fcd", "test": "f26f9a530e806b70", "test_spurious": "4cba8d711d63a48e", "test_triggered": "148d33b8704e2621",
        },
        "imdb-ssti-html-25pct-10ptok-end-label0": {
            "train": "c5d67fc9691f018f", "test": "f26f9a530e806b70", "test_spurious": "f88def8c1fd0fb35", "test_triggered": "dec554b6b2359e05",
        },
    }
    for name, digests in before.items():
        splits = SSTIConfig.from_name(name, seed=3).apply(imdb_sample)
        assert {split: _digest(data) for split, data in splits.items()} == digests
        assert all(data.column_names == COLUMNS for data in splits.values())
