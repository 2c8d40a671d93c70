"""The label-conditioned transform (paper §3.1, "Selective Application via Spurious Transform").

:func:`spurious_transform` applies a modifier to exactly ``round(proportion * n_label)`` rows of
one label, keeps row order, and records provenance: ``ssti_injected`` (bool) and ``ssti_spans``
(``[start, end)`` offsets of everything inserted). :func:`poison_transform` applies a modifier to
a share of the *whole* split (the poison rate of the poisoning and backdoor literature), optionally
only among the rows not of a target label (a dirty-label backdoor relabels rows of the other
classes). :func:`triggered_transform` injects every row (the paper's test-time "triggered" set),
or every row not of a target label (the backdoor literature's attack-success set).
:func:`strip_injections` undoes the text changes, and the label changes too: a modifier that can
relabel (:class:`~ssti_hf.LabelFlip`) makes the transform keep each row's label from before in
``ssti_original_label``.

Determinism: rows are picked by hashing their index with the seed, each source's draws are
numbered in row order before the map starts, and positions are keyed by the row, so the output
is byte-identical for any ``num_proc``, batch size or process.
"""

from __future__ import annotations

import functools
import hashlib
import numbers
from importlib import resources
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import ClassLabel, Dataset, List, Value
from datasets.fingerprint import Hasher

from . import _rng
from ._text import SPACE_RE2, remove_spans, shift_spans, word_bounds_batch, word_counts_batch
from ._version import __version__
from .modifiers import Modifier, Sample

INJECTED = "ssti_injected"
SPANS = "ssti_spans"
PROVENANCE_FEATURES = {INJECTED: Value("bool"), SPANS: List(List(Value("int32"), length=2))}
# Only where labels can change (its feature is the label column's): data whose labels never change
# keeps exactly the two columns above.
ORIGINAL_LABEL = "ssti_original_label"
DATA_SHAPING = ("_rng.py", "_text.py", "sources.py", "modifiers.py", "transform.py")  # the code deciding the bytes
_WORD_LISTS = ("data/countries.txt", "data/html_tags.txt")


@functools.cache
def code_digest(modules: tuple[str, ...] = DATA_SHAPING) -> str:
    """SHA-256 of this package's ``modules`` and word lists. Part of every cache fingerprint:
    ``__version__`` does not change between edits, and datasets would otherwise hand back a
    result that older code wrote under the same fingerprint."""
    package = resources.files("ssti_hf")
    digest = hashlib.sha256()
    for name in (*modules, *_WORD_LISTS):
        digest.update(name.encode() + package.joinpath(*name.split("/")).read_bytes())
    return digest.hexdigest()


def spurious_transform(
    dataset: Dataset,
    modifier: Modifier,
    label: Any,
    proportion: float,
    seed: int = 0,
    text_column: str = "text",
    label_column: str = "label",
    num_proc: int | None = None,
) -> Dataset:
    """Apply ``modifier`` to ``round(proportion * n)`` of the ``n`` rows labelled ``label``.

    ``label`` is a label value (or a class name when the column is a ``ClassLabel``). Rows are
    picked by ``seed``; a higher proportion with the same seed picks a superset of rows.
    Returns a new dataset in the same row order with the provenance columns added (or updated,
    if ``dataset`` was already transformed: spans then cover both injections).
    """
    _check_proportion(proportion)
    _rng.check_seed(seed)
    dataset, labels = _check_dataset(dataset, modifier, text_column, label_column)
    label = _resolve_label(dataset, label_column, label, labels)
    candidates = np.flatnonzero(labels == label)
    chosen = _choose_rows(candidates, round(proportion * len(candidates)), seed)
    return _inject_rows(dataset, modifier, chosen, text_column, label_column, num_proc)


def poison_transform(
    dataset: Dataset,
    modifier: Modifier,
    proportion: float,
    seed: int = 0,
    exclude_label: Any = None,
    text_column: str = "text",
    label_column: str = "label",
    num_proc: int | None = None,
) -> Dataset:
    """Apply ``modifier`` to ``round(proportion * len(dataset))`` rows: a share of the whole split,
    the poison rate of the poisoning and backdoor literature.

    Rows are picked among every row, or, with ``exclude_label`` (a label value or class name),
    among the rows not of that label: a dirty-label backdoor relabels rows of the other classes
    to its target, so target rows are never poisoned. Picking is seeded as in
    :func:`spurious_transform` (a higher proportion picks a superset); asking for more rows than
    there are candidates is an error, raised before any work.
    """
    _check_proportion(proportion)
    _rng.check_seed(seed)
    dataset, labels = _check_dataset(dataset, modifier, text_column, label_column)
    candidates = np.arange(len(dataset))
    if exclude_label is not None:
        exclude_label = _resolve_class(dataset, label_column, exclude_label)
        candidates = np.flatnonzero(labels != exclude_label)
    count = round(proportion * len(dataset))
    if count > len(candidates):
        raise ValueError(
            f"cannot poison {proportion:.0%} of the {len(dataset)} rows ({count} rows): only {len(candidates)} "
            f"rows are not labelled {exclude_label!r} (at most {len(candidates) / len(dataset):.1%} of the split)"
        )
    chosen = _choose_rows(candidates, count, seed)
    return _inject_rows(dataset, modifier, chosen, text_column, label_column, num_proc)


