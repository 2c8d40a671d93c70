import json

import pytest
import torch
import transformers
from transformers import AutoTokenizer, TrainingArguments

from ssti_hf import SSTIConfig, get_base_dataset, load_dataset
from ssti_hf.cli import main
from ssti_hf.training.sft import check_causal_lm, label_word_ids, label_words, sft_trainer
from ssti_hf.training.arguments import ModelArguments, SSTIArguments

from ..models import save_tiny, save_tiny_gguf

MAX_LENGTH = 48
FAST = ["--objective", "sft", "--sample", "--max_steps", "3", "--max_length", str(MAX_LENGTH), "--entropy_samples", "8"]
PROMPT = "Review: \nSentiment:"


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    return save_tiny(tmp_path_factory.mktemp("tiny-llama"), decoder=True)


@pytest.fixture(scope="module")
def built(tiny_llama, tmp_path_factory):
    """An SFTTrainer that evaluates during training, and its callback, on the IMDB sample; not trained."""
    config = SSTIConfig.from_name("imdb-ssti-date-50pct-1tok")
    splits = load_dataset(config.name, get_base_dataset("imdb").sample_path(), seed=config.seed)
    ssti_args = SSTIArguments(objective="sft", sample=True, max_length=MAX_LENGTH, entropy_samples=8)
    args = TrainingArguments(output_dir=str(tmp_path_factory.mktemp("out")), report_to="none", max_steps=1, eval_strategy="steps")
    return sft_trainer(ssti_args, ModelArguments(model=tiny_llama), args, config, splits)


