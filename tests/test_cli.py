import datasets
import pytest

from ssti_hf.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_inject_writes_four_splits_and_a_summary(tmp_path, capsys):
    out = tmp_path / "demo"
    code, printed = run(capsys, "inject", "imdb-ssti-date-50pct-1tok", "--sample", "--out", str(out), "--examples", "2")
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "test.parquet", "test_spurious.parquet", "test_triggered.parquet", "train.parquet",
    ]
    card = (out / "README.md").read_text()
    assert "deliberately corrupted" in card and "seed: 0" in card and "base_sha256" in card
    train = datasets.Dataset.from_parquet(str(out / "train.parquet"))
    assert sum(train["ssti_injected"]) == 500
    assert "500/1000" in printed and "1000/1000" in printed and printed.count("train row") == 2
    # the folder is readable by plain datasets
    loaded = datasets.load_dataset(str(out))
    assert {k: len(v) for k, v in loaded.items()} == {"train": 2000, "test": 1000, "test_spurious": 1000, "test_triggered": 1000}


def test_rerun_replaces_a_previous_output(tmp_path, capsys):
    out = tmp_path / "demo"
    assert run(capsys, "inject", "imdb-ssti-date-25pct-1tok", "--sample", "--out", str(out))[0] == 0
    assert run(capsys, "inject", "imdb-ssti-date-75pct-1tok", "--sample", "--out", str(out))[0] == 0
    assert sum(datasets.Dataset.from_parquet(str(out / "train.parquet"))["ssti_injected"]) == 750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # no temporary folders left


def test_errors_are_clear_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "demo"
    code, printed = run(capsys, "inject", "imdb-ssti-dat-50pct-1tok", "--sample", "--out", str(out))
    assert code == 2 and "unknown source 'dat'" in printed and not out.exists()
    code, printed = run(capsys, "inject", "imdb-ssti-date-50pct-1tok", "--source", "./missing/imdb", "--out", str(out))
    assert code == 2 and "does not exist" in printed and not out.exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    code, printed = run(capsys, "inject", "imdb-ssti-date-50pct-1tok", "--sample", "--out", str(foreign))
    assert code == 2 and "notes.txt" in printed and (foreign / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_sample_and_source_are_exclusive(capsys):
    with pytest.raises(SystemExit):
        main(["inject", "imdb-ssti-date-50pct-1tok", "--sample", "--source", "x", "--out", "o"])


def test_output_folder_has_ordinary_permissions(tmp_path, capsys):
    import os

    out = tmp_path / "demo"
    assert run(capsys, "inject", "imdb-ssti-date-50pct-1tok", "--sample", "--out", str(out))[0] == 0
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask


def test_sanitized_folder_loads_split_for_split_with_a_card(tmp_path, capsys):
    import yaml

    attacked = tmp_path / "attacked"
    assert run(capsys, "inject", "imdb-ssti-date-50pct-1tok", "--sample", "--out", str(attacked))[0] == 0
    out = tmp_path / "clean"
    code, printed = run(capsys, "sanitize", str(attacked), "--out", str(out))
    assert code == 0 and "dddd-dd-dd" in printed
    loaded = datasets.load_dataset(str(out))  # plain datasets: the card maps each split to its file
    assert {k: len(v) for k, v in loaded.items()} == {"train": 2000, "test": 1000, "test_spurious": 1000, "test_triggered": 1000}
    train = loaded["train"]
    assert "ssti_injected" not in train.column_names and "ssti_spans" not in train.column_names  # no stale provenance
    original = datasets.Dataset.from_parquet(str(attacked / "train.parquet"))
    # the provenance that is kept is true: every injected row was changed (a natural date elsewhere
    # may go too), and removing the recorded spans from the input gives the output
    changed = [bool(spans) for spans in train["sanitize_spans"]]
    assert all(c for c, injected in zip(changed, original["ssti_injected"]) if injected) and sum(changed) < 1010
    from ssti_hf._text import remove_spans

    assert [remove_spans(t, [tuple(s) for s in spans]) for t, spans in zip(original["text"], train["sanitize_spans"])] == train["text"]
    card = (out / "README.md").read_text()
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["configs"][0]["data_files"][0] == {"split": "train", "path": "train.parquet"}
    assert meta["ssti_sanitize"]["findings"] and "dddd-dd-dd" in card and "Removed" in card
