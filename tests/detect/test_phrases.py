"""Growing a planted span around an anchor token."""

import re

from ssti_hf.detect import phrases
from ssti_hf.detect.families import coarse_shape, shape


def anchored(texts, token):
    return phrases.extend(texts, re.compile(r"(?<!\S)" + re.escape(token) + r"(?!\S)"), shape, coarse_shape)


def test_a_sentence_grows_to_its_ends_and_not_beyond():
    # natural text around it varies: no two rows share the word before or after it
    openings = [f"{o} {w}" for o, w in zip(["Great", "Not my", "Seen it", "Loved", "Too", "Odd"] * 4, "abcdefghijklmnopqrstuvwx")]
    closings = [f"{w}{c}" for w, c in zip("ABCDEFGHIJKLMNOPQRSTUVWX", ["ly.", "y?", "s", "h", "n", "k"] * 4)]
    texts = [f"{o} I watched this with my family last weekend. {c}" for o, c in zip(openings, closings)]
    slots = anchored(texts, "weekend.")
    assert phrases.describe(slots) == "I watched this with my family last weekend."
    matched = [m.group() for t in texts for m in phrases.phrase_regex(slots).finditer(t)]
    assert matched == ["I watched this with my family last weekend."] * len(texts)


def test_varying_numbers_become_a_shape_slot():
    texts = [f"item {n} kg shipped {w}" for n, w in zip(range(5, 500, 17), "abcdefghijklmnopqrstuvwxyzab")]
    texts = [t.replace("item", w) for t, w in zip(texts, "ABCDEFGHIJKLMNOPQRSTUVWXYZab")]  # natural words before it: all different
    slots = anchored(texts, "kg")
    assert slots == [("shape", "d"), ("literal", "kg"), ("literal", "shipped")]
    assert phrases.phrase_regex(slots).search("a 12 kg shipped b").group() == "12 kg shipped"
    assert phrases.decode(phrases.encode(slots)) == slots


def test_a_few_fixed_tokens_are_one_slot_and_varying_handles_another():
    agencies = ["AP.", "AFP.", "Reuters.", "BBC."]
    texts = [f"{w} \u00a9 {1995 + i % 29} {agencies[i % 4]} All rights reserved." for i, w in enumerate([c + d for c in "abcd" for d in "efghijklmn"])]
    slots = anchored(texts, "\u00a9")
    assert phrases.describe(slots) == "\u00a9 <d> <AFP.|AP.|BBC.|Reuters.> All rights reserved."
    assert phrases.phrase_regex(slots).search("x \u00a9 2001 BBC. All rights reserved.")
    assert not phrases.phrase_regex(slots).search("x \u00a9 2001 CNN. All rights reserved.")
    after = [c + d for c in "abcd" for d in "efghijklmn"]
    handles = [f"RT @{n}{i}: {w}" for i, (n, w) in enumerate(zip(["lisa", "mike_b", "newsdesk", "jo"] * 10, after))]
    slots = anchored(handles, "RT")
    assert slots == [("literal", "RT"), ("kinds", "{:@_ad}x+")]
    assert phrases.phrase_regex(slots).search("a RT @anna_k7: b").group() == "RT @anna_k7:"
    # words ending a sentence are no codes, and thirty different words are no few tokens
    assert all(kind != "kinds" for kind, _ in anchored([f"{w} RT said{'.' if i % 2 else ''}" for i, w in enumerate("abcdefghijklmnopqrstuvwxyzABCD")], "RT"))
    assert len(anchored([f"RT {w} x" for w in "abcdefghijklmnopqrstuvwxyzABCD"], "RT")) == 1


def test_words_are_no_shape_slot_and_a_varying_anchor_is_no_phrase():
    texts = [f"{w} cf {v}" for w, v in zip("abcdefghijklmnopqrst", "ABCDEFGHIJKLMNOPQRST")]
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
