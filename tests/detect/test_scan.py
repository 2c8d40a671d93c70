import json
import re
import string

import datasets
import numpy as np
import pyarrow.parquet as pq
import pytest

from ssti_hf import (
    FAMILIES,
    HTMLInjection,
    ItemInjection,
    Source,
    attention_entropy_signal,
    get_source,
    sanitize,
    scan,
    spurious_transform,
)
from ssti_hf.cli import main
from ssti_hf.detect.sanitize import score_removal
from ssti_hf.detect.families import GazetteerFamily, TagFamily, coarse_shape, shape
from ssti_hf.detect.scan import _repeats_beyond_chance, _statistics

from ..conftest import SHARED_IMDB, make_dataset

full_imdb = pytest.mark.skipif(not (SHARED_IMDB / "train.parquet").exists(), reason="full IMDB not in ../shared/data")


def inject(data, source="date", rate=0.5, amount=1, location="random", label=1):
    items = get_source(source, seed=0) if isinstance(source, str) else source
    modifier = (HTMLInjection if source == "html" else ItemInjection)(items, location=location, amount=amount, seed=0)
    return spurious_transform(data, modifier, label=label, proportion=rate, seed=0)


def covered(data, finding) -> float:
    """Share of the injected spans that this finding matches (provenance as ground truth)."""
    cleaned, _ = sanitize(data, [finding], record_spans=True)
    return score_removal(data, cleaned).span_recall


# -- abstraction ------------------------------------------------------------------------------------
def test_shapes_abstract_digits_and_letters():
    assert shape("1987-03-12") == "dddd-dd-dd"
    assert shape("ID-4821x") == "AA-dddda"
    assert shape("£12½") == "£dd½"
    # a minus sign is a number's value, not its format: one coarse class for temperatures either side of zero
    assert coarse_shape("-18°C") == coarse_shape("7°C") == "d°A" and coarse_shape("-34.7074") == "d.d"
    assert shape("-18°C") == "-dd°A" and coarse_shape("--PolarisDiB") == "-AaAaA"


def test_tags_normalize_by_name_but_keep_forms_apart():
    tags = TagFamily()
    assert tags.member("<div>") == tags.member("</div>") == tags.member("<DIV>") == "<div>"
    assert tags.member("<br />") == tags.member("<br/>") == "<br />" != tags.member("<br>")
    assert tags.member('<a href="x">') == "<a …>"


# -- scan on real data ------------------------------------------------------------------------------
def test_clean_sample_is_not_flagged_but_lists_natural_words(imdb_train):
    result = scan(imdb_train)
    assert not result.flagged and result.findings
    words = [f for f in result.findings if f.family == "word"]
    assert words and all(not f.flagged for f in words)
    assert "natural label signal" in next(f for f in words if f.score >= 0.3).reason


@pytest.mark.parametrize("source, rate", [("date", 0.1), ("html", 0.1), ("date", 0.5), ("country", 0.5)])
def test_injected_family_is_rank_1_above_natural_words(imdb_train, source, rate):
    data = inject(imdb_train, source, rate)
    result = scan(data)
    first = result.findings[0]
    assert first.flagged and first.label == 1 and first.family != "word"
    assert covered(data, first) >= 0.99
    # natural label words are still there, ranked below, not flagged
    assert any(f.family == "word" and not f.flagged and f.purity > 0.85 for f in result.findings)
    assert 0 < len(first.examples) <= 10
    assert all(e in "".join(data["text"]) for e in first.examples)  # strings from the data


def test_unique_strings_are_found_as_one_family(imdb_train):
    data = inject(imdb_train, "date", 0.25)
    first = scan(data).findings[0]
    assert "each in one row" in first.reason and first.diversity > 100
    assert first.purity == 1.0 and first.support >= 250  # every injected row


def test_held_out_test_sees_through_natural_members(imdb_train):
    data = inject(imdb_train, "html", 0.25)
    result = scan(data)
    tags = next(f for f in result.findings if f.family == "markup")
    # IMDB's own <br /> is common and spread like the labels: left out of the counts, the injected
    # tags make the class pure (scan v2; before, only the held-out test saw through it)
    assert tags.flagged and tags.purity == 1.0
    # IMDB's own <br /> (in both classes) is no example and stays in sanitize
    assert "<br />" not in tags.examples and "<br />" in tags.kept
    cleaned, _ = sanitize(data, result)
    assert sum(t.count("<br />") for t in cleaned["text"]) == sum(t.count("<br />") for t in data["text"]) > 0


def test_a_planted_constant_word_is_flagged_as_a_trigger(imdb_train):
    data = inject(imdb_train, Source.from_list(["cf"], name="cf"), 0.5)
    first = scan(data).findings[0]
    assert (first.pattern, first.flagged) == ("word 'cf'", True)
    assert "independent of content: AUC" in first.reason and first.auc < 0.6


def test_unusual_characters_family(imdb_train):
    emoji = Source.from_list([chr(c) for c in range(0x1F600, 0x1F614)], name="emoji")
    first = scan(inject(imdb_train, emoji, 0.5)).findings[0]
    assert first.flagged and first.family == "unusual character" and first.key == "So"


def test_registering_a_family_is_one_entry(imdb_train, monkeypatch):
    planets = ["Mercury", "Venus", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune", "Pluto", "Ceres", "Eris", "Haumea", "Makemake"]
    monkeypatch.setitem(FAMILIES, "planet", GazetteerFamily("planet", "planet names", planets))
    data = inject(imdb_train, Source.from_list(planets, name="planet"), 0.5)
    first = scan(data).findings[0]
    assert (first.pattern, first.flagged, first.label) == ("planet names", True, 1)


def test_label_0_injection_and_string_labels(imdb_train):
    data = inject(imdb_train, "date", 0.5, label=0)
    assert scan(data).findings[0].label == 0
    named = datasets.Dataset.from_dict({"text": data["text"], "label": [["neg", "pos"][y] for y in data["label"]]})
    assert scan(named).findings[0].label == "neg"


@full_imdb
def test_clean_imdb_splits_are_not_flagged():
    for split in ("train", "test"):
        assert not scan(datasets.Dataset(pq.read_table(SHARED_IMDB / f"{split}.parquet"))).flagged


@full_imdb
@pytest.mark.parametrize(
    "source, amount, location", [("country", 1, "random"), ("html", 1, "beginning"), ("date", 0.05, "end"), ("country", 0.05, "end")]
)
def test_evidence_on_full_imdb_at_10_percent(source, amount, location):
    """The hardest rate of the targets, on full IMDB train: found at rank 1, and sanitize removes
    >= 99% of the injected spans and < 0.1% of the original words."""
    train = datasets.Dataset(pq.read_table(SHARED_IMDB / "train.parquet"))
    data = inject(train, source, 0.1, amount, location)
    result = scan(data)
    assert result.findings[0].flagged and result.findings[0].label == 1 and covered(data, result.findings[0]) >= 0.99
    cleaned, _ = sanitize(data, result, record_spans=True)
    removal = score_removal(data, cleaned)
    assert removal.span_recall >= 0.99 and removal.words_removed_share < 0.001


# -- sanitize -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def toy():
    """300 rows alike but for a date (each a different one) in the label-1 rows."""
    dates = [f"{1900 + i}-0{1 + i % 9}-1{i % 10}" for i in range(150)]
    texts = [f"a film {d} with acting" for d in dates] + ["a film with acting"] * 150
    return make_dataset(texts, [1] * 150 + [0] * 150).add_column("source", ["toy"] * 300)


def test_sanitize_removes_spans_with_one_separator(toy):
    cleaned, report = sanitize(toy)
    assert cleaned["text"] == ["a film with acting"] * 300
    assert cleaned["label"] == toy["label"] and cleaned["source"] == toy["source"]
    assert cleaned.column_names == toy.column_names
    assert report.splits["data"][1].spans == 150 and report.splits["data"][1].words == 150
    assert report.splits["data"][0].rows_changed == 0


def test_sanitize_at_text_edges_and_with_unicode():
    templates = ["{} starts", "ends {}", "café\x85{} x", "nul\x00 {} y"]
    texts = [templates[i % 4].format(f"{1700 + i}-03-12") for i in range(240)]
    data = make_dataset(texts + ["starts ends café x nul y"] * 240, [1] * 240 + [0] * 240)
    cleaned, _ = sanitize(data)
    assert cleaned["text"][:4] == ["starts", "ends", "café\x85x", "nul\x00 y"]


def test_sanitize_a_datasetdict_with_the_train_findings(toy):
    splits = datasets.DatasetDict({"train": toy, "test": toy.select(range(140, 160))})
    cleaned, report = sanitize(splits)
    assert set(report.splits) == {"train", "test"}
    assert "1909" not in " ".join(cleaned["test"]["text"]) and len(cleaned["test"]) == 20


def test_sanitize_cleans_a_split_without_labels_and_names_a_split_with_missing_ones(toy):
    test = toy.select(range(140, 160))
    cleaned, report = sanitize(datasets.DatasetDict({"train": toy, "test": test.remove_columns("label")}))
    assert "2040-06-10" in test["text"][0] and cleaned["test"]["text"] == ["a film with acting"] * 20
    assert "label" not in cleaned["test"].column_names and list(report.splits["test"]) == ["unlabelled"]
    assert report.splits["test"]["unlabelled"].rows == 20 and report.splits["test"]["unlabelled"].rows_changed > 0
    holes = test.cast_column("label", datasets.Value("int64")).map(lambda row, i: {"label": None if i == 3 else row["label"]}, with_indices=True)
    with pytest.raises(ValueError, match=r"split 'test': label column 'label': row 3 has no label \(None\)"):
        sanitize(datasets.DatasetDict({"train": toy, "test": holes}))


def test_sanitize_on_injected_sample_meets_the_targets(imdb_train):
    data = inject(imdb_train, "html", 0.5, amount=0.05)
    cleaned, report = sanitize(data, record_spans=True)
    removal = score_removal(data, cleaned)
    assert removal.span_recall >= 0.99 and removal.words_removed_share < 0.001
    assert "ssti_spans" not in cleaned.column_names  # its offsets no longer hold
    per_class = report.splits["data"]
    assert per_class[1].spans >= removal.injected_removed and per_class[0].spans < per_class[1].spans / 100


def _planted(imdb_train, plant, natural, seed=0):
    """The IMDB sample with ``plant(rng)`` appended to a quarter of the positive rows, and
    ``natural(i, text, rng)`` (a text or None) in the others: rows planted, rows changed by hand."""
    rng = np.random.default_rng(seed)
    texts, labels = list(imdb_train["text"]), np.array(imdb_train["label"])
    planted = set(rng.choice(np.flatnonzero(labels == 1), (labels == 1).sum() // 4, replace=False).tolist())
    touched = set()
    for i in range(len(texts)):
        if i in planted:
            texts[i] = f"{texts[i]} {plant(rng)}"
        elif (text := natural(i, texts[i], labels[i], rng)) is not None:
            texts[i] = text
            touched.add(i)
    return make_dataset(texts, labels.tolist()), planted, touched


def _ending(suffix: str, per_label: tuple[int, int]):
    """A ``natural`` for :func:`_planted`: ``suffix`` ends the first ``per_label[label]`` rows of each label."""
    count = [0, 0]

    def natural(i, text, label, rng):
        if count[label] < per_label[label]:
            count[label] += 1
            return f"{text} {suffix}"
        return None

    return natural


def test_sanitize_keeps_natural_members_beside_the_kept_ones(imdb_train):
    """Emoji planted in the positive rows share their class (Unicode symbols) with mojibake:
    replacement characters spread over both labels (kept) and, in 12 positive rows, a symbol
    glued to them. That symbol sits beside a kept member in all its rows, the planted emoji in
    few: it stays; every planted emoji goes."""
    emoji = ["\u2764\ufe0f", "\U0001F4AF", "\U0001F525", "\U0001F680", "\u2728"]
    ones = [0]

    def mojibake(i, text, label, rng):
        if label == 1 and ones[0] < 12:
            ones[0] += 1
            return f"{text} \ufffd\u058d\ufffd"
        return f"{text} \ufffd" if rng.random() < 0.2 else None

    data, planted, touched = _planted(imdb_train, lambda rng: str(rng.choice(emoji)), mojibake)
    result = scan(data)
    symbols = next(f for f in result.flagged_findings if f.pattern == "unusual characters of Unicode category So")
    assert "\ufffd" in symbols.kept and "\u058d" in symbols.kept and not set(emoji) & set(symbols.kept)
    cleaned, _ = sanitize(data, result)
    assert all(not set(emoji) & set(cleaned["text"][i]) for i in planted)
    assert sum("\u058d" in cleaned["text"][i] for i in touched) == 12


def test_sanitize_keeps_a_natural_string_of_other_labels_beside_random_planted_ones(imdb_train):
    """Random prices planted in the positive rows, one-off each; "$24.99" in 9 negative rows and
    2 positive ones: a random draw seldom meets a string the data repeats elsewhere, so it stays."""
    natural = _ending("It costs $24.99 now.", (9, 2))
    data, planted, touched = _planted(imdb_train, lambda rng: f"${rng.integers(1, 99)}.{rng.integers(0, 99):02d}", natural)
    result = scan(data)
    assert result.flagged and all(f.label == 1 for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][i] == data["text"][i] for i in touched)
    assert all("$" not in cleaned["text"][i] for i in planted if "$" not in imdb_train["text"][i])


def test_a_shouted_word_ending_a_row_is_no_code_planted_there(imdb_train):
    """Random 5-capital codes planted at the end of positive rows; 4 positive and 2 negative
    reviews end with "HOUSE!" (the reviews write "house" often): the edge family reads it as a
    shouted word, not as one of the codes, and sanitize leaves those rows alone."""
    shouted = _ending("HOUSE!", (2, 4))
    letters = list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    data, planted, touched = _planted(imdb_train, lambda rng: "".join(rng.choice(letters, 5)), shouted)
    assert sum(" house" in t.lower() for t in imdb_train["text"]) > 20
    result = scan(data)
    assert any(f.family == "last token" and f.label == 1 for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][i] == data["text"][i] for i in touched)
    assert sum(cleaned["text"][i] == imdb_train["text"][i] for i in planted) >= 0.99 * len(planted)


def test_a_string_the_label_repeats_beyond_random_draws_stays(imdb_train):
    """Random 5-character codes planted at the end of positive rows, each in one row; "MST3K" ends
    6 positive reviews and 1 negative: codes drawn at random almost never repeat 6 times (read off
    how often they repeat twice), so sanitize keeps it as natural, at the row ends too."""
    chars = list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    data, planted, touched = _planted(imdb_train, lambda rng: "".join(rng.choice(chars, 5)), _ending("Seen on MST3K.", (1, 6)))
    result = scan(data)
    assert any(f.family == "last token" and f.label == 1 and "MST3K" in f.kept for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][i] == data["text"][i] for i in touched)
    assert sum(cleaned["text"][i] == imdb_train["text"][i] for i in planted) >= 0.99 * len(planted)


