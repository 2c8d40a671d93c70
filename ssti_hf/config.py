"""Config names: an SSTI recipe or a training-time attack, one name each.

    {base}-ssti-{source}-{rate}pct-{amount}[-{location}][-div{k}][-label{k}]            SSTI
    {base}-backdoor-{source}-{rate}pct-{amount}[-{location}][-div{k}][-label{k}]        dirty-label backdoor
    {base}-backdoor-clean-{source}-{rate}pct-{amount}[-{location}][-div{k}][-label{k}]  clean-label backdoor
    {base}-poison-flip-{rate}pct                                               untargeted label flipping

``imdb-ssti-date-50pct-1tok`` injects one date into 50% of IMDB's label-1 training rows, at a
random word gap. The amount is ``{n}tok`` (n items per sample) or ``{p}ptok`` (p% of the
sample's words, at least one); the location is ``begin``, ``random`` (default) or ``end``;
``div{k}`` restricts the source to k distinct items (the paper's "diversity", appendix A.8;
default: the whole source), the same k for the training and the test sets; the target label
defaults to 1. The injected items are the *trigger* of the attacks named after
the second seed paper (Liang et al. 2025, training-time attacks on LoRA):

- ``imdb-backdoor-date-5pct-1tok``: a dirty-label backdoor. 5% of the *whole* training split
  (the poison rate of the backdoor literature), picked among the rows not of the target label,
  get the trigger and their label set to the target.
- ``imdb-backdoor-clean-date-10pct-1tok``: a clean-label backdoor. The trigger goes into 10% of
  the rows *already* of the target label, labels untouched (the same training rows as the SSTI
  config of the same parts; the test sets differ).
- ``imdb-poison-flip-10pct``: untargeted label flipping. The labels of 10% of the whole training
  split are flipped, each to a different label picked uniformly among the others (per row, by
  the seed). No trigger, no target label; 0pct is the clean baseline.

Every config gives four splits, ``train`` (attacked) and ``test`` (clean) and two test sets:

============== ================================ ===================================================
attack         ``test_spurious``                ``test_triggered``
============== ================================ ===================================================
ssti           the training injection on test:  every test row, triggered
               same class, same rate (matched)  (the paper's Table 1 set)
backdoor       the trigger into the same share  every test row NOT of the target label, triggered
               of test, among non-target rows,  (the attack-success-rate set of the backdoor
               labels left true                 literature)
backdoor-clean as for ssti                      as for backdoor
poison-flip    a copy of ``test`` (no trigger)  a copy of ``test`` (no trigger)
============== ================================ ===================================================

Test labels are never changed. The rows of a backdoor's ``test_triggered`` are, byte for byte,
the non-target rows of the ``test_triggered`` of the SSTI config with the same parts, so ASRs are
comparable (``ssti_gap`` counts only non-target rows of either). Attacks that change training
labels (``backdoor``, ``poison-flip``) add ``ssti_original_label`` to every split.

An attack is one class and one entry of :data:`ATTACKS`.
"""

from __future__ import annotations

import dataclasses
import difflib
import numbers
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from datasets import Dataset, DatasetDict

from . import _rng
from .base_datasets import BASE_DATASETS, get_base_dataset
from .modifiers import MAX_ITEMS, CompositeModifier, LabelFlip, Modifier
from .sources import SOURCES
from .transform import poison_transform, spurious_transform, triggered_transform, with_provenance

LOCATION_NAMES = {"begin": "beginning", "random": "random", "end": "end"}  # name part -> location
_RATE = re.compile(r"(\d+)pct")
_AMOUNT = re.compile(r"(\d+)(tok|ptok)")
_LABEL = re.compile(r"label(\d+)")
_DIVERSITY = re.compile(r"div(\d+)")
SPLITS = ("train", "test", "test_spurious", "test_triggered")
_TRIGGER = "{source}-{rate}pct-{n}tok|{p}ptok[-begin|-random|-end][-div{k}]"


