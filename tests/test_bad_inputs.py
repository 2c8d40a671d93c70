"""Bad inputs and faults, one table per surface: every case ends in exit 2 (or the API's exception)
with one line naming the problem, no traceback, and nothing written or changed (the working folder
is snapshotted before and after). Killed processes and a failing Hub (tests/hub_server.py's
fault injection) are here too."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import datasets
import pandas as pd
import pytest

import ssti_hf
from ssti_hf.cli import main
from ssti_hf.errors import HubError

IMDB = "imdb-ssti-date-50pct-1tok"
ROOT = Path(__file__).resolve().parents[1]


# -- the working folder every case runs in ------------------------------------------------------------


def _rows(n: int, offset: int = 0) -> dict:
    words = "good film bad plot fine acting dull story great cast".split()
    return {"text": [f"{words[(i + offset) % 10]} review number {i} {words[(3 * i) % 10]}" for i in range(n)],
            "label": [i % 2 for i in range(n)]}


def _parquet(path: Path, columns: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_dict(columns).to_parquet(str(path))


@pytest.fixture
def ws(tmp_path, monkeypatch):
    """tmp_path as the current folder, with small sources and a user's own folder in it."""
    monkeypatch.chdir(tmp_path)
    _parquet(tmp_path / "data" / "train.parquet", _rows(40))
    _parquet(tmp_path / "data" / "test.parquet", _rows(20, 1))
    mine = tmp_path / "mine"  # a user's dataset with its own card
    _parquet(mine / "train.parquet", _rows(10))
    (mine / "README.md").write_text("---\nlicense: mit\n---\n# My own dataset\n")
    bare = tmp_path / "bare"  # a user's folder holding only split files, as ours do
    _parquet(bare / "train.parquet", _rows(10))
    _parquet(bare / "test.parquet", _rows(10))
    (tmp_path / "afile.txt").write_text("a file, not a folder\n")
    _parquet(tmp_path / "empty" / "train.parquet", {"text": [], "label": []})
    _parquet(tmp_path / "empty" / "test.parquet", {"text": [], "label": []})
    _parquet(tmp_path / "nolabel" / "train.parquet", {"text": ["a b", "c d"], "label": [0, None]})
    _parquet(tmp_path / "nolabel" / "test.parquet", {"text": ["a b", "c d"], "label": [0, 1]})
    _parquet(tmp_path / "label7" / "train.parquet", {"text": ["a b", "c d"], "label": [0, 7]})
    _parquet(tmp_path / "label7" / "test.parquet", {"text": ["a b", "c d"], "label": [0, 1]})
    _parquet(tmp_path / "listlabel" / "train.parquet", {"text": ["a b", "c d"], "label": [[0], [1]]})
    _parquet(tmp_path / "listlabel" / "test.parquet", {"text": ["a b", "c d"], "label": [[0], [1]]})
    _parquet(tmp_path / "blank" / "train.parquet", {"text": ["a b", "", "c d", "e"], "label": [0, 1, 1, 0]})
    _parquet(tmp_path / "blank" / "test.parquet", {"text": ["a b", "c d"], "label": [0, 1]})
    _parquet(tmp_path / "notext" / "train.parquet", {"review": ["a b"], "label": [0]})
    _parquet(tmp_path / "notext" / "test.parquet", {"review": ["a b"], "label": [0]})
    (tmp_path / "latin1.csv").write_bytes("text,label\ncaf\xe9 ok,0\nna\xefve,1\n".encode("latin-1"))
    (tmp_path / "latin1.jsonl").write_bytes('{"text": "caf\xe9", "label": 0}\n'.encode("latin-1"))
    (tmp_path / "notes.txt").write_text("not a dataset\n")
    (tmp_path / "void").mkdir()
    # pandas writes a frame of no rows as a parquet file of no row groups, which datasets cannot read
    pd.DataFrame({"text": pd.Series([], dtype=str), "label": pd.Series([], dtype="int64")}).to_parquet(tmp_path / "norows.parquet")
    (tmp_path / "garbage.parquet").write_bytes(b"not a parquet file at all")
    (tmp_path / "broken.jsonl").write_text('{"text": "a b", "label": 0}\n{"text": \n')
    _parquet(tmp_path / "testnolabel" / "train.parquet", _rows(10))  # the train split passes (and is cast) first
    _parquet(tmp_path / "testnolabel" / "test.parquet", {"text": ["a b", "c d"], "label": [None, 1]})
    _parquet(tmp_path / "mixed" / "train.parquet", _rows(10))  # datasets would read the parquet file only
    (tmp_path / "mixed" / "more.csv").write_text("text,label\na b,0\nc d,1\n")
    return tmp_path


