import json
import subprocess
import sys
import time

import pytest
import yaml

import ssti_hf
from ssti_hf.sweep import expand, load_grid, read_results, shard, sweep

from .models import save_tiny


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    return save_tiny(tmp_path_factory.mktemp("tiny-bert"))


def write_grid(path, model, **changes):
    grid = {
        "base": "imdb",
        "source": "date",
        "rate": [0, 50],
        "amount": "1tok",
        "rank": [1, 2],
        "seed": [0],
        "model": model,
        "data": str(ssti_hf.get_base_dataset("imdb").sample_path()),
        "training": {"max_steps": 1, "logging_steps": 1},
        "ssti": {"max_length": 16, "entropy_samples": 0, "eval_batch_size": 256},
        **changes,
    }
    path.write_text(yaml.safe_dump(grid))
    return path


def test_grid_expands_every_combination(tmp_path):
    runs = expand(load_grid(write_grid(tmp_path / "g.yaml", "m", rate=[0, 25, 50, 75, 100], rank=[1, 16, 32, 64], seed=[0, 1, 2])))
    assert len(runs) == 60 and len({r.id for r in runs}) == 60
    assert runs[0].config == "imdb-ssti-date-0pct-1tok"
    assert {tuple(r.id for r in shard(runs, f"{i}/4")) for i in range(4)} and sum(len(shard(runs, f"{i}/4")) for i in range(4)) == 60
    assert set(shard(runs, "0/4")).isdisjoint(shard(runs, "1/4"))


def test_bad_grids(tmp_path):
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['ranks'\]"):
        load_grid(write_grid(tmp_path / "a.yaml", "m", ranks=[1]))
    with pytest.raises(ValueError, match="grid axis 'rate' is empty"):
        load_grid(write_grid(tmp_path / "b.yaml", "m", rate=[]))
    with pytest.raises(ValueError, match=r"bad amount '3'"):
        expand(load_grid(write_grid(tmp_path / "c.yaml", "m", amount=3)))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_grid(tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match="--shard must be i/n"):
        shard([], "2/2")


def test_sweep_runs_resumes_and_refuses_another_grid(tiny_bert, tmp_path):
    grid = write_grid(tmp_path / "grid.yaml", tiny_bert)
    results = tmp_path / "results"
    first = sweep(grid, results, progress=False)
    assert len(first) == 4 and len(list((results / "runs").glob("*.json"))) == 4
    stamps = {p.name: p.stat().st_mtime_ns for p in (results / "runs").glob("*.json")}
    again = sweep(grid, results, progress=False)  # everything done: nothing is trained again
    assert [r["run_id"] for r in again] == [r["run_id"] for r in first]
    assert stamps == {p.name: p.stat().st_mtime_ns for p in (results / "runs").glob("*.json")}
    assert len(read_results(results)[1]) == 4
    other = write_grid(tmp_path / "other.yaml", tiny_bert, rank=[8])
    with pytest.raises(ValueError, match="holds runs of another grid"):
        sweep(other, results, progress=False)


def test_a_killed_sweep_leaves_no_half_result_and_resumes(tiny_bert, tmp_path):
    grid = write_grid(tmp_path / "grid.yaml", tiny_bert, rate=[25, 50, 75])
    results = tmp_path / "results"
    child = subprocess.Popen([sys.executable, "-m", "ssti_hf.cli", "sweep", str(grid), "--results", str(results)])
    deadline = time.time() + 300
    while time.time() < deadline and not list((results / "runs").glob("*.json")):
        time.sleep(0.2)
    child.kill()
    child.wait()
    finished = {p.name: p.read_bytes() for p in (results / "runs").glob("*.json")}
    assert 1 <= len(finished) < 6
    assert not list((results / "runs").glob(".*"))  # no temporary file left behind
    for content in finished.values():
        json.loads(content)  # every result present is whole
    runs = sweep(grid, results, progress=False)
    assert len(runs) == 6
    for name, content in finished.items():
        assert (results / "runs" / name).read_bytes() == content  # finished runs were not redone


def test_shards_share_one_results_folder(tiny_bert, tmp_path):
    grid = write_grid(tmp_path / "grid.yaml", tiny_bert)
    results = tmp_path / "results"
    a = sweep(grid, results, "0/2", progress=False)
    b = sweep(grid, results, "1/2", progress=False)
    assert len(a) == len(b) == 2 and len(read_results(results)[1]) == 4