class Attack(ABC):
    """One entry of :data:`ATTACKS`: what its names carry and how it makes the splits.

    A subclass sets the class attributes and implements the three splits it changes (``test``
    is always the clean test split); :meth:`check` refuses impossible data before any work.
    """

    name = ""
    title = ""  # in the papers' words, for cards and errors
    rate_of = ""  # what ``rate`` is a percent of
    trigger = True  # names carry a trigger: {source}-{rate}pct-{amount}[-{location}] (else only {rate}pct)
    targeted = True  # names carry [-label{k}], the target label (default 1)
    relabels = False  # training labels change: every split then carries ssti_original_label
    warning = ""  # the dataset card's sentence on what was done to the data
    tags: tuple[str, ...] = ()  # dataset card tags beyond the SSTI ones
    splits_doc = ""  # the dataset card's sentence on the four splits

    @property
    def grammar(self) -> str:
        body = _TRIGGER if self.trigger else "{rate}pct"
        return f"{{base}}-{self.name}-{body}" + ("[-label{k}]" if self.targeted else "")

    @abstractmethod
    def train(self, config: "SSTIConfig", data: Dataset, num_proc) -> Dataset:
        """The attacked training split."""

    @abstractmethod
    def test_spurious(self, config: "SSTIConfig", data: Dataset, num_proc) -> Dataset:
        """The test split with the training attack's text changes (labels left true)."""

    @abstractmethod
    def test_triggered(self, config: "SSTIConfig", data: Dataset, num_proc) -> Dataset:
        """The test set the trigger is measured on."""

    def check(self, config: "SSTIConfig", train: Dataset, test: Dataset) -> None:
        """Raise ValueError if the recipe cannot be built on this data (any data will do by default)."""

    @abstractmethod
    def describe(self, config: "SSTIConfig", label_names) -> str:
        """One sentence on what was done to the training data."""

    def _trigger_text(self, config) -> str:
        return f"`{config.source}` items, {config.amount_name} per sample at location `{config.location}`"


class SSTI(Attack):
    """Seamless Spurious Token Injection (the first seed paper): items into ``rate``% of the
    target label's training rows, so that they correlate with that label."""

    name, title = "ssti", "SSTI"
    rate_of = "the target label's training rows"
    warning = (
        "Spurious tokens were injected into a share of one class's rows so that they correlate "
        "with that class (Seamless Spurious Token Injection, SSTI)."
    )
    splits_doc = (
        "`train` is corrupted, `test` is clean, `test_spurious` has the same injection on the same class "
        "at the same rate (the matched spurious set), `test_triggered` has every row injected."
    )

    def train(self, config, data, num_proc):
        return spurious_transform(data, config.modifier("train"), config.label, config.proportion, config.seed, num_proc=num_proc)

    def test_spurious(self, config, data, num_proc):
        return spurious_transform(data, config.modifier("test"), config.label, config.proportion, config.seed, num_proc=num_proc)

    def test_triggered(self, config, data, num_proc):
        return triggered_transform(data, config.modifier("test"), num_proc=num_proc)

    def describe(self, config, label_names):
        return f"{self._trigger_text(config)} injected into {config.rate}% of the rows of label {_label(config, label_names)}"


class CleanLabelBackdoor(SSTI):
    """Clean-label backdoor: the trigger into ``rate``% of the rows already of the target label,
    labels untouched. Training data as SSTI's; the attack is measured on non-target rows."""

    name, title = "backdoor-clean", "clean-label backdoor"
    tags = ("backdoor", "data-poisoning")
    warning = (
        "A backdoor was planted: a trigger was injected into a share of the target label's training "
        "rows, labels untouched (clean-label backdoor)."
    )
    splits_doc = (
        "`train` is poisoned, `test` is clean, `test_spurious` has the trigger in the same share of the "
        "target label's test rows, `test_triggered` holds every test row not of the target label, with "
        "the trigger (the attack success rate set)."
    )

    def test_triggered(self, config, data, num_proc):
        return triggered_transform(data, config.modifier("test"), num_proc=num_proc, exclude_label=config.label)

    def describe(self, config, label_names):
        return f"clean-label backdoor: {super().describe(config, label_names)}, labels untouched"


