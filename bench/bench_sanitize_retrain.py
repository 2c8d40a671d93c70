"""Issue 6, GPU evidence: does sanitizing the training data undo SSTI?

For each source (one item in 50% of the class-1 training rows, rank 64, the paper's settings),
three LoRA runs per seed, all measured on that config's triggered test set (the item in every
test review):
- base: trained on clean IMDB (the 0% config of the same source);
- injected: trained on the corrupted training split;
- sanitized: trained on ``ssti_hf.sanitize(corrupted train)`` (scan, then remove the flagged
  families' spans; the test sets are left as they are).
Target (issue 6): the sanitized model's ASR within 2 points of the base model's.

    python bench/bench_sanitize_retrain.py --model /root/minilm --data /root/imdb --sources date --seeds 0 1 --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--data", required=True)
    parser.add_argument("--sources", nargs="+", default=["date", "html", "country"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--max-steps", type=int, default=500)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--json")
    args = parser.parse_args()

    from transformers import HfArgumentParser, TrainingArguments

    import ssti_hf
    from ssti_hf.training.trainer import run
    from ssti_hf.training.arguments import ModelArguments, SSTIArguments, paper_defaults

    hf = HfArgumentParser((SSTIArguments, ModelArguments, TrainingArguments))
    hf.set_defaults(**paper_defaults())
    rows = []
    for source in args.sources:
        for seed in args.seeds:
            name = f"imdb-ssti-{source}-{args.rate}pct-1tok"
            splits = ssti_hf.load_dataset(name, args.data, seed=seed)
            clean = ssti_hf.load_dataset(f"imdb-ssti-{source}-0pct-1tok", args.data, seed=seed)
            sanitized, report = ssti_hf.sanitize(splits["train"])
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
                       "triggered_counts": metrics["predicted_counts"]["triggered"]}
                if variant == "sanitized":
                    row["removed"] = removed
                rows.append(row)
                print(f"{source:8} seed {seed} {variant:9} ASR {row['asr']:.3f} clean {row['clean']:.3f} gap {row['gap']:+.3f}", flush=True)
    print("\n| source | base ASR | injected ASR | sanitized ASR | sanitized - base | clean acc. base / sanitized |")
    print("|---|---|---|---|---|---|")
    for source in args.sources:
        mean = {v: statistics.mean(r["asr"] for r in rows if r["source"] == source and r["variant"] == v) for v in ("base", "injected", "sanitized")}
        clean = {v: statistics.mean(r["clean"] for r in rows if r["source"] == source and r["variant"] == v) for v in ("base", "sanitized")}
        print(f"| {source} | {mean['base']:.3f} | {mean['injected']:.3f} | {mean['sanitized']:.3f} | "
              f"{(mean['sanitized'] - mean['base']) * 100:+.1f} points | {clean['base']:.3f} / {clean['sanitized']:.3f} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "rows": rows}, handle, indent=2, default=str)


if __name__ == "__main__":
    main()
