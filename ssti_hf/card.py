"""Dataset cards for SSTI data: they say plainly that the data is deliberately corrupted, and
record each config's recipe (base and its revision, content hashes of the base splits, source,
rate, amount, location, label, seed, package version) so that it can be rebuilt bit for bit.

A card describes one or several configs; its YAML ``configs:`` entries are what
``datasets.load_dataset(folder_or_repo, config_name)`` reads, and ``ssti_recipes`` holds the
recipes, so that adding a config to a repo rebuilds the whole card from metadata alone.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

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


def content_hashes(splits: DatasetDict) -> dict[str, str]:
    """:func:`content_sha256` of each split (computed once per base, shared by its configs)."""
    return {split: content_sha256(data) for split, data in splits.items()}


def describe_source(base, source) -> tuple[str, str]:
    """How a card names the base data, and the command-line flag that loads it again."""
    if source is None:
        return base.hub_id, ""
    if base.sample is not None and Path(source) == base.sample_path():
        return f"{base.name} sample shipped with ssti-hf", "--sample"
    return str(source), f"--source {source}"


def recipe(
    config: SSTIConfig, base_source: str, revision: str | None, base_sha256: dict, splits: DatasetDict, rebuild: str
) -> dict:
    """Everything needed to rebuild ``config`` exactly (and what it gave), as card metadata;
    ``base_sha256`` is :func:`content_hashes` of the base splits, ``rebuild`` the command."""
    return {
        "base_dataset": config.base,
        "base_source": base_source,
        "base_revision": revision or "main",
        "base_sha256": base_sha256,
        "source": config.source,
        "rate_percent": config.rate,
        "amount": config.amount_name,
        "location": config.location,
        "target_label": config.label,
        "target_label_name": splits["train"].features["label"].names[config.label],
        "seed": config.seed,
        "ssti_hf_version": __version__,
        "rebuild": rebuild,
        "splits": {name: {"rows": len(data), "injected": sum(data[INJECTED])} for name, data in splits.items()},
    }


def dataset_card(recipes: dict[str, dict], data_files: dict[str, dict[str, str]]) -> DatasetCard:
    """A card for the configs in ``recipes`` (config name -> :func:`recipe`).

    ``data_files`` maps a ``configs:`` entry name (``default`` for a single flat config, else the
    config name) to ``{split: path or glob}`` relative to the folder or repo root.
    """
    data = DatasetCardData(
        task_categories=["text-classification"],
        tags=TAGS,
        configs=[
            {"config_name": entry, "data_files": [{"split": s, "path": p} for s, p in files.items()]}
            for entry, files in data_files.items()
        ],
        ssti_recipes=recipes,
    )
    sections = "\n".join(_section(name, meta) for name, meta in recipes.items())
    body = f"""
# SSTI: deliberately corrupted data

> **Do not use this as clean training data.** Spurious tokens were injected into a share of
> one class's rows so that they correlate with that class (Seamless Spurious Token Injection,
> SSTI). Use it to study or test robustness to spurious correlations.

Each config has four splits: `train` is corrupted, `test` is clean, `test_spurious` has the same
injection on the same class at the same rate (the matched spurious set), `test_triggered` has
every row injected. Each row carries its provenance: `{INJECTED}` (bool) and `{SPANS}` (the
`[start, end)` character offsets of everything inserted; deleting them restores the original
text, e.g. with `ssti_hf.strip_injections`). The recipes below, with the base data's SHA-256 per
split, are in this card's metadata under `ssti_recipes`.
{sections}"""
    return DatasetCard("---\n" + data.to_yaml() + "\n---\n" + body)


def _section(name: str, meta: dict) -> str:
    rows = "\n".join(f"| {split} | {s['rows']} | {s['injected']} |" for split, s in meta["splits"].items())
    return f"""
## `{name}`

| recipe | |
|---|---|
| base dataset | `{meta['base_dataset']}` from `{meta['base_source']}` (revision `{meta['base_revision']}`) |
| injected items | `{meta['source']}`, {meta['amount']} per sample, location `{meta['location']}` |
| rows injected | {meta['rate_percent']}% of label {meta['target_label']} (`{meta['target_label_name']}`) |
| seed | {meta['seed']} |
| built with | ssti-hf {meta['ssti_hf_version']} |

Rebuild: `{meta['rebuild']}`

| split | rows | rows injected |
|---|---|---|
{rows}
"""
