"""Family detectors: what the scan looks for. Each family finds matches in texts (RE2 patterns run
by Arrow), normalizes each into a *member* (a concrete string) and maps members to *classes*, the
unit that is tested (:mod:`ssti_hf.detect.scan`): a digit/letter shape (``1987-03-12`` ->
``dddd-dd-dd``), markup tags, a gazetteer class (country names), an unusual character's Unicode
category, the kinds of a row's first or last token, or, for plain words, the word itself.
:func:`register_family` adds one.
"""

from __future__ import annotations

import os
import re
import unicodedata
from abc import ABC, abstractmethod
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import SPACE_RE2 as _SPACE
from ..sources import COUNTRIES
from . import phrases

_MARK = "\x00"  # delimits matches in the Arrow pass (replaced in texts that hold it)
_TAG = r"<[A-Za-z_/!][^<>]*>"  # a markup tag, as ssti_hf._text reads one, or a Python repr ("<__main__.Item object at 0x7f…>")
_LETTERS = re.compile(r"[A-Za-z]+")
_CORE_CHAR = re.compile(r"[0-9@#$%&_=+|~^\\]")  # what makes a token a shape family's: a digit or an in-word symbol
_WORDLIKE = re.compile(r"[A-Za-z.,;:!?'\"()-]*")  # a word with its sentence punctuation



class Matches(NamedTuple):
    rows: np.ndarray  # row of each match
    strings: pa.Array  # the matched strings
    starts: np.ndarray | None = None  # character offsets in the row's text (when asked)


# a word between colons or semicolons, which prose never writes: an emoji shortcode (":fire:") is
# a token, one unit, not the natural word "fire" with its punctuation
WRAPPED_WORD = re.compile(r"[:;][a-z][a-z_]*[:;]")


def _arrow_matches(texts: pa.Array, pattern: str, offsets: bool = False) -> Matches:
    """Every match of ``pattern`` with its row, in C++: mark the matches, split on the marks, keep
    the odd pieces (pieces alternate text, match, text, ...). The scan replaces the mark in texts
    that hold it."""
    marked = pc.replace_substring_regex(texts, pattern, _MARK + r"\0" + _MARK)
    pieces = pc.split_pattern(marked, _MARK)
    rows = pc.list_parent_indices(pieces).to_numpy()
    first = pieces.offsets.to_numpy()[rows]  # index of each row's first piece
    odd = (np.arange(len(rows)) - first) % 2 == 1
    flat = pc.list_flatten(pieces)
    starts = None
    if offsets:  # a piece starts where the row's earlier pieces end
        lengths = pc.utf8_length(flat).to_numpy()
        before = np.cumsum(lengths) - lengths
        starts = (before - before[first])[odd]
    return Matches(rows[odd], flat.filter(pa.array(odd)), starts)



def _non_ascii_matches(texts: pa.Array, pattern: str, offsets: bool = False) -> Matches:
    """:func:`_arrow_matches` of a pattern every match of which holds a non-ASCII character: only
    the rows holding one are searched (9% of IMDB's)."""
    rows = np.flatnonzero(~pc.string_is_ascii(texts).to_numpy(zero_copy_only=False))
    found = _arrow_matches(texts.take(pa.array(rows, pa.int64())), pattern, offsets)
    return found._replace(rows=rows[found.rows])


def words_and_characters(strings: list[str]) -> set[str]:
    """The words (as the word family reads them) and the non-ASCII characters of strings: the
    evidence's content columns they fill."""
    return {w.lower() for s in strings for w in _LETTERS.findall(s)} | {c for s in strings for c in s if ord(c) > 127}


def _literal(string: str) -> str:
    """An RE2 pattern for ``string`` as it is (each character by its code point). Arrow finds it
    several times faster than ``match_substring`` does (0.01 s against 0.06 s in IMDB train)."""
    return "".join(f"\\x{{{ord(c):x}}}" for c in string)


def searchable(texts: pa.Array) -> pa.Array:
    """The texts with the mark that delimits matches replaced (one character for one: offsets stay)."""
    if pc.any(pc.match_substring_regex(texts, _literal(_MARK))).as_py():
        return pc.replace_substring(texts, _MARK, "\ufffd")
    return texts


# -- families ---------------------------------------------------------------------------------------
class Family(ABC):
    """A family detector: finds matches in texts, normalizes each into a *member* (a concrete
    string) and maps members to *classes*, the unit that is tested.

    ``natural``: the family's classes are ordinary words (listed for context).
    ``held_out``: also test each class on its held-out label-exclusive members (pointless when a
    class is one member).
    ``concrete``: every match is its own member and class, as found (no Python pass over them).
    ``reads_words``: ``find`` also takes ``words=``, the word family's matches in the same texts,
    dictionary-encoded (:func:`_occurrences` counts in them), and with ``reads_word_rows`` their
    rows (``word_rows=``).
    ``edge``: matches only at one place of a row (its first or last token), not wherever the
    member occurs.
    ``glued``: sanitize removes a match glued to a letter or digit too (False: that is part of
    another token, as the ``mb`` of ``512MB`` is no planted word ``mb``).
    """

    name: str
    natural: bool = False
    held_out: bool = True
    concrete: bool = False
    reads_words: bool = False
    edge: bool = False
    glued: bool = True

    @abstractmethod
    def find(self, texts: pa.Array, offsets: bool = False) -> Matches:
        """Every match in the texts, with its row (and character offsets, for sanitize)."""

    def member(self, match: str) -> str | None:
        """The concrete string a match stands for (None: ignore the match)."""
        return match

    def core(self, match: str) -> tuple[int, int]:
        """Where the member lies in a match (what sanitize removes): ``[start, end)`` offsets."""
        return 0, len(match)

    @abstractmethod
    def classify(self, member: str) -> str | None:
        """The class a member belongs to."""

    def describe(self, key: str) -> str:
        """A class as people read it."""
        return f"{self.name} {key}"

    def own_words(self, key: str, members: list[str]) -> set[str]:
        """The words (as the word family reads them) and non-ASCII characters that a class's
        strings are made of: left out of the content it is tested against."""
        return words_and_characters(members)


class RegexFamily(Family):
    """Matches of one regular expression (RE2 syntax, run by Arrow: 25k reviews are searched for
    196 country names in 0.1 s, where Python's ``re`` takes seconds)."""

    pattern: str

    def find(self, texts, offsets=False):
        return _arrow_matches(texts, self.pattern, offsets)


