"""Token sources: where injected items come from (paper §3.1, "Injection Source").

A source is a sample space of strings (dates, country names, HTML tags, a user's list or
function) plus a seeded way of drawing from it: with or without replacement, optionally
restricted to ``diversity`` distinct items. Draws are addressed by a counter: draw ``c`` of a
source is the same string whichever process asks for it, which is what lets
:func:`ssti_hf.spurious_transform` run with ``num_proc > 1`` and still give identical bytes.

Names used in config names (``date``, ``country``, ``html``) resolve through one registry;
:func:`register_source` adds your own.
"""

from __future__ import annotations

import datetime
import random
from abc import ABC, abstractmethod
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np

from . import _rng
from .modifiers import HTMLInjection, ItemInjection, Modifier


class SourceExhaustedError(ValueError):
    """A source sampled without replacement was asked for more draws than it has items."""


@dataclass(eq=False, kw_only=True)
class Source(ABC):
    """Base class. Subclasses define the sample space: ``space_size`` and ``_items_at``.

    Args:
        seed: seeds every draw of this source (and only of this source).
        replace: sample with replacement (the default) or without.
        diversity: restrict the sample space to this many distinct items (picked by ``seed``).
    """

    seed: int = 0
    replace: bool = True
    diversity: int | None = None
    name: str = field(default="custom", compare=False)
    _cursor: int = field(default=0, init=False, repr=False)

    def __post_init__(self):
        _rng.check_seed(self.seed, f"source {self.name!r} seed")
        if self.diversity is not None:
            if isinstance(self.diversity, bool) or not isinstance(self.diversity, int) or self.diversity < 1:
                raise ValueError(f"diversity must be a positive int (number of distinct items), got {self.diversity!r}")
            size = self.space_size
            if size is not None and self.diversity > size:
                raise ValueError(f"diversity={self.diversity} exceeds the {size} distinct items of source {self.name!r}")

    # -- the sample space (subclasses) -------------------------------------------------------
    @property
    @abstractmethod
    def space_size(self) -> int | None:
        """Number of distinct items, or None for an unbounded space (a function source)."""

    @abstractmethod
    def _items_at(self, indices: np.ndarray) -> list[str]:
        """Items of the full sample space at these indices."""

    # -- drawing -----------------------------------------------------------------------------
    def _key(self, stream: int) -> int:
        # The name is part of the key, so that two sources left at the default seed (a date source
        # and a country source, say) still draw independently.
        return _rng.stream_key(self.seed, stream, _rng.name_key(self.name))

    @property
    def capacity(self) -> int | None:
        """How many draws this source can give (None: unlimited)."""
        return None if self.replace else self._active_size

    @property
    def _active_size(self) -> int:
        return self.diversity if self.diversity is not None else self.space_size

    def draws(self, start: int, stop: int) -> list[str]:
        """Draws number ``start`` to ``stop - 1`` of this source."""
        return self.draws_at(np.arange(start, max(start, stop), dtype=np.int64))

    def draws_at(self, counters: np.ndarray) -> list[str]:
        """The draws with these numbers: a pure function of the seed and the numbers."""
        if len(counters) == 0:
            return []
        if self.capacity is not None and int(counters.max()) >= self.capacity:
            raise SourceExhaustedError(
                f"source {self.name!r} samples without replacement and has {self.capacity} distinct "
                f"items, but {int(counters.max()) + 1} draws were needed; use replace=True, a larger "
                "diversity, or fewer injections"
            )
        k = self._active_size
        if self.replace:
            picks = _rng.index_array(self._key(_rng.STREAM_ITEM), counters, k)
        else:
            picks = self._permutation(k, _rng.STREAM_PERMUTE).array(counters)
        if self.diversity is not None and self.space_size is not None:
            picks = self._permutation(self.space_size, _rng.STREAM_DIVERSITY).array(picks)
        return self._items_at(picks)

    def draw(self, n: int = 1) -> list[str]:
        """The next ``n`` draws (a cursor kept by this object, for use outside a transform)."""
        out = self.draws(self._cursor, self._cursor + n)
        self._cursor += n
        return out

    def _permutation(self, n: int, stream: int) -> _rng.FeistelPermutation:
        return _rng.FeistelPermutation(n, self._key(stream))

    # -- constructors named as in the paper's framework ---------------------------------------
    @classmethod
    def from_list(cls, items, **kwargs) -> "ListSource":
        return ListSource(items, **kwargs)

    @classmethod
    def from_file(cls, path, **kwargs) -> "ListSource":
        """One item per line; blank lines are skipped, surrounding whitespace stripped."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"source file {str(path)!r} does not exist")
        if not path.is_file():
            raise ValueError(f"source file {str(path)!r} is not a file")
        items = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not items:
            raise ValueError(f"source file {str(path)!r} has no items (it is empty or only blank lines)")
        kwargs.setdefault("name", path.stem)
        return ListSource(items, **kwargs)

    @classmethod
    def from_function(cls, fn: Callable[[random.Random], str], **kwargs) -> "FunctionSource":
        return FunctionSource(fn, **kwargs)


@dataclass(eq=False)
class ListSource(Source):
    """A fixed list of items. With replacement, duplicates weight the draw; without, the sample
    space is the distinct items (so no item ever repeats)."""

    items: list[str]
    name: str = field(default="list", kw_only=True)

    def __post_init__(self):
        if isinstance(self.items, str):
            raise TypeError(f"source {self.name!r}: items must be a list of strings, not one string")
        self.items = list(self.items) if self.replace else list(dict.fromkeys(self.items))
        if not self.items:
            raise ValueError(f"source {self.name!r} has no items")
        for item in self.items:
            if not isinstance(item, str) or not item.strip():
                raise ValueError(f"source {self.name!r} has an item that is not a non-blank string: {item!r}")
        super().__post_init__()

    @property
    def space_size(self) -> int:
        return len(self.items)

    def _items_at(self, indices):
        items = self.items
        return [items[i] for i in indices.tolist()]


@dataclass(eq=False, kw_only=True)
class DateSource(Source):
    """Dates ``YYYY-MM-DD``, uniform over every day of ``years`` (inclusive; the paper: 1100-2600)."""

    years: tuple[int, int] = (1100, 2600)
    name: str = field(default="date", kw_only=True)

    def __post_init__(self):
        if not (isinstance(self.years, (tuple, list)) and len(self.years) == 2 and all(isinstance(y, int) for y in self.years)):
            raise ValueError(f"years must be a (first, last) pair of ints, got {self.years!r}")
        first, last = self.years
        if not (1000 <= first <= last <= 9999):
            raise ValueError(f"years must satisfy 1000 <= first <= last <= 9999 (4-digit years), got {self.years}")
        self._first = np.datetime64(f"{first:04d}-01-01", "D")
        super().__post_init__()

    @property
    def space_size(self) -> int:
        first, last = self.years
        return datetime.date(last, 12, 31).toordinal() - datetime.date(first, 1, 1).toordinal() + 1

    def _items_at(self, indices):
        days = self._first + indices.astype("timedelta64[D]")
        return np.datetime_as_string(days, unit="D").tolist()


@dataclass(eq=False)
class FunctionSource(Source):
    """Items made by ``fn(rng)``, where ``rng`` is a ``random.Random`` seeded for that draw.

    The space is unbounded, so sampling without replacement needs ``diversity=k``: the source
    then generates k distinct items once and draws from those.
    """

    fn: Callable[[random.Random], str]
    name: str = field(default="function", kw_only=True)

    def __post_init__(self):
        if not callable(self.fn):
            raise TypeError(f"from_function needs a callable fn(rng) -> str, got {self.fn!r}")
        if not self.replace and self.diversity is None:
            raise ValueError(
                "a function source has no finite sample space: sampling without replacement needs "
                "diversity=k (k distinct generated items to draw from)"
            )
        self._pool: list[str] | None = None
        super().__post_init__()

    @property
    def space_size(self) -> int | None:
        return None

    def _generate(self, counter: int) -> str:
        item = self.fn(random.Random(_rng.hash_at(self._key(_rng.STREAM_ITEM), counter)))
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"source {self.name!r}: fn returned {item!r}, not a non-blank string")
        return item

    def _distinct_pool(self) -> list[str]:
        if self._pool is None:
            pool, seen, attempts = [], set(), 0
            while len(pool) < self.diversity:
                if attempts >= 100 * self.diversity:
                    raise ValueError(
                        f"source {self.name!r}: fn gave only {len(pool)} distinct items in {attempts} calls, "
                        f"fewer than diversity={self.diversity}"
                    )
                item = self._generate(attempts)
                attempts += 1
                if item not in seen:
                    seen.add(item)
                    pool.append(item)
            self._pool = pool
        return self._pool

    def _items_at(self, indices):
        pool = self._distinct_pool()
        return [pool[i] for i in indices.tolist()]

    def draws_at(self, counters):
        if self.diversity is None:
            return [self._generate(c) for c in counters.tolist()]
        return super().draws_at(counters)


def _packaged_lines(filename: str) -> list[str]:
    text = resources.files("ssti_hf").joinpath("data").joinpath(filename).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


COUNTRIES: tuple[str, ...] = tuple(_packaged_lines("countries.txt"))
"""Names of the 193 UN member states plus Palestine, Taiwan and Vatican City."""

HTML_TAGS: tuple[str, ...] = tuple(_packaged_lines("html_tags.txt"))
"""Tag pairs (``"<b> </b>"``: opening, a space, closing) and single tags (``"<br>"``)."""


# -- registry ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceEntry:
    """What a source name in a config name means: how to build the source, and which modifier
    injects its items (HTML tags need :class:`HTMLInjection` to keep closing tags in order)."""

    factory: Callable[..., Source]
    modifier: type[Modifier] = ItemInjection


SOURCES: dict[str, SourceEntry] = {}
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def register_source(name: str, factory: Callable[..., Source], *, modifier: type[Modifier] = ItemInjection) -> None:
    """Make ``name`` usable in config names. ``factory(seed=...)`` must return a :class:`Source`."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"source name {name!r} must be lowercase letters, digits or '_' (no '-': names are split on it)")
    if name in SOURCES:
        raise ValueError(f"source {name!r} is already registered")
    SOURCES[name] = SourceEntry(factory=factory, modifier=modifier)


def get_source(name: str, seed: int = 0) -> Source:
    """Build the registered source ``name`` with this seed."""
    if name not in SOURCES:
        raise ValueError(f"unknown source {name!r}; registered sources: {', '.join(sorted(SOURCES))}")
    return SOURCES[name].factory(seed=seed)


register_source("date", lambda seed=0: DateSource(seed=seed))
register_source("country", lambda seed=0: ListSource(COUNTRIES, seed=seed, name="country"))
register_source("html", lambda seed=0: ListSource(HTML_TAGS, seed=seed, name="html"), modifier=HTMLInjection)
