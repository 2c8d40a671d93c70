"""Where a training step's and a prediction batch's GPU time goes, by kind of kernel (needs a GPU).

One LoRA training step (forward, loss, backward; bf16 autocast, as ``ssti-hf train`` runs it) of
``--runs`` stacked runs (1: the single-run model) on IMDB rows padded to ``--width`` tokens, and one
prediction batch of the merged model, under ``torch.profiler``: GPU time per step, the share of
matmuls, attention, dropout, normalisation, casts and copies, other elementwise kernels, and the
kernel count.

    python bench/profile_step.py --model /root/minilm --data /root/imdb --runs 1 --runs 4
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict

import pyarrow.parquet as pq
import torch
from torch.profiler import ProfilerActivity, profile

KINDS = (  # first match wins
    ("attention", r"fmha|flash|attention|softmax"),
    ("matmul", r"gemm|cutlass|sm90|sm80|nvjet|cublas|matmul|splitk"),
    ("dropout", r"bernoulli|dropout|fused_dropout"),
    ("norm", r"layer_norm|layernorm"),
    ("cast/copy", r"copy|cast|to_copy|memcpy|memset|fill"),
    ("optimizer", r"adam|multi_tensor"),
)


def kind(name: str) -> str:
    return next((k for k, pattern in KINDS if re.search(pattern, name, re.I)), "other elementwise")


def profiled(fn, repeats: int = 5) -> tuple[float, dict, int]:
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(repeats):
            fn()
        torch.cuda.synchronize()
    shares, kernels, total = defaultdict(float), 0, 0.0
    for event in prof.events():
        if event.device_type == torch.autograd.DeviceType.CUDA:
            us = event.device_time if hasattr(event, "device_time") else event.cuda_time
            shares[kind(event.name)] += us
            total += us
            kernels += 1
    return total / repeats / 1000, {k: v / total for k, v in sorted(shares.items(), key=lambda kv: -kv[1])}, kernels // repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--data", required=True)
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--width", type=int, default=384, help="tokens per row (IMDB rows cut or padded to it)")
    parser.add_argument("--runs", type=int, action="append", help="stacked runs per step (repeatable; default 1)")
    args = parser.parse_args()

    from ssti_hf.engine import stacked
    from ssti_hf.training.callback import _merged
    from ssti_hf.engine.tokens import pad
    from ssti_hf.training.models import build_model
    from ssti_hf.training.arguments import ModelArguments

    texts = pq.read_table(f"{args.data}/train.parquet").slice(0, 16 * max(args.runs or [1])).column("text").to_pylist()
    rows = []
    print(f"| what | rows x tokens | GPU ms | kernels | " + " | ".join(k for k, _ in KINDS) + " | other elementwise |")
    print("|---" * (5 + len(KINDS)) + "|")
    for runs in args.runs or [1]:
        models = []
        for seed in range(runs):
            torch.manual_seed(seed)
            tokenizer, model = build_model(ModelArguments(model=args.model, rank=args.rank), num_labels=2)
            models.append(model)
        ids = tokenizer(texts[: 16 * runs], truncation=True, max_length=args.width)["input_ids"]
        input_ids, mask = pad(ids, args.width, tokenizer.pad_token_id)
        batch = {"input_ids": torch.from_numpy(input_ids).cuda(), "attention_mask": torch.from_numpy(mask).cuda(),
                 "labels": torch.zeros(len(ids), dtype=torch.long, device="cuda")}
        loss_model = stacked.StackedLoss(stacked.stack_models(models), runs).cuda().train()
        params = [p for p in loss_model.parameters() if p.requires_grad]

        def step():
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = loss_model(**batch).loss
            torch.autograd.grad(loss, params)

        ms, shares, kernels = profiled(step)
        rows.append((f"train step, {runs} run(s)", f"{16 * runs} x {args.width}", ms, kernels, shares))
        if runs == 1:
            model = models[0].cuda().eval()

            @torch.no_grad()
            def predict():
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.argmax(-1)

            with _merged(model):
                ms, shares, kernels = profiled(predict)
            rows.append(("predict (merged)", f"16 x {args.width}", ms, kernels, shares))
        for what, shape, ms, kernels, shares in rows[-2 if runs == 1 else -1 :]:
            cells = [f"{100 * shares.get(k, 0):.0f}%" for k, _ in KINDS] + [f"{100 * shares.get('other elementwise', 0):.0f}%"]
            print(f"| {what} | {shape} | {ms:.2f} | {kernels} | " + " | ".join(cells) + " |")
        del loss_model, models
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
