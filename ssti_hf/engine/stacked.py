"""Several LoRA runs trained at once over one frozen base model: how a sweep trains on a GPU.

A sweep's runs of one model and rank differ only in their data, seed and adapter. So K runs train
as one model, in fewer and larger kernels, with no Trainer Python per step (bench/RESULTS.md, v4:
a MiniLM step's GPU time is mostly memory-bound elementwise work, so K runs cost about 0.8 K
single steps of GPU time): the frozen base runs once on the K runs' batches stacked (K x 16 rows, run k's
rows the k-th block), each adapted layer adds every run's own low-rank update with two batched
matmuls (``torch.bmm`` over the runs), and the classifier head is one batched matmul too.

Each run keeps what makes it itself: its initial weights (built exactly as a single run builds
them), its data order (its own seeded sampler), its loss (the mean over its own rows; the losses
are summed, so each run's gradient is its own), its gradient clipping (its own norm). AdamW and
the learning-rate schedule act weight by weight, so one optimizer over the stacked weights is K
runs' optimizers. What the runs share is one dropout kernel's draws: a stacked run's result depends
on its group (the same grid forms the same groups) and agrees with a single run's within seed noise.

Afterwards each run's weights go back into its own peft model, which is measured
(:class:`ssti_hf.training.callback.SSTICallback`) and saved like a single run's.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from types import SimpleNamespace

import numpy as np
import torch
from peft.tuners.lora import Linear as LoraLinear
from peft.tuners.lora import LoraLayer
from peft.utils.other import ModulesToSaveWrapper
from torch import nn
from transformers import get_scheduler, set_seed
from transformers.trainer_pt_utils import LengthGroupedSampler

from ..base_datasets import get_base_dataset
from ..training.callback import SSTICallback, _token_cache
from ..training.models import build_model, load_config, load_tokenizer
from ..training.runs import callback_options, config_splits, write_run
from ..transform import SPANS, arrow_column, span_lists
from . import tokens
from .compiled import is_large
from .graphs import GraphedTrainingStep

ADAPTER = "default"
STACK_ON_GPU = 16  # runs per group by default on a GPU (a CPU is compute-bound: one run at a time)


def stack_reason(ssti_args, model_args, training_args) -> str | None:
    """Why runs with these arguments cannot train stacked, or None when they can."""
    if model_args.method != "lora":
        return f"method {model_args.method!r} (only LoRA adapters stack)"
    if ssti_args.objective != "classification":
        return f"objective {ssti_args.objective!r}"
    checks = {
        "more than one process (DDP / FSDP)": training_args.world_size != 1,
        "evaluations during training": training_args.eval_strategy != "no",
        "gradient accumulation": training_args.gradient_accumulation_steps != 1,
        "fp16 loss scaling": training_args.fp16,
        "label smoothing": bool(training_args.label_smoothing_factor),
        "gradient checkpointing": training_args.gradient_checkpointing,
        "reporting to a tracker": any(r != "none" for r in (training_args.report_to or [])),
        "checkpoints": training_args.save_strategy != "no" or training_args.push_to_hub,
        "torch.compile / DeepSpeed": bool(training_args.torch_compile or training_args.deepspeed),
        "training by epochs (max_steps not set)": training_args.max_steps <= 0,
        f"optimizer {training_args.optim!r} (AdamW only)": not str(getattr(training_args.optim, "value", training_args.optim)).startswith("adamw_torch"),
    }
    reason = next((reason for reason, refused in checks.items() if refused), None)
    if reason is None and _large(model_args.model):
        return "a model of a billion parameters or more (its layers are compiled under the Trainer instead, ssti_hf.engine.compiled)"
    return reason


@functools.lru_cache(maxsize=8)
def _large(model: str) -> bool:
    """Whether ``model`` has a billion parameters or more: counted on the meta device (no memory,
    no weights read), as the classifier a run builds."""
    from transformers import AutoModelForSequenceClassification


    _, config = load_config(model)
    with torch.device("meta"):
        return is_large(AutoModelForSequenceClassification.from_config(config))


def stack_size(model_config, tokens_per_run: int, requested: int, memory_bytes: int) -> int:
    """At most ``requested`` runs, as many as half of ``memory_bytes`` holds activations for: about
    34 bytes per token, hidden unit and layer in 16-bit (Korthikanti et al. 2022, attention scores
    left out: sdpa does not keep them)."""
    hidden = getattr(model_config, "hidden_size", None) or getattr(model_config, "d_model", 1024)
    layers = getattr(model_config, "num_hidden_layers", None) or getattr(model_config, "n_layer", 24)
    per_run = 34 * tokens_per_run * hidden * layers
    return max(1, min(requested, int(memory_bytes // 2 // per_run)))


class StackedLoraLinear(nn.Module):
    """A frozen linear layer plus K runs' LoRA updates (``lora_A`` [K, r, in], ``lora_B`` [K, out, r])."""

    def __init__(self, base_layer: nn.Module, layers: list[LoraLinear]):
        super().__init__()
        self.base_layer = base_layer
        self.lora_A = nn.Parameter(torch.stack([layer.lora_A[ADAPTER].weight.detach() for layer in layers]))
        self.lora_B = nn.Parameter(torch.stack([layer.lora_B[ADAPTER].weight.detach() for layer in layers]))
        self.scaling = layers[0].scaling[ADAPTER]
        self.dropout = copy.deepcopy(layers[0].lora_dropout[ADAPTER])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base_layer(x)
        rows = self.dropout(x).reshape(self.lora_A.shape[0], -1, x.shape[-1])  # run k's rows: the k-th block
        a, b = self.lora_A.to(x.dtype).transpose(1, 2), self.lora_B.to(x.dtype).transpose(1, 2)  # float32 masters, bf16 math
        # out + scaling * (rows a) b in one kernel: the scale and the add ride in the matmul's
        # epilogue instead of two passes over the layer's output (bench/levers.py: -6% per step)
        blocks = out.reshape(self.lora_A.shape[0], -1, out.shape[-1])
        return torch.baddbmm(blocks, torch.bmm(rows, a), b, alpha=self.scaling).reshape(out.shape)