def snapshot(folder: Path) -> dict:
    """Every file and folder below ``folder`` (hidden ones too), with a digest of each file."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


def fails_cleanly(capsys, folder: Path, argv: list[str], expect: str) -> str:
    """Run the command in-process: exit 2, one line on stderr matching ``expect``, nothing changed."""
    before = snapshot(folder)
    code = main(argv)
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if "error" in line.lower()]  # (a Hub upload draws progress bars on stderr too)
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    assert len(lines) == 1 and lines[0].startswith("ssti-hf: error: ") and err.strip().splitlines()[-1] == lines[0], err
    assert re.search(expect, lines[0]), lines[0]
    assert snapshot(folder) == before
    return lines[0]


# -- inject and build: arguments, sources, outputs ---------------------------------------------------

DATA_CASES = [
    # (argv, what the line must say)
    (["inject", "imdb-ssti-dat-50pct-1tok", "--source", "data", "--out", "o"], r"unknown source 'dat'"),
    (["inject", "imdb-ssti-date-150pct-1tok", "--source", "data", "--out", "o"], r"bad rate '150pct'.*0\.\.100"),
    (["inject", "imdb-ssti-date-50pct-10000000tok", "--source", "data", "--out", "o"], r"bad amount '10000000tok'.*1\.\.1000"),
    (["inject", "imdb-ssti-date-50pct-1tok-label5", "--source", "data", "--out", "o"], r"label5|out of range"),
    (["inject", IMDB, "--source", "data", "--out", "o", "--examples", "-1"], r"--examples.*-1 is out of range: give an integer >= 0"),
    (["inject", IMDB, "--source", "data", "--out", "o", "--num-proc", "0"], r"--num-proc.*>= 1"),
    (["inject", IMDB, "--source", "data", "--out", "o", "--seed", "abc"], r"--seed.*'abc' is not an integer"),
    (["inject", IMDB, "--source", "data", "--out", "o", "--seed", "-1"], r"--seed.*>= 0"),
    (["inject", IMDB, "--source", "data", "--out", "o", "--bogus"], r"unrecognized arguments: --bogus"),
    (["inject", IMDB, "--source", "data"], r"required: --out"),
    (["inject", IMDB, "--sample", "--source", "data", "--out", "o"], r"not allowed with argument"),
    (["inject", IMDB, "--source", "./nope", "--out", "o"], r"source path './nope' does not exist"),
    (["inject", IMDB, "--source", "data/imdbb", "--out", "o"], r"source path 'data/imdbb' does not exist"),
    (["inject", IMDB, "--source", "dta/train.parquet", "--out", "o"], r"source path 'dta/train.parquet' does not exist"),
    (["inject", IMDB, "--source", "data", "--out", "data"], r"--out 'data' overlaps the source"),
    (["inject", IMDB, "--source", "data", "--out", "data/out"], r"overlaps the source"),
    (["inject", IMDB, "--source", "data/train.parquet", "--out", "data"], r"overlaps the source"),
    (["inject", IMDB, "--source", "data", "--out", "afile.txt/out"], r"lies under .*afile.txt.*a file"),
    (["inject", IMDB, "--source", "data", "--out", "afile.txt"], r"exists and is not a folder"),
    (["inject", IMDB, "--source", "data", "--out", "mine"], r"'mine' holds files ssti-hf did not write \(README.md, train.parquet\)"),
    (["inject", IMDB, "--source", "data", "--out", "bare"], r"'bare' holds files ssti-hf did not write"),
    (["inject", IMDB, "--source", "empty", "--out", "o"], r"'empty': split 'train' has no rows"),
    (["inject", IMDB, "--source", "nolabel", "--out", "o"], r"row 1 has no label \(None\)"),
    (["inject", IMDB, "--source", "label7", "--out", "o"], r"labels \[7\] fall outside 0\.\.1"),
    (["inject", IMDB, "--source", "listlabel", "--out", "o"], r"label column holds list<item: int64> values, not class ids 0\.\.1"),
    (["scan", "listlabel"], r"label column 'label' holds list<item: int64> values, not labels"),
    (["inject", IMDB, "--source", "blank", "--out", "o"], r"empty text.*row 1"),
    (["inject", IMDB, "--source", "notext", "--out", "o"], r"no text column 'text'"),
    (["inject", IMDB, "--source", "latin1.csv", "--out", "o"], r"latin1.csv' is not UTF-8"),
    (["inject", IMDB, "--source", "latin1.jsonl", "--out", "o"], r"latin1.jsonl' is not UTF-8 text \(byte b'\\xe9' at offset 13\)"),
    (["inject", IMDB, "--source", "notes.txt", "--out", "o"], r"unsupported type '.txt'"),
    (["inject", IMDB, "--source", "void", "--out", "o"], r"source folder 'void' is empty"),
    (["inject", "poison", "--source", "data", "--out", "o"], r"config name 'poison'|poison"),
    (["build", IMDB, "--source", "data", "--out", "mine"], r"'mine' holds files ssti-hf did not write"),
    (["build", IMDB, "--source", "data", "--out", "data"], r"overlaps the source"),
    (["build", IMDB, "--source", "data", "--out", "afile.txt"], r"exists and is not a folder"),
    (["build", IMDB, "imbd-ssti-date-50pct-1tok", "--source", "data", "--out", "o"], r"unknown base dataset 'imbd'.*did you mean imdb"),
    (["build", IMDB, "financial-ssti-date-50pct-1tok", "--sample", "--out", "o"], r"--sample needs configs of one base dataset"),
    (["build", IMDB, "--source", "data", "--out", "o", "--seed", "-3"], r"--seed.*>= 0"),
    (["build", IMDB, "--source", "./gone", "--out", "o"], r"source path './gone' does not exist"),
    (["build", IMDB, "--source", "notext", "--out", "new/deep/o"], r"no text column 'text'"),  # made no folders either
    (["build", IMDB, "--source", "data"], r"one of the arguments --out --push-to-hub(/--push_to_hub)? is required"),
    (["report", "nothing-here"], r"'nothing-here' is not a sweep results folder"),
    (["report", "data"], r"'data' is not a sweep results folder"),
    (["scan", "./nope.parquet"], r"source path './nope.parquet' does not exist"),
    (["scan", "data/imdbb"], r"source path 'data/imdbb' does not exist"),
    (["scan", "data", "--label-column", "stars"], r"no label column 'stars'"),
    (["scan", "data", "--split", "validation"], r"no split 'validation'"),
    (["scan", "empty"], r"'empty': split 'train' has no rows"),
    (["scan", "latin1.csv"], r"not UTF-8"),
    (["scan", "norows.parquet"], r"source file 'norows.parquet' has no rows"),
    (["scan", "garbage.parquet"], r"cannot read source 'garbage.parquet': .*not a parquet file"),
    (["sanitize", "broken.jsonl", "--out", "o"], r"cannot read source 'broken.jsonl'"),
    (["scan", "mixed"], r"source folder 'mixed' holds files of several types \(csv, parquet\): only one would be read"),
    (["inject", IMDB, "--source", "mixed", "--out", "o"], r"source folder 'mixed' holds files of several types"),
    (["scan", "data", "--top", "-1"], r"--top.*>= 0"),
    (["scan", "data", "--model", "./no-model"], r"--model './no-model' is not a folder"),
    (["sanitize", "data", "--out", "mine"], r"--out 'mine' already exists"),
    (["sanitize", "data", "--out", "afile.txt/x"], r"a file, not a folder|lies under"),
    (["frobnicate"], r"invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize("argv,expect", DATA_CASES, ids=[" ".join(a)[:60] for a, _ in DATA_CASES])
def test_data_commands(ws, capsys, argv, expect):
    fails_cleanly(capsys, ws, argv, expect)


@pytest.mark.parametrize("argv,expect", [
    (["scan", "broken.jsonl"], "cannot read source 'broken.jsonl'"),
    (["inject", IMDB, "--source", "testnolabel", "--out", "o"], "imdb split 'test': row 0 has no label (None)"),
])
def test_a_bad_local_source_is_one_line_on_stderr(ws, argv, expect):
    """No progress bar or library log line beside the error: the whole of stderr is the one line
    (a process of its own: the tests turn datasets' progress bars off)."""
    done = _spawn(ws, *argv)
    out, err = done.communicate(timeout=120)
    assert done.returncode == 2 and not out.strip()
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"ssti-hf: error: {expect}"), err


