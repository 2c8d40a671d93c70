"""Modifiers: how one ``(text, label)`` sample is corrupted (paper §3.1, A.2).

A modifier maps ``(text, label) -> (text, label)`` and reports the character spans it
inserted. It only inserts: original characters are never changed, dropped or re-spaced.
Randomness (where to insert, which item) is keyed by the row, not by call order, so the
transform can split rows across processes and still produce identical bytes.

- :class:`ItemInjection`: items from a source at the beginning, the end or random word gaps.
- :class:`HTMLInjection`: tags from a source; a closing tag always follows its opening tag and
  several pairs nest properly; optionally inside an existing element at a nesting ``level``.
- :class:`CompositeModifier`: several modifiers in sequence (itself a modifier).
- :class:`LabelFlip`: sets the label: to a target (a dirty-label backdoor's relabelling), or to
  another label picked per row (the second seed paper's untargeted label-flipping poisoning).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Protocol

import numpy as np

from . import _rng
from ._text import Span, gap_pieces, insert, shift_spans, word_bounds


class ItemSource(Protocol):
    """What a modifier draws its items from: :class:`ssti_hf.sources.Source` and its kinds. Named
    here by what it does, so that modifiers need not import sources (sources registers which
    modifier injects its items)."""

    def draw(self, n: int = 1) -> list[str]: ...

    def draws(self, start: int, stop: int) -> list[str]: ...


LOCATIONS = ("beginning", "random", "end")


@dataclass
class Injected:
    """A modified sample: its new text and label, and the spans (``[start, end)`` offsets in the
    new text, sorted) of everything inserted, separators included."""

    text: str
    label: Any
    spans: list[Span]


class Sample:
    """What a modifier may know of the row it modifies, besides its text and label.

    ``row`` keys the row's random choices; ``n_words`` is the word count of the original text
    (amounts given as a fraction are a share of the *original* words, as in the paper, also
    inside a :class:`CompositeModifier`); ``take(source, n)`` hands out the row's draws.
    Word bounds of the original text may be given precomputed (the transform computes a whole
    batch at once); other texts have theirs computed when asked.
    """

    __slots__ = ("row", "n_words", "take", "salt", "_text", "_bounds")

    def __init__(self, row: int, text: str, take: Callable[[ItemSource, int], list[str]], bounds=None, salt: int = 0):
        self.row = row
        self.take = take
        self.salt = salt
        self._text = text
        self._bounds = bounds if bounds is not None else word_bounds(text)
        self.n_words = len(self._bounds[0])

    def words(self, text: str):
        """``(starts, ends)`` of the words of ``text``."""
        return self._bounds if text is self._text else word_bounds(text)

    def key(self, seed: int, stream: int) -> int:
        """The key of this row's random choices in ``stream`` for a modifier seeded ``seed``."""
        return _rng.row_key(seed, stream, self.row, self.salt)

    def salted(self, salt: int) -> "Sample":
        """The same row for the ``salt``-th modifier of a chain (independent positions even when
        the modifiers share a seed)."""
        child = Sample(self.row, self._text, self.take, self._bounds, _rng.mix64(self.salt ^ salt))
        child.n_words = self.n_words
        return child


