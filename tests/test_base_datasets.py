import pytest

from ssti_hf import BASE_DATASETS, BaseDataset, get_base_dataset, load_source, register_base_dataset

from .conftest import FIXTURES, SHARED_IMDB


@pytest.mark.parametrize(
    "name, classes, first_label",
    [("financial", 3, 0), ("commonsense_qa", 5, 0), ("bias_in_bios", 28, 0)],
)
def test_fixture_bases_load_as_text_and_label(name, classes, first_label):
    splits = get_base_dataset(name).load(FIXTURES / name)
    assert list(splits) == ["train", "test"]
    for split in splits.values():
        assert split.column_names == ["text", "label"]
        assert split.features["label"].num_classes == classes
        assert all(isinstance(t, str) and t for t in split["text"])
    assert splits["train"][0]["label"] == first_label


def test_commonsense_qa_text_has_question_and_lettered_choices():
    splits = get_base_dataset("commonsense_qa").load(FIXTURES / "commonsense_qa")
    first = splits["train"][1]
    assert first["text"] == "What do people use to cut paper?\nA. spoon\nB. scissors\nC. pillow\nD. cup\nE. rope"
    assert first["label"] == 1
    assert len(splits["test"]) == 3  # the validation split: the Hub test split has no answers


def test_bias_in_bios_uses_profession_names():
    splits = get_base_dataset("bias_in_bios").load(FIXTURES / "bias_in_bios")
    names = splits["train"].features["label"].names
    assert names[0] == "accountant" and names[13] == "nurse" and names[27] == "yoga_teacher"


def test_imdb_sample_ships_with_the_package(imdb_sample):
    assert {k: len(v) for k, v in imdb_sample.items()} == {"train": 2000, "test": 1000}
    assert imdb_sample["train"].features["label"].names == ["neg", "pos"]
    assert sum(imdb_sample["train"]["label"]) == 1000


@pytest.mark.skipif(not SHARED_IMDB.is_dir(), reason="full IMDB not present beside the checkout")
def test_full_imdb_loads_from_a_local_folder():
    splits = get_base_dataset("imdb").load(SHARED_IMDB)
    assert {k: len(v) for k, v in splits.items()} == {"train": 25000, "test": 25000}


def test_local_sources_and_their_errors(tmp_path):
    single = load_source(FIXTURES / "financial" / "train.parquet")
    assert list(single) == ["train"] and len(single["train"]) == 12
    with pytest.raises(ValueError, match=r"lacks split\(s\) \['test'\].*one file per split"):
        get_base_dataset("financial").load(FIXTURES / "financial" / "train.parquet")
    with pytest.raises(FileNotFoundError, match="source path './nowhere/imdb' does not exist"):
        get_base_dataset("imdb").load("./nowhere/imdb")
    (tmp_path / "data.txt").write_text("x")
    with pytest.raises(ValueError, match="unsupported type '.txt'"):
        load_source(tmp_path / "data.txt")
    with pytest.raises(ValueError, match="has no text column 'text'"):
        get_base_dataset("imdb").load(FIXTURES / "bias_in_bios")


def test_saved_to_disk_folders_load(tmp_path, imdb_sample):
    imdb_sample.save_to_disk(str(tmp_path / "saved"))
    assert len(get_base_dataset("imdb").load(tmp_path / "saved")["test"]) == 1000


def test_register_any_hub_dataset_with_named_columns():
    base = BaseDataset("bios_tiny", "someone/bios", label_names=tuple(get_base_dataset("bias_in_bios").label_names), text_column="hard_text", label_column="profession")
    register_base_dataset(base)
    try:
        assert len(get_base_dataset("bios_tiny").load(FIXTURES / "bias_in_bios")["train"]) == 12
        with pytest.raises(ValueError, match="already registered"):
            register_base_dataset(base)
    finally:
        del BASE_DATASETS["bios_tiny"]
    with pytest.raises(ValueError, match="no '-'"):
        register_base_dataset(BaseDataset("my-data", "x/y", label_names=("a", "b")))
    with pytest.raises(ValueError, match=r"unknown base dataset 'imbd' \(did you mean imdb\?\)"):
        get_base_dataset("imbd")
    with pytest.raises(ValueError, match="ships no sample"):
        get_base_dataset("financial").sample_path()
