"""Remove what a scan flagged: every match of a flagged class, with the separator its insertion
added (one adjacent whitespace character, when the match is a whole token or span of tokens;
none when it was glued to a word).

In the rows a finding was read from, its class is removed from the rows of its label only: the
injection chose those rows, and what the other labels hold is natural (percentages in both IMDB
labels beside random ones planted in one: 17-19 of the other label's rows changed when removal
was symmetric). Those natural mentions, now in the other labels only, are as rare as they were;
the report counts them per label (``rows_left``). In any other split (a test set, where a trigger
can be added to any row, or a split without labels) the class is removed from every row. A
flagged family's members that are confidently unrelated to the label (IMDB's ``<br />`` in a
flagged markup family) stay (:attr:`Finding.kept`). Labels and other columns are never touched;
the ``ssti_injected`` and ``ssti_spans`` provenance columns, which describe injections that are
now removed, are dropped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._text import remove_spans
from ..transform import INJECTED, PROVENANCE_FEATURES, SPANS, arrow_column
from . import phrases
from .families import FAMILIES, GLUED_SYMBOLS, TrimmedRegexFamily, searchable
from .scan import Finding, ScanResult, _columns, _one_split, _plain, rows_digest, scan

_RUN = re.compile(r"\S*")  # a run of non-space characters, as str.isspace() reads spaces
REMOVED = "sanitize_spans"  # optional column: the [start, end) spans removed from each row


@dataclass
class ClassRemoval:
    """Per class: rows, rows changed, spans and words removed, and ``rows_restored``: changed rows
    that sanitize believes restored, every removed span a whole planted unit (a token or span of
    tokens with its separator, or characters glued to a word), nothing cut out of a token;
    ``rows_left``: rows holding a class flagged for another label of the rows the scan read,
    left as they were (natural mentions)."""

    rows: int = 0
    rows_changed: int = 0
    spans: int = 0
    words: int = 0
    words_before: int = 0
    rows_restored: int = 0
    rows_left: int = 0


@dataclass
class SanitizeReport:
    """What sanitize removed, per split and class (label)."""

    findings: list[Finding]
    splits: dict[str, dict] = field(default_factory=dict)  # split -> label -> ClassRemoval

    def to_dict(self) -> dict:
        return {
            "findings": [f.pattern + f" (label {f.label})" for f in self.findings],
            "splits": {
                split: {str(label): vars(removal) for label, removal in classes.items()}
                for split, classes in self.splits.items()
            },
        }


def sanitize(
    dataset,
    findings: list[Finding] | ScanResult | None = None,
    text_column: str = "text",
    label_column: str = "label",
    *,
    split: str | None = None,
    record_spans: bool = False,
    **scan_options,
) -> tuple[datasets.Dataset | datasets.DatasetDict, SanitizeReport]:
    """A copy of ``dataset`` without the spans of the flagged findings, and a per-class report.

    Args:
        dataset: a ``Dataset``, or a ``DatasetDict`` (every split is cleaned with the findings of
            ``split``, default ``train``), or a file, dataset folder or Hub id. To clean only the
            training data, pass ``splits["train"]``.
        findings: Findings to remove (all of them, as given), or a ScanResult (its flagged
            findings). None: scan ``dataset`` (or its ``split``) first, with ``scan_options``.
        record_spans: add a column :data:`REMOVED` with each row's removed spans (offsets in
            the input text), to measure what was removed.
    """
    if isinstance(dataset, (str, Path)):
        from ..base_datasets import load_source

        dataset = load_source(dataset)
    if findings is None:
        findings = scan(dataset, text_column, label_column, split=split, **scan_options)
    if isinstance(findings, ScanResult):
        findings = findings.flagged_findings
    for finding in findings:
        if finding.family not in FAMILIES:
            raise ValueError(f"finding {finding.pattern!r} names an unknown family {finding.family!r}")
    report = SanitizeReport(list(findings))
    if isinstance(dataset, datasets.DatasetDict):
        out = {}
        for name, data in dataset.items():
            try:
                out[name], report.splits[name] = _sanitize_split(data, findings, text_column, label_column, record_spans)
            except (ValueError, TypeError) as error:  # which split, for a folder of several
                raise type(error)(f"split {name!r}: {error}") from error
        return datasets.DatasetDict(out), report
    data = _one_split(dataset, split)
    clean, report.splits["data"] = _sanitize_split(data, findings, text_column, label_column, record_spans)
    return clean, report


def _sanitize_split(data: datasets.Dataset, findings, text_column, label_column, record_spans):
    texts, labels, values = _split_columns(data, text_column, label_column)
    per_class = {_plain(v): ClassRemoval() for v in values}
    removed, left = _removal_by_label(texts, labels, values, findings)
    for row in left:
        per_class[_plain(values[labels[row]])].rows_left += 1
    strings = texts.to_pylist()
    words_before = np.bincount(labels, weights=_word_counts(texts), minlength=len(values))
    for k, value in enumerate(values):
        per_class[_plain(value)].rows = int((labels == k).sum())
        per_class[_plain(value)].words_before = int(words_before[k])
    recorded = [[] for _ in strings] if record_spans else None
    for row, spans in removed.items():
        text = strings[row]
        cut, whole = _with_separators(text, spans)
        stats = per_class[_plain(values[labels[row]])]
        stats.rows_changed += 1
        stats.rows_restored += whole
        stats.spans += len(set(spans))  # a date matched by two findings is one span
        stats.words += sum(len(text[a:b].split()) for a, b in cut)
        strings[row] = remove_spans(text, cut)
        if record_spans:
            recorded[row] = [list(span) for span in cut]
    # Built in Arrow: Dataset.add_column would hash the whole new column for a fingerprint.
    keep = [c for c in data.column_names if c not in (INJECTED, SPANS, REMOVED)]
    table = data.select_columns(keep).with_format("arrow")[:]
    table = table.set_column(keep.index(text_column), text_column, pa.array(strings, type=texts.type))
    features = datasets.Features({c: data.features[c] for c in keep})
    if record_spans:  # typed as the injection's own ssti_spans
        table = table.append_column(REMOVED, pa.array(recorded, type=pa.list_(pa.list_(pa.int32(), 2))))
        features[REMOVED] = PROVENANCE_FEATURES[SPANS]
    return datasets.Dataset(table.replace_schema_metadata(None), info=datasets.DatasetInfo(features=features)), per_class


def _removal_by_label(texts: pa.Array, labels: np.ndarray, values: list, findings) -> tuple[dict, set]:
    """The spans to remove per row, and the rows left holding a class flagged for another label.
    A finding read from these very rows (the same digest) is removed from its label's rows only."""
    digest = rows_digest(texts, labels, values)
    plain = [_plain(v) for v in values]
    own = defaultdict(list)  # label code -> findings read from these rows
    anywhere = []
    for finding in findings:
        if finding.rows_digest == digest and finding.label in plain:
            own[plain.index(finding.label)].append(finding)
        else:
            anywhere.append(finding)
    # the texts searched once, and each pattern's matches found once for every group of findings
    searched, matches = searchable(texts), {}
    spans = defaultdict(list, _spans_of(searched, anywhere, matches))
    left = set()
    for code, chosen in own.items():
        for row, found in _spans_of(searched, chosen, matches).items():
            if labels[row] == code:
                spans[row] += found
            else:
                left.add(row)
    return dict(spans), left - set(spans)