class Modifier(ABC):
    """Base class. Subclasses implement :meth:`apply`; those drawing items also list their
    sources in :meth:`sources` and the number of draws per sample in :meth:`draw_counts`."""

    #: Whether this modifier can change labels. The transform then keeps each row's label from
    #: before in a provenance column, so that a relabelled row can be recognized and undone.
    relabels = False

    @abstractmethod
    def apply(self, text: str, label: Any, sample: Sample) -> Injected:
        """The modified sample, with the spans of what was inserted."""

    def apply_batch(self, texts: list[str], labels: list, samples: list[Sample]) -> list[Injected]:
        """:meth:`apply` over a batch; the transform calls this, so a modifier can vectorize."""
        return [self.apply(t, l, s) for t, l, s in zip(texts, labels, samples)]

    def sources(self) -> list[ItemSource]:
        """The sources this modifier draws from, in a fixed order."""
        return []

    def draw_counts(self, n_words: int) -> list[tuple[ItemSource, int]]:
        """How many items each source gives to a sample whose original text has ``n_words`` words."""
        return []

    def output_labels(self, labels: set) -> set:
        """The labels samples can have after this modifier, given the labels they had before
        (so a transform can reject an impossible label before writing anything)."""
        return set(labels)

    # -- use outside a transform ------------------------------------------------------------------
    def inject(self, text: str, label: Any = None) -> Injected:
        """Modify one sample. Successive calls act as successive rows (row 0, 1, ...)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        row = getattr(self, "_calls", 0)
        self._calls = row + 1
        return self.apply(text, label, Sample(row, text, lambda source, n: source.draw(n)))

    def __call__(self, text: str, label: Any = None) -> tuple[str, Any]:
        result = self.inject(text, label)
        return result.text, result.label


def _check_location(location: str) -> str:
    if location not in LOCATIONS:
        raise ValueError(f"location must be one of {', '.join(LOCATIONS)}; got {location!r}")
    return location


MAX_ITEMS = 1000  # items per sample: more is no longer an injection into a text (and 10**7 would need 37 GiB)


def _amount_fraction(amount) -> Fraction | None:
    """None for a fixed count; the exact decimal fraction for a share of words (0.29 -> 29/100,
    so that 100 words give 29 items, not int(100 * 0.29) = 28)."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise ValueError(f"amount must be an int (items per sample) or a float in (0, 1] (share of words), got {amount!r}")
    if isinstance(amount, int):
        if not 1 <= amount <= MAX_ITEMS:
            raise ValueError(f"amount as a count must be in 1..{MAX_ITEMS} items per sample, got {amount}")
        return None
    if not 0 < amount <= 1:
        raise ValueError(f"amount as a share of words must be in (0, 1], got {amount}")
    return Fraction(repr(amount))


def _items_for(amount, fraction: Fraction | None, n_words: int) -> int:
    if fraction is None:
        return amount
    return max(1, n_words * fraction.numerator // fraction.denominator)


@dataclass(eq=False)
class ItemInjection(Modifier):
    """Inject items drawn from ``source`` (paper §3.1).

    Args:
        source: where items come from (:mod:`ssti_hf.sources`).
        location: ``"beginning"``, ``"end"`` or ``"random"`` (a uniform word gap per item, the
            gaps before the first word and after the last included).
        amount: an int is a fixed number of items per sample; a float in (0, 1] is a share of the
            sample's whitespace words, at least 1 (``max(1, int(n_words * amount))``, as the
            authors' code).
        seed: seeds the insertion positions.
    """

    source: ItemSource
    location: str = "random"
    amount: int | float = 1
    seed: int = 0

    def __post_init__(self):
        _check_location(self.location)
        self._fraction = _amount_fraction(self.amount)

    def sources(self):
        return [self.source]

    def draw_counts(self, n_words):
        return [(self.source, _items_for(self.amount, self._fraction, n_words))]

    def apply(self, text, label, sample):
        return self.apply_batch([text], [label], [sample])[0]

    def apply_batch(self, texts, labels, samples):
        # Vectorized over the batch: all random gaps in one hash call; only string building is per row.
        bounds = [s.words(t) for t, s in zip(texts, samples)]
        counts = [_items_for(self.amount, self._fraction, s.n_words) for s in samples]
        items = [s.take(self.source, k) for s, k in zip(samples, counts)]
        n_words = [len(starts) for starts, _ in bounds]
        if self.location == "random":
            rows = np.array([s.row for s in samples], dtype=np.int64)
            salts = {s.salt for s in samples}
            if len(salts) == 1:
                keys = _rng.row_keys(self.seed, _rng.STREAM_POSITION, rows, salts.pop())
            else:
                keys = np.array([s.key(self.seed, _rng.STREAM_POSITION) for s in samples], dtype=np.uint64)
            sizes = np.array(counts, dtype=np.int64)
            first = np.cumsum(sizes) - sizes
            draw = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(first, sizes)
            flat = _rng.index_array(np.repeat(keys, sizes), draw, np.repeat(np.array(n_words) + 1, sizes)).tolist()
        results = []
        for r, (text, label, (starts, ends)) in enumerate(zip(texts, labels, bounds)):
            row_items = items[r]
            if self.location == "random":
                gaps = flat[first[r] : first[r] + counts[r]]
                order = sorted(range(len(gaps)), key=gaps.__getitem__)  # stable: a shared gap keeps draw order
                gaps, row_items = [gaps[i] for i in order], [row_items[i] for i in order]
            else:
                gaps = [0 if self.location == "beginning" else n_words[r]] * len(row_items)
            new_text, spans = insert(text, gap_pieces(gaps, row_items, starts, ends))
            results.append(Injected(new_text, label, spans))
        return results


_TAG_ITEM = re.compile(r"\s*(<[^<>/][^<>]*>)(?:\s+(</[^<>]+>))?\s*")
# Possessive name (``*+``): no backtracking over long tag names, so the scan stays linear.
_MARKUP = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*+)[^<>]*?(/?)>")
_VOID_ELEMENTS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)


