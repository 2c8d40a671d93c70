"""Issue 5: GPU time of the levers left for targets 1 and 2, each against the current code (needs a GPU).

Prediction over a real run's three test sets (config ``imdb-ssti-date-50pct-1tok``, the distinct
rows of its plan, MiniLM in bf16 as ``SSTICallback`` predicts), batched:
  - ``pad64``: rows sorted by length, padded to multiples of 64, with the padding mask (current);
  - ``pad8``: the same, padded to multiples of 8;
  - ``exact``: rows of one length per batch and no mask (sdpa can then use flash attention);
  - ``exact+compile``: the same through ``torch.compile(dynamic=True)`` (compile time printed apart).
A stacked training step (bf16 frozen base, LoRA r64, graphed as ``train_stacked`` does), at
``--runs`` runs of 16 rows x ``--width`` tokens:
  - ``current``; ``baddbmm`` (scale and add folded into the second matmul);
  - ``compile`` (the loss module through ``torch.compile``, then captured; compile time apart).

    python bench/levers.py --model /root/minilm --data /root/imdb --runs 1 --runs 15
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch


def gpu_seconds(fn, repeats: int = 1) -> float:
    fn()  # warm-up (allocator, kernels' first launch)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    started = time.perf_counter()
    start.record()
    for _ in range(repeats):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1000 / repeats, (time.perf_counter() - started) / repeats


def batches(ids, lengths, how: str, budget: int = 65536):
    order = np.argsort(lengths, kind="stable")
    from ssti_hf.engine.tokens import pad

    start = 0
    while start < len(order):
        stop = start + 1
        multiple = {"pad64": 64, "pad8": 8}.get(how)
        while stop < len(order):
            longest = int(lengths[order[stop]])
            if how == "exact" and longest != int(lengths[order[start]]):
                break
            width = longest if how == "exact" else min(-(-longest // multiple) * multiple, 512)
            if (stop - start + 1) * width > budget:
                break
            stop += 1
        rows = order[start:stop]
        longest = int(lengths[rows[-1]])
        width = longest if how == "exact" else min(-(-longest // multiple) * multiple, 512)
        input_ids, mask = pad([ids[r] for r in rows], width, 0)
        batch = {"input_ids": torch.from_numpy(input_ids).cuda()}
        if how != "exact":
            batch["attention_mask"] = torch.from_numpy(mask).cuda()
        yield rows, batch
        start = stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--data", required=True)
    parser.add_argument("--runs", type=int, action="append")
    parser.add_argument("--width", type=int, default=384)
    parser.add_argument("--skip-predict", action="store_true")
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()

    from ssti_hf.engine import stacked
    from ssti_hf.training.callback import SSTICallback
    from ssti_hf.training.models import build_model
    from ssti_hf.training.runs import config_splits
    from ssti_hf.training.arguments import ModelArguments, SSTIArguments
    from ssti_hf.engine.graphs import GraphedTrainingStep

    out = {"device": torch.cuda.get_device_name(), "predict": {}, "train": {}}
    torch.manual_seed(0)
    tokenizer, model = build_model(ModelArguments(model=args.model, rank=64), num_labels=2)
    if not args.skip_predict:
        config, splits = config_splits(SSTIArguments(config="imdb-ssti-date-50pct-1tok", source=args.data), 0)
        callback = SSTICallback(splits["test"], splits["test_spurious"], splits["test_triggered"], target_label=1)
        plan = callback._plan(tokenizer)
        lengths = np.fromiter(map(len, plan.ids), dtype=np.int64)
        base = model.merge_and_unload().cuda().to(torch.bfloat16).eval()
        reference = None
        for how in ("pad64", "pad8", "exact", "exact+compile"):
            forward = base
            compile_seconds = 0.0
            if how.endswith("+compile"):
                forward = torch.compile(base, dynamic=True)
                started = time.perf_counter()
                with torch.no_grad():  # compile on the first shapes, timed apart
                    for k, (_, batch) in enumerate(batches(plan.ids, lengths, "exact")):
                        forward(**batch)
                        if k == 3:
                            break
                torch.cuda.synchronize()
                compile_seconds = time.perf_counter() - started
            kind = how.split("+")[0]
            prepared = list(batches(plan.ids, lengths, kind))
            predicted = torch.empty(len(plan.ids), dtype=torch.long, device="cuda")

            @torch.no_grad()
            def predict():
                for rows, batch in prepared:
                    predicted[torch.from_numpy(rows).cuda()] = forward(**batch).logits.argmax(-1)

            gpu, wall = gpu_seconds(predict)
            labels = predicted.cpu().numpy()
            reference = labels if reference is None else reference
            tokens = sum(b["input_ids"].numel() for _, b in prepared)
            out["predict"][how] = {"gpu_s": gpu, "wall_s": wall, "batches": len(prepared), "tokens": tokens,
                                   "rows": len(plan.ids), "compile_s": compile_seconds,
                                   "agree_with_pad64": float((labels == reference).mean())}
            print(f"predict {how:14s} gpu {gpu:.3f} s wall {wall:.3f} s batches {len(prepared)} tokens {tokens} "
                  f"compile {compile_seconds:.1f} s agree {out['predict'][how]['agree_with_pad64']:.4f}", flush=True)
        del base
    if not args.skip_train:
        texts = splits_texts(args.data, 16 * max(args.runs or [1]))
        for runs in args.runs or [1]:
            models = []
            for seed in range(runs):
                torch.manual_seed(seed)
                models.append(build_model(ModelArguments(model=args.model, rank=64), num_labels=2)[1])
            ids = tokenizer(texts[: 16 * runs], truncation=True, max_length=args.width)["input_ids"]
            from ssti_hf.engine.tokens import pad

            input_ids, mask = pad(ids, args.width, tokenizer.pad_token_id)
            batch = {"input_ids": torch.from_numpy(input_ids).cuda(), "attention_mask": torch.from_numpy(mask).cuda(),
                     "labels": torch.from_numpy(np.arange(16 * runs) % 2).cuda()}
            for how in ("current", "baddbmm", "compile"):
                host = stacked.stack_models(models)
                for p in host.parameters():
                    if not p.requires_grad:
                        p.data = p.data.to(torch.bfloat16)
                loss = stacked.StackedLoss(host, runs).cuda().train()
                if how == "baddbmm":
                    for module in host.modules():
                        if isinstance(module, stacked.StackedLoraLinear):
                            module.forward = baddbmm_forward.__get__(module)
                compile_seconds = 0.0
                if how == "compile":
                    loss.compile()
                step = GraphedTrainingStep(loss, capture=True)
                started = time.perf_counter()
                step(batch)
                torch.cuda.synchronize()
                first = time.perf_counter() - started
                gpu, wall = gpu_seconds(lambda: step(batch), repeats=50)
                out["train"][f"{runs}x{how}"] = {"gpu_ms": gpu * 1000, "wall_ms": wall * 1000, "first_step_s": first}
                print(f"train {runs} runs {how:8s} gpu {gpu * 1000:.2f} ms/step wall {wall * 1000:.2f} ms/step "
                      f"first step (capture{' + compile' if how == 'compile' else ''}) {first:.1f} s", flush=True)
                del step, loss, host
                torch.cuda.empty_cache()
            del models
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(out, handle, indent=2)


def baddbmm_forward(self, x):
    out = self.base_layer(x)
    rows = self.dropout(x).reshape(self.lora_A.shape[0], -1, x.shape[-1])
    a, b = self.lora_A.to(x.dtype).transpose(1, 2), self.lora_B.to(x.dtype).transpose(1, 2)
    return torch.baddbmm(out.reshape(self.lora_A.shape[0], -1, out.shape[-1]), torch.bmm(rows, a), b, alpha=self.scaling).reshape(out.shape)


def splits_texts(data: str, count: int) -> list[str]:
    import pyarrow.parquet as pq

    return pq.read_table(f"{data}/train.parquet").slice(0, count).column("text").to_pylist()


if __name__ == "__main__":
    main()
