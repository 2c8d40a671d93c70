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


def test_a_few_tokens_drawn_alike_are_a_slot_however_uneven_a_small_draw_and_grammar_is_not():
    """A breadcrumb's four sections drawn in 51 rows came 21, 14, 11 and 5 times: more than 3 to 1,
    within chance (chi-square p = 0.02). The words before "waste" in natural text are far apart."""
    sections = ["Business"] * 21 + ["Culture"] * 14 + ["News"] * 11 + ["Sport"] * 5
    words = [c + d for c in "abcdefgh" for d in "ijklmnop"]
    texts = [f"{w} Home > {s} > Tech {v}" for w, s, v in zip(words, sections, reversed(words))]
    assert phrases.describe(anchored(texts, "Home")) == "Home > <Business|Culture|News|Sport> > Tech"
    grammar = ["don't"] * 60 + ["not"] * 10 + ["even"] * 5
    natural = [f"{w} {g} waste {v}" for w, g, v in zip(words + words, grammar, reversed(words + words))]
    assert anchored(natural, "waste") == [("literal", "waste")]
    # one word written two ways is a sentence's start, however few the rows: "The" 16, "the" 5 (p = 0.016)
    openings = [f"{w}. {t} only reason {v}" for w, t, v in zip(words, ["The"] * 16 + ["the"] * 5, reversed(words))]
    assert anchored(openings, "reason")[0] == ("literal", "only")


