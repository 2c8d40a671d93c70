import math

import pytest

from ssti_hf.training.sweep import expand
from ssti_hf.training.verdicts import Estimate, check_all

LOCATION_TYPE = {"base": "imdb", "source": ["date", "country", "html"], "rate": [50], "amount": ["1tok", "10ptok"],
                 "location": ["begin", "random", "end"], "rank": [1, 64], "seed": [0, 1, 2]}


def runs(grid, gap, entropy=None):
    """Metrics of a grid without training: ``gap(config parts, rank, seed)``; entropies per class."""
    from ssti_hf.config import SSTIConfig

    made = []
    for run in expand(grid):
        config = SSTIConfig.from_name(run.config, seed=run.seed)
        metrics = {"run_id": run.id, "config": run.config, "seed": run.seed, "rank": run.rank, "method": run.method,
                   "gap": gap(config, run.rank, run.seed), "asr": 0.5}
        if entropy:
            metrics |= entropy(config, run.rank, run.seed)
        made.append(metrics)
    return made


def test_an_estimate_is_the_t_interval_over_seeds():
    e = Estimate.of([1.0, 2.0, 3.0])
    half = 4.302652729911275 / math.sqrt(3)  # t(0.975, 2) * sd / sqrt(n), sd = 1
    assert (e.mean, e.sd, e.n) == (2.0, 1.0, 3) and e.low == pytest.approx(2 - half) and e.high == pytest.approx(2 + half)
    assert not e.above_zero and Estimate.of([1.0, 1.1, 1.2]).above_zero and Estimate.of([-1.1, -1.0]).excludes_zero
    assert math.isnan(Estimate.of([0.5]).low) and "1 seed" in Estimate.of([0.5]).text()


def test_fig5_table_and_location_verdict():
    def gap(config, rank, seed):  # light: up with rank, aggressive: down; the end location adds 5 pp
        trend = 0.01 * rank / 64 if config.amount == 1 else -0.1 * rank / 64
        return 0.05 + trend + 0.001 * seed + (0.05 if config.location == "end" else 0)

    checked = check_all(runs(LOCATION_TYPE, gap))
    verdicts = {v.claim.split(" (")[0]: v for v in checked.verdicts}
    location = verdicts["The location of the token does not matter"]
    assert location.verdict == "partly" and "trend holds at 6 of 6" in location.evidence and "beginning - end = -5.0" in location.evidence
    kind = verdicts["The type of the token does not matter"]
    assert kind.verdict == "holds" and "differ beyond their seed interval at 0 of 4" in kind.evidence
    table = next(t for t in checked.tables if t.startswith("**Accuracy degradation by injection location"))
    # light, rank 64, end: 5 + 1 + 5 pp, plus 0.1 pp per seed: mean 11.1, sd 0.1
    row = next(line for line in table.splitlines() if line.startswith("| Light | 64 |"))
    assert row.endswith("| 11.1 [10.9, 11.3] sd 0.1 |")
    assert {f.name for f in checked.levels} == {"location", "type"}


def test_diversity_verdict():
    grid = {"base": "imdb", "source": "date", "rate": [50], "diversity": [1, 10, "all"], "rank": [1, 64], "seed": [0, 1, 2]}
    checked = check_all(runs(grid, lambda c, rank, seed: 0.01 * rank / 64 + 0.002 * seed + (0.1 if c.diversity == 1 else 0)))
    verdict = next(v for v in checked.verdicts if v.claim.startswith("The diversity"))
    assert verdict.verdict == "partly" and "k = 1, 10, all" in verdict.claim and "1 - 10 = 10.0" in verdict.evidence
    assert any(t.startswith("**Token diversity") for t in checked.tables)


def test_the_entropy_claim_is_measured_both_ways():
    grid = {"base": "imdb", "source": "date", "rate": [0, 50], "rank": [1, 64], "seed": [0, 1]}

    def entropy(config, rank, seed):  # attention: the spurious class lower only at rank 64; rollout: always (not at 0%)
        spurious = 6.0 if rank == 64 and config.rate else 7.0
        rollout = 5.0 if config.rate else 7.0
        return {"mean_entropy_per_class": {"0": 7.0 + 0.01 * seed, "1": spurious},
                "rollout": {"mean_entropy_per_class": {"0": 7.0, "1": rollout + 0.01 * seed}}}

    checked = check_all(runs(grid, lambda c, rank, seed: 0.0, entropy))
    attention, rollout = [v for v in checked.verdicts if v.claim.startswith("The spurious class's entropy")]
    assert "last-layer attention" in attention.claim and attention.verdict == "partly (1 of 2 settings)"
    assert "attention rollout" in rollout.claim and rollout.verdict == "holds (2 of 2 settings)"
    assert "without SSTI (0%) 0 of 2 settings" in rollout.evidence
    assert "| date 1tok random | 50 | 64 | 0.857 [0.849, 0.864] sd 0.001 | 0.715 [" in checked.tables[-1]


