"""``ssti_hf.load_dataset``: an SSTI config's four splits through datasets' own builder and cache."""

from __future__ import annotations

import dataclasses

from datasets import DatasetDict

from .config import SSTIConfig

_OVERRIDABLE = ("rate", "amount", "location", "label", "seed")


def load_dataset(
    name: str, source=None, *, revision: str | None = None, cache_dir: str | None = None, **overrides
) -> DatasetDict:
    """Splits ``train`` (corrupted), ``test`` (clean), ``test_spurious`` and ``test_triggered``.

    ``name`` is a config name (``imdb-ssti-date-50pct-1tok``); ``source`` a Hub id or a local
    folder/file (default: the base's Hub id); ``overrides`` replace fields of the parsed config
    (``rate``, ``amount``, ``location``, ``label``, ``seed``). Built once, then read from the
    datasets cache; the cache key covers the code, the base data and the seed.
    """
    from .dataset_builders.ssti import SSTI  # datasets' builder machinery: loaded when a config is built

    unknown = sorted(set(overrides) - set(_OVERRIDABLE))
    if unknown:
        raise TypeError(f"unknown override(s) {unknown}; a config's overridable fields are {list(_OVERRIDABLE)}")
    config = dataclasses.replace(SSTIConfig.from_name(name), **overrides)
    builder = SSTI(config_name=config.name, source=source, revision=revision, seed=config.seed, cache_dir=cache_dir)
    builder.download_and_prepare()
    return builder.as_dataset()
