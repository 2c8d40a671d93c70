import datasets
import pytest

import ssti_hf
from ssti_hf.cli import main
from ssti_hf.hub.datasets import write_configs

from ..conftest import SHARED_IMDB


def _source():
    return SHARED_IMDB if SHARED_IMDB.is_dir() else ssti_hf.get_base_dataset("imdb").sample_path()


def test_built_folder_loads_with_plain_load_dataset(tmp_path):
    out = tmp_path / "ssti"
    assert write_configs(out, ["imdb-ssti-date-50pct-1tok"], source=_source()) == ["imdb-ssti-date-50pct-1tok"]
    splits = datasets.load_dataset(str(out), "imdb-ssti-date-50pct-1tok")
    assert set(splits) == {"train", "test", "test_spurious", "test_triggered"}
    n_pos = sum(splits["test"]["label"])
    assert sum(splits["train"]["ssti_injected"]) == round(0.5 * sum(splits["train"]["label"]))
    assert sum(splits["test_spurious"]["ssti_injected"]) == round(0.5 * n_pos)
    card = (out / "README.md").read_text()
    assert "deliberately corrupted" in card and "spurious-correlation" in card


def test_adding_keeps_others_and_replacing_needs_the_flag(tmp_path):
    out = tmp_path / "ssti"
    sample = ssti_hf.get_base_dataset("imdb").sample_path()
    write_configs(out, ["imdb-ssti-date-50pct-1tok"], source=sample)
    first = (out / "imdb-ssti-date-50pct-1tok" / "train-00000-of-00001.parquet").read_bytes()
    assert write_configs(out, ["imdb-ssti-html-25pct-10ptok-end-label0"], source=sample) == [
        "imdb-ssti-date-50pct-1tok", "imdb-ssti-html-25pct-10ptok-end-label0",
    ]
    assert datasets.get_dataset_config_names(str(out)) == ["imdb-ssti-date-50pct-1tok", "imdb-ssti-html-25pct-10ptok-end-label0"]
    with pytest.raises(ValueError, match=r"already has config\(s\) \['imdb-ssti-date-50pct-1tok'\]; pass replace=True"):
        write_configs(out, ["imdb-ssti-date-50pct-1tok"], source=sample, seed=1)
    assert (out / "imdb-ssti-date-50pct-1tok" / "train-00000-of-00001.parquet").read_bytes() == first
    write_configs(out, ["imdb-ssti-date-50pct-1tok"], source=sample, seed=1, replace=True)
    assert (out / "imdb-ssti-date-50pct-1tok" / "train-00000-of-00001.parquet").read_bytes() != first
    recipes = datasets.load_dataset_builder(str(out), "imdb-ssti-date-50pct-1tok")  # the card still parses
    assert recipes.config.name == "imdb-ssti-date-50pct-1tok"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ssti"]  # no temporary folders left


def test_rebuilding_from_the_recipe_gives_the_same_bytes(tmp_path):
    sample = ssti_hf.get_base_dataset("imdb").sample_path()
    write_configs(tmp_path / "a", ["imdb-ssti-country-25pct-5ptok"], source=sample, seed=3)
    write_configs(tmp_path / "b", ["imdb-ssti-country-25pct-5ptok"], source=sample, seed=3)
    for split in ("train", "test", "test_spurious", "test_triggered"):
        name = f"imdb-ssti-country-25pct-5ptok/{split}-00000-of-00001.parquet"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_bad_input_writes_nothing(tmp_path, capsys):
    out = tmp_path / "ssti"
    with pytest.raises(ValueError, match=r"unknown base dataset 'imbd'.*did you mean imdb"):
        write_configs(out, ["imdb-ssti-date-50pct-1tok", "imbd-ssti-date-50pct-1tok"], source=ssti_hf.get_base_dataset("imdb").sample_path())
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_configs(out, ["imdb-ssti-date-50pct-1tok"], source="./no/such/folder")
    assert list(tmp_path.iterdir()) == []
    assert main(["build", "imdb-ssti-date-50pct-1tok", "--source", "./no/such/folder", "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_build_cli(tmp_path, capsys):
    out = tmp_path / "ssti"
    assert main(["build", "imdb-ssti-date-50pct-1tok", "imdb-ssti-country-50pct-1tok", "--sample", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "holds 2 config(s)" in printed and "datasets.load_dataset" in printed


def test_push_then_load_dataset_from_the_hub(local_hub):
    sample = ssti_hf.get_base_dataset("imdb").sample_path()
    assert ssti_hf.push_configs("me/imdb-ssti", ["imdb-ssti-date-50pct-1tok"], source=sample) == ["imdb-ssti-date-50pct-1tok"]
    assert main(["build", "imdb-ssti-html-25pct-10ptok-end-label0", "--sample", "--push-to-hub", "me/imdb-ssti"]) == 0
    stored = local_hub.files("me/imdb-ssti", "dataset")
    assert "imdb-ssti-date-50pct-1tok/train-00000-of-00001.parquet" in stored
    assert b"deliberately corrupted" in stored["README.md"]
    splits = datasets.load_dataset("me/imdb-ssti", "imdb-ssti-date-50pct-1tok")
    local = ssti_hf.SSTIConfig.from_name("imdb-ssti-date-50pct-1tok").build(sample)
    for split in local:
        assert splits[split]["text"] == local[split]["text"]
        assert splits[split]["ssti_spans"] == local[split]["ssti_spans"]
    assert datasets.get_dataset_config_names("me/imdb-ssti") == ["imdb-ssti-date-50pct-1tok", "imdb-ssti-html-25pct-10ptok-end-label0"]
    with pytest.raises(ValueError, match="already has config"):
        ssti_hf.push_configs("me/imdb-ssti", ["imdb-ssti-date-50pct-1tok"], source=sample)
    commits = len(local_hub.commits("me/imdb-ssti", "dataset"))
    ssti_hf.push_configs("me/imdb-ssti", ["imdb-ssti-date-50pct-1tok"], source=sample, seed=2, replace=True)
    assert len(local_hub.commits("me/imdb-ssti", "dataset")) == commits + 1  # one commit per push
    reloaded = datasets.load_dataset("me/imdb-ssti", "imdb-ssti-date-50pct-1tok", download_mode="force_redownload")
    assert reloaded["train"]["text"] != local["train"]["text"]
