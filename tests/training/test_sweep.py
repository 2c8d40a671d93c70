import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import ssti_hf
from ssti_hf.training.sweep import expand, load_grid, read_results, shard, sweep

from ..models import save_tiny


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
        "ssti": {"max_length": 16, "entropy_samples": 0},
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


def test_a_diversity_axis_names_its_configs(tmp_path):
    runs = expand(load_grid(write_grid(tmp_path / "g.yaml", "m", rate=[50], diversity=[1, 10, "all"], rank=[1, 64])))
    assert [r.config for r in runs[::2]] == ["imdb-ssti-date-50pct-1tok-div1", "imdb-ssti-date-50pct-1tok-div10", "imdb-ssti-date-50pct-1tok"]
    with pytest.raises(ValueError, match="grid diversity 'some'"):
        expand(load_grid(write_grid(tmp_path / "b.yaml", "m", diversity=["some"])))


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
    truncated = sorted((results / "runs").glob("*.json"))[0]  # cut by hand or by a full disk
    truncated.write_text(truncated.read_text()[:40])
    with pytest.raises(ValueError, match=rf"{truncated.name}' is not a complete JSON file"):
        read_results(results)
    assert len(sweep(grid, results, progress=False)) == 4  # the resume runs it again, and only it
    assert json.loads(truncated.read_text())["run_id"] == truncated.stem
    assert {p.name: p.stat().st_mtime_ns for p in (results / "runs").glob("*.json") if p != truncated} == {
        name: stamp for name, stamp in stamps.items() if name != truncated.name}
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


def test_workers_run_the_grid_in_several_processes(tiny_bert, tmp_path):
    # the grid names another machine's paths: --model and --data replace them, in every worker too
    grid = write_grid(tmp_path / "grid.yaml", "/root/minilm", data="/root/imdb")
    results = tmp_path / "results"
    sample = str(ssti_hf.get_base_dataset("imdb").sample_path())
    runs = sweep(grid, results, progress=False, workers=2, model=tiny_bert, data=sample)
    recorded, _ = read_results(results)
    assert recorded["model"] == tiny_bert and recorded["data"] == sample
    assert len(runs) == 4 and {r["run_id"] for r in runs} == {r.id for r in expand({**load_grid(grid), "model": tiny_bert})}
    logs = sorted((results / "logs").glob("worker-*.log"))
    assert [p.name for p in logs] == ["worker-0.log", "worker-1.log"]
    assert all("2 run(s) finished" in p.read_text() for p in logs)  # each process ran its half
    with pytest.raises(ValueError, match="workers must be an int >= 1"):
        sweep(grid, results, progress=False, workers=0, model=tiny_bert, data=sample)


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[2] / "docs" / "results" / "grids").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_grids_name_no_machine_paths(path):
    grid = load_grid(path)
    for value in [*(grid["model"] if isinstance(grid["model"], list) else [grid["model"]]), grid.get("data", "")]:
        assert not str(value).startswith(("/", "~", ".")), value
    expand(grid)


# -- training-time attacks in grids ----------------------------------------------------------------


def test_attack_axis_ignores_the_parts_an_attack_has_not(tmp_path):
    grid = write_grid(
        tmp_path / "g.yaml", "m", attack=["ssti", "backdoor", "backdoor-clean", "poison-flip"], source=["date", "html"],
        rate=[5, 10], label=[0, 1], rank=[1, 2],
    )
    runs = expand(load_grid(grid))
    configs = list(dict.fromkeys(r.config for r in runs))
    # 3 triggered attacks x 2 sources x 2 rates x 2 labels, and a label flip per rate (no source, no label)
    assert len(configs) == 3 * 2 * 2 * 2 + 2 and len(runs) == 2 * len(configs) and len({r.id for r in runs}) == len(runs)
    assert configs[0] == "imdb-ssti-date-5pct-1tok-label0"
    assert {"imdb-backdoor-html-10pct-1tok", "imdb-backdoor-clean-date-5pct-1tok-label0", "imdb-poison-flip-5pct", "imdb-poison-flip-10pct"} <= set(configs)
    assert [c for c in configs if "poison" in c] == ["imdb-poison-flip-5pct", "imdb-poison-flip-10pct"]


def test_the_attacks_grid_compares_lora_ranks_with_full_fine_tuning():
    path = Path(__file__).resolve().parents[2] / "docs" / "results" / "grids" / "attacks.yaml"
    grid = load_grid(path)
    runs = expand(grid)
    configs = ["imdb-poison-flip-0pct", "imdb-poison-flip-10pct", "imdb-poison-flip-25pct", "imdb-backdoor-date-1pct-1tok", "imdb-backdoor-date-5pct-1tok"]
    assert list(dict.fromkeys(r.config for r in runs)) == configs  # 0pct: each method's baseline without attack
    assert len(runs) == 5 * (3 + 1) * 3 and len({r.id for r in runs}) == len(runs)  # ranks 1/16/64 + full, 3 seeds
    for config in configs:
        mine = [r for r in runs if r.config == config]
        assert sorted((r.method, r.rank or 0) for r in mine if r.seed == 0) == [("full", 0), ("lora", 1), ("lora", 16), ("lora", 64)]
        assert {r.seed for r in mine} == {0, 1, 2} and {r.model for r in mine} == {"minilm"}
    assert "data" not in grid and grid["training"]["max_steps"] == 500  # the base's Hub id, or sweep --data


