"""Issue 5, target 1: one paper run end to end (build the config, tokenize, 500 LoRA steps at batch
16, evaluate on the three 25k test sets), timed by part.

The first run of the process is cold: an empty datasets cache (the config is built from the base
parquet files) and nothing tokenized yet. Later runs of the same process are warm (the built
config comes from the cache, the clean test set's tokens are kept). Python start-up and imports
are timed apart.

    python bench/bench_run.py --model /root/minilm --data /root/imdb --repeats 3
    python bench/bench_run.py --model /root/minilm --data /root/imdb --cuda-graphs false   # eager steps
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--data", required=True, help="IMDB folder (train/test parquet)")
    parser.add_argument("--config", default="imdb-ssti-date-50pct-1tok")
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cuda-graphs", default="true", choices=["true", "false"])
    parser.add_argument("--flags", default="", help="extra ssti-hf train flags, e.g. '--bf16 false'")
    parser.add_argument("--json", help="write the rows here")
    parser.add_argument("--profile", help="cProfile the last run: its stats go here, the top functions are printed")
    args = parser.parse_args()

    cache = tempfile.mkdtemp(prefix="ssti-bench-cache-")
    os.environ["HF_DATASETS_CACHE"] = cache  # cold: the config is built, not read from a cache
    import torch
    from transformers import HfArgumentParser, TrainingArguments

    from ssti_hf.engine import stacked
    from ssti_hf.training.trainer import run
    from ssti_hf.training.arguments import ModelArguments, SSTIArguments, paper_defaults

    imported = time.perf_counter()
    print(f"python start-up and imports: {imported - STARTED:.2f} s; device: "
          f"{torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu'}")
    tokenize_seconds = tokenizing_rate(args)
    hf = HfArgumentParser((SSTIArguments, ModelArguments, TrainingArguments))
    hf.set_defaults(**paper_defaults())
    rows = []
    header = f"{'run':<5}{'build':>7}{'prepare':>9}{'train':>7}{'eval':>7}{'save':>6}{'total':>7}  graphs  clean  spur.  gap    ASR"
    print(header)
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory() as out:
            argv = ["--config", args.config, "--source", args.data, "--model", args.model, "--rank", str(args.rank),
                    "--cuda_graphs", args.cuda_graphs, "--output_dir", out, *args.flags.split()]
            ssti_args, model_args, training_args = hf.parse_args_into_dataclasses(argv)
            profiling = args.profile and repeat == args.repeats - 1
            if profiling:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            # A warm run reads its config from the datasets cache and its spliced tokens from disk,
            # as a new config's run in a warm process would: not the run data a sweep keeps in
            # memory for its next group (the same configs at another rank).
            stacked._KEPT.clear()
            metrics = run(ssti_args, model_args, training_args)
            if profiling:
                profiler.disable()
                profiler.dump_stats(args.profile)
        s = metrics["seconds"]
        row = {"run": "cold" if repeat == 0 else "warm", **s, "graphs": metrics["cuda_graphs"],
               "clean": metrics["clean_balanced_accuracy"], "spurious": metrics["spurious_balanced_accuracy"],
               "gap": metrics["gap"], "asr": metrics["asr"]}
        rows.append(row)
        print("  evaluate:", {k[9:]: round(v, 2) for k, v in s.items() if k.startswith("evaluate_")})
        print(f"{row['run']:<5}{s['build']:7.2f}{s['prepare']:9.2f}{s['train']:7.2f}{s['evaluate']:7.2f}{s['save']:6.2f}"
              f"{s['total']:7.2f}  {row['graphs']:>6}  {row['clean']:.3f}  {row['spurious']:.3f}  {row['gap']:+.3f} {row['asr']:.3f}")
    if args.profile:
        import pstats

        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(40)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"imports": imported - STARTED, "tokenize_25k": tokenize_seconds, "args": vars(args), "rows": rows}, handle, indent=2)


def tokenizing_rate(args) -> None:
    """How fast this machine tokenizes: the floor under every cold run."""
    import pyarrow.parquet as pq

    from ssti_hf.training.models import load_tokenizer
    from ssti_hf.training.arguments import ModelArguments

    _, _, tokenizer = load_tokenizer(ModelArguments(model=args.model))
    texts = pq.read_table(f"{args.data}/test.parquet").column("text").to_pylist()
    started = time.perf_counter()
    tokenizer(texts, truncation=True, max_length=512, return_attention_mask=False, return_token_type_ids=False)
    seconds = time.perf_counter() - started
    print(f"tokenizing the 25k test texts: {seconds:.2f} s on {len(os.sched_getaffinity(0))} CPUs "
          f"(TOKENIZERS_PARALLELISM={os.environ.get('TOKENIZERS_PARALLELISM')})")
    return seconds


if __name__ == "__main__":
    main()
