import datasets
import pytest

from ssti_hf.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err  # errors go to stderr


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
    code, printed = run(capsys, "inject", "imdb-ssti-date-50pct-1tok", "--sample", "--source", "x", "--out", "o")
    assert code == 2 and "not allowed with argument" in printed and len(printed.strip().splitlines()) == 1


def test_output_folder_has_ordinary_permissions(tmp_path, capsys):
    import os

    out = tmp_path / "demo"
    assert run(capsys, "inject", "imdb-ssti-date-50pct-1tok", "--sample", "--out", str(out))[0] == 0
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask
