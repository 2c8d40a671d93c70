"""Issue 5, target 3: a Llama-3-8B-shaped classifier (the real config, random weights: speed and
memory do not depend on the values), LoRA r64 on every linear layer, at the paper's large-model
settings (batch 2, 512 tokens, lr 1e-4), trained by ssti_hf's Trainer on one GPU (each decoder
layer compiled, as the Trainer does for models of 1B parameters or more, ssti_hf.engine.compiled;
``--no-compile-layers``: eager layers): peak memory, tokens per second and model FLOPs utilisation.

MFU counts 4 * N FLOPs per token for the frozen weights (forward, and the backward to the
inputs: frozen weights need no weight gradients), 6 * N_lora for the adapters, and the attention
scores (12 * layers * hidden * seq per token, forward plus backward), over the GPU's dense bf16
peak (989 TFLOP/s for an H100 SXM, 989 for an H200).

    python bench/bench_llama8b.py --steps 30
    torchrun --nproc_per_node 2 bench/bench_llama8b.py --fsdp --batch 14   # FSDP over 2 GPUs

Under ``--fsdp`` (FSDP full sharding, one unit per decoder layer, through the Trainer's ``--fsdp``
flags) the adapters are cast to bf16 too: FSDP flattens each unit's weights into one tensor of one
dtype. Tokens per second then count every process's rows, and MFU is per GPU.
"""

from __future__ import annotations

import argparse
import time

import torch

LLAMA3_8B = dict(
    vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
    num_key_value_heads=8, max_position_embeddings=8192, rope_theta=500000.0, rms_norm_eps=1e-5,
)
PEAK_BF16 = 989e12


class StepTimer:
    """A TrainerCallback that times the steps after the warm-up ones and, given ``count`` (e.g. the
    tokens trained on so far), reads it at the same two moments."""

    def __init__(self, warmup: int, count=None):
        from transformers import TrainerCallback

        outer = self
        read = count or (lambda: 0)

        class _Callback(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                if state.global_step == warmup:
                    _sync()
                    outer.started, outer.counted_at_start = time.perf_counter(), read()

            def on_train_end(self, args, state, control, **kwargs):
                _sync()
                outer.ended, outer.counted_at_end = time.perf_counter(), read()

        self.callback = _Callback()


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seq", type=int, default=512)
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--no-compile-layers", action="store_true", help="eager layers (the default compiles each decoder layer, ssti_hf.engine.compiled)")
    parser.add_argument("--fsdp", action="store_true", help="shard the model over the processes of torchrun / accelerate launch")
    parser.add_argument("--tiny", action="store_true", help="a 2-layer model on the CPU: checks the script, measures nothing")
    args = parser.parse_args()

    import datasets
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification, LlamaConfig, TrainingArguments

    from ssti_hf.training.trainer import SSTITrainer
    from ssti_hf.training.arguments import paper_defaults

    shape = {**LLAMA3_8B, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 1000} if args.tiny else LLAMA3_8B
    config = LlamaConfig(**shape, num_labels=2, pad_token_id=0)
    import os

    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = "cpu" if args.tiny else f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    if not args.tiny:
        torch.cuda.set_device(device)
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForSequenceClassification.from_config(config, dtype=torch.bfloat16)
    frozen = sum(p.numel() for p in model.parameters())
    model = get_peft_model(model, LoraConfig(task_type="SEQ_CLS", r=args.rank, lora_alpha=args.rank, lora_dropout=0.05, target_modules="all-linear"))
    lora = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if args.fsdp:
        model.to(torch.bfloat16)
    generator = torch.Generator().manual_seed(0)
    rows = args.batch * (args.steps + 1) * world  # each process reads its own share
    ids = torch.randint(1, config.vocab_size, (rows, args.seq), generator=generator)
    data = datasets.Dataset.from_dict({"input_ids": ids.tolist(), "attention_mask": [[1] * args.seq] * rows, "labels": [i % 2 for i in range(rows)]})
    flags = {**paper_defaults(), "per_device_train_batch_size": args.batch, "max_steps": args.steps, "output_dir": "/tmp/llama8b",
             "logging_steps": args.steps, "bf16": not args.tiny, "gradient_checkpointing": args.gradient_checkpointing,
             "train_sampling_strategy": "sequential"}
    if args.fsdp:
        flags |= {"fsdp": "full_shard auto_wrap", "fsdp_config": {"transformer_layer_cls_to_wrap": ["LlamaDecoderLayer"], "use_orig_params": True}}
    training_args = TrainingArguments(**flags)
    timer = StepTimer(args.warmup)
    trainer = SSTITrainer(model=model, args=training_args, train_dataset=data, callbacks=[timer.callback], compile_layers=not args.no_compile_layers)
    if not args.tiny:
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    trainer.train()
    steps = args.steps - args.warmup
    seconds = (timer.ended - timer.started) / steps
    tokens = args.batch * args.seq * world
    flops = tokens * (4 * frozen + 6 * lora + 12 * config.num_hidden_layers * config.hidden_size * args.seq)
    peak = torch.cuda.max_memory_allocated() / 2**30 if not args.tiny else float("nan")
    if not trainer.is_world_process_zero():
        return
    print("| model | params | LoRA params | GPUs | batch x seq per GPU | s/step | tokens/s | MFU per GPU | peak GiB | graphed | compiled layers |")
    print(f"| Llama-3-8B shape, random | {frozen / 1e9:.2f} B | {lora / 1e6:.1f} M | {world}{' FSDP' if args.fsdp else ''} | "
          f"{args.batch} x {args.seq} | {seconds:.3f} | {tokens / seconds:,.0f} | {flops / seconds / PEAK_BF16 / world:.1%} | {peak:.1f} | "
          f"{trainer.graphed is not None} | {trainer.compiled_layers} |")
    print(f"device: {torch.cuda.get_device_name() if not args.tiny else 'cpu'}, gradient checkpointing: {args.gradient_checkpointing}, "
          f"compiled layers: {trainer.compiled_layers}, first {args.warmup} steps (compile included): {timer.started - started:.1f} s")


if __name__ == "__main__":
    main()
