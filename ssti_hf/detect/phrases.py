"""Planted spans of several whitespace tokens (a sentence, a signature, "Order #123 confirmed.").

A flagged token or word is an *anchor*; the span around it grows one token at a time while the
neighbouring token is the same string (or, for numbers and codes, the same coarse shape) in
>= 90% of the anchor's rows of the label: natural text around a planted span varies, the span
itself does not. The result is a sequence of *slots* (a literal token, a coarse shape such as
``#d``, random characters of given kinds and length, or one of a few tokens), matched as whole
tokens separated by whitespace."""

from __future__ import annotations

import json
import re
from collections import Counter

from scipy.special import chdtrc


SHARE = 0.9  # share of the anchor's rows whose neighbour must agree
JOINED = "\u00a0"  # joins the tokens of a choice's alternative of several ("NEW\u00a0YORK" beside "PARIS"): no token holds it
MAX_SLOTS = 32
SAMPLE = 200  # anchor rows looked at, seeded
CHOICES = 12  # a slot of fixed tokens holds at most this many (months), each in CHOICE_SHARE of the rows
CHOICE_SHARE = 0.02
ALIKE_P = 0.01  # a few tokens drawn alike: a chi-square test of equal counts does not reject them at this level
CODED_SYMBOLS = 4  # a slot of ids uses at most this many symbols (a request path: "/index.php?id=4821")
_TOKEN = re.compile(r"\S+")
_SENTENCE = ".,;:!?\"'()"  # sentence punctuation around a word
_CODED = re.compile(r"[^A-Za-z.'-]")  # inside a word: a digit or a symbol


KIND_CHARS = {"d": "0-9", "a": "a-z", "A": "A-Z"}  # a kinds value's letters and digits, as regex classes


def kinds_of(value: str) -> str:
    """The kinds of a kinds value, of one length (``{ad}x7``) or any (``{ad}x+``, or a class's key
    ``{ad}``); a ``}`` among them is a symbol of its strings (``{${}Aa}``)."""
    return value[1:].rsplit("}x", 1)[0] if "}x" in value else value[1:-1]


def slot_regex(kind: str, value: str) -> str:
    if kind == "literal":
        return re.escape(value)
    if kind == "choice":  # one of a few tokens (space-separated: tokens hold none), or of a few tokens' runs (:data:`JOINED`)
        return "(?:" + "|".join(r"\s+".join(map(re.escape, v.split(JOINED))) for v in sorted(value.split(" "), key=len, reverse=True)) + ")"
    if kind == "kinds":  # characters of these kinds, this many ("+": any), one of them no letter ("{ad}x7": a short sha)
        chars, length = kinds_of(value), value.rsplit("}x", 1)[1]
        alphabet = "".join(KIND_CHARS.get(c, re.escape(c)) for c in chars)
        return rf"(?=[A-Za-z]*[^\sA-Za-z])[{alphabet}]" + ("+" if length == "+" else f"{{{length}}}")
    parts = ["-?"] if value[:1] == "d" else []  # a coarse shape's number may be signed (families.coarse_shape)
    for c in value:  # a coarse shape: each character class one run or more
        parts.append({"d": "[0-9]+", "a": "[a-z]+", "A": "[A-Z]+"}.get(c, re.escape(c) + "+"))
    return "".join(parts)


def prefilter(slots) -> str:
    """An RE2 pattern that every match of the phrase matches (no lookarounds: Arrow's regex kernels
    have none), to find the rows worth the exact Python pattern."""
    parts = []
    for kind, value in slots:
        part = slot_regex(kind, value)
        if kind == "kinds":  # the lookahead asking for one non-letter
            part = part[part.index(")") + 1:]
        parts.append(part)
    return r"\s+".join(parts)


def phrase_regex(slots) -> re.Pattern:
    parts = [slot_regex(k, v) for k, v in slots]
    if slots[0][0] == "literal":  # the literal before its lookbehind: re then scans for the literal, 15x faster
        parts[0] += rf"(?<!\S{parts[0]})"
    else:
        parts[0] = r"(?<!\S)" + parts[0]
    return re.compile(r"\s+".join(parts) + r"(?!\S)")