def test_an_existing_config_is_not_rebuilt_without_replace(ws, capsys):
    assert main(["build", IMDB, "--source", "data", "--out", "o"]) == 0
    fails_cleanly(capsys, ws, ["build", IMDB, "--source", "data", "--out", "o", "--seed", "1"], r"already has config\(s\).*--replace")


def test_our_own_output_is_replaced_and_a_second_inject_of_it_is_refused(ws, capsys):
    assert main(["inject", IMDB, "--source", "data", "--out", "o"]) == 0
    assert main(["inject", "imdb-ssti-date-25pct-1tok", "--source", "data", "--out", "o"]) == 0  # ours: replaced
    fails_cleanly(capsys, ws, ["inject", IMDB, "--source", "o", "--out", "o"], r"overlaps the source")
    (ws / "o" / "my-notes.txt").write_text("added by the user")  # ours no longer: replacing it would lose the notes
    fails_cleanly(capsys, ws, ["inject", IMDB, "--source", "data", "--out", "o"], r"'o' holds files ssti-hf did not write \(my-notes.txt\)")


@pytest.mark.parametrize("setting", ["HF_HUB_OFFLINE", "unreachable"])
def test_a_hub_id_fails_fast_offline_or_unreachable(ws, capsys, monkeypatch, setting):
    from huggingface_hub import constants

    if setting == "HF_HUB_OFFLINE":
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:  # a port nothing listens on
        monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
        monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    started = time.perf_counter()
    line = fails_cleanly(capsys, ws, ["inject", IMDB, "--source", "someone/no-such-data", "--out", "o"],
                         r"'someone/no-such-data'.*(HF_HUB_OFFLINE|cannot reach the Hub)")
    assert time.perf_counter() - started < 5, line