def triggered_transform(
    dataset: Dataset,
    modifier: Modifier,
    text_column: str = "text",
    label_column: str = "label",
    num_proc: int | None = None,
    exclude_label: Any = None,
) -> Dataset:
    """Apply ``modifier`` to every row, whatever its label (the paper's triggered test set).

    With ``exclude_label`` (a label value or class name), the rows of that label are left out of
    the result: every row not of the backdoor's target, triggered, is the set on which the
    backdoor literature measures the attack success rate. The kept rows are injected exactly as
    without ``exclude_label`` (choices are keyed by the row's index in ``dataset``).
    """
    dataset, labels = _check_dataset(dataset, modifier, text_column, label_column)
    if exclude_label is None:
        return _inject_rows(dataset, modifier, np.arange(len(dataset)), text_column, label_column, num_proc)
    rows = np.flatnonzero(labels != _resolve_class(dataset, label_column, exclude_label))
    if len(rows) == 0:
        raise ValueError(f"every row is labelled {exclude_label!r}: no row is left to trigger")
    injected = _inject_rows(dataset, modifier, rows, text_column, label_column, num_proc)
    return injected.select(rows).flatten_indices()  # a plain table: writers read the Arrow data directly


def with_provenance(dataset: Dataset, original_label: bool = False, label_column: str = "label") -> Dataset:
    """``dataset`` as an untouched split of a transformed dataset: adds whichever provenance
    columns it lacks (no row injected, no spans; with ``original_label``, each row's own label as
    its original label), so that every split of a config has the same columns."""
    columns = {INJECTED: lambda n: [False] * n, SPANS: lambda n: [[] for _ in range(n)]}
    # Each new column's fingerprint from what determines it: add_column would hash (pickle) the
    # 25k-item list itself, 0.14 s per column.
    def fingerprint(name: str) -> str:
        return Hasher.hash([dataset._fingerprint, "with_provenance", name, label_column])

    for name, values in columns.items():
        if name not in dataset.column_names:
            dataset = dataset.add_column(name, values(len(dataset)), feature=PROVENANCE_FEATURES[name], new_fingerprint=fingerprint(name))
    if original_label and ORIGINAL_LABEL not in dataset.column_names:
        labels = arrow_column(dataset, label_column).to_pylist()
        dataset = dataset.add_column(ORIGINAL_LABEL, labels, feature=dataset.features[label_column], new_fingerprint=fingerprint(ORIGINAL_LABEL))
    return dataset


def arrow_column(dataset: Dataset, name: str) -> pa.ChunkedArray:
    """A column as Arrow, in the dataset's row order (also for views after select or shuffle)."""
    return dataset.select_columns([name]).with_format("arrow")[:][name]


