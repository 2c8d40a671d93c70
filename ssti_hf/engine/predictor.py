"""The model an evaluation predicts with: on a GPU, a bf16 copy of the model, kept per process.

A bf16 copy rather than bf16 autocast over the float32 model: its activations stay bf16, where
autocast casts them around every normalisation (a third of a prediction's GPU time,
bench/profile_step.py). A sweep predicts with one model shape run after run, so the copy is made
once and refilled with each run's weights (a deep copy took 0.2 s per run).

For BERT-family classifiers, which read only the first position ([CLS]) of the last layer, the
copy's last layer computes that position alone: keys and values for every token, the query, the
attention output and the feed-forward block for [CLS] only (about a seventh of a 6-layer model's
work per row). And the copy takes the padding mask as sdpa's boolean 4D mask, built on the GPU:
from a 2D mask transformers first asks whether a batch has padding at all, a wait for the GPU on
every batch. The logits are the full model's, up to bf16 rounding.

The first-position attention runs on sdpa's memory-efficient kernel, not cuDNN's, which PyTorch
prefers on an H100: cuDNN builds a plan for each new shape (about 40 ms each; a prediction's
batches come in some 64 widths, so 2.5-4 s on a process's first prediction), and at one query per
row it saves little once planned (12-14 against 15 ms over the 64 widths). The other layers keep
cuDNN: there it is a third faster than the memory-efficient kernel, which a sweep's 60
predictions would pay 0.3 s each (``bench/sdpa_backends.py``).
"""

from __future__ import annotations

import contextlib
import copy
import types

import torch
import transformers
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from .compiled import is_large

#: Classifiers whose head reads the last layer's first position only, and whose layers are BERT's
#: (attention.self.query/key/value, attention.output, intermediate, output).
FIRST_POSITION_HEADS = ("BertForSequenceClassification", "RobertaForSequenceClassification", "XLMRobertaForSequenceClassification")

FIRST_POSITION_ATTENTION = [SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]  # sdpa's kernels for the [CLS] query

_COPY: dict = {}  # signature -> the bf16 copy; one at a time


@contextlib.contextmanager
def predicting(model, sharded: bool = False):
    """The model to predict with: the bf16 copy on a GPU with bf16 for a model under a billion
    parameters that FSDP does not shard; else ``model`` itself, under bf16 autocast on a GPU."""
    if model.device.type == "cuda" and torch.cuda.is_bf16_supported() and not is_large(model) and not sharded:
        yield bf16_copy(model)
        return
    with autocast(model):
        yield model


def autocast(model):
    """bf16 autocast for evaluation on a GPU (argmax is robust to it); nothing on a CPU."""
    if model.device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.no_grad()
def bf16_copy(model: nn.Module) -> nn.Module:
    """A bf16 copy of ``model`` in eval mode, holding its current weights (merged adapters
    included). The copy is reused for the next model of the same structure and settings."""
    key = signature(model)
    kept = _COPY.get(key)
    if kept is None:
        _COPY.clear()  # the previous shape's copy: a sweep moves on to another model
        kept = copy.deepcopy(model).to(torch.bfloat16).eval()
        faster_encoder(kept)
        _COPY[key] = kept
        return kept
    sources = dict(_tensors(model))
    for name, tensor in _tensors(kept):
        tensor.copy_(sources[name])
    return kept


def _tensors(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """Every parameter and buffer of ``model`` by name (tied ones under each of their names)."""
    return [*model.named_parameters(remove_duplicate=False), *model.named_buffers(remove_duplicate=False)]


def signature(model: nn.Module) -> tuple:
    """What two models must share for one's copy to predict as the other: module types, tensor
    names, shapes and dtypes, adapters' merged state, and the config."""
    modules = tuple((name, type(m).__name__, getattr(m, "merged", None)) for name, m in model.named_modules())
    tensors = tuple((name, tuple(t.shape), t.dtype, t.device) for name, t in _tensors(model))
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    config = getattr(base, "config", None)
    settings = (config.to_json_string(use_diff=False), getattr(config, "_attn_implementation", None)) if config is not None else None
    return modules, tensors, settings


def faster_encoder(model: nn.Module) -> bool:
    """Make a BERT-family classifier's last layer compute the first position only (its head reads
    nothing else) and, under sdpa, give its encoder the padding mask in 4D. Returns whether it
    applied: other models are left as they are."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    config = getattr(base, "config", None)
    # transformers 5's BERT layers return a tensor and pass a 4D mask on as it is; 4.x layers
    # return tuples and would reject the boolean mask
    if type(base).__name__ not in FIRST_POSITION_HEADS or config is None or int(transformers.__version__.split(".")[0]) < 5:
        return False
    if config.is_decoder or getattr(config, "chunk_size_feed_forward", 0) or config._attn_implementation not in ("sdpa", "eager"):
        return False
    encoder = getattr(base.base_model, "encoder", None)
    layers = getattr(encoder, "layer", None)
    if not layers:
        return False
    last = layers[-1]
    if not all(hasattr(last, part) for part in ("attention", "intermediate", "output")) or not hasattr(last.attention, "self"):
        return False
    last.forward = types.MethodType(_first_position_forward, last)
    if config._attn_implementation == "sdpa":
        base.base_model.register_forward_pre_hook(_boolean_mask, with_kwargs=True)
    return True


def _boolean_mask(module, args, kwargs):
    """A [batch, length] padding mask as sdpa's [batch, 1, 1, length] boolean mask (True: attend),
    which transformers passes on as it is."""
    mask = kwargs.get("attention_mask")
    if mask is not None and mask.dim() == 2:
        kwargs["attention_mask"] = mask.bool()[:, None, None, :]
    return args, kwargs


def _first_position_forward(layer, hidden_states, attention_mask=None, *args, **kwargs):
    """A BERT layer's forward for the first position: [batch, 1, hidden]."""
    attention = layer.attention.self
    first = hidden_states[:, :1]

    def heads(x):
        return x.view(x.shape[0], x.shape[1], -1, attention.attention_head_size).transpose(1, 2)

    query, key, value = heads(attention.query(first)), heads(attention.key(hidden_states)), heads(attention.value(hidden_states))
    if attention_mask is not None and attention_mask.dim() == 4:
        attention_mask = attention_mask[:, :, :1, :]  # the first query's row (boolean for sdpa, additive for eager)
    with sdpa_kernel(FIRST_POSITION_ATTENTION):
        attended = nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=attention_mask, scale=attention.scaling)
    attended = layer.attention.output(attended.transpose(1, 2).reshape(first.shape[0], 1, -1), first)
    return layer.output(layer.intermediate(attended), attended)
