"""Issue 5: what each sdpa backend costs at prediction's shapes, on the first call of a shape
(a backend may build a plan per shape) and on later calls (needs a GPU).

MiniLM's attention (12 heads of 32) in bf16 with a boolean padding mask, as BERT's sdpa path
calls it: for each padded width, a batch of about 65,536 tokens; full queries (every layer) and
the first position's query only (``ssti_hf.engine.predictor``'s last layer); the mask square ([batch, 1,
length, length], as transformers builds it from a 2D mask) or one row broadcast over the queries. And training's forward and
backward at the stacked loop's four widths (128-512) for ``--train-runs`` runs of 16 rows. Prints,
per backend, the seconds summed over the shapes for the first call and for a later call (training:
the mean of 20 later calls), and writes them as JSON.

    python bench/sdpa_backends.py [--widths 64] [--train-runs 1 --train-runs 15] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

BACKENDS = {"default": None, "cudnn": SDPBackend.CUDNN_ATTENTION, "efficient": SDPBackend.EFFICIENT_ATTENTION, "math": SDPBackend.MATH}


def timed(fn) -> float:
    torch.cuda.synchronize()
    started = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widths", type=int, default=64, help="widths 8, 16, ... 8 x WIDTHS")
    parser.add_argument("--budget", type=int, default=65536)
    parser.add_argument("--train-runs", type=int, action="append", default=[])
    parser.add_argument("--json")
    args = parser.parse_args()
    heads, dim = 12, 32
    rows = {}
    for name, backend in BACKENDS.items():
        for query, mask_form in (("all", "square"), ("all", "row"), ("first", "row")):
            first = later = 0.0
            # a width offset per backend: each backend meets shapes it has not seen
            for width in range(8, 8 * args.widths + 1, 8):
                batch = max(1, args.budget // width) - list(BACKENDS).index(name)
                q_len = width if query == "all" else 1
                q = torch.randn(batch, heads, q_len, dim, device="cuda", dtype=torch.bfloat16)
                k, v = (torch.randn(batch, heads, width, dim, device="cuda", dtype=torch.bfloat16) for _ in range(2))
                mask = torch.ones(batch, 1, width if mask_form == "square" else 1, width, device="cuda", dtype=torch.bool)
                mask[: batch // 2, :, :, width // 2:] = False
                mask = mask[:, :, :q_len, :]

                def call():
                    with sdpa_kernel([backend]) if backend is not None else torch.no_grad():
                        torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)

                try:
                    first += timed(call)
                    later += sum(timed(call) for _ in range(5)) / 5
                except RuntimeError as error:  # a backend that refuses these inputs
                    first = later = float("nan")
                    print(f"{name} {query}: {str(error).splitlines()[0][:120]}")
                    break
            rows[f"{name}/{query}/{mask_form}"] = {"first_call_s": round(first, 3), "later_call_s": round(later, 4)}
            print(f"{name:10} {query:6} {mask_form:6} first calls {first:7.3f} s   later calls {later:7.4f} s")
    for runs in args.train_runs:
        for name, backend in BACKENDS.items():
            if backend is SDPBackend.MATH:
                continue
            first = later = 0.0
            for width in (128, 256, 384, 512):
                batch = 16 * runs + (0 if name == "default" else list(BACKENDS).index(name))  # shapes new to the backend
                q, k, v = (torch.randn(batch, heads, width, dim, device="cuda", dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
                mask = torch.ones(batch, 1, width, width, device="cuda", dtype=torch.bool)
                mask[: batch // 2, :, :, width // 2:] = False

                def step():
                    with sdpa_kernel([backend]) if backend is not None else torch.enable_grad():
                        torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask).sum().backward()

                first += timed(step)
                later += sum(timed(step) for _ in range(20)) / 20
            rows[f"train{runs}/{name}"] = {"first_call_s": round(first, 3), "later_call_s": round(later, 4)}
            print(f"train {runs:2d} runs {name:10} first calls {first:7.3f} s   later calls {later * 1000:7.2f} ms (4 widths)")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"torch": torch.__version__, "device": torch.cuda.get_device_name(), "rows": rows}, handle, indent=2)


if __name__ == "__main__":
    main()