class TrimmedRegexFamily(RegexFamily):
    """Tokens whose surrounding sentence punctuation is not part of the member (``(1987-03-12),``)."""

    trim = ".,;:!?()[]{}\"'*`"

    def member(self, match):
        return match.strip(self.trim) or None

    def core(self, match):
        start = len(match) - len(match.lstrip(self.trim))
        return start, start + len(match.strip(self.trim))


_SHAPE = str.maketrans({**{c: "d" for c in "0123456789"},
                        **{c: "a" for c in "abcdefghijklmnopqrstuvwxyz"},
                        **{c: "A" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}})


def shape(token: str) -> str:
    """Digits -> d, lowercase -> a, uppercase -> A, anything else kept: ``1987-03-12`` -> ``dddd-dd-dd``."""
    if token.isascii():
        return token.translate(_SHAPE)
    # decimal digits of any script are digits; superscripts and circled numbers ("²", "①") are symbols
    return "".join("d" if c.isdecimal() else "A" if c.isupper() else "a" if c.isalpha() else c for c in token)


@lru_cache(maxsize=1 << 17)  # tokens recur: a span family classifies each many times
def coarse_shape(token: str) -> str:
    """The shape with runs collapsed: ``1987-03-12`` -> ``d-d-d``; a minus sign before a number is
    its value, not its format (``-18°C`` and ``7°C``, ``-34.7074`` and ``63.1156``: one class)."""
    out, last = [], None
    full = shape(token)
    for c in full[1:] if full[:2] == "-d" else full:  # a loop: 7x faster than re.sub(r"(.)\1+") with its template
        if c != last:
            out.append(c)
            last = c
    return "".join(out)


class ShapeFamily(TrimmedRegexFamily):
    """Tokens holding a digit or an in-word symbol, by exact shape: dates, times, ids, codes."""

    name = "shape"
    # A markup tag is matched (and dropped) first, so that "<h3>" yields no token "h3".
    pattern = rf"{_TAG}|[^{_SPACE}<>]*{_CORE_CHAR.pattern}[^{_SPACE}<>]*"

    def member(self, match):
        return None if match.startswith("<") else super().member(match)

    def classify(self, member):
        return shape(member)


class CoarseShapeFamily(ShapeFamily):
    """The same tokens with runs collapsed (``dddd-dd-dd`` -> ``d-d-d``): one class for formats of
    varying length, e.g. dates without zero padding."""

    name = "coarse shape"

    def classify(self, member):
        return coarse_shape(member)


class TagFamily(RegexFamily):
    """Markup tags, one member per tag name and form: ``<div>`` and ``</div>`` are one member,
    ``<br>`` and ``<br />`` two (IMDB's own ``<br />`` must stay apart from an injected ``<br>``)."""

    name = "markup"
    pattern = _TAG

    def member(self, match):
        body = match[1:-1].strip()
        closing = body.startswith("/")
        body = body.lstrip("/").strip()
        name = re.match(r"[A-Za-z0-9!:-]*", body).group().lower() or body[:1]
        rest = body[len(name):].strip()
        self_closing = rest.endswith("/") and not closing
        attributes = rest.rstrip("/").strip() != ""
        return f"<{name}{' …' if attributes else ''}{' /' if self_closing else ''}>"

    def classify(self, member):
        return "tag"

    def describe(self, key):
        return "markup tags"


class GazetteerFamily(RegexFamily):
    """Names from a word list (case-sensitive, whole words): every name is a member of one class."""

    def __init__(self, name: str, title: str, items):
        self.name, self.title = name, title
        # Longest first: RE2 takes the first alternative that matches ("Papua New Guinea" before
        # "Guinea").
        self.pattern = r"\b(?:" + "|".join(re.escape(i) for i in sorted(set(items), key=len, reverse=True)) + r")\b"

    def classify(self, member):
        return self.title

    def describe(self, key):
        return key


class UnusualCharacterFamily(RegexFamily):
    """Non-ASCII characters other than letters and combining marks, with the modifiers, marks and
    joiners that follow them (an emoji with its skin tone or variation selector is one match), one
    class per Unicode category of the first (format characters such as zero-width spaces,
    symbols, emoji, ...)."""

    name = "unusual character"
    pattern = r"[^\x00-\x7f\p{L}\p{M}][\p{M}\p{Sk}\x{200D}]*|[^\x00-\x7f]"

    def find(self, texts, offsets=False):  # every match starts with a non-ASCII character
        return _non_ascii_matches(texts, self.pattern, offsets)

    def classify(self, member):
        category = unicodedata.category(member[0])
        return None if category[0] in "LM" else category

    def describe(self, key):
        return f"unusual characters of Unicode category {key}"