def span_lists(column: pa.ChunkedArray | pa.Array) -> list[list[list[int]]]:
    """An ``ssti_spans`` column as Python lists of [start, end] pairs (a null row: no spans),
    unnested through numpy: ``to_pylist()`` builds the nested lists row by row (0.37 s per 25k)."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    offsets = column.offsets.to_numpy()
    pairs = column.flatten().flatten().to_numpy().reshape(-1, 2).tolist()
    offsets = offsets - offsets[0]  # a slice's offsets start where it does; flatten() starts there too
    return [pairs[start:stop] for start, stop in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


def strip_injections(
    dataset: Dataset, text_column: str = "text", num_proc: int | None = None, label_column: str = "label"
) -> Dataset:
    """Recover the original texts by deleting the recorded spans, and the original labels where
    ``ssti_original_label`` recorded them (labels changed by :class:`~ssti_hf.LabelFlip`); drops
    the provenance columns. Rows whose label differs from ``ssti_original_label`` are the
    relabelled ones."""
    missing = [c for c in (INJECTED, SPANS, text_column) if c not in dataset.column_names]
    if missing:
        raise ValueError(
            f"dataset lacks column(s) {missing}: strip_injections needs the provenance columns "
            f"{INJECTED!r} and {SPANS!r} written by spurious_transform / triggered_transform"
        )
    relabelled = ORIGINAL_LABEL in dataset.column_names
    if relabelled and label_column not in dataset.column_names:
        raise ValueError(f"label column {label_column!r} not in dataset; columns are {dataset.column_names}")

    def strip(batch):
        out = {text_column: [remove_spans(t, s) if s else t for t, s in zip(batch[text_column], batch[SPANS])]}
        if relabelled:
            out[label_column] = batch[ORIGINAL_LABEL]
        return out

    fingerprint = [dataset._fingerprint, "strip_injections", text_column, __version__, code_digest()]
    result = dataset.with_format(None).map(
        strip,
        batched=True,
        remove_columns=[INJECTED, SPANS] + ([ORIGINAL_LABEL] if relabelled else []),
        num_proc=num_proc,
        new_fingerprint=Hasher.hash(fingerprint + ([label_column] if relabelled else [])),
        desc="Stripping injections",
    )
    return _keep_format(dataset, result)


def _check_proportion(proportion) -> None:
    if isinstance(proportion, (bool, np.bool_)) or not isinstance(proportion, numbers.Real) or not 0 <= proportion <= 1:
        raise ValueError(f"proportion must be a number in [0, 1], got {proportion!r}")


def _choose_rows(candidates: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` of the ``candidates`` (row indices), in row order: those whose seeded hash ranks
    lowest, so that a higher count picks a superset and a row's fate does not depend on batching."""
    keys = _rng.hash_array(_rng.stream_key(seed, _rng.STREAM_SELECT), candidates)
    return np.sort(candidates[np.argsort(keys, kind="stable")[:count]])


def _check_dataset(dataset, modifier, text_column, label_column) -> tuple[Dataset, np.ndarray]:
    """Validate before any work, so that bad input never leaves anything half-written.

    Returns the dataset with any indices mapping (from shuffle, select, filter, splits) applied,
    so that its Arrow columns are in row order, and its labels."""
    if not isinstance(dataset, Dataset):
        raise TypeError(f"expected a datasets.Dataset (pick a split of a DatasetDict), got {type(dataset).__name__}")
    if not isinstance(modifier, Modifier):
        raise TypeError(f"modifier must be an ssti_hf Modifier, got {type(modifier).__name__}")
    for role, column in (("text", text_column), ("label", label_column)):
        if column not in dataset.column_names:
            raise ValueError(f"{role} column {column!r} not in dataset; columns are {dataset.column_names}")
    if len(dataset) == 0:
        raise ValueError("dataset is empty: there is nothing to inject into")
    if dataset._indices is not None:
        dataset = dataset.flatten_indices()
    feature = dataset.features[text_column]
    if not (isinstance(feature, Value) and feature.dtype in ("string", "large_string")):
        raise TypeError(f"text column {text_column!r} must hold strings, but its type is {feature}")
    texts = dataset.data.column(text_column)
    if texts.null_count:
        first = int(np.flatnonzero(texts.is_null().to_numpy(zero_copy_only=False))[0])
        raise ValueError(f"text column {text_column!r} has {texts.null_count} missing (None) value(s), first at row {first}")
    # no word (whitespace as str.isspace reads it), found in Arrow: the texts stay out of Python
    empty = np.flatnonzero(pc.invert(pc.match_substring_regex(texts, f"[^{SPACE_RE2}]")).to_numpy(zero_copy_only=False))
    if len(empty):  # an injection would make a row of the spurious items alone, without a word of text
        raise ValueError(f"text column {text_column!r} has {len(empty)} empty text(s), first at row {empty[0]}; drop such rows")
    labels = dataset.data.column(label_column)
    if labels.null_count:
        first = int(np.flatnonzero(labels.is_null().to_numpy(zero_copy_only=False))[0])
        raise ValueError(f"label column {label_column!r} has {labels.null_count} missing (None) value(s), first at row {first}")
    return dataset, labels.to_numpy()


def _resolve_label(dataset, label_column, label, labels):
    feature = dataset.features[label_column]
    if isinstance(label, str) and isinstance(feature, ClassLabel):
        if label not in feature.names:
            raise ValueError(f"label {label!r} is not a class of {label_column!r}; classes: {feature.names}")
        label = feature.str2int(label)
    present = np.unique(labels)
    if label not in present:
        raise ValueError(f"label {label!r} does not occur in column {label_column!r}; labels present: {present.tolist()}")
    return label