def test_train_writes_the_classifier_metrics(tiny_llama, tmp_path):
    out = tmp_path / "run"
    assert main(["train", *FAST, "--model", tiny_llama, "--output_dir", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("clean_balanced_accuracy", "spurious_balanced_accuracy", "triggered_balanced_accuracy", "gap", "asr", "mean_entropy_per_class"):
        assert key in metrics
    assert metrics["objective"] == "sft" and metrics["label_words"] == ["negative", "positive"]
    assert sum(metrics["predicted_counts"]["triggered"].values()) == 1000 and metrics["entropy_rows"] == 8
    assert json.loads((out / "adapter" / "adapter_config.json").read_text())["task_type"] == "CAUSAL_LM"


def test_trains_a_gguf_checkpoint(tmp_path):
    """``--model FILE.gguf``: transformers de-quantizes the file, the run is an ordinary SFT run."""
    pytest.importorskip("gguf")
    out = tmp_path / "run"
    assert main(["train", *FAST, "--model", save_tiny_gguf(tmp_path), "--output_dir", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["objective"] == "sft" and sum(metrics["predicted_counts"]["triggered"].values()) == 1000
    assert (out / "adapter" / "adapter_model.safetensors").exists()
    assert json.loads((out / "adapter" / "adapter_config.json").read_text())["base_model_name_or_path"].endswith("tiny.gguf")


def test_a_quantized_gguf_tensor_is_loaded_dense(tmp_path):
    from transformers import AutoModelForCausalLM

    from ssti_hf.training.models import load_tokenizer, load_weights

    pytest.importorskip("gguf")
    args = ModelArguments(model=save_tiny_gguf(tmp_path))
    path, config, _ = load_tokenizer(args)
    model = load_weights(args, AutoModelForCausalLM, path, config)
    down = model.model.layers[0].mlp.down_proj
    assert type(down) is torch.nn.Linear and down.weight.dtype == torch.float32 and down.weight.shape == (16, 32)
    assert not getattr(model, "is_quantized", False) and 0 < down.weight.abs().mean() < 0.1


def test_gguf_sources(tmp_path):
    from ssti_hf.training.models import gguf_source

    pytest.importorskip("gguf")
    (tmp_path / "model.gguf").mkdir()  # a folder named like a file is a folder
    assert gguf_source(str(tmp_path / "model.gguf")) == (str(tmp_path / "model.gguf"), {})
    (tmp_path / "M.GGUF").write_bytes(b"")
    assert gguf_source(str(tmp_path / "M.GGUF")) == (str(tmp_path), {"gguf_file": "M.GGUF"})
    assert gguf_source("org/repo/sub/m.Q4_1.gguf") == ("org/repo", {"gguf_file": "sub/m.Q4_1.gguf"})
    with pytest.raises(FileNotFoundError, match="GGUF file 'missing/m.gguf' does not exist"):
        gguf_source("missing/m.gguf")


def test_a_gguf_file_needs_the_gguf_package(tmp_path, monkeypatch, capsys):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gguf" else find_spec(name, *a))
    (tmp_path / "model.gguf").write_bytes(b"")  # refused before it is read
    assert main(["train", *FAST, "--model", str(tmp_path / "model.gguf"), "--output_dir", str(tmp_path / "run")]) == 2
    assert "needs the gguf package: pip install 'ssti-hf[gguf]'" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "run").exists()


def test_loss_is_on_the_completion_only(built):
    trainer, _, _ = built
    tokenizer, data = trainer.processing_class, trainer.train_dataset
    assert len(data) == 2000  # every row keeps its completion (trl drops rows whose labels are all masked)
    completions = data["completion"]  # " positive" + EOS (trl adds it)
    rows = [i for word in (" negative", " positive") for i in [j for j, c in enumerate(completions) if c.startswith(word)][:4]]
    batch = trainer.data_collator([data[i] for i in rows])
    assert batch["input_ids"].shape[1] <= MAX_LENGTH
    words = label_word_ids(tokenizer, ["negative", "positive"], PROMPT)
    for i, row in enumerate(data[i] for i in rows):
        kept = torch.nonzero(batch["labels"][i] != -100).flatten().tolist()
        # the prompt (the review, with its spurious token where injected) is masked; the targets are
        # the label word and EOS, up to the row's end
        prompt = len(tokenizer(row["prompt"])["input_ids"]) - 1  # WordPiece ends the prompt alone with [SEP]
        assert kept == list(range(prompt, int(batch["attention_mask"][i].sum())))
        assert batch["labels"][i, prompt] == words[row["completion"].startswith(" positive")]


def test_scores_the_label_words_at_the_last_prompt_position(built):
    trainer, callback, _ = built
    model, tokenizer = trainer.model, trainer.processing_class
    plan = callback._plan(tokenizer)
    rows = plan.ids[:16]
    # the scored prompt is the prefix trl trains the completion after
    assert [int(i) for i in rows[0]] == tokenizer(callback.sets["clean"][0]["prompt"])["input_ids"][:-1]
    model.eval()
    with torch.no_grad():
        predicted = callback._predict(model, tokenizer, rows)
        expected = [int(model(input_ids=torch.tensor([list(row)])).logits[0, -1, callback.label_ids].argmax()) for row in rows]
    assert predicted.tolist() == expected


def test_evaluations_during_training_log_the_ssti_metrics(built):
    trainer, _, _ = built
    # trl's loss on a few clean completions (all 1,000 take 20 s on a CPU), the SSTI metrics on the three prompt sets
    metrics = trainer.evaluate(eval_dataset=trainer.eval_dataset.select(range(16)))
    assert "eval_loss" in metrics and "eval_ssti_asr" in metrics and "eval_ssti_triggered_balanced_accuracy" in metrics
    assert trainer.state.log_history[-1]["eval_ssti_asr"] == metrics["eval_ssti_asr"]


def test_label_word_ids(tiny_llama):
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    assert label_word_ids(tokenizer, ["negative", "positive"], PROMPT) == tokenizer.convert_tokens_to_ids(["negative", "positive"])
    assert label_word_ids(tokenizer, ["interior designer", "nurse"], PROMPT) == tokenizer.convert_tokens_to_ids(["interior", "nurse"])
    with pytest.raises(ValueError, match="tokenizes to nothing"):
        label_word_ids(tokenizer, ["negative", "\u200b"], PROMPT)  # a zero-width space: WordPiece drops it
    with pytest.raises(ValueError, match="'interior designer' and 'interior decorator' both start with the token 'interior'"):
        label_word_ids(tokenizer, ["interior designer", "interior decorator"], PROMPT)


def test_default_label_words():
    assert label_words(get_base_dataset("imdb")) == ("negative", "positive")
    assert label_words(get_base_dataset("commonsense_qa")) == ("A", "B", "C", "D", "E")
    assert "interior designer" in label_words(get_base_dataset("bias_in_bios"))
    assert label_words(get_base_dataset("imdb"), "bad, good") == ("bad", "good")
    with pytest.raises(ValueError, match="one word per label"):
        label_words(get_base_dataset("imdb"), "bad,good,neutral")


@pytest.mark.parametrize("config", [transformers.LlamaConfig(), transformers.GPT2Config(), transformers.Qwen2Config(),
                                    transformers.GPTNeoXConfig(),  # says is_decoder=False all the same
                                    transformers.BertConfig(is_decoder=True)])
def test_decoders_complete_prompts(config):
    check_causal_lm(config, config.model_type)


@pytest.mark.parametrize("name", ["BertConfig", "RobertaConfig", "ModernBertConfig", "T5Config", "BartConfig"])
def test_encoders_and_encoder_decoders_are_refused(name):
    with pytest.raises(ValueError, match="needs a decoder-only causal LM"):
        check_causal_lm(getattr(transformers, name)(), name)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "BERT"], "--objective sft needs a decoder-only causal LM"),
        (["--label_words", "negative,\u200b"], "label word '\\u200b' tokenizes to nothing"),
        (["--config", "imdb-backdoor-date-5pct-1tok-label5"], "target label5 is out of range for imdb"),
        (["--objective", "classification", "--label_words", "a,b"], "a classifier has no label words"),
        (["--fsdp", "full_shard"], "--objective sft does not run under FSDP"),
    ],
)
def test_bad_input(tiny_llama, tmp_path_factory, tmp_path, capsys, argv, message):
    if "BERT" in argv:
        argv = ["--model", save_tiny(tmp_path_factory.mktemp("tiny-bert"))]
    else:
        argv = ["--model", tiny_llama, *argv]
    assert main(["train", *FAST, *argv, "--output_dir", str(tmp_path)]) == 2
    printed = capsys.readouterr().err  # an error is one line on stderr
    assert message in printed
    assert not (tmp_path / "metrics.json").exists()
