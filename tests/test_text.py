from hypothesis import given, settings
from hypothesis import strategies as st

from ssti_hf._text import insert, remove_spans, shift_spans, word_bounds, word_bounds_batch

# Text with every kind of whitespace str.split() knows, plus ASCII controls and non-ASCII letters.
WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u202f\u205f\u3000"
texts = st.text(alphabet=st.sampled_from(list(WHITESPACE) + list("ab<>/!é\x00\x07字")), max_size=40)


@settings(max_examples=300)
@given(st.lists(texts, max_size=8))
def test_batch_word_bounds_equal_regex_word_bounds(batch):
    for text, (starts, ends) in zip(batch, word_bounds_batch(batch)):
        assert (starts.tolist(), ends.tolist()) == word_bounds(text)
        if "<" not in text:
            assert len(starts) == len(text.split())


def test_markup_tags_are_never_split():
    text = "Great movie.<br /><br />The end, <a href='x y'>here</a>. But x < y > z."
    starts, ends = word_bounds(text)
    words = [text[a:b] for a, b in zip(starts, ends)]
    assert words == ["Great", "movie.<br /><br />The", "end,", "<a href='x y'>here</a>.", "But", "x", "<", "y", ">", "z."]


def test_insert_keeps_original_characters():
    text = "Hello there,\n  world\t!  "
    starts, ends = word_bounds(text)
    new, spans = insert(text, [(starts[0], "A", False), (starts[2], "B", False), (ends[-1], "C", True)])
    assert new == "A Hello there,\n  B world\t! C  "
    assert remove_spans(new, spans) == text
    assert [new[a:b] for a, b in spans] == ["A ", "B ", " C"]


def test_insert_into_empty_text_adds_no_separator_before_first_item():
    new, spans = insert("", [(0, "A", True), (0, "B", True)])
    assert new == "A B" and spans == [(0, 1), (1, 3)]


@given(st.data())
def test_shift_spans_keeps_removal_exact(data):
    text = data.draw(texts)
    starts, ends = word_bounds(text)
    gaps = sorted(data.draw(st.lists(st.integers(0, len(starts)), max_size=4)))
    pieces = [(starts[g], "X", False) if g < len(starts) else (ends[-1] if ends else 0, "X", True) for g in gaps]
    once, first = insert(text, pieces)
    s2, e2 = word_bounds(once)
    gaps2 = sorted(data.draw(st.lists(st.integers(0, len(s2)), max_size=4)))
    pieces2 = [(s2[g], "YY", False) if g < len(s2) else (e2[-1] if e2 else 0, "YY", True) for g in gaps2]
    twice, second = insert(once, pieces2)
    merged = shift_spans(first, second)
    assert remove_spans(twice, merged) == text
    assert sum(b - a for a, b in merged) == len(twice) - len(text)


def test_insertion_inside_an_earlier_span_splits_it():
    once, first = insert("a b", [(3, "X", True)])  # "a b X": the span " X" holds the word X
    twice, second = insert(once, [(4, "Y", False)])  # "a b Y X": Y goes before the word X
    assert twice == "a b Y X"
    assert shift_spans(first, second) == [(3, 4), (4, 6), (6, 7)]
