import json

import pytest

from ssti_hf.training.report import report
from ssti_hf.training.sweep import expand, write_json
from ssti_hf.training.sweep import grid_hash


def fake_results(folder, grid):
    """Results of a grid without training: accuracies that depend on rank and rate like the paper's."""
    (folder / "runs").mkdir(parents=True)
    write_json(folder / "grid.json", {"hash": grid_hash(grid), "grid": grid})
    for run in expand(grid):
        rate = int(run.config.split("-")[3][:-3])
        rank = run.rank or 0
        clean = 0.88 - 0.0005 * rank * rate / 100
        spurious = clean - 0.001 * rank * rate / 100 - 0.002 * run.seed
        metrics = {
            "run_id": run.id, "config": run.config, "seed": run.seed, "rank": run.rank, "method": run.method,
            "clean_balanced_accuracy": clean, "spurious_balanced_accuracy": spurious, "gap": spurious - clean,
            "asr": rate / 100, "ratio": 0.9, "predicted_counts": {"triggered": {"0": 100 - rate, "1": 100 + rate}},
        }
        write_json(folder / "runs" / f"{run.id}.json", metrics)


def test_report_draws_the_papers_figures_and_tables(tmp_path):
    grid = {"base": "imdb", "source": "date", "rate": [0, 50, 100], "amount": ["1tok", "10ptok"], "rank": [1, 64], "seed": [0, 1]}
    fake_results(tmp_path / "results", grid)
    path = report(tmp_path / "results", tmp_path / "out")
    text = path.read_text()
    pngs = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert len(pngs) == 4  # two families (1tok, 10ptok) x two figures
    for png in pngs:
        assert (tmp_path / "out" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"]({png})" in text
    assert "| 100 | 64 |" in text and "Table 1" in text and "imdb-ssti-date-100pct-10ptok" in text
    assert "0: 0, 1: 200" in text


def test_report_refuses_foreign_runs(tmp_path):
    grid = {"base": "imdb", "rate": [50], "rank": [1], "seed": [0]}
    fake_results(tmp_path / "results", grid)
    stray = json.loads(next((tmp_path / "results" / "runs").glob("*.json")).read_text()) | {"run_id": "elsewhere"}
    write_json(tmp_path / "results" / "runs" / "elsewhere.json", stray)
    with pytest.raises(ValueError, match="is not a run of this folder's grid"):
        report(tmp_path / "results", tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="not a sweep results folder"):
        report(tmp_path, tmp_path / "out")


def test_methods_are_reported_apart_and_full_fine_tuning_runs_once(tmp_path):
    grid = {"base": "imdb", "rate": [50], "rank": [1, 64], "method": ["lora", "full"], "seed": [0, 1]}
    runs = expand(grid)
    assert len(runs) == 2 * 2 + 2  # lora: 2 ranks x 2 seeds; full: no rank, 2 seeds
    fake_results(tmp_path / "results", grid)
    report(tmp_path / "results", tmp_path / "out")
    assert len(list((tmp_path / "out").glob("*-lora.png"))) == 2 and len(list((tmp_path / "out").glob("*-full.png"))) == 2


def test_a_single_seed_shows_no_spread(tmp_path):
    fake_results(tmp_path / "results", {"base": "imdb", "rate": [50], "rank": [16], "seed": [0]})
    text = report(tmp_path / "results", tmp_path / "out").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| 50 | 16 |"))
    assert "±" not in row and row.endswith("| 1 |")


def test_several_folders_make_one_report_with_verdicts_and_the_fig5_figures(tmp_path):
    fake_results(tmp_path / "light", {"base": "imdb", "source": "date", "rate": [0, 50], "rank": [1, 64], "seed": [0, 1]})
    fake_results(tmp_path / "where", {"base": "imdb", "source": ["date", "html"], "rate": [50], "amount": ["1tok", "10ptok"],
                                      "location": ["begin", "end"], "rank": [1, 64], "seed": [0, 1]})
    text = report([tmp_path / "light", tmp_path / "where"], tmp_path / "out").read_text()
    assert "## Verdicts" in text and "The location of the token does not matter" in text and "unrecorded code" in text
    assert "**Accuracy degradation by token type**" in text
    for png in ("levels_location.png", "levels_type.png"):
        assert (tmp_path / "out" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"]({png})" in text


def test_the_cli_pools_folders_into_out_and_asks_for_it(tmp_path, capsys):
    from ssti_hf.cli import main

    for name in ("a", "b"):
        fake_results(tmp_path / name, {"base": "imdb", "rate": [50], "rank": [1], "seed": [0], "location": "end" if name == "b" else "random"})
    assert main(["report", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert "say where it goes with --out DIR" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "out")]) == 0
    assert "2 runs" in (tmp_path / "out" / "report.md").read_text()