def parse_tag(item: str) -> tuple[str, str | None]:
    """``"<b> </b>"`` -> ``("<b>", "</b>")``; ``"<br>"`` -> ``("<br>", None)``."""
    m = _TAG_ITEM.fullmatch(item) if isinstance(item, str) else None
    if not m:
        raise ValueError(f"HTML source item {item!r} is not '<tag>' or '<tag> </tag>'")
    opening, closing = m.group(1), m.group(2)
    if closing is not None and _MARKUP.match(opening).group(2).lower() != _MARKUP.match(closing).group(2).lower():
        raise ValueError(f"HTML source item {item!r}: the closing tag does not match the opening tag")
    return opening, closing


def element_content(text: str, level: int) -> tuple[int, int] | None:
    """``[start, end)`` of the content of the first element (in closing order) at nesting
    ``level`` (1 = a top-level element) of the markup already in ``text``; None if none.
    Void elements (``<br>``) and self-closing tags do not nest; stray closing tags are ignored."""
    stack: list[tuple[str, int]] = []
    for m in _MARKUP.finditer(text):
        closing, name, self_closing = m.group(1), m.group(2).lower(), m.group(3)
        if not closing:
            if not self_closing and name not in _VOID_ELEMENTS:
                stack.append((name, m.end()))
            continue
        for depth in range(len(stack), 0, -1):
            if stack[depth - 1][0] == name:
                content_start = stack[depth - 1][1]
                del stack[depth - 1 :]
                if depth == level:
                    return content_start, m.start()
                break
    return None


@dataclass(eq=False)
class HTMLInjection(Modifier):
    """Inject HTML tags from ``source`` (paper A.2); items are ``"<b> </b>"`` pairs or single tags.

    ``location`` places the opening tags: at the beginning (closing tags at random gaps after
    them), at random gaps (closing tags at random later gaps), or at random gaps with the closing
    tags at the end. Several pairs in one sample always nest validly. ``amount`` counts tag
    items, as for :class:`ItemInjection`. ``level=k`` injects inside the content of the first
    existing element at nesting depth ``k``; a text without one gets the tags over its whole text
    (a share of words still counts the words of the whole text). Existing tags are never split,
    but injected pairs are not aligned with existing elements: a pair may open inside one element
    and close outside it.
    """

    source: ItemSource
    location: str = "random"
    amount: int | float = 1
    level: int | None = None
    seed: int = 0

    def __post_init__(self):
        _check_location(self.location)
        self._fraction = _amount_fraction(self.amount)
        if self.level is not None and (isinstance(self.level, bool) or not isinstance(self.level, int) or self.level < 1):
            raise ValueError(f"level must be None (whole text) or an int >= 1 (nesting depth), got {self.level!r}")
        # Fail at construction, not in the middle of a dataset: check a list's items, or one draw.
        for item in getattr(self.source, "items", None) or self.source.draws(0, 1):
            parse_tag(item)

    def sources(self):
        return [self.source]

    def draw_counts(self, n_words):
        return [(self.source, _items_for(self.amount, self._fraction, n_words))]

    def apply(self, text, label, sample):
        tags = [parse_tag(item) for item in sample.take(self.source, _items_for(self.amount, self._fraction, sample.n_words))]
        region = element_content(text, self.level) if self.level is not None else None
        if region is None:
            starts, ends = sample.words(text)
            empty_at = 0
        else:
            offset = region[0]
            sub_starts, sub_ends = word_bounds(text[region[0] : region[1]])
            starts, ends = [s + offset for s in sub_starts], [e + offset for e in sub_ends]
            empty_at = region[0]
        n = len(starts)
        key = sample.key(self.seed, _rng.STREAM_POSITION)
        counter = iter(range(1 << 62))

        def random_gaps(count: int) -> list[int]:
            return sorted(_rng.index_at(key, next(counter), n + 1) for _ in range(count))

        pairs = [t for t in tags if t[1] is not None]
        singles = [t[0] for t in tags if t[1] is None]
        events: list[tuple[int, str]] = []  # (gap, tag) in the order they appear
        if self.location == "beginning":
            opens = [0] * len(pairs)
            events += [(0, tag) for tag in singles]
            closes = random_gaps(len(pairs))
            order = [True] * len(pairs) + [False] * len(pairs)
            gaps = opens + closes
        elif self.location == "end":
            gaps = random_gaps(len(pairs)) + [n] * len(pairs)
            order = [True] * len(pairs) + [False] * len(pairs)
        else:
            events += [(g, tag) for g, tag in zip(random_gaps(len(singles)), singles)]
            order = self._random_nesting(len(pairs), key, counter)
            gaps = random_gaps(2 * len(pairs))
        stack, next_pair = [], iter(pairs)
        for gap, is_open in zip(gaps, order):
            if is_open:
                opening, closing = next(next_pair)
                stack.append(closing)
                events.append((gap, opening))
            else:
                events.append((gap, stack.pop()))
        if self.location == "end":
            events += [(n, tag) for tag in singles]
        events.sort(key=lambda e: e[0])  # stable: events sharing a gap keep their nesting order
        pieces = gap_pieces([g for g, _ in events], [tag for _, tag in events], starts, ends, empty_at)
        new_text, spans = insert(text, pieces)
        return Injected(new_text, label, spans)

    @staticmethod
    def _random_nesting(pairs: int, key: int, counter) -> list[bool]:
        """A random well-nested open/close sequence (True = open) of ``pairs`` pairs."""
        order, to_open, depth = [], pairs, 0
        while to_open or depth:
            opens = to_open > 0 and (depth == 0 or _rng.unit_at(key, next(counter)) < 0.5)
            order.append(opens)
            to_open -= opens
            depth += 1 if opens else -1
        return order


