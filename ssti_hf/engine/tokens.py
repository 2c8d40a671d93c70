"""Token ids of injected texts, spliced from their clean texts' tokens.

An injection only inserts strings at word gaps, and ``ssti_spans`` records where. With BERT's
pre-tokenizer (split at whitespace and punctuation) and WordPiece, the tokens of an injected text
are the clean text's tokens before the gap, the inserted string's tokens, and the clean tokens
after it. So a config's spurious and triggered test sets need only the clean set tokenized (once,
kept on disk) plus the short inserted strings: tokenizing is the slowest part of a run on a
machine with few fast cores. A row whose gap is not a token boundary is tokenized in full, and a
tokenizer of another kind is never spliced. Tests compare with full tokenization row by row.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import os
import tempfile
import threading
import unicodedata
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._text import remove_spans

_MEMORY: dict = {}  # cache key -> CleanTokens, the last few per process
_MAKING: dict = {}  # cache key -> Future of the CleanTokens a thread is making now
_LOCK = threading.Lock()


@dataclass
class CleanTokens:
    """Truncated token ids of clean texts (special tokens included), and each content token's
    first character (for splicing; None when the tokenizer cannot be spliced)."""

    ids: list[np.ndarray]
    starts: list[np.ndarray] | None


@contextlib.contextmanager
def paused_gc():
    """The cyclic garbage collector paused while token sets are built: they are tens of thousands
    of small, acyclic objects, whose allocations set off full collections over a run's whole heap
    (up to 0.7 s per test-set plan on IMDB)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def can_splice(tokenizer) -> bool:
    """BERT-style fast tokenizers: context never crosses whitespace or punctuation."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or type(backend.pre_tokenizer).__name__ != "BertPreTokenizer":
        return False
    if type(backend.model).__name__ != "WordPiece":
        return False
    normalizer = json.loads(backend.to_str()).get("normalizer") or {}
    if normalizer.get("type") != "BertNormalizer" or not normalizer.get("clean_text") or not normalizer.get("handle_chinese_chars"):
        return False  # _boundary assumes BERT's own normalizer: control characters deleted, CJK split
    cls_sep = tokenizer("a")["input_ids"]
    return len(cls_sep) == 3 and tokenizer.cls_token_id == cls_sep[0] and tokenizer.sep_token_id == cls_sep[-1]


def encode(tokenizer, texts: list[str], max_length: int) -> list[np.ndarray]:
    """Token ids, truncated to ``max_length`` (ids only: masks and type ids cost Python time)."""
    if not texts:
        return []
    ids = tokenizer(texts, truncation=True, max_length=max_length, return_attention_mask=False, return_token_type_ids=False)["input_ids"]
    return [np.asarray(row, dtype=np.int32) for row in ids]


def clean_tokens(tokenizer, texts: list[str], max_length: int, cache_dir: str | os.PathLike | None = None) -> CleanTokens:
    """:class:`CleanTokens` of ``texts``, kept per process and, with ``cache_dir``, on disk (keyed
    by the texts, the tokenizer's definition and ``max_length``), so a sweep tokenizes each
    clean set once. A thread asking for tokens that another thread is making waits for them
    (a sweep makes its base data's in the background, :func:`ssti_hf.engine.stacked.prepare_stacked`)."""
    key = _key(tokenizer, texts, max_length)
    with _LOCK:
        if key in _MEMORY:
            return _MEMORY[key]
        making = _MAKING.get(key)
        if making is None:
            making = _MAKING[key] = Future()
            mine = True
        else:
            mine = False
    if not mine:
        return making.result()
    try:
        path = Path(cache_dir) / f"{key}.npz" if cache_dir else None
        if path is not None and path.is_file():
            tokens = _load(path)
        else:
            tokens = _tokenize_clean(tokenizer, texts, max_length)
            if path is not None:
                _save(path, tokens)
        with _LOCK:
            while len(_MEMORY) >= 4:
                _MEMORY.pop(next(iter(_MEMORY)))
            _MEMORY[key] = tokens
        making.set_result(tokens)
        return tokens
    except BaseException as error:
        making.set_exception(error)
        raise
    finally:
        with _LOCK:
            del _MAKING[key]


def splice(tokenizer, clean: CleanTokens, clean_texts: list[str], rows: np.ndarray, texts: list[str], spans: list, max_length: int) -> list[np.ndarray]:
    """Token ids of injected ``texts`` (``texts[j]`` is ``clean_texts[rows[j]]`` with ``spans[j]``
    inserted), from the clean tokens; rows that cannot be spliced are tokenized in full."""
    if clean.starts is None:
        return encode(tokenizer, texts, max_length)
    inserted = [text[s:e] for text, row_spans in zip(texts, spans) for s, e in row_spans or ()]
    # Each distinct inserted string tokenized once: a config injects a few hundred distinct tokens
    # into tens of thousands of rows, and each encoding costs Python time on the way back.
    distinct = list(dict.fromkeys(inserted))
    encoded = tokenizer(distinct, add_special_tokens=False, return_attention_mask=False, return_token_type_ids=False)["input_ids"] if distinct else []
    ids_of = {string: np.asarray(ids, dtype=np.int32) for string, ids in zip(distinct, encoded)}
    inserted_ids = [ids_of[string] for string in inserted]
    room = max_length - 2  # [CLS] content [SEP]
    cls, sep = np.asarray([tokenizer.cls_token_id], dtype=np.int32), np.asarray([tokenizer.sep_token_id], dtype=np.int32)
    first = np.cumsum([0] + [len(row_spans or ()) for row_spans in spans])  # each row's first inserted string
    out: list[np.ndarray | None] = []
    full = []  # rows whose gaps are not token boundaries
    for j, (row, text, row_spans) in enumerate(zip(rows, texts, spans)):
        base, starts, original = clean.ids[row][1:-1], clean.starts[row], clean_texts[row]
        if not row_spans or remove_spans(text, row_spans) != original:  # not this clean row plus these spans
            out.append(None)
            full.append(j)
            continue
        pieces, taken, shift = [cls], 0, 0
        for m, (s, e) in enumerate(row_spans):
            gap = s - shift  # where the span goes in the clean text
            if not _boundary_gap(original, gap, text[s:e]):
                out.append(None)
                full.append(j)
                break
            k = int(starts.searchsorted(gap))
            pieces += [base[taken:k], inserted_ids[first[j] + m]]
            taken, shift = k, shift + e - s
        else:
            pieces += [base[taken:], sep]
            spliced = np.concatenate(pieces)
            if len(spliced) > room + 2:  # truncated like the tokenizer: [CLS], room tokens, [SEP]
                spliced = spliced[: room + 2]
                spliced[-1] = sep[0]
            out.append(spliced)
    for j, ids in zip(full, encode(tokenizer, [texts[j] for j in full], max_length)):
        out[j] = ids
    return out


def spliced_tokens(tokenizer, clean: CleanTokens, clean_texts: list[str], rows: np.ndarray, texts: list[str], spans: list,
                   max_length: int, cache_dir: str | os.PathLike | None = None) -> list[np.ndarray]:
    """:func:`splice`, kept on disk with ``cache_dir`` (keyed by the injected texts, which alone fix
    their tokens): a config's injected rows are spliced once, and every later run of the config
    (a sweep's other ranks, a rerun) reads them back (0.7 s of Python per run on IMDB's test sets)."""
    path = Path(cache_dir) / f"spliced-{_key(tokenizer, texts, max_length)}.npz" if cache_dir and texts else None
    if path is not None and path.is_file():
        return _load(path).ids
    ids = splice(tokenizer, clean, clean_texts, rows, texts, spans, max_length)
    if path is not None:
        _save(path, CleanTokens(ids, None))
    return ids


def split_tokens(tokenizer, texts: list[str], spans: list, max_length: int, cache_dir: str | os.PathLike | None = None) -> list[np.ndarray]:
    """Token ids of every row of an SSTI split, given each row's injected spans (empty for a row the
    injection left alone): the clean texts' tokens (kept, see :func:`clean_tokens`) with the
    injected rows spliced. Every config built on one base split shares its clean tokens."""
    injected = np.asarray([i for i, row_spans in enumerate(spans) if row_spans], dtype=np.int64)
    clean_texts = without_spans(texts, spans)
    clean = clean_tokens(tokenizer, clean_texts, max_length, cache_dir)
    ids = list(clean.ids)
    spliced = spliced_tokens(tokenizer, clean, clean_texts, injected, [texts[i] for i in injected], [spans[i] for i in injected],
                             max_length, cache_dir)
    for i, row in zip(injected, spliced):
        ids[i] = row
    return ids


def without_spans(texts: list[str], spans: list) -> list[str]:
    """The clean texts of a split: each row with its injected spans removed."""
    return [remove_spans(text, row_spans) if row_spans else text for text, row_spans in zip(texts, spans)]


def pad_batch(ids, multiple: int, max_length: int, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pad` to the longest row rounded up to a multiple of ``multiple`` (few batch shapes, for
    CUDA graphs), never past ``max_length``."""
    return pad(ids, min(-(-max(map(len, ids)) // multiple) * multiple, max_length), pad_id)


def pad(ids, width: int, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Token id rows padded on the right to ``width``: (input_ids, attention_mask), int64."""
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for i, row in enumerate(ids):
        input_ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return input_ids, mask


# -- internals ---------------------------------------------------------------------------------
def _boundary(char: str) -> bool:
    """Where BERT's pre-tokenizer always splits: whitespace, punctuation, CJK characters."""
    # Whitespace as BERT reads it: the control characters that str.isspace() also counts
    # (\x0b, \x85, ...) are deleted by its normalizer, so they join their neighbours instead.
    if char in "\t\n\r" or (char.isspace() and unicodedata.category(char)[0] == "Z") or unicodedata.category(char).startswith("P"):
        return True
    cp = ord(char)
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 or 0x4E00 <= cp <= 0x9FFF


def _boundary_gap(clean: str, gap: int, inserted: str) -> bool:
    """The gap splits no clean pre-token, and the inserted string merges with neither neighbour."""
    if not inserted:
        return False
    left = clean[gap - 1] if gap > 0 else None
    right = clean[gap] if gap < len(clean) else None
    if left is not None and right is not None and not (_boundary(left) or _boundary(right)):
        return False
    if left is not None and not (_boundary(left) or _boundary(inserted[0])):
        return False
    return right is None or _boundary(right) or _boundary(inserted[-1])


def _tokenize_clean(tokenizer, texts: list[str], max_length: int) -> CleanTokens:
    if not can_splice(tokenizer):
        return CleanTokens(encode(tokenizer, texts, max_length), None)
    encoded = tokenizer(texts, truncation=True, max_length=max_length, return_offsets_mapping=True,
                        return_attention_mask=False, return_token_type_ids=False)
    ids = [np.asarray(row, dtype=np.int32) for row in encoded["input_ids"]]
    starts = [np.asarray([o[0] for o in row[1:-1]], dtype=np.int32) for row in encoded["offset_mapping"]]
    return CleanTokens(ids, starts)


def _key(tokenizer, texts: list[str], max_length: int) -> str:
    digest = hashlib.sha256()
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        digest.update(_definition(backend.to_str()))
    else:
        digest.update(f"{type(tokenizer).__name__}:{tokenizer.name_or_path}:{len(tokenizer)}".encode())
    digest.update(f"|{max_length}|{len(texts)}|".encode())
    for text in texts:
        encoded = text.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "little") + encoded)  # length first: no two lists hash alike
    return digest.hexdigest()[:32]


@functools.lru_cache(maxsize=8)
def _definition(serialized: str) -> bytes:
    """A tokenizer's definition, without the call-time truncation and padding it carries (kept:
    re-encoding a vocabulary as JSON takes 0.13 s, and a run keys several token sets)."""
    definition = {k: v for k, v in json.loads(serialized).items() if k not in ("truncation", "padding")}
    return json.dumps(definition, sort_keys=True).encode()


def _ragged(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
    flat = np.concatenate(arrays) if arrays else np.zeros(0, np.int32)
    return flat.astype(np.int32), np.concatenate([[0], np.cumsum(lengths)])


def _save(path: Path, tokens: CleanTokens) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ids, offsets = _ragged(tokens.ids)
    arrays = {"ids": ids, "offsets": offsets}
    if tokens.starts is not None:
        arrays["starts"], arrays["start_offsets"] = _ragged(tokens.starts)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        np.savez(handle, **arrays)
    os.replace(tmp, path)  # concurrent sweep workers: a reader never sees half a file


def _load(path: Path) -> CleanTokens:
    with np.load(path) as data:
        ids = np.split(data["ids"], data["offsets"][1:-1])
        starts = np.split(data["starts"], data["start_offsets"][1:-1]) if "starts" in data else None
    return CleanTokens(ids, starts)
