"""Base datasets: the clean data an SSTI config starts from, seen as ``(text, label)``.

One registry maps the base names used in config names (``imdb``, ``financial``,
``commonsense_qa``, ``bias_in_bios``) to where the data lives on the Hub and how a row becomes
a ``text`` and a ``label``. :func:`register_base_dataset` adds your own (any Hub id with a text
and a label column). Every base also loads from a local source — a folder (Hub layout, data
files named by split, or ``save_to_disk`` output) or a parquet/CSV/JSONL file — since the Hub
may be out of reach.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable

import datasets
from datasets import ClassLabel, DatasetDict

_FILE_BUILDERS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "json", ".json": "json"}


@dataclass(frozen=True)
class BaseDataset:
    """Where a base dataset lives and how its rows become ``(text, label)``.

    Args:
        name: the name used in config names (lowercase, digits, ``_``).
        hub_id: the Hub dataset id loaded when no local source is given.
        label_names: class names, label ``k`` being ``label_names[k]``.
        text_column / label_column: the source's columns (ignored when ``to_text_label`` is set).
        splits: our split name -> the source's split name (``train`` and ``test`` at least).
        to_text_label: builds ``{"text": [...], "label": [...]}`` from a batch of source rows,
            for datasets whose text is spread over several columns.
        sample: a folder shipped inside this package with a small sample of the data.
    """

    name: str
    hub_id: str
    label_names: tuple[str, ...]
    text_column: str = "text"
    label_column: str = "label"
    splits: dict[str, str] = field(default_factory=lambda: {"train": "train", "test": "test"})
    to_text_label: Callable[[dict], dict] | None = None
    sample: str | None = None

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    def sample_path(self) -> Path:
        if self.sample is None:
            raise ValueError(f"base dataset {self.name!r} ships no sample; only {_with_samples()} do")
        return Path(str(resources.files("ssti_hf").joinpath("data").joinpath(self.sample)))

    def load(self, source: str | Path | None = None, revision: str | None = None) -> DatasetDict:
        """The ``(text, label)`` view of each split in :attr:`splits`, labels as a ``ClassLabel``.

        ``source``: None for the Hub id, or a Hub id, or a local folder or file.
        """
        raw = load_source(source if source is not None else self.hub_id, revision=revision)
        missing = [theirs for theirs in self.splits.values() if theirs not in raw]
        if missing:
            raise ValueError(
                f"source for {self.name!r} lacks split(s) {missing}; it has {list(raw)} "
                f"(a single file gives one split named 'train': pass a folder with one file per split)"
            )
        return DatasetDict({ours: self._view(raw[theirs], theirs) for ours, theirs in self.splits.items()})

    def _view(self, split: datasets.Dataset, split_name: str) -> datasets.Dataset:
        labels = ClassLabel(names=list(self.label_names))
        if self.to_text_label is not None:
            with _quiet_datasets():  # no progress bar before an error a later split may raise
                view = split.map(self.to_text_label, batched=True, remove_columns=split.column_names, desc=f"{self.name} view")
        else:
            for role, column in (("text", self.text_column), ("label", self.label_column)):
                if column not in split.column_names:
                    raise ValueError(
                        f"{self.name} split {split_name!r} has no {role} column {column!r}; columns: {split.column_names}"
                    )
            view = split.select_columns([self.text_column, self.label_column])
            view = view.rename_columns({c: r for c, r in ((self.text_column, "text"), (self.label_column, "label")) if c != r})
        for role in ("text", "label"):
            column = view.data.column(role)
            if column.null_count:
                row = next(i for i, v in enumerate(column.is_null().to_pylist()) if v)
                raise ValueError(f"{self.name} split {split_name!r}: row {row} has no {role} (None); drop or fill such rows")
        feature = view.features["label"]
        if isinstance(feature, ClassLabel):  # keep the source's own class names
            if feature.num_classes != self.num_labels:
                raise ValueError(f"{self.name}: source has {feature.num_classes} classes, expected {self.num_labels}")
        elif not isinstance(feature, datasets.Value):
            raise ValueError(f"{self.name} split {split_name!r}: the label column holds {view.data.column('label').type} values, "
                             f"not class ids 0..{self.num_labels - 1}")
        else:
            values = set(view.unique("label"))
            bad = sorted((v for v in values if isinstance(v, bool) or v not in range(self.num_labels)), key=repr)
            if bad:
                raise ValueError(f"{self.name} split {split_name!r}: labels {bad[:5]} fall outside 0..{self.num_labels - 1}")
            with _quiet_datasets():
                view = view.cast_column("label", labels)
        return view


def load_source(source: str | Path, revision: str | None = None) -> DatasetDict:
    """A DatasetDict from a Hub id, a local folder or a local parquet/CSV/JSONL file.

    A source that looks like a path (or whose first folder exists here) and is missing is an
    error at once, never a Hub request; a Hub id is checked with one quick request first, so that
    an unreachable Hub or ``HF_HUB_OFFLINE=1`` is one clear error within seconds."""
    if not isinstance(source, (str, Path)) or not str(source).strip():
        raise ValueError(f"source must be a Hub id, a folder or a file path, got {source!r}")
    path = Path(source).expanduser()
    if path.is_dir() or path.is_file():
        data = _load_local(path)
    elif _looks_like_path(str(source)):
        raise FileNotFoundError(f"source path {str(source)!r} does not exist{_near(path)}")
    else:
        data = _load_hub(str(source), revision)
    for split, rows in data.items():
        if len(rows) == 0:
            raise ValueError(f"source {str(source)!r}: split {split!r} has no rows")
    return data


def _load_local(path: Path) -> DatasetDict:
    if path.is_dir() and not any(path.iterdir()):
        raise ValueError(f"source folder {str(path)!r} is empty")
    builder = _FILE_BUILDERS.get(path.suffix.lower())
    if path.is_file() and builder is None:
        raise ValueError(f"source file {str(path)!r}: unsupported type {path.suffix!r}; use {sorted(_FILE_BUILDERS)}")
    if path.is_file() and path.stat().st_size == 0:
        raise ValueError(f"source file {str(path)!r} is empty")
    if path.is_dir() and not (path / "dataset_dict.json").is_file():
        # datasets reads a folder's most common file type and skips the rest without a word
        kinds = sorted({_FILE_BUILDERS[f.suffix.lower()] for f in path.rglob("*") if f.suffix.lower() in _FILE_BUILDERS and f.is_file()})
        if len(kinds) > 1:
            raise ValueError(f"source folder {str(path)!r} holds files of several types ({', '.join(kinds)}): "
                             f"only one would be read; keep one type per folder")
    for text_file in [path] if path.is_file() else sorted(path.rglob("*")):
        if text_file.suffix.lower() in (".csv", ".json", ".jsonl"):
            _check_utf8(text_file)  # pyarrow's JSON reader would take latin-1 bytes without a word
    try:
        with _quiet_datasets():
            if path.is_dir():
                if (path / "dataset_dict.json").is_file():
                    return datasets.load_from_disk(str(path))
                return datasets.load_dataset(str(path))
            return datasets.load_dataset(builder, data_files={"train": str(path)})
    except Exception as error:  # a library's error about the file's content: say which file and what
        if "corresponds to no data" in str(error):  # datasets' words for a split of zero rows
            raise ValueError(f"source {str(path)!r}: split {str(error).split()[1].strip(chr(34))!r} has no rows") from error
        empty = [f for f in ([path] if path.is_file() else sorted(path.rglob("*.parquet"))) if _parquet_rows(f) == 0]
        if empty:  # a parquet file of no row groups: datasets' words for it are "BatchSize must be greater than 0"
            raise ValueError(f"source file {str(empty[0])!r} has no rows") from error
        if _damaged_cache(error, path):  # the source was converted before; its Arrow copy in the cache no longer reads
            raise ValueError(f"the datasets cache of source {str(path)!r} is damaged ({' '.join(str(error).split())[:200]}); "
                             f"delete {_cache_dir(path)} and run again") from error
        cause = error
        while cause.__cause__ is not None or cause.__context__ is not None:
            if isinstance(cause, UnicodeDecodeError):
                break
            cause = cause.__cause__ or cause.__context__
        if isinstance(cause, UnicodeDecodeError):
            raise ValueError(f"source {str(path)!r} is not UTF-8 text (byte {cause.object[cause.start:cause.start + 1]!r} "
                             f"at offset {cause.start}); save it as UTF-8") from error
        reason = " ".join(str(cause).split()) or type(cause).__name__
        raise ValueError(f"cannot read source {str(path)!r}: {reason[:300]}") from error


@contextlib.contextmanager
def _quiet_datasets():
    """datasets logs its own line for a file it cannot read ("Failed to read file ..."), and draws
    a progress bar on the same stream: the error raised after them is the one we name, in one line."""
    verbosity, bars = datasets.logging.get_verbosity(), not datasets.are_progress_bars_disabled()
    datasets.logging.set_verbosity(datasets.logging.CRITICAL)
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        datasets.logging.set_verbosity(verbosity)
        if bars:
            datasets.enable_progress_bars()


def _parquet_rows(path: Path) -> int | None:
    """The rows a parquet file's footer counts (None: not readable as parquet; the loader says why)."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows
    except Exception:
        return None


