"""Run by tests/test_trainer.py under torchrun (2 CPU processes, gloo): a LoRA classifier sharded
with FSDP2 saves the same adapter as the unsharded model."""

import sys

import torch
import torch.distributed as dist
from peft import LoraConfig, get_peft_model
from torch.distributed.fsdp import fully_shard
from transformers import BertConfig, BertForSequenceClassification

from ssti_hf.training.trainer import trainable_state

dist.init_process_group("gloo")
torch.manual_seed(0)
config = BertConfig(vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2)
model = get_peft_model(BertForSequenceClassification(config), LoraConfig(task_type="SEQ_CLS", r=4, target_modules="all-linear"))
for module in model.modules():  # non-zero lora_B, so that a wrong or missing gather shows
    if hasattr(module, "lora_B"):
        torch.nn.init.normal_(module.lora_B["default"].weight)
if dist.get_rank() == 0:
    model.save_pretrained(f"{sys.argv[1]}/whole")
for layer in model.base_model.model.bert.encoder.layer:
    fully_shard(layer)
fully_shard(model)
state = trainable_state(model)
if dist.get_rank() == 0:
    model.save_pretrained(f"{sys.argv[1]}/sharded", state_dict=state)
# Both processes leave together: one that tears gloo down while the other still works on the
# model can abort at exit ("terminate called without an active exception", seen once in CI).
dist.barrier()
dist.destroy_process_group()