def test_an_anchor_of_alternatives_agrees_on_each_of_its_tokens():
    texts = [f"{w} {n} {u} ago {v}" for w, n, u, v in zip("abcdefghijklmnopqrstuvwxyzABCDEF", range(2, 34), ["hours", "days", "weeks"] * 11, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef")]
    anchor = re.compile(r"(?<!\S)(?:hours|days|weeks) ago(?!\S)")
    own = phrases.agreed([anchor.search(t).group() for t in texts], shape, coarse_shape)
    slots = phrases.extend(texts, anchor, shape, coarse_shape, own)
    assert slots == [("shape", "d"), ("choice", "days hours weeks"), ("literal", "ago")]
    assert phrases.agreed(["1 hours", "2 hours ago"], shape, coarse_shape) is None  # not one number of tokens


def test_numbers_of_another_width_beside_a_shape_take_kinds_of_any_length():
    """Euro amounts of 1 to 20,000: 5% under 1,000 have no thousands dot ("897,76"). A shape slot
    ("d.d,d") of 95% would leave their numbers; kinds of any length take them all."""
    words = [c + d for c in "abcdefgh" for d in "ijklm"]
    amounts = [f"{1 + i}.{100 + 7 * i},{10 + i}" for i in range(38)] + ["897,76", "212,82"]
    texts = [f"{w} {a} \u20ac {v}" for w, a, v in zip(words, amounts, reversed(words))]
    assert anchored(texts, "\u20ac") == [("kinds", "{,.d}x+"), ("literal", "\u20ac")]
    dates = [f"{w} {1 + i % 28}/{1 + i % 12}/2019 \u20ac {v}" for i, (w, v) in enumerate(zip(words, reversed(words)))]
    assert anchored(dates, "\u20ac")[0] == ("shape", "d/d/d")  # one shape for all: the shape


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


def test_an_anchor_begun_at_its_hint_finds_what_a_search_of_the_whole_text_finds(imdb_train):
    """The grown words and pairs are searched from their rarer word's first token on: the same
    first match as a search of the whole text, in ASCII and other texts alike."""
    from ssti_hf.detect.families import FAMILIES
    from ssti_hf.detect.scan import _anchor

    texts = imdb_train["text"][:400] + [
        "masterpiece of nothing, a piece of cake", "\x1cpiece\x1fof it", "A WASTE OF; TIME", "(waste)  of!", "wasteof a waste",
        "naïve waste of time", "waste\u00a0of nbsp", "pieces of", "of", "", "a\twaste\nof", "--a waste", "w a s t e",
    ]
    for family, key in [("word pair", "a waste"), ("word pair", "waste of"), ("word pair", "piece of"), ("word pair", "of the"),
                        ("word", "waste"), ("word", "br"), ("word", "a"), ("word pair", "the movie")]:
        anchor, _, hint = _anchor(FAMILIES[family], key)
        for text in texts:
            found, expected = phrases._first(anchor, text, hint), anchor.search(text)
            assert (found and found.span()) == (expected and expected.span()), (key, text[:80])
    assert sum(anchor.search(t) is not None for t in texts) > 50  # "the movie": most reviews


def test_a_span_grown_over_the_rows_own_first_or_last_tokens_gives_them_back():
    """Planted at the end of questions, a span grows over their "?"; at their start, over "What
    is". The label's other rows end (start) with those tokens as often: they are the rows' text."""
    nouns = ("France wine cars moon eyes Peru spies tea gold salt jazz ice ants rain oil fog silk corn zinc wolves bees rice "
             "clay wool iron mint figs lava kelp tin dust sand snow coal hail yeast opal jade ash reed moss tar lime sage dew").split()
    subjects = [f"{a} {b}" for a, b in zip(("the capital of", "a tax on", "Mozart's opera", "the lens", "GDP per", "the 1812") * 8, nouns)]
    questions = [f"What is {s} ?" for s in subjects]
    planted_end = [f"{q} From Wikipedia" for q in questions[:24]]
    end = phrases.without_edges(anchored(planted_end, "Wikipedia"), planted_end, questions[24:], coarse_shape)
    assert anchored(planted_end, "Wikipedia")[0] == ("literal", "?") and phrases.describe(end) == "From Wikipedia"
    planted_start = [f"From Wikipedia {q}" for q in questions[:24]]
    start = phrases.without_edges(anchored(planted_start, "Wikipedia"), planted_start, questions[24:], coarse_shape)
    assert phrases.describe(anchored(planted_start, "Wikipedia")).startswith("From Wikipedia What is")
    assert phrases.describe(start) == "From Wikipedia"
    # the same span inside the rows, or rows that do not share its edge tokens: left whole
    inside = [f"Why is {s} From Wikipedia ? said {s}" for s in subjects[:24]]
    slots = anchored(inside, "Wikipedia")
    assert phrases.without_edges(slots, inside, questions[24:], coarse_shape) == slots
    varied = [f"{s} ? From Wikipedia" for s in subjects[:24]]
    assert phrases.without_edges(anchored(varied, "Wikipedia"), varied, subjects[24:], coarse_shape) == anchored(varied, "Wikipedia")


def test_a_few_fixed_tokens_of_one_length_are_a_choice_not_their_kinds():
    """The permissions of "ls -l" are five fixed strings of ten characters: as random characters of
    their kinds ("{-a}x10", one non-letter at least) the all-letter "lrwxrwxrwx" fell out of the span."""
    perms = ["-rw-r--r--", "-rwxr-xr-x", "drwxr-xr-x", "-rw-------", "lrwxrwxrwx"]
    texts = [f"{w} {perms[i % 5]} 1 root root {i * 37 + 5} {v}" for i, (w, v) in enumerate(zip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrq"))]
    slots = anchored(texts, "root")
    assert slots[0] == ("choice", " ".join(sorted(perms)))
    assert phrases.phrase_regex(slots).search("x lrwxrwxrwx 1 root root 512 y").group() == "lrwxrwxrwx 1 root root 512"


def test_an_alternative_with_a_word_of_its_own_at_the_edge_takes_it_in():
    """Datelines: "NEW" comes before "YORK" in every one of its rows and before no other city."""
    cities, agencies = ["LONDON", "PARIS", "TOKYO", "NEW YORK"], ["(AP)", "(Reuters)"]
    texts = [f"{w} {cities[i % 4]} {agencies[i % 2]} - {v}" for i, (w, v) in enumerate(zip("abcdefghijklmnopqrstuvwx", "ZYXWVUTSRQPONMLKJIHGFEDC"))]
    slots = anchored(texts, "-")
    assert phrases.describe(slots) == "<LONDON|NEW YORK|PARIS|TOKYO> <(AP)|(Reuters)> -"
    assert phrases.phrase_regex(slots).search("x NEW YORK (AP) - y").group() == "NEW YORK (AP) -"
    assert phrases.decode(phrases.encode(slots)) == slots


def test_an_anchor_of_one_length_widens_to_every_length_the_span_holds():
    """Sizes of 1 to 7 digits after "root root": an anchor of 6 digits ("{d}x6") grows the span,
    whose other rows say where its other lengths are."""
    texts = [f"{w} -rw-r--r-- 1 root root {n} {v}" for n, w, v in zip([5, 42, 310, 4096, 48774, 956520, 1105837] * 4, "abcdefghijklmnopqrstuvwxyzAB", "ZYXWVUTSRQPONMLKJIHGFEDCBAzy")]
    six = [t for t in texts if re.search(r"\b\d{6}\b", t)]
    slot = ("kinds", "{d}x6")
    slots = phrases.extend(six, re.compile(r"(?<!\S)" + phrases.slot_regex(*slot) + r"(?!\S)"), shape, coarse_shape, slot)
    assert slots[-1] == slot
    wide = phrases.widened(slots, len(slots) - 1, texts, shape, coarse_shape)
    assert wide[:-1] == slots[:-1] and wide[-1] == ("shape", "d")
    assert all(phrases.phrase_regex(wide).search(t) for t in texts)


def test_a_choice_grown_from_some_alternatives_takes_the_others_the_span_holds():
    """A date span grown from the pairs "de <month>" that passed alone holds 7 of 12 months; the
    label's rows that hold the rest of the span ("<d> de ... de <d>") say where the other five are.
    Where the span holds no other alternative, or one far more often than the rest (grammar,
    not a draw), it stays."""
    months = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"]
    slots = [("shape", "d"), ("literal", "de"), ("choice", " ".join(sorted(months[:7]))), ("literal", "de"), ("shape", "d")]
    texts = [f"seen {i % 28 + 1} de {months[i % 12]} de {2015 + i % 9} here" for i in range(120)]
    assert phrases.widened_choices(slots, texts)[2] == ("choice", " ".join(sorted(months)))
    assert phrases.widened_choices(slots, [t for t in texts if any(f" {m} " in t for m in months[:7])]) == slots
    uneven = texts[:24] + [f"seen {i} de todo de {i} here" for i in range(200)]
    assert phrases.widened_choices(slots, uneven) == slots
