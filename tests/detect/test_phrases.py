"""Growing a planted span around an anchor token."""

import re

from ssti_hf.detect import phrases
from ssti_hf.detect.families import coarse_shape, shape


def anchored(texts, token):
    return phrases.extend(texts, re.compile(r"(?<!\S)" + re.escape(token) + r"(?!\S)"), shape, coarse_shape)


def test_a_sentence_grows_to_its_ends_and_not_beyond():
    openings = ["Great film", "Not my thing", "Seen it twice", "Boring", "Loved the cast", "Too long", "Odd", "Fine"]
    closings = ["Really.", "Why?", "Sure", "Meh", "Ten", "Ok", "Gone", "Yes"]
    texts = [f"{o} I watched this with my family last weekend. {c}" for o in openings for c in closings[:3]]
    slots = anchored(texts, "weekend.")
    assert phrases.describe(slots) == "I watched this with my family last weekend."
    matched = [m.group() for t in texts for m in phrases.phrase_regex(slots).finditer(t)]
    assert matched == ["I watched this with my family last weekend."] * len(texts)


def test_varying_numbers_become_a_shape_slot():
    texts = [f"item {n} kg shipped {w}" for n, w in zip(range(5, 500, 17), "abcdefghijklmnopqrstuvwxyzab")]
    texts = [t.replace("item", w) for t, w in zip(texts, ["box", "crate", "bag", "tin"] * 10)]
    slots = anchored(texts, "kg")
    assert slots == [("shape", "d"), ("literal", "kg"), ("literal", "shipped")]
    assert phrases.phrase_regex(slots).search("a 12 kg shipped b").group() == "12 kg shipped"
    assert phrases.decode(phrases.encode(slots)) == slots


def test_words_are_no_shape_slot_and_a_varying_anchor_is_no_phrase():
    texts = [f"{w} cf {v}" for w, v in zip(["red", "blue", "green", "grey"] * 5, ["one", "two", "six", "ten", "all"] * 4)]
    assert anchored(texts, "cf") == [("literal", "cf")]  # plain words on both sides vary: nothing to grow
    assert phrases.extend(["a x1 b", "c x2 d"], re.compile(r"x\d"), shape, coarse_shape) is None


def test_a_phrase_matches_whole_tokens_only_whichever_slot_comes_first():
    texts = ["waste of time, a waste of money", "xwaste of", "(waste of", "waste of.", " waste\t\nof", "a.b* c x a.b* c",
             "Order #12 confirmed. Order #7 confirmed.", "#3 confirmed. x#3 confirmed.", "λόγος λόγος xλόγος"]
    cases = {("waste", "of"): [(0, 0, 8), (0, 17, 25), (4, 1, 10)], ("a.b*", "c"): [(5, 0, 6), (5, 9, 15)],
             ("λόγος",): [(8, 0, 5), (8, 6, 11)]}
    for words, expected in cases.items():
        regex = phrases.phrase_regex([("literal", w) for w in words])
        assert [(row, *m.span()) for row, t in enumerate(texts) for m in regex.finditer(t)] == expected, words
    shape_first = phrases.phrase_regex([("shape", "#d"), ("literal", "confirmed.")])
    assert [m.group() for t in texts for m in shape_first.finditer(t)] == ["#12 confirmed.", "#7 confirmed.", "#3 confirmed."]
