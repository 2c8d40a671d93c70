"""The graphed training step's bookkeeping, run eagerly on the CPU (capture=False): the same loss
and gradients as a plain backward, accumulation, and eager steps past the shape limit. The
capture itself needs a GPU: bench/check_graphs.py compares it with eager steps there."""

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import BertConfig, BertForSequenceClassification, TrainingArguments

from ssti_hf.engine import graphs
from ssti_hf.engine.graphs import GraphedTrainingStep, graphs_apply


@pytest.fixture
def model():
    torch.manual_seed(0)
    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    return get_peft_model(BertForSequenceClassification(config), LoraConfig(task_type="SEQ_CLS", r=4, lora_dropout=0.0, target_modules="all-linear"))


def batch(length=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"input_ids": torch.randint(1, 100, (4, length), generator=g), "attention_mask": torch.ones(4, length, dtype=torch.long),
            "labels": torch.randint(0, 2, (4,), generator=g)}


def reference_grads(model, inputs):
    model.zero_grad()
    loss = model(**inputs).loss
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters() if p.requires_grad]
    model.zero_grad()
    return loss.detach(), grads


def test_same_loss_and_gradients_as_backward(model):
    inputs = batch()
    want_loss, want = reference_grads(model, inputs)
    step = GraphedTrainingStep(model, capture=False)
    loss = step(inputs)
    assert torch.allclose(loss, want_loss)
    got = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(torch.allclose(g, w, atol=1e-6) for g, w in zip(got, want))
    assert any(w.abs().sum() > 0 for w in want)  # the comparison is not between zeros


def test_gradients_accumulate_until_zero_grad(model):
    a, b = batch(seed=1), batch(seed=2)
    _, grads_a = reference_grads(model, a)
    _, grads_b = reference_grads(model, b)
    step = GraphedTrainingStep(model, capture=False)
    step(a)
    step(b)  # no zero_grad between: the second batch's gradients are added
    got = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(torch.allclose(g, x + y, atol=1e-6) for g, x, y in zip(got, grads_a, grads_b))
    model.zero_grad()  # the Trainer sets .grad to None; the next step starts afresh
    step(a)
    got = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(torch.allclose(g, x, atol=1e-6) for g, x in zip(got, grads_a))


def test_shapes_past_the_limit_run_eagerly(model, monkeypatch):
    monkeypatch.setattr(graphs, "MAX_GRAPHS", 2)
    step = GraphedTrainingStep(model, capture=False)
    for length in (8, 16, 24, 8):
        step(batch(length))
        model.zero_grad()
    assert len(step.graphs) == 2 and step.eager_steps == 1


def test_graphs_only_on_one_gpu(model, tmp_path):
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none")
    assert graphs_apply(model, args) == torch.cuda.is_available()
    accumulating = TrainingArguments(output_dir=str(tmp_path), report_to="none", gradient_accumulation_steps=2)
    assert not graphs_apply(model, accumulating)


def test_no_graphs_with_fp16_loss_scaling(model, tmp_path):
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none", use_cpu=True)
    args.fp16 = True  # the GradScaler scales the loss inside backward: a graph would skip it
    assert not graphs_apply(model, args)