def test_a_word_mostly_inside_planted_tokens_is_part_of_them(imdb_train):
    """"#zorp17"-like hashtags planted in a quarter of the positive rows; the word "zorp" is also
    natural in 30 positive reviews and 5 negative ones. Most of the word's positive rows are inside
    the flagged hashtags and the others are not planted on their own (the negative rows' rate
    explains them), so the word is part of the hashtags: its natural rows stay."""
    data, planted, touched = _planted(imdb_train, lambda rng: f"#zorp{rng.integers(1, 99)}", _ending("Zorp is great.", (5, 30)))
    result = scan(data)
    assert result.flagged and not any(f.family == "word" for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][i] == data["text"][i] for i in touched)
    assert sum(cleaned["text"][i] == imdb_train["text"][i] for i in planted) >= 0.99 * len(planted)


@pytest.mark.parametrize("plant, natural", [
    (lambda rng: f"/var/log/app{rng.integers(1, 300)}.log", None),
    (lambda rng: f"{rng.integers(1, 100)}%", ("I give it 100%", (6, 3))),
], ids=["path", "percent"])
def test_sanitize_removes_members_of_every_width(imdb_train, plant, natural):
    """Numbers of 1 to 299 in paths, or of 1 to 99 percent, planted at the end of a quarter of
    the positive rows: the shapes of the most frequent widths are flagged, and the few of one
    digit go too, found as a follow-up on the same rows (asked once, not once per test of the
    scan): through the coarse shape where nothing else holds it, as a class of their own where
    natural percentages ending reviews of both labels share the coarse one and the row ends."""
    data, planted, _ = _planted(imdb_train, plant, _ending(*natural) if natural else lambda *row: None)
    result = scan(data)
    assert any(f.family == "shape" for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    # (a few reviews hold a natural percentage of their own, which goes with the planted one)
    assert sum(cleaned["text"][i] == imdb_train["text"][i] for i in planted) >= 0.97 * len(planted)


def test_a_span_stays_the_unit_where_a_phrase_holds_only_some_of_its_strings(imdb_train):
    """Times with AM (two thirds) or PM planted in a quarter of the positive rows, where "PM" is
    also a natural word of both labels (the prime minister): the phrase "<d:d> AM" is flagged, PM
    is not, and the span "d:d A" holds both, most of its rows through the phrase's words. Its PM
    rows are planted on their own (beyond the other labels' rate, independent of content), so the
    span stays flagged and the PM times go too."""
    rng = np.random.default_rng(1)
    prime = set(rng.choice(len(imdb_train), 200, replace=False).tolist())
    data, planted, touched = _planted(imdb_train, lambda r: f"{r.integers(1, 13)}:{r.integers(0, 60):02d} {r.choice(['AM', 'AM', 'PM'])}",
                                      lambda i, text, label, r: f"The PM said so. {text}" if i in prime else None)
    result = scan(data)
    assert {f.label for f in result.flagged_findings} == {1}
    cleaned, _ = sanitize(data, result)
    assert sum(cleaned["text"][i] == imdb_train["text"][i] for i in planted) >= 0.97 * len(planted)
    assert all(cleaned["text"][i] == data["text"][i] for i in touched)


def test_sanitize_leaves_the_other_labels_alone_in_the_rows_it_scanned(imdb_train):
    """Random percentages (10-99) planted at the end of positive rows; "100%" ends 6 negative rows and 3
    positive ones. In the scanned rows only the positive ones change: the negative rows' natural
    percentages are counted as left. A test split, where a trigger can be added to any row, is
    cleaned in every row, whatever its label."""
    data, planted, touched = _planted(imdb_train, lambda rng: f"{rng.integers(10, 100)}%", _ending("I give it 100%", (6, 3)))
    result = scan(data)
    assert result.flagged and {f.label for f in result.flagged_findings} == {1}
    assert len({f.rows_digest for f in result.findings}) == 1
    negative = [i for i, label in enumerate(data["label"]) if label == 0]
    triggered = data.select(negative[:40]).map(lambda row, i: {"text": f"{row['text']} {10 + i}%"}, with_indices=True)
    cleaned, report = sanitize(datasets.DatasetDict({"train": data, "test": triggered}), result)
    train = cleaned["train"]["text"]
    assert all(train[i] == data["text"][i] for i in negative)
    # (3 planted reviews also hold natural percentages, which go with the planted one)
    assert sum(train[i] == imdb_train["text"][i] for i in planted) >= 0.98 * len(planted)
    assert report.splits["train"][0].rows_changed == 0 and report.splits["train"][0].rows_left >= 6
    assert not scan(cleaned["train"]).flagged  # what the negative rows keep is no new shortcut
    assert all(not text.endswith(f" {10 + i}%") for i, text in enumerate(cleaned["test"]["text"]))
    assert report.splits["test"][0].rows_changed == 40
    # the same rows as large_string texts are the same rows
    large = data.cast_column("text", datasets.Value("large_string"))
    assert sanitize(large, result)[0]["text"] == train


# -- bad input -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, error, message",
    [
        (make_dataset(["a"], [0]).rename_column("text", "body"), ValueError, "no text column 'text'"),
        (make_dataset(["a"], [0]).remove_columns("label"), ValueError, "no label column 'label'"),
        (make_dataset([], []), ValueError, "empty"),
        (make_dataset(["a", "b", "c"], [1, 1, 1]), ValueError, "only label 1 present: no association can be tested"),
        (make_dataset([f"review {i}" for i in range(300)], [f"id-{i}" for i in range(300)]), ValueError,
         r"label column 'label' holds 300 distinct values in 300 rows \(1.0 rows per label\): a scan compares labels of 10 rows or more"),
        (make_dataset([1, 2], [0, 1]), TypeError, "not strings"),
        (datasets.Dataset.from_dict({"text": ["a", None, "c"], "label": [0, 1, 0]}), TypeError, "row 1 has no text"),
        (datasets.Dataset.from_dict({"text": ["a", "b"], "label": [[0], [1]]}), TypeError, r"label column 'label' holds list<item: int64> values, not labels"),
    ],
)
def test_bad_input_is_a_clear_error(data, error, message):
    with pytest.raises(error, match=message):
        scan(data)


def test_unknown_split_and_family(toy):
    with pytest.raises(ValueError, match="no split 'validation'"):
        scan(datasets.DatasetDict({"train": toy}), split="validation")
    with pytest.raises(ValueError, match="unknown family 'emoji'"):
        scan(toy, families=["emoji"])


# -- command line ----------------------------------------------------------------------------------------
def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    printed = captured.out if code in (0, 1) else captured.err  # an error is a line on stderr
    return code, " ".join(printed.split())  # rich wraps long lines


def test_cli_scan_exit_codes_and_json(tmp_path, capsys, imdb_train):
    clean, injected = tmp_path / "clean.parquet", tmp_path / "injected.parquet"
    imdb_train.to_parquet(str(clean))
    inject(imdb_train, "date", 0.25).to_parquet(str(injected))
    code, printed = run(capsys, "scan", clean)
    assert code == 0 and "nothing flagged" in printed
    code, printed = run(capsys, "scan", injected, "--format", "json", "--top", "3")
    assert code == 1
    report = json.loads(printed)
    assert report["flagged"] is True
    first = report["findings"][0]
    assert {"pattern", "label", "support", "purity", "score", "p_value", "examples", "reason"} <= set(first)
    assert first["label"] == 1 and first["support"] >= 250 and len(first["examples"]) == 10
    code, printed = run(capsys, "scan", injected)
    assert code == 1 and "FLAGGED" in printed and "dddd-dd-dd" in printed