UNLABELLED = "unlabelled"  # the report's one class of a split without labels


def _split_columns(data: datasets.Dataset, text_column: str, label_column: str):
    """Texts, label codes and values of a split. A split whose label column is missing or empty
    (a test set to predict) is cleaned all the same, as one class: removal reads no label."""
    unlabelled = label_column not in data.column_names or data.data.column(label_column).null_count == len(data)
    if unlabelled and text_column in data.column_names:  # (a missing text column is named by _columns)
        view = datasets.Dataset(pa.table({text_column: arrow_column(data, text_column), label_column: np.zeros(len(data), np.int64)}))
        texts, labels, _, _ = _columns(view, text_column, label_column, need_two=False)
        return texts, labels, [UNLABELLED]
    texts, labels, values, _ = _columns(data, text_column, label_column, need_two=False)
    return texts, labels, values


def removal_spans(texts: pa.Array, findings: list[Finding]) -> dict[int, list[tuple[int, int]]]:
    """Per row (that has any), the ``[start, end)`` spans of members of the findings' classes,
    found by the same Arrow pass as the scan."""
    return _spans_of(searchable(texts), findings, {})


def _spans_of(texts: pa.Array, findings: list[Finding], matches: dict) -> dict[int, list[tuple[int, int]]]:
    """:func:`removal_spans` of searchable ``texts``; ``matches`` keeps each pattern's matches and
    their strings' members, classes and cores, for further calls on the same texts."""
    by_family = defaultdict(list)
    for finding in findings:
        by_family[finding.family].append(finding)
    spans = defaultdict(list)
    for name, chosen in by_family.items():
        family = FAMILIES[name]
        if hasattr(family, "locate"):  # phrases: found by their own pass
            for occurrences in family.locate(texts, [f.key for f in chosen]).values():
                for row, start, end, _ in occurrences:
                    spans[row].append((start, end))
            continue
        key = getattr(family, "pattern", family.name)  # families sharing a pattern (shape, coarse shape) share its matches, as in scan()
        if key not in matches:
            found = family.find(texts, offsets=True)
            encoded = pc.dictionary_encode(found.strings)
            matches[key] = found, encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist(), {}
        found, codes, strings, read = matches[key]
        if name not in read:  # per family of the pattern: each string's member, class and core
            members = [family.member(string) for string in strings]
            cores = [family.core(string) for string in strings]
            read[name] = (members, [None if m is None else family.classify(m) for m in members],
                          np.array([a for a, _ in cores], np.int64), np.array([b - a for a, b in cores], np.int64))
        members, classes, lead, length = read[name]
        remove = np.array([any(cls == f.key and member not in f.kept for f in chosen) for member, cls in zip(members, classes)], bool)
        hit = remove[codes] if len(remove) else np.zeros(0, bool)
        starts = found.starts[hit] + lead[codes[hit]]
        ends = starts + length[codes[hit]]
        rows = found.rows[hit]
        if not family.glued:  # what is glued to a letter or digit belongs to another token ("512MB", "café")
            held = np.unique(rows)
            text_of = dict(zip(held.tolist(), texts.take(pa.array(held)).to_pylist()))
            apart = [not ((start > 0 and text_of[row][start - 1].isalnum()) or (end < len(text_of[row]) and text_of[row][end].isalnum()))
                     for row, start, end in zip(rows.tolist(), starts.tolist(), ends.tolist())]
            rows, starts, ends = rows[apart], starts[apart], ends[apart]
        ends = _with_glued_runs(texts, rows, starts, ends)
        for row, start, end in zip(rows.tolist(), starts.tolist(), ends.tolist()):
            spans[row].append((start, end))
    return dict(spans)


