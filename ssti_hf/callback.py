"""``SSTICallback``: at every evaluation, how much the model relies on the spurious token.

Given the clean, matched spurious and triggered test sets, it logs each set's balanced accuracy,
the gap (spurious minus clean), the predicted counts on the triggered set, the attack success
rate, and the attention entropy per class with the paper's flag (one class below 95% of another).
Works with full fine-tuning and peft models, encoder and decoder classifiers.

The Trainer logs its own metrics before callbacks see an evaluation, so the SSTI metrics are added
to the evaluation's metrics dict (returned by ``trainer.evaluate()``, usable as
``metric_for_best_model="eval_ssti_gap"``) and appended to ``trainer.state.log_history``.
"""

from __future__ import annotations

import contextlib
import logging

import evaluate
import torch
from datasets import Dataset
from transformers import TrainerCallback

from .metrics import metric_path

logger = logging.getLogger(__name__)
SETS = ("clean", "spurious", "triggered")


class SSTICallback(TrainerCallback):
    """Args:
        clean, spurious, triggered: ``Dataset``s with a text and a label column (e.g. the ``test``,
            ``test_spurious`` and ``test_triggered`` splits of ``ssti_hf.load_dataset``).
        target_label: the label the spurious token was injected into.
        tokenizer: defaults to the Trainer's ``processing_class``.
        entropy_samples: how many rows of the spurious set (spread over the classes) the attention
            entropy uses; 0 turns it off.
        attention_layer / attention_head: the layer (default: last) and head (default: mean over
            heads) whose attention gives token importance.
    """

    def __init__(
        self,
        clean: Dataset,
        spurious: Dataset,
        triggered: Dataset,
        target_label: int,
        tokenizer=None,
        batch_size: int = 64,
        max_length: int = 512,
        entropy_samples: int = 128,
        attention_layer: int = -1,
        attention_head: int | None = None,
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
        if isinstance(target_label, bool) or not isinstance(target_label, int):
            raise TypeError(f"target_label must be an int, got {target_label!r}")
        self.target_label = target_label
        self.tokenizer = tokenizer
        self.batch_size, self.max_length = batch_size, max_length
        self.entropy_samples, self.layer, self.head = entropy_samples, attention_layer, attention_head
        self.text_column, self.label_column = text_column, label_column
        self._cache: dict = {}
        self._gap = evaluate.load(metric_path("ssti_gap"))
        self._entropy = evaluate.load(metric_path("attention_entropy"))

    # -- Trainer hook ---------------------------------------------------------------------------
    def on_evaluate(self, args, state, control, model=None, processing_class=None, metrics=None, **kwargs):
        if not state.is_world_process_zero:  # under DDP one process measures, not every rank
            return
        results = self.evaluate(model, self.tokenizer or processing_class)
        logs = {f"eval_ssti_{key}": value for key, value in _flatten(results).items()}
        if metrics is not None:
            metrics.update(logs)
        state.log_history.append({**logs, "epoch": state.epoch, "step": state.global_step})

    # -- the measurement, usable without a Trainer ----------------------------------------------
    @torch.no_grad()
    def evaluate(self, model, tokenizer) -> dict:
        if tokenizer is None:
            raise ValueError("SSTICallback needs a tokenizer: pass processing_class= to the Trainer or tokenizer= here")
        was_training = model.training
        model.eval()
        try:
            predictions, references, subset = [], [], []
            for name, data in self.sets.items():
                predictions += self._predict(model, tokenizer, name)
                references += list(data[self.label_column])
                subset += [name] * len(data)
            results = self._gap.compute(
                predictions=predictions, references=references, subset=subset, target_label=self.target_label
            )
            if self.entropy_samples:
                results.update(self._attention_entropy(model, tokenizer))
            return results
        finally:
            model.train(was_training)

    def _encoded(self, tokenizer, name: str) -> list[list[int]]:
        """A set's token ids, tokenized once (one fast batch call) and kept for later evaluations."""
        key = (id(tokenizer), name)
        if key not in self._cache:
            texts = list(self.sets[name][self.text_column])
            self._cache[key] = tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]
        return self._cache[key]

    def _batches(self, tokenizer, ids: list[list[int]], device, batch_size: int | None = None):
        """Padded batches in order of length (little padding), with the row order to undo it."""
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        batch_size = batch_size or self.batch_size
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = tokenizer.pad({"input_ids": [ids[i] for i in rows]}, return_tensors="pt")
            yield rows, {k: v.to(device) for k, v in batch.items()}

    def _predict(self, model, tokenizer, name: str) -> list[int]:
        ids = self._encoded(tokenizer, name)
        out = [0] * len(ids)
        with _autocast(model):
            for rows, batch in self._batches(tokenizer, ids, model.device):
                for row, label in zip(rows, model(**batch).logits.argmax(-1).tolist()):
                    out[row] = label
        return out

    def _attention_entropy(self, model, tokenizer) -> dict:
        data = self.sets["spurious"]
        labels = list(data[self.label_column])
        per_class = max(1, self.entropy_samples // len(set(labels)))
        rows = [i for label in sorted(set(labels)) for i in [j for j, l in enumerate(labels) if l == label][:per_class]]
        ids = self._encoded(tokenizer, "spurious")
        ids = [ids[i] for i in rows]
        attentions, masks = [None] * len(rows), [None] * len(rows)
        with _eager_attention(model) as reason:
            if reason:
                logger.warning("SSTICallback: attention entropy skipped: %s", reason)
                return {}
            # Small batches: every layer's [batch, heads, seq, seq] attention comes back at once.
            for order, batch in self._batches(tokenizer, ids, model.device, batch_size=min(self.batch_size, 16)):
                layer = model(**batch, output_attentions=True).attentions[self.layer].float()  # [B, heads, seq, seq]
                mask = batch["attention_mask"].float()
                # Average each key's attention over the real queries here (the metric would do the
                # same), so only [heads, 1, seq] per sample leaves the GPU.
                averaged = (layer * mask[:, None, :, None]).sum(2, keepdim=True) / mask.sum(1)[:, None, None, None]
                for i, a, m in zip(order, averaged.cpu().numpy(), batch["attention_mask"].cpu().numpy()):
                    attentions[i], masks[i] = a, m
        return self._entropy.compute(
            attentions=attentions,
            attention_mask=masks,
            references=[labels[i] for i in rows],
            head=self.head,
            require_two_classes=False,
        ) | {"entropy_rows": len(rows)}


def _autocast(model):
    """bf16 autocast for evaluation on a GPU (argmax is robust to it); nothing on a CPU."""
    if model.device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


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


def _flatten(results: dict, prefix: str = "") -> dict:
    """Nested results as scalar log entries: predicted_counts.triggered.0 -> predicted_counts_triggered_0."""
    flat = {}
    for key, value in results.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}_"))
        elif isinstance(value, (list, tuple)):
            continue  # per-sample lists (entropies) do not belong in a log line
        else:
            flat[name] = float(value)
    return flat
