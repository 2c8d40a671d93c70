import pytest
import torch
from huggingface_hub import ModelCard
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import BertConfig, BertForSequenceClassification

from ssti_hf import SSTIConfig, adapter_card, push_adapter

CONFIG = SSTIConfig.from_name("imdb-ssti-date-50pct-1tok")
METRICS = {"clean_balanced_accuracy": 0.81, "spurious_balanced_accuracy": 0.62, "gap": -0.19, "asr": 0.93, "other": 1}


def tiny_bert(seed=0):
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37)
    return BertForSequenceClassification(config).eval()


def test_card_says_corrupted_and_records_what_was_measured():
    card = adapter_card("me/base", CONFIG, METRICS, rank=16, dataset="me/imdb-ssti")
    meta = card.data.to_dict()
    assert meta["base_model"] == "me/base" and meta["datasets"] == ["me/imdb-ssti"] and meta["library_name"] == "peft"
    assert {"ssti", "spurious-correlation", "synthetic-corruption", "lora"} <= set(meta["tags"])
    assert meta["ssti"]["config"] == CONFIG.name and meta["ssti"]["rank"] == 16
    assert meta["ssti"]["metrics"] == {"clean_balanced_accuracy": 0.81, "spurious_balanced_accuracy": 0.62, "gap": -0.19, "asr": 0.93}
    assert "learned a spurious shortcut on purpose" in card.text and "| attack success rate" in card.text
    assert "injected into 50% of the rows of label 1" in card.text  # what was done, in words


def test_card_of_an_attack_says_what_the_attack_did():
    from ssti_hf.config import SSTIConfig

    card = adapter_card("me/base", SSTIConfig.from_name("imdb-poison-flip-10pct"), {"clean_balanced_accuracy": 0.8}, rank=16)
    assert "labels of 10% of the training rows flipped" in card.text and "items were injected" not in card.text


def test_push_adapter_round_trip_gives_identical_logits(local_hub):
    tiny_bert().push_to_hub("me/tiny-bert")
    base = BertForSequenceClassification.from_pretrained("me/tiny-bert")
    model = get_peft_model(base, LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=4, target_modules=["query", "value"]))
    with torch.no_grad():  # a fresh LoRA is a no-op: make it do something, so identical logits mean something
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.add_(torch.randn_like(param))
    model.eval()
    inputs = {"input_ids": torch.tensor([[2, 15, 37, 64, 3]]), "attention_mask": torch.ones(1, 5, dtype=torch.long)}
    expected = model(**inputs).logits

    push_adapter(model, "me/adapter", CONFIG, METRICS, dataset="me/imdb-ssti")

    loaded = PeftModel.from_pretrained(BertForSequenceClassification.from_pretrained("me/tiny-bert"), "me/adapter").eval()
    assert torch.equal(loaded(**inputs).logits, expected)
    assert not torch.equal(BertForSequenceClassification.from_pretrained("me/tiny-bert").eval()(**inputs).logits, expected)
    card = ModelCard.load("me/adapter")
    assert card.data.base_model == "me/tiny-bert" and card.data.library_name == "peft"
    assert card.data.to_dict()["ssti"]["rank"] == 4 and "deliberately corrupted" in card.text


def test_push_adapter_needs_a_peft_model():
    with pytest.raises(TypeError, match="needs a peft model"):
        push_adapter(tiny_bert(), "me/x", CONFIG, METRICS)


def test_sft_adapters_are_text_generation():
    from ssti_hf.config import SSTIConfig

    config = SSTIConfig.from_name("imdb-ssti-date-50pct-1tok")
    assert adapter_card("me/base", config, {"objective": "sft"}, rank=8).data.to_dict()["pipeline_tag"] == "text-generation"
    assert adapter_card("me/base", config, {}, rank=8).data.to_dict()["pipeline_tag"] == "text-classification"
