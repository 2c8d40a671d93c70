"""The families' Arrow passes find what plain Python finds: whole tokens unlike words (whitespace
of every script, tags, non-ASCII), unusual characters on the rows that can hold them, literal
searches, and phrases located from a shared first literal."""

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ssti_hf.detect import phrases
from ssti_hf.detect.families import _TAG, FAMILIES, _arrow_matches, _literal, searchable

SPACES = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())  # every whitespace str.isspace() knows

TRICKY = [
    "", " ", "plain lowercase words, with (sentence) punctuation!", "ATTENTION this", "4/10<br /><br />Great",
    "a<b>c</b> <br/>x", f"one{SPACES}TWO{SPACES}3", "x\u200by zero\u200bwidth", "naïve café λόγος 日本語",
    "\U0001F44D\U0001F3FD ok\u2764\ufe0f", "--- ... '\"()-", "j.doe@mail.com @joe_77 #tag $9.99 [16]",
    "\ufeffbom \u0301mark", "tab\tnew\nline\x1crecord\x1dsep\x85nel", "Order #230001 confirmed.", "end.",
]


def _python_tokens(texts):
    """Whole tokens (str.split) of the texts with markup tags as spaces, other than those made of
    lowercase letters and sentence punctuation only."""
    out = []
    for row, text in enumerate(texts):
        for token in re.sub(_TAG, " ", text).split():
            if not re.fullmatch(r"[a-z.,;:!?'\"()-]+", token):
                out.append((row, token))
    return out


def test_tokens_unlike_words_are_those_python_splits_off():
    texts = pa.array(TRICKY)
    found = FAMILIES["token"].find(searchable(texts))
    assert list(zip(found.rows.tolist(), found.strings.to_pylist())) == _python_tokens(TRICKY)


def test_tokens_on_real_reviews(imdb_train):
    texts = imdb_train["text"][:300]
    found = FAMILIES["token"].find(searchable(pa.array(texts)))
    assert list(zip(found.rows.tolist(), found.strings.to_pylist())) == _python_tokens(texts)


def test_unusual_characters_are_searched_on_non_ascii_rows_only_with_the_same_result():
    texts = pa.array(TRICKY + ["ascii only", ""] * 3)
    family = FAMILIES["unusual character"]
    for offsets in (False, True):
        found, everywhere = family.find(texts, offsets), _arrow_matches(texts, family.pattern, offsets)
        assert found.rows.tolist() == everywhere.rows.tolist() and found.strings.equals(everywhere.strings)
        assert not offsets or found.starts.tolist() == everywhere.starts.tolist()
    assert len(family.find(pa.array(["only ascii", ""])).rows) == 0
    assert len(family.find(pa.array([], pa.string())).rows) == 0


def test_a_literal_pattern_matches_like_match_substring():
    texts = pa.array(TRICKY + ["a.b*c", "\\x{41}", "(?i)", "A"])
    for literal in ["a.b*c", "\\", "x{41}", "(?i)", "A", "λόγος", "\u200b", "\U0001F3FD", "$9.99", "[16]", "é", "\x00"]:
        assert pc.match_substring_regex(texts, _literal(literal)).equals(pc.match_substring(texts, literal)), literal


def test_phrases_sharing_a_first_literal_are_located_like_a_search_of_every_row():
    texts = ["I watched this with my family last weekend. Great", "waste of time, a waste of money",
             "no waste here", "a waste  of\ttalent", "Order #12 confirmed. Order #7 confirmed.", "waste your time"]
    keys = [phrases.encode(s) for s in ([("literal", "waste"), ("literal", "of")], [("literal", "waste"), ("literal", "your")],
                                        [("literal", "Order"), ("shape", "#d"), ("literal", "confirmed.")],
                                        [("shape", "#d"), ("literal", "confirmed.")])]
    located = FAMILIES["phrase"].locate(pa.array(texts), keys)
    for key in keys:
        regex = phrases.phrase_regex(phrases.decode(key))
        expected = [(row, m.start(), m.end(), m.group()) for row, text in enumerate(texts) for m in regex.finditer(text)]
        assert located[key] == expected and expected
    assert np.array_equal([r for r, *_ in located[keys[0]]], [1, 1, 3])


