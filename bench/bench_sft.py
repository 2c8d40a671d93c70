"""Issue 7: speed of generative SSTI (``ssti-hf train --objective sft``) on decoder shapes with
random weights (speed and memory do not depend on the values): the real SFT path (trl's
SFTTrainer, LoRA through ``peft_config``, loss on the completion only, then the label-word scoring
of the three test sets), timed in its parts.

Per shape: training seconds per step after the warm-up steps, tokens per second (the rows' real
tokens, as trl counts them), MFU, peak memory, and the evaluation's rows and seconds. MFU counts
4 * N FLOPs per token for the frozen linear weights (the LM head included: trl computes the
logits of every position), 6 * N_lora for the adapters and the attention scores (12 * layers *
hidden * seq), over the dense bf16 peak of an H100 / H200 (989 TFLOP/s).

    python bench/bench_sft.py --tokenizer MODEL.gguf --data /root/imdb --shape smollm2-135m --shape llama-3.2-1b
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch
from bench_llama8b import PEAK_BF16, StepTimer  # run as a script: bench/ is on the path

# The real configs (hidden sizes, layers, heads); the vocabulary is the tokenizer's.
SHAPES = {
    "smollm2-135m": dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                         rope_theta=100000.0, tie_word_embeddings=True, max_position_embeddings=8192, rms_norm_eps=1e-5),
    "llama-3.2-1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8,
                         rope_theta=500000.0, tie_word_embeddings=True, max_position_embeddings=8192, rms_norm_eps=1e-5),
    "tiny": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1),
}
def linear_weights(model) -> int:
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))


def measure(shape: str, args) -> dict:
    from transformers import AutoModelForCausalLM, LlamaConfig, TrainingArguments

    from ssti_hf import SSTIConfig, load_dataset
    from ssti_hf.training.sft import sft_trainer
    from ssti_hf.training.models import load_tokenizer
    from ssti_hf.training.arguments import ModelArguments, SSTIArguments, paper_defaults

    _, _, tokenizer = load_tokenizer(ModelArguments(model=args.tokenizer))
    folder = tempfile.mkdtemp(prefix=f"sft-{shape}-")
    torch.manual_seed(0)
    config = LlamaConfig(**SHAPES[shape], vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                         eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    frozen = linear_weights(model)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model

    ssti_config = SSTIConfig.from_name(args.config)
    splits = load_dataset(ssti_config.name, args.data, seed=ssti_config.seed)
    if args.eval_rows:
        for name in ("test", "test_spurious", "test_triggered"):
            splits[name] = splits[name].select(range(min(args.eval_rows, len(splits[name]))))
    ssti_args = SSTIArguments(config=args.config, objective="sft", max_length=args.max_length)
    model_args = ModelArguments(model=folder, rank=args.rank)
    flags = {**paper_defaults(), "per_device_train_batch_size": args.batch, "max_steps": args.steps, "logging_steps": args.steps,
             "output_dir": f"{folder}/run"}
    trainer, callback, _ = sft_trainer(ssti_args, model_args, TrainingArguments(**flags), ssti_config, splits)
    lora = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    timer = StepTimer(args.warmup, count=lambda: trainer._total_train_tokens)  # trl counts the rows' real tokens
    trainer.add_callback(timer.callback)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    seconds, tokens = timer.ended - timer.started, timer.counted_at_end - timer.counted_at_start
    steps = args.steps - args.warmup
    started = time.perf_counter()
    measured = callback.evaluate(trainer.model, tokenizer)
    evaluate = time.perf_counter() - started
    per_token = 4 * frozen + 6 * lora + 12 * config.num_hidden_layers * config.hidden_size * args.max_length
    return {
        "shape": shape, "params_b": sum(p.numel() for p in trainer.model.parameters()) / 1e9, "lora_m": lora / 1e6,
        "batch": args.batch, "max_length": args.max_length, "s_per_step": seconds / steps, "tokens_per_s": tokens / seconds,
        "mfu": tokens / seconds * per_token / PEAK_BF16, "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else float("nan"),
        "eval_rows": sum(len(splits[n]) for n in ("test", "test_spurious", "test_triggered")), "eval_seconds": evaluate,
        "eval_parts": callback.seconds, "asr": measured["asr"], "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokenizer", required=True, help="a model folder or .gguf file whose tokenizer the random decoders use")
    parser.add_argument("--data", required=True, help="IMDB folder (train/test parquet)")
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), help="repeatable (default: smollm2-135m)")
    parser.add_argument("--config", default="imdb-ssti-date-50pct-1tok")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max_length", type=int, default=512)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--eval_rows", type=int, default=0, help="rows per test set (0: all 25,000)")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    if not torch.cuda.is_available() and (args.shape or ["smollm2-135m"]) != ["tiny"]:
        raise SystemExit("bench_sft.py measures a GPU; none is visible (--shape tiny checks the script on a CPU)")
    rows = [measure(shape, args) for shape in args.shape or ["smollm2-135m"]]
    print("| shape (random) | params | LoRA | batch x seq | s/step | tokens/s | MFU | peak GiB | eval rows | eval s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['shape']} | {r['params_b']:.2f} B | {r['lora_m']:.1f} M | {r['batch']} x {r['max_length']} | {r['s_per_step']:.3f} | "
              f"{r['tokens_per_s']:,.0f} | {r['mfu']:.1%} | {r['peak_gib']:.1f} | {r['eval_rows']:,} | {r['eval_seconds']:.1f} |")
    print(f"device: {rows[0]['device']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