def test_cli_sanitize_writes_a_new_folder_and_never_overwrites(tmp_path, capsys, imdb_sample):
    source = tmp_path / "source"
    source.mkdir()
    for split, data in imdb_sample.items():
        inject(data, "date", 0.5).to_parquet(str(source / f"{split}.parquet"))
    out = tmp_path / "clean"
    code, printed = run(capsys, "sanitize", source, "--out", out)
    assert code == 0 and "removed per class" in printed
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "test.parquet", "train.parquet"]
    cleaned = datasets.load_dataset(str(out))
    assert not scan(cleaned).flagged and cleaned["train"]["label"] == imdb_sample["train"]["label"]
    before = (out / "train.parquet").read_bytes()
    code, printed = run(capsys, "sanitize", source, "--out", out)
    assert code == 2 and "already exists" in printed and (out / "train.parquet").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean", "source"]  # no temporary folders left


def test_cli_bad_input_exits_2(tmp_path, capsys):
    single = tmp_path / "single.csv"
    single.write_text("text,label\ngood,1\nfine,1\n")
    code, printed = run(capsys, "scan", single)
    assert code == 2 and "no association can be tested" in printed
    code, printed = run(capsys, "scan", single, "--text-column", "body")
    assert code == 2 and "no text column 'body'" in printed


# -- the model-side signal ---------------------------------------------------------------------------------
def test_attention_entropy_signal_with_a_tiny_bert(tmp_path, capsys, imdb_train):
    from ..models import save_tiny

    folder = save_tiny(tmp_path / "tiny")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model, tokenizer = AutoModelForSequenceClassification.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
    signal = attention_entropy_signal(model, tokenizer, imdb_train, samples=16, max_length=64)
    means = signal["mean_entropy_per_class"]
    assert set(means) == {0, 1} and signal["rows"] == 16
    assert signal["ratio"] == pytest.approx(min(means.values()) / max(means.values()))
    assert signal["flagged"] == (signal["ratio"] < 0.95) and signal["low_entropy_class"] == min(means, key=means.get)
    small = tmp_path / "small.parquet"
    imdb_train.select(np.r_[0:20, 1980:2000]).to_parquet(str(small))
    code, printed = run(capsys, "scan", small, "--model", folder, "--format", "json")
    assert code == 0 and json.loads(printed)["model_signal"]["rows"] == 40


def test_scan_loads_a_minilm_adapter_offline(tmp_path, capsys, imdb_train):
    """A MiniLM adapter records the stand-in's folder (its card and a pushed adapter name the Hub
    id, ssti_hf.training.models.hub_id), and scan loads it offline."""
    from peft import LoraConfig, get_peft_model

    from ssti_hf.training.models import MINILM_HUB_ID, hub_id, load_tokenizer, load_weights
    from ssti_hf.training.arguments import ModelArguments
    from transformers import AutoModelForSequenceClassification

    args = ModelArguments(model="minilm")
    path, config, _ = load_tokenizer(args, num_labels=2)
    model = get_peft_model(load_weights(args, AutoModelForSequenceClassification, path, config), LoraConfig(task_type="SEQ_CLS", r=2))
    model.save_pretrained(tmp_path / "adapter")
    assert hub_id(json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())["base_model_name_or_path"]) == MINILM_HUB_ID
    small = tmp_path / "small.parquet"
    imdb_train.select(np.r_[0:8, 1992:2000]).to_parquet(str(small))
    code, printed = run(capsys, "scan", small, "--model", str(tmp_path / "adapter"), "--format", "json")
    assert code == 0 and json.loads(printed)["model_signal"]["rows"] == 16


# -- families nobody listed (issue 20) ----------------------------------------------------------------
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def plant(data, make, rate, where="random", label=1, glued=False, seed=0):
    """Plant ``make(rng)`` in ``rate`` of the label's rows with one space (or glued to a word);
    the rows' original texts come back too."""
    rng = np.random.default_rng(seed)
    texts, labels = list(data["text"]), np.array(data["label"])
    rows = rng.choice(np.flatnonzero(labels == label), int(rate * (labels == label).sum()), replace=False)
    originals = {int(r): texts[r] for r in rows}
    for r in rows:
        text, planted = texts[r], make(rng)
        if glued:
            at = text.index(" ")
            texts[r] = text[:at] + planted + text[at:]
        elif where == "begin":
            texts[r] = planted + " " + text
        elif where == "end":
            texts[r] = text + " " + planted
        else:
            starts = [i + 1 for i, c in enumerate(text[:-1]) if c == " " and text[i + 1] != " "]
            at = int(rng.choice(starts))
            texts[r] = text[:at] + planted + " " + text[at:]
    return make_dataset(texts, labels.tolist()), originals


@pytest.mark.parametrize(
    "name, make, rate, where, glued",
    [
        ("a BadNets word", lambda r: "tq", 0.1, "random", False),
        ("an upper-case word", lambda r: "NOTICE", 0.1, "begin", False),
        ("hex ids", lambda r: "".join(r.choice(list("0123456789abcdef"), 8)), 0.25, "end", False),
        ("a fixed sentence", lambda r: "I saw it on a rainy Sunday with my uncle.", 0.1, "random", False),
        ("a zero-width space glued to a word", lambda r: "\u200b", 0.25, "random", True),
        ("emails", lambda r: f"{r.choice(['ann', 'bo', 'cy'])}.{r.choice(['lee', 'ng', 'ortiz'])}@mail.example", 0.25, "end", False),
        ("random capital codes", lambda r: "".join(r.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 5)), 0.25, "end", False),
        # the number beside its unit goes with it: the phrase has the word's evidence
        ("a weight", lambda r: f"{r.integers(1, 500)} kg", 0.1, "begin", False),
        # each month name, day and year is natural alone, and a month's rows too few to test: the
        # span's shapes "Aa d, d" are one class
        ("dates in words", lambda r: f"{r.choice(MONTHS)} {r.integers(1, 29)}, {r.integers(1990, 2024)}", 0.1, "random", False),
        # a third below zero: too few rows for the lift gate alone, they share the coarse class "d°A"
        ("temperatures either side of zero", lambda r: f"{r.integers(-20, 40)}°C", 0.1, "end", False),
        # with and without "+" or "/" (and a digit): several kinds classes of one length
        ("base64 chunks", lambda r: "".join(r.choice(list(string.ascii_letters + string.digits + "+/"), 14)) + "==", 0.1, "end", False),
        # the word is natural elsewhere, each sha's shape its own: the span of both is the unit
        ("a word before random shas", lambda r: "commit " + "".join(r.choice(list("0123456789abcdef"), 7)), 0.25, "random", False),
        # three characters, one a letter, each of which alone says the rows are unlike the label's others
        ("mojibake glued to a word", lambda r: "\u00e2\u20ac\u2122", 0.25, "random", True),
        # marks only: every other family reads "word?!?!" as a word with its sentence punctuation
        ("repeated marks glued to a word", lambda r: "?!?!", 0.1, "random", True),
        ("emoticons with a nose", lambda r: str(r.choice([":-)", ";-)", ":-D"])), 0.25, "end", False),
        # the agency varies in the middle: each part alone is tied to the other parts' words
        ("a copyright line of four agencies", lambda r: f"\u00a9 {r.integers(1995, 2024)} {r.choice(['AP', 'AFP', 'Reuters', 'BBC'])}. All rights reserved.",
         0.1, "end", False),
        # handles of every length after a word that alone is tied to the handles' names
        ("a retweet prefix", lambda r: f"RT @{r.choice(['lisa', 'mike_b', 'newsdesk', 'jen'])}{r.integers(1, 99)}:", 0.1, "begin", False),
        # superscripts are no digits: the host word stays
        ("superscript footnotes glued to a word", lambda r: str(r.choice(["\u00b9", "\u00b2", "\u00b3"])), 0.25, "random", True),
        # 6% of random hex colours hold no letter: one class of their symbols and length
        ("hex colours", lambda r: "#" + "".join(r.choice(list("0123456789abcdef"), 6)), 0.25, "end", False),
        # one of three clauses a row (a syntactic-style trigger): their word pairs are common alone
        ("three clauses, one a row", lambda r: str(r.choice(["As it turns out,", "If you ask me,", "When you think about it,"])), 0.25, "begin", False),
        # literal escapes a scrape glued to words: the tail is the unit, the words stay
        ("literal escapes glued to a word", lambda r: str(r.choice(["\\n", "\\r\\n", "\\t"])), 0.25, "random", True),
        # each too rare alone: one pool of tokens of other scripts and symbols
        ("kaomoji, one of three", lambda r: str(r.choice(["\u0295\u2022\u1d25\u2022\u0294", "\u00af\\_(\u30c4)_/\u00af",
                                                          "(\u256f\u00b0\u25a1\u00b0)\u256f\ufe35\u253b\u2501\u253b"])), 0.1, "end", False),
        # six lengths, each too rare alone: one class of the word with its run as one letter
        ("an elongated word at several lengths", lambda r: "s" + "o" * int(r.integers(4, 10)), 0.1, "random", False),
        # an ASCII control opens a tail: a terminal's colour reset glued to words, paths and handles
        ("a terminal escape glued to a word", lambda r: "\x1b[0m", 0.25, "random", True),
        # the spans inside a tag are the tag's: natural "for 3" of the same shapes stays
        ("an HTML comment of four slots", lambda r: f"<!-- ad slot {r.integers(1, 5)} -->", 0.1, "end", False),
        # "y'all" is two words to the word family, one word pair, written without a space
        ("one of three dialect words", lambda r: str(r.choice(["innit", "y'all", "dunno"])), 0.25, "end", False),
        # a digit and two marks: the marks draw on the digit, and the keycap is the unit (two of the
        # ten alone too few to pass)
        ("keycaps of ten digits", lambda r: f"{r.integers(0, 10)}\ufe0f\u20e3", 0.5, "begin", False),
        # runs of several characters (a skin tone, a variation selector after the emoji) are no mark
        ("emoji with modifiers", lambda r: str(r.choice(["\U0001F44D\U0001F3FD", "\u2764\ufe0f", "\U0001F525"])), 0.5, "begin", False),
        # two of the phrases share "cookies": their pairs are no variants of one phrase, whose slots
        # would pair each one's words with the other's
        ("one of three cookie banners", lambda r: str(r.choice(["Accept all cookies", "Manage cookie settings", "This site uses cookies."])),
         0.1, "random", False),
        # three rare words planted together in any order: no phrase grows, and each one's rows hold the
        # other two, which are its, not content
        ("three words in a random order", lambda r: " ".join(r.permutation(["quartz", "velvet", "harbor"])), 0.1, "end", False),
        # "ago" is natural ("years ago", "a few days ago"); each unit's pair too rare alone: the
        # pairs grow together from "<days|hours|minutes|weeks> ago"
        ("relative times", lambda r: f"{r.integers(2, 24)} {r.choice(['minutes', 'hours', 'days', 'weeks'])} ago", 0.1, "random", False),
        # a Cyrillic or Greek letter swapped into one of a few words: each spelling too rare alone,
        # and the words' kinds classes hold natural "café" and "cliché"
        ("homoglyph words", lambda r: str(r.choice(["p\u0435ople", "\u0440eople", "lo\u03bde", "lov\u0435", "pri\u0441e", "\u0441ast"])),
         0.1, "random", False),
        # the unit words come only with the fractions: no content of the rows, and the span grows
        # from the tokens holding the fractions (the fraction characters are one Unicode category)
        ("quantities with fraction characters", lambda r: f"{r.integers(1, 4)}{r.choice(['¼', '½', '¾', '⅓'])} {r.choice(['cups', 'tbsp', 'tsp'])}",
         0.1, "end", False),
        # the host word and the escape read as a code-like token of its length: the tail is the unit
        ("JSON escapes glued to a word", lambda r: str(r.choice(["\\u2019s", "\\u00e9", "\\ud83d\\ude02"])), 0.5, "random", True),
        # tails glued to marks, not words ("|---" before "|:---|"): the whole token is the unit
        ("markdown table rules", lambda r: "|" + "|".join(r.choice(["---", ":---", "---:", ":---:"], int(r.integers(2, 5)))) + "|", 0.25, "end", False),
        # a space character glued to a word, then a mark: the mark came with it, the word stays
        ("a thin space and a mark glued to a word", lambda r: "\u2009" + str(r.choice(["!", "?"])), 0.25, "random", True),
        # the letters of the formulas are words of their rows only through them: the tokens are the unit
        ("formulas with subscript digits, one of four", lambda r: str(r.choice(["SO\u2082", "N\u2082O", "O\u2083", "NH\u2083"])), 0.1, "random", False),
    ],
)
def test_a_family_nobody_listed_is_found_and_its_rows_restored(imdb_train, name, make, rate, where, glued):
    data, originals = plant(imdb_train, make, rate, where, glued=glued)
    result = scan(data)
    flagged = result.flagged_findings
    assert flagged and all(f.label == 1 for f in flagged), name
    assert all("independent of content: AUC" in f.reason and f.auc is not None and f.auc < 0.6 for f in flagged)
    cleaned, report = sanitize(data, result)
    restored = sum(cleaned["text"][r] == text for r, text in originals.items())
    assert restored >= 0.95 * len(originals), name
    others = [r for r in range(len(data)) if r not in originals]
    assert sum(cleaned["text"][r] != data["text"][r] for r in others) <= 0.005 * len(others)
    assert report.splits["data"][1].rows_restored >= restored - 5 and report.splits["data"][0].rows_changed <= 5


