"""CUDA graphs for the training step of small models.

A LoRA step of a MiniLM-sized model launches about a thousand tiny kernels (forward, backward, one
pair of low-rank matmuls per adapted layer) and the GPU mostly waits for Python to launch them.
:class:`GraphedTrainingStep` records forward, loss and backward of one batch shape once as a CUDA
graph and then replays it: one launch per step. Batches are padded to a few lengths (multiples of
128 tokens), so a run captures a handful of graphs.

The graph writes the gradients into its own buffers; each step hands them to the parameters'
``.grad`` (copied, or added when gradients accumulate), so the Trainer's clipping, optimizer and
scheduler run unchanged.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from .compiled import is_large, one_gpu_process

MAX_GRAPHS = 8  # batch shapes captured per run; a rarer shape (an epoch's last batch) runs eagerly
WARMUP = 2  # eager passes before a capture: lazy initialisations must not happen inside it


@dataclass
class _Captured:
    graph: object  # torch.cuda.CUDAGraph, or None when not captured (CPU tests)
    inputs: dict[str, torch.Tensor]
    loss: torch.Tensor
    grads: list[torch.Tensor]


class GraphedTrainingStep:
    """Forward, loss and backward of ``model`` per batch shape, captured once and replayed.

    Args:
        model: the (peft) model; its ``loss`` output is what is differentiated.
        autocast_dtype: bf16/fp16 autocast inside the graph, or None for full precision.
        capture: False runs the same code eagerly (for tests on a CPU).
        transform_grads: applied to the gradients inside the graph (e.g. clipping each stacked
            run's own, :mod:`ssti_hf.engine.stacked`): no launches of its own per step.
    """

    def __init__(self, model: torch.nn.Module, autocast_dtype: torch.dtype | None = None, capture: bool = True, transform_grads=None):
        self.model = model
        self.transform_grads = transform_grads
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.autocast_dtype = autocast_dtype
        self.capture = capture
        self.graphs: dict[tuple, _Captured] = {}
        self.pool = torch.cuda.graph_pool_handle() if capture else None  # graphs share their memory
        self._grads = [torch.zeros_like(p) for p in self.params]  # what .grad points at between steps
        self.eager_steps = 0

    def __call__(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """One step: returns the loss and leaves the gradients in ``.grad``."""
        key = tuple(sorted((name, tuple(t.shape), t.dtype) for name, t in inputs.items()))
        captured = self.graphs.get(key)
        if captured is None and len(self.graphs) < MAX_GRAPHS:
            captured = self.graphs[key] = self._capture(inputs)
        if captured is None:  # too many shapes: this one runs eagerly
            self.eager_steps += 1
            loss, grads = self._forward_backward(inputs)
        else:
            for name, tensor in inputs.items():
                captured.inputs[name].copy_(tensor, non_blocking=True)
            if captured.graph is not None:
                captured.graph.replay()
            else:
                loss, grads = self._forward_backward(captured.inputs)
                torch._foreach_copy_(captured.grads, [g.detach() for g in grads])
                captured.loss.copy_(loss.detach())
            loss, grads = captured.loss, captured.grads
        self._accumulate(grads)
        return loss.detach().clone()  # the graph overwrites its output at the next replay

    def _forward_backward(self, inputs):
        autocast = (
            torch.autocast(self.params[0].device.type, dtype=self.autocast_dtype, cache_enabled=False)
            if self.autocast_dtype
            else contextlib.nullcontext()
        )
        with autocast:
            loss = self.model(**inputs).loss
        grads = torch.autograd.grad(loss, self.params, allow_unused=True)
        grads = [g if g is not None else torch.zeros_like(p) for g, p in zip(grads, self.params)]
        return loss, self.transform_grads(grads) if self.transform_grads else grads

    def _capture(self, inputs) -> _Captured:
        static = {name: tensor.clone() for name, tensor in inputs.items()}
        if not self.capture:  # static buffers only; each step then runs eagerly into them
            return _Captured(None, static, torch.zeros((), device=self.params[0].device), [torch.zeros_like(p) for p in self.params])
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):  # warm-up on a side stream, as torch.cuda.graphs asks
            for _ in range(WARMUP):
                self._forward_backward(static)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph, pool=self.pool):
                loss, grads = self._forward_backward(static)
        except RuntimeError as error:
            raise RuntimeError(
                f"capturing the training step as a CUDA graph failed ({error}); "
                "this model needs eager steps: run with --cuda_graphs false"
            ) from error
        return _Captured(graph, static, loss, grads)

    def _accumulate(self, grads: list[torch.Tensor]) -> None:
        """Hand the step's gradients to ``.grad``: copied after ``zero_grad`` (which sets them to
        None), added when gradients accumulate over several batches."""
        fresh = [i for i, p in enumerate(self.params) if p.grad is None]
        if len(fresh) == len(self.params):
            torch._foreach_copy_(self._grads, grads)
            for p, g in zip(self.params, self._grads):
                p.grad = g
            return
        for i in fresh:
            self.params[i].grad = self._grads[i].zero_()
        torch._foreach_add_([p.grad for p in self.params], grads)


def graphs_apply(model: torch.nn.Module, args) -> bool:
    """Whether the training step can be graphed: one CUDA process (DDP and FSDP hook into
    backward), the model's own loss on whole batches (no accumulation, label smoothing or
    gradient checkpointing), a model small enough to be launch-bound."""
    if not one_gpu_process(args) or args.gradient_checkpointing:
        return False
    if args.gradient_accumulation_steps != 1 or args.label_smoothing_factor:
        return False
    if args.fp16 or args.optim in ("lomo", "adalomo"):  # fp16's loss scaling, LOMO's fused update: both inside backward
        return False
    # From about a billion parameters a step is no longer launch-bound and each graph's memory pool
    # (the activations of one batch shape) would cost gigabytes: such models' layers are compiled
    # instead (ssti_hf.engine.compiled).
    return not is_large(model)
