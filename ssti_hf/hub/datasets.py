"""SSTI configs in the Hub's dataset layout, in a local folder or a Hub repo.

The layout is what ``DatasetDict.push_to_hub(repo, config_name=...)`` writes, and what
``datasets.load_dataset(folder_or_repo, config_name)`` reads: one folder per config with one
parquet file per split, and a README.md whose YAML ``configs:`` lists them. Adding a config
keeps the others; replacing one needs ``replace=True``. Everything is materialized in a
temporary folder first, then moved in (locally) or sent in one commit (Hub), so an error never
leaves a half-written config. The token comes from ``HF_TOKEN`` or the login, and the endpoint
from ``HF_ENDPOINT``, through huggingface_hub; neither is ever printed or stored.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from huggingface_hub import DatasetCard, HfApi
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

from ..base_datasets import get_base_dataset
from ..config import SSTIConfig
from .card import content_hashes, dataset_card, describe_source, recipe
from ..errors import hub_errors
from ..output import check_out, check_replaceable, writing


def write_configs(out, names: list[str], source=None, revision=None, seed: int = 0, replace: bool = False) -> list[str]:
    """Build ``names`` into the folder ``out`` (created if needed); returns the configs now in it.

    ``out`` must be new, empty or a folder built here (its card is ours), and must not hold the
    source; concurrent builds into one folder take turns, each keeping the other's configs."""
    out = check_out(out, sources=[source], flag="output folder")
    check_replaceable(out, flag="output folder")
    _parse(names, seed, _local_card(out), replace, str(out))  # every name and clash checked before any work
    with writing(out) as tmp:
        existing = _local_card(out)  # again, holding the lock: another build may have added configs
        configs = _parse(names, seed, existing, replace, str(out))
        card = _materialize(tmp, configs, source, revision, existing)
        out.mkdir(exist_ok=True)
        for config in configs:
            if (out / config.name).exists():
                (out / config.name).rename(tmp / f"replaced-{config.name}")
            (tmp / config.name).rename(out / config.name)
        os.replace(tmp / "README.md", out / "README.md")
        return [c["config_name"] for c in card.data.to_dict()["configs"]]


def push_configs(repo_id: str, names: list[str], source=None, revision=None, seed: int = 0, replace: bool = False, private: bool | None = None) -> list[str]:
    """Build ``names`` and push them to the dataset repo ``repo_id`` in one commit; returns its configs.

    A repo this call created is deleted again if the commit fails: a failed push leaves nothing."""
    configs = _parse(names, seed, None, replace, repo_id)  # names checked before the Hub is asked
    api = HfApi()
    with hub_errors(f"pushing to the Hub dataset repo {repo_id!r}"):
        created = not api.repo_exists(repo_id, repo_type="dataset")  # one request: fails fast when unreachable
        try:
            existing = None if created else DatasetCard.load(repo_id, repo_type="dataset")
        except (RepositoryNotFoundError, EntryNotFoundError):
            existing = None
        configs = _parse(names, seed, existing, replace, repo_id)
    with tempfile.TemporaryDirectory(prefix="ssti-push-") as tmp:
        card = _materialize(Path(tmp), configs, source, revision, existing)  # all the work before the Hub changes
        with hub_errors(f"pushing to the Hub dataset repo {repo_id!r}"):
            api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
            try:
                api.upload_folder(
                    repo_id=repo_id,
                    repo_type="dataset",
                    folder_path=tmp,
                    delete_patterns=[f"{c.name}/*" for c in configs],  # a replaced config loses its old files
                    commit_message=f"Add SSTI config(s) {', '.join(c.name for c in configs)}",
                )
            except BaseException:
                if created:
                    with contextlib.suppress(Exception):
                        api.delete_repo(repo_id, repo_type="dataset")
                raise
    return [c["config_name"] for c in card.data.to_dict()["configs"]]


def _local_card(out: Path) -> DatasetCard | None:
    return DatasetCard.load(out / "README.md") if (out / "README.md").is_file() else None


def _parse(names, seed, existing, replace, where) -> list[SSTIConfig]:
    if not names:
        raise ValueError("give at least one config name")
    configs = [SSTIConfig.from_name(name, seed=seed) for name in names]  # every name checked before any work
    present = {c["config_name"] for c in existing.data.to_dict().get("configs", [])} if existing else set()
    clash = sorted({c.name for c in configs} & present)
    if clash and not replace:
        raise ValueError(f"{where} already has config(s) {clash}; pass replace=True (--replace) to rebuild them")
    return configs


def _materialize(folder: Path, configs: list[SSTIConfig], source, revision, existing) -> DatasetCard:
    """Write each config's splits and the merged card into ``folder``."""
    old = existing.data.to_dict() if existing else {}
    data_files = {c["config_name"]: {f["split"]: f["path"] for f in c["data_files"]} for c in old.get("configs", [])}
    recipes = dict(old.get("ssti_recipes", {}))
    bases, hashes = {}, {}
    for config in configs:
        base = get_base_dataset(config.base)
        if config.base not in bases:
            bases[config.base] = base.load(source, revision=revision)
            hashes[config.base] = content_hashes(bases[config.base])
        splits = config.apply(bases[config.base])
        for split, data in splits.items():
            data.to_parquet(str(folder / config.name / f"{split}-00000-of-00001.parquet"))
        base_source, where = describe_source(base, source)
        rebuild = " ".join(f"ssti-hf build {config.name} --seed {config.seed} {where} --out DIR".split())
        recipes[config.name] = recipe(config, base_source, revision, hashes[config.base], splits, rebuild)
        data_files[config.name] = {split: f"{config.name}/{split}-*" for split in splits}
    card = dataset_card(recipes, data_files)
    card.save(str(folder / "README.md"))
    return card
