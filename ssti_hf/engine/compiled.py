"""Compiled layers: the fast training step of large models (a billion parameters or more).

A large model's step is long enough that launching its kernels no longer matters (so no CUDA
graphs, :mod:`ssti_hf.engine.graphs`, whose memory pools would cost gigabytes there), but its many
elementwise kernels do: RMSNorm, rotary embeddings, SiLU, residual adds, and on every adapted
linear layer LoRA's dropout, scale and add, each a pass over the activations. ``torch.compile``
fuses them. Each repeated layer (the classes transformers keeps whole, ``_no_split_modules``) is
compiled on its own: the layers share one compiled graph, so a 32-layer model compiles once, in
seconds, where compiling the whole model would trace all 32. bench/RESULTS.md, target 3: a
Llama-3-8B-shaped LoRA r64 step on one H100, 0.737 s -> 0.461 s (MFU 31% -> 50%), 10 GiB less
memory.
"""

from __future__ import annotations

import torch

LARGE = 1_000_000_000  # parameters from which a model's layers are compiled rather than its step graphed


def is_large(model: torch.nn.Module) -> bool:
    return sum(p.numel() for p in model.parameters()) >= LARGE


def one_gpu_process(args) -> bool:
    """Whether ``args`` (TrainingArguments) train in one CUDA process that nothing else wraps: no
    DDP or FSDP (they hook into the layers and backward), whole-model compile or DeepSpeed. Where
    a fast step (CUDA graphs, compiled layers) can apply."""
    if not torch.cuda.is_available() or args.world_size != 1 or args.n_gpu > 1:
        return False
    return not (args.torch_compile or args.deepspeed or args.fsdp)


def compile_applies(model: torch.nn.Module, args) -> bool:
    """Whether the layers of ``model`` are compiled for training with ``args``: one GPU process
    (:func:`one_gpu_process`), a large model."""
    return one_gpu_process(args) and is_large(model)


def compile_layers(model: torch.nn.Module) -> int:
    """``torch.compile`` each repeated layer of ``model`` (a peft model or a plain one) in place;
    returns how many were compiled (0: the model names no repeated layer class)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    names = set(getattr(base, "_no_split_modules", None) or [])
    layers = [module for module in model.modules() if type(module).__name__ in names]
    for layer in layers:
        layer.compile()
    return len(layers)