def describe(slots) -> str:
    return " ".join(v if k == "literal" else f"<{v.replace(' ', '|').replace(JOINED, ' ')}>" for k, v in slots)


def encode(slots) -> str:
    return json.dumps([list(s) for s in slots], ensure_ascii=False)


def decode(key: str):
    return [tuple(s) for s in json.loads(key)]


def extend(texts: list[str], anchor: re.Pattern, shape, coarse_shape, slot=None, share: float = SHARE, hint: tuple[str, int] | None = None):
    """The slots around ``anchor`` (a pattern of one whole token) in ``texts`` (rows of the
    anchor's label holding it); None when the anchor's token itself varies, unless ``slot`` says
    what it is (the random ids of a kinds class). ``shape`` and ``coarse_shape`` are the families'
    (passed in: the families import this module). ``share``: of the rows whose neighbour must agree
    (less where natural rows hold the anchor too). ``hint``: see :func:`_first`."""
    spans = []  # per row: the text and the [start, end) of the span so far
    for text in texts:
        match = _first(anchor, text, hint)
        if match:
            spans.append([text, match.start(), match.end()])
    if len(spans) < 2:
        return None
    if isinstance(slot, list):  # the anchor's own slots (an anchor of alternatives: :func:`agreed`)
        slots = list(slot)
    elif slot is not None:
        slots = [slot]
    else:
        first = Counter(text[a:b] for text, a, b in spans).most_common(1)[0]
        if first[1] < share * len(spans):
            return None
        slots = [("literal", token) for token in first[0].split()]
    grown = True
    while grown and len(slots) < MAX_SLOTS:
        grown = False
        for side in ("left", "right"):
            neighbours = [neighbour(text, a, b, side) for text, a, b in spans]
            tokens = [n[0] if n else None for n in neighbours]
            slot = _agree(tokens, shape, coarse_shape, share)
            if slot is None:
                continue
            # rows whose neighbour disagrees hold no copy of the grown span: they stop here
            fits = [n is not None and _fits(slot, n[0], coarse_shape) for n in neighbours]
            spans = [span for span, fit in zip(spans, fits) if fit]
            for span, n in zip(spans, [n for n, fit in zip(neighbours, fits) if fit]):
                if side == "left":
                    span[1] = n[1]
                else:
                    span[2] = n[2]
            slots.insert(0, slot) if side == "left" else slots.append(slot)
            grown = True
    return _joined_edges(slots, spans, share)


def _joined_edges(slots, spans, share):
    """A choice at an edge whose alternative comes with a token of its own beside it ("NEW" of
    "NEW YORK (AP) -" beside "PARIS (AP) -"), in (nearly) all its rows, and then the rows' own
    text, takes that token in. (Where the next token agrees too, the alternative opens a longer
    variant of the span, "10.0; Win64; x64)" of one user agent beside another's "x86_64)": that
    variant is a span of its own.)"""
    for side, at in (("left", 0), ("right", -1)):
        kind, value = slots[at]
        if kind != "choice" or JOINED in value:
            continue
        edge = []
        for text, a, b in spans:
            n = neighbour(text, a, b, side)
            after = n and neighbour(text, n[1], n[2], side)
            edge.append((text[a:b].split()[at], n and n[0], after and after[0]))
        alternatives = value.split(" ")
        for alternative in list(alternatives):
            beside = [n for token, n, _ in edge if token == alternative]
            token, count = Counter(beside).most_common(1)[0] if beside else (None, 0)
            if token is None or count < max(3, share * len(beside)) or token in alternatives:
                continue
            # a token beside the other alternatives too is the rows' own ("?" ending the questions before a dateline)
            if sum(n == token for token_, n, _ in edge if token_ != alternative) > (1 - share) * sum(token_ != alternative for token_, _, _ in edge):
                continue
            further = Counter(t for token_, n, t in edge if token_ == alternative and n == token)
            after, count = further.most_common(1)[0]
            if after is not None and count >= share * sum(further.values()):
                continue
            alternatives[alternatives.index(alternative)] = token + JOINED + alternative if side == "left" else alternative + JOINED + token
        slots[at] = (kind, " ".join(sorted(alternatives)))
    return slots