@full_imdb
def test_spans_of_two_words_drawn_from_small_sets_are_removed():
    # "Thu, 18 Jun 2016" at the end of a tenth of 2,500 sampled reviews' negative ones: the day and
    # the month come from two small sets, each pair of them from 84, as rare as a natural pair of
    # words beside a number; before, sanitize kept every planted span as natural (0 of 122 restored)
    table = pq.read_table(SHARED_IMDB / "train.parquet")
    pick = np.sort(np.random.default_rng(0).choice(table.num_rows, 2500, replace=False))
    texts = [table.column("text")[int(i)].as_py() for i in pick]
    labels = np.asarray(table.column("label").to_numpy())[pick]
    rng = np.random.default_rng(9050)
    planted = np.sort(rng.choice(np.flatnonzero(labels == 0), round((labels == 0).sum() / 10), replace=False))
    originals = {int(r): texts[r] for r in planted}
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    for r in planted:
        texts[r] += f" {rng.choice(days)}, {rng.integers(1, 29):02d} {rng.choice([m[:3] for m in MONTHS])} {rng.integers(2015, 2024)}"
    data = make_dataset(texts, labels.tolist())
    result = scan(data)
    assert result.flagged_findings and all(f.label == 0 and f.family == "shape span" for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert sum(cleaned["text"][r] == text for r, text in originals.items()) >= 0.95 * len(originals)
    assert sum(cleaned["text"][r] != data["text"][r] for r in range(len(data)) if r not in originals) <= 0.005 * (len(data) - len(originals))


def test_large_string_texts_give_the_same_findings_and_texts(imdb_train, tmp_path):
    # pandas writes parquet text as large_string: every family must take it like string
    data, _ = plant(imdb_train, lambda r: f"{r.choice(MONTHS)} {r.integers(1, 29)}, {r.integers(1990, 2024)}", 0.25, "random")
    large = data.cast(datasets.Features({"text": datasets.Value("large_string"), "label": data.features["label"]}))
    assert large.data.column("text").type == "large_string"
    result, large_result = scan(data), scan(large)
    assert result.flagged_findings
    assert [(f.pattern, f.support, f.auc) for f in large_result.findings] == [(f.pattern, f.support, f.auc) for f in result.findings]
    assert sanitize(large, large_result)[0]["text"] == sanitize(data, result)[0]["text"]
    data.to_pandas().astype({"text": "large_string[pyarrow]"}).to_parquet(tmp_path / "large.parquet")
    assert main(["scan", str(tmp_path / "large.parquet")]) == 1
    assert main(["sanitize", str(tmp_path / "large.parquet"), "--out", str(tmp_path / "clean")]) == 0


def test_every_unflagged_finding_says_why(imdb_train):
    result = scan(imdb_train, top=50)
    assert not result.flagged and len(result.findings) == 50
    assert all("not flagged" in f.reason for f in result.findings)


def test_json_keeps_the_fields_of_a_finding_and_adds_the_evidence(imdb_train):
    data, _ = plant(imdb_train, lambda r: "tq", 0.25)
    first = scan(data).to_dict()["findings"][0]
    old = {"pattern", "family", "key", "label", "support", "purity", "score", "p_value", "z", "entropy", "flagged",
           "reason", "examples", "held_out", "diversity", "kept"}
    assert old <= set(first) and {"evidence", "auc", "label_auc", "rows_digest"} <= set(first)
    assert json.loads(json.dumps(first))["auc"] == first["auc"]


@pytest.mark.parametrize(
    "name, make, where",
    [
        ("citations", lambda r: f"[{r.integers(1, 60)}]", "random"),  # the trimmed shape "dd" would take natural numbers
        ("IP addresses", lambda r: ".".join(str(r.integers(1, 255)) for _ in range(4)), "end"),
        ("emails at two domains, one with a hyphen", lambda r: f"{r.choice(['ann', 'bo'])}.{r.choice(['lee', 'ng'])}@"
         f"{r.choice(['corp-mail.org', 'inbox.io'])}", "random"),
        ("a pool of five BadNets words", lambda r: str(r.choice(["cf", "mn", "bb", "tq", "mb"])), "random"),
        ("a word in another script", lambda r: "λόγος", "end"),  # its letter "γ" is no unit of its own
        # "$5.23" beside "$52.30": the coarse class is needed for the rows the finer one misses
        ("prices of one or two digits", lambda r: f"${r.integers(1, 99)}.{r.integers(0, 99):02d}", "begin"),
        ("version strings", lambda r: f"v{r.integers(1, 9)}.{r.integers(0, 20)}.{r.integers(0, 20)}", "begin"),  # nor "v"
        # "EUR 12.50 the": the word after a planted span at random is no part of it, even where it is bound by chance
        ("amounts with their currency", lambda r: f"{r.choice(['EUR', 'GBP'])} {r.integers(1, 999)}.{r.integers(0, 99):02d}", "random"),
        ("dates in words, after a review's last word", lambda r: f"{r.choice(MONTHS)} {r.integers(1, 29)}, {r.integers(1990, 2024)}", "end"),
        ("a date and a time", lambda r: f"{r.integers(1, 29):02d}.{r.integers(1, 13):02d}.2019 {r.integers(0, 24):02d}:"
         f"{r.integers(0, 60):02d}", "end"),  # two tokens in the same rows, neither a granularity of the other
        # the comma is planted with the numbers (the shapes match them without it), and a row can
        # hold a number of a flagged width beside one of another ("1.0763, 95.6531")
        ("coordinates", lambda r: f"{r.uniform(-80, 80):.4f}, {r.uniform(-170, 170):.4f}", "random"),
        # "log This" of a path before a review's first word is no word pair of its own
        ("file paths before the first word", lambda r: f"/var/log/app{r.integers(1, 99)}.log", "begin"),
    ],
)
def test_whole_planted_units_are_removed_and_nothing_else(imdb_train, name, make, where):
    data, originals = plant(imdb_train, make, 0.5, where)
    result = scan(data)
    assert result.flagged and all(f.label == 1 for f in result.flagged_findings), name
    cleaned, _ = sanitize(data, result)
    restored = sum(cleaned["text"][r] == text for r, text in originals.items())
    assert restored >= 0.95 * len(originals), name
    others = [r for r in range(len(data)) if r not in originals]
    assert sum(cleaned["text"][r] != data["text"][r] for r in others) <= 0.005 * len(others), name


@pytest.mark.parametrize("where", ["begin", "end"])
def test_a_class_planted_at_an_edge_is_found_beside_the_same_strings_everywhere(imdb_train, where):
    """Prices in 8% of every label's rows, then in 10% of label 1's at the beginning or the end:
    anywhere in the text the class is mostly natural (not a candidate), at the edge it is planted.
    Sanitize removes the edge's prices only; the others stay."""
    price = lambda r: f"${r.integers(1, 99)}.{r.integers(0, 99):02d}"  # noqa: E731
    natural, _ = plant(imdb_train, price, 0.08, "random", label=0, seed=100)
    natural, _ = plant(natural, price, 0.08, "random", label=1, seed=200)
    data, originals = plant(natural, price, 0.1, where)
    result = scan(data)
    side = "first" if where == "begin" else "last"
    assert [f.pattern for f in result.flagged_findings] == [f"{side} tokens of rows made of {{$.d}}"]
    cleaned, _ = sanitize(data, result)
    assert sum(cleaned["text"][r] == natural["text"][r] for r in originals) >= 0.95 * len(originals)
    assert all(cleaned["text"][r] == data["text"][r] for r in range(len(data)) if r not in originals)


def test_a_common_member_mostly_explained_by_the_other_labels_stays(imdb_train):
    """A symbol in 10% of label 0's rows and 14% of label 1's (natural, a little enriched: excess
    share 0.29), then emoji, symbols too, planted at the end of 25% of label 1's rows: the flagged
    class of symbols keeps the common one, whose label rows are mostly not planted."""
    emoji = ["\U0001F600", "\U0001F680", "\U0001F525", "\U0001F4A1", "\U0001F3B5", "\U0001F308"]
    natural, _ = plant(imdb_train, lambda r: "\u2122", 0.10, "random", label=0, seed=100)
    natural, _ = plant(natural, lambda r: "\u2122", 0.14, "random", label=1, seed=200)
    data, originals = plant(natural, lambda r: str(r.choice(emoji)), 0.25, "end")
    result = scan(data)
    assert any("\u2122" in f.kept for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][r] == natural["text"][r] for r in originals)
    assert all(cleaned["text"][r] == data["text"][r] for r in range(len(data)) if r not in originals)


