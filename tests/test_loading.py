import pytest

import ssti_hf
from ssti_hf.dataset_builders.ssti import GRID, SSTI

from .conftest import SHARED_IMDB


def test_grid_covers_the_named_configs():
    assert len(GRID) == 4 * 3 * 4 * 3
    assert "imdb-ssti-date-50pct-1tok" in GRID and "bias_in_bios-ssti-html-100pct-10ptok" in GRID
    assert set(SSTI.builder_configs) == set(GRID)


def test_load_dataset_builds_once_then_reads_the_cache(tmp_path, imdb_sample):
    sample = ssti_hf.get_base_dataset("imdb").sample_path()
    splits = ssti_hf.load_dataset("imdb-ssti-date-50pct-1tok", sample, cache_dir=str(tmp_path))
    assert {k: len(v) for k, v in splits.items()} == {"train": 2000, "test": 1000, "test_spurious": 1000, "test_triggered": 1000}
    assert sum(splits["train"]["ssti_injected"]) == 500
    assert splits["train"].cache_files[0]["filename"].startswith(str(tmp_path))
    again = ssti_hf.load_dataset("imdb-ssti-date-50pct-1tok", sample, cache_dir=str(tmp_path))
    assert again["train"].cache_files == splits["train"].cache_files
    direct = ssti_hf.SSTIConfig.from_name("imdb-ssti-date-50pct-1tok").apply(imdb_sample)
    assert again["train"]["text"] == direct["train"]["text"]


def test_a_listed_config_is_built_with_the_seed_asked_for(tmp_path, imdb_sample):
    from ssti_hf.dataset_builders.ssti import GRID

    sample = ssti_hf.get_base_dataset("imdb").sample_path()
    name = "imdb-ssti-date-50pct-1tok"
    assert name in GRID  # datasets builds a listed config from a copy of the listed one
    seeded = [ssti_hf.load_dataset(name, sample, cache_dir=str(tmp_path), seed=seed)["train"] for seed in (0, 1)]
    assert list(seeded[0]["text"]) != list(seeded[1]["text"])
    direct = ssti_hf.SSTIConfig.from_name(name, seed=1).apply(imdb_sample)
    assert list(seeded[1]["text"]) == list(direct["train"]["text"])


def test_names_outside_the_grid_and_overrides(tmp_path):
    sample = ssti_hf.get_base_dataset("imdb").sample_path()
    splits = ssti_hf.load_dataset("imdb-ssti-country-30pct-2tok-end-label0", sample, cache_dir=str(tmp_path))
    assert sum(splits["train"]["ssti_injected"]) == 300
    other = ssti_hf.load_dataset("imdb-ssti-date-50pct-1tok", sample, cache_dir=str(tmp_path), seed=1, rate=10)
    assert sum(other["train"]["ssti_injected"]) == 100
    with pytest.raises(TypeError, match=r"unknown override\(s\) \['colour'\]"):
        ssti_hf.load_dataset("imdb-ssti-date-50pct-1tok", sample, colour="red")
    with pytest.raises(ValueError, match=r"unknown source 'dat'.*did you mean date"):
        ssti_hf.load_dataset("imdb-ssti-dat-50pct-1tok", sample, cache_dir=str(tmp_path))


def test_cache_key_follows_the_data(tmp_path, imdb_sample):
    from ssti_hf.dataset_builders.ssti import cache_key

    folder = tmp_path / "imdb"
    folder.mkdir()
    for split, data in imdb_sample.items():
        data.to_parquet(str(folder / f"{split}.parquet"))
    before = cache_key(folder, None, "imdb-ssti-date-50pct-1tok")
    assert cache_key(folder, None, "imdb-ssti-date-50pct-1tok") == before
    imdb_sample["test"].select(range(10)).to_parquet(str(folder / "test.parquet"))
    assert cache_key(folder, None, "imdb-ssti-date-50pct-1tok") != before
    assert cache_key(None, None, "imdb-ssti-date-50pct-1tok") != cache_key(None, "abc123", "imdb-ssti-date-50pct-1tok")


@pytest.mark.skipif(not SHARED_IMDB.is_dir(), reason="full IMDB not present beside the checkout")
def test_full_imdb_config(tmp_path):
    splits = ssti_hf.load_dataset("imdb-ssti-date-50pct-1tok", SHARED_IMDB, cache_dir=str(tmp_path))
    assert sum(splits["train"]["ssti_injected"]) == 6250 and all(splits["test_triggered"]["ssti_injected"])
