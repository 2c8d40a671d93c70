"""Text plumbing shared by modifiers and the transform: whitespace words, insertion, spans.

A *word* is a maximal run of non-whitespace characters, whitespace being what ``str.split()``
splits on, except that a markup tag is never split: ``movie.<br /><br />The`` is one word, so
nothing is ever inserted inside an existing ``<br />``. Otherwise word counts match the authors'
``len(text.split())``. Insertions only ever add characters at word boundaries; the original
characters are never changed, dropped or re-spaced, so deleting the recorded spans gives back
the original text exactly.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import accumulate

import numpy as np

Span = tuple[int, int]

# A tag starts with a letter, "/" or "!" after "<" (so "x < y > z" holds no tag).
_WORD = re.compile(r"(?:<[A-Za-z/!][^<>]*>|\S)+")

# What str.isspace() (and so the injection) takes for whitespace, in RE2 syntax (RE2's \s is ASCII):
# for Arrow's regex functions.
SPACE_RE2 = r"\s\x0b\x1c-\x1f\x{85}\p{Z}"
# Code points that str.isspace() accepts; all of them are below U+3001.
_SPACE_TABLE = np.zeros(0x110000, dtype=bool)
_SPACE_TABLE[[c for c in range(0x3001) if chr(c).isspace()]] = True
# ASCII control characters that are not whitespace (everything else <= 32 is whitespace).
_ASCII_NON_SPACE_CONTROLS = np.array([c for c in range(33) if not chr(c).isspace()], dtype=np.uint8)


def word_bounds(text: str) -> tuple[list[int], list[int]]:
    """Start and end offsets of the whitespace words of one text."""
    starts, ends = [], []
    for m in _WORD.finditer(text):
        starts.append(m.start())
        ends.append(m.end())
    return starts, ends


def _in_word(joined: str, separators: np.ndarray) -> np.ndarray:
    """Per character: is it part of a word? (vectorized ``not str.isspace()``, tags kept whole).
    ``separators`` are the positions of the spaces joining the texts: no tag spans one."""
    if joined.isascii():  # O(1) in CPython; the common case, and 10x cheaper than a table lookup
        codes = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
        in_word = codes > 32
        controls = codes < 32
        if controls.any():
            in_word |= np.isin(codes, _ASCII_NON_SPACE_CONTROLS) & controls
    else:
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        in_word = ~_SPACE_TABLE[codes]
    if "<" in joined:
        in_word |= _inside_tags(codes, len(joined), separators)
    return in_word


def _inside_tags(codes: np.ndarray, n: int, separators: np.ndarray) -> np.ndarray:
    """Characters inside markup tags: from a "<" followed by a letter, "/" or "!" to the next ">",
    with no other "<" between (the tag of ``_WORD``), and not across two joined texts."""
    opens = np.flatnonzero(codes == 60)
    closes = np.flatnonzero(codes == 62)
    after = np.minimum(opens + 1, n - 1)
    first = codes[after] | 32  # lowercase for ASCII letters
    tag_like = (opens + 1 < n) & (((first >= 97) & (first <= 122)) | (codes[after] == 47) | (codes[after] == 33))
    nxt = np.searchsorted(closes, opens)
    tag_like &= nxt < len(closes)
    ends = closes[np.minimum(nxt, len(closes) - 1)] if len(closes) else opens
    next_open = np.append(opens[1:], n)
    tag_like &= ends < next_open
    following = np.searchsorted(separators, opens)
    crossing = following < len(separators)
    crossing[crossing] = separators[following[crossing]] < ends[crossing]
    tag_like &= ~crossing
    inside = np.zeros(n + 1, dtype=np.int8)
    inside[opens[tag_like]] += 1  # tags do not overlap: no index repeats
    inside[ends[tag_like] + 1] -= 1
    return np.cumsum(inside[:-1], dtype=np.int8) > 0


def word_bounds_batch(texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`word_bounds` for many texts in one vectorized pass (the transform's hot path)."""
    result: list = [None] * len(texts)
    # ASCII texts and the others go in two groups so that one accented review does not send the
    # whole batch down the 4-bytes-per-character path.
    for group in ([i for i, t in enumerate(texts) if t.isascii()], [i for i, t in enumerate(texts) if not t.isascii()]):
        if not group:
            continue
        lengths = [len(texts[i]) + 1 for i in group]
        offsets = np.fromiter(accumulate(lengths, initial=0), dtype=np.int64, count=len(group) + 1)
        # The joining space keeps words from running across texts.
        in_word = _in_word(" ".join(texts[i] for i in group), offsets[1:-1] - 1)
        flips = np.flatnonzero(in_word[1:] != in_word[:-1]) + 1
        if len(in_word) and in_word[0]:
            flips = np.concatenate(([0], flips))
        if len(flips) % 2:
            flips = np.concatenate((flips, [len(in_word)]))
        starts, ends = flips[0::2], flips[1::2]
        cut = np.searchsorted(starts, offsets).tolist()
        shift = np.repeat(offsets[:-1], np.diff(cut))  # make offsets relative to each text, all at once
        starts, ends = starts - shift, ends - shift
        for k, i in enumerate(group):
            result[i] = (starts[cut[k] : cut[k + 1]], ends[cut[k] : cut[k + 1]])
    return result