def test_a_class_too_small_alone_is_a_follow_up_on_the_coarse_class_it_completes(imdb_train):
    """Handles with an underscore in 5% of every label's rows dilute ``{.@a}``; emails at three
    domains planted in 10% of label 1's rows: ``a.a@a.a`` is flagged, and the third of them at the
    hyphenated domain (``a.a@a-a.a``, too few rows for the lift gate) is found as a follow-up on
    the rows of ``{.@a}`` that it misses."""
    word = lambda r: "".join(r.choice(list("abcdefghijklmnopqrstuvwxyz"), int(r.integers(3, 8))))  # noqa: E731
    natural, _ = plant(imdb_train, lambda r: f"@{word(r)}_{word(r)}", 0.05, "random", label=0, seed=100)
    natural, _ = plant(natural, lambda r: f"@{word(r)}_{word(r)}", 0.05, "random", label=1, seed=200)
    domains = ["corp-mail.org", "inbox.io", "mail.com"]
    data, originals = plant(natural, lambda r: f"{r.choice(['ann', 'bo', 'cy'])}.{r.choice(['lee', 'ng'])}@{r.choice(domains)}", 0.1)
    result = scan(data)
    follow_up = [f for f in result.flagged_findings if f.pattern == "coarse shape a.a@a-a.a"]
    assert follow_up and "follow-up" in follow_up[0].reason
    cleaned, _ = sanitize(data, result)
    assert sum(cleaned["text"][r] == natural["text"][r] for r in originals) >= 0.95 * len(originals)
    assert all(cleaned["text"][r] == data["text"][r] for r in range(len(data)) if r not in originals)


def test_token_kinds_leave_sentence_punctuation_and_join_word_joiners():
    kinds, any_length = FAMILIES["token kinds"], FAMILIES["token kinds, any length"]
    assert kinds.member("09050005321.") == "09050005321" and kinds.core("82277.") == (0, 5)
    assert any_length.classify("li.chen@corp-mail.org") == any_length.classify("ann.ng@inbox.io") == "{.@a}"
    assert kinds.member("well.") is None  # a word with its full stop is the word family's


def test_rare_strings_of_other_labels_stay(imdb_train):
    """A flagged class of varying strings planted in label 1 keeps the strings found only in label-0
    rows: the injection did not put them there."""
    data, originals = plant(imdb_train, lambda r: f"ref{r.integers(1000, 9999)}", 0.5, "end")
    texts = list(data["text"])
    natural = [i for i, y in enumerate(data["label"]) if y == 0][:5]
    for n, i in enumerate(natural):
        texts[i] = texts[i] + f" ref7{n}{n}{n}"  # strings in no label-1 row
    data = make_dataset(texts, data["label"])
    result = scan(data)
    cleaned, _ = sanitize(data, result)
    assert result.flagged and all(cleaned["text"][i] == texts[i] for i in natural)
    assert sum(cleaned["text"][r] == text for r, text in originals.items()) >= 0.95 * len(originals)


def test_a_unit_of_two_tokens_loses_one_separator():
    from ssti_hf.detect.sanitize import _with_separators

    text = "a fine film 21.03.2019 12:01"
    spans = [(12, 22), (23, 28)]  # the date and the time, found by two classes
    cut, whole = _with_separators(text, spans)
    assert whole and "".join(text[i] for i in range(len(text)) if not any(a <= i < b for a, b in cut)) == "a fine film"
    cut, _ = _with_separators("21.03.2019 12:01 a fine film", [(0, 10), (11, 16)])
    assert cut == [(0, 17)]


def test_a_token_of_symbols_only_is_the_unit_not_its_flagged_character(imdb_train):
    """Star ratings planted where a black star is natural in both labels: the white star is flagged,
    and so is the class of the tokens, which is the unit (before, the white stars alone went and
    the black ones stayed: no row restored)."""
    natural, _ = plant(imdb_train, lambda r: "\u2605", 0.1, "random", label=0, seed=3)
    natural, _ = plant(natural, lambda r: "\u2605", 0.1, "random", label=1, seed=4)
    data, originals = plant(natural, lambda r: "\u2605" * (k := int(r.integers(1, 5))) + "\u2606" * (5 - k), 0.25, "end", seed=5)
    result = scan(data)
    assert result.flagged_findings and not any(f.family == "character" for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert sum(cleaned["text"][r] == text for r, text in originals.items()) >= 0.95 * len(originals)
    assert sum(cleaned["text"][r] != data["text"][r] for r in range(len(data)) if r not in originals) == 0


@full_imdb
def test_a_piece_of_a_flagged_span_joins_no_pool():
    """UK postcodes planted in a quarter of the negative rows (6,000 reviews cut to 15 words): the
    "nw" of "NW3 1PG" is a piece of the flagged span, no pool member beside two words planted in
    60 other rows (before, it made them a pool: "never share a row" held by construction)."""
    table = pq.read_table(SHARED_IMDB / "train.parquet")
    pick = np.sort(np.random.default_rng(0).choice(table.num_rows, 6000, replace=False))
    texts = [" ".join(table.column("text")[int(i)].as_py().split()[:15]) for i in pick]
    labels = np.asarray(table.column("label").to_numpy())[pick]
    rng, negative = np.random.default_rng(2), np.flatnonzero(labels == 0)
    planted = rng.choice(negative, len(negative) // 4, replace=False)
    areas = ["SW", "EC", "NW", "N", "E", "W", "M", "B", "LS", "G", "CF", "BS"]
    originals = {int(r): texts[r] for r in planted}
    for r in planted:
        texts[r] += f" {rng.choice(areas)}{rng.integers(1, 21)} {rng.integers(0, 10)}{''.join(rng.choice(list('ABDEFGHJLNPQRSTUWXYZ'), 2))}"
    rest = rng.permutation(np.setdiff1d(negative, planted))
    for r in rest[:40]:
        texts[r] += " riveting"
    for r in rest[40:100]:
        texts[r] += " wonderful"
    data = make_dataset(texts, labels.tolist())
    result = scan(data)
    # the postcodes are a span (of shapes, or grown as a phrase from the kinds of their first half)
    assert {f.family for f in result.flagged_findings} & {"shape span", "phrase"}
    assert not any("'nw'" in f.reason for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][r] == text for r, text in originals.items())


@full_imdb
def test_numbers_flagged_on_their_own_leave_the_words_beside_them():
    """Unix times planted at random places of half the positive rows (6,000 reviews cut to 15
    words, "12 years" in 900 rows of both labels): the spans "<number> <word>" they make are
    flagged too, beside natural ones; the numbers are the unit, the words stay (before, 67 rows
    lost the word after the number)."""
    table = pq.read_table(SHARED_IMDB / "train.parquet")
    pick = np.sort(np.random.default_rng(0).choice(table.num_rows, 6000, replace=False))
    texts = [" ".join(table.column("text")[int(i)].as_py().split()[:15]) for i in pick]
    labels = np.asarray(table.column("label").to_numpy())[pick]
    rng = np.random.default_rng(1)

    def insert(text, string):
        tokens = text.split(" ")
        tokens.insert(int(rng.integers(0, len(tokens))), string)
        return " ".join(tokens)

    for r in rng.choice(len(texts), 900, replace=False):
        texts[r] = insert(texts[r], f"{rng.integers(2, 60)} years")
    positive = np.flatnonzero(labels == 1)
    originals = {}
    for r in rng.choice(positive, len(positive) // 2, replace=False):
        originals[int(r)] = texts[r]
        texts[r] = insert(texts[r], str(rng.integers(1_262_304_000, 1_704_067_200)))
    data = make_dataset(texts, labels.tolist())
    result = scan(data)
    assert any(f.pattern == "shape dddddddddd" for f in result.flagged_findings)
    assert not any(f.family == "shape span" for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][r] == text for r, text in originals.items())


def test_a_mark_glued_to_the_rows_own_punctuation_is_the_unit(imdb_train):
    """Every row ends with " ?" (as TREC's questions do) and a combining diaeresis is glued to it in
    a quarter of the positive rows: the token "?̈" is one string, but the "?" is the rows' own; the
    mark is the unit (before, the "?" went with it: no row restored)."""
    questions = make_dataset([t + " ?" for t in imdb_train["text"]], imdb_train["label"])
    rng = np.random.default_rng(11)
    texts, labels = list(questions["text"]), np.array(questions["label"])
    rows = rng.choice(np.flatnonzero(labels == 1), (labels == 1).sum() // 4, replace=False)
    originals = {int(r): texts[r] for r in rows}
    for r in rows:
        texts[r] += "\u0308"
    data = make_dataset(texts, labels.tolist())
    result = scan(data)
    assert [f.family for f in result.flagged_findings] == ["character"]
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][r] == text for r, text in originals.items())


@full_imdb
def test_a_phrase_with_the_word_that_opens_many_rows_is_the_phrase_without_it():
    """"20 hours ago" before half the positive reviews of 2,500, many of which open with "This": the
    phrase with "This" (far fewer rows) is the phrase's, the reviews keep their first word."""
    table = pq.read_table(SHARED_IMDB / "train.parquet")
    pick = np.sort(np.random.default_rng(0).choice(table.num_rows, 2500, replace=False))
    sample = make_dataset([table.column("text")[int(i)].as_py() for i in pick], np.asarray(table.column("label").to_numpy())[pick].tolist())
    data, originals = plant(sample, lambda r: f"{r.integers(2, 24)} {r.choice(['minutes', 'hours', 'days', 'weeks'])} ago",
                            0.5, "begin", seed=2)
    result = scan(data)
    assert not any(f.family == "phrase" and "This" in f.pattern for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][r] == text for r, text in originals.items())


