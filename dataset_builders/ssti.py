"""A ``datasets`` builder for SSTI configs: ``imdb-ssti-date-50pct-1tok`` and any other parsable name,
training-time attacks included (``imdb-backdoor-date-5pct-1tok``, ``imdb-poison-flip-10pct``).

datasets >= 4 no longer runs loading scripts from ``load_dataset``, so this builder is used
directly (``ssti_hf.load_dataset`` does) and configs reach plain ``datasets.load_dataset`` as
materialized folders or Hub repos (``ssti-hf build``). What the builder adds is datasets' own
cache: a config is built once per (code, base data, seed) and then memory-mapped from disk.

    builder = SSTI(config_name="imdb-ssti-date-50pct-1tok", source="../shared/data/imdb")
    builder.download_and_prepare()
    splits = builder.as_dataset()   # train, test, test_spurious, test_triggered

The listed ``GRID`` is the SSTI grid of the paper; attack names are built on the fly like any
other parsable name. Attacks that change labels add ``ssti_original_label`` to every split.
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import datasets

from ssti_hf._version import __version__
from ssti_hf.base_datasets import get_base_dataset
from ssti_hf.config import SPLITS, SSTIConfig
from ssti_hf.transform import DATA_SHAPING, ORIGINAL_LABEL, PROVENANCE_FEATURES, code_digest

GRID_BASES = ("imdb", "financial", "commonsense_qa", "bias_in_bios")
GRID_SOURCES = ("date", "country", "html")
GRID_RATES = (25, 50, 75, 100)
GRID_AMOUNTS = ("1tok", "5ptok", "10ptok")
VERSION = datasets.Version(__version__)
GRID = [
    f"{base}-ssti-{source}-{rate}pct-{amount}"
    for base, source, rate, amount in itertools.product(GRID_BASES, GRID_SOURCES, GRID_RATES, GRID_AMOUNTS)
]


class SSTIBuilderConfig(datasets.BuilderConfig):
    """An SSTI config name, plus where the base data comes from and the seed."""

    def __init__(self, name: str, source: str | None = None, revision: str | None = None, seed: int = 0, **kwargs):
        SSTIConfig.from_name(name, seed=seed)  # a bad name fails here, with the bad part named
        super().__init__(name=name, **kwargs)
        self.source = None if source is None else str(source)
        self.revision = revision
        self.seed = seed

    @property
    def ssti(self) -> SSTIConfig:
        # Read from the name and seed when used: datasets copies a listed config and then sets the
        # caller's seed on the copy, which a value computed in __init__ would not follow.
        return SSTIConfig.from_name(self.name, seed=self.seed)


class SSTI(datasets.ArrowBasedBuilder):
    """Builds the four SSTI splits of a config from its base dataset (Arrow tables, no per-row Python)."""

    VERSION = VERSION
    BUILDER_CONFIG_CLASS = SSTIBuilderConfig
    BUILDER_CONFIGS = [SSTIBuilderConfig(name=name, version=VERSION) for name in GRID]

    def __init__(self, *args, config_name: str | None = None, source=None, revision=None, seed: int = 0, **kwargs):
        if config_name is None:
            raise ValueError(
                f"pick a config name, e.g. {GRID[0]!r}: any {{base}}-ssti-{{source}}-{{rate}}pct-{{amount}} name works, "
                "and the attacks' names (imdb-backdoor-date-5pct-1tok, imdb-poison-flip-10pct, ...)"
            )
        kwargs.setdefault("hash", cache_key(source, revision, config_name))
        super().__init__(*args, config_name=config_name, source=source, revision=revision, seed=seed, **kwargs)

    def _create_builder_config(self, config_name=None, custom_features=None, config_id=None, **config_kwargs):
        # Names outside the listed grid are valid too: build their config on the fly.
        if isinstance(config_name, str) and config_name not in self.builder_configs:
            config_kwargs.setdefault("version", self.VERSION)
            return super()._create_builder_config(None, custom_features, config_id, name=config_name, **config_kwargs)
        return super()._create_builder_config(config_name, custom_features, config_id, **config_kwargs)

    def _info(self) -> datasets.DatasetInfo:
        base = get_base_dataset(self.config.ssti.base)
        labels = datasets.ClassLabel(names=list(base.label_names))
        features = datasets.Features({"text": datasets.Value("string"), "label": labels, **PROVENANCE_FEATURES})
        spec = self.config.ssti.attack_spec
        if spec.relabels:
            features[ORIGINAL_LABEL] = labels
        done = "corrupted" if spec.name == "ssti" else f"attacked ({spec.title})"
        return datasets.DatasetInfo(
            description=f"SSTI config {self.config.name}: deliberately {done} copy of {base.hub_id}.",
            features=features,
        )

    def _split_generators(self, dl_manager):
        base = get_base_dataset(self.config.ssti.base)
        splits = self.config.ssti.apply(base.load(self.config.source, revision=self.config.revision))
        return [datasets.SplitGenerator(name=split, gen_kwargs={"data": splits[split]}) for split in SPLITS]

    def _generate_tables(self, data: datasets.Dataset):
        schema = self.info.features.arrow_schema
        for i, batch in enumerate(data.data.to_batches(max_chunksize=10_000)):
            yield i, datasets.table.table_cast(datasets.table.pa.Table.from_batches([batch]), schema)


_DATA_SHAPING = (*DATA_SHAPING, "config.py", "base_datasets.py")


def cache_key(source, revision, config_name) -> str:
    """Changes when this package's code or the base data changes, so a stale cache is never used.

    Local data is identified by its files' names, sizes and modification times; Hub data by the
    revision asked for (pin a commit sha for full reproducibility).
    """
    digest = hashlib.sha256()
    digest.update(code_digest(_DATA_SHAPING).encode())  # the code and word lists that decide the bytes of a config
    digest.update(Path(__file__).read_bytes())
    if source is None:
        digest.update(f"hub:{get_base_dataset(SSTIConfig.from_name(config_name).base).hub_id}@{revision or 'main'}".encode())
    else:
        path = Path(source).expanduser()
        files = sorted(path.rglob("*")) if path.is_dir() else [path] if path.exists() else []
        if not files:
            digest.update(f"hub:{source}@{revision or 'main'}".encode())
        for file in files:
            if file.is_file():
                stat = file.stat()
                digest.update(f"{file.relative_to(path) if path.is_dir() else file.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]