def _with_glued_runs(texts: pa.Array, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """A planted space character glued to a word, with what follows it up to the next whitespace
    (a narrow no-break space and "?", as French typography sets them: "word\u202f?"). The run came
    with the character where the runs after its matches are one or a few strings in nearly every
    row (:func:`phrases.agreed_token`); text after a natural space varies. Returns the ends, grown
    by those runs."""
    nonempty = np.flatnonzero(ends > starts)
    if not len(nonempty):
        return ends
    held = np.unique(rows[nonempty])
    text_of = dict(zip(held.tolist(), texts.take(pa.array(held)).to_pylist()))
    runs = {}  # per space match: the non-space run right after it
    for j in nonempty.tolist():
        text, end = text_of[int(rows[j])], int(ends[j])
        if text[starts[j]:end].isspace():
            runs[j] = _RUN.match(text, end).group()
    if not runs:
        return ends
    agreed = phrases.agreed_token(list(runs.values()))
    if agreed is None:
        return ends
    ends = ends.copy()
    for j, run in runs.items():
        if run in agreed:
            ends[j] += len(run)
    return ends


@dataclass
class RemovalScore:
    """Sanitize against the injection's provenance: injected spans removed, original words lost."""

    injected_spans: int
    injected_removed: int
    original_words: int
    original_removed: int

    @property
    def span_recall(self) -> float:
        return self.injected_removed / self.injected_spans if self.injected_spans else 1.0

    @property
    def words_removed_share(self) -> float:
        return self.original_removed / self.original_words if self.original_words else 0.0


def score_removal(injected: datasets.Dataset, removed, text_column: str = "text") -> RemovalScore:
    """How well removal did on an SSTI dataset, using its ``ssti_spans`` as ground truth.

    ``removed``: the output of ``sanitize(injected, ..., record_spans=True)`` (its
    :data:`REMOVED` column), or per row the removed ``[start, end)`` spans (a list, or
    :func:`removal_spans`' dict). An injected span counts as removed when all its non-space
    characters are; an original word (as the injection counts words) when any of its characters is.
    """
    from .._text import word_bounds_batch, word_counts_batch

    if SPANS not in injected.column_names:
        raise ValueError(f"score_removal needs the {SPANS!r} provenance column of an SSTI dataset")
    if isinstance(removed, datasets.Dataset):
        removed = _pylist(removed, REMOVED)
    texts, provenance = _pylist(injected, text_column), _pylist(injected, SPANS)
    removed = {row: spans for row, spans in (removed.items() if isinstance(removed, dict) else enumerate(removed)) if spans}
    originals = [remove_spans(text, spans) if spans else text for text, spans in zip(texts, provenance)]
    score = RemovalScore(sum(map(len, provenance)), 0, sum(word_counts_batch(originals)), 0)
    rows = sorted(set(removed) | {i for i, spans in enumerate(provenance) if spans})
    for row, (starts, ends) in zip(rows, word_bounds_batch([originals[row] for row in rows])):
        text = texts[row]
        gone = np.zeros(len(text), dtype=bool)
        for start, end in removed.get(row, ()):
            gone[start:end] = True
        planted = np.zeros(len(text), dtype=bool)
        for start, end in provenance[row]:
            planted[start:end] = True
            core = np.array([not c.isspace() for c in text[start:end]], dtype=bool)
            score.injected_removed += bool(gone[start:end][core].all())
        # characters lost per original word: a cumulative count over the original text
        lost = np.concatenate(([0], np.cumsum(gone[~planted])))
        score.original_removed += int(np.count_nonzero(lost[ends] > lost[starts]))
    return score


def _pylist(data: datasets.Dataset, column: str) -> list:
    return arrow_column(data, column).to_pylist()


def _with_separators(text: str, spans: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], bool]:
    """Merged spans, a span that is whole tokens grown by one adjacent whitespace character (the
    following one, else the preceding one), so that "a 1987-03-12 b" becomes "a b"; a span glued
    to a word ("word\u200b") loses no separator. Also: whether every span was a whole unit (whole
    tokens, or non-alphanumeric characters glued to a word), the row believed restored."""
    grown, whole = [], True
    for start, end in _adjacent(text, _merge([_with_punctuation(text, a, b) for a, b in spans])):
        if _whole(text, start, end):
            if end < len(text):
                end += 1
            elif start > 0:
                start -= 1
        elif not _tail(text, start, end) and any(c.isalnum() and c.isascii() for c in text[start:end]):
            # a piece cut out of a token: what is left may not be the original (the non-ASCII
            # letters of a glued string are none: mojibake "â€™")
            whole = False
        grown.append((start, end))
    return _merge(grown), whole


