"""One SSTI run: build the config, fine-tune (LoRA, DoRA or full), measure, write metrics.json,
the adapter and its card. A classifier here; ``--objective sft`` trains a causal LM through
:mod:`ssti_hf.training.sft` and shares the rest of the run.

The fast path is the default (bench/RESULTS.md measures each part):
- the config comes from the datasets cache;
- on a GPU a LoRA classifier trains through :mod:`ssti_hf.engine.stacked`'s loop (a group of one run;
  a sweep stacks several): no Trainer per-step Python, training rows spliced from the clean
  split's cached tokens, the frozen base in bf16, each batch shape's step a CUDA graph
  (:mod:`ssti_hf.engine.graphs`); what needs the Trainer (evaluations during training, trackers,
  checkpoints, DDP / FSDP, full fine-tuning, SFT), a model of 1B parameters or more (each repeated
  layer compiled, :mod:`ssti_hf.engine.compiled`) and every CPU run go through :class:`SSTITrainer`,
  whose collator tokenizes the rows of each batch, grouped by length;
- the test sets are tokenized in a background thread while the model trains, rows that the
  injection left alone are predicted once (by a bf16 copy of the merged model on a GPU), and the
  clean set's tokens and each config's spliced rows are kept on disk.
"""

from __future__ import annotations

import gc
import logging
import time

import pyarrow.compute as pc
import torch
from transformers import Trainer, set_seed
from transformers.trainer_pt_utils import LengthGroupedSampler

from ..base_datasets import get_base_dataset
from ..config import SSTIConfig
from ..engine import compiled
from ..engine.graphs import GraphedTrainingStep, graphs_apply
from ..engine.tokens import encode, pad_batch
from ..transform import arrow_column
from .arguments import ModelArguments, SSTIArguments, check_training, hide_token
from .callback import SSTICallback, _merged
from .models import build_model, libraries_own_deprecations
from .runs import callback_options, config_splits, write_run

logger = logging.getLogger(__name__)


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
    as CUDA graphs (``cuda_graphs=True``, :func:`ssti_hf.engine.graphs.graphs_apply`), a large model's
    layers compiled (``compile_layers=True``, :mod:`ssti_hf.engine.compiled`); and length grouping read
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
    hide_token(training_args)  # the Trainer pickles its arguments into every checkpoint
    check_training(training_args)
    if splits is None and uses_stacked_loop(ssti_args, model_args, training_args):
        from ..engine.stacked import run_stacked

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
    with libraries_own_deprecations():  # trl's SFTTrainer wraps the model in peft itself
        trainer, callback, objective = make_trainer(ssti_args, model_args, training_args, config, splits)
    model, tokenizer = trainer.model, trainer.processing_class
    if training_args.device.type == "cpu" and not ssti_args.sample and trainer.is_world_process_zero():
        logger.warning(cpu_forecast(model, tokenizer, splits, ssti_args, training_args))
    prepared = time.perf_counter()
    with libraries_own_deprecations():
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
    metrics = write_run(config, model_args, training_args, model, measured, seconds, started, recorded, state_dict, tokenizer)
    del trainer, model  # a sweep runs many of these in one process: free the GPU memory now
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return metrics


def cpu_forecast(model, tokenizer, splits, ssti_args: SSTIArguments, training_args) -> str:
    """Roughly how long a CPU run will take, from this machine's time for one forward pass of test
    rows in a batch of the size the evaluation uses (a training step costs about three), and the
    pointer to ``--sample``."""
    test = splits["test"]
    texts = list(test.select(range(min(64, len(test))))["text"])
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=ssti_args.max_length)["input_ids"]]
    mean = sum(lengths) / len(lengths)
    rows = max(1, min(len(texts), int((ssti_args.eval_batch_tokens or 8192) // mean)))
    batch = tokenizer(texts[:rows], truncation=True, max_length=ssti_args.max_length, padding=True, return_tensors="pt")
    was_training = model.training
    model.eval()
    with torch.no_grad(), _merged(model):  # as the evaluation predicts
        model(**{name: tensor[:1] for name, tensor in batch.items()})  # one-time costs
        started = time.perf_counter()
        model(**batch)
        per_token = (time.perf_counter() - started) / batch["input_ids"].numel()
    model.train(was_training)
    steps_rows = training_args.max_steps * training_args.per_device_train_batch_size * training_args.gradient_accumulation_steps
    train = 3 * per_token * steps_rows * mean
    # rows of the spurious and triggered sets that equal the clean row at their index are predicted once
    clean = arrow_column(test, "text")
    evaluated = len(test) + sum(
        len(splits[name]) if len(splits[name]) != len(test) else int(pc.sum(pc.not_equal(arrow_column(splits[name], "text"), clean)).as_py() or 0)
        for name in ("test_spurious", "test_triggered")
    )
    evaluate = per_token * evaluated * mean
    return (f"a CPU run on the full data: about {_minutes(train + evaluate)} on this machine (training {_minutes(train)}, "
            f"predicting {evaluated:,} test rows {_minutes(evaluate)}). --sample runs on the small sample shipped "
            "with the package instead, and `ssti-hf demo` is a run of a few minutes.")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def uses_stacked_loop(ssti_args: SSTIArguments, model_args: ModelArguments, training_args) -> bool:
    """Whether one run trains through :mod:`ssti_hf.engine.stacked`'s loop (a group of one): on a GPU,
    where the Trainer's per-step Python would cost as much as the GPU's work, unless the run asks
    for what only the Trainer does (evaluations during training, trackers, checkpoints, several
    processes, full fine-tuning, SFT, a model of 1B parameters or more;
    :func:`ssti_hf.engine.stacked.stack_reason`)."""
    from ..engine.stacked import stack_reason

    return training_args.device.type == "cuda" and stack_reason(ssti_args, model_args, training_args) is None


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
