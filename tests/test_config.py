import numpy as np
import pytest
from datasets import DatasetDict

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
        "imdb-ssti-date-50pct-1tok-div10",
        "imdb-backdoor-html-5pct-1tok-begin-div1-label0",
    ],
)
def test_names_round_trip(name):
    config = SSTIConfig.from_name(name)
    assert config.name == name
    assert SSTIConfig.from_name(config.name) == config


def test_diversity_restricts_training_and_test_sets_to_the_same_k_items(imdb_sample):
    small = DatasetDict({split: imdb_sample[split].shuffle(seed=0).select(range(400)) for split in ("train", "test")})
    items = {}
    for k in (1, 3):
        config = SSTIConfig.from_name(f"imdb-ssti-country-100pct-1tok-div{k}", seed=2)
        assert config.diversity == k and config.parts()["diversity"] == k
        built = config.apply(small)
        items[k] = {split: {text[a:b].strip() for text, spans in zip(built[split]["text"], built[split][SPANS]) for a, b in spans}
                    for split in ("train", "test_spurious", "test_triggered")}
        assert len(items[k]["train"]) == k and items[k]["train"] == items[k]["test_spurious"] == items[k]["test_triggered"]
    full = SSTIConfig.from_name("imdb-ssti-country-100pct-1tok", seed=2).apply(small)
    assert len({t[a:b].strip() for t, spans in zip(full["train"]["text"], full["train"][SPANS]) for a, b in spans}) > 3
    assert SSTIConfig.from_name("imdb-ssti-country-100pct-1tok-div3", seed=3).apply(small)["train"]["text"] != full["train"]["text"]
    with pytest.raises(ValueError, match="diversity=500 exceeds the 196 distinct items of source 'country'"):
        SSTIConfig.from_name("imdb-ssti-country-50pct-1tok-div500")
    with pytest.raises(ValueError, match="diversity must be a positive int"):
        SSTIConfig.from_name("imdb-ssti-date-50pct-1tok-div0")
    with pytest.raises(ValueError, match="and diversity too"):
        SSTIConfig("imdb", None, 10, attack="poison-flip", diversity=3)
    with pytest.raises(ValueError, match="as 'imdb-ssti-date-50pct-1tok-end-div2'"):
        SSTIConfig.from_name("imdb-ssti-date-50pct-1tok-end-div02")


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
        ("imdb-date-50pct", r"unknown attack 'date' in 'imdb-date-50pct'; valid: backdoor, backdoor-clean, poison-flip, ssti"),
        ("imbd-ssti-date-50pct-1tok", r"unknown base dataset 'imbd'.*did you mean imdb.*valid: bias_in_bios, commonsense_qa"),
        ("imdb-ssti-dates-50pct-1tok", r"unknown source 'dates'.*did you mean date.*valid: country, date, html"),
        ("imdb-ssti-date-50-1tok", r"bad rate '50'.*\{0..100\}pct"),
        ("imdb-ssti-date-101pct-1tok", r"bad rate '101pct'"),
        ("imdb-ssti-date-50pct-0tok", r"bad amount '0tok'.*\{1..1000\}tok or \{1..100\}ptok"),
        ("imdb-ssti-date-50pct-200ptok", r"bad amount '200ptok'"),
        ("imdb-ssti-date-50pct", "needs a source, a rate and an amount"),
        ("imdb-ssti-date-50pct-1tok-middle", r"unexpected part 'middle'.*begin\|random\|end"),
        ("imdb-ssti-date-50pct-1tok-label0-end", r"unexpected part 'end'"),
        ("imdb-ssti-date-50pct-1tok-label2", r"label2 is out of range for imdb \(labels 0..1\)"),
        # attacks: unknown ones with suggestions, a target label not in the dataset, rates out of range
        ("imdb-backdor-date-5pct-1tok", r"unknown attack 'backdor' in 'imdb-backdor-date-5pct-1tok' \(did you mean backdoor"),
        ("imdb-poison-10pct", r"unknown attack 'poison'.*did you mean poison-flip\?.*valid: backdoor, backdoor-clean, poison-flip, ssti"),
        ("imdb-poisonflip-10pct", r"did you mean poison-flip"),
        ("imdb-backdoor-date-5pct-1tok-label5", r"target label5 is out of range for imdb \(labels 0..1\)"),
        ("imdb-backdoor-clean-date-5pct-1tok-label2", r"target label2 is out of range for imdb"),
        ("imdb-poison-flip-101pct", r"bad rate '101pct' in 'imdb-poison-flip-101pct'"),
        ("imdb-backdoor-date-200pct-1tok", r"bad rate '200pct'"),
        ("imdb-poison-flip-10pct-label0", r"poison-flip is untargeted: it has no target label"),
        ("imdb-poison-flip-10pct-1tok", r"unexpected part '1tok'.*nothing comes after the rate"),
        ("imdb-poison-flip", r"needs a rate after '-poison-flip-'"),
        ("imdb-backdoor-clean-10pct-1tok", r"needs a source, a rate and an amount after '-backdoor-clean-'"),
        ("imdb-backdoor-dat-5pct-1tok", r"unknown source 'dat'.*did you mean date"),
        ("imbd-poison-flip-10pct", r"unknown base dataset 'imbd'.*did you mean imdb"),
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