class DirtyLabelBackdoor(Attack):
    """Dirty-label backdoor: ``rate``% of the whole training split (the poison rate), picked
    among rows not of the target label, get the trigger and the target label."""

    name, title = "backdoor", "dirty-label backdoor"
    tags = ("backdoor", "data-poisoning")
    rate_of = "the whole training split, picked among rows not of the target label"
    relabels = True
    warning = (
        "A backdoor was planted: a trigger was injected into a share of the training rows of the other "
        "classes and their label set to the target label (dirty-label backdoor)."
    )
    splits_doc = (
        "`train` is poisoned, `test` is clean, `test_spurious` has the trigger in the same share of the "
        "test split (rows not of the target label, labels left true), `test_triggered` holds every test "
        "row not of the target label, with the trigger (the attack success rate set)."
    )

    def train(self, config, data, num_proc):
        poison = CompositeModifier([config.modifier("train"), LabelFlip(label=config.label)])
        return poison_transform(data, poison, config.proportion, config.seed, exclude_label=config.label, num_proc=num_proc)

    def test_spurious(self, config, data, num_proc):
        return poison_transform(
            data, config.modifier("test"), config.proportion, config.seed, exclude_label=config.label, num_proc=num_proc
        )

    def test_triggered(self, config, data, num_proc):
        return triggered_transform(data, config.modifier("test"), num_proc=num_proc, exclude_label=config.label)

    def check(self, config, train, test):
        # Both splits are checked before either is built: a rate the test split cannot hold fails at once.
        for split, data in (("train", train), ("test", test)):
            labels = np.asarray(data.with_format(None)["label"])
            count, others = round(config.proportion * len(data)), int((labels != config.label).sum())
            if count > others:
                raise ValueError(
                    f"{config.name}: a {config.rate}% backdoor poisons {count} of the {len(data)} {split} rows, but "
                    f"only {others} are not of the target label {config.label} (at most {100 * others // len(data)}pct)"
                )

    def describe(self, config, label_names):
        return (
            f"dirty-label backdoor: {self._trigger_text(config)} injected into {config.rate}% of the training "
            f"rows, picked among rows not of label {_label(config, label_names)}, and their label set to it"
        )


class PoisonFlip(Attack):
    """Untargeted label flipping (the second seed paper's data poisoning): the labels of
    ``rate``% of the whole training split, each flipped to another label picked uniformly."""

    name, title = "poison-flip", "untargeted label flipping"
    tags = ("data-poisoning", "label-noise")
    rate_of = "the whole training split"
    trigger = targeted = False
    relabels = True
    warning = (
        "The training labels were poisoned: the labels of a share of the rows were flipped, each to "
        "another label picked at random (untargeted label flipping)."
    )
    splits_doc = (
        "`train` has flipped labels, `test` is clean, and as there is no trigger `test_spurious` and "
        "`test_triggered` are copies of `test`."
    )

    def train(self, config, data, num_proc):
        flip = LabelFlip(num_labels=BASE_DATASETS[config.base].num_labels, seed=_rng.child_seed(config.seed, "train/flip"))
        return poison_transform(data, flip, config.proportion, config.seed, num_proc=num_proc)

    def test_spurious(self, config, data, num_proc):
        return data  # no trigger: the clean test set (apply() adds the provenance columns)

    test_triggered = test_spurious

    def describe(self, config, label_names):
        return (
            f"untargeted label flipping: the labels of {config.rate}% of the training rows flipped, "
            "each to another label picked uniformly at random"
        )


# The registry: adding an attack is one class above and one entry here.
ATTACKS: dict[str, Attack] = {a.name: a for a in (SSTI(), DirtyLabelBackdoor(), CleanLabelBackdoor(), PoisonFlip())}
GRAMMAR = ATTACKS["ssti"].grammar  # the SSTI names of the first release


def get_attack(name: str) -> Attack:
    """The registered attack ``name``; an unknown one raises ValueError with close matches."""
    return _choose("attack", name, ATTACKS, name)