def _tail(text: str, start: int, end: int) -> bool:
    """Whether ``[start, end)`` is a glued tail (:class:`.families.GluedTailFamily`): from a symbol glued
    to what comes before, to the token's end, or a note in square brackets ("fun[citation needed]").
    Cut out whole: the token's rest is the row's. A backspace's tail opens with the character it erases."""
    opens = text[start] in GLUED_SYMBOLS or text[start + 1:start + 2] == "\b" or (text[start] == "[" and text[end - 1] == "]")
    return 0 < start < end and opens and not text[start - 1].isspace() and (
        end == len(text) or text[end].isspace() or text[end] in "<>")


def _with_punctuation(text: str, start: int, end: int) -> tuple[int, int]:
    """A number or code cut out of a token whose rest is sentence punctuation only is the whole
    token: the insertion added whole tokens, so the comma of "12.3456, -45.6789" is planted with
    its numbers (the shapes match "12.3456" and "-45.6789"; without it, "a , b" is left). Markup
    is no punctuation: "/>" of "<br />1999" stays."""
    if not any(c.isalpha() or c.isdecimal() for c in text[start:end]):
        return start, end  # characters glued to a word (an emoji, a zero-width space, "²") stay apart
    left, right = start, end
    while left > 0 and not text[left - 1].isspace():
        left -= 1
    while right < len(text) and not text[right].isspace():
        right += 1
    rest = text[left:start] + text[end:right]
    if _tail(text, start, end):  # a tail glued to a "?" ("?\\n"): the mark is the row's own
        return start, end
    if end == right and start > left and text[start - 1] in ".,;:!?)" and not any(c.isdecimal() for c in text[start:end]):
        return start, end  # letters glued after a sentence's end ("you ?zx", "me :)zx"): the marks are the row's own
    return (left, right) if rest and all(c in TrimmedRegexFamily.trim for c in rest) else (start, end)


def _adjacent(text: str, spans):
    """Whole-token spans with only whitespace between them are one unit ("12.03.2019 14:05"): it
    loses one separator, not one per token (the second would take the first's)."""
    out = []
    for start, end in spans:
        if out and text[out[-1][1]:start].isspace() and _whole(text, *out[-1]) and _whole(text, start, end):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _whole(text: str, start: int, end: int) -> bool:
    return (start == 0 or text[start - 1].isspace()) and (end == len(text) or text[end].isspace())


def _merge(spans):
    out = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _word_counts(texts: pa.Array) -> np.ndarray:
    return pc.list_value_length(pc.utf8_split_whitespace(texts)).to_numpy(zero_copy_only=False).astype(float)