@dataclass(eq=False)
class CompositeModifier(Modifier):
    """Apply several modifiers in sequence; spans of earlier ones move with later insertions."""

    modifiers: list[Modifier] = field(default_factory=list)

    def __post_init__(self):
        if not self.modifiers or not all(isinstance(m, Modifier) for m in self.modifiers):
            raise ValueError("CompositeModifier needs a non-empty list of Modifier instances")

    def sources(self):
        seen = []
        for m in self.modifiers:
            seen += [s for s in m.sources() if not any(s is t for t in seen)]
        return seen

    def draw_counts(self, n_words):
        return [count for m in self.modifiers for count in m.draw_counts(n_words)]

    def output_labels(self, labels):
        for m in self.modifiers:
            labels = m.output_labels(labels)
        return labels

    @property
    def relabels(self):
        return any(m.relabels for m in self.modifiers)

    def apply(self, text, label, sample):
        spans: list[Span] = []
        for i, m in enumerate(self.modifiers, start=1):
            result = m.apply(text, label, sample.salted(i))
            spans = shift_spans(spans, result.spans)
            text, label = result.text, result.label
        return Injected(text, label, spans)


@dataclass(eq=False)
class LabelFlip(Modifier):
    """Set the label: to ``label`` (targeted: the relabelling of a dirty-label backdoor), or,
    with ``num_labels``, to a different label picked uniformly among the others, per row
    (untargeted label flipping, the data poisoning of the second seed paper). ``seed`` seeds the
    untargeted pick, keyed by the row like every other choice."""

    label: int | None = None
    num_labels: int | None = None
    seed: int = 0
    relabels = True  # a class attribute (no annotation), not a field

    def __post_init__(self):
        if (self.label is None) == (self.num_labels is None):
            raise ValueError("LabelFlip needs exactly one of label=k (targeted) or num_labels=n (untargeted)")
        for name in ("label", "num_labels"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise TypeError(f"LabelFlip {name} must be an int (a label index), got {value!r}")
        if self.num_labels is not None and self.num_labels < 2:
            raise ValueError(f"num_labels must be >= 2 to flip to a different label, got {self.num_labels}")
        _rng.check_seed(self.seed, "LabelFlip seed")

    def apply(self, text, label, sample):
        if self.label is not None:
            return Injected(text, self.label, [])
        if isinstance(label, bool) or not isinstance(label, int):
            raise TypeError(f"an untargeted LabelFlip needs int labels, got {label!r}")
        pick = _rng.index_at(sample.key(self.seed, _rng.STREAM_LABEL), 0, self.num_labels - 1)
        return Injected(text, pick + (pick >= label), [])

    def output_labels(self, labels):
        return {self.label} if self.label is not None else set(range(self.num_labels))