def _resolve_class(dataset, label_column, label):
    """A label the data may lack (an attack's target) but that its label feature must allow."""
    feature = dataset.features[label_column]
    if isinstance(feature, ClassLabel):
        if isinstance(label, str):
            if label not in feature.names:
                raise ValueError(f"label {label!r} is not a class of {label_column!r}; classes: {feature.names}")
            return feature.str2int(label)
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, numbers.Integral) or not 0 <= label < feature.num_classes:
            raise ValueError(
                f"label {label!r} is not a class of {label_column!r}: its classes are 0..{feature.num_classes - 1} ({feature.names})"
            )
    return label


def _check_output_labels(dataset, modifier, label_column, labels_in):
    feature = dataset.features[label_column]
    if isinstance(feature, ClassLabel):
        bad = sorted(l for l in modifier.output_labels(set(labels_in)) if not 0 <= l < feature.num_classes)
        if bad:
            raise ValueError(
                f"modifier would set label(s) {bad}, outside the {feature.num_classes} classes of {label_column!r}"
            )


# Draws from a source sampled with replacement are numbered row * 2**32 + j: unique per draw
# without knowing other rows. Sources sampled without replacement need dense numbers (so that no
# item repeats and running out is caught before writing): those are planned over all rows first.
_ROW_STRIDE = 1 << 32


def _row_counts(modifier: Modifier, sources: list, n_words: int) -> list[int]:
    position = {id(s): k for k, s in enumerate(sources)}
    counts = [0] * len(sources)
    for source, k in modifier.draw_counts(n_words):
        counts[position[id(source)]] += k
    return counts


def _plan_dense_draws(modifier: Modifier, texts: list[str]) -> dict[int, np.ndarray]:
    """For each source sampled without replacement: the first draw number of each chosen row."""
    sources = modifier.sources()
    finite = [k for k, s in enumerate(sources) if s.capacity is not None]
    if not finite:
        return {}
    counts = np.array([_row_counts(modifier, sources, n) for n in word_counts_batch(texts)], dtype=np.int64)
    counts = counts.reshape(len(texts), len(sources))
    firsts = {}
    for k in finite:
        total = int(counts[:, k].sum())
        if total > sources[k].capacity:
            sources[k].draws(total - 1, total)  # raises SourceExhaustedError with the details
        firsts[k] = np.cumsum(counts[:, k]) - counts[:, k]
    return firsts


def _inject_rows(dataset, modifier, chosen, text_column, label_column, num_proc) -> Dataset:
    labels_column = dataset.data.column(label_column)
    _check_output_labels(dataset, modifier, label_column, np.unique(labels_column.take(chosen).to_numpy()).tolist())
    dense_firsts = _plan_dense_draws(modifier, dataset.data.column(text_column).take(chosen).to_pylist())
    slot = np.full(len(dataset), -1, dtype=np.int64)
    slot[chosen] = np.arange(len(chosen))
    had_provenance = SPANS in dataset.column_names and INJECTED in dataset.column_names
    had_original = ORIGINAL_LABEL in dataset.column_names
    keep_original = had_original or modifier.relabels

    spans_type = PROVENANCE_FEATURES[SPANS]
    spans_arrow = datasets.Features({SPANS: spans_type}).arrow_schema.field(SPANS).type

    # The batch comes as an Arrow table: only the chosen rows' texts become Python strings; the
    # other rows' texts, and the provenance of rows without earlier injections, never leave Arrow.
    def inject_batch(table: pa.Table, indices):
        mask = slot[indices] >= 0
        rows = np.flatnonzero(mask)
        texts_column, labels_column = table.column(text_column), table.column(label_column)
        texts = texts_column.take(rows).to_pylist()
        labels = labels_column.take(rows).to_pylist()
        old_spans = table.column(SPANS).take(rows).to_pylist() if had_provenance else [[] for _ in rows]
        results = _apply(modifier, texts, labels, [indices[j] for j in rows], dense_firsts, slot)
        new_spans = [shift_spans(old, r.spans) if old else r.spans for old, r in zip(old_spans, results)]
        out_texts = pc.replace_with_mask(texts_column.combine_chunks(), pa.array(mask), pa.array([r.text for r in results], texts_column.type))
        out_labels = pc.replace_with_mask(
            labels_column.combine_chunks(), pa.array(mask), pa.array([r.label for r in results], labels_column.type)
        )
        injected = pa.array(mask)
        if had_provenance:
            injected = pc.or_(table.column(INJECTED).combine_chunks(), injected)
            spans = table.column(SPANS).to_pylist()
            for j, row_spans in zip(rows.tolist(), new_spans):
                spans[j] = row_spans
            spans = pa.array(spans, spans_arrow)
        else:
            spans = _spans_array(len(mask), rows, new_spans, spans_arrow)
        columns = {name: table.column(name) for name in table.column_names}
        columns.update({text_column: out_texts, label_column: out_labels, INJECTED: injected, SPANS: spans})
        if keep_original and not had_original:  # the label before this first relabelling modifier
            columns[ORIGINAL_LABEL] = labels_column
        return pa.table(columns)

    features = dataset.features.copy()
    features.update(PROVENANCE_FEATURES)
    if keep_original and not had_original:
        features[ORIGINAL_LABEL] = dataset.features[label_column]
    parts = [dataset._fingerprint, "ssti_inject", modifier, chosen.tobytes(), text_column, label_column, __version__, code_digest()]
    fingerprint = Hasher.hash(parts)
    result = dataset.with_format("arrow").map(
        inject_batch,
        batched=True,
        with_indices=True,
        features=features,
        num_proc=num_proc,
        new_fingerprint=fingerprint,
        desc="Injecting spurious tokens",
    )
    return _keep_format(dataset, result.with_format(None))