class StackedLinear(nn.Module):
    """K runs' own copies of a trained linear layer (the new classifier head: weight [K, out, in])."""

    def __init__(self, layers: list[nn.Linear]):
        super().__init__()
        self.weight = nn.Parameter(torch.stack([layer.weight.detach() for layer in layers]))
        self.bias = nn.Parameter(torch.stack([layer.bias.detach() for layer in layers])) if layers[0].bias is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(self.weight.shape[0], -1, x.shape[-1])
        weight = self.weight.to(x.dtype).transpose(1, 2)
        out = torch.bmm(rows, weight) if self.bias is None else torch.baddbmm(self.bias.to(x.dtype)[:, None, :], rows, weight)
        return out.reshape(*x.shape[:-1], -1)


def stack_models(models: list) -> nn.Module:
    """One model whose adapted layers and trained heads hold all the peft ``models``' weights (a
    copy of the first one's frozen base); the models must be the same model with the same adapter."""
    bases = [model.get_base_model() for model in models]
    host = copy.deepcopy(bases[0])
    replaced = {}
    for name, module in list(host.named_modules()):
        if isinstance(module, LoraLayer):
            layers = [base.get_submodule(name) for base in bases]
            if not all(isinstance(layer, LoraLinear) for layer in layers) or any(layer.use_dora.get(ADAPTER) for layer in layers):
                raise ValueError(f"cannot stack runs: {name} is a {type(module).__name__} adapter (plain LoRA on linear layers only)")
            shapes = {(layer.lora_A[ADAPTER].weight.shape, layer.lora_B[ADAPTER].weight.shape, layer.scaling[ADAPTER]) for layer in layers}
            if len(shapes) != 1:
                raise ValueError(f"cannot stack runs: their adapters differ at {name} (rank, shape or alpha)")
            replaced[name] = StackedLoraLinear(module.get_base_layer(), layers)
        elif isinstance(module, ModulesToSaveWrapper):
            heads = [base.get_submodule(name).modules_to_save[ADAPTER] for base in bases]
            if not all(isinstance(head, nn.Linear) for head in heads):
                raise ValueError(f"cannot stack runs: their trained module {name} is not a linear layer")
            replaced[name] = StackedLinear(heads)
    for name, module in replaced.items():
        host.set_submodule(name, module)
    for name, parameter in host.named_parameters():
        if parameter.requires_grad and not name.startswith(tuple(f"{n}." for n in replaced)):
            raise ValueError(f"cannot stack runs: {name} is trained but is neither a LoRA layer nor a saved module")
    return host


