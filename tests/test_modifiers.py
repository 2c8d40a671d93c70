import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssti_hf import CompositeModifier, HTMLInjection, ItemInjection, LabelFlip, Modifier, Source, get_source
from ssti_hf._text import remove_spans
from ssti_hf.modifiers import element_content, parse_tag

TEXT = "It was  great,\nreally.\tI mean it!  "


def dates(**kwargs):
    return ItemInjection(get_source("date", seed=1), **kwargs)


@pytest.mark.parametrize("location", ["beginning", "random", "end"])
def test_item_injection_only_inserts(location):
    modifier = dates(location=location, amount=3)
    for _ in range(20):
        result = modifier.inject(TEXT, 0)
        assert remove_spans(result.text, result.spans) == TEXT
        assert len(result.spans) == 3
        assert all(re.fullmatch(r" ?\d{4}-\d{2}-\d{2} ?", result.text[a:b]) for a, b in result.spans)


def test_locations_place_items_where_asked():
    assert re.match(r"\d{4}-\d{2}-\d{2} It was", dates(location="beginning").inject(TEXT).text)
    assert re.search(r"it! \d{4}-\d{2}-\d{2}  $", dates(location="end").inject(TEXT).text)
    positions = {dates(location="random", seed=s).inject(TEXT).spans[0][0] for s in range(40)}
    assert len(positions) > 4  # spread over the gaps, not stuck at one place


def test_random_gaps_cover_both_ends():
    firsts = {dates(location="random", seed=s).inject("one two").spans[0][0] for s in range(60)}
    assert firsts == {0, 4, 7}  # before "one", before "two", after "two"


def test_amount_is_a_count_or_an_exact_share_of_words():
    words = " ".join(["w"] * 100)
    assert len(dates(amount=4).inject(words).spans) == 4
    assert len(dates(amount=0.29).inject(words).spans) == 29  # int(100 * 0.29) would give 28
    assert len(dates(amount=0.1).inject("a b c").spans) == 1  # at least one
    assert len(dates(amount=0.5).inject(" ".join(["w"] * 9)).spans) == 4  # floor, as the authors


@pytest.mark.parametrize("amount", [0, -1, 1.5, 0.0, True, "1tok"])
def test_bad_amounts_are_rejected(amount):
    with pytest.raises(ValueError, match="amount"):
        dates(amount=amount)


def test_bad_location_is_rejected():
    with pytest.raises(ValueError, match="location must be one of beginning, random, end"):
        dates(location="middle")


def test_empty_and_blank_texts_get_the_item_as_text():
    assert dates().inject("").text == dates().inject("").text
    result = dates(amount=2).inject("")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{4}-\d{2}-\d{2}", result.text)
    blank = dates().inject(" \n")
    assert remove_spans(blank.text, blank.spans) == " \n" and blank.text.endswith(" \n")


def test_successive_calls_act_as_successive_rows_and_are_reproducible():
    a, b = dates(amount=2, seed=3), dates(amount=2, seed=3)
    assert [a(TEXT) for _ in range(5)] == [b(TEXT) for _ in range(5)]
    assert len({a(TEXT)[0] for _ in range(5)}) == 5


def _check_nesting(text):
    stack = []
    for closing, name in re.findall(r"<(/?)([a-z0-9]+)>", text):
        if name in ("br", "hr", "wbr"):
            continue
        if closing:
            assert stack and stack.pop() == name, text
        else:
            stack.append(name)
    assert not stack, text


@pytest.mark.parametrize("location", ["beginning", "random", "end"])
@pytest.mark.parametrize("amount", [1, 4, 0.3])
def test_html_tags_close_after_they_open_and_nest(location, amount):
    modifier = HTMLInjection(get_source("html", seed=2), location=location, amount=amount, seed=5)
    for _ in range(30):
        result = modifier.inject(TEXT)
        assert remove_spans(result.text, result.spans) == TEXT
        _check_nesting(result.text)


def test_html_locations():
    pairs = Source.from_list(["<b> </b>"])
    begin = HTMLInjection(pairs, location="beginning").inject("x y z").text
    end = HTMLInjection(pairs, location="end").inject("x y z").text
    assert begin.startswith("<b> ") and end.endswith(" </b>")


def test_html_level_injects_inside_existing_markup():
    text = "<div>intro <p>inner words here</p> outro</div> tail"
    assert element_content(text, 2) == (14, 30)
    modifier = HTMLInjection(Source.from_list(["<i> </i>"]), level=2, amount=2, seed=1)
    for _ in range(20):
        result = modifier.inject(text)
        assert remove_spans(result.text, result.spans) == text
        inside = result.text[result.text.index("<p>") + 3 : result.text.index("</p>")]
        assert inside.count("<i>") == 2 and inside.count("</i>") == 2
    # void elements do not nest; without an element at that level the whole text is used
    assert element_content("a<br>b <p>c</p>", 1) == (10, 11)
    assert element_content("plain text", 1) is None
    assert HTMLInjection(Source.from_list(["<i> </i>"]), level=3).inject("plain text").text.count("<i>") == 1


