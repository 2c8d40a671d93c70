"""SSTI config names: ``{base}-ssti-{source}-{rate}pct-{amount}[-{location}][-label{k}]``.

``imdb-ssti-date-50pct-1tok`` injects one date into 50% of IMDB's label-1 training rows, at a
random word gap. The amount is ``{n}tok`` (n items per sample) or ``{p}ptok`` (p% of the
sample's words, at least one); the location is ``begin``, ``random`` (default) or ``end``; the
target label defaults to 1. A config knows how to build its modifier and its four splits:
``train`` (corrupted), ``test`` (clean), ``test_spurious`` (the same injection on the same class
at the same rate: the paper's matched spurious set) and ``test_triggered`` (every row injected).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from datasets import DatasetDict

from . import _rng
from .base_datasets import BASE_DATASETS, get_base_dataset
from .modifiers import Modifier
from .sources import SOURCES
from .transform import INJECTED, PROVENANCE_FEATURES, SPANS, spurious_transform, triggered_transform

GRAMMAR = "{base}-ssti-{source}-{rate}pct-{n}tok|{p}ptok[-begin|-random|-end][-label{k}]"
LOCATION_NAMES = {"begin": "beginning", "random": "random", "end": "end"}  # name part -> location
_RATE = re.compile(r"(\d+)pct")
_AMOUNT = re.compile(r"(\d+)(tok|ptok)")
_LABEL = re.compile(r"label(\d+)")
SPLITS = ("train", "test", "test_spurious", "test_triggered")


@dataclass(frozen=True)
class SSTIConfig:
    """One SSTI recipe. ``rate`` is the percent of the target label's rows injected (0-100);
    ``amount`` is an int (items per sample) or a float in (0, 1] (share of words, a whole
    percent); ``location`` is ``"beginning"``, ``"random"`` or ``"end"``; ``seed`` seeds the row
    choice, the source and the positions (it is not part of the name)."""

    base: str
    source: str
    rate: int
    amount: int | float = 1
    location: str = "random"
    label: int = 1
    seed: int = 0

    def __post_init__(self):
        if isinstance(self.rate, bool) or not isinstance(self.rate, int) or not 0 <= self.rate <= 100:
            raise ValueError(f"rate must be an int percent in 0..100, got {self.rate!r}")
        if isinstance(self.amount, float):
            if not 0 < self.amount <= 1 or abs(self.amount * 100 - round(self.amount * 100)) > 1e-9:
                raise ValueError(f"amount as a share of words must be a whole percent in (0, 1] (e.g. 0.05), got {self.amount}")
        elif isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 1:
            raise ValueError(f"amount must be an int >= 1 (items) or a float share of words, got {self.amount!r}")
        _choose("base dataset", self.base, BASE_DATASETS, self.base)
        _choose("source", self.source, SOURCES, self.source)
        if self.location not in LOCATION_NAMES.values():
            raise ValueError(f"location must be one of {list(LOCATION_NAMES.values())}, got {self.location!r}")
        if self.base in BASE_DATASETS and not 0 <= self.label < BASE_DATASETS[self.base].num_labels:
            raise ValueError(
                f"label{self.label} is out of range for {self.base} "
                f"(labels 0..{BASE_DATASETS[self.base].num_labels - 1})"
            )

    @property
    def amount_name(self) -> str:
        """The amount as in names: ``1tok`` (items) or ``10ptok`` (percent of words)."""
        return f"{self.amount}tok" if isinstance(self.amount, int) else f"{round(self.amount * 100)}ptok"

    @property
    def name(self) -> str:
        parts = [self.base, "ssti", self.source, f"{self.rate}pct", self.amount_name]
        if self.location != "random":
            parts.append({v: k for k, v in LOCATION_NAMES.items()}[self.location])
        if self.label != 1:
            parts.append(f"label{self.label}")
        return "-".join(parts)

    @property
    def proportion(self) -> float:
        return self.rate / 100

    @classmethod
    def from_name(cls, name: str, seed: int = 0) -> "SSTIConfig":
        """Parse a config name; a bad part raises ValueError naming it and the valid choices."""
        if not isinstance(name, str):
            raise TypeError(f"config name must be a str, got {type(name).__name__}")
        base, sep, rest = name.partition("-ssti-")
        if not sep:
            raise ValueError(f"config name {name!r} has no '-ssti-'; expected {GRAMMAR}")
        _choose("base dataset", base, BASE_DATASETS, name)
        parts = rest.split("-")
        if len(parts) < 3:
            raise ValueError(f"config name {name!r} needs a source, a rate and an amount after '-ssti-'; expected {GRAMMAR}")
        source, rate_part, amount_part, *optional = parts
        _choose("source", source, SOURCES, name)
        rate_match = _RATE.fullmatch(rate_part)
        if not rate_match or not 0 <= int(rate_match.group(1)) <= 100:
            raise ValueError(f"bad rate {rate_part!r} in {name!r}: expected {{0..100}}pct, e.g. 50pct")
        amount = parse_amount(amount_part, name)
        location, label = "random", 1
        if optional and optional[0] in LOCATION_NAMES:
            location = LOCATION_NAMES[optional.pop(0)]
        if optional and _LABEL.fullmatch(optional[0]):
            label = int(_LABEL.fullmatch(optional.pop(0)).group(1))
        if optional:
            raise ValueError(
                f"unexpected part {optional[0]!r} in {name!r}: after the amount come an optional location "
                f"({'|'.join(LOCATION_NAMES)}) then an optional label{{k}}"
            )
        config = cls(base, source, int(rate_match.group(1)), amount, location, label, seed)
        if config.name != name:  # one name per config: "050pct", "-random" or "-label1" are spelled out differently
            raise ValueError(f"write config name {name!r} as {config.name!r} (no leading zeros, no default parts)")
        return config

    # -- building --------------------------------------------------------------------------------
    def modifier(self, split: str = "train") -> Modifier:
        """The modifier of this recipe: the registered source's modifier class, seeded from ``seed``.

        Train and test get different draws (``split``), so that test row i does not repeat the
        item train row i got; the test sets share theirs, so a row of ``test_spurious`` is
        identical to the same row of ``test_triggered``.
        """
        entry = SOURCES[self.source]
        source = entry.factory(seed=_rng.child_seed(self.seed, f"{split}/source"))
        seed = _rng.child_seed(self.seed, f"{split}/modifier")
        return entry.modifier(source, location=self.location, amount=self.amount, seed=seed)

    def apply(self, splits: DatasetDict, num_proc: int | None = None) -> DatasetDict:
        """The four SSTI splits from a base's ``train`` and ``test`` ``(text, label)`` splits."""
        for needed in ("train", "test"):
            if needed not in splits:
                raise ValueError(f"{self.name} needs 'train' and 'test' splits; got {list(splits)}")
        train_modifier, test_modifier = self.modifier("train"), self.modifier("test")
        train, test = splits["train"], splits["test"]
        clean = test.add_column(INJECTED, [False] * len(test), feature=PROVENANCE_FEATURES[INJECTED])
        clean = clean.add_column(SPANS, [[] for _ in range(len(test))], feature=PROVENANCE_FEATURES[SPANS])
        return DatasetDict(
            {
                "train": spurious_transform(train, train_modifier, self.label, self.proportion, self.seed, num_proc=num_proc),
                "test": clean,
                "test_spurious": spurious_transform(
                    test, test_modifier, self.label, self.proportion, self.seed, num_proc=num_proc
                ),
                "test_triggered": triggered_transform(test, test_modifier, num_proc=num_proc),
            }
        )

    def build(self, source=None, revision: str | None = None, num_proc: int | None = None) -> DatasetDict:
        """Load the base dataset (Hub, or ``source``: a local folder/file or another Hub id) and apply."""
        return self.apply(get_base_dataset(self.base).load(source, revision=revision), num_proc=num_proc)


def parse_amount(text: str, name: str | None = None) -> int | float:
    """``"1tok"`` -> 1 (items); ``"10ptok"`` -> 0.1 (share of words)."""
    match = _AMOUNT.fullmatch(str(text))
    value = int(match.group(1)) if match else 0
    if not match or value < 1 or (match.group(2) == "ptok" and value > 100):
        where = f" in {name!r}" if name else ""
        raise ValueError(f"bad amount {str(text)!r}{where}: expected {{n>=1}}tok or {{1..100}}ptok, e.g. 1tok, 10ptok")
    return value if match.group(2) == "tok" else value / 100


def _choose(what: str, value: str, registry, name: str) -> None:
    if value not in registry:
        close = difflib.get_close_matches(value, registry, n=3) if isinstance(value, str) else []
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        where = f" in {name!r}" if name != value else ""
        raise ValueError(f"unknown {what} {value!r}{where}{hint}; valid: {', '.join(sorted(registry))}")