def widened(slots, at: int, texts: list[str], shape, coarse_shape):
    """``slots`` with the anchor's slot ``at`` (random characters of one length) agreed on anew
    over every row of ``texts`` that the rest of the span holds: the anchor is one length of a
    value whose length varies (the size of "-rw-r--r-- 1 root root 48774", 1 to 7 digits), and
    the rest of the span says where the other lengths are. Kept where they agree on no wider slot."""
    kind, value = slots[at]
    if kind != "kinds" or value.endswith("x+") or len(slots) < 3:
        return slots
    parts = [slot_regex(k, v) for k, v in slots]
    parts[at] = r"(\S+)"
    regex = re.compile(r"(?<!\S)" + r"\s+".join(parts) + r"(?!\S)")
    tokens = [m.group(1) for text in texts for m in regex.finditer(text)]
    slot = _agree(tokens, shape, coarse_shape) if tokens else None
    if slot is None or slot[0] in ("literal", "choice") or not all(_fits(slot, t, coarse_shape) for t in tokens):
        return slots
    return slots[:at] + [slot] + slots[at + 1:]


def widened_choices(slots, texts: list[str]):
    """``slots`` with each choice agreed on anew over every row of ``texts`` that the rest of the
    span (three slots or more) holds: a span grown from some of its alternatives (the months whose
    "de <month>" passed alone: 7 of 12) finds the others where the rest of the span says they are.
    Kept where they agree on no wider choice."""
    for at, (kind, value) in enumerate(slots):
        if kind != "choice" or len(slots) < 3 or JOINED in value:
            continue
        parts = [slot_regex(k, v) for k, v in slots]
        parts[at] = r"(\S+)"
        regex = re.compile(r"(?<!\S)" + r"\s+".join(parts) + r"(?!\S)")
        tokens = [m.group(1) for text in texts for m in regex.finditer(text)]
        wider = _common(tokens, tokens) if tokens else None
        if wider is not None and set(value.split(" ")) < set(wider[1].split(" ")):
            slots = slots[:at] + [wider] + slots[at + 1:]
    return slots


def agreed(matched: list[str], shape, coarse_shape, share: float = SHARE):
    """The slots of matches of the same number of tokens, each agreed on as a neighbour would be
    (a literal, a shape, one of a few tokens); None where one is not."""
    split = [m.split() for m in matched]
    if len({len(t) for t in split}) != 1:
        return None
    slots = [_agree(list(column), shape, coarse_shape, share) for column in zip(*split)]
    return None if None in slots else slots


_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # what str.isspace() and re's \s take in ASCII


def _first(anchor: re.Pattern, text: str, hint: tuple[str, int] | None):
    """``anchor.search(text)`` (a pattern of whole tokens), begun in an ASCII text (lowercasing keeps
    its offsets) at the token holding the first ``hint`` (lowercase letters every match holds), or
    as many tokens before it as the hint says. re scans a pattern that opens with lookbehinds
    character by character, str.find does not (IMDB train: 99 words grown, 0.18 s)."""
    if hint is None or not text.isascii():
        return anchor.search(text)
    letters, back = hint
    at = text.lower().find(letters)
    if at < 0:
        return None
    start = _token_start(text, at)
    for _ in range(back):
        end = len(text[:start].rstrip())  # the end of the token before
        start = _token_start(text, end) if end else 0
    return anchor.search(text, start)


def _token_start(text: str, at: int) -> int:
    """Where the token holding ``at`` (or ending there) starts, in an ASCII text."""
    return max(text.rfind(c, 0, at) for c in _ASCII_SPACE) + 1


# of the label's other rows starting (ending) with a span's outer slots: their own text. At 50%,
# other planted strings end many of those rows: a natural end of 90% is seen in about half of them
EDGE_SHARE = 0.4