def test_the_second_papers_claims_from_an_attacks_grid():
    grid = {"config": ["imdb-poison-flip-0pct", "imdb-poison-flip-25pct", "imdb-backdoor-date-5pct-1tok"],
            "rank": [1, 16, 64], "method": ["lora", "full"], "seed": [0, 1, 2]}
    made = []
    for run in expand(grid):
        flipped = "flip-25pct" in run.config
        lora = run.method == "lora"
        clean = 0.9 - (0.1 if flipped and lora else 0.02 if flipped else 0) + 0.001 * run.seed
        metrics = {"run_id": run.id, "config": run.config, "seed": run.seed, "rank": run.rank, "method": run.method,
                   "clean_balanced_accuracy": clean, "gap": 0.0}
        if "backdoor" in run.config:
            flip = (0.1 if lora else 0.7) + 0.01 * run.seed
            metrics |= {"asr": flip + 0.05, "flip_rate": flip}
            if lora and run.rank == 1:  # collapsed: every row predicted as the target, so ASR 1 and no flip rate
                metrics |= {"clean_balanced_accuracy": 0.5, "asr": 1.0}
                del metrics["flip_rate"]
        made.append(metrics)
    checked = check_all(made)
    verdicts = {v.claim.split(" (")[0]: v for v in checked.verdicts}
    backdoor = verdicts["LoRA is more robust to backdoors than full fine-tuning"]
    # The collapsed rank-1 models' ASR of 1 is no backdoor: that setting is left out and named.
    assert backdoor.verdict == "holds (2 of 2)" and "5% r16: -0.600 [" in backdoor.evidence
    assert "5% r1:" not in backdoor.evidence and backdoor.evidence.endswith("predicted right when clean): 5% r1")
    flips = verdicts["LoRA is less robust to untargeted poisoning than full fine-tuning"]
    assert flips.verdict == "holds (3 of 3)" and "label flip 25% r64: -8.0 [" in flips.evidence
    table = checked.tables[-1]
    assert "| backdoor date | 5 | lora r1 | 0.500 [0.500, 0.500] sd 0.000 | 1.000 [1.000, 1.000] sd 0.000 | - |" in table
    assert "| backdoor date | 5 | full fine-tuning | 0.901 [" in table and "| poison-flip | 25 | lora r16 | 0.801 [" in table
    # No flip rate at all: the claim is listed as not measured, with the settings that lack it.
    for metrics in made:
        metrics.pop("flip_rate", None)
    backdoor = next(v for v in check_all(made).verdicts if "backdoors" in v.claim)
    assert backdoor.verdict == "not measured" and backdoor.evidence.endswith(": 5% r1, 5% r16, 5% r64")


def test_models_are_checked_apart():
    grid = {"base": "imdb", "source": "date", "rate": [100], "rank": [64], "seed": [0, 1], "model": ["minilm", "smol.gguf"]}
    made = runs(grid, lambda c, rank, seed: 0.1)
    for run in made:
        run |= {"model": "/root/minilm" if run["run_id"].endswith("minilm") else "/root/smol.gguf", "asr": 0.95 if "minilm" in run["run_id"] else 0.1,
                "objective": "classification" if "minilm" in run["run_id"] else "sft"}
    verdicts = check_all(made).verdicts
    assert [v.verdict for v in verdicts] == ["holds", "does not hold"]
    assert verdicts[0].claim.startswith("[minilm, classification] A single injected token") and verdicts[1].claim.startswith("[smol.gguf, sft]")


def test_claims_the_runs_cannot_check_are_listed_as_not_measured():
    from ssti_hf.training.verdicts import CLAIMS, unmeasured

    table1 = runs({"base": "imdb", "source": "date", "rate": [100], "label": [0, 1], "rank": [64], "seed": [0]},
                  lambda c, rank, seed: 0.1)
    for run in table1:
        run["asr"] = 0.95
    verdicts = check_all(table1).verdicts
    missing = unmeasured(verdicts)
    assert [v.verdict for v in verdicts] == ["holds"]
    assert len(missing) == len(CLAIMS) - 1 and {v.verdict for v in missing} == {"not measured"}
    assert not any("Table 1" in v.claim for v in missing)
    assert any("backdoors" in v.claim and "attacks.yaml" in v.evidence for v in missing)
    # Every claim a check writes is one of CLAIMS: an attacks grid's two rows are recognised.
    grid = {"config": ["imdb-poison-flip-0pct", "imdb-poison-flip-25pct", "imdb-backdoor-date-5pct-1tok"],
            "rank": [1], "method": ["lora", "full"], "seed": [0, 1]}
    made = [{"run_id": r.id, "config": r.config, "seed": r.seed, "rank": r.rank, "method": r.method,
             "clean_balanced_accuracy": 0.9, "asr": 0.5, "flip_rate": 0.4, "gap": 0.0} for r in expand(grid)]
    assert not any("Liang" in v.claim for v in unmeasured(check_all(made).verdicts))