# -- training-time attacks as config names --------------------------------------------------------


@pytest.mark.parametrize(
    "name, fields",
    [
        ("imdb-backdoor-date-5pct-1tok", ("backdoor", "date", 5, 1, "random", 1)),
        ("imdb-backdoor-html-1pct-10ptok-end-label0", ("backdoor", "html", 1, 0.1, "end", 0)),
        ("imdb-backdoor-clean-country-10pct-1tok-begin", ("backdoor-clean", "country", 10, 1, "beginning", 1)),
        ("financial-backdoor-clean-date-50pct-2tok-label2", ("backdoor-clean", "date", 50, 2, "random", 2)),
        ("imdb-poison-flip-10pct", ("poison-flip", None, 10, None, None, None)),
        ("bias_in_bios-poison-flip-0pct", ("poison-flip", None, 0, None, None, None)),
        ("commonsense_qa-poison-flip-100pct", ("poison-flip", None, 100, None, None, None)),
    ],
)
def test_attack_names_round_trip(name, fields):
    config = SSTIConfig.from_name(name, seed=2)
    assert (config.attack, config.source, config.rate, config.amount, config.location, config.label) == fields
    assert config.name == name and config.seed == 2
    assert SSTIConfig.from_name(config.name, seed=2) == config
    assert SSTIConfig(config.base, config.source, config.rate, config.amount, config.location, config.label, 2, config.attack) == config


def test_old_names_parse_as_before():
    config = SSTIConfig.from_name("imdb-ssti-date-50pct-1tok")
    assert config == SSTIConfig("imdb", "date", 50) == SSTIConfig("imdb", "date", 50, 1, "random", 1, 0, "ssti")
    assert config.attack == "ssti" and config.attack_spec.rate_of == "the target label's training rows"


@pytest.mark.parametrize(
    "spelled_out, canonical",
    [
        ("imdb-backdoor-date-5pct-1tok-label1", "imdb-backdoor-date-5pct-1tok"),
        ("imdb-backdoor-clean-date-5pct-1tok-random", "imdb-backdoor-clean-date-5pct-1tok"),
        ("imdb-poison-flip-010pct", "imdb-poison-flip-10pct"),
    ],
)
def test_attack_names_have_one_spelling(spelled_out, canonical):
    with pytest.raises(ValueError, match=f"as '{canonical}'"):
        SSTIConfig.from_name(spelled_out)


def test_bad_attack_fields():
    with pytest.raises(ValueError, match=r"unknown attack 'backdor' \(did you mean backdoor, backdoor-clean\?\)"):
        SSTIConfig("imdb", "date", 5, attack="backdor")
    with pytest.raises(ValueError, match=r"poison-flip has no trigger: leave source, amount and location unset"):
        SSTIConfig("imdb", "date", 10, attack="poison-flip")
    with pytest.raises(ValueError, match=r"poison-flip is untargeted: it has no target label, got label=0"):
        SSTIConfig("imdb", None, 10, label=0, attack="poison-flip")
    with pytest.raises(ValueError, match=r"rate must be an int percent in 0..100 \(of the whole training split\), got 150"):
        SSTIConfig("imdb", None, 150, attack="poison-flip")
    with pytest.raises(ValueError, match="target label5 is out of range for imdb"):
        SSTIConfig("imdb", "date", 5, label=5, attack="backdoor")
    with pytest.raises(ValueError, match="label must be an int"):
        SSTIConfig("imdb", "date", 5, label="pos", attack="backdoor")
    with pytest.raises(ValueError, match="imdb-poison-flip-10pct has no trigger"):
        SSTIConfig.from_name("imdb-poison-flip-10pct").modifier()


def test_a_backdoor_rate_beyond_the_other_classes_fails_before_any_work(imdb_sample):
    # IMDB is balanced: at most half of the rows are not of the target label
    with pytest.raises(ValueError, match=r"a 60% backdoor poisons 1200 of the 2000 train rows, but only 1000 are not of the target label 1 \(at most 50pct\)"):
        SSTIConfig.from_name("imdb-backdoor-date-60pct-1tok").apply(imdb_sample)
    unbalanced = DatasetDict({"train": imdb_sample["train"], "test": imdb_sample["test"].select(range(490, 1000))})
    with pytest.raises(ValueError, match=r"poisons 26 of the 510 test rows, but only 10 are not"):
        SSTIConfig.from_name("imdb-backdoor-date-5pct-1tok").apply(unbalanced)
    assert sum(SSTIConfig.from_name("imdb-backdoor-date-50pct-1tok").apply(imdb_sample)["train"][INJECTED]) == 1000