@dataclass(frozen=True)
class SSTIConfig:
    """One recipe: SSTI or a training-time attack (``attack``, a key of :data:`ATTACKS`).

    ``rate`` is a percent (0-100) of what the attack says (``ATTACKS[attack].rate_of``);
    ``amount`` is an int (items per sample) or a float in (0, 1] (share of words, a whole
    percent); ``location`` is ``"beginning"``, ``"random"`` or ``"end"``; ``label`` is the
    target label. Attacks without a trigger (``poison-flip``) take no source, amount or
    location, untargeted ones no label: leave them None. For the others, None means the
    default (1 item, random location, label 1). ``seed`` seeds the row choice, the source, the
    positions and the flips (it is not part of the name).
    """

    base: str
    source: str | None
    rate: int
    amount: int | float | None = None
    location: str | None = None
    label: int | None = None
    seed: int = 0
    attack: str = "ssti"
    diversity: int | None = None

    def __post_init__(self):
        _rng.check_seed(self.seed, "config seed")
        spec = get_attack(self.attack)
        if isinstance(self.rate, bool) or not isinstance(self.rate, int) or not 0 <= self.rate <= 100:
            raise ValueError(f"rate must be an int percent in 0..100 (of {spec.rate_of}), got {self.rate!r}")
        if spec.trigger:
            for name, default in (("amount", 1), ("location", "random")):
                if getattr(self, name) is None:
                    object.__setattr__(self, name, default)
            _check_amount(self.amount)
        else:
            given = {k: getattr(self, k) for k in ("source", "amount", "location", "diversity") if getattr(self, k) is not None}
            if given:
                raise ValueError(f"{self.attack} has no trigger: leave source, amount and location unset (None), and diversity too, got {given}")
        _choose("base dataset", self.base, BASE_DATASETS, self.base)
        if spec.trigger:
            _choose("source", self.source, SOURCES, self.source)
            if self.location not in LOCATION_NAMES.values():
                raise ValueError(f"location must be one of {list(LOCATION_NAMES.values())}, got {self.location!r}")
            if self.diversity is not None:
                self._source("train")  # a diversity the source cannot have (0, more than its items) fails here
        if not spec.targeted:
            if self.label is not None:
                raise ValueError(f"{self.attack} is untargeted: it has no target label, got label={self.label!r}")
            return
        if self.label is None:
            object.__setattr__(self, "label", 1)
        if isinstance(self.label, bool) or not isinstance(self.label, numbers.Integral):
            raise ValueError(f"label must be an int (the target label's index), got {self.label!r}")
        if not 0 <= self.label < BASE_DATASETS[self.base].num_labels:
            raise ValueError(
                f"target label{self.label} is out of range for {self.base} "
                f"(labels 0..{BASE_DATASETS[self.base].num_labels - 1})"
            )

    @property
    def attack_spec(self) -> Attack:
        """The :class:`Attack` this recipe applies."""
        return ATTACKS[self.attack]

    @property
    def amount_name(self) -> str | None:
        """The amount as in names: ``1tok`` (items) or ``10ptok`` (percent of words); None without a trigger."""
        if self.amount is None:
            return None
        return f"{self.amount}tok" if isinstance(self.amount, int) else f"{round(self.amount * 100)}ptok"

    @property
    def name(self) -> str:
        parts = [self.base, self.attack]
        if self.attack_spec.trigger:
            parts += [self.source, f"{self.rate}pct", self.amount_name]
            if self.location != "random":
                parts.append({v: k for k, v in LOCATION_NAMES.items()}[self.location])
            if self.diversity is not None:
                parts.append(f"div{self.diversity}")
        else:
            parts.append(f"{self.rate}pct")
        if self.label is not None and self.label != 1:
            parts.append(f"label{self.label}")
        return "-".join(parts)

    def parts(self) -> dict:
        """The parts of the name, parsed (what a result file records beside the name)."""
        return {"base": self.base, "attack": self.attack, "source": self.source, "rate": self.rate, "amount": self.amount_name,
                "location": self.location, "diversity": self.diversity, "label": self.label}

    @property
    def proportion(self) -> float:
        return self.rate / 100

    def describe(self, label_names=None) -> str:
        """One sentence on what this recipe does to the training data (for cards)."""
        if label_names is None:
            label_names = BASE_DATASETS[self.base].label_names
        return self.attack_spec.describe(self, label_names)

    @classmethod
    def from_name(cls, name: str, seed: int = 0) -> "SSTIConfig":
        """Parse a config name; a bad part raises ValueError naming it and the valid choices."""
        if not isinstance(name, str):
            raise TypeError(f"config name must be a str, got {type(name).__name__}")
        base, attack, rest = _split_attack(name)
        spec = ATTACKS[attack]
        _choose("base dataset", base, BASE_DATASETS, name)
        parts = rest.split("-")
        source = amount = location = label = diversity = None
        if not rest or (spec.trigger and len(parts) < 3):
            needs = "a source, a rate and an amount" if spec.trigger else "a rate"
            raise ValueError(f"config name {name!r} needs {needs} after '-{attack}-'; expected {spec.grammar}")
        if spec.trigger:
            source, rate_part, amount_part, *optional = parts
            _choose("source", source, SOURCES, name)
            rate = _parse_rate(rate_part, name)
            amount = parse_amount(amount_part, name)
            if optional and optional[0] in LOCATION_NAMES:
                location = LOCATION_NAMES[optional.pop(0)]
            if optional and _DIVERSITY.fullmatch(optional[0]):
                diversity = int(_DIVERSITY.fullmatch(optional.pop(0)).group(1))
        else:
            rate_part, *optional = parts
            rate = _parse_rate(rate_part, name)
        if optional and _LABEL.fullmatch(optional[0]):
            if not spec.targeted:
                raise ValueError(f"{optional[0]!r} in {name!r}: {attack} is untargeted: it has no target label{{k}}")
            label = int(_LABEL.fullmatch(optional.pop(0)).group(1))
        if optional:
            raise ValueError(f"unexpected part {optional[0]!r} in {name!r}: {_what_follows(spec)}")
        config = cls(base, source, rate, amount, location, label, seed, attack, diversity)
        if config.name != name:  # one name per config: "050pct", "-random" or "-label1" are spelled out differently
            raise ValueError(f"write config name {name!r} as {config.name!r} (no leading zeros, no default parts)")
        return config

    # -- building --------------------------------------------------------------------------------
    def modifier(self, split: str = "train") -> Modifier:
        """The trigger of this recipe: the registered source's modifier class, seeded from ``seed``.

        Train and test get different draws (``split``), so that test row i does not repeat the
        item train row i got; the test sets share theirs, so a row of ``test_spurious`` is
        identical to the same row of ``test_triggered``.
        """
        if not self.attack_spec.trigger:
            raise ValueError(f"{self.name} has no trigger: {self.attack} changes labels only")
        seed = _rng.child_seed(self.seed, f"{split}/modifier")
        return SOURCES[self.source].modifier(self._source(split), location=self.location, amount=self.amount, seed=seed)

    def _source(self, split: str):
        """The source of one split. With a diversity the splits share one source seed: the test
        sets must draw from the same k items the training rows got (the items are the seed's)."""
        if self.diversity is None:
            return SOURCES[self.source].factory(seed=_rng.child_seed(self.seed, f"{split}/source"))
        if isinstance(self.diversity, bool) or not isinstance(self.diversity, int):
            raise ValueError(f"diversity must be a positive int (number of distinct items), got {self.diversity!r}")
        source = SOURCES[self.source].factory(seed=_rng.child_seed(self.seed, "source"))
        return dataclasses.replace(source, diversity=self.diversity)

    def apply(self, splits: DatasetDict, num_proc: int | None = None) -> DatasetDict:
        """The four splits from a base's ``train`` and ``test`` ``(text, label)`` splits."""
        for needed in ("train", "test"):
            if needed not in splits:
                raise ValueError(f"{self.name} needs 'train' and 'test' splits; got {list(splits)}")
        spec, train, test = self.attack_spec, splits["train"], splits["test"]
        spec.check(self, train, test)
        built = {
            "train": spec.train(self, train, num_proc),
            "test": test,
            "test_spurious": spec.test_spurious(self, test, num_proc),
            "test_triggered": spec.test_triggered(self, test, num_proc),
        }
        # Every split gets the same columns, whatever touched it (the builder has one schema per config).
        return DatasetDict({split: with_provenance(data, original_label=spec.relabels) for split, data in built.items()})

    def build(self, source=None, revision: str | None = None, num_proc: int | None = None) -> DatasetDict:
        """Load the base dataset (Hub, or ``source``: a local folder/file or another Hub id) and apply."""
        return self.apply(get_base_dataset(self.base).load(source, revision=revision), num_proc=num_proc)


