"""The CUDA-graphed training step computes what the eager step computes (needs a GPU).

Trains the same LoRA twice from the same initial weights on the same batches (IMDB texts, padded
to multiples of 128 tokens, dropout off so both runs are deterministic): once through the
Trainer's eager step, once through :class:`ssti_hf.engine.graphs.GraphedTrainingStep`; prints the loss
trajectories' largest difference, the adapters' relative difference and the time per step.

    python bench/check_graphs.py --model /root/minilm --data /root/imdb --steps 60
"""

from __future__ import annotations

import argparse
import copy
import time

import pyarrow.parquet as pq
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--data", required=True)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rank", type=int, default=64)
    args = parser.parse_args()

    from ssti_hf.engine.graphs import GraphedTrainingStep
    from ssti_hf.training.trainer import TokenizingCollator
    from ssti_hf.training.models import build_model
    from ssti_hf.training.arguments import ModelArguments

    torch.manual_seed(0)
    tokenizer, model = build_model(ModelArguments(model=args.model, rank=args.rank, lora_dropout=0.0), num_labels=2)
    for module in model.modules():  # no dropout: the two runs must be deterministic to compare
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    model.cuda().train()
    table = pq.read_table(f"{args.data}/train.parquet").slice(0, 16 * args.steps)
    rows = table.to_pylist()
    collate = TokenizingCollator(tokenizer, 512, pad_to=128)
    batches = [{k: v.cuda() for k, v in collate(rows[i : i + 16]).items()} for i in range(0, len(rows), 16)]

    def train(step_fn, trained):
        optimizer = torch.optim.AdamW([p for p in trained.parameters() if p.requires_grad], lr=1e-4, weight_decay=1e-5)
        losses = []
        torch.cuda.synchronize()
        started = time.perf_counter()
        for batch in batches:
            losses.append(step_fn(trained, batch))
            torch.nn.utils.clip_grad_norm_([p for p in trained.parameters() if p.requires_grad], 1.0)
            optimizer.step()
            trained.zero_grad()
        torch.cuda.synchronize()
        return torch.stack(losses).float().cpu(), (time.perf_counter() - started) / len(batches)

    def eager(trained, batch):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = trained(**batch).loss
        loss.backward()
        return loss.detach()

    eager_model = copy.deepcopy(model)
    graphed_model = copy.deepcopy(model)
    graphed = GraphedTrainingStep(graphed_model, autocast_dtype=torch.bfloat16)
    eager_losses, eager_step = train(eager, eager_model)
    graphed_losses, graphed_step = train(lambda m, b: graphed(b), graphed_model)
    adapters = [(n, p) for n, p in eager_model.named_parameters() if p.requires_grad]
    other = dict(graphed_model.named_parameters())
    diff = max((p - other[n]).norm().item() / max(p.norm().item(), 1e-12) for n, p in adapters)
    print(f"graphs captured: {len(graphed.graphs)}, eager fallbacks: {graphed.eager_steps}")
    print(f"loss, first steps: eager {eager_losses[:4].tolist()} graphed {graphed_losses[:4].tolist()}")
    print(f"largest loss difference over {len(batches)} steps: {(eager_losses - graphed_losses).abs().max():.2e}")
    print(f"largest relative difference of an adapter weight: {diff:.2e}")
    # a second pass of each, warm (graphs captured, kernels chosen), for the time per step
    _, eager_step = train(eager, eager_model)
    _, graphed_step_warm = train(lambda m, b: graphed(b), graphed_model)
    print(f"ms per step: eager {eager_step * 1e3:.1f}, graphed {graphed_step * 1e3:.1f} (with captures), "
          f"graphed, shapes already captured {graphed_step_warm * 1e3:.1f}")


if __name__ == "__main__":
    main()