def without_edges(slots, texts: list[str], others: list[str], coarse_shape):
    """``slots`` less the outer slots grown over the rows' own first or last tokens: a span planted
    at the end of questions grows over their "?" ("? <planted>"), one at their start over "What
    is". Injection picks rows at random in a label, so the label's rows that do not hold the span
    (``others``) start (end) with those tokens as often; a planted span's own do not. ``texts``:
    rows holding the span."""
    regex = phrase_regex(slots)
    matches = [(t, m) for t in texts if (m := regex.search(t))]
    if not matches or not others:
        return slots
    if sum(not t[: m.start()].strip() for t, m in matches) >= SHARE * len(matches):  # it starts the rows
        heads = [t[:_WINDOW].split()[: len(slots)] for t in others]
        for j in range(1, len(slots)):  # the longest natural tail first
            tail = slots[j:]
            if sum(len(h) >= len(tail) and all(_fits(s, x, coarse_shape) for s, x in zip(tail, h)) for h in heads) >= EDGE_SHARE * len(heads):
                return slots[:j]
    if sum(not t[m.end():].strip() for t, m in matches) >= SHARE * len(matches):  # it ends them
        ends = [t[-_WINDOW:].split()[-len(slots):] for t in others]
        for j in range(len(slots) - 1, 0, -1):  # the longest natural head first
            head = slots[:j]
            if sum(len(e) >= j and all(_fits(s, x, coarse_shape) for s, x in zip(head, e[-j:])) for e in ends) >= EDGE_SHARE * len(ends):
                return slots[j:]
    return slots


_WINDOW = 256  # characters read beside a span for its neighbour (a whole text only where a token is longer)


def neighbour(text: str, start: int, end: int, side: str):
    """The whitespace token next to [start, end) on ``side``, with its offsets (None at an edge).
    Reads a window beside the span: long texts (newsgroup posts) are not split whole."""
    if side == "left":
        if start == 0 or not text[start - 1].isspace():
            return None  # no token, or glued
        low = max(0, start - _WINDOW)
        head = text[low:start].rstrip()
        if head:
            token = head.split()[-1]
            begin = low + len(head) - len(token)
            if begin > low or low == 0:  # the token starts inside the window
                return token, begin, end
        return _neighbour_whole(text, start, end, side)
    if end == len(text) or not text[end].isspace():
        return None
    high = min(len(text), end + _WINDOW)
    tail = text[end:high]
    stripped = tail.lstrip()
    if stripped:
        token = stripped.split()[0]
        begin = end + len(tail) - len(stripped)
        if begin + len(token) < high or high == len(text):
            return token, start, begin + len(token)
    return _neighbour_whole(text, start, end, side)


def _neighbour_whole(text: str, start: int, end: int, side: str):
    if side == "left":
        head = text[:start].rstrip()
        if not head or head == text[:start]:  # no token, or glued
            return None
        begin = len(head) - len(head.split()[-1])
        return head[begin:], begin, end
    tail = text[end:]
    stripped = tail.lstrip()
    if not stripped or stripped == tail:
        return None
    begin = end + len(tail) - len(stripped)
    token = stripped.split()[0]
    return token, start, begin + len(token)