def unstack(host: nn.Module, models: list) -> None:
    """Copy each run's trained weights from the stacked ``host`` back into its own peft model."""
    bases = [model.get_base_model() for model in models]
    with torch.no_grad():
        for name, module in host.named_modules():
            for k, base in enumerate(bases):
                if isinstance(module, StackedLoraLinear):
                    layer = base.get_submodule(name)
                    layer.lora_A[ADAPTER].weight.copy_(module.lora_A[k])
                    layer.lora_B[ADAPTER].weight.copy_(module.lora_B[k])
                elif isinstance(module, StackedLinear):
                    head = base.get_submodule(name).modules_to_save[ADAPTER]
                    head.weight.copy_(module.weight[k])
                    if module.bias is not None:
                        head.bias.copy_(module.bias[k])


class StackedLoss(nn.Module):
    """The sum over the runs of each run's mean cross-entropy on its own rows."""

    def __init__(self, host: nn.Module, runs: int):
        super().__init__()
        self.host, self.runs = host, runs

    def forward(self, input_ids, attention_mask, labels):
        logits = self.host(input_ids=input_ids, attention_mask=attention_mask).logits
        losses = nn.functional.cross_entropy(logits.float(), labels, reduction="none").reshape(self.runs, -1).mean(1)
        return SimpleNamespace(loss=losses.sum())


def clip_per_run(grads: list[torch.Tensor], max_norm: float) -> list[torch.Tensor]:
    """Each run's gradients scaled to norm ``max_norm`` at most, as ``clip_grad_norm_`` does for one run."""
    squares = torch.stack([g.float().pow(2).reshape(g.shape[0], -1).sum(1) for g in grads]).sum(0)  # [K]
    scale = (max_norm / (squares.sqrt() + 1e-6)).clamp(max=1.0)
    return [g * scale.reshape(-1, *[1] * (g.dim() - 1)).to(g.dtype) for g in grads]


class RunRows:
    """One run's training rows as token ids, drawn in batches of ``batch_size`` in a seeded
    length-grouped order, epoch after epoch (an epoch's last, partial batch is dropped, so every
    run contributes the same rows to each stacked step)."""

    def __init__(self, ids: list[np.ndarray], labels: np.ndarray, batch_size: int, seed: int):
        if len(ids) < batch_size:
            raise ValueError(f"a stacked run needs at least one batch of {batch_size} training rows, got {len(ids)}")
        self.ids, self.labels, self.batch_size = ids, labels, batch_size
        lengths = [len(row) for row in ids]
        self.sampler = LengthGroupedSampler(batch_size, lengths=lengths, generator=torch.Generator().manual_seed(seed))

    def __iter__(self):
        while True:
            order = list(self.sampler)
            for start in range(0, len(order) - self.batch_size + 1, self.batch_size):
                yield order[start : start + self.batch_size]


def stacked_batches(rows: list[RunRows], pad_id: int, pad_to: int, max_length: int):
    """Endless stacked batches: run k's rows are the k-th block, all padded to one width (a
    multiple of ``pad_to``: a few shapes for CUDA graphs)."""
    for picks in zip(*rows):
        input_ids, mask = tokens.pad_batch([run.ids[i] for run, pick in zip(rows, picks) for i in pick], pad_to, max_length, pad_id)
        labels = np.concatenate([run.labels[pick] for run, pick in zip(rows, picks)])
        batch = {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask), "labels": torch.from_numpy(labels)}
        yield {name: t.pin_memory() if torch.cuda.is_available() else t for name, t in batch.items()}


