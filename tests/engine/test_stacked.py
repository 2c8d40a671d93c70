"""Stacked runs: K LoRA runs over one frozen base train exactly as each would alone (without
dropout, in float32 on a CPU), and a sweep writes, resumes and reproduces them."""

import json

import numpy as np
import pytest
import torch
import yaml
from peft import PeftModel
from transformers import AutoModelForSequenceClassification, BertConfig, BertForSequenceClassification, TrainingArguments, set_seed

import ssti_hf
from ssti_hf.engine import stacked
from ssti_hf.training.sweep import sweep
from ssti_hf.training.models import build_model
from ssti_hf.training.arguments import ModelArguments, SSTIArguments, paper_defaults

from ..models import gt, save_tiny


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    return save_tiny(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="module")
def tiny_bert_no_dropout(tmp_path_factory):
    """The tiny BERT without its own dropout, so stacked and single steps draw nothing."""
    folder = save_tiny(tmp_path_factory.mktemp("tiny-bert-nodrop"))
    config = BertConfig.from_pretrained(folder, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    BertForSequenceClassification.from_pretrained(folder, config=config).save_pretrained(folder)
    return folder


def models(folder, seeds, rank=2, dropout=0.0):
    built = []
    for seed in seeds:
        set_seed(seed)
        tokenizer, model = build_model(ModelArguments(model=folder, rank=rank, lora_dropout=dropout), 2)
        built.append(model)
    return tokenizer, built


def test_a_stacked_forward_gives_each_run_its_own_logits(tiny_bert):
    tokenizer, runs = models(tiny_bert, [0, 1, 2])
    for model in runs:  # trained-looking adapters: lora_B starts at zero, which would hide a mix-up
        for name, p in model.named_parameters():
            if "lora_B" in name:
                torch.nn.init.normal_(p, std=0.5)
    host = stacked.stack_models(runs).eval()
    batch = tokenizer(["a fine film", "dull and long", "I laughed"], padding=True, return_tensors="pt")
    with torch.no_grad():
        own = [model.eval()(**batch).logits for model in runs]
        together = host(input_ids=batch["input_ids"].repeat(3, 1), attention_mask=batch["attention_mask"].repeat(3, 1)).logits
    assert not torch.allclose(own[0], own[1])
    torch.testing.assert_close(together, torch.cat(own), atol=1e-5, rtol=1e-5)


def _rows(tokenizer, config, seed, batch_size=4):
    train = ssti_hf.load_dataset(config, ssti_hf.get_base_dataset("imdb").sample_path(), seed=seed)["train"]
    ids = [np.asarray(r, dtype=np.int32) for r in tokenizer(list(train["text"]), truncation=True, max_length=32)["input_ids"]]
    return stacked.RunRows(ids, np.asarray(train["label"]), batch_size, seed)


def _args(tmp_path, **changes):
    values = {**paper_defaults(), "output_dir": str(tmp_path), "max_steps": 6, "learning_rate": 1e-2, "max_grad_norm": 0.05,
              "weight_decay": 0.1, "use_cpu": True, "bf16": False, **changes}
    return TrainingArguments(**values)


def test_runs_trained_together_end_as_each_trained_alone(tiny_bert_no_dropout, tmp_path):
    """Per-run loss, clipping (a small max_grad_norm makes it act) and AdamW: a group of two runs
    with their own data and seeds ends with each run's weights as a group of one would."""
    specs = [("imdb-ssti-date-50pct-1tok", 0), ("imdb-ssti-date-0pct-1tok", 1)]
    tokenizer, together = models(tiny_bert_no_dropout, [seed for _, seed in specs])
    before = [p.detach().clone() for p in together[0].parameters() if p.requires_grad]
    stacked.train_stacked(together, [_rows(tokenizer, c, s) for c, s in specs], tokenizer, _args(tmp_path), 32, cuda_graphs=False)
    for k, (config, seed) in enumerate(specs):
        _, alone = models(tiny_bert_no_dropout, [seed])
        stacked.train_stacked(alone, [_rows(tokenizer, config, seed)], tokenizer, _args(tmp_path), 32, cuda_graphs=False)
        mine = dict(together[k].named_parameters())
        for name, p in alone[0].named_parameters():
            if p.requires_grad:
                torch.testing.assert_close(mine[name], p, atol=2e-5, rtol=1e-4, msg=f"run {k}: {name}")
    after = [p for p in together[0].parameters() if p.requires_grad]
    assert any(not torch.equal(a, b) for a, b in zip(before, after))  # it trained


def test_gradients_are_clipped_per_run():
    grads = [torch.tensor([[3.0, 0.0], [0.3, 0.0]]), torch.tensor([[4.0], [0.4]])]  # run 0: norm 5, run 1: norm 0.5
    clipped = stacked.clip_per_run(grads, max_norm=1.0)
    norms = torch.stack([g.pow(2).reshape(2, -1).sum(1) for g in clipped]).sum(0).sqrt()
    torch.testing.assert_close(norms, torch.tensor([1.0, 0.5]), atol=1e-5, rtol=0)


def test_what_cannot_stack_is_refused_with_the_reason(tiny_bert, tmp_path):
    _, (a,) = models(tiny_bert, [0], rank=2)
    _, (b,) = models(tiny_bert, [0], rank=4)
    with pytest.raises(ValueError, match="their adapters differ at .*query"):
        stacked.stack_models([a, b])
    args = _args(tmp_path)
    assert stacked.stack_reason(SSTIArguments(), ModelArguments(method="full"), args) == "method 'full' (only LoRA adapters stack)"
    assert "evaluations during training" in stacked.stack_reason(SSTIArguments(), ModelArguments(), _args(tmp_path, eval_strategy="steps"))
    assert "optimizer" in stacked.stack_reason(SSTIArguments(), ModelArguments(), _args(tmp_path, optim="sgd"))
    assert stacked.stack_reason(SSTIArguments(), ModelArguments(), args) is None
    runs = [(SSTIArguments(sample=True), _args(tmp_path)), (SSTIArguments(sample=True), _args(tmp_path, learning_rate=1.0))]
    with pytest.raises(ValueError, match=r"training settings differ: \['learning_rate'\]"):
        stacked.run_stacked(runs, ModelArguments(model=tiny_bert))
    with pytest.raises(ValueError, match="at least one batch of 16"):
        stacked.RunRows([np.zeros(3)] * 5, np.zeros(5), 16, 0)


def test_how_many_runs_a_gpu_holds():
    config = BertConfig(hidden_size=384, num_hidden_layers=6)  # MiniLM's shape
    assert stacked.stack_size(config, 16 * 512, 16, 80 * 2**30) == 16
    assert stacked.stack_size(config, 16 * 512, 16, 4 * 2**30) == 3  # 2 GiB for activations of 0.64 GiB per run
    assert stacked.stack_size(config, 16 * 512, 16, 2**20) == 1


def write_grid(path, model):
    grid = {"base": "imdb", "source": "date", "rate": [0, 50], "amount": "1tok", "rank": [2], "seed": [0, 1], "model": model,
            "data": str(ssti_hf.get_base_dataset("imdb").sample_path()), "training": {"max_steps": 3},
            "ssti": {"max_length": 32, "entropy_samples": 8}}
    path.write_text(yaml.safe_dump(grid))
    return path


def test_a_stacked_sweep_writes_loadable_adapters_and_resumes_a_group_identically(tiny_bert, tmp_path):
    grid, results = write_grid(tmp_path / "g.yaml", tiny_bert), tmp_path / "results"
    first = {m["run_id"]: m for m in sweep(grid, results, progress=False, stack=4)}
    assert len(first) == 4 and {m["stacked"]["runs"] for m in first.values()} == {4}
    assert sorted(m["stacked"]["position"] for m in first.values()) == [0, 1, 2, 3]
    for m in first.values():
        assert 0 <= m["clean_balanced_accuracy"] <= 1 and m["seconds"]["train"] > 0
    run_id = sorted(first)[2]
    adapter = results / "adapters" / run_id
    weights = (adapter / "adapter_model.safetensors").read_bytes()
    base = AutoModelForSequenceClassification.from_pretrained(tiny_bert, num_labels=2)
    model = PeftModel.from_pretrained(base, adapter)  # a stacked run's adapter is a plain peft adapter
    assert any(p.abs().sum() > 0 for n, p in model.named_parameters() if "lora_B" in n)  # trained
    assert "spurious" in (adapter / "README.md").read_text().lower()

    (results / "runs" / f"{run_id}.json").unlink()  # killed before this run was written
    written = {p: p.stat().st_mtime_ns for p in (results / "runs").glob("*.json")}
    again = {m["run_id"]: m for m in sweep(grid, results, progress=False, stack=4)}
    assert {p: p.stat().st_mtime_ns for p in written} == written  # the finished runs were not written again
    keep = ("clean_balanced_accuracy", "spurious_balanced_accuracy", "predicted_counts")
    assert {k: again[run_id][k] for k in keep} == {k: first[run_id][k] for k in keep}
    assert again[run_id]["stacked"]["position"] == first[run_id]["stacked"]["position"]
    assert (adapter / "adapter_model.safetensors").read_bytes() == weights  # the group trained again to the same bytes


def test_a_model_built_under_seeded_has_the_initial_weights_of_set_seed(tiny_bert):
    """A background thread seeds only the CPU generator (not the CUDA one the foreground trains with)."""
    set_seed(3)
    _, expected = build_model(ModelArguments(model=tiny_bert, rank=2), 2)
    torch.manual_seed(0)
    with stacked.seeded(3):
        _, model = build_model(ModelArguments(model=tiny_bert, rank=2), 2)
    for (name, a), b in zip(expected.named_parameters(), model.parameters()):
        assert torch.equal(a, b), name


def test_groups_prepared_in_the_background_train_as_groups_prepared_in_turn(tiny_bert_no_dropout, tmp_path, monkeypatch):
    """On a GPU the next group is prepared in a thread while this one trains; forced here on a
    CPU with nothing drawn during training (no dropout), the runs must come out the same."""
    import ssti_hf.training.sweep as sweep_module

    grid = yaml.safe_load(write_grid(tmp_path / "g.yaml", tiny_bert_no_dropout).read_text())
    grid.update(rank=[2, 4], ssti={**grid["ssti"], "lora_dropout": 0.0})
    (tmp_path / "g.yaml").write_text(yaml.safe_dump(grid))
    written = {}
    for ahead in (True, False):
        threads = []
        if ahead:
            monkeypatch.setattr(sweep_module, "_prepares_ahead", lambda group: threads.append(group) or True)
        else:
            monkeypatch.undo()
        results = tmp_path / f"ahead-{ahead}"
        written[ahead] = {m["run_id"]: m for m in sweep(tmp_path / "g.yaml", results, progress=False, stack=4)}
        assert len(threads) == (1 if ahead else 0)  # the second group, prepared while the first trained
        for run_id in written[ahead]:
            written[ahead][run_id]["adapter"] = (results / "adapters" / run_id / "adapter_model.safetensors").read_bytes()
    keep = ("clean_balanced_accuracy", "spurious_balanced_accuracy", "predicted_counts", "adapter")
    assert len(written[True]) == 8
    assert {r: {k: m[k] for k in keep} for r, m in written[True].items()} == {r: {k: m[k] for k in keep} for r, m in written[False].items()}


def test_stack_must_be_a_positive_int(tiny_bert, tmp_path):
    with pytest.raises(ValueError, match="stack must be an int >= 1, got 0"):
        sweep(write_grid(tmp_path / "g.yaml", tiny_bert), tmp_path / "r", progress=False, stack=0)


def test_a_cpu_sweep_trains_one_run_at_a_time(tiny_bert, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("the default stacks on a GPU")
    runs = sweep(write_grid(tmp_path / "g.yaml", tiny_bert), tmp_path / "r", progress=False)
    assert len(runs) == 4 and all("stacked" not in m for m in runs)
    assert json.loads((tmp_path / "r" / "grid.json").read_text())["grid"]["rank"] == [2]
    assert gt  # the real tokenizer is what the tiny models use


def test_one_run_through_the_stacked_loop_writes_what_the_trainer_path_writes(tiny_bert, tmp_path, monkeypatch):
    """On a GPU `ssti-hf train` takes the stacked loop (a group of one); here forced on a CPU."""
    from transformers import HfArgumentParser

    from ssti_hf.training import trainer

    parse = HfArgumentParser((SSTIArguments, ModelArguments, TrainingArguments))
    parse.set_defaults(**paper_defaults())
    argv = ["--sample", "--model", tiny_bert, "--rank", "2", "--max_steps", "3", "--max_length", "32", "--entropy_samples", "8"]
    for name, loop in (("trainer", False), ("stacked", True)):
        monkeypatch.setattr(trainer, "uses_stacked_loop", lambda *args, loop=loop: loop)
        metrics = trainer.run(*parse.parse_args_into_dataclasses(argv + ["--output_dir", str(tmp_path / name)]))
        assert metrics.get("stacked", {}).get("runs") == (1 if loop else None)
    files = [sorted(p.name for p in (tmp_path / name).rglob("*")) for name in ("trainer", "stacked")]
    assert files[0] == files[1]  # the same metrics.json, adapter and card
    written = [json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("trainer", "stacked")]
    assert set(written[0]) - {"stacked"} <= set(written[1]) and written[1]["config"] == "imdb-ssti-date-50pct-1tok"


def test_a_group_makes_its_base_datas_clean_tokens_beside_its_configs(tiny_bert, tmp_path, monkeypatch):
    """The clean tokens of the training rows and of the test set are made once, in the thread
    that starts after the first config, while the other configs are built."""
    import threading
    import time

    from ssti_hf.engine import tokens

    monkeypatch.setattr(tokens, "_MEMORY", {})
    monkeypatch.setattr(stacked, "_token_cache", lambda: str(tmp_path / "tokens"))
    made, real_tokenize, real_splits = [], tokens._tokenize_clean, stacked.config_splits
    monkeypatch.setattr(tokens, "_tokenize_clean", lambda *a: made.append(threading.current_thread().name) or real_tokenize(*a))
    monkeypatch.setattr(stacked, "config_splits", lambda s, seed: (seed and time.sleep(0.5), real_splits(s, seed))[1])  # a slow second config
    runs = [(SSTIArguments(sample=True, config=c, max_length=32, entropy_samples=0), _args(tmp_path, seed=seed))
            for c, seed in (("imdb-ssti-date-50pct-1tok", 0), ("imdb-ssti-date-25pct-1tok", 1))]
    group = stacked.prepare_stacked(runs, ModelArguments(model=tiny_bert, rank=2))
    assert len(made) == 2 and all(name.startswith("ssti-clean-tokens") for name in made)
    assert group.callbacks[0]._plans and len(group.rows) == 2 and set(group.seconds) == {"build", "prepare"}


def test_on_a_gpu_every_runs_test_sets_are_planned_while_the_group_trains(tiny_bert, tmp_path, monkeypatch):
    planned_at_training = {}
    real_train = stacked.train_stacked

    def train(models, *args, **kwargs):
        planned_at_training[ahead] = [bool(callback._plans) for callback in group.callbacks]
        return real_train(models, *args, **kwargs)

    monkeypatch.setattr(stacked, "train_stacked", train)
    runs = [(SSTIArguments(sample=True, config=c, max_length=32, entropy_samples=0), _args(tmp_path / c, seed=seed, max_steps=2))
            for c, seed in (("imdb-ssti-date-50pct-1tok", 0), ("imdb-ssti-date-25pct-1tok", 1))]
    for ahead in (True, False):
        monkeypatch.setattr(stacked, "_plans_while_training", lambda runs: ahead)  # a GPU, forced here on a CPU
        monkeypatch.setattr(stacked, "_KEPT", {})  # no plans kept from the group before
        group = stacked.prepare_stacked(runs, ModelArguments(model=tiny_bert, rank=2))
        measured = stacked.train_and_measure(group)
        assert all("clean_balanced_accuracy" in m for m in measured)
    assert planned_at_training == {True: [True, True], False: [True, False]}


def test_the_next_group_of_the_same_configs_reuses_their_data(tiny_bert, tmp_path, monkeypatch):
    """A sweep's next group (another rank) reads no config and splices no tokens again; a run of
    another seed is prepared anew."""
    monkeypatch.setattr(stacked, "_KEPT", {})
    specs = [("imdb-ssti-date-50pct-1tok", 0), ("imdb-ssti-date-25pct-1tok", 1)]
    runs = [(SSTIArguments(sample=True, config=c, max_length=32, entropy_samples=0), _args(tmp_path, seed=seed)) for c, seed in specs]
    first = stacked.prepare_stacked(runs, ModelArguments(model=tiny_bert, rank=2))
    read, real = [], stacked.config_splits
    monkeypatch.setattr(stacked, "config_splits", lambda s, seed: read.append((s.config, seed)) or real(s, seed))
    second = stacked.prepare_stacked(runs, ModelArguments(model=tiny_bert, rank=4))
    assert read == [] and second.callbacks == first.callbacks and second.tokenizer is first.tokenizer
    assert all(a.ids is b.ids for a, b in zip(first.rows, second.rows))
    assert [m.peft_config["default"].r for m in second.models] == [4, 4]
    runs[1] = (runs[1][0], _args(tmp_path, seed=2))
    third = stacked.prepare_stacked(runs, ModelArguments(model=tiny_bert, rank=4))
    assert read == [("imdb-ssti-date-25pct-1tok", 2)] and third.callbacks[0] is first.callbacks[0]
    assert third.callbacks[1] is not first.callbacks[1]