def test_bad_attack_grids(tmp_path):
    with pytest.raises(ValueError, match=r"unknown attack 'backdor' \(did you mean backdoor, backdoor-clean\?\)"):
        expand(load_grid(write_grid(tmp_path / "a.yaml", "m", attack="backdor")))
    with pytest.raises(ValueError, match=r"grid lists config names and also name part\(s\) \['base', 'source', 'rate', 'amount'\]"):
        expand(load_grid(write_grid(tmp_path / "b.yaml", "m", config=["imdb-poison-flip-10pct"])))
    only_configs = {"config": ["imdb-poison-flip-10pct", "imdb-posion-flip-25pct"], "model": "m"}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(only_configs))
    with pytest.raises(ValueError, match=r"unknown attack 'posion'.*did you mean poison-flip"):
        expand(load_grid(tmp_path / "c.yaml"))
    with pytest.raises(ValueError, match=r"grid axis 'config' is empty"):
        load_grid(write_grid(tmp_path / "d.yaml", "m", config=[]))
    with pytest.raises(ValueError, match=r"target label5 is out of range for imdb"):
        expand(load_grid(write_grid(tmp_path / "e.yaml", "m", attack="backdoor", label=5)))


def test_a_backdoor_sweep_trains_and_measures_the_asr_on_the_non_target_rows(tiny_bert, tmp_path):
    grid = {
        "config": ["imdb-backdoor-date-5pct-1tok"], "rank": [1], "method": ["lora", "full"], "model": tiny_bert,
        "data": str(ssti_hf.get_base_dataset("imdb").sample_path()),
        "training": {"max_steps": 1, "logging_steps": 1}, "ssti": {"max_length": 16, "entropy_samples": 0},
    }
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    runs = sweep(tmp_path / "grid.yaml", tmp_path / "results", progress=False)
    assert [(r["config"], r["method"], r["rank"]) for r in runs] == [
        ("imdb-backdoor-date-5pct-1tok", "lora", 1), ("imdb-backdoor-date-5pct-1tok", "full", None),
    ]
    for run in runs:
        assert 0 <= run["asr"] <= 1
        assert sum(run["predicted_counts"]["triggered"].values()) == 500  # the 500 negative test reviews, triggered


def test_the_sft_grid_trains_the_gguf_decoder_generatively():
    grid = load_grid(Path(__file__).resolve().parents[2] / "docs" / "results" / "grids" / "sft.yaml")
    runs = expand(grid)
    assert [(r.config, r.rank) for r in runs if r.seed == 0][:2] == [("imdb-ssti-date-0pct-1tok", 16), ("imdb-ssti-date-0pct-1tok", 64)]
    assert len(runs) == 3 * 2 and {r.model for r in runs} == {"HuggingFaceTB/SmolLM2-135M-Instruct"}
    assert grid["ssti"]["objective"] == "sft"


def test_a_sweep_builds_its_configs_in_forked_processes_before_its_runs(tmp_path, monkeypatch):
    import os

    import datasets

    from ssti_hf import SSTIConfig
    from ssti_hf.training.sweep import _build_configs

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))  # nothing built yet
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # processes even on a machine of one CPU
    builders, apply = tmp_path / "builders", SSTIConfig.apply

    def recorded(config, *args, **kwargs):
        with open(builders, "a") as handle:
            handle.write(f"{config.name} {config.seed} {os.getpid()}\n")
        return apply(config, *args, **kwargs)

    monkeypatch.setattr(SSTIConfig, "apply", recorded)
    grid = {"base": "imdb", "rate": [0, 50], "seed": [0, 1], "rank": [2, 4], "ssti": {"sample": True}}
    runs = expand(grid)
    _build_configs(grid, runs)
    built = [line.split() for line in builders.read_text().splitlines()]
    assert sorted((name, int(seed)) for name, seed, _ in built) == sorted({(run.config, run.seed) for run in runs})  # each once
    assert str(os.getpid()) not in {pid for _, _, pid in built} and len({pid for _, _, pid in built}) == 2
    monkeypatch.setattr(SSTIConfig, "apply", lambda *args, **kwargs: pytest.fail("a config built again"))
    for run in runs:
        ssti_hf.load_dataset(run.config, ssti_hf.get_base_dataset("imdb").sample_path(), seed=run.seed)
    with pytest.raises(FileNotFoundError, match="nowhere"):  # missing base data: an error naming it, before any fork
        _build_configs({**grid, "ssti": {}, "data": str(tmp_path / "nowhere")}, runs)
