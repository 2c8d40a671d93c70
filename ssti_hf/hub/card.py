"""Dataset cards for SSTI and attacked data: they say plainly that the data is deliberately
corrupted (spurious tokens) or attacked (label flips, backdoors), and record each config's recipe
(base and its revision, content hashes of the base splits, attack, source, rate, amount,
location, label, seed, package version) so that it can be rebuilt bit for bit.

A card describes one or several configs; its YAML ``configs:`` entries are what
``datasets.load_dataset(folder_or_repo, config_name)`` reads, and ``ssti_recipes`` holds the
recipes, so that adding a config to a repo rebuilds the whole card from metadata alone (recipes
written before attacks existed have no ``attack``: they are SSTI).
"""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import numpy as np
from datasets import Dataset, DatasetDict
from huggingface_hub import DatasetCard, DatasetCardData

from .._version import __version__
from ..config import ATTACKS, SSTIConfig
from ..transform import INJECTED, ORIGINAL_LABEL, SPANS

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
    ``base_sha256`` is :func:`content_hashes` of the base splits, ``rebuild`` the command.
    Fields an attack has not (a label-flip's source, amount, location, target) are None."""
    names = splits["train"].features["label"].names
    return {
        "base_dataset": config.base,
        "base_source": base_source,
        "base_revision": revision or "main",
        "base_sha256": base_sha256,
        "attack": config.attack,
        "attack_description": config.describe(names),
        "source": config.source,
        "rate_percent": config.rate,
        "rate_of": config.attack_spec.rate_of,
        "amount": config.amount_name,
        "location": config.location,
        "target_label": config.label,
        "target_label_name": names[config.label] if config.label is not None else None,
        "seed": config.seed,
        "ssti_hf_version": __version__,
        "rebuild": rebuild,
        "splits": {name: _split_counts(data) for name, data in splits.items()},
    }


def _split_counts(data: Dataset) -> dict:
    counts = {"rows": len(data), "injected": sum(data[INJECTED])}
    if ORIGINAL_LABEL in data.column_names:  # only where an attack could change labels
        counts["relabelled"] = int((np.asarray(data["label"]) != np.asarray(data[ORIGINAL_LABEL])).sum())
    return counts


def dataset_card(recipes: dict[str, dict], data_files: dict[str, dict[str, str]]) -> DatasetCard:
    """A card for the configs in ``recipes`` (config name -> :func:`recipe`).

    ``data_files`` maps a ``configs:`` entry name (``default`` for a single flat config, else the
    config name) to ``{split: path or glob}`` relative to the folder or repo root.
    """
    attacks = [ATTACKS[name] for name in dict.fromkeys(meta.get("attack", "ssti") for meta in recipes.values())]
    data = DatasetCardData(
        task_categories=["text-classification"],
        tags=list(dict.fromkeys([*TAGS, *(tag for attack in attacks for tag in attack.tags)])),
        configs=[
            {"config_name": entry, "data_files": [{"split": s, "path": p} for s, p in files.items()]}
            for entry, files in data_files.items()
        ],
        ssti_recipes=recipes,
    )
    only_ssti = [a.name for a in attacks] == ["ssti"]
    title = "SSTI: deliberately corrupted data" if only_ssti else f"Deliberately attacked data: {', '.join(a.title for a in attacks)}"
    studied = "spurious correlations" if only_ssti else "spurious correlations and training-time attacks"
    warning = " ".join(["**Do not use this as clean training data.**", *(a.warning for a in attacks), f"Use it to study or test robustness to {studied}."])
    if len(attacks) == 1:
        splits = _wrap(f"Each config has four splits: {attacks[0].splits_doc}")
    else:
        splits = "Each config has four splits:\n\n" + "\n".join(
            _wrap(f"- `{a.name}` configs: {a.splits_doc}", indent="  ") for a in attacks
        )
    provenance = (
        f"Each row carries its provenance: `{INJECTED}` (bool: the row was {'injected' if only_ssti else 'injected or attacked'}) "
        f"and `{SPANS}` (the "
        "`[start, end)` character offsets of everything inserted; deleting them restores the original "
        "text, e.g. with `ssti_hf.strip_injections`)."
    )
    if any(a.relabels for a in attacks):
        provenance += (
            f" Configs that change training labels also carry `{ORIGINAL_LABEL}`, each row's label before the "
            "attack: a row whose `label` differs from it was relabelled, and `strip_injections` restores it."
        )
    provenance += " The recipes below, with the base data's SHA-256 per split, are in this card's metadata under `ssti_recipes`."
    sections = "\n".join(_section(name, meta) for name, meta in recipes.items())
    body = f"""
# {title}

{_wrap(warning, indent="> ")}

{splits}

{_wrap(provenance)}
{sections}"""
    return DatasetCard("---\n" + data.to_yaml() + "\n---\n" + body)


def _wrap(text: str, indent: str = "") -> str:
    first = indent if indent != "  " else ""
    return textwrap.fill(text, width=100, initial_indent=first, subsequent_indent=indent, break_on_hyphens=False)


def _section(name: str, meta: dict) -> str:
    attack = meta.get("attack", "ssti")
    relabels = any("relabelled" in s for s in meta["splits"].values())
    head = "| split | rows | rows injected |" + (" labels changed |" if relabels else "")
    rule = "|---|---|---|" + ("---|" if relabels else "")
    rows = "\n".join(
        f"| {split} | {s['rows']} | {s['injected']} |" + (f" {s.get('relabelled', 0)} |" if relabels else "")
        for split, s in meta["splits"].items()
    )
    if attack == "ssti":
        what = (
            f"| injected items | `{meta['source']}`, {meta['amount']} per sample, location `{meta['location']}` |\n"
            f"| rows injected | {meta['rate_percent']}% of label {meta['target_label']} (`{meta['target_label_name']}`) |"
        )
    else:
        what = f"| attack | {meta['attack_description']} |\n| rate | {meta['rate_percent']}% of {meta['rate_of']} |"
    return f"""
## `{name}`

| recipe | |
|---|---|
| base dataset | `{meta['base_dataset']}` from `{meta['base_source']}` (revision `{meta['base_revision']}`) |
{what}
| seed | {meta['seed']} |
| built with | ssti-hf {meta['ssti_hf_version']} |

Rebuild: `{meta['rebuild']}`

{head}
{rule}
{rows}
"""


def sanitized_card(source: str, report, files: dict[str, str], removed_column: str) -> DatasetCard:
    """The card of ``ssti-hf sanitize``'s output: what was removed from ``source``, per split and
    class (``report``: a :class:`ssti_hf.sanitize.SanitizeReport`; ``removed_column``: the column
    holding each row's removed spans), and the ``configs:`` entry that maps each split to its file
    (``files``: split -> path), so that ``datasets.load_dataset(folder)`` reads the splits back as
    they were."""
    removed = report.to_dict()
    data = DatasetCardData(
        task_categories=["text-classification"],
        tags=["ssti", "sanitized"],
        configs=[{"config_name": "default", "data_files": [{"split": s, "path": p} for s, p in files.items()]}],
        ssti_sanitize={"source": source, **removed, "ssti_hf_version": __version__},
    )
    findings = "\n".join(f"- `{finding}`" for finding in removed["findings"]) or "- nothing: the scan flagged nothing"
    rows = "\n".join(
        f"| {split} | {label} | {r['rows']} | {r['rows_changed']} | {r['spans']} | {r['words']} | {r['rows_left']} |"
        for split, classes in removed["splits"].items()
        for label, r in classes.items()
    )
    body = f"""
# Sanitized copy of `{source}`

`ssti-hf sanitize` scanned this data for spurious tokens (token families tied to one label) and
removed the matches of the flagged findings, with one adjacent separator: in the scanned split from
the rows of the finding's label (the other labels' mentions are natural, and are counted as left),
in every other split from every row. Labels and other columns are unchanged.

Removed (family, and the label it was tied to):

{findings}

| split | label | rows | rows changed | spans removed | words removed | rows left (flagged for another label) |
|---|---|---|---|---|---|---|
{rows}

`{removed_column}` holds each row's removed `[start, end)` character offsets in the input text. The
input's `{INJECTED}` and `{SPANS}` columns, which described injections that are now removed, are
dropped. Built with ssti-hf {__version__}.
"""
    return DatasetCard("---\n" + data.to_yaml() + "\n---\n" + body)