def _agree(tokens, shape, coarse_shape, share=SHARE):
    present = [t for t in tokens if t is not None]
    if len(present) < share * len(tokens):
        return None
    literal, count = Counter(present).most_common(1)[0]
    if count >= share * len(tokens):
        return ("literal", literal)
    shapes = Counter(coarse_shape(t) for t in present)
    value, count = shapes.most_common(1)[0]
    # a slot of plain words would swallow natural text: shapes need a digit or a symbol
    if count >= share * len(tokens) and set(value) - set("aA"):
        # a few numbers of another width ("897,76" beside "1.234,56"), whose kinds of any length
        # take them all: that slot, or those rows keep the numbers the span is planted with
        coded = _coded(present, shape) if count < len(present) else None
        return ("kinds", coded[0]) if coded and len(coded[1]) == len(present) else ("shape", value)
    # one of a few fixed tokens of one length is that choice, not the kinds it draws on: the
    # permissions of "ls -l" ("-rw-r--r--", "lrwxrwxrwx") are no random string
    common = _common(present, tokens, share)
    if common:
        return common
    # strings drawn at random from one alphabet ("commit 78cf02d"): one length, shapes and kinds
    # that vary with the draw; most of them hold a digit or a symbol
    length, count = Counter(len(t) for t in present).most_common(1)[0]
    drawn = [t for t in present if len(t) == length]
    if count >= share * len(tokens) and sum(not t.isalpha() for t in drawn) >= 0.5 * len(drawn) and all(t.isascii() for t in drawn):
        union = sorted({c for t in drawn for c in shape(t)})
        if all(c in "aAd" or not (c.isalnum() or c.isspace()) for c in union):
            return ("kinds", "{" + "".join(union) + "}x" + str(length))
    # ids or handles of varying length ("@jenny61:", "@mike_b57:"): a digit or a symbol in each, a
    # few symbols in all
    coded = _coded(present, shape)
    if coded and len(coded[1]) >= share * len(tokens):
        return ("kinds", coded[0])
    return None


def _common(present, tokens, share=SHARE):
    """One of a few fixed tokens (the agency of "© 2012 AP. All rights reserved.", the device of a
    signature): natural neighbours are many, each in a few rows. Natural text: the words around
    a phrase follow its grammar, a few far more often than others ("don't waste", "not waste",
    "even waste"); planted ones are drawn alike."""
    common = [(t, n) for t, n in Counter(present).most_common(CHOICES + 1) if n >= max(3, CHOICE_SHARE * len(tokens))]
    if 2 <= len(common) <= CHOICES and sum(n for _, n in common) >= share * len(tokens) and _alike(common):
        return ("choice", " ".join(sorted(t for t, _ in common)))
    return None


def agreed_token(tokens: list[str]) -> set[str] | None:
    """The token (or the few tokens, drawn alike) that nearly every one of ``tokens`` is
    (:data:`SHARE`; an empty string is no token), or None."""
    present = [t for t in tokens if t]
    if not present:
        return None
    top, n = Counter(present).most_common(1)[0]
    if n >= SHARE * len(tokens):
        return {top}
    choice = _common(present, tokens)
    return set(choice[1].split(" ")) if choice else None


def _alike(common: list[tuple[str, int]]) -> bool:
    """A few tokens drawn alike, by their counts (most frequent first): the most frequent at most 3
    times the least, or, in a few rows, no more apart than chance makes them (a breadcrumb's four
    sections in 51 rows: 21 and 5, chi-square p = 0.02; grammar's "don't", "not", "even" before
    "waste": p < 1e-6). Not one word written two ways ("The", "the": a sentence's start)."""
    counts = [n for _, n in common]
    if counts[0] <= 3 * counts[-1]:
        return True
    if len({t.lower().strip(_SENTENCE) for t, _ in common}) < len(common):
        return False
    mean = sum(counts) / len(counts)
    return chdtrc(len(counts) - 1, sum((c - mean) ** 2 for c in counts) / mean) >= ALIKE_P


def _coded(present, shape):
    """The kinds of any length of the tokens that hold a digit or a symbol (``{:@_ad}x+``), and
    those tokens; None where they use over CODED_SYMBOLS symbols or other scripts' letters."""
    coded = [t for t in present if t.isascii() and _CODED.search(t.strip(_SENTENCE))]  # "said.", "don't", "U.S." are words
    union = sorted({c for t in coded for c in shape(t)})
    if coded and len(set(union) - set("aAd")) <= CODED_SYMBOLS and all(c in "aAd" or not c.isalnum() for c in union):
        return "{" + "".join(union) + "}x+", coded
    return None


def _fits(slot, token: str, coarse_shape) -> bool:
    kind, value = slot
    if kind == "literal":
        return token == value
    if kind == "shape":
        return coarse_shape(token) == value
    if kind == "choice":
        return token in value.split(" ")
    return re.fullmatch(slot_regex(kind, value), token) is not None