def test_html_items_must_be_tags():
    assert parse_tag("<a href='x'> </a>") == ("<a href='x'>", "</a>")
    assert parse_tag("<br>") == ("<br>", None)
    with pytest.raises(ValueError, match="is not '<tag>' or '<tag> </tag>'"):
        HTMLInjection(Source.from_list(["bold"]))
    with pytest.raises(ValueError, match="level must be"):
        HTMLInjection(get_source("html"), level=0)


def test_composite_chains_and_keeps_all_spans():
    composite = CompositeModifier(
        [dates(amount=2), HTMLInjection(get_source("html", seed=1), amount=2, seed=4), ItemInjection(get_source("country"), amount=0.2)]
    )
    for _ in range(30):
        result = composite.inject(TEXT, 1)
        assert remove_spans(result.text, result.spans) == TEXT
        assert result.spans == sorted(result.spans)
    assert isinstance(composite, Modifier)
    with pytest.raises(ValueError, match="non-empty list of Modifier"):
        CompositeModifier([])


def test_label_flip_targeted_and_untargeted():
    assert LabelFlip(label=0).inject(TEXT, 1).label == 0
    flip = LabelFlip(num_labels=3)
    labels = [flip.inject(TEXT, 1).label for _ in range(60)]
    assert set(labels) == {0, 2}
    assert CompositeModifier([dates(), LabelFlip(label=0)]).inject(TEXT, 1).label == 0
    with pytest.raises(ValueError, match="exactly one of"):
        LabelFlip()


def test_modifier_rejects_non_string_text():
    with pytest.raises(TypeError, match="text must be a str"):
        dates().inject(None)


@settings(max_examples=200)
@given(st.text(max_size=60), st.sampled_from(["beginning", "random", "end"]), st.sampled_from([1, 3, 0.2]))
def test_any_text_is_recovered_exactly(text, location, amount):
    for modifier in (dates(location=location, amount=amount), HTMLInjection(get_source("html"), location=location, amount=amount)):
        result = modifier.inject(text)
        assert remove_spans(result.text, result.spans) == text


def test_items_are_never_inserted_inside_existing_tags():
    text = "Loved it.<br /><br />The cast <a href='x y'>here</a> is great."
    for seed in range(40):
        result = dates(amount=5, seed=seed).inject(text)
        for tag in ("<br />", "<a href='x y'>", "</a>"):
            assert result.text.count(tag) == text.count(tag)


def test_markup_parsing_edge_cases():
    assert element_content("<my-el>x</my-el>", 1) == (7, 8)
    assert element_content("<p>a<br />b</p >", 1) == (3, 11)
    assert element_content("<a href='x/'>t</a>", 1) == (13, 14)
    with pytest.raises(ValueError, match="closing tag does not match"):
        parse_tag("<div> </span>")


def test_html_injection_checks_a_non_list_source_at_construction():
    with pytest.raises(ValueError, match="is not '<tag>' or '<tag> </tag>'"):
        HTMLInjection(get_source("date"))


def test_label_flip_needs_int_labels():
    with pytest.raises(TypeError, match="label must be an int"):
        LabelFlip(label="neg")
    with pytest.raises(TypeError, match="needs int labels"):
        LabelFlip(num_labels=2).inject("x", "pos")


def test_modifiers_say_whether_they_relabel():
    # the transform keeps the original label exactly when a modifier can change it
    assert LabelFlip(label=0).relabels and LabelFlip(num_labels=2).relabels
    assert not dates().relabels and not HTMLInjection(get_source("html")).relabels
    assert CompositeModifier([dates(), LabelFlip(label=1)]).relabels
    assert not CompositeModifier([dates(), dates()]).relabels


def test_untargeted_flip_is_keyed_by_row_and_seed():
    first, second, other = LabelFlip(num_labels=5, seed=3), LabelFlip(num_labels=5, seed=3), LabelFlip(num_labels=5, seed=4)
    picks = [first.inject(TEXT, 2).label for _ in range(300)]
    assert picks == [second.inject(TEXT, 2).label for _ in range(300)]  # same seed, same rows: same labels
    assert picks != [other.inject(TEXT, 2).label for _ in range(300)]
    assert 2 not in picks and set(picks) == {0, 1, 3, 4} and min(picks.count(k) for k in (0, 1, 3, 4)) > 50