def train_stacked(models: list, rows: list[RunRows], tokenizer, training_args, max_length: int, cuda_graphs: bool) -> int:
    """Train the peft ``models`` stacked for ``training_args.max_steps`` steps on their ``rows``
    (AdamW, the schedule and clipping as the Trainer would; with ``bf16``, the frozen base in bf16);
    the trained weights end in the models. Returns how many CUDA graphs the step used."""
    args, device = training_args, training_args.device
    host = stack_models(models)
    if args.bf16:
        # The frozen base in bf16 rather than float32 under autocast: its activations stay bf16 (no
        # cast kernels around every normalisation; casts were a fifth of a step's GPU time, see
        # bench/profile_step.py). The trained weights stay float32, AdamW's master copy.
        for parameter in host.parameters():
            if not parameter.requires_grad:
                parameter.data = parameter.data.to(torch.bfloat16)
    loss = StackedLoss(host, len(models)).to(device)
    named = [(name, p) for name, p in loss.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for name, p in named if not name.endswith("bias")], "weight_decay": args.weight_decay},
        {"params": [p for name, p in named if name.endswith("bias")], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(
        [g for g in groups if g["params"]], lr=args.learning_rate, betas=(args.adam_beta1, args.adam_beta2), eps=args.adam_epsilon,
        fused=device.type == "cuda",
    )
    scheduler = get_scheduler(args.lr_scheduler_type, optimizer, num_warmup_steps=args.get_warmup_steps(args.max_steps),
                              num_training_steps=args.max_steps, scheduler_specific_kwargs=args.lr_scheduler_kwargs or {})
    graphed = cuda_graphs and device.type == "cuda"
    step = GraphedTrainingStep(
        loss, capture=graphed,
        transform_grads=partial(clip_per_run, max_norm=args.max_grad_norm) if args.max_grad_norm else None,
    )
    with _SEEDING:  # not while a background thread draws a model's initial weights
        set_seed(args.seed)  # dropout draws, as the Trainer seeds them before training
    loss.train()
    # Widths in multiples of 128: 4 graphs. Multiples of 64 padded 8% fewer tokens but captured 8
    # graphs: a run alone trained 0.6 s slower, a grid of 60 runs no faster (bench/RESULTS.md v8)
    batches = stacked_batches(rows, tokenizer.pad_token_id, 128 if graphed else 8, max_length)
    for _ in range(args.max_steps):
        step({name: t.to(device, non_blocking=True) for name, t in next(batches).items()})
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
    unstack(host, models)
    captured = len(step.graphs) if graphed else 0
    del step, optimizer, loss, host  # freed by reference counting (a gc.collect() here took 0.3 s)
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return captured


_SEEDING = threading.Lock()  # the global seeds: set and drawn from by one thread at a time


@contextlib.contextmanager
def seeded(seed: int):
    """torch's CPU generator seeded as ``set_seed(seed)`` seeds it, and this thread's alone while
    the block runs. A model's initial weights (the new head, the adapter) are drawn from it and
    from nothing else, so runs built in a background thread get a single run's initial weights,
    without touching the CUDA generator that the training in the foreground draws dropout from."""
    with _SEEDING:
        torch.default_generator.manual_seed(seed)
        yield


@dataclass
class PreparedGroup:
    """What a stacked group needs on the CPU before its training: each run's config, model
    (initial weights), training rows and callback, the first measured run's test sets tokenized."""

    runs: list[tuple]
    model_args: object
    measure: list[bool]
    built: list[tuple]
    models: list
    rows: list[RunRows]
    callbacks: list[SSTICallback]
    tokenizer: object
    seconds: dict[str, float]


def prepare_stacked(runs: list[tuple], model_args, measure: list[bool] | None = None) -> PreparedGroup:
    """Check and prepare a group of runs (``(ssti_args, training_args)`` pairs: one config and
    seed each, one model and adapter) for :func:`train_and_measure`. CPU work only: a sweep runs
    it in a background thread while the GPU trains the group before."""
    measure = measure or [True] * len(runs)
    started = time.perf_counter()
    for ssti_args, training_args in runs:
        reason = stack_reason(ssti_args, model_args, training_args)
        if reason:
            raise ValueError(f"cannot stack runs: {reason}")
    first_args = runs[0][1]
    differing = [k for k in ("per_device_train_batch_size", "max_steps", "learning_rate", "weight_decay", "lr_scheduler_type",
                             "warmup_steps", "warmup_ratio", "max_grad_norm", "bf16", "device")
                 if any(getattr(t, k, None) != getattr(first_args, k, None) for _, t in runs)]
    differing += [k for k in ("max_length", "cuda_graphs") if any(getattr(s, k) != getattr(runs[0][0], k) for s, _ in runs)]
    if differing:
        raise ValueError(f"cannot stack runs whose training settings differ: {differing}")
    keys = [_data_key(ssti_args, model_args, training_args.seed) for ssti_args, training_args in runs]
    kept = {key: _KEPT[key] for key in keys if key in _KEPT}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ssti-clean-tokens") as ahead:
        built, tokenized = [], []
        for (ssti_args, training_args), key in zip(runs, keys):
            if key in kept:
                built.append((kept[key].config, kept[key].splits))
                continue
            built.append(config_splits(ssti_args, training_args.seed))
            if not tokenized and len(runs) > 1:
                # The base data's clean tokens (train and test) made while the other runs are
                # prepared: the first group of a fresh sweep tokenizes 50k IMDB texts, which the
                # Rust tokenizer does without the GIL, and preparing runs is Python. (A run alone
                # has nothing to overlap them with: its keys' hashing would only slow it.)
                tokenized = _clean_tokens_ahead(ahead, ssti_args, model_args, built[-1][1])
        build_seconds = time.perf_counter() - started
        group = _prepare_runs(runs, model_args, measure, built, [kept.get(key) for key in keys])
        for future in tokenized:
            future.result()
    _KEPT.clear()
    _KEPT.update({key: _RunData(config, splits, rows.ids, rows.labels, callback, group.tokenizer)
                  for key, (config, splits), rows, callback in zip(keys, built, group.rows, group.callbacks)})
    group.seconds = {"build": build_seconds, "prepare": time.perf_counter() - started - build_seconds}
    return group


@dataclass
class _RunData:
    """What preparing a run makes from its config alone: the same for the runs of every rank."""

    config: object
    splits: object
    ids: list[np.ndarray]  # training rows' token ids
    labels: np.ndarray
    callback: SSTICallback  # with its test-set plan
    tokenizer: object  # the one the plan was made with


# The last prepared group's run data, so that a sweep's next group (the same configs and seeds at
# another rank) neither reads its configs nor splices its token ids again: about 0.4 s of Python
# per run, which would otherwise run beside the group before (it takes the GIL from its training
# and predictions).
_KEPT: dict[tuple, _RunData] = {}


def _data_key(ssti_args, model_args, seed: int) -> tuple:
    """What a run's data depends on: its config and seed, the base data, the tokenizer, and how the
    callback measures (``max_length`` included, which the training rows' tokens depend on too)."""
    return (ssti_args.config, seed, ssti_args.source, ssti_args.sample, model_args.model, tuple(sorted(callback_options(ssti_args).items())))


def _clean_tokens_ahead(pool, ssti_args, model_args, splits) -> list:
    """Start making the clean tokens of a config's base data in ``pool``: its training rows
    without their injections, and its clean test set (their own tokenizer: a fast tokenizer's
    truncation setting is shared state)."""

    tokenizer = load_tokenizer(model_args)[2]
    train = splits["train"]
    texts = arrow_column(train, "text").to_pylist()
    if SPANS in train.column_names:
        texts = tokens.without_spans(texts, span_lists(arrow_column(train, SPANS)))
    test = arrow_column(splits["test"], "text").to_pylist()
    return [pool.submit(tokens.clean_tokens, tokenizer, clean, ssti_args.max_length, _token_cache()) for clean in (texts, test)]


def _prepare_runs(runs: list[tuple], model_args, measure: list[bool], built: list[tuple], kept: list) -> PreparedGroup:
    """Each run's model (initial weights), training rows and callback (``kept``: a run's data from
    the group before, else None); the first measured run's test sets tokenized."""
    models, rows, callbacks = [], [], []
    tokenizer = next((data.tokenizer for data in kept if data is not None), None)
    with tokens.paused_gc():  # tens of thousands of token arrays per run
        for (ssti_args, training_args), (config, splits), data in zip(runs, built, kept):
            with seeded(training_args.seed):  # the head's and the adapter's initial weights, as a single run draws them
                built_tokenizer, model = build_model(model_args, get_base_dataset(config.base).num_labels)
            tokenizer = tokenizer or built_tokenizer
            models.append(model)
            if data is not None:
                rows.append(RunRows(data.ids, data.labels, training_args.per_device_train_batch_size, training_args.seed))
                callbacks.append(data.callback)
                continue
            train = splits["train"]
            texts = arrow_column(train, "text").to_pylist()
            spans = span_lists(arrow_column(train, SPANS)) if SPANS in train.column_names else [[] for _ in texts]
            ids = tokens.split_tokens(tokenizer, texts, spans, ssti_args.max_length, cache_dir=_token_cache())
            labels = np.asarray(arrow_column(train, "label").to_pylist(), dtype=np.int64)
            rows.append(RunRows(ids, labels, training_args.per_device_train_batch_size, training_args.seed))
            callbacks.append(SSTICallback(splits["test"], splits["test_spurious"], splits["test_triggered"], target_label=config.label,
                                          **callback_options(ssti_args)))
    first = next((k for k, m in enumerate(measure) if m), None)
    if first is not None:
        # The first measured run's test sets, tokenized before training rather than in a thread
        # beside it: the stacked loop is Python-bound between graph replays, and the thread's
        # splicing would take the GIL from it (one run, warm: 9.2-9.4 s in all → 8.3-8.5 s).
        callbacks[first].prepare(tokenizer, wait=True)
    return PreparedGroup(runs, model_args, measure, built, models, rows, callbacks, tokenizer, {})


def train_and_measure(group: PreparedGroup) -> list[dict]:
    """Train a prepared group stacked, then measure and write each run like
    :func:`ssti_hf.training.trainer.run`. ``group.measure[k]`` False trains run k with its group but neither
    measures nor writes it (a resumed sweep whose group is partly done). Returns the written runs'
    metrics (empty dicts for the rest)."""
    runs, models, callbacks, tokenizer = group.runs, group.models, group.callbacks, group.tokenizer
    measured_runs = [k for k, m in enumerate(group.measure) if m]
    if _plans_while_training(runs):
        for k in measured_runs:
            callbacks[k].prepare(tokenizer)
    trained_at = time.perf_counter()
    graphs = train_stacked(models, group.rows, tokenizer, runs[0][1], runs[0][0].max_length, runs[0][0].cuda_graphs)
    train_seconds = time.perf_counter() - trained_at
    # A stacked run's seconds are its share of the group: its own evaluation, 1/K of the rest.
    share = {name: s / len(runs) for name, s in {**group.seconds, "train": train_seconds}.items()}

    out = [{} for _ in runs]
    for position, k in enumerate(measured_runs):
        (_, training_args), (config, _), model = runs[k], group.built[k], models[k]
        if position + 1 < len(measured_runs):
            callbacks[measured_runs[position + 1]].prepare(tokenizer)  # the next run's, while this one is measured
        evaluate_at = time.perf_counter()
        model.to(training_args.device)
        measured = callbacks[k].evaluate(model, tokenizer)
        evaluate_seconds = time.perf_counter() - evaluate_at
        seconds = {**share, "evaluate": evaluate_seconds, **{f"evaluate_{part}": s for part, s in callbacks[k].seconds.items()}}
        recorded = {"objective": "classification", "evaluations": [], "cuda_graphs": graphs, "compiled_layers": 0,
                    "stacked": {"runs": len(runs), "position": k, "train_seconds": train_seconds}}
        out[k] = write_run(config, group.model_args, training_args, model, measured, seconds,
                           time.perf_counter() - sum(share.values()) - evaluate_seconds, recorded, tokenizer=tokenizer)
        models[k] = callbacks[k] = None  # written: free its memory (and its test sets' tokens)
        del model
        if training_args.device.type == "cuda":
            torch.cuda.empty_cache()
    return out


def _plans_while_training(runs: list[tuple]) -> bool:
    """Whether every run's test sets are spliced in the background while the group trains: with
    several runs on a GPU a step is GPU-bound and the CPU waits, whereas beside a prediction
    (launch-bound) the splicing takes the GIL from it (sweep v7: 2.0-2.6 s per prediction against
    1.77 s alone). With one run the loop itself is Python-bound (see :func:`_prepare_runs`)."""
    return len(runs) > 1 and runs[0][1].device.type == "cuda"


def run_stacked(runs: list[tuple], model_args, measure: list[bool] | None = None) -> list[dict]:
    """Train several runs (``(ssti_args, training_args)`` pairs: one config and seed each, one
    model and adapter) stacked, then measure and write each like :func:`ssti_hf.training.trainer.run`.
    ``measure[k]`` False trains run k with its group but neither measures nor writes it (a resumed
    sweep whose group is partly done). Returns the written runs' metrics (empty dicts for the rest)."""
    return train_and_measure(prepare_stacked(runs, model_args, measure))
