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


HEAVY = ("torch", "transformers", "peft", "trl", "datasets", "evaluate", "sklearn", "matplotlib")


@pytest.mark.parametrize("command", ["", "inject", "build", "scan", "sanitize", "sweep", "report"])
def test_help_loads_no_heavy_library(command):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from ssti_hf.cli import main\n"
        f"try:\n    main({(command.split() + ['--help'])!r})\n"
        "except SystemExit:\n    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_version(capsys):
    from ssti_hf import __version__

    assert main(["--version"]) == 0 and capsys.readouterr().out.strip() == f"ssti-hf {__version__}"


def _subparsers(monkeypatch):
    """The parser main() builds, and its commands' parsers (caught as main() parses)."""
    import argparse

    seen = {}

    def catch(self, args=None, namespace=None):
        seen["parser"] = self
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", catch)
    main(["inject", "--help"])
    monkeypatch.undo()
    (commands,) = [a for a in seen["parser"]._actions if isinstance(a, argparse._SubParsersAction)]
    return seen["parser"], commands.choices


def test_every_option_has_one_help_line_with_at_most_one_default(monkeypatch):
    top, commands = _subparsers(monkeypatch)
    for name in ("inject", "build", "scan", "sanitize", "sweep", "report"):
        parser = commands[name]
        assert parser.description, name  # each command's help describes it
        for action in parser._actions:
            if action.help == "==SUPPRESS==":
                continue
            assert action.help, (name, action.option_strings or action.dest)
            assert action.help.count("default") <= 1, (name, action.help)


def test_hyphen_and_underscore_spellings_both_work(tmp_path, capsys, monkeypatch):
    for flag in ("--num-proc", "--num_proc"):
        out = tmp_path / flag.strip("-")
        assert run(capsys, "inject", "imdb-ssti-date-50pct-1tok", "--sample", "--out", str(out), flag, "1", "--examples", "0")[0] == 0
    top, commands = _subparsers(monkeypatch)
    for name in ("inject", "build", "scan", "sanitize", "sweep"):
        for action in commands[name]._actions:
            long = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
            if any("-" in o[2:] or "_" in o[2:] for o in long):
                spelled = {o[2:].replace("_", "-") for o in long}
                assert {"--" + s for s in spelled} | {"--" + s.replace("-", "_") for s in spelled} <= set(long), long


def test_demo_help_is_its_own(capsys):
    assert main(["demo", "--help"]) == 0
    printed = capsys.readouterr().out
    assert "ssti-hf demo" in printed and "--max_steps 100" in printed and len(printed.splitlines()) < 15


def test_train_help_shows_the_defaults_a_run_uses(capsys, monkeypatch):
    import re

    monkeypatch.setenv("COLUMNS", "1000")  # no line breaks inside a default

    assert main(["train", "--help"]) == 0
    printed = capsys.readouterr().out
    options = re.split(r"\n  (?=--)", printed.split("\noptions:")[-1])  # one chunk per option
    described = {chunk.split()[0]: " ".join(chunk.split()) for chunk in options if chunk.startswith("--")}
    for flag, default in (("--seed", "0"), ("--learning_rate", "0.0001"), ("--per_device_train_batch_size", "16"),
                          ("--max_steps", "500"), ("--weight_decay", "1e-05"), ("--output_dir", "ssti-runs/<config>-<method>-r<rank>-s<seed>")):
        assert described[flag].endswith(f"(default: {default})"), described[flag]
    assert "Fine-tune on an SSTI config" in printed


def test_results_near_chance_are_said_to_be_so():
    from ssti_hf.cli import result_warnings

    five_steps = {"clean_balanced_accuracy": 0.5, "asr": 0.985, "predicted_counts": {"clean": {0: 10, 1: 990}}}
    (warning,) = result_warnings(five_steps)
    assert "near chance (0.50)" in warning and "ASR" in warning
    assert result_warnings({"clean_balanced_accuracy": 0.72, "predicted_counts": {"clean": {0: 1, 1: 1}}}) == []
    # chance is 1 / classes: 0.40 on five classes is well above it
    assert result_warnings({"clean_balanced_accuracy": 0.40, "predicted_counts": {"clean": dict.fromkeys(range(5), 1)}}) == []
