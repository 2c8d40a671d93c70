"""Compiled layers (large models' fast training step): the same training as eager layers, applied
only where it should be, and large models kept out of the stacked loop."""

import json
from types import SimpleNamespace

import pytest
import torch
from transformers import LlamaConfig, TrainingArguments

from ssti_hf.engine import compiled
from ssti_hf.engine import stacked
from ssti_hf.training.models import build_model
from ssti_hf.training.arguments import ModelArguments, SSTIArguments, paper_defaults

from ..models import save_tiny


def _train(model, batch, steps=3):
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(steps):
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses


def test_compiled_layers_train_as_eager_layers(tmp_path):
    folder = save_tiny(tmp_path, decoder=True)
    built = []
    for _ in range(2):
        torch.manual_seed(0)
        built.append(build_model(ModelArguments(model=folder, rank=4, lora_dropout=0.0), 2))
    tokenizer, eager = built[0]
    _, model = built[1]
    assert compiled.compile_layers(model) == 2  # the tiny Llama's two decoder layers
    batch = dict(tokenizer(["a fine film", "dull and long, very long"], padding=True, return_tensors="pt"), labels=torch.tensor([1, 0]))
    losses, expected = _train(model, batch), _train(eager, batch)
    assert losses[0] != losses[-1]  # it trained
    assert losses == pytest.approx(expected, abs=1e-5)


def _args(tmp_path, **changes):
    return TrainingArguments(**{**paper_defaults(), "output_dir": str(tmp_path), "use_cpu": True, "bf16": False, **changes})


def test_layers_are_compiled_for_one_gpu_and_a_large_model(monkeypatch, tmp_path):
    with torch.device("meta"):
        large = torch.nn.Linear(40_000, 25_000)  # 1.0 B parameters, no memory
    small = torch.nn.Linear(4, 2)
    assert not compiled.compile_applies(large, _args(tmp_path))  # no GPU here
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    one_gpu = dict(world_size=1, n_gpu=1, torch_compile=False, deepspeed=None, fsdp=[])  # TrainingArguments' view of one GPU
    assert compiled.compile_applies(large, SimpleNamespace(**one_gpu))
    assert not compiled.compile_applies(small, SimpleNamespace(**one_gpu))
    assert not compiled.compile_applies(large, SimpleNamespace(**{**one_gpu, "torch_compile": True}))
    assert not compiled.compile_applies(large, SimpleNamespace(**{**one_gpu, "world_size": 2}))


def test_a_large_model_does_not_stack(tmp_path):
    config = LlamaConfig(vocab_size=32000, hidden_size=2048, intermediate_size=5504, num_hidden_layers=22, num_attention_heads=16)  # 1.2 B
    (tmp_path / "config.json").write_text(json.dumps(config.to_dict()))  # a config alone: counted on the meta device
    args = _args(tmp_path)
    reason = stacked.stack_reason(SSTIArguments(), ModelArguments(model=str(tmp_path)), args)
    assert reason is not None and "billion parameters" in reason
