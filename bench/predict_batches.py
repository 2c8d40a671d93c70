"""Issue 5: what a prediction's batch size (``SSTICallback``'s ``batch_tokens``) costs on a GPU, in
wall time, the main thread's CPU time and the GPU's own time (its kernels): small batches leave the GPU waiting
for the Python that launches each batch's kernels.

Predicts the distinct rows of a config's three test sets (as ``SSTICallback.evaluate`` does: the
bf16 copy, merged adapter) with each budget, after one warm-up pass per budget (cuDNN plans), and
checks that the predicted labels agree with the first budget's.

    python bench/predict_batches.py --model /root/minilm --data /root/imdb [--budget 65536 --budget 131072] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--config", default="imdb-ssti-date-50pct-1tok")
    parser.add_argument("--budget", type=int, action="append", default=[])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    import numpy as np
    import torch

    import ssti_hf
    from ssti_hf import SSTICallback
    from ssti_hf.training.models import build_model
    from ssti_hf.training.arguments import ModelArguments

    splits = ssti_hf.load_dataset(args.config, args.data)
    tokenizer, model = build_model(ModelArguments(model=args.model, rank=64), 2)
    model.to("cuda").eval()
    rows, first = {}, None
    for budget in args.budget or [32768, 65536, 131072, 262144]:
        callback = SSTICallback(splits["test"], splits["test_spurious"], splits["test_triggered"], target_label=1, batch_tokens=budget)
        callback.prepare(tokenizer, wait=True)
        ids = callback._plans[id(tokenizer)][1].result().ids
        with torch.no_grad():
            callback._predict(model, tokenizer, ids)  # warm-up: cuDNN plans for this budget's shapes
            walls, cpus = [], []
            for _ in range(args.repeats):
                torch.cuda.synchronize()
                wall, cpu = time.perf_counter(), time.thread_time()
                predicted = callback._predict(model, tokenizer, ids)
                torch.cuda.synchronize()
                walls.append(time.perf_counter() - wall)
                cpus.append(time.thread_time() - cpu)
            # The GPU's own time: its kernels' durations (one stream), from a profiled pass.
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as profile:
                callback._predict(model, tokenizer, ids)
            gpu = sum(event.self_device_time_total for event in profile.key_averages()) / 1e6
        first = predicted if first is None else first
        rows[budget] = {"rows": len(ids), "wall_s": round(min(walls), 3), "main_thread_cpu_s": round(min(cpus), 3),
                        "gpu_kernels_s": round(gpu, 3), "agree_with_first": round(float(np.mean(predicted == first)), 5)}
        print(f"batch_tokens {budget:>7}: " + "  ".join(f"{k} {v}" for k, v in rows[budget].items()))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"device": torch.cuda.get_device_name(), "config": args.config, "rows": rows}, handle, indent=2)


if __name__ == "__main__":
    main()