def test_a_hub_model_fails_fast_when_the_hub_is_unreachable(ws, capsys, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # a port nothing listens on
    started = time.perf_counter()
    fails_cleanly(capsys, ws, ["train", "--sample", "--model", "someone/some-model", "--output_dir", "run"],
                  r"model 'someone/some-model' \(taken for a Hub model id.*cannot reach the Hub at http://127.0.0.1:9")
    assert time.perf_counter() - started < 10


# -- the API raises the same messages -----------------------------------------------------------------


def _api_cases():
    from ssti_hf import ItemInjection, SSTIConfig, get_source, spurious_transform

    data = datasets.Dataset.from_dict(_rows(20))
    nan = datasets.Dataset.from_dict({"text": ["a b", "c d", "e f"], "label": [0.0, float("nan"), 1.0]})
    none = datasets.Dataset.from_dict({"text": ["a b", "c d", "e f"], "label": [0, None, 1]})
    return [
        ("scan NaN labels", lambda: ssti_hf.scan(nan), ValueError, r"row 1 has no label \(NaN\)"),
        ("scan None labels", lambda: ssti_hf.scan(none), ValueError, r"row 1 has no label \(None\)"),
        ("scan missing path", lambda: ssti_hf.scan("./missing.parquet"), FileNotFoundError, r"does not exist"),
        ("transform seed str", lambda: spurious_transform(data, ItemInjection(get_source("date")), 1, 0.5, seed="0"), ValueError,
         r"seed must be an int >= 0, got '0'"),
        ("config seed -1", lambda: SSTIConfig.from_name(IMDB, seed=-1), ValueError, r"config seed must be an int >= 0"),
        ("source seed str", lambda: get_source("date", seed="x"), ValueError, r"seed must be an int >= 0"),
        ("amount 10**7", lambda: ItemInjection(get_source("date"), amount=10**7), ValueError, r"1\.\.1000"),
        ("load_dataset missing", lambda: ssti_hf.load_dataset(IMDB, "./missing"), FileNotFoundError, r"'./missing' does not exist"),
        ("load_dataset seed str", lambda: ssti_hf.load_dataset(IMDB, "data", seed="1"), ValueError, r"seed must be an int"),
        ("write_configs user card", lambda: ssti_hf.write_configs("mine", [IMDB], source="data"), ValueError, r"did not write"),
        ("write_configs into source", lambda: ssti_hf.write_configs("data", [IMDB], source="data"), ValueError, r"overlaps the source"),
        ("write_configs no names", lambda: ssti_hf.write_configs("o", [], source="data"), ValueError, r"at least one config"),
        ("transform empty text", lambda: spurious_transform(datasets.Dataset.from_dict({"text": ["a", " "], "label": [1, 1]}),
                                                            ItemInjection(get_source("date")), 1, 1.0), ValueError, r"empty text"),
    ]


API_CASES = _api_cases()


@pytest.mark.parametrize("name,call,kind,expect", API_CASES, ids=[c[0] for c in API_CASES])
def test_api(ws, name, call, kind, expect):
    before = snapshot(ws)
    with pytest.raises(kind, match=expect):
        call()
    assert snapshot(ws) == before


# -- train and sweep: flags and grids checked before anything is written ---------------------------------

TRAIN_CASES = [
    (["--max_length", "0"], r"--max_length must be >= 1"),
    (["--entropy_samples", "-5"], r"--entropy_samples must be >= 0"),
    (["--eval_batch_tokens", "0"], r"--eval_batch_tokens must be >= 1"),
    (["--rank", "0"], r"rank must be >= 1"),
    (["--lora_dropout", "1.5"], r"--lora_dropout must be a number in \[0, 1\)"),
    (["--max_steps", "abc"], r"--max_steps.*invalid int value: 'abc'"),
    (["--model", "./no/such/model"], r"model path './no/such/model' does not exist"),
    (["--model", "data/tiny-bert"], r"model path 'data/tiny-bert' does not exist"),  # a mistyped path, not a Hub id
    (["--config", "imdb-ssti-nope-50pct-1tok"], r"unknown source 'nope'"),
    (["--source", "./missing-data"], r"'./missing-data' does not exist"),
    (["--bogus_flag", "1"], r"--bogus_flag"),
    (["--method", "qlora"], r"invalid choice: 'qlora'"),
    (["--output_dir", "afile.txt"], r"exists and is not a folder"),
    (["--source", "data", "--output_dir", "data/run"], r"overlaps the source"),
    (["--learning_rate", "-1"], r"--learning_rate must be a finite number > 0, got -1"),
    (["--per_device_train_batch_size", "0"], r"--per_device_train_batch_size must be >= 1"),
    (["--max_steps", "0"], r"--max_steps must be >= 1 \(or -1"),
]


@pytest.mark.parametrize("flags,expect", TRAIN_CASES, ids=[" ".join(f) for f, _ in TRAIN_CASES])
def test_train(ws, capsys, flags, expect):
    argv = ["train", "--sample", "--output_dir", "run", *flags]
    if "--source" in flags:
        argv.remove("--sample")
    fails_cleanly(capsys, ws, argv, expect)


def _grid(ws: Path, text: str) -> str:
    (ws / "g.yaml").write_text(text)
    return "g.yaml"


GOOD = "base: imdb\nrate: [50]\nrank: [2]\nseed: [0]\nmodel: minilm\nssti: {sample: true}\ntraining: {max_steps: 1}\n"
SWEEP_CASES = [
    ("missing grid", None, ["missing.yaml"], r"grid file 'missing.yaml' does not exist"),
    ("broken yaml", "base: imdb\nrank: [1, 2\n", [], r"not valid YAML at line \d"),
    ("not a mapping", "- a\n- b\n", [], r"must be a mapping"),
    ("unknown key", GOOD + "ranks: [1]\n", [], r"unknown key\(s\) \['ranks'\]"),
    ("rank abc", GOOD.replace("rank: [2]", "rank: [abc]"), [], r"rank 'abc' is not an int >= 1"),
    ("rank 0", GOOD.replace("rank: [2]", "rank: [0]"), [], r"rank 0 is not an int >= 1"),
    ("seed -1", GOOD.replace("seed: [0]", "seed: [-1]"), [], r"seed -1 is not an int >= 0"),
    ("rate 150", GOOD.replace("rate: [50]", "rate: [150]"), [], r"rate 150 is not an int 0\.\.100"),
    ("method", GOOD + "method: [qlora]\n", [], r"method 'qlora' is not one of"),
    ("empty axis", GOOD.replace("rank: [2]", "rank: []"), [], r"axis 'rank' is empty"),
    ("max_steps abc", GOOD.replace("max_steps: 1", "max_steps: abc"), [], r"training.max_steps: 'abc' is not a int"),
    ("unknown flag", GOOD.replace("max_steps: 1", "max_stesp: 1"), [], r"training.max_stesp is not a flag.*did you mean max_steps"),
    ("token in grid", GOOD.replace("max_steps: 1", "max_steps: 1, hub_token: hf_secret"), [], r"hub_token holds a token; set HF_TOKEN"),
    ("learning rate -1", GOOD.replace("max_steps: 1", "max_steps: 1, learning_rate: -1.0"), [], r"--learning_rate must be a finite"),
    ("max_length 0", GOOD.replace("sample: true", "sample: true, max_length: 0"), [], r"--max_length must be >= 1"),
    ("missing data", GOOD.replace("ssti: {sample: true}", "data: ./nope"), [], r"'./nope' does not exist"),
    ("missing model", GOOD.replace("model: minilm", "model: ./no-model"), [], r"model path './no-model' does not exist"),
    ("bad config name", "config: [imdb-ssti-date-50pct-0tok]\n", [], r"bad amount '0tok'"),
    ("workers 0", GOOD, ["--workers", "0"], r"--workers.*>= 1"),
    ("shard 3/2", GOOD, ["--shard", "3/2"], r"--shard must be i/n with 0 <= i < n"),
    ("results a file", GOOD, ["--results", "afile.txt"], r"exists and is not a folder"),
    ("results foreign", GOOD, ["--results", "mine"], r"'mine' is not empty and holds no grid.json"),
]


@pytest.mark.parametrize("name,grid,extra,expect", SWEEP_CASES, ids=[c[0] for c in SWEEP_CASES])
def test_sweep(ws, capsys, name, grid, extra, expect):
    path = _grid(ws, grid) if grid is not None else None
    argv = ["sweep", *([path] if path else []), "--no-progress", *extra]
    fails_cleanly(capsys, ws, argv, expect)


def test_a_results_folder_of_another_grid_is_left_alone(ws, capsys):
    results = ws / "res"
    results.mkdir()
    (results / "grid.json").write_text(json.dumps({"hash": "0" * 16, "grid": {"base": "imdb"}}))
    fails_cleanly(capsys, ws, ["sweep", _grid(ws, GOOD), "--results", "res", "--no-progress"], r"holds runs of another grid")


def test_a_truncated_run_file_is_named_by_report(ws, capsys):
    results = ws / "res"
    (results / "runs").mkdir(parents=True)
    (results / "grid.json").write_text(json.dumps({"hash": "x", "grid": {"base": "imdb", "rate": [50], "rank": [2]}}))
    (results / "runs" / "imdb-ssti-date-50pct-1tok-lora-r2-s0-minilm.json").write_text('{"config": "imdb-ss')
    fails_cleanly(capsys, ws, ["report", "res"], r"imdb-ssti-date-50pct-1tok-lora-r2-s0-minilm.json' is not a complete JSON file")


def test_a_damaged_source_or_cache_file_is_named(ws, capsys, monkeypatch, tmp_path_factory):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path_factory.mktemp("cache"))
    bad = ws / "bad"
    bad.mkdir()
    (bad / "train.parquet").write_bytes((ws / "data" / "train.parquet").read_bytes()[:300])
    (bad / "test.parquet").write_bytes((ws / "data" / "test.parquet").read_bytes())
    fails_cleanly(capsys, ws, ["inject", IMDB, "--source", "bad", "--out", "o"], r"cannot read source 'bad': Parquet magic bytes")
    assert main(["inject", IMDB, "--source", "data", "--out", "o"]) == 0
    arrow = next(Path(datasets.config.HF_DATASETS_CACHE).rglob("data-train.arrow"))
    damaged = arrow.with_name("damaged")
    damaged.write_bytes(arrow.read_bytes()[:200])
    os.replace(damaged, arrow)  # a new file: this process may still map the old one
    fails_cleanly(capsys, ws, ["inject", IMDB, "--source", "data", "--out", "o2"],
                  r"the datasets cache of source 'data' is damaged \(.*\); delete .*cache.* and run again")