def word_counts_batch(texts: list[str]) -> list[int]:
    """Number of words of each text."""
    return [len(starts) for starts, _ in word_bounds_batch(texts)]


def insert(text: str, pieces: list[tuple[int, str, bool]]) -> tuple[str, list[Span]]:
    """Insert items into ``text``; return the new text and one span per item.

    ``pieces`` are ``(position, item, after_word)`` in the order they must appear (sorted by
    position; ties keep list order). An item placed before a word is followed by a space
    (``"item word"``); one placed after a word is preceded by a space (``"word item"``), or by
    nothing when it starts the text. The separator belongs to the item's span.
    """
    if not pieces:
        return text, []
    if len(pieces) == 1:  # the common single-token case, without the list machinery
        pos, item, after = pieces[0]
        piece = (" " + item if pos else item) if after else item + " "
        return text[:pos] + piece + text[pos:], [(pos, pos + len(piece))]
    positions = [pos for pos, _, _ in pieces]
    strings = [" " + item if after else item + " " for _, item, after in pieces]
    if pieces[0][2] and positions[0] == 0:
        strings[0] = pieces[0][1]
    cuts = [0, *positions, len(text)]
    parts = [""] * (2 * len(strings) + 1)
    parts[0::2] = [text[a:b] for a, b in zip(cuts, cuts[1:])]
    parts[1::2] = strings
    lengths = [len(s) for s in strings]
    starts = [p + before for p, before in zip(positions, accumulate(lengths, initial=0))]
    return "".join(parts), [(a, a + n) for a, n in zip(starts, lengths)]


def gap_pieces(gaps: list[int], items: list[str], starts, ends, empty_at: int = 0) -> list[tuple[int, str, bool]]:
    """Pieces for :func:`insert` from word-gap numbers (0 = before the first word, n = after the
    last; sorted). With no words there is one gap, at offset ``empty_at``."""
    n = len(starts)
    last_end = int(ends[n - 1]) if n else empty_at
    if n and len(gaps) > 8:
        starts = starts.tolist() if hasattr(starts, "tolist") else starts
    return [(int(starts[g]), item, False) if g < n else (last_end, item, True) for g, item in zip(gaps, items)]


def shift_spans(spans: list[Span], inserted: list[Span]) -> list[Span]:
    """Move spans of a text through a later insertion, and merge in the inserted spans.

    ``inserted`` are the spans (in the new text) that the later insertion added. Each maps back
    to one insertion point in the old text. An old span moves right by everything inserted at or
    before its start; an insertion strictly inside an old span (before the item of a ``" item"``
    span, say) splits it in two around the inserted text.
    """
    if not inserted:
        return list(spans)
    points, lengths, total = [], [], 0
    for start, end in inserted:
        points.append(start - total)
        lengths.append(end - start)
        total += end - start
    before = [0, *accumulate(lengths)]
    moved = []
    for a, b in spans:
        inner = points[bisect_right(points, a) : bisect_left(points, b)]
        for x, y in zip([a, *inner], [*inner, b]):
            if y > x:
                moved.append((x + before[bisect_right(points, x)], y + before[bisect_left(points, y)]))
    return sorted(moved + list(inserted))


def remove_spans(text: str, spans: list[Span]) -> str:
    """Delete the spans from the text (the inverse of :func:`insert`)."""
    out, prev = [], 0
    for start, end in sorted(spans):
        if start < prev or end > len(text) or start >= end:
            raise ValueError(f"span [{start}, {end}) is not a valid, non-overlapping span of a text of length {len(text)}")
        out.append(text[prev:start])
        prev = end
    out.append(text[prev:])
    return "".join(out)