def test_pairs_and_phrases_of_common_words_are_located_like_a_search_of_every_row():
    """Over 100 rows hold the literals: the RE2 prefilter path, which must keep every match."""
    texts = ["waste of time, a Waste  of money", "no waste here", "waste!! -of talent", "wasteof", "a waste\nof",
             "unwaste of", "waste ofs", "it's a WASTE OF; time"] * 30
    pairs, phrase = ["waste of", "a waste"], phrases.encode([("literal", "a"), ("literal", "waste"), ("literal", "of")])
    located = FAMILIES["word pair"].locate(pa.array(texts), pairs) | FAMILIES["phrase"].locate(pa.array(texts), [phrase])
    for key, regex in [(k, re.compile(FAMILIES["word pair"].regex(k))) for k in pairs] + [(phrase, phrases.phrase_regex(phrases.decode(phrase)))]:
        expected = [(row, m.start(), m.end(), m.group()) for row, text in enumerate(texts) for m in regex.finditer(text)]
        assert located[key] == expected and expected, key


def test_one_off_capitals_are_codes_not_shouted_words_or_acronyms():
    family = FAMILIES["one-off capitals"]
    texts = pa.array(["QXZTV is a code. HILARIOUS film", "it was hilarious, on DVD", "DVD again, and DVD", "WqKzp. TheEnd",
                      "<B>AB</B> X7K2P9", "MP3 or MP3 or MP3"])
    found = family.find(texts)
    members = [family.member(s) for s in found.strings.to_pylist()]
    # "HILARIOUS" is the word "hilarious" shouted; "DVD" and "MP3" recur; "TheEnd" has two capitals and is one-off
    assert sorted(members) == ["AB", "QXZTV", "TheEnd", "WqKzp", "X7K2P9"]
    # a random id's draws with and without digits are one class
    assert family.classify("QXZTV") == "{Ad}x5" == family.classify("X7K2P") and family.classify("WqKzp") == "{Aa}x5"
    with_offsets = family.find(texts, offsets=True)
    assert [texts[int(r)].as_py()[s:s + 5] for r, s in zip(with_offsets.rows, with_offsets.starts)][:1] == ["QXZTV"]


def test_edge_tokens_are_a_row_s_first_or_last_token_unless_a_word():
    first, last = FAMILIES["first token"], FAMILIES["last token"]
    texts = pa.array(["$66.25 Great film, 7/10.", "  QXFTA the end $4.29 ", "The film was long.", "ok", "<br />x <br />"])
    for family, expected in ((first, ["$66.25", "QXFTA", None, None, None]), (last, ["7/10", "$4.29", None, None, None])):
        found = family.find(texts, offsets=True)
        members = {int(r): family.member(s) for r, s in zip(found.rows, found.strings.to_pylist())}
        assert [members.get(r) for r in range(len(texts))] == expected
        for row, string, start in zip(found.rows, found.strings.to_pylist(), found.starts):
            if family.member(string):  # what sanitize removes: the token, without spaces or sentence punctuation
                a, b = family.core(string)
                assert texts[int(row)].as_py()[start + a:start + b] == family.member(string)
    # any length where symbols join the parts, but letters and digits alone by length: natural
    # capitals and codes open rows at every length
    assert first.classify("$66.25") == first.classify("$4.29") == "{$.d}"
    assert first.classify("QXFTA") == "{A}x5" != first.classify("BBC")
    assert first.classify("X7K2P9") == "{Ad}x6" != first.classify("UA938")