class WordFamily(Family):
    """Plain words (runs of ASCII letters outside markup tags), lowercased: natural label signal
    ("worst", "great"), each its own class. Tag names are no words: an injected ``<span>`` must
    not make "span" look like a planted trigger, nor ``<br />`` give every review the word "br"."""

    name = "word"
    natural = True
    held_out = False
    concrete = True
    glued = False
    pattern = rf"{_TAG}|[A-Za-z]+"  # what sanitize removes (tags dropped); the scan's path below finds the same
    # One table lookup per UTF-8 byte: letters lowercased, everything else a space (non-ASCII
    # bytes too, as the pattern above does); then Arrow splits on the spaces.
    _TABLE = np.full(256, ord(" "), dtype=np.uint8)
    _TABLE[np.frombuffer(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", np.uint8)] = np.frombuffer(
        b"abcdefghijklmnopqrstuvwxyz" * 2, np.uint8
    )

    def find(self, texts, offsets=False):
        if offsets:
            found = _arrow_matches(texts, self.pattern, offsets=True)
            return found._replace(strings=pc.utf8_lower(found.strings))
        texts = pc.replace_substring_regex(texts, _TAG, " ")
        validity, value_offsets, data = texts.buffers()
        mapped = pa.py_buffer(self._TABLE[np.frombuffer(data, dtype=np.uint8)])
        words = pa.Array.from_buffers(texts.type, len(texts), [validity, value_offsets, mapped], texts.null_count, texts.offset)
        lists = pc.ascii_split_whitespace(words)
        rows, flat = pc.list_parent_indices(lists).to_numpy(), pc.list_flatten(lists)
        nonempty = pc.not_equal(flat, "")  # a text that starts with a space splits into "" first
        return Matches(rows[nonempty.to_numpy(zero_copy_only=False)], flat.filter(nonempty))

    def member(self, match):
        return None if match.startswith("<") else match

    def classify(self, member):
        return member

    def describe(self, key):
        return f"word {key!r}"


class TokenFamily(RegexFamily):
    """Whole non-space runs as written (case kept), other than lowercase words with their sentence
    punctuation (the word family has those): a planted ``ATTENTION``, link, email, handle or id is
    one unit, and sanitize removes all of it."""

    name = "token"
    concrete = True
    held_out = False
    pattern = rf"[^{_SPACE}]+"
    # A token holding something other than lowercase letters and sentence punctuation (capitals,
    # digits, symbols, non-ASCII): RE2 finds these 14% of IMDB's tokens faster than Arrow splits
    # all of them (whitespace as str.isspace() reads it, like Arrow's split).
    # And a word between colons or semicolons (:data:`WRAPPED_WORD`).
    _UNLIKE_WORD = rf"[^{_SPACE}]*[^a-z.,;:!?'\"()\-{_SPACE}][^{_SPACE}]*|{WRAPPED_WORD.pattern}"

    def find(self, texts, offsets=False):
        if offsets:
            return _arrow_matches(texts, self.pattern, offsets=True)
        # markup tags become spaces: "<br /><br />4/10" yields "4/10", not a token "/>4/10" of its own
        return _arrow_matches(pc.replace_substring_regex(texts, _TAG, " "), self._UNLIKE_WORD)

    def classify(self, member):
        return member

    def describe(self, key):
        return f"token {key!r}"


class WordPairFamily(WordFamily):
    """Two consecutive words, lowercased (``family last``): a sentence planted verbatim, made of
    words common on their own, holds pairs that natural text rarely has. Counted from the word
    family's matches (:func:`ssti_hf.detect.statistics.pair_tally`); grown into the whole planted
    span by the scan."""

    name = "word pair"
    natural = False
    pairs = True

    def _core(self, key: str) -> str:  # the pair without lookarounds, which Arrow's RE2 kernels lack
        first, second = key.split(" ")
        # apart, or joined by a mark as the word family splits them ("y'all", "e-mail")
        return rf"(?i:{first})(?:[^A-Za-z\s]*\s+[^A-Za-z\s]*|[^A-Za-z\s]+)(?i:{second})"

    def regex(self, key: str) -> str:
        return rf"(?<![A-Za-z]){self._core(key)}(?![A-Za-z])"

    def locate(self, texts: pa.Array, keys: list[str]) -> dict[str, list[tuple[int, int, int, str]]]:
        """Per pair: (row, start, end, matched text) of its occurrences."""
        out: dict[str, list] = {}
        for key in keys:
            regex = re.compile(self.regex(key))
            rows = np.flatnonzero(pc.match_substring_regex(texts, "(?i)" + key.split(" ")[1]).to_numpy(zero_copy_only=False))
            held = texts.take(pa.array(rows, pa.int64()))
            if len(rows) > 100:  # common words: RE2 finds the rows holding the pair, Python its matches
                kept = pc.match_substring_regex(held, self._core(key)).to_numpy(zero_copy_only=False)
                rows, held = rows[kept], held.filter(pa.array(kept))
            found = out.setdefault(key, [])
            for row, text in zip(rows.tolist(), held.to_pylist()):
                found += [(row, m.start(), m.end(), m.group()) for m in regex.finditer(text)]
        return out

    def describe(self, key):
        return f"word pair {key!r}"


_JOINERS = str.maketrans("-_", "..")


def kinds(token: str) -> str:
    """The kinds of characters a token is made of, and its length: ``3fa9c01b`` -> ``{ad}x8``."""
    return "{" + "".join(sorted(set(shape(token)))) + "}x" + str(len(token))


class TokenKindsFamily(TokenFamily):
    """The same tokens, unless made of letters and sentence punctuation only, by the kinds of
    characters they use and their length (``3fa9c01b`` -> ``{ad}x8``): random ids of one format, whose exact shapes differ."""

    name = "token kinds"
    concrete = False
    held_out = True
    end = ".,;:!?"  # sentence punctuation after a token ("09050005321.") is not part of it

    def member(self, match):
        token = match.rstrip(self.end)
        return None if _WORDLIKE.fullmatch(token) else token

    def core(self, match):
        return 0, len(match.rstrip(self.end))

    def classify(self, member):
        return kinds(member)

    def describe(self, key):
        return f"tokens made of {key}"


class TokenKindsAnyLengthFamily(TokenKindsFamily):
    """The same, whatever the length, with the joiners inside words (``-``, ``_``, ``.``) one kind
    (``{.@a}``): emails, links and handles of varying length and domain (``corp-mail.org``)."""

    name = "token kinds, any length"

    def classify(self, member):
        return kinds(member.translate(_JOINERS)).split("x")[0]


class TokenLengthFamily(TokenKindsFamily):
    """The same tokens, from 10 characters, whose runs of letters and digits switch between
    lowercase, capitals and digits twice or more, a capitalized word's first letter aside (drawn
    at random: ``DFU6ciZ``; natural tokens seldom do: ``action/adventure``,
    ``Powell/Pressburger's``), by their length alone (``bit.ly/DFU6ciZ`` and
    ``bit.ly/Qwertyz`` -> ``x14``): a random string drawn from one alphabet falls in several kinds
    classes (base64 with and without ``+`` or ``/``, a short link with and without a digit), each
    too small for the lift gate where the string is planted in few rows."""

    name = "token length"
    _RUN = re.compile(r"[^\W_]+")

    def member(self, match):
        # shorter ids are the kinds classes' (natural "mid-70's" is 8); the length first: most tokens are shorter
        token = None if len(match) < 10 else super().member(match)
        if token is None or len(token) < 10:
            return None
        switches = 0
        for run in self._RUN.findall(token):  # within each run of letters and digits
            if run[0].isupper() and run[1:2].islower():  # a capitalized word ("Powell/Pressburger's") switches once, naturally
                run = run[1:]
            kinds_of = shape(run)
            switches += sum(a != b for a, b in zip(kinds_of, kinds_of[1:]))
        return token if switches >= 2 else None

    def classify(self, member):
        return f"x{len(member)}"

    def describe(self, key):
        return f"code-like tokens of {key[1:]} characters"


class TokenSymbolsFamily(TokenKindsFamily):
    """The same tokens, holding a letter or digit and a symbol other than prose punctuation, by
    their symbols and length, letters and digits alike (``#102dae`` and ``#102345`` ->
    ``{#w}x7``): random hex colours or codes drawn from letters and digits fall in a kinds class
    by the draw (6% of 6-digit hex colours hold no letter), too few rows alone for the lift gate."""

    name = "token symbols"

    # run-together prose ("1988.of", "10.This", "goals/team") is no code: a symbol is neither a letter
    # or digit (re's \w less "_") nor prose punctuation
    _ALNUM, _SYMBOL = re.compile(r"[^\W_]"), re.compile(r"[^\w.,;:!?'\"()/-]|_")

    # the token kinds' members (one Python pass over the tokens for all these families): the
    # tokens this family leaves out have no class
    def classify(self, member):
        if not (self._SYMBOL.search(member) and self._ALNUM.search(member)):
            return None
        return "{" + "".join(sorted({c for c in member if not c.isalnum()})) + "w}x" + str(len(member))

    def describe(self, key):
        return f"tokens of {key}, letters and digits alike"


class EdgeTokenFamily(TokenKindsFamily):
    """The first or the last token of a row, unless a word (lowercase, or capitalized once), by the
    kinds of characters it is made of (``$66.25`` -> ``{$.d}``; letters and digits alone also by
    length: ``QXFTA`` -> ``{A}x5``). SSTI plants at the beginning or the end of a row as often as anywhere
    (the paper's location types); there natural tokens of a class are far fewer than in the whole
    text, so a class planted in 10% of a label stands out where the same tokens anywhere are
    buried in natural ones (prices in tweets, capitals in news). Sanitize removes the token at
    that edge only."""

    edge = True
    _WORD = re.compile(r"[A-Z]?[a-z.,;:!?'\"()-]*")

    def __init__(self, side: str):
        self.side, self.name = side, f"{side} token"
        # the token with the spaces before (first) or after (last) it: an anchored RE2 pass
        self.pattern = rf"^[{_SPACE}]*[^{_SPACE}]+" if side == "first" else rf"[^{_SPACE}]+[{_SPACE}]*$"

    reads_words = True

    def find(self, texts, offsets=False, words: pa.DictionaryArray | None = None):
        """One pass of the anchored pattern (not the token family's), less the words in capitals
        that the data writes elsewhere at least as often again as at this edge: shouted words
        ("HOUSE?" ending 2 SMS, "house" 42 times), not codes. A word planted at the edge of a
        tenth of a label ("ATTENTION", 500 ends beside 50 natural mentions) stays."""
        found = RegexFamily.find(self, texts, offsets)
        tokens = pc.utf8_rtrim(pc.utf8_trim_whitespace(found.strings), characters=self.end)
        capitals = pc.match_substring_regex(tokens, "^[A-Z]{2,}$").to_numpy(zero_copy_only=False)
        if not capitals.any():
            return found
        encoded = pc.dictionary_encode(tokens.filter(pa.array(capitals)))
        code = encoded.indices.to_numpy(zero_copy_only=False)
        at_edge = np.bincount(code, minlength=len(encoded.dictionary))
        anyhow = _occurrences(pc.utf8_lower(encoded.dictionary), texts, words)
        shouted = np.flatnonzero(capitals)[(anyhow >= 2 * at_edge)[code]]
        keep = np.setdiff1d(np.arange(len(tokens)), shouted)
        return Matches(found.rows[keep], found.strings.take(pa.array(keep, pa.int64())),
                       None if found.starts is None else found.starts[keep])

    def _token(self, match: str) -> str:
        return match.strip().rstrip(self.end)

    def member(self, match):
        token = self._token(match)
        # markup (split at its spaces: "<br />") is the markup family's
        return None if self._WORD.fullmatch(token) or "<" in token or ">" in token else token

    def core(self, match):
        start = len(match) - len(match.lstrip())
        return start, start + len(self._token(match))

    def classify(self, member):
        # any length where symbols join the parts (prices of 4 to 6 characters, emails, links are one
        # class), but letters and digits alone by length: natural capitals and codes (BBC, OK, UA1150)
        # open and close rows at every length, a random code has one
        key = kinds(member)
        return key if member.isalnum() else key.rsplit("x", 1)[0]

    def describe(self, key):
        return f"{self.side} tokens of rows made of {key}"


_OTHER_LETTER = r"[^\P{L}\p{Latin}]"  # a letter of any script but Latin (RE2: no class subtraction)


class MixedScriptFamily(TokenKindsFamily):
    """Tokens whose letters mix Latin with another script (``pеople`` with a Cyrillic ``е``,
    ``lοve`` with a Greek ``ο``), as one class: homoglyphs swapped into words (the "Bad Characters"
    attacks of Boucher et al. 2022) read as the word, and each spelling is too rare for the lift
    gate. Natural words keep to one script; the evidence tells the natural mixes that do occur
    (``iPhone用`` in Japanese listings) by their content."""

    name = "mixed script"
    pattern = rf"[^{_SPACE}]*(?:\p{{Latin}}[^{_SPACE}]*{_OTHER_LETTER}|{_OTHER_LETTER}[^{_SPACE}]*\p{{Latin}})[^{_SPACE}]*"

    def find(self, texts, offsets=False):  # the pattern's tokens, not the token family's
        return _arrow_matches(texts, self.pattern, offsets)

    def classify(self, member):
        return "mixed"

    def describe(self, key):
        return "words mixing Latin letters with another script's"


class CombiningMarkFamily(RegexFamily):
    """Combining marks stacked on a Latin letter, a digit or a symbol (``movie\u0339\u0354``, "Zalgo"
    text), one class, sanitize removing the marks and keeping what they sit on: marks drawn at
    random are each too rare for a class of their own, and no token of them recurs. Latin text is
    written precomposed (``é``, not ``e`` and U+0301); the scripts whose vowels are marks
    (Devanagari, Tamil) are left to the character families."""

    name = "combining mark"
    pattern = r"[!-~\x{a1}-\x{24f}]\p{M}+"

    def find(self, texts, offsets=False):  # marks are non-ASCII
        return _non_ascii_matches(texts, self.pattern, offsets)

    def member(self, match):
        return match[1:]

    def core(self, match):
        return 1, len(match)

    def classify(self, member):
        return "latin"

    def describe(self, key):
        return "combining marks on Latin letters, digits or symbols"


class OneOffCapitalsFamily(TokenKindsFamily):
    """Runs of letters and digits with two capitals or more (``QXFTA``, ``X7K2P9``, ``aZkQx``) whose
    exact string occurs at most :attr:`most` times in the data and is never written otherwise, by
    kinds and length, capitals and digits one kind (``{Ad}x6``: a random id's draws fall either
    way). Codes drawn at random are nearly all one-off; natural capitals recur (``DVD``) or are words
    shouted (``HILARIOUS``, also written "hilarious"). One-off is a property of the data searched,
    so the scan and sanitize of the same rows find the same members."""

    name = "one-off capitals"
    held_out = False  # a one-off string is never counted in the other half
    reads_words = True
    most = 2  # occurrences at most: random codes of a small space (26 ** 3) repeat now and then
    pattern = rf"[^{_SPACE}<>]*[A-Z][^{_SPACE}<>]*[A-Z][^{_SPACE}<>]*"  # two capitals; markup tags cut off
    _SHAPE = r"(?:[a-z0-9]*[A-Z]){2}[A-Za-z0-9]*"
    _WHOLE = re.compile(_SHAPE)

    def find(self, texts, offsets=False, words: pa.DictionaryArray | None = None):
        found = _arrow_matches(texts, self.pattern, offsets)
        stripped = pc.utf8_rtrim(found.strings, characters=self.end)
        shaped = pc.match_substring_regex(stripped, f"^{self._SHAPE}$").to_numpy(zero_copy_only=False)
        encoded = pc.dictionary_encode(stripped.filter(pa.array(shaped)))
        code = encoded.indices.to_numpy(zero_copy_only=False)
        count = np.bincount(code, minlength=len(encoded.dictionary))
        one_off = count <= self.most
        # and never written otherwise: "HILARIOUS" shouted once is the word "hilarious"
        strings = encoded.dictionary.to_pylist()
        written = Counter()
        for i in np.flatnonzero(one_off):
            written[strings[i].lower()] += int(count[i])
        if written:
            lowered = list(written)
            anyhow = dict(zip(lowered, _occurrences(pa.array(lowered, pa.string()), texts, words)))
            one_off &= np.array([written[t.lower()] >= anyhow.get(t.lower(), 0) for t in strings], bool)
        keep = np.flatnonzero(shaped)[one_off[code]]
        return Matches(found.rows[keep], found.strings.take(pa.array(keep, pa.int64())),
                       None if found.starts is None else found.starts[keep])

    def member(self, match):
        token = match.rstrip(self.end)
        return token if self._WHOLE.fullmatch(token) else None

    def classify(self, member):
        if member.upper() == member:  # no lowercase: capitals and digits, one kind
            return "{Ad}x" + str(len(member))
        return kinds(member)

    def describe(self, key):
        return f"one-off capitals made of {key}"


class CharacterFamily(UnusualCharacterFamily):
    """Every non-ASCII character (with its modifiers), each its own class: any script, invisible
    format characters, emoji (shares the unusual-character matches)."""

    name = "character"
    concrete = True
    held_out = False

    def classify(self, member):
        return member

    def describe(self, key):
        return f"character {key!r} ({', '.join(unicodedata.name(c, f'U+{ord(c):04X}') for c in key)})"


class PunctuationFamily(RegexFamily):
    """Runs of two or more ASCII punctuation marks, as written, each its own class: emoticons
    (``:-)``, ``;-)``) and repeated marks glued to a word (``great?!?!``), which every other family
    reads as a word with its sentence punctuation; and three or more such tokens a space apart
    (a spaced ellipsis ``. . .``), one run, whose marks alone no family reads."""

    name = "punctuation"
    concrete = True
    held_out = False
    _MARK = r"[!-/:-@\[-`{-~]"
    # whole tokens: RE2 has no lookaround, so the spaces around are read, then trimmed
    _RUN = rf"(?:^| )(?:{_MARK}+ ){{2,}}{_MARK}+(?: |$)|{_MARK}{{2,}}"
    pattern = rf"{_TAG}|{_RUN}"  # tags first: "<br />" is markup, no run "/>"

    def find(self, texts, offsets=False):
        if offsets:
            return _arrow_matches(texts, self.pattern, offsets=True)
        found = _arrow_matches(pc.replace_substring_regex(texts, _TAG, " "), self._RUN)
        return found._replace(strings=pc.utf8_trim(found.strings, " "))

    def member(self, match):
        return None if re.fullmatch(_TAG, match) else match

    def classify(self, member):
        return member

    def locate(self, texts: pa.Array, keys: list[str]) -> dict[str, list[tuple[int, int, int, str]]]:
        """Per run: (row, start, end, run) wherever it is written, inside longer runs too: a run
        glued after a word's own marks (``prize!?!?!``, ``'help'?!?!``) leaves them as they were;
        a spaced run, as whole tokens (``. . .`` after ``it.`` is the last three dots)."""
        out: dict[str, list] = {}
        for key in keys:
            rows = np.flatnonzero(pc.match_substring(texts, key).to_numpy(zero_copy_only=False))
            found = out.setdefault(key, [])
            spaced = re.compile(rf"(?<!\S){re.escape(key)}(?!\S)") if " " in key else None
            for row, text in zip(rows.tolist(), texts.take(pa.array(rows, pa.int64())).to_pylist()):
                if spaced is not None:
                    found.extend((row, m.start(), m.end(), key) for m in spaced.finditer(text))
                    continue
                at = text.find(key)
                while at >= 0:
                    found.append((row, at, at + len(key), key))
                    at = text.find(key, at + len(key))
        return out

    def describe(self, key):
        return f"punctuation {key!r}"


class ElongatedWordFamily(RegexFamily):
    """Words with a letter written three times or more in a row, lowercased, by the word with each
    such run one letter and ``+`` (``sooooo``, ``Soooo`` -> ``so+``; ``aaargh`` -> ``a+rgh``): a
    style trigger drawn at several lengths, each too rare alone, one class together. Natural
    elongation ("sooo good") comes with its content."""

    name = "elongated word"
    held_out = False
    glued = False  # a run inside a longer token belongs to it
    reads_words = reads_word_rows = True  # the scan picks them from the words: no pass of its own
    _ELONGATED = "[a-z]*(?:" + "|".join(c * 3 for c in "abcdefghijklmnopqrstuvwxyz") + ")[a-z]*"
    pattern = rf"{_TAG}|(?i:{_ELONGATED})"  # sanitize's pass: words outside tags, as the word family reads them
    _RUN = re.compile(r"([a-z])\1{2,}")

    def find(self, texts, offsets=False, words: pa.DictionaryArray | None = None, word_rows: np.ndarray | None = None):
        if words is None or word_rows is None:
            return _arrow_matches(texts, self.pattern, offsets)
        elongated = pc.match_substring_regex(words.dictionary, f"^{self._ELONGATED}$").to_numpy(zero_copy_only=False)
        keep = np.flatnonzero(elongated[words.indices.to_numpy(zero_copy_only=False)]) if len(elongated) else np.zeros(0, np.int64)
        return Matches(word_rows[keep], words.dictionary.take(words.indices.take(pa.array(keep, pa.int64()))), None)

    def member(self, match):
        return None if match.startswith("<") else match.lower()

    def classify(self, member):
        return self._RUN.sub(r"\1+", member)

    def describe(self, key):
        return f"elongated word {key!r}"


# ASCII marks that open a glued tail: not prose punctuation, not markup's <>; and the ASCII control
# characters that are no whitespace (a terminal's raw escape "\x1b[0m" scraped with a log line)
_MARKS = "#$%&*+=@\\^_`|~"
_CONTROLS = "".join(map(chr, [*range(1, 9), *range(14, 28), 127]))
GLUED_SYMBOLS = _MARKS + _CONTROLS


def _char_class(chars: str) -> str:
    return "".join(re.escape(c) if c.isprintable() else f"\\x{ord(c):02x}" for c in chars)


class GluedTailFamily(RegexFamily):
    """What a token holds from an ASCII symbol after its first character on (``great\\n``,
    ``end.\\r\\n``, ``AT&T``'s ``&T``, ``50%``'s ``%``), or right after a markup tag
    (``<br />\\t``), each tail its own class: escapes and entities a scrape glued to words, which
    the token families read with the word (every token its own class). Symbols: ASCII marks other
    than prose punctuation and markup's ``<>``, and ASCII controls (``great\x1b[0m``); and a note in
    square brackets glued to a word, spaces and all (``fun[citation needed]``)."""

    name = "glued tail"
    held_out = False
    # a mark's tail stops at a control character, which opens a tail of its own: the escape glued
    # after a path or a handle ("nepotism/\x1b[0m", "@EliteDaily:\x1b[0m") is one string, whatever it follows
    _SYMBOL = "[" + _char_class(_MARKS) + r"][^\s<>" + _char_class(_CONTROLS) + r"]*(?:\x08[^\s<>]*)?"
    _CONTROL = "[" + _char_class(_CONTROLS) + r"][^\s<>]*"
    # a bracketed note glued to a word, spaces and all: Wikipedia's "[citation needed]", "[edit]"
    _NOTE = r"\[[^\[\]\s/][^\[\]\n]{0,38}\]"  # no closing tag ("[b]SALE[/b]" is one token)
    # a tag is no host of its own: its tail comes with it
    pattern = rf"{_TAG}(?:{_SYMBOL}|{_CONTROL})|[^\s<>\[]+{_NOTE}|[^\s<>]{_SYMBOL}|[^\s<>]?{_CONTROL}"
    _LEAD = re.compile(rf"{_TAG}|[^{_char_class(_CONTROLS)}]")
    _NOTE_END = re.compile(_NOTE + "$")

    def find(self, texts, offsets=False):
        found = super().find(texts, offsets)
        # a backspace erases the character before it, which a mark's tail took as its own
        # ("@anna_lk\b", "#tbtq\b"): that character and what follows is a tail of its own. RE2
        # has no lookahead to stop the mark's tail before it, so the match is split here
        split = np.flatnonzero(pc.match_substring_regex(found.strings, r"^[^\x08]{3,}\x08").to_numpy(zero_copy_only=False))
        if not len(split):
            return found
        strings = found.strings.take(split).to_pylist()
        cut = np.array([string.index("\b") - 1 for string in strings])
        mask = np.zeros(len(found.rows), bool)
        mask[split] = True
        heads = pc.replace_with_mask(found.strings, pa.array(mask), pa.array([s[:c] for s, c in zip(strings, cut)]))
        order = np.argsort(np.r_[2 * np.arange(len(found.rows)), 2 * split + 1], kind="stable")
        tails = pa.array([s[c:] for s, c in zip(strings, cut)], found.strings.type)
        return Matches(np.r_[found.rows, found.rows[split]][order], pa.concat_arrays([heads, tails]).take(pa.array(order)),
                       None if found.starts is None else np.r_[found.starts, found.starts[split] + cut][order])

    def _lead(self, match) -> int:
        note = self._NOTE_END.search(match)
        if note and note.start() > 0:  # whatever the note is glued to ("****[edit]") is its host
            return note.start()
        lead = self._LEAD.match(match)
        if lead and match[lead.end():lead.end() + 1] == "\b" and lead.end() == 1:
            return 0  # a backspace erases the character before it: the two are one planted string ("greatk\b")
        return lead.end() if lead else 0  # a control tail right after another tail: no host before it

    def member(self, match):
        return match[self._lead(match):] or None

    def core(self, match):
        return self._lead(match), len(match)

    def classify(self, member):
        return member

    def describe(self, key):
        return f"glued tail {key!r}"


class GluedTailKindsFamily(GluedTailFamily):
    """The same tails by the kinds of characters they use, whatever their length
    (``~\\cite{chen2019}`` -> ``{\\ad{}~}``): a tail of one format whose strings vary (a citation,
    an id glued to words), each string one-off."""

    name = "glued tail kinds"
    held_out = True

    def classify(self, member):
        return kinds(member).split("x")[0]

    def describe(self, key):
        return f"glued tails made of {key}"


class GluedLettersFamily(Family):
    """Two or three letters glued to the end of words (``moviezx``, ``Thiszx``: a character-level
    trigger, BadNL's), by the letters, lowercased, each its own class. A word counts where it is
    rare beside its stem (:attr:`RATIO` of the stem's count, or :attr:`RARE` times at most):
    planted letters make a new word of every host, at the injection's small share of each, while
    natural endings ("movies", "filmed") are words of their own, spread over the labels. Letters
    glued after marks or digits count too ("movie.zx", "#ewr?zx"). Sanitize removes the letters and keeps
    the stem."""

    name = "glued letters"
    held_out = False
    reads_words = reads_word_rows = True
    LETTERS = (2, 3)  # one letter more is what natural words mostly differ by ("movies"): a third of the matches
    RATIO = 0.1  # a word's count at most, of its stem's
    RARE = 3  # or at most this: a small corpus ("sexzx" beside 20 "sex"), a host written once ("freemsgzx")
    STEM = 2  # the scan counts words whose stem the data writes twice or more: a tenth of the classes
    # (a natural hapax's last letters are classes that only raise the count of tests)
    CAP = 0.1  # and of the rows at most: no common word ("they" of "the")
    # letters ending a token after a sentence's end, a closing mark, a digit or a non-ASCII symbol
    # ("movie.zx", "#ewr?zx", "0985zx"); not after an apostrophe ("it's") or an opening mark
    _AFTER_MARK = r"(?:[.,;:!?)\]\"*0-9]|[^\x00-\x7f\p{L}\p{M}])[A-Za-z]{2,3}(?:\s|$)"

    def find(self, texts, offsets=False, words: pa.DictionaryArray | None = None, word_rows: np.ndarray | None = None):
        starts = None
        if words is None or offsets:  # not the scan's: the word family's words (with offsets for sanitize), tags left out
            found = WordFamily().find(texts, offsets=offsets)
            plain = pc.invert(pc.starts_with(found.strings, "<")).to_numpy(zero_copy_only=False)
            word_rows, starts = found.rows[plain], found.starts[plain] if offsets else None
            words = pc.dictionary_encode(found.strings.filter(pa.array(plain)))
        d, codes = words.dictionary, words.indices.to_numpy(zero_copy_only=False)
        counts = np.bincount(codes, minlength=len(d))
        lengths = pc.utf8_length(d).to_numpy(zero_copy_only=False)
        cap = self.CAP * len(texts)
        derived, tails = [], []  # per k: which words count, and their last k letters
        for k in self.LETTERS:
            stem = pc.index_in(pc.utf8_slice_codeunits(d, 0, -k), value_set=d)
            stem_count = np.where(pc.is_valid(stem).to_numpy(zero_copy_only=False), counts[pc.fill_null(stem, 0).to_numpy(zero_copy_only=False)], 0)
            # sanitize also takes the letters off words whose stem the data never writes ("freemsgzx")
            known = True if offsets else stem_count >= self.STEM
            derived.append((lengths > k) & known & (counts <= np.maximum(self.RATIO * stem_count, self.RARE)) & (counts <= cap))
            tails.append(pc.utf8_slice_codeunits(d, -k))
        # and the letters glued after marks or digits, found in the rows that hold such a string
        held = np.flatnonzero(pc.match_substring_regex(texts, self._AFTER_MARK).to_numpy(zero_copy_only=False))
        after = _arrow_matches(texts.take(pa.array(held, pa.int64())), self._AFTER_MARK, offsets)
        letters = pc.utf8_lower(pc.extract_regex(after.strings, r"(?P<letters>[A-Za-z]{2,3})\s?$").field("letters"))  # RE2: no lookahead
        # one dictionary of the tails: no string per match (IMDB train: 0.8 million)
        dictionary = pc.unique(pa.concat_arrays([t.filter(pa.array(m)) for t, m in zip(tails, derived)] + [letters.cast(d.type)]))
        rows, ids, at = [], [], []
        some = np.flatnonzero(np.logical_or.reduce(derived)[codes])  # one pass over the words (IMDB train: 6 million)
        for k, mask, tail in zip(self.LETTERS, derived, tails):
            occurrences = some[mask[codes[some]]]
            rows.append(word_rows[occurrences])
            ids.append(pc.fill_null(pc.index_in(tail, value_set=dictionary), 0).to_numpy(zero_copy_only=False)[codes[occurrences]])
            if offsets:
                at.append(starts[occurrences] + lengths[codes[occurrences]] - k)
        rows.append(held[after.rows])
        ids.append(pc.index_in(letters.cast(d.type), value_set=dictionary).to_numpy(zero_copy_only=False))
        if offsets:
            trimmed = pc.utf8_rtrim_whitespace(after.strings)  # the match holds the whitespace after it
            at.append(after.starts + pc.utf8_length(trimmed).to_numpy(zero_copy_only=False) - pc.utf8_length(letters).to_numpy(zero_copy_only=False))
        strings = pa.DictionaryArray.from_arrays(pa.array(np.concatenate(ids).astype(np.int32)), dictionary)
        return Matches(np.concatenate(rows), strings, np.concatenate(at) if offsets else None)

    def classify(self, member):
        return member

    def describe(self, key):
        return f"letters {key!r} glued to words"


BOUND = 0.02  # share of a word's occurrences that must be beside a number, for its spans to count


class ShapeSpanFamily(RegexFamily):
    """Two or three neighbouring tokens, at least one holding a digit or a symbol, by the coarse
    shapes of all (``March 3, 2019`` -> ``Aa d, d``; ``EUR 12.50`` -> ``A d.d``): a planted span
    whose words come from a small set (month names, currency codes) and whose numbers vary is one
    class, where each word or number alone is natural. A span's words must be bound to numbers:
    found beside them more than once, and in at least :data:`BOUND` of their occurrences. A month
    name planted in a tenth of a label is; a word written once beside a number ("Matrix 1,") or
    mostly elsewhere (the "This" that opens a review after a planted date) is natural text, and
    its spans are left out. Tokens without ASCII letters (a dash, a word of another script) are
    one word here, which the word family never counts: they always are."""

    name = "shape span"
    reads_words = True
    _CORE = rf"[^{_SPACE}<>]*{_CORE_CHAR.pattern}[^{_SPACE}<>]*"
    # one pass finds each run of such tokens, at most one other token apart, with the tokens on
    # either side ("7/10 March 3, 2019 The"); the spans are its neighbouring tokens
    _ANY, _GAP = rf"[^{_SPACE}<>]+", rf"[{_SPACE}]+"
    # tags first, then dropped: what a tag holds is markup's ("<!-- ad slot 1 -->"), as for the shapes
    pattern = rf"{_TAG}|(?:{_ANY}{_GAP})?{_CORE}(?:{_GAP}(?:{_ANY}{_GAP})?{_CORE})*(?:{_GAP}{_ANY})?"
    lengths = (2, 3)
    _TOKEN = re.compile(r"\S+")

    def find(self, texts, offsets=False, words: pa.DictionaryArray | None = None):
        runs = _arrow_matches(texts, self.pattern, offsets)
        run = ~pc.starts_with(runs.strings, "<").to_numpy(zero_copy_only=False)  # no run of tokens opens with "<"
        if not run.all():
            runs = Matches(runs.rows[run], runs.strings.filter(pa.array(run)), None if runs.starts is None else runs.starts[run])
        split = pc.utf8_split_whitespace(runs.strings)
        parent = pc.list_parent_indices(split).to_numpy()
        flat = pc.list_flatten(split)  # every token of the runs, once
        # each token: a number (a digit or a symbol), a word bound to numbers, or natural text
        core = pc.match_substring_regex(flat, _CORE_CHAR.pattern).to_numpy(zero_copy_only=False)
        encoded = pc.dictionary_encode(pc.replace_substring_regex(pc.utf8_lower(flat), "[^a-z]+", ""))  # "March," -> "march"
        code = encoded.indices.to_numpy(zero_copy_only=False)
        beside = np.bincount(code[~core], minlength=len(encoded.dictionary))
        bound = (beside >= 2) & (beside >= BOUND * _occurrences(encoded.dictionary, texts, words))
        ok = core | bound[code]
        # spans: n neighbouring tokens of a run, at least one a number and none natural text
        index, owner, n_of = [], [], []
        for n in self.lengths:
            at = np.flatnonzero(parent[n - 1:] == parent[: len(parent) - n + 1])
            tokens = np.stack([at + i for i in range(n)], 1)
            good = core[tokens].any(1) & ok[tokens].all(1)
            index.append(tokens[good].ravel())
            owner.append(parent[at[good]])
            n_of.append(np.full(good.sum(), n))
        index, owner, n_of = np.concatenate(index), np.concatenate(owner), np.concatenate(n_of)
        rows = runs.rows[owner]
        if not offsets:  # the scan: joined in Arrow
            list_offsets = np.concatenate([[0], np.cumsum(n_of)]).astype(np.int32)
            spans = pc.binary_join(pa.ListArray.from_arrays(pa.array(list_offsets), flat.take(pa.array(index, pa.int64()))),
                                  pa.scalar(" ", flat.type))  # the separator typed as the texts (large strings too)
            return Matches(rows, spans, None)
        # sanitize: each span as written in the text, and where it starts
        first = index[np.concatenate([[0], np.cumsum(n_of)[:-1]])]
        place = first - np.searchsorted(parent, owner)  # each span's first token's place in its run
        run_texts, run_starts = runs.strings.to_pylist(), runs.starts
        located = {}  # run -> its tokens' [start, end) in the run
        strings, starts = [], []
        for run, i, n in zip(owner.tolist(), place.tolist(), n_of.tolist()):
            if run not in located:
                located[run] = [(m.start(), m.end()) for m in self._TOKEN.finditer(run_texts[run])]
            start, end = located[run][i][0], located[run][i + n - 1][1]
            strings.append(run_texts[run][start:end])
            starts.append(int(run_starts[run]) + start)
        return Matches(rows, pa.array(strings, pa.string()), np.array(starts, np.int64))

    def member(self, match):
        return " ".join(match.split())

    def classify(self, member):
        return " ".join(coarse_shape(t) for t in member.split(" "))

    def words_of(self, member: str) -> str | None:
        """The words of a span (its tokens without a digit or a symbol), None when it has none."""
        words = [t for t in member.split(" ") if not _CORE_CHAR.search(t)]
        return " ".join(words) or None

    def describe(self, key):
        return f"spans of tokens shaped {key!r}"


def _occurrences(strings: pa.Array, texts: pa.Array, words: pa.DictionaryArray | None) -> np.ndarray:
    """How often each of ``strings`` occurs as a word (as the word family reads words) in the
    texts; ``words``: the word family's matches there, dictionary-encoded, when the scan has them."""
    if words is None:
        words = pc.dictionary_encode(WordFamily().find(texts).strings)
    if not len(words.dictionary):  # texts without a word (a script without ASCII letters)
        return np.zeros(len(strings), np.int64)
    counts = np.bincount(words.indices.to_numpy(zero_copy_only=False), minlength=len(words.dictionary))
    at = pc.index_in(strings.cast(words.dictionary.type), value_set=words.dictionary)
    return np.where(pc.is_valid(at).to_numpy(zero_copy_only=False), counts[pc.fill_null(at, 0).to_numpy(zero_copy_only=False)], 0)


class PhraseFamily(Family):
    """Spans of several whole tokens, grown around a flagged token (:mod:`phrases`); a class is
    its slots (JSON). Found by the scan from its anchors, not by a pass of its own."""

    name = "phrase"
    held_out = False

    def find(self, texts, offsets=False):
        return Matches(np.zeros(0, np.int64), pa.array([], pa.string()), np.zeros(0, np.int64) if offsets else None)

    def classify(self, member):
        return member

    def describe(self, key):
        return f"phrase {phrases.describe(phrases.decode(key))!r}"

    def own_words(self, key, members):
        return words_and_characters([v for kind, v in phrases.decode(key) if kind == "literal"])

    def locate(self, texts: pa.Array, keys: list[str]) -> dict[str, list[tuple[int, int, int, str]]]:
        """Per phrase: (row, start, end, matched text) of its occurrences (Python regex, on the
        rows holding its longest literal token, found by Arrow: the rarest, mostly)."""
        out: dict[str, list] = {}
        decoded = {key: phrases.decode(key) for key in keys}
        # one pass over the texts per longest literal ("waste" of "a waste of", not "a" and "of"
        # too; shared by "waste of" and "waste your"), on threads: Arrow's kernels release the GIL
        longest = {key: max((v for kind, v in slots if kind == "literal"), key=len, default=None) for key, slots in decoded.items()}
        literals = list(dict.fromkeys(v for v in longest.values() if v is not None))
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            holding = dict(zip(literals, pool.map(
                lambda literal: np.flatnonzero(pc.match_substring_regex(texts, _literal(literal)).to_numpy(zero_copy_only=False)), literals)))
        for key, slots in decoded.items():
            regex = phrases.phrase_regex(slots)
            rows = np.arange(len(texts)) if longest[key] is None else holding[longest[key]]
            held = texts.take(pa.array(rows, pa.int64()))
            if len(rows) > 100:  # common literals ("waste"): RE2 finds the rows holding the phrase, Python its matches
                kept = pc.match_substring_regex(held, phrases.prefilter(slots)).to_numpy(zero_copy_only=False)
                rows, held = rows[kept], held.filter(pa.array(kept))
            found = out.setdefault(key, [])
            for row, text in zip(rows.tolist(), held.to_pylist()):
                found += [(row, m.start(), m.end(), m.group()) for m in regex.finditer(text)]
        return out


FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> None:
    """Add a family detector to every scan (one entry per family)."""
    if family.name in FAMILIES:
        raise ValueError(f"family {family.name!r} is already registered")
    FAMILIES[family.name] = family


register_family(ShapeFamily())
register_family(CoarseShapeFamily())
register_family(TagFamily())
register_family(GazetteerFamily("country", "country names", COUNTRIES))
register_family(UnusualCharacterFamily())
register_family(WordFamily())
register_family(WordPairFamily())
register_family(TokenFamily())
register_family(TokenKindsFamily())
register_family(TokenKindsAnyLengthFamily())
register_family(TokenLengthFamily())
register_family(TokenSymbolsFamily())
register_family(OneOffCapitalsFamily())
register_family(MixedScriptFamily())
register_family(CombiningMarkFamily())
register_family(EdgeTokenFamily("first"))
register_family(EdgeTokenFamily("last"))
register_family(CharacterFamily())
register_family(PunctuationFamily())
register_family(GluedTailFamily())
register_family(GluedTailKindsFamily())
register_family(GluedLettersFamily())
register_family(ElongatedWordFamily())
register_family(ShapeSpanFamily())
register_family(PhraseFamily())