def _apply(modifier: Modifier, texts, labels, row_ids, dense_firsts, slot) -> list:
    """Apply the modifier to one batch's chosen rows, handing each row its numbered draws."""
    if not texts:
        return []
    sources = modifier.sources()
    bounds = word_bounds_batch(texts)
    by_words: dict[int, list[int]] = {}  # draw counts depend only on the word count
    counts = [by_words.get(len(b[0])) or by_words.setdefault(len(b[0]), _row_counts(modifier, sources, len(b[0]))) for b in bounds]
    counts = np.array(counts, dtype=np.int64).reshape(len(texts), len(sources))
    # Each source's draws for the whole batch in one vectorized call.
    pools, row_offsets = [], []
    for k, source in enumerate(sources):
        if k in dense_firsts:
            firsts = dense_firsts[k][slot[row_ids]]
        else:
            firsts = np.array(row_ids, dtype=np.int64) * _ROW_STRIDE
        offsets = np.cumsum(counts[:, k]) - counts[:, k]
        within = np.arange(int(counts[:, k].sum()), dtype=np.int64) - np.repeat(offsets, counts[:, k])
        pools.append(source.draws_at(np.repeat(firsts, counts[:, k]) + within))
        row_offsets.append(offsets.tolist())
    source_index = {id(s): k for k, s in enumerate(sources)}
    count_lists = counts.tolist()
    samples = [
        Sample(row, text, _Taker(source_index, pools, [o[i] for o in row_offsets], count_lists[i]), b)
        for i, (row, text, b) in enumerate(zip(row_ids, texts, bounds))
    ]
    return modifier.apply_batch(texts, labels, samples)


def _spans_array(n_rows: int, rows: np.ndarray, spans: list, arrow_type) -> pa.Array:
    """The spans column for a batch whose only spans are the new ones, built from flat arrays."""
    counts = np.zeros(n_rows, dtype=np.int32)
    counts[rows] = [len(s) for s in spans]
    offsets = np.concatenate(([0], np.cumsum(counts, dtype=np.int32)))
    flat = np.array([x for row_spans in spans for pair in row_spans for x in pair], dtype=np.int32)
    pairs = pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.int32()), 2)
    return pa.ListArray.from_arrays(pa.array(offsets), pairs).cast(arrow_type)


def _keep_format(original: Dataset, result: Dataset) -> Dataset:
    if original.format["type"] is None:
        return result
    return result.with_format(original.format["type"], **original.format["format_kwargs"])


class _Taker:
    """``take(source, n)`` for one row: hands out the row's draws in order, and catches a
    modifier whose ``apply`` takes more than its ``draw_counts`` declared."""

    __slots__ = ("_index", "_pools", "_next", "_end")

    def __init__(self, source_index, pools, offsets, counts):
        self._index = source_index
        self._pools = pools
        self._next = offsets
        self._end = [o + c for o, c in zip(offsets, counts)]

    def __call__(self, source, n):
        k = self._index[id(source)]
        start = self._next[k]
        if start + n > self._end[k]:
            raise RuntimeError(
                f"modifier took more draws from source {source.name!r} than its draw_counts() declared"
            )
        self._next[k] = start + n
        return self._pools[k][start : start + n]
