"""Operators per training step (forward + backward), counted by the CPU profiler: on a GPU in eager
mode each is at least one kernel launch, so the count says how launch-bound a step is, whatever
the widths. Widths here are tiny; layer counts and adapted modules are the real ones (LoRA on
every linear layer).

    python bench/count_ops.py
"""

from __future__ import annotations

import torch
from peft import LoraConfig, get_peft_model
from torch.profiler import ProfilerActivity, profile
from transformers import BertConfig, BertForSequenceClassification, LlamaConfig, LlamaForCausalLM


def ops_per_step(model, batch) -> int:
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    for _ in range(2):  # warm-up: lazy initialisations are not part of a step
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        model(**batch).loss.backward()
    # the forward's top-level operators, and the backward's autograd nodes (each runs its own kernels)
    forward = sum(1 for e in prof.events() if e.name.startswith("aten::") and e.cpu_parent is None)
    backward = sum(1 for e in prof.events() if e.name.startswith("autograd::engine::evaluate_function"))
    return forward + backward


def main() -> None:
    torch.manual_seed(0)
    ids = torch.randint(5, 500, (4, 64))
    lora = dict(lora_dropout=0.05, target_modules="all-linear")
    decoders = {  # (layers, heads, kv heads): SmolLM2-135M and Llama-3.2-1B
        "SmolLM2-135M shape, LoRA r16 (SFT)": (30, 9, 3),
        "Llama-3.2-1B shape, LoRA r16 (SFT)": (16, 32, 8),
    }
    rows = []
    for name, (layers, heads, kv) in decoders.items():
        config = LlamaConfig(vocab_size=512, hidden_size=2 * heads * 2, intermediate_size=64, num_hidden_layers=layers,
                             num_attention_heads=heads, num_key_value_heads=kv)
        model = get_peft_model(LlamaForCausalLM(config), LoraConfig(task_type="CAUSAL_LM", r=16, lora_alpha=16, **lora))
        rows.append((name, ops_per_step(model, {"input_ids": ids, "labels": ids})))
    bert = BertForSequenceClassification(BertConfig(vocab_size=512, hidden_size=32, intermediate_size=64, num_hidden_layers=6, num_attention_heads=2))
    bert = get_peft_model(bert, LoraConfig(task_type="SEQ_CLS", r=64, lora_alpha=64, **lora))
    rows.append(("MiniLM shape, LoRA r64 (classifier)", ops_per_step(bert, {"input_ids": ids, "labels": torch.tensor([0, 1, 0, 1])})))
    print("| model | operators per step | against MiniLM |")
    print("|---|---|---|")
    for name, count in rows:
        print(f"| {name} | {count:,} | {count / rows[-1][1]:.1f}x |")


if __name__ == "__main__":
    main()
