"""``SSTICallback``: at every evaluation, how much the model relies on the spurious token.

Given the clean, matched spurious and triggered test sets, it logs each set's balanced accuracy,
the gap (spurious minus clean), the predicted counts on the triggered set, the attack success
rate, and the attention entropy per class with the paper's flag (one class below 95% of another).
Works with full fine-tuning and peft models, encoder and decoder classifiers, and (through
``ssti_hf.training.sft.SFTCallback``, which scores the label words) causal LMs fine-tuned to complete a prompt.

The Trainer logs its own metrics before callbacks see an evaluation, so the SSTI metrics are added
to the evaluation's metrics dict (returned by ``trainer.evaluate()``, usable as
``metric_for_best_model="eval_ssti_gap"``) and then logged as the Trainer logs: appended to
``trainer.state.log_history`` and handed to every callback's ``on_log`` (the ``report_to``
integrations: TensorBoard, W&B, MLflow...; the console's printer).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import sys
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch
from datasets import Dataset
from tqdm.auto import tqdm
from transformers import TrainerCallback

from ..engine import tokens
from ..engine.compiled import is_large
from ..engine.predictor import predicting
from ..metrics import attention_entropy, ssti_gap
from ..transform import SPANS, arrow_column, span_lists

logger = logging.getLogger(__name__)
SETS = ("clean", "spurious", "triggered")


class SSTICallback(TrainerCallback):
    """Args:
        clean, spurious, triggered: ``Dataset``s with a text and a label column (e.g. the ``test``,
            ``test_spurious`` and ``test_triggered`` splits of ``ssti_hf.load_dataset``).
        target_label: the label the spurious token was injected into (None for an untargeted
            attack such as label flipping: no attack success rate then).
        tokenizer: defaults to the Trainer's ``processing_class``.
        batch_tokens: tokens per evaluation batch (rows are sorted by length and padded to the
            longest of their batch); default on a GPU 262,144 for a model under a billion
            parameters (a MiniLM batch holds 1.6 GB of activations; with 65,536 the Python that
            launches each batch cost as much as the GPU's work, bench/predict_batches.py) and
            65,536 for a larger one; 8,192 on a CPU.
        entropy_samples: how many rows of the spurious set (spread over the classes) the attention
            entropy uses; 0 turns it off.
        attention_layer / attention_head: the layer (default: last) and head (default: mean over
            heads) whose attention gives token importance.
        entropy_importance: which token importance the entropy is taken over: ``"attention"`` (the
            layer and head above; reported as ``ratio``, ``flagged``, ...), ``"rollout"`` (the
            attention rollout over all layers at the pooled position, the ``attention_entropy``
            metric's ``importance="rollout"``; reported under ``rollout``), or both (the default:
            one forward pass gives both).
    """

    def __init__(
        self,
        clean: Dataset,
        spurious: Dataset,
        triggered: Dataset,
        target_label: int | None,
        tokenizer=None,
        batch_tokens: int | None = None,
        max_length: int = 512,
        entropy_samples: int = 128,
        attention_layer: int = -1,
        attention_head: int | None = None,
        entropy_importance: tuple[str, ...] = ("attention", "rollout"),
        text_column: str = "text",
        label_column: str = "label",
    ):
        self.sets = {"clean": clean, "spurious": spurious, "triggered": triggered}
        for name, data in self.sets.items():
            if not isinstance(data, Dataset):
                raise TypeError(f"the {name} set must be a datasets.Dataset, got {type(data).__name__}")
            missing = [c for c in (text_column, label_column) if c not in data.column_names]
            if missing:
                raise ValueError(f"the {name} set has no {' / '.join(missing)} column: SSTICallback needs labelled texts")
            if len(data) == 0:
                raise ValueError(f"the {name} set is empty")
        if target_label is not None and (isinstance(target_label, bool) or not isinstance(target_label, int)):
            raise TypeError(f"target_label must be an int or None, got {target_label!r}")
        self.target_label = target_label
        self.tokenizer = tokenizer
        if batch_tokens is not None and batch_tokens < max_length:
            raise ValueError(f"batch_tokens ({batch_tokens}) must hold at least one row of max_length ({max_length}) tokens")
        self.batch_tokens, self.max_length = batch_tokens, max_length
        self.entropy_samples, self.layer, self.head = entropy_samples, attention_layer, attention_head
        entropy_importance = (entropy_importance,) if isinstance(entropy_importance, str) else tuple(entropy_importance)
        unknown = [i for i in entropy_importance if i not in ("attention", "rollout")]
        if unknown or not entropy_importance:
            raise ValueError(f"entropy_importance must name attention and/or rollout, got {entropy_importance!r}")
        self.importance = entropy_importance
        self.text_column, self.label_column = text_column, label_column
        self._plans: dict = {}  # id(tokenizer) -> Future of the sets' token ids
        self.seconds: dict[str, float] = {}

    # -- Trainer hook ---------------------------------------------------------------------------
    def on_evaluate(self, args, state, control, model=None, processing_class=None, metrics=None, **kwargs):
        # Under DDP one process measures; under FSDP every process takes part in each forward pass
        # (the weights are sharded), and the main one logs.
        if not state.is_world_process_zero and not _sharded(model):
            return
        results = self.evaluate(model, self.tokenizer or processing_class)
        logs = {f"eval_ssti_{key}": value for key, value in _flatten(results).items()}
        if metrics is not None:
            metrics.update(logs)
        if state.epoch is not None:
            logs["epoch"] = state.epoch
        state.log_history.append({**logs, "step": state.global_step})
        # What Trainer.log does with its own metrics. A callback is not handed the Trainer, so the
        # handler that calls this one (the Trainer's) hands the SSTI metrics to every callback's on_log.
        handler = _calling_handler()
        if handler is not None:
            handler.on_log(args, state, control, logs)

    # -- the measurement, usable without a Trainer ----------------------------------------------
    def prepare(self, tokenizer, wait: bool = False) -> None:
        """Start tokenizing the test sets in a background thread (the Rust tokenizer releases the
        GIL), so that it overlaps training; :meth:`evaluate` waits for it. ``wait``: tokenize them
        now, in this thread (the splicing is Python: beside a training loop that is itself
        Python-bound, it holds the GIL that the loop needs)."""
        key = id(tokenizer)
        if key not in self._plans:
            if wait:
                planned = Future()
                planned.set_result(self._plan(_thread_copy(tokenizer)))
            else:
                planned = _BACKGROUND.submit(self._plan, _thread_copy(tokenizer))
            # The tokenizer is kept beside its plan, so that its id is not reused by another one.
            self._plans[key] = (tokenizer, planned)
        if wait:
            self._plans[key][1].result()

    @torch.no_grad()
    def evaluate(self, model, tokenizer) -> dict:
        if tokenizer is None:
            raise ValueError("SSTICallback needs a tokenizer: pass processing_class= to the Trainer or tokenizer= here")
        started = time.perf_counter()
        self.prepare(tokenizer)
        plan = _waiting(self._plans[id(tokenizer)][1], "tokenizing the test sets")
        planned = time.perf_counter()
        was_training = model.training
        model.eval()
        try:
            predicted = self._predict(model, tokenizer, plan.ids)
            predicted_at = time.perf_counter()
            predictions = np.concatenate([predicted[plan.rows[name]] for name in self.sets])
            # list(data[c]) would read Arrow row by row: 0.3 s per 25k rows
            references = np.concatenate([arrow_column(data, self.label_column).to_numpy(zero_copy_only=False) for data in self.sets.values()])
            subset = [name for name, data in self.sets.items() for _ in range(len(data))]
            # The plain metric on whole arrays: evaluate's compute() would first encode every row
            # through datasets' Features in Python and write them to an Arrow file (0.75 s for a
            # run's 75k rows), and importing evaluate takes seconds.
            results = ssti_gap(predictions=predictions, references=references, subset=subset, target_label=self.target_label)
            if self.entropy_samples:
                results.update(self._attention_entropy(model, tokenizer, plan))
            # where the last evaluation's time went (waiting for the tokenizing thread, predicting, the rest)
            self.seconds = {"tokenize_wait": planned - started, "predict": predicted_at - planned, "metrics_entropy": time.perf_counter() - predicted_at}
            return results
        finally:
            model.train(was_training)

    def _plan(self, tokenizer) -> "_Plan":
        """Token ids of the distinct rows of the three sets, and each set's rows among them.

        A row of a later set whose text equals the row at the same index of an earlier set (the
        rows the injection left alone, or a spurious row that the triggered set holds too: the
        test sets share their draws) is tokenized and predicted once. The triggered set is
        planned before the spurious one: it is a config's superset (every row injected) and does
        not depend on the rate, so its spliced tokens are kept on disk once for every rate. The
        clean set's tokens are kept (per process and in the datasets cache), and injected rows
        with provenance are spliced from them (:mod:`ssti_hf.engine.tokens`) instead of tokenized again."""
        with tokens.paused_gc():
            return self._plan_sets(tokenizer)

    def _plan_sets(self, tokenizer) -> "_Plan":
        clean_texts = arrow_column(self.sets["clean"], self.text_column)
        clean_strings = clean_texts.to_pylist()
        clean = tokens.clean_tokens(tokenizer, clean_strings, self.max_length, cache_dir=_token_cache())
        ids = list(clean.ids)
        rows = {"clean": np.arange(len(ids))}
        aligned = [(clean_texts, rows["clean"])]  # the sets planned so far that are row-aligned with the clean set
        for name in ("triggered", "spurious"):
            data = self.sets[name]
            texts = arrow_column(data, self.text_column)
            if len(texts) != len(clean_texts):  # not row-aligned with the clean set: tokenize it all
                rows[name] = len(ids) + np.arange(len(texts))
                ids += tokens.encode(tokenizer, texts.to_pylist(), self.max_length)
                continue
            index = np.full(len(texts), -1, dtype=np.int64)
            for earlier_texts, earlier_rows in aligned:
                same = pc.fill_null(pc.equal(texts, earlier_texts), False).to_numpy(zero_copy_only=False) & (index < 0)
                index[same] = earlier_rows[same]
            new = np.flatnonzero(index < 0)
            index[new] = len(ids) + np.arange(len(new))
            new_texts = texts.take(pa.array(new)).to_pylist()
            if SPANS in data.column_names:
                spans = span_lists(arrow_column(data, SPANS).take(pa.array(new)))
                ids += tokens.spliced_tokens(tokenizer, clean, clean_strings, new, new_texts, spans, self.max_length, cache_dir=_token_cache())
            else:
                ids += tokens.encode(tokenizer, new_texts, self.max_length)
            rows[name] = index
            aligned.append((texts, index))
        return _Plan(ids, rows)

    def _batches(self, tokenizer, ids: list[list[int]], device, budget: int):
        """Padded batches in order of length, each about ``budget`` tokens (little padding, few
        launches), with the row numbers to undo the order."""
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        order = np.argsort(lengths, kind="stable")
        start = 0
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        while start < len(order):
            stop = start + 1
            # grow while the batch, padded to its longest (last, as sorted) row, fits the budget
            while stop < len(order) and (stop - start + 1) * self._width(int(lengths[order[stop]])) <= budget:
                stop += 1
            rows = order[start:stop]
            input_ids, mask = tokens.pad([ids[row] for row in rows], self._width(int(lengths[rows[-1]])), pad)
            batch = {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask)}
            if device.type == "cuda":  # from pageable memory a copy would wait for the GPU's previous batch
                batch = {k: v.pin_memory() for k, v in batch.items()}
            yield rows, {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            start = stop

    def _width(self, length: int) -> int:
        """Padded width of a batch whose longest row has ``length`` tokens: a multiple of 8 (the
        tensor cores' granule; multiples of 64 padded 8% more tokens and predicted 6% slower,
        bench/levers.py), never past max_length."""
        return min(-(-length // 8) * 8, max(length, self.max_length))

    def _predict(self, model, tokenizer, ids: list[list[int]]) -> np.ndarray:
        """Predicted label of every row; the argmaxes stay on the device until the end (one sync,
        so the CPU prepares each batch while the GPU predicts the one before)."""
        orders, labels = [], []
        budget = self.batch_tokens or default_batch_tokens(model)
        # on a terminal only (tqdm's disable=None), and gone when done
        bar = tqdm(total=len(ids), desc="predicting the clean, spurious and triggered sets", unit=" rows", disable=None, leave=False)
        with _merged(model), predicting(model, _sharded(model)) as predictor, bar:
            for rows, batch in self._batches(tokenizer, ids, model.device, budget):
                orders.append(rows)
                labels.append(self._predicted_labels(predictor, batch))
                bar.update(len(rows))
        predicted = np.empty(len(ids), dtype=np.int64)
        if labels:
            predicted[np.concatenate(orders)] = torch.cat(labels).cpu().numpy()
        return predicted

    def _predicted_labels(self, model, batch: dict) -> torch.Tensor:
        """One batch's predicted labels: the classifier's argmax (``ssti_hf.training.sft.SFTCallback``
        scores a causal LM's label words instead)."""
        return model(**batch).logits.argmax(-1)

    def _attentions(self, model, batch: dict) -> tuple:
        """Every layer's attention weights for one batch (eager attention is on)."""
        return model(**batch, output_attentions=True).attentions

    def _attention_entropy(self, model, tokenizer, plan: "_Plan") -> dict:
        data = self.sets["spurious"]
        labels = arrow_column(data, self.label_column).to_pylist()
        per_class = max(1, self.entropy_samples // len(set(labels)))
        rows = [i for label in sorted(set(labels)) for i in [j for j, l in enumerate(labels) if l == label][:per_class]]
        ids = [plan.ids[plan.rows["spurious"][i]] for i in rows]
        importances = {name: [None] * len(rows) for name in self.importance}
        masks = [None] * len(rows)
        with _eager_attention(model) as reason:
            if reason:
                logger.warning("SSTICallback: attention entropy skipped: %s", reason)
                return {}
            # Small batches: every layer's [batch, heads, seq, seq] attention comes back at once.
            with tqdm(total=len(ids), desc="attention entropy", unit=" rows", disable=None, leave=False) as bar:
                for order, batch in self._batches(tokenizer, ids, model.device, 16 * self.max_length):
                    layers = self._attentions(model, batch)
                    mask = batch["attention_mask"].float()
                    reduced = {}
                    if "attention" in importances:
                        # Each key's attention averaged over the real queries here (the metric would do
                        # the same), so only [heads, 1, seq] per sample leaves the GPU.
                        layer = layers[self.layer].float()  # [B, heads, seq, seq]
                        reduced["attention"] = (layer * mask[:, None, :, None]).sum(2, keepdim=True) / mask.sum(1)[:, None, None, None]
                    if "rollout" in importances:
                        reduced["rollout"] = _rollout_rows(layers, mask)[:, None, None, :]  # [B, 1, 1, seq]
                    for name, values in reduced.items():
                        for i, a in zip(order, values.cpu().numpy()):
                            importances[name][i] = a
                    for i, m in zip(order, batch["attention_mask"].cpu().numpy()):
                        masks[i] = m
                    bar.update(len(order))
        # the plain metric on the arrays, as for ssti_gap: evaluate's compute() would encode
        # 256 x heads x seq floats through datasets' Features first (0.14 s against 0.02 s). A
        # rollout row arrives as [1, 1, seq]: the metric's attention path reads it as importance
        # already averaged.
        measured = {}
        for name, values in importances.items():
            result = attention_entropy(
                attentions=values,
                attention_mask=masks,
                references=[labels[i] for i in rows],
                head=self.head if name == "attention" else None,
                require_two_classes=False,
            )
            if name == "attention":
                measured.update(result)
            else:
                measured[name] = {k: v for k, v in result.items() if k != "entropies"}
        return measured | {"entropy_rows": len(rows)}


def _rollout_rows(layers, mask: torch.Tensor) -> torch.Tensor:
    """Attention rollout of a batch, the row of the pooled position ([B, seq]): what the
    ``attention_entropy`` metric's ``attention_rollout`` computes per sample, on the GPU. Padding
    needs no cutting out: no real query attends to a padding key, so the real rows' paths never
    pass through one."""
    first = layers[0].float().mean(1)  # [B, seq, seq]
    identity = torch.eye(first.shape[-1], device=first.device)
    rollout = identity.expand_as(first)
    for layer in layers:
        mixed = 0.5 * layer.float().mean(1) + 0.5 * identity
        rollout = (mixed / mixed.sum(-1, keepdim=True)) @ rollout
    # A causal model's first token attends to itself alone: read the last real token there.
    causal = (first[:, 0, 1:] * mask[:, 1:]).sum(-1) == 0
    pooled = torch.where(causal & (mask.sum(1) > 1), mask.sum(1).long() - 1, 0)
    return rollout[torch.arange(len(pooled), device=rollout.device), pooled] * mask


def _waiting(planned: Future, what: str):
    """``planned``'s result; a terminal shows the time spent waiting for it (tqdm's disable=None)."""
    if planned.done():
        return planned.result()
    with tqdm(desc=what, bar_format="{desc}: {elapsed}", disable=None, leave=False) as bar:
        while True:
            try:
                return planned.result(timeout=0.5)
            except TimeoutError:
                bar.refresh()


def default_batch_tokens(model) -> int:
    """Tokens per prediction batch unless the callback is given ``batch_tokens`` (see there)."""
    if model.device.type != "cuda":
        return 8192
    return 65536 if is_large(model) else 262144


@dataclass
class _Plan:
    ids: list[np.ndarray]  # token ids of the distinct rows
    rows: dict[str, np.ndarray]  # set name -> each row's index into ids


_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ssti-tokenize")
_COPIES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # tokenizer -> its copy for _BACKGROUND


def _thread_copy(tokenizer):
    """The copy of ``tokenizer`` that the background thread uses: a fast tokenizer keeps its
    truncation setting in shared state, so calls with and without truncation in two threads at
    once could get each other's. One copy per tokenizer (a deep copy takes 0.2 s): the thread
    plans one set of test sets at a time."""
    if tokenizer not in _COPIES:
        _COPIES[tokenizer] = copy.deepcopy(tokenizer)
    return _COPIES[tokenizer]


def _token_cache() -> str:
    import datasets

    return str(Path(datasets.config.HF_DATASETS_CACHE) / "ssti_hf_tokens")


@contextlib.contextmanager
def _merged(model):
    """LoRA/DoRA weights merged into the base weights while predicting: the forward pass is then
    the plain model's, without the adapters' extra matmuls and launches; unmerged afterwards."""
    merge = getattr(model, "merge_adapter", None)
    configs = getattr(model, "peft_config", None) or {}
    # DoRA's merge gives the base weights new storage: CUDA graphs captured before would read freed
    # memory. FSDP's weights are shards: nothing whole to merge into.
    if merge is None or not configs or _sharded(model) or any(getattr(c, "use_dora", False) for c in configs.values()):
        yield
        return
    merge()
    try:
        yield
    finally:
        model.unmerge_adapter()


def _sharded(model) -> bool:
    """Whether FSDP (version 1 or 2) shards any of the model's weights."""
    import torch.distributed as dist

    if model is None or not (dist.is_available() and dist.is_initialized()):
        return False
    from torch.distributed.fsdp import FullyShardedDataParallel

    try:
        from torch.distributed.fsdp import FSDPModule  # FSDP2, exported since torch 2.6
    except ImportError:
        FSDPModule = FullyShardedDataParallel
    return any(isinstance(m, (FullyShardedDataParallel, FSDPModule)) for m in model.modules())


@contextlib.contextmanager
def _eager_attention(model):
    """Switch to eager attention for one pass: sdpa and flash attention return no attention
    weights (silently None). Yields None, or the reason it cannot switch."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    current = getattr(base.config, "_attn_implementation", None)
    if current in (None, "eager"):
        yield None
        return
    try:
        base.set_attn_implementation("eager")
    except Exception as error:  # a model without an eager path: say so instead of logging nothing
        yield f"cannot switch {type(base).__name__} from {current!r} to eager attention ({error})"
        return
    try:
        yield None
    finally:
        base.set_attn_implementation(current)


def _calling_handler():
    """The ``CallbackHandler`` running the current event: the frame of its ``call_event`` up the stack."""
    from transformers.trainer_callback import CallbackHandler

    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        if isinstance(owner, CallbackHandler):
            return owner
        frame = frame.f_back
    return None


def _flatten(results: dict, prefix: str = "") -> dict:
    """Nested results as scalar log entries: predicted_counts.triggered.0 -> predicted_counts_triggered_0."""
    flat = {}
    for key, value in results.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}_"))
        elif isinstance(value, (list, tuple)):
            continue  # per-sample lists (entropies) do not belong in a log line
        elif isinstance(value, (bool, np.bool_)):
            flat[name] = bool(value)  # the entropy flag stays a yes/no
        else:
            flat[name] = float(value)
    return flat