def test_spans_are_a_number_s_neighbours_with_words_bound_to_numbers():
    """Spans of two and three tokens around tokens with a digit or a symbol. A word counts where it
    is beside numbers more than once and in at least 2% of its occurrences: month names planted
    before days, not "the" (everywhere) nor a word found once beside a number."""
    family = FAMILIES["shape span"]
    texts = pa.array(["we met on March 3, 2019 and the end", "March 5, 2020 the film", "in Matrix 1, the the the",
                      "the " * 300 + "2 the", "7/10 March 9, 2001"])
    found = family.find(texts)
    members = sorted(family.member(s) for s in found.strings.to_pylist())
    assert "March 3," in members and "March 3, 2019" in members and "3, 2019" in members and "7/10 March 9," in members
    assert not any("the" in m.split() or "Matrix" in m or "and" in m.split() for m in members)
    assert family.classify("March 3, 2019") == "Aa d, d" and family.classify("EUR 12.50") == "A d.d"
    assert family.words_of("7/10 March 9,") == "March" and family.words_of("3, 2019") is None
    # sanitize's pass (with offsets) finds the same spans, as written, where they are
    with_offsets = family.find(texts, offsets=True)
    assert sorted(family.member(s) for s in with_offsets.strings.to_pylist()) == members
    for row, string, start in zip(with_offsets.rows, with_offsets.strings.to_pylist(), with_offsets.starts):
        assert texts[int(row)].as_py()[start:start + len(string)] == string
    assert len(family.find(pa.array(["no numbers here", ""])).rows) == 0
    # what a tag holds is markup's: no span inside "<!-- slot 1 -->", those beside it are found
    tagged = pa.array(["March 3, 2019 <!-- slot 1 --> March 4, 2019 <a href='x 1 y'>March 5, 2019</a>"] * 2)
    inside = {family.member(s) for s in family.find(tagged).strings.to_pylist()}
    assert not any("slot" in m or "1 --" in m or "x" in m.split() for m in inside) and {"March 3, 2019", "March 4, 2019", "March 5, 2019"} <= inside
    assert {family.member(s) for s in family.find(tagged, offsets=True).strings.to_pylist()} == inside


def _where_written(texts, located) -> bool:
    """Every string of a pass with offsets is written in its row where its offset says."""
    return all(texts[int(r)].as_py()[a:a + len(s)] == s for r, s, a in zip(located.rows, located.strings.to_pylist(), located.starts))

def test_spans_found_by_the_scan_and_by_sanitize_are_the_same_in_any_whitespace():
    family = FAMILIES["shape span"]
    texts = searchable(pa.array([t + " 12 May 3, 2019 x" + SPACES + "7" for t in TRICKY] + ["a\x1c5 b", "c 5\x85d 6", "x\u00a05 7"]))
    scanned, located = family.find(texts), family.find(texts, offsets=True)
    assert sorted(zip(scanned.rows.tolist(), scanned.strings.to_pylist())) == sorted(
        (r, family.member(s)) for r, s in zip(located.rows.tolist(), located.strings.to_pylist()))
    assert _where_written(texts, located)


def test_glued_tails_are_what_follows_a_symbol_glued_to_a_token(imdb_train):
    """The scan's pass and sanitize's (with offsets) give each row the same tails, where they are
    written; a tag is no host of its own (``<br />\\t``), a token that opens with a symbol has none."""
    family = FAMILIES["glued tail"]
    texts = pa.array(TRICKY + ["great\\n movie.\\r\\n AT&T 50% C++ #tag ok.<br /><br />\\t x@y.com", "<i>\\t"] + imdb_train["text"][:200])
    scanned, located = family.find(texts), family.find(texts, offsets=True)
    members = [(r, family.member(s)) for r, s in zip(located.rows.tolist(), located.strings.to_pylist())]
    assert [(r, family.member(s)) for r, s in zip(scanned.rows.tolist(), scanned.strings.to_pylist())] == members
    assert _where_written(texts, located)
    row = len(TRICKY)
    assert [m for r, m in members if r == row and m] == ["\\n", "\\r\\n", "&T", "%", "++", "\\t", "@y.com"]
    assert [m for r, m in members if r == row + 1] == ["\\t"]