def test_report_and_train_never_write_among_a_users_files(ws, capsys):
    results = ws / "res"
    (results / "runs").mkdir(parents=True)
    grid = {"base": "imdb", "rate": [50], "rank": [2]}
    (results / "grid.json").write_text(json.dumps({"hash": "x", "grid": grid}))
    run = {"run_id": "imdb-ssti-date-50pct-1tok-lora-r2-s0-minilm", "config": IMDB, "seed": 0, "rank": 2, "method": "lora"}
    (results / "runs" / f"{run['run_id']}.json").write_text(json.dumps(run))
    fails_cleanly(capsys, ws, ["report", "res", "--out", "mine"], r"--out 'mine' holds files that are not a report of ssti-hf")
    fails_cleanly(capsys, ws, ["train", "--sample", "--output_dir", "mine"], r"--output_dir 'mine' holds files a run does not write \(README.md")


def test_debug_shows_the_traceback(ws, capsys, monkeypatch):
    assert main(["--debug", "inject", IMDB, "--source", "./nope", "--out", "o"]) == 2
    assert "Traceback" in capsys.readouterr().err
    monkeypatch.setenv("SSTI_HF_DEBUG", "1")
    assert main(["inject", IMDB, "--source", "./nope", "--out", "o"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("ssti-hf: error: source path './nope'")


def test_help_states_the_contract(capsys):
    for command in ([], ["inject"], ["build"], ["sweep"], ["report"], ["scan"], ["sanitize"], ["train"]):
        assert main([*command, "--help"]) == 0
        assert "1 only for scan's 'flagged', 2 any error" in " ".join(capsys.readouterr().out.split())


# -- a Hub that fails: every way ends in one line, and the Hub is left as it was --------------------------


def _hub_state(hub) -> dict:
    return {repo: hub.files(repo[1], repo[0]) for repo in hub.repos()}


def _tiny_peft():
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37)
    return get_peft_model(BertForSequenceClassification(config), LoraConfig(task_type="SEQ_CLS", r=2, target_modules=["query"]))


def _down(hub, monkeypatch):
    hub.stop()


def _wrong_token(hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_" + "0" * 32)


HUB_FAULTS = {
    "wrong token (401)": (_wrong_token, r"refused the token \(HTTP 401\)"),
    "server down": (_down, r"cannot reach the Hub at http://127\.0\.0\.1:\d+ \(.*refused"),
    "HTTP 500 on commit": (lambda hub, mp: hub.fail("POST", r"/commit/"), r"failed \(HTTP 500\)"),
    "HTTP 500 on preupload": (lambda hub, mp: hub.fail("POST", r"/preupload/"), r"failed \(HTTP 500\)"),
    "HTTP 403 on create": (lambda hub, mp: hub.fail("POST", r"/api/repos/create", status=403), r"may not do this \(HTTP 403\)"),
    "gone mid-upload": (lambda hub, mp: hub.fail("PUT", r"/lfs-upload/", status=None), r"cannot reach the Hub|Hub"),
}


@pytest.fixture
def no_backoff(monkeypatch):
    """huggingface_hub retries a failed upload for ~25 s (1, 2, 4, 8, 8 s): the same tries, without the waits."""
    from huggingface_hub.utils import _http

    monkeypatch.setattr(_http.time, "sleep", lambda seconds: None)


@pytest.mark.parametrize("fault", list(HUB_FAULTS))
def test_build_push_to_a_failing_hub(ws, capsys, local_hub, monkeypatch, no_backoff, fault):
    break_it, expect = HUB_FAULTS[fault]
    before = _hub_state(local_hub)
    break_it(local_hub, monkeypatch)
    line = fails_cleanly(capsys, ws, ["build", IMDB, "--source", "data", "--push-to-hub", "me/ssti"], expect)
    assert "'me/ssti'" in line
    if fault != "server down":
        assert _hub_state(local_hub) == before  # no repo left behind, empty or not


@pytest.mark.parametrize("fault", [f for f in HUB_FAULTS if f != "HTTP 403 on create"])
def test_push_adapter_to_a_failing_hub(ws, local_hub, monkeypatch, no_backoff, fault):
    break_it, expect = HUB_FAULTS[fault]
    model = _tiny_peft()
    before = _hub_state(local_hub)
    break_it(local_hub, monkeypatch)
    with pytest.raises(HubError, match=expect):
        ssti_hf.push_adapter(model, "me/adapter", ssti_hf.SSTIConfig.from_name(IMDB), {"gap": 0.1})
    if fault != "server down":
        assert _hub_state(local_hub) == before


def test_a_failed_push_keeps_an_existing_repo_as_it_was(ws, local_hub, no_backoff):
    ssti_hf.push_configs("me/ssti", [IMDB], source="data")
    before = _hub_state(local_hub)
    local_hub.fail("POST", r"/commit/")
    with pytest.raises(HubError, match=r"pushing to the Hub dataset repo 'me/ssti': the Hub at .* failed \(HTTP 500\)"):
        ssti_hf.push_configs("me/ssti", ["imdb-ssti-country-50pct-1tok"], source="data")
    assert _hub_state(local_hub) == before


def test_push_adapter_is_one_commit_with_its_card(local_hub):
    ssti_hf.push_adapter(_tiny_peft(), "me/adapter", ssti_hf.SSTIConfig.from_name(IMDB), {"gap": 0.1})
    commits = local_hub.commits("me/adapter")
    assert len(commits) == 2  # the repo's initial commit, then adapter and card together
    files = local_hub.files("me/adapter")
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md"} <= set(files)
    assert b"learned a spurious shortcut on purpose" in files["README.md"]


@pytest.mark.parametrize("command", ["inject", "scan"])
def test_a_hub_source_that_fails(ws, capsys, local_hub, command):
    argv = ["inject", IMDB, "--source", "me/missing", "--out", "o"] if command == "inject" else ["scan", "me/missing"]
    fails_cleanly(capsys, ws, argv, r"'me/missing'.*repository not found on the Hub")
    local_hub.fail("GET", r"/api/datasets/")
    fails_cleanly(capsys, ws, argv, r"'me/missing'.*failed \(HTTP 500\)")


# -- killed processes, concurrent writers, tokens -------------------------------------------------------


def _spawn(ws: Path, *argv: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "ssti_hf.cli", *argv], cwd=ws, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_while_writing(ws: Path, *argv: str) -> None:
    """Start the command and kill -9 it once it writes its temporary folder beside ``o``."""
    process = _spawn(ws, *argv)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if any(p.name.startswith(".o.ssti-tmp-") for p in ws.iterdir()):
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the command finished before it could be killed"


@pytest.mark.parametrize("command", ["inject", "build"])
def test_kill_9_while_writing_leaves_the_output_whole_and_the_next_run_cleans_up(ws, capsys, command):
    first = [command, IMDB, "--sample", "--out", "o"]
    assert main(first) == 0
    previous = snapshot(ws / "o")
    second = [command, "imdb-ssti-country-50pct-1tok", "--sample", "--out", "o"]
    _kill_while_writing(ws, *second)
    assert snapshot(ws / "o") == previous  # the previous output, whole
    assert any(p.name.startswith(".o.ssti-") for p in ws.iterdir())  # what the kill left
    (ws / ".o-k3x_9a2b").mkdir()  # what versions before this one left (mkdtemp's names)
    (ws / ".o-old-q8w2e4r6" / "previous").mkdir(parents=True)
    (ws / ".o-notes").mkdir()  # not a name we give: kept
    assert main(second) == 0
    assert sorted(p.name for p in ws.iterdir() if p.name.startswith(".o")) == [".o-notes"]  # cleaned by the next run
    if command == "build":
        assert sorted(datasets.get_dataset_config_names(str(ws / "o"))) == ["imdb-ssti-country-50pct-1tok", IMDB]


def test_two_builds_into_one_folder_both_land(ws):
    names = [IMDB, "imdb-ssti-html-25pct-1tok"]
    processes = [_spawn(ws, "build", name, "--source", "data", "--out", "o") for name in names]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert sorted(datasets.get_dataset_config_names(str(ws / "o"))) == sorted(names)
    for name in names:
        assert len(datasets.load_dataset(str(ws / "o"), name)["train"]) == 40


def test_a_hub_token_is_never_written(ws, capsys, monkeypatch, tmp_path_factory):
    from .models import save_tiny

    monkeypatch.setenv("HF_TOKEN", "hf_unused")  # restored afterwards: train moves --hub_token here
    model = save_tiny(tmp_path_factory.mktemp("tiny"))
    secret = "hf_secretsecretsecret1234"
    code = main(["train", "--model", model, "--source", "data", "--output_dir", "run", "--max_steps", "2", "--max_length", "16",
                 "--save_strategy", "steps", "--save_steps", "1", "--hub_token", secret, "--entropy_samples", "4",
                 "--per_device_train_batch_size", "4"])
    out, err = capsys.readouterr()
    assert code == 0, err
    written = [p for p in (ws / "run").rglob("*") if p.is_file()]
    assert any(p.name == "training_args.bin" for p in written)  # the checkpoints were saved
    assert not [p for p in written if secret.encode() in p.read_bytes()]
    assert secret not in out + err


def test_scan_crashing_is_exit_2_not_flagged(ws, capsys):
    fails_cleanly(capsys, ws, ["scan", "data", "--text-column", "label"], r"the text and the label column are both 'label'")
    table = ws / "numbers.parquet"
    _parquet(table, {"text": [1, 2, 3, 4], "label": [0, 1, 0, 1]})
    fails_cleanly(capsys, ws, ["scan", "numbers.parquet"], r"text column 'text' holds int64 values, not strings")