def parse_amount(text: str, name: str | None = None) -> int | float:
    """``"1tok"`` -> 1 (items); ``"10ptok"`` -> 0.1 (share of words)."""
    match = _AMOUNT.fullmatch(str(text))
    value = int(match.group(1)) if match else 0
    if not match or value < 1 or value > (100 if match.group(2) == "ptok" else MAX_ITEMS):
        where = f" in {name!r}" if name else ""
        raise ValueError(f"bad amount {str(text)!r}{where}: expected {{1..{MAX_ITEMS}}}tok or {{1..100}}ptok, e.g. 1tok, 10ptok")
    return value if match.group(2) == "tok" else value / 100


def _check_amount(amount) -> None:
    if isinstance(amount, float):
        if not 0 < amount <= 1 or abs(amount * 100 - round(amount * 100)) > 1e-9:
            raise ValueError(f"amount as a share of words must be a whole percent in (0, 1] (e.g. 0.05), got {amount}")
    elif isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_ITEMS:
        raise ValueError(f"amount must be an int in 1..{MAX_ITEMS} (items) or a float share of words, got {amount!r}")


def _parse_rate(part: str, name: str) -> int:
    match = _RATE.fullmatch(part)
    if not match or not 0 <= int(match.group(1)) <= 100:
        raise ValueError(f"bad rate {part!r} in {name!r}: expected {{0..100}}pct, e.g. 50pct")
    return int(match.group(1))