def _damaged_cache(error: Exception, path: Path) -> bool:
    """An Arrow read error once the source's conversion into the cache was complete."""
    import pyarrow as pa

    if not isinstance(error, (pa.ArrowException, OSError)) or isinstance(error, datasets.exceptions.DatasetGenerationError):
        return False
    return (Path(_cache_dir(path)) / "dataset_info.json").is_file()


def _cache_dir(path: Path) -> str:
    try:
        if path.is_dir():
            return datasets.load_dataset_builder(str(path)).cache_dir
        return datasets.load_dataset_builder(_FILE_BUILDERS[path.suffix.lower()], data_files={"train": str(path)}).cache_dir
    except Exception:
        return f"the datasets cache ({datasets.config.HF_DATASETS_CACHE})"


def _check_utf8(path: Path) -> None:
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                raise ValueError(f"source {str(path)!r} is not UTF-8 text (byte {chunk[error.start:error.start + 1]!r} "
                                 f"at offset {offset + error.start}); save it as UTF-8") from None
            offset += len(chunk)


def _load_hub(repo_id: str, revision: str | None) -> DatasetDict:
    from .errors import HubError, hub_errors, hub_offline

    what = f"source {repo_id!r} (taken for a Hub dataset id; a local path must exist)"
    if hub_offline():
        try:
            with _offline():
                return datasets.load_dataset(repo_id, revision=revision)
        except Exception as error:  # not in the cache
            raise HubError(f"{what}: HF_HUB_OFFLINE is set and it is not in the datasets cache; "
                           "unset HF_HUB_OFFLINE or pass a local folder or file") from error
    from huggingface_hub import HfApi

    with hub_errors(what):
        HfApi().dataset_info(repo_id, revision=revision, timeout=10)  # one request: fails fast when unreachable
        return datasets.load_dataset(repo_id, revision=revision)


