import numpy as np
import pytest

from ssti_hf import INJECTED, SPANS, HTMLInjection, ItemInjection, SSTIConfig
from ssti_hf.config import SPLITS


@pytest.mark.parametrize(
    "name",
    [
        "imdb-ssti-date-50pct-1tok",
        "imdb-ssti-html-25pct-10ptok-end-label0",
        "financial-ssti-country-100pct-5ptok-begin",
        "bias_in_bios-ssti-date-0pct-3tok-label27",
        "commonsense_qa-ssti-country-75pct-1ptok-end-label4",
    ],
)
def test_names_round_trip(name):
    config = SSTIConfig.from_name(name)
    assert config.name == name
    assert SSTIConfig.from_name(config.name) == config


def test_fields_and_defaults():
    config = SSTIConfig.from_name("imdb-ssti-html-25pct-10ptok-end-label0", seed=3)
    assert (config.base, config.source, config.rate, config.amount, config.location, config.label, config.seed) == (
        "imdb", "html", 25, 0.1, "end", 0, 3,
    )
    default = SSTIConfig.from_name("imdb-ssti-date-50pct-1tok")
    assert (default.location, default.label, default.amount, default.proportion) == ("random", 1, 1, 0.5)
    for spelled_out in ("imdb-ssti-date-50pct-1tok-random-label1", "imdb-ssti-date-050pct-1tok", "imdb-ssti-date-50pct-01tok"):
        with pytest.raises(ValueError, match="as 'imdb-ssti-date-50pct-1tok'"):
            SSTIConfig.from_name(spelled_out)


@pytest.mark.parametrize(
    "name, message",
    [
        ("imdb-date-50pct", "has no '-ssti-'"),
        ("imbd-ssti-date-50pct-1tok", r"unknown base dataset 'imbd'.*did you mean imdb.*valid: bias_in_bios, commonsense_qa"),
        ("imdb-ssti-dates-50pct-1tok", r"unknown source 'dates'.*did you mean date.*valid: country, date, html"),
        ("imdb-ssti-date-50-1tok", r"bad rate '50'.*\{0..100\}pct"),
        ("imdb-ssti-date-101pct-1tok", r"bad rate '101pct'"),
        ("imdb-ssti-date-50pct-0tok", r"bad amount '0tok'.*\{n>=1\}tok or \{1..100\}ptok"),
        ("imdb-ssti-date-50pct-200ptok", r"bad amount '200ptok'"),
        ("imdb-ssti-date-50pct", "needs a source, a rate and an amount"),
        ("imdb-ssti-date-50pct-1tok-middle", r"unexpected part 'middle'.*begin\|random\|end"),
        ("imdb-ssti-date-50pct-1tok-label0-end", r"unexpected part 'end'"),
        ("imdb-ssti-date-50pct-1tok-label2", r"label2 is out of range for imdb \(labels 0..1\)"),
    ],
)
def test_bad_names_say_which_part_is_wrong(name, message):
    with pytest.raises(ValueError, match=message):
        SSTIConfig.from_name(name)


def test_bad_fields():
    with pytest.raises(ValueError, match=r"unknown source 'nosuch'; valid: country, date, html"):
        SSTIConfig("imdb", "nosuch", 50)
    with pytest.raises(ValueError, match="whole percent"):
        SSTIConfig("imdb", "date", 50, amount=0.123)
    with pytest.raises(ValueError, match="rate must be an int percent"):
        SSTIConfig("imdb", "date", 150)
    with pytest.raises(TypeError, match="must be a str"):
        SSTIConfig.from_name(None)


def test_source_picks_the_modifier():
    assert isinstance(SSTIConfig.from_name("imdb-ssti-date-50pct-1tok").modifier(), ItemInjection)
    html = SSTIConfig.from_name("imdb-ssti-html-50pct-1tok-end").modifier()
    assert isinstance(html, HTMLInjection) and html.location == "end"


def test_apply_builds_the_four_splits(imdb_sample):
    splits = SSTIConfig.from_name("imdb-ssti-country-50pct-1tok-begin-label0").apply(imdb_sample)
    assert tuple(splits) == SPLITS
    for split in splits.values():
        assert split.column_names == ["text", "label", INJECTED, SPANS]
    train_labels, train_flags = np.array(splits["train"]["label"]), np.array(splits["train"][INJECTED])
    assert train_flags.sum() == 500 and not train_flags[train_labels == 1].any()
    assert not any(splits["test"][INJECTED]) and splits["test"]["text"] == imdb_sample["test"]["text"]
    assert sum(splits["test_spurious"][INJECTED]) == 250 and all(splits["test_triggered"][INJECTED])
    # the matched spurious rows are the same rows, identically injected, in the triggered set
    for spurious, triggered, flag in zip(splits["test_spurious"]["text"], splits["test_triggered"]["text"], splits["test_spurious"][INJECTED]):
        assert (spurious == triggered) == flag
    # train and test draw different items: test row i does not just repeat train row i's item
    def items(split):
        return [text[spans[0][0] : spans[0][1]] if spans else None for text, spans in zip(split["text"][:1000], split[SPANS][:1000])]

    train_items = [x for x, flag in zip(items(splits["train"]), train_flags) if flag]
    triggered_items = [x for x, flag in zip(items(splits["test_triggered"]), train_flags) if flag]
    assert None not in train_items + triggered_items and len(train_items) > 200
    assert sum(a == b for a, b in zip(train_items, triggered_items)) < len(train_items) / 10


def test_zero_rate_is_the_clean_baseline(imdb_sample):
    splits = SSTIConfig.from_name("imdb-ssti-date-0pct-1tok").apply(imdb_sample)
    assert not any(splits["train"][INJECTED]) and not any(splits["test_spurious"][INJECTED])
    assert all(splits["test_triggered"][INJECTED])