def _split_attack(name: str) -> tuple[str, str, str]:
    """``(base, attack, rest)``: the attack is the earliest ``-{attack}-`` of the name, the longest
    one where two start there (``backdoor-clean`` over ``backdoor``)."""
    found = [(name.find(f"-{a}-"), -len(a), a) for a in ATTACKS if f"-{a}-" in name]
    found += [(len(name) - len(a) - 1, -len(a), a) for a in ATTACKS if name.endswith(f"-{a}")]  # nothing after it
    if found:
        index, _, attack = min(found)
        return name[:index], attack, name[index + len(attack) + 2 :]
    # No attack: name the word where one should be, after the base (the longest registered base
    # the name starts with, else its first part), and guess from its first one or two parts.
    bases = [b for b in BASE_DATASETS if name.startswith(b + "-")]
    words = name[len(max(bases, key=len)) + 1 :].split("-") if bases else name.split("-")[1:] or [""]
    guesses = difflib.get_close_matches(words[0], ATTACKS, n=3) + difflib.get_close_matches("-".join(words[:2]), ATTACKS, n=3)
    hint = f" (did you mean {', '.join(dict.fromkeys(guesses))}?)" if guesses else ""
    grammars = "; ".join(spec.grammar for spec in ATTACKS.values())
    raise ValueError(
        f"unknown attack {words[0]!r} in {name!r}{hint}; valid: {', '.join(sorted(ATTACKS))}. Names are {grammars}"
    )


def _what_follows(spec: Attack) -> str:
    after = "the amount" if spec.trigger else "the rate"
    optional = [f"an optional location ({'|'.join(LOCATION_NAMES)})", "an optional div{k}"] if spec.trigger else []
    optional += ["an optional label{k}"] if spec.targeted else []
    if not optional:
        return f"nothing comes after {after} ({spec.name} has no trigger and no target label); expected {spec.grammar}"
    return f"after {after} come {' then '.join(optional)}"


def _label(config: SSTIConfig, label_names) -> str:
    return f"{config.label} (`{label_names[config.label]}`)"


def _choose(what: str, value: str, registry, name: str):
    """``registry[value]``, or a ValueError naming the bad value, close matches and the choices."""
    if value not in registry:
        close = difflib.get_close_matches(value, registry, n=3) if isinstance(value, str) else []
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        where = f" in {name!r}" if name != value else ""
        raise ValueError(f"unknown {what} {value!r}{where}{hint}; valid: {', '.join(sorted(registry))}")
    return registry[value]