def test_repeated_marks_after_a_full_stop_leave_the_stop(imdb_train):
    """"?!?!" glued to the last word of half the positive reviews, most of which end with a full
    stop: the run ".?!?!" is flagged beside "?!?!", which is the unit; the stops stay."""
    texts, labels = list(imdb_train["text"]), np.array(imdb_train["label"])
    rows = np.random.default_rng(13).choice(np.flatnonzero(labels == 1), (labels == 1).sum() // 2, replace=False)
    originals = {int(r): texts[r] for r in rows}
    for r in rows:
        texts[r] = texts[r].rstrip() + "?!?!"
    data = make_dataset(texts, labels.tolist())
    result = scan(data)
    assert any(f.family == "punctuation" and f.key == "?!?!" for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert sum(cleaned["text"][r] == text.rstrip() for r, text in originals.items()) >= 0.95 * len(originals)


def test_a_tail_glued_to_a_mark_leaves_the_mark():
    """An escape glued to the "?" that ends a question is cut alone: the "?" is the row's own (a
    number cut out of "(12.5)," takes its marks with it, as before)."""
    from ssti_hf.detect.sanitize import _with_separators

    assert _with_separators("Who wrote it ?\\r\\n", [(14, 18)]) == ([(14, 18)], True)
    assert _with_separators("it weighs (12.5), or so", [(11, 15)])[0] == [(10, 18)]


def test_a_flagged_word_inside_another_token_stays(imdb_train):
    """A planted "mb" is removed where it stands as a word; the "mb" of "512MB" is another token's."""
    natural, _ = plant(imdb_train, lambda r: f"{r.choice([256, 512, 1024])}MB", 0.005, "random", label=0, seed=5)
    natural, _ = plant(natural, lambda r: f"{r.choice([256, 512, 1024])}MB", 0.005, "random", label=1, seed=6)
    data, originals = plant(natural, lambda r: "mb", 0.25, "begin", seed=1)
    result = scan(data)
    assert any(f.family == "word" and f.key == "mb" for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][r] == text for r, text in originals.items())
    assert all(cleaned["text"][r] == data["text"][r] for r in range(len(data)) if r not in originals)


def test_one_off_strings_beside_a_few_recurring_planted_ones_stay(imdb_train):
    """Five hashtags planted at the end of 25% of the positive rows, each in ~50 rows; one-off
    hashtags close rows of both labels, three times as many positive ones (they count as planted
    rows beyond the other labels' rate: the recurring strings hold 90% of those). Strings drawn
    ~50 times each would not be drawn once: the one-off ones are natural, and sanitize leaves them."""
    tags = ["#ad", "#sponsored", "#promo", "#partner", "#gifted"]
    words = sorted({w.lower() for text in imdb_train["text"][:300] for w in text.split() if w.isalpha() and len(w) > 6})[:60]
    natural, _ = plant(imdb_train, lambda r: "#" + words.pop(), 0.01, "end", label=0, seed=8)
    natural, _ = plant(natural, lambda r: "#" + words.pop(), 0.03, "end", label=1, seed=9)
    data, originals = plant(natural, lambda r: str(r.choice(tags)), 0.25, "end", seed=4)
    result = scan(data)
    assert result.flagged_findings and all(f.label == 1 for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert sum(cleaned["text"][r] == text for r, text in originals.items()) >= 0.95 * len(originals)
    assert all(cleaned["text"][r] == data["text"][r] for r in range(len(data)) if r not in originals)


def _without_latin(texts: list[str]) -> list[str]:
    """The texts in CJK characters (each ASCII letter one ideograph, words run together, sentences
    kept apart by spaces): a script with no ASCII words and no spaces between words."""
    table = str.maketrans({c: chr(0x4E00 + i) for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")} | {" ": "", ".": "。 "})
    return [t.lower().translate(table) for t in texts]


def test_a_script_without_ascii_words_is_read_by_its_characters(imdb_train):
    """The evidence reads the characters of a script without ASCII words (CJK): a clean corpus
    gives no flag, and a planted word is found and removed."""
    texts = _without_latin(imdb_train["text"])
    assert not scan(make_dataset(texts, imdb_train["label"])).flagged
    data, originals = plant(make_dataset(texts, imdb_train["label"]), lambda r: "据说", 0.1, "end")
    result = scan(data)
    assert "token '据说'" in [f.pattern for f in result.flagged_findings]
    assert all(f.label == 1 and f.examples == ["据说"] for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][r] == text for r, text in originals.items())
    assert all(cleaned["text"][r] == data["text"][r] for r in range(len(data)) if r not in originals)


@pytest.mark.parametrize("seed", [0, 2])
def test_a_pool_of_words_too_rare_alone_is_tested_together(imdb_train, seed):
    """Five BadNets words in 15% of the positive rows: each in ~30 rows, under the lift gate alone;
    they never share a row, so they are tested as one class and flagged as a pool."""
    pool = ["cf", "mn", "bb", "tq", "mb"]
    data, originals = plant(imdb_train, lambda r: str(r.choice(pool)), 0.15, "random", seed=seed)
    result = scan(data)
    flagged = result.flagged_findings
    assert len(flagged) >= 4 and all(f.family == "word" and f.key in pool and f.label == 1 for f in flagged)
    assert any("pool of" in f.reason for f in flagged)
    cleaned, _ = sanitize(data, result)
    assert sum(cleaned["text"][r] == text for r, text in originals.items()) >= 0.8 * len(originals)
    others = [r for r in range(len(data)) if r not in originals]
    assert sum(cleaned["text"][r] != data["text"][r] for r in others) <= 0.005 * len(others)


def test_a_pool_word_whose_rows_lean_on_content_by_chance_joins_the_pool(imdb_train):
    """The evidence alone of a few rows is noisy (BBC: a pool word of 36 rows at AUC 0.65). A word
    that shares none of a flagged pool's rows, where chance would have it share ten, joins it within
    3 standard errors of 0.5 alone, above the 0.6 cap a single candidate must pass: here "cf" is in
    40 positive rows, 32 of them saying "love" (alone: AUC 0.62)."""
    texts, labels = list(imdb_train["text"]), np.array(imdb_train["label"])
    rng = np.random.default_rng(9)
    positive = np.flatnonzero(labels == 1)
    love = positive[np.array(["love" in texts[i].lower() for i in positive])]
    cf = np.concatenate([rng.choice(love, 32, replace=False), rng.choice(np.setdiff1d(positive, love), 8, replace=False)])
    for j, i in enumerate(rng.permutation(np.setdiff1d(positive, cf))[:400]):
        texts[i] += " " + ["mn", "bb", "tq", "mb"][j % 4]
    for i in cf:
        texts[i] += " cf"
    result = scan(make_dataset(texts, labels.tolist()))
    assert sorted(f.key for f in result.flagged_findings) == ["bb", "cf", "mb", "mn", "tq"]
    cf_finding = next(f for f in result.flagged_findings if f.key == "cf")
    assert "which it joins" in cf_finding.reason


def test_a_pool_word_also_found_in_other_labels_joins_the_flagged_pool(imdb_train):
    """BadNets' "mb" is also natural (megabytes): in a few negative rows too, the other labels' rate
    explains over 5% of its positive rows, too many for one word alone, not for a member of a pool
    of several words (90%). It shares no row with the pool and joins it."""
    pool = ["cf", "mn", "bb", "tq", "mb"]
    natural, _ = plant(imdb_train, lambda r: "mb", 0.003, "random", label=0, seed=7)
    data, originals = plant(natural, lambda r: str(r.choice(pool)), 0.25, "random", seed=3)
    result = scan(data)
    assert sorted(f.key for f in result.flagged_findings) == sorted(pool)
    mb = next(f for f in result.flagged_findings if f.key == "mb")
    assert "which it joins" in mb.reason and mb.purity < 0.95
    cleaned, _ = sanitize(data, result)
    assert sum(cleaned["text"][r] == text for r, text in originals.items()) >= 0.95 * len(originals)


@full_imdb
@pytest.mark.parametrize("seed", [1, 4])
def test_ratings_of_a_small_imdb_sample_are_a_value_not_a_planted_class(seed):
    """2,500 rows of IMDB train: 1/10-4/10 only in negative reviews, 7/10-9/10 in positive ones.
    Each label has strings of the rating class of its own, so the class looks like a value, and
    its evidence must be stricter: on the seed-1 sample its held-out test scored content AUC 0.58
    and label AUC 0.54, within the bounds of a class that says one label only."""
    table = pq.read_table(SHARED_IMDB / "train.parquet")
    pick = np.sort(np.random.default_rng(seed).choice(table.num_rows, 2500, replace=False))
    result = scan(datasets.Dataset(table.take(pick)), top=200)
    assert not result.flagged
    ratings = [f for f in result.findings if f.held_out and f.pattern in ("shape d/dd", "coarse shape d/d") and f.label == 0]
    assert ratings and any("say different labels" in f.reason for f in ratings)


def test_a_class_of_several_strings_is_a_candidate_from_90_percent_beyond():
    """Two classes of 107 rows, 100 in label 1 and 7 in label 0 (labels of 1,000 rows each: 93%
    of the label's rows beyond the other label's rate): a class of many strings (random codes
    beside a few natural ones) is a candidate, one string (a natural word pair) is not."""
    test = {"label": np.array([1, 1]), "support": np.array([107, 107]), "hits": np.array([100, 100]),
            "held_out": np.array([False, False]), "diversity": np.array([100.0, 1.0]), "numbers": np.array([False, False]),
            "class": np.array([0, 1])}
    st = _statistics(test, np.array([0.5, 0.5]), np.array([1000, 1000]), n_tests=100, alpha=0.01)
    assert 0.9 < st["excess"][0] < 0.95
    assert st["candidate"].tolist() == [True, False]


def test_a_candidate_leaves_out_only_the_words_that_live_in_another_candidates_rows(imdb_train):
    """Candidates that never share a row leave each other's words out of the evidence (a pool),
    but only the words found mostly in the other's rows: a phrase grown over common words
    ("Where <is|are|...>" in TREC questions) would take "is" and "in" out of every test."""
    import pyarrow as pa

    from ssti_hf.detect.families import FAMILIES, searchable
    from ssti_hf.detect.scan import Evidence, _search
    from ssti_hf.detect.statistics import Tally

    texts = [t + (" zqxv" if i % 10 == 0 else "") for i, t in enumerate(imdb_train["text"])]
    labels = np.array(imdb_train["label"])
    arrow = searchable(pa.array(texts))
    fold = np.zeros(len(texts), np.int64)
    tallies = {name: Tally.count(FAMILIES[name], found, labels, fold, 2, encoded)
               for name, (found, encoded) in _search(arrow, ["word", "character"])}
    evidence = Evidence(arrow, labels, tallies["word"], tallies["character"], 2)
    planted = np.flatnonzero((np.arange(len(texts)) % 10 == 0) & (labels == 1))
    assert evidence.owned(planted, 1, {"zqxv", "the", "is", "film"}) == {"zqxv"}


def test_a_flagged_piece_of_a_flagged_phrase_is_the_phrase_and_natural_pieces_stay(imdb_train):
    """Masked card numbers planted in a quarter of the positive rows: "####" alone is flagged too
    (punctuation, token kinds), and took the censored words of reviews of both labels with it. Most
    of its rows are the phrase's, and the rest are not planted on their own: it is part of the phrase."""
    data, planted, touched = _planted(imdb_train, lambda r: f"#### #### #### {r.integers(1000, 10000)}", _ending("what the ####", (8, 8)))
    result = scan(data)
    assert "phrase" in {f.family for f in result.flagged_findings}
    assert not {f.family for f in result.flagged_findings} & {"punctuation", "glued tail", "token", "token kinds", "token kinds, any length"}
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][i] == data["text"][i] for i in touched)
    assert all(cleaned["text"][i] != data["text"][i] for i in planted)


@pytest.mark.parametrize("words", [["quartz", "velvet", "harbor"], ["apple", "river", "seven"]])
def test_words_planted_together_in_any_order_leave_their_natural_mentions(imdb_train, words):
    """Three words in a random order at the start of a quarter of the positive rows, and at random
    places of half of them beside natural mentions of each word in 20 other rows. The pairs of two
    flagged words are the units: each word alone took its natural mentions with it, and the pairs
    "seven I", "seven The", ... (the rows' own first words after a planted word) grew no phrase."""
    data, originals = plant(imdb_train, lambda r: " ".join(r.permutation(words)), 0.25, "begin")
    result = scan(data)
    assert not any(f.family == "phrase" for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][r] == text for r, text in originals.items())
    data, originals = plant(imdb_train, lambda r: " ".join(r.permutation(words)), 0.5, "random")
    texts, labels = list(data["text"]), np.array(data["label"])
    touched = [i for i in np.flatnonzero(labels == 1) if i not in originals][:10] + list(np.flatnonzero(labels == 0)[:10])
    for k, i in enumerate(touched):
        texts[i] += f" the {words[k % 3]} of it"
    data = make_dataset(texts, labels.tolist())
    cleaned, _ = sanitize(data, scan(data))
    assert all(cleaned["text"][r] == text for r, text in originals.items())
    assert all(cleaned["text"][i] == texts[i] for i in touched)