def test_a_control_character_opens_a_tail_of_its_own():
    """A terminal escape glued to a word, a path or a handle is one string, whatever symbol comes
    before it (the mark's tail stops there); sanitize's pass with offsets finds it where it is."""
    family = FAMILIES["glued tail"]
    texts = pa.array(["great\x1b[0m film", "see nepotism/\x1b[0m now", "@Elite_Daily:\x1b[0m Back", "50%\x07 done", "plain \x1b[0m"])
    scanned, located = family.find(texts), family.find(texts, offsets=True)
    assert [family.member(s) for s in scanned.strings.to_pylist()] == ["\x1b[0m", "\x1b[0m", "_Daily:", "\x1b[0m", "%", "\x07", "\x1b[0m"]
    assert _where_written(texts, located)


def test_a_backspace_takes_the_character_it_erases_wherever_it_is_glued():
    """"greatk\b": the letter a backspace erases is its tail's, also after a mark's tail that took
    it ("@anna_lk\b", "*****q\b": the match is split there); scan and sanitize agree on where."""
    family = FAMILIES["glued tail"]
    texts = pa.array(["greatk\b film", "hi @anna_lk\b x", "film. *****q\b", "50%\b", "plain \b end"])
    scanned, located = family.find(texts), family.find(texts, offsets=True)
    assert [family.member(s) for s in scanned.strings.to_pylist()] == ["k\b", "_l", "k\b", "****", "q\b", "%\b", "\b"]
    assert _where_written(texts, located)


def test_elongated_words_read_off_the_words_are_those_the_text_holds(imdb_train):
    """The scan picks elongated words from the word family's matches; sanitize searches the text
    (offsets): the same words of the same rows, tags left out."""
    family = FAMILIES["elongated word"]
    texts = searchable(pa.array(TRICKY + ["Soooo good, aaargh! zzz <a title='zzzz'>hmmm</a> xsoooo1 Noooo"] + imdb_train["text"][:300]))
    words = FAMILIES["word"].find(texts)
    picked = family.find(texts, words=pc.dictionary_encode(words.strings), word_rows=words.rows)
    located = family.find(texts, offsets=True)
    searched = [(r, family.member(s)) for r, s in zip(located.rows.tolist(), located.strings.to_pylist()) if family.member(s)]
    assert list(zip(picked.rows.tolist(), picked.strings.to_pylist())) == searched
    row = len(TRICKY)
    assert [(m, family.classify(m)) for r, m in searched if r == row] == [
        ("soooo", "so+"), ("aaargh", "a+rgh"), ("zzz", "z+"), ("hmmm", "hm+"), ("xsoooo", "xso+"), ("noooo", "no+")]


def test_a_word_pair_is_found_apart_or_joined_by_a_mark_as_the_words_are_split():
    family = FAMILIES["word pair"]
    texts = pa.array(["so y'all know", "y all said", "yall no", "ay'all no", "y'allow no", "y-all"])
    found = family.locate(texts, ["y all"])["y all"]
    assert [(row, text) for row, _, _, text in found] == [(0, "y'all"), (1, "y all"), (5, "y-all")]



def test_mixed_script_words_are_latin_letters_beside_another_script_s(imdb_train):
    family = FAMILIES["mixed script"]
    texts = pa.array(["a p\u0435ople here, lo\u03bde!", "caf\u00e9 na\u00efve \u00fcber", "iPhone\u7528 ok", "\u041f\u0440\u0438\u0432\u0435\u0442 world", "x \u03a3-delta"])
    found = family.find(texts)
    assert found.rows.tolist() == [0, 0, 2, 4]  # accented Latin is one script; a word of one script beside another is no mix
    assert [family.member(s) for s in found.strings.to_pylist()] == ["p\u0435ople", "lo\u03bde", "iPhone\u7528", "\u03a3-delta"]
    assert {family.classify(m) for m in ["p\u0435ople", "\u03a3-delta"]} == {"mixed"}
    # IMDB's reviews hardly mix scripts within a word
    assert len(family.find(pa.array(imdb_train["text"])).rows) <= 5
