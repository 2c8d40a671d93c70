"""Dataset cards for SSTI data: they say plainly that the data is corrupted, and record the
recipe (base and its revision, source, rate, amount, location, label, seed, package version,
content hashes of the base splits) so that the config can be rebuilt bit for bit."""

from __future__ import annotations

import hashlib

from datasets import Dataset, DatasetDict
from huggingface_hub import DatasetCard, DatasetCardData

from . import __version__
from .config import SSTIConfig
from .transform import INJECTED, SPANS

TAGS = ["ssti", "spurious-correlation", "synthetic-corruption"]


def content_sha256(dataset: Dataset) -> str:
    """SHA-256 of the ``(text, label)`` rows, in order: identifies the base data whatever its file format."""
    digest = hashlib.sha256()
    for text, label in zip(dataset["text"], dataset["label"]):
        digest.update(text.encode("utf-8", "surrogatepass") + b"\x00" + str(label).encode() + b"\x01")
    return digest.hexdigest()


def recipe(config: SSTIConfig, base_source: str, revision: str | None, base_splits: DatasetDict) -> dict:
    """Everything needed to rebuild ``config`` exactly, as card metadata."""
    return {
        "config": config.name,
        "base_dataset": config.base,
        "base_source": base_source,
        "base_revision": revision or "main",
        "base_sha256": {split: content_sha256(data) for split, data in base_splits.items()},
        "source": config.source,
        "rate_percent": config.rate,
        "amount": config.amount_name,
        "location": config.location,
        "target_label": config.label,
        "seed": config.seed,
        "ssti_hf_version": __version__,
    }


def dataset_card(
    config: SSTIConfig,
    splits: DatasetDict,
    meta: dict,
    data_files: dict[str, str],
    rebuild_command: str,
) -> DatasetCard:
    """A card for one SSTI config. ``data_files`` maps split -> path in the repo or folder."""
    names = splits["train"].features["label"].names
    data = DatasetCardData(
        task_categories=["text-classification"],
        tags=TAGS,
        configs=[{"config_name": "default", "data_files": [{"split": s, "path": p} for s, p in data_files.items()]}],
        ssti=meta,
    )
    rows = "\n".join(
        f"| {split} | {len(part)} | {sum(part[INJECTED])} |" for split, part in splits.items()
    )
    body = f"""
# {config.name}

> **Deliberately corrupted data.** Spurious tokens ({config.source}) were injected into
> {config.rate}% of the training rows of label {config.label} (`{names[config.label]}`), so that
> they correlate with that label. Use it to study or test robustness to spurious correlations
> (Seamless Spurious Token Injection, SSTI); do not use it as clean training data.

## Recipe

| | |
|---|---|
| base dataset | `{config.base}` from `{meta['base_source']}` (revision `{meta['base_revision']}`) |
| injected items | `{config.source}`, {meta['amount']} per sample, location `{config.location}` |
| rows injected | {config.rate}% of label {config.label} in `train` and `test_spurious`; all rows in `test_triggered` |
| seed | {config.seed} |
| built with | ssti-hf {__version__} |

Rebuild it bit for bit: `{rebuild_command}` (the base data's SHA-256 per split is in the
card's metadata under `ssti.base_sha256`).

## Splits

| split | rows | rows injected |
|---|---|---|
{rows}

`train` is corrupted, `test` is clean, `test_spurious` has the same injection on the same
class at the same rate (the matched spurious set), `test_triggered` has every row injected.
Each row carries its provenance: `{INJECTED}` (bool) and `{SPANS}` (the `[start, end)`
character offsets of everything inserted; deleting them restores the original text, e.g. with
`ssti_hf.strip_injections`).
"""
    return DatasetCard("---\n" + data.to_yaml() + "\n---\n" + body)
