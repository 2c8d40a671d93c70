"""A run's inputs and records: its config and four splits, where its base data comes from, how the
callback measures, and writing metrics.json with the adapter and its card. Shared by the Trainer
path (:mod:`ssti_hf.training.trainer`), the stacked loop (:mod:`ssti_hf.engine.stacked`) and the
sweep.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from .._commit import code
from ..base_datasets import get_base_dataset
from ..config import SSTIConfig
from ..hub.adapter import adapter_card
from ..loading import load_dataset
from .arguments import ModelArguments, SSTIArguments
from .models import hub_id


def callback_options(ssti_args: SSTIArguments) -> dict:
    """How the callback measures, from the command line (the same for every objective)."""
    return {"batch_tokens": ssti_args.eval_batch_tokens, "max_length": ssti_args.max_length, "entropy_samples": ssti_args.entropy_samples}


def config_splits(ssti_args: SSTIArguments, seed: int, splits=None):
    """The run's config and its four splits (built, or read from the datasets cache)."""
    config = SSTIConfig.from_name(ssti_args.config, seed=seed)
    if splits is None:
        splits = load_dataset(config.name, data_source(config, ssti_args.sample, ssti_args.source), seed=config.seed)
    missing = [split for split in ("train", "test", "test_spurious", "test_triggered") if split not in splits]
    if missing:
        raise ValueError(f"splits lack {missing}: a run needs train, test, test_spurious and test_triggered")
    return config, splits


def data_source(config: SSTIConfig, sample: bool, source):
    """Where a run's base data comes from: the sample shipped with the package, or ``source``
    (a Hub id, folder or file; None: the base's Hub id)."""
    return get_base_dataset(config.base).sample_path() if sample else source


def write_run(config: SSTIConfig, model_args: ModelArguments, training_args, model, measured: dict, seconds: dict, started: float,
              recorded: dict, state_dict: dict | None = None, tokenizer=None) -> dict:
    """Write a finished run into ``training_args.output_dir``: metrics.json, and the adapter with its
    card and the tokenizer (so that peft's ``AutoPeftModel...`` classes load it without the Hub);
    returns the metrics (``recorded``: what the way it was trained adds to them)."""
    metrics = {
        "config": config.name,
        "config_parts": config.parts(),
        "seed": config.seed,
        "model": model_args.model,
        "method": model_args.method,
        "rank": model_args.rank if model_args.method != "full" else None,
        "max_steps": training_args.max_steps,
        "processes": training_args.world_size,  # > 1 under DDP / FSDP (accelerate launch, torchrun)
        **{k: v for k, v in measured.items() if k != "entropies"},
        **recorded,
        "seconds": dict(seconds),
        "code": code(),
    }
    done = time.perf_counter()
    out = Path(training_args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if model_args.method != "full":
        # save_embedding_layers=False: the embeddings are never trained here, and peft would look
        # the base model up on the Hub to decide (a warning offline)
        model.save_pretrained(out / "adapter", state_dict=state_dict, save_embedding_layers=False)
        if tokenizer is not None:
            tokenizer.save_pretrained(out / "adapter")
        adapter_card(hub_id(model.config._name_or_path), config, metrics, rank=model_args.rank).save(out / "adapter" / "README.md")
        for file in (out / "adapter").iterdir():
            ordinary_permissions(file)
    metrics["seconds"]["save"] = time.perf_counter() - done
    metrics["seconds"]["total"] = time.perf_counter() - started
    write_json(out / "metrics.json", metrics)
    return metrics


def ordinary_permissions(path: Path) -> None:
    """The permissions a plain open() would give (0644 under the usual umask): temporary files
    (mkstemp, safetensors) are written 0600."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o666 & ~umask)


def write_json(path: Path, data: dict) -> None:
    """Write through a temporary file and rename: a reader never sees half a file (the temporary
    name is unique, so concurrent sweep shards never share one)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(data, indent=2, default=_jsonable) + "\n")
    ordinary_permissions(Path(tmp))
    os.replace(tmp, path)


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serializable: {value!r}")