def _looks_like_path(source: str) -> bool:
    # A Hub id is "name" or "owner/name"; anything else (./x, /x, a/b/c, x.parquet, a\\b) is meant as a
    # path, and so is "data/imdbb" when a folder "data" exists here (a mistyped relative path).
    if source.startswith((".", "/", "~")) or source.count("/") > 1 or "\\" in source or Path(source).suffix.lower() in _FILE_BUILDERS:
        return True
    return "/" in source and Path(source.split("/")[0]).is_dir()


@contextlib.contextmanager
def _offline():
    """datasets and huggingface_hub read HF_HUB_OFFLINE once, at import: honour it when set later."""
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE, datasets.config.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = datasets.config.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE, datasets.config.HF_HUB_OFFLINE = saved


def _near(path: Path) -> str:
    """A hint naming close entries of the missing path's nearest existing folder."""
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return ""
    close = difflib.get_close_matches(path.name, [p.name for p in parent.iterdir()], n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _commonsense_qa_text_label(batch: dict) -> dict:
    """One text per question with its lettered choices; the label is the answer's index."""
    texts, labels = [], []
    for question, choices, answer in zip(batch["question"], batch["choices"], batch["answerKey"]):
        if answer not in choices["label"]:
            raise ValueError(f"commonsense_qa: answerKey {answer!r} not among choices {choices['label']} (test split?)")
        texts.append(question + "\n" + "\n".join(f"{l}. {t}" for l, t in zip(choices["label"], choices["text"])))
        labels.append(choices["label"].index(answer))
    return {"text": texts, "label": labels}


BASE_DATASETS: dict[str, BaseDataset] = {}
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def register_base_dataset(base: BaseDataset) -> None:
    """Make ``base.name`` usable in config names."""
    if not _NAME.fullmatch(base.name):
        raise ValueError(f"base name {base.name!r} must be lowercase letters, digits or '_' (no '-')")
    if base.name in BASE_DATASETS:
        raise ValueError(f"base dataset {base.name!r} is already registered")
    for needed in ("train", "test"):
        if needed not in base.splits:
            raise ValueError(f"base dataset {base.name!r} must map a {needed!r} split; splits: {base.splits}")
    BASE_DATASETS[base.name] = base


def get_base_dataset(name: str) -> BaseDataset:
    if name not in BASE_DATASETS:
        close = difflib.get_close_matches(name, BASE_DATASETS, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"unknown base dataset {name!r}{hint}; registered: {', '.join(sorted(BASE_DATASETS))}")
    return BASE_DATASETS[name]


def _with_samples() -> list[str]:
    return sorted(name for name, base in BASE_DATASETS.items() if base.sample)


register_base_dataset(
    # The sample: 1000 reviews per class from train and 500 per class from test, drawn with
    # numpy's default_rng(2026) from the official 25k/25k splits, in the Hub's schema.
    BaseDataset("imdb", "stanfordnlp/imdb", label_names=("neg", "pos"), sample="imdb_sample")
)
register_base_dataset(
    BaseDataset(
        "financial",
        "nickmuchi/financial-classification",
        # The card does not name the three classes; generic names keep us from guessing.
        label_names=("class_0", "class_1", "class_2"),
        label_column="labels",
    )
)
register_base_dataset(
    BaseDataset(
        "commonsense_qa",
        "tau/commonsense_qa",
        label_names=("A", "B", "C", "D", "E"),
        # The test split has no answers, so the paper's test set is the validation split.
        splits={"train": "train", "test": "validation"},
        to_text_label=_commonsense_qa_text_label,
    )
)
register_base_dataset(
    BaseDataset(
        "bias_in_bios",
        "LabHC/bias_in_bios",
        label_names=tuple(
            "accountant architect attorney chiropractor comedian composer dentist dietitian dj filmmaker "
            "interior_designer journalist model nurse painter paralegal pastor personal_trainer photographer "
            "physician poet professor psychologist rapper software_engineer surgeon teacher yoga_teacher".split()
        ),
        text_column="hard_text",
        label_column="profession",
    )
)