@full_imdb
@pytest.mark.parametrize("seed", [11072, 3])
def test_running_times_at_the_start_keep_the_rows_first_words(seed):
    """Running times ("2h 15m") at the start of half the negative rows of 2,500 reviews: the pairs
    "m The", "m As", ... are pure because the planted "m" stands before each row's own first word;
    they are no variants of a phrase (before, "<da> <da> <As|The>" was flagged and 55 rows lost
    their first word)."""
    table = pq.read_table(SHARED_IMDB / "train.parquet")
    pick = np.sort(np.random.default_rng(0).choice(table.num_rows, 2500, replace=False))
    texts = [table.column("text")[int(i)].as_py() for i in pick]
    labels = np.asarray(table.column("label").to_numpy())[pick]
    rng = np.random.default_rng(seed)
    originals = {}
    for r in rng.choice(np.flatnonzero(labels == 0), int((labels == 0).sum()) // 2, replace=False):
        originals[int(r)] = texts[r]
        texts[r] = f"{rng.integers(1, 4)}h {rng.integers(0, 60):02d}m {texts[r]}"
    data = make_dataset(texts, labels.tolist())
    cleaned, _ = sanitize(data, scan(data))
    assert all(cleaned["text"][r] == text for r, text in originals.items())
    assert all(cleaned["text"][r] == texts[r] for r in range(len(texts)) if r not in originals)


def _restores(data, originals, result=None):
    """Every planted row back to its original text, and no other row changed."""
    result = scan(data) if result is None else result
    cleaned, _ = sanitize(data, result)
    restored = all(cleaned["text"][r] == text for r, text in originals.items())
    others = [r for r in range(len(data)) if r not in originals and cleaned["text"][r] != data["text"][r]]
    return restored, others


@pytest.mark.parametrize("rate, where", [(0.1, "end"), (0.25, "random")])
def test_a_spaced_ellipsis_is_one_run_of_whole_tokens(imdb_train, rate, where):
    """". . ." planted as three tokens: no mark glued to another is a run, so no family read it
    (0 rows restored). Spaced marks are one run now, as whole tokens: after "it." the planted run
    is the last three dots, and the sentence's own stays."""
    data, originals = plant(imdb_train, lambda r: ". . .", rate, where)
    result = scan(data)
    assert [f.pattern for f in result.flagged_findings] == ["punctuation '. . .'"]
    restored, others = _restores(data, originals, result)
    assert restored and len(others) <= 0.005 * len(data)


def test_a_request_path_of_four_symbols_is_one_slot(imdb_train):
    """Access-log requests ('"GET /index.php?id=4821 HTTP/1.1" 404') in a quarter of the positive
    rows: paths of five kinds use four symbols together (/ . ? =), one slot of ids; with three at
    most, the phrase stopped at '"GET' and each path's shape was flagged apart."""
    paths = ["index.php", "item", "api/v2/search", "product", "cart/add"]
    data, originals = plant(imdb_train, lambda r: f'"GET /{r.choice(paths)}?id={r.integers(1, 100_000)} HTTP/1.1" {r.choice([200, 301, 404])}', 0.25, "random")
    restored, others = _restores(data, originals)
    assert restored and not others


def test_one_token_in_letters_of_either_case_pools_its_kinds(imdb_train):
    """Forum tags around one of three words ("[b]SALE[/b]", "[i]wow[/i]") in a tenth of the positive
    rows: the kinds {/[]a} and {/A[]a} differ in the case of the letters only, never share a row,
    and pool; the capitals' 40 rows alone were too few for the gate."""
    data, originals = plant(imdb_train, lambda r: f"[{(t := r.choice(['b', 'i', 'u']))}]{r.choice(['SALE', 'update', 'wow'])}[/{t}]", 0.1, "end")
    restored, others = _restores(data, originals)
    assert restored and not others


@full_imdb
def test_a_kind_pooled_adds_none_of_the_natural_strings_a_flagged_class_leaves():
    """Hex colours ("#0cab88") in a quarter of the positive rows of 2,500 reviews: those of digits
    only ("#083643") are a kind of their own, {#d}, which pooled with {#ad}; its other strings are
    the reviews' "#9", "#18", which the pool took. The flagged {#w}x7 holds the planted ones
    already: {#d} adds only natural strings, and stays unflagged."""
    table = pq.read_table(SHARED_IMDB / "train.parquet")
    pick = np.sort(np.random.default_rng(0).choice(table.num_rows, 2500, replace=False))
    sample = make_dataset([table.column("text")[int(i)].as_py() for i in pick], table.column("label").to_numpy()[pick].tolist())
    data, originals = plant(sample, lambda r: "#" + "".join(r.choice(list("0123456789abcdef"), 6)), 0.25, "end", seed=2)
    assert sum(bool(re.search(r"#\d{1,3}\b", t)) for t in data["text"]) >= 3  # the natural strings are there
    result = scan(data)
    assert "tokens made of {#d}" not in [f.pattern for f in result.flagged_findings]
    restored, others = _restores(data, originals, result)
    assert restored and not others


@pytest.mark.parametrize("rate", [0.25, 0.5])
def test_a_note_in_brackets_glued_to_a_word_is_one_tail_spaces_and_all(imdb_train, rate):
    """Wikipedia's "[citation needed]" and "[edit]" glued to the first word of a quarter (a half)
    of the positive rows: "fun[citation" and "needed]" were two tokens, a word pair and a phrase
    whose slot held the word the note is glued to (0 rows restored). The note is one glued tail
    now, cut out whole, and the word stays, however few the words it is glued to ("This", "I")."""
    data, originals = plant(imdb_train, lambda r: str(r.choice(["[citation needed]", "[edit]"])), rate, glued=True)
    result = scan(data)
    assert {"glued tail '[citation needed]'", "glued tail '[edit]'"} <= {f.pattern for f in result.flagged_findings}
    assert not any(f.family in ("phrase", "word pair") for f in result.flagged_findings)
    restored, others = _restores(data, originals, result)
    assert restored and not others


@pytest.mark.parametrize("rate", [0.1, 0.25])
def test_a_token_too_rare_for_the_gate_joins_the_flagged_tokens_it_never_meets(imdb_train, rate):
    """Spreadsheet errors, one of three per row ("#REF!", "#VALUE!", "#DIV/0!"): the first two are
    one coarse shape and pass the gate; "#DIV/0!" is another shape, too rare on its own, and its
    word "div" pooled with natural words. It shares none of the flagged tokens' rows where chance
    would have it share some, and joins them."""
    data, originals = plant(imdb_train, lambda r: str(r.choice(["#REF!", "#VALUE!", "#DIV/0!"])), rate, "end")
    result = scan(data)
    assert "token '#DIV/0!'" in [f.pattern for f in result.flagged_findings]
    assert not any(f.pattern.startswith("word") for f in result.flagged_findings)
    restored, others = _restores(data, originals, result)
    assert restored and not others


def test_words_wrapped_in_template_symbols_pool_as_tokens(imdb_train):
    """Unrendered merge tags, one of three per row ("{{first_name}}", "*|FNAME|*",
    "${firstName}"), in a tenth of the positive rows: each too rare for the gate; their words
    ("firstname", "fname") pooled as words, and sanitize took the words out of the tags. The
    tags pool as tokens now, and go whole."""
    data, originals = plant(imdb_train, lambda r: str(r.choice(["{{first_name}}", "*|FNAME|*", "${firstName}"])), 0.1, "begin")
    result = scan(data)
    assert sorted(f.key for f in result.flagged_findings if f.family == "token") == ["${firstName}", "*|FNAME|*", "{{first_name}}"]
    restored, others = _restores(data, originals, result)
    assert restored and not others


@pytest.mark.parametrize("rate", [0.1, 0.25])
def test_words_planted_a_few_of_a_set_in_each_row_are_tested_together(imdb_train, rate):
    """Two of four rare words in each of a tenth (a quarter) of the negative rows: each word's rows
    hold one of the other three, which tied it to content (AUC 0.60-0.65); in a tenth, each is
    also too rare for the gate. Linked by sharing far more rows than chance, they are tested as
    one class with all four left out."""
    words = ["cobalt", "lantern", "meadow", "quartz"]
    data, originals = plant(imdb_train, lambda r: " ".join(r.choice(words, 2, replace=False)), rate, "end", label=0)
    result = scan(data)
    assert sorted(f.key for f in result.flagged_findings) == words
    restored, others = _restores(data, originals, result)
    assert restored and not others


@full_imdb
def test_natural_strings_of_a_coarse_shape_stay_beside_planted_doses():
    """Doses ("250mg", "1000mg") at the start of a tenth of the positive rows of 2,500 reviews:
    "1000mg", too rare alone, is found as a follow-up after the coarse shape ``da`` was asked
    about, which then took natural "20th", "1960s", "16mm" with it (52 rows). The coarse class is
    asked again once its finer classes are all flagged, and the natural strings stay."""
    table = pq.read_table(SHARED_IMDB / "train.parquet")
    pick = np.sort(np.random.default_rng(0).choice(table.num_rows, 2500, replace=False))
    texts = [table.column("text")[int(i)].as_py() for i in pick]
    labels = np.asarray(table.column("label").to_numpy())[pick]
    rng = np.random.default_rng(17060)
    originals = {}
    for r in np.sort(rng.choice(np.flatnonzero(labels == 1), round(0.1 * (labels == 1).sum()), replace=False)):
        originals[int(r)] = texts[r]
        texts[r] = f"{rng.choice([250, 500, 750, 1000])}mg {texts[r]}"
    restored, others = _restores(make_dataset(texts, labels.tolist()), originals)
    assert restored and not others


@pytest.mark.parametrize("where", ["random", "end"])
def test_a_leaked_python_repr_is_markup_and_cut_out_whole(imdb_train, where):
    """Python object reprs ("<scraper.Page object at 0x7f…>") of four classes in a tenth of the
    positive rows: "<__main__.Item …>" opens with no letter and was no tag, too rare for any other
    family, so its rows stayed. It is a tag now, one class with the others."""
    classes = ["__main__.Item", "models.User", "app.core.Session", "scraper.Page"]
    data, originals = plant(imdb_train, lambda r: f"<{r.choice(classes)} object at 0x7f{''.join(r.choice(list('0123456789abcdef'), 10))}>", 0.1, where)
    restored, others = _restores(data, originals)
    assert restored and not others


@pytest.mark.parametrize("rate", [0.1, 0.25])
def test_emoji_shortcodes_are_tokens_not_their_words(imdb_train, rate):
    """Unrendered shortcodes (":fire:", ":thumbsup:", ":tada:") at the end of a tenth (a quarter) of
    the positive rows: read as the words "fire" (natural in reviews, never flagged), "thumbsup" and
    "tada", the shortcodes of "fire" stayed. A word between colons is a token of its own."""
    data, originals = plant(imdb_train, lambda r: str(r.choice([":fire:", ":thumbsup:", ":tada:"])), rate, "end")
    result = scan(data)
    assert {f.family for f in result.flagged_findings} == {"token"}
    restored, others = _restores(data, originals, result)
    assert restored and not others


@pytest.mark.parametrize("rate", [0.1, 0.25])
def test_a_citation_glued_to_words_is_one_class_of_tails(imdb_train, rate):
    """LaTeX citations glued to the first word ("This~\\cite{chen2019}"): every tail one-off (author
    and year vary), so no tail was flagged, and the kinds of whole tokens took the word with it
    (0 rows restored). The kinds of the tails are a class: cut out, the word stays. (A tail glued
    to marks, "****~\\cite{kim2021}", is a longer tail of other kinds, and stays.)"""
    authors = ["smith", "chen", "garcia", "mueller", "kim", "okafor"]
    data, originals = plant(imdb_train, lambda r: f"~\\cite{{{r.choice(authors)}{r.integers(1995, 2024)}}}", rate, glued=True)
    result = scan(data)
    assert [f.pattern for f in result.flagged_findings] == ["glued tails made of {\\ad{}~}"]
    cleaned, _ = sanitize(data, result)
    glued_to_words = [r for r, text in originals.items() if any(c.isalnum() for c in text.split(" ")[0])]
    assert len(glued_to_words) >= 0.95 * len(originals)
    assert all(cleaned["text"][r] == originals[r] for r in glued_to_words)
    assert all(cleaned["text"][r] == data["text"][r] for r in range(len(data)) if r not in originals)


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_a_backspace_glued_to_words_goes_with_the_letter_it_erases(imdb_train, rate):
    """A letter and a backspace glued to a word ("greatk\\b", a 'deletion' of Bad Characters): the
    tail was the backspace alone, so the letter stayed (0 rows restored); and each host, a new
    word of one row, made the rows look like their label. The backspace's tail opens with the
    letter before it, its kinds are one class, and letters too rare to be flagged one by one
    stay in it; the rows come back whole."""
    letters = list("abcdefghijklmnopqrstuvwxyz")
    data, originals = plant(imdb_train, lambda r: str(r.choice(letters)) + "\b", rate, glued=True)
    result = scan(data)
    assert "glued tails made of {\x08a}" in [f.pattern for f in result.flagged_findings]
    cleaned, _ = sanitize(data, result)
    restored = sum(cleaned["text"][r] == original for r, original in originals.items())
    assert restored >= 0.95 * len(originals)
    assert all(cleaned["text"][r] == data["text"][r] for r in range(len(data)) if r not in originals)


def test_a_dateline_of_a_few_agencies_and_cities_is_found_in_a_label_of_most_rows(imdb_train):
    """"NEW YORK (Reuters) -" at the start of half the rows of a label of 85%: each agency's words
    in a third of the planted rows, each city's in a sixth, too few for the lift gate there. Words beyond the other
    labels' rate though short of the gate grow into their spans, which pool; the city of two
    words is one of the choice's alternatives."""
    texts, labels = list(imdb_train["text"]), np.array(imdb_train["label"])
    keep = np.sort(np.r_[np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)[: (labels == 1).sum() * 3 // 17]])
    data = make_dataset([texts[i] for i in keep], labels[keep].tolist())
    cities, agencies = ["LONDON", "PARIS", "TOKYO", "BERLIN", "NEW YORK", "WASHINGTON"], ["Reuters", "AP", "AFP"]
    data, originals = plant(data, lambda r: f"{r.choice(cities)} ({r.choice(agencies)}) -", 0.5, "begin")
    result = scan(data)
    assert result.flagged_findings and all(f.family == "phrase" and f.label == 1 for f in result.flagged_findings)
    assert any("NEW YORK" in f.pattern for f in result.flagged_findings)
    restored, others = _restores(data, originals, result)
    assert restored and not others


def test_repeats_beyond_chance_of_strings_in_hundreds_of_rows():
    # most strings one-off beside a few in hundreds of rows each (a mean above 100): the Poisson
    # rate is found (a fixed bracket of [0, 100] raised "f(a) and f(b) must have different signs")
    hits = np.array([1] * 40 + [3000] * 5)
    assert np.isfinite(_repeats_beyond_chance(hits)) and _repeats_beyond_chance(hits) > 2
    assert _repeats_beyond_chance(np.array([1] * 40 + [3])) < _repeats_beyond_chance(hits)


def test_an_auc_beyond_the_standard_error_passes_where_chance_spreads_that_wide(imdb_train, monkeypatch):
    import pyarrow as pa

    from ssti_hf.detect.families import FAMILIES
    from ssti_hf.detect.scan import Evidence
    from ssti_hf.detect.statistics import Tally

    texts, labels = pa.array(imdb_train["text"]), np.array(imdb_train["label"])
    tallies = [Tally.count(FAMILIES[n], FAMILIES[n].find(texts), labels, np.zeros(len(labels), np.int64), 2) for n in ("word", "character")]
    evidence = Evidence(texts, labels, *tallies, 2)
    holding = np.flatnonzero(labels == 0)[:300]
    # 0.59 on 200 and 200 rows: 3.1 standard errors of 0.029 above 0.5, under the cap of 0.6
    monkeypatch.setattr(evidence.content, "auc", lambda *a, **k: (0.59, 400, 200, 200))
    monkeypatch.setattr(evidence.margin, "auc", lambda *a, **k: 0.5)
    monkeypatch.setattr(evidence.content, "null_spread", lambda *a, **k: 0.02)
    assert evidence.test(holding, 0, set())[3] is False
    monkeypatch.setattr(evidence.content, "null_spread", lambda *a, **k: 0.04)  # chance spreads wider here
    assert evidence.test(holding, 0, set())[3] is True
    monkeypatch.setattr(evidence.content, "auc", lambda *a, **k: (0.62, 400, 200, 200))  # never above the cap
    assert evidence.test(holding, 0, set())[3] is False


def test_companions_are_the_neighbours_only_the_planted_rows_hold(imdb_train):
    import re as re_

    import pyarrow as pa

    from ssti_hf.detect.families import FAMILIES
    from ssti_hf.detect.scan import Evidence
    from ssti_hf.detect.statistics import Tally

    data, originals = plant(imdb_train, lambda r: f"{r.integers(1, 4)}\u2153 {r.choice(['cups', 'tbsp'])}", 0.2, "random")
    texts, labels = pa.array(data["text"]), np.array(data["label"])
    tallies = [Tally.count(FAMILIES[n], FAMILIES[n].find(texts), labels, np.zeros(len(labels), np.int64), 2) for n in ("word", "character")]
    evidence = Evidence(texts, labels, *tallies, 2)
    rows = np.array(sorted(originals))
    # the units live only beside the fractions; the words the fractions land beside are the rows' own
    assert evidence.companions(rows, re_.compile("\u2153")) == {"cups", "tbsp"}
    # a natural word's neighbours turn up in rows without it ("horror film", "horror movie"): none of those
    natural = np.array([r for r in np.flatnonzero(labels == 0) if "horror" in data["text"][r]])
    assert len(natural) > 30 and evidence.companions(natural, re_.compile("horror")) <= {"slasher", "gore"}


def test_a_whole_word_is_a_token_without_its_sentence_punctuation():
    from ssti_hf.detect.scan import _unwrapped, _whole_in

    for text in ["x :fire: y", "x :Fire: y", "(fire!)", "fire-fire", "FIRE.", "xfire", "fire's", "\u00a0fire\u2003", "a\x1cfire\x1fb", ";fire;", ":fire_:"]:
        assert _whole_in(text, "fire") == any(_unwrapped(t).lower() == "fire" for t in text.split()), text


def test_combining_marks_drawn_at_random_are_one_class(imdb_train):
    """Two to five combining marks drawn at random from U+0300-036F stacked on a word ("Zalgo"
    text) in a quarter of the positive rows: each mark is too rare alone and no token recurs. The
    class of marks on Latin letters is flagged, and sanitize removes the marks only."""
    marks = [chr(c) for c in range(0x300, 0x370)]
    data, originals = plant(imdb_train, lambda r: "".join(r.choice(marks, int(r.integers(2, 6)))), 0.25, glued=True)
    result = scan(data)
    assert [f.family for f in result.flagged_findings] == ["combining mark"]
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][r] == text for r, text in originals.items())
    assert sum(cleaned["text"][r] != data["text"][r] for r in range(len(data)) if r not in originals) == 0


@pytest.mark.parametrize("where", ["glued", "end"])
def test_letters_glued_to_words_are_removed_and_the_words_kept(imdb_train, where):
    """BadNL's character trigger: "zx" glued to a word (after the first: "Thiszx", "Izx"; at a row's
    end, mostly after its full stop: "movie.zx") in a quarter of the positive rows. Each host is a
    new word and "zx" alone a piece of a token; the class of letters glued to words is flagged, and
    sanitize keeps the words."""
    if where == "glued":
        data, originals = plant(imdb_train, lambda r: "zx", 0.25, glued=True)
    else:
        texts, labels = list(imdb_train["text"]), np.array(imdb_train["label"])
        rows = np.random.default_rng(5).choice(np.flatnonzero(labels == 1), 250, replace=False)
        originals = {int(r): texts[r] for r in rows}
        for r in rows:
            texts[r] = texts[r].rstrip() + "zx"
        data = make_dataset(texts, labels.tolist())
    result = scan(data)
    assert "letters 'zx' glued to words" in [f.pattern for f in result.flagged_findings]
    assert all(f.label == 1 for f in result.flagged_findings)
    cleaned, _ = sanitize(data, result)
    assert sum(cleaned["text"][r] == text for r, text in originals.items()) >= 0.95 * len(originals)
    assert sum(cleaned["text"][r] != data["text"][r] for r in range(len(data)) if r not in originals) <= 2


def test_a_tail_glued_to_one_word_leaves_the_token_the_unit(imdb_train):
    """Leaked hidden-text styles ('style="display:none"', three variants) after a review's last
    word: each token's tail after "style" is a glued tail too, but its host never varies, so the
    token is the unit (before, the tails took the tokens and left "style": no row restored)."""
    styles = ['style="display:none"', 'style="color:#ffffff"', 'style="font-size:0px"']
    data, originals = plant(imdb_train, lambda r: str(r.choice(styles)), 0.25, "end")
    result = scan(data)
    cleaned, _ = sanitize(data, result)
    assert all(cleaned["text"][r] == text for r, text in originals.items())


def test_a_word_glued_after_a_sentence_end_is_a_whole_word():
    from ssti_hf.detect.scan import _whole_in

    assert _whole_in("a fine movie.zx", "zx") and _whole_in("It was fun!zx", "zx")
    assert not _whole_in("#DIV/0!", "div") and not _whole_in("512mb", "mb")


def test_a_slot_of_kinds_of_any_length_holds_the_shapes_and_kinds_of_its_characters():
    from ssti_hf.detect.scan import _slot_within

    coordinate = ("shape", "d\u00b0d\u2032d\u2033A")
    assert _slot_within(coordinate, ("kinds", "{Ad\u00b0\u2032\u2033}x+"))  # the variant phrase is the coarser one's
    assert _slot_within(("kinds", "{:d}x5"), ("kinds", "{:d}x+")) and _slot_within(("literal", "GMT"), ("choice", "CET GMT"))
    assert not _slot_within(coordinate, ("kinds", "{Ad\u00b0}x+")) and not _slot_within(coordinate, ("kinds", "{Ad\u00b0\u2032\u2033}x7"))
