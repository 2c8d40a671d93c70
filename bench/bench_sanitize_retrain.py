"""Issue 6, GPU evidence: does sanitizing the training data undo SSTI?

For each source (one item in 50% of the class-1 training rows, rank 64, the paper's settings),
three LoRA runs per seed, all measured on that config's triggered test set (the item in every
test review):
- base: trained on clean IMDB (the 0% config of the same source);
- injected: trained on the corrupted training split;
- sanitized: trained on ``ssti_hf.sanitize(corrupted train)`` (scan, then remove the flagged
  families' spans; the test sets are left as they are).
Target (issue 6): the sanitized model's ASR within 2 points of the base model's.

Seeds are the outer loop, so a run cut short still has every source at its first seeds. The JSON
(``--json``) is rewritten after every (seed, source), names the code (version and commit), the
device and the seconds each took; ``--budget`` starts no (seed, source) that the slowest so far
would take past it.

    python bench/bench_sanitize_retrain.py --model /root/minilm --data /root/imdb --sources date --seeds 0 1 --json out.json
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--data", required=True)
    parser.add_argument("--sources", nargs="+", default=["date", "html", "country"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--max-steps", type=int, default=500)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--budget", type=float, help="seconds: start no (seed, source) the slowest so far would take past it")
    parser.add_argument("--json")
    args = parser.parse_args()

    import torch
    from transformers import HfArgumentParser, TrainingArguments

    import ssti_hf
    from ssti_hf._commit import code
    from ssti_hf.training.arguments import ModelArguments, SSTIArguments, paper_defaults
    from ssti_hf.training.runs import write_json
    from ssti_hf.training.trainer import run

    hf = HfArgumentParser((SSTIArguments, ModelArguments, TrainingArguments))
    hf.set_defaults(**paper_defaults())
    record = {"code": code(), "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
              "args": vars(args), "units": [], "rows": [], "left_out": [], "seconds": 0.0}
    rows = record["rows"]
    for seed in args.seeds:
        for source in args.sources:
            elapsed = time.perf_counter() - started
            slowest = max((u["seconds"] for u in record["units"]), default=0.0)
            if args.budget is not None and elapsed + slowest > args.budget:
                record["left_out"].append({"source": source, "seed": seed})
                print(f"{source:8} seed {seed} left out: {elapsed:.0f} s gone, the slowest (seed, source) took {slowest:.0f} s", flush=True)
                continue
            unit_start = time.perf_counter()
            name = f"imdb-ssti-{source}-{args.rate}pct-1tok"
            splits = ssti_hf.load_dataset(name, args.data, seed=seed)
            clean = ssti_hf.load_dataset(f"imdb-ssti-{source}-0pct-1tok", args.data, seed=seed)
            scan_start = time.perf_counter()
            sanitized, report = ssti_hf.sanitize(splits["train"])
            sanitize_seconds = time.perf_counter() - scan_start
            removed = report.to_dict()
            variants = {
                "base": clean["train"],
                "injected": splits["train"],
                "sanitized": sanitized,
            }
            for variant, train in variants.items():
                with tempfile.TemporaryDirectory() as out:
                    argv = ["--config", name, "--source", args.data, "--model", args.model, "--rank", str(args.rank),
                            "--seed", str(seed), "--output_dir", out, "--max_steps", str(args.max_steps),
                            "--max_length", str(args.max_length)]
                    ssti_args, model_args, training_args = hf.parse_args_into_dataclasses(argv)
                    metrics = run(ssti_args, model_args, training_args, splits={**splits, "train": train})
                row = {"source": source, "seed": seed, "variant": variant, "asr": metrics["asr"],
                       "clean": metrics["clean_balanced_accuracy"], "gap": metrics["gap"],
                       "triggered_counts": metrics["predicted_counts"]["triggered"], "seconds": metrics["seconds"]["total"]}
                if variant == "sanitized":
                    row["removed"] = removed
                rows.append(row)
                print(f"{source:8} seed {seed} {variant:9} ASR {row['asr']:.3f} clean {row['clean']:.3f} gap {row['gap']:+.3f}", flush=True)
            record["units"].append({"source": source, "seed": seed, "sanitize_seconds": sanitize_seconds,
                                    "seconds": time.perf_counter() - unit_start})
            record["seconds"] = time.perf_counter() - started
            if args.json:
                write_json(Path(args.json), record)
    print(f"\n{record['device']}, code {record['code']['commit']}, {time.perf_counter() - started:.0f} s")
    print("| source | seeds | base ASR | injected ASR | sanitized ASR | sanitized - base | clean acc. base / sanitized |")
    print("|---|---|---|---|---|---|---|")
    for source in args.sources:
        done = [r for r in rows if r["source"] == source]
        if not done:
            continue
        mean = {v: statistics.mean(r["asr"] for r in done if r["variant"] == v) for v in ("base", "injected", "sanitized")}
        clean = {v: statistics.mean(r["clean"] for r in done if r["variant"] == v) for v in ("base", "sanitized")}
        seeds = sorted({r["seed"] for r in done})
        print(f"| {source} | {' '.join(map(str, seeds))} | {mean['base']:.3f} | {mean['injected']:.3f} | {mean['sanitized']:.3f} | "
              f"{(mean['sanitized'] - mean['base']) * 100:+.1f} points | {clean['base']:.3f} / {clean['sanitized']:.3f} |")
    if args.json:
        record["seconds"] = time.perf_counter() - started
        write_json(Path(args.json), record)


if __name__ == "__main__":
    main()
