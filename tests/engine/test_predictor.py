"""The prediction copy: a BERT-family last layer computed for [CLS] alone (and, under sdpa, the
padding mask given in 4D) gives the full model's logits; the bf16 copy is reused for a model of the same structure and holds that model's weights."""

import copy

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    LlamaConfig,
    LlamaForSequenceClassification,
    RobertaConfig,
    RobertaForSequenceClassification,
)

from ssti_hf.engine import predictor

SIZES = dict(vocab_size=120, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64)


def _batch(rows=4, width=9):
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 100, (rows, width), generator=generator)
    mask = torch.ones(rows, width, dtype=torch.long)
    mask[0, 6:] = 0  # padded rows: the first position must not attend to their padding
    mask[2, 3:] = 0
    return {"input_ids": ids, "attention_mask": mask}


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize("build", [lambda: BertForSequenceClassification(BertConfig(**SIZES)),
                                   lambda: RobertaForSequenceClassification(RobertaConfig(**SIZES, pad_token_id=1))],
                         ids=["bert", "roberta"])
def test_a_faster_encoder_gives_the_full_models_logits(build, attention):
    torch.manual_seed(0)
    model = build().eval()
    model.set_attn_implementation(attention)
    fast = copy.deepcopy(model)
    assert predictor.faster_encoder(fast)
    masks = []
    fast.base_model.encoder.layer[0].register_forward_pre_hook(lambda module, args: masks.append(args[1]))
    batch = _batch()
    with torch.no_grad():
        expected, got = model(**batch).logits, fast(**batch).logits
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    if attention == "sdpa":  # the encoder got the boolean 4D mask, not one transformers checks for padding
        assert masks[0].dtype == torch.bool and masks[0].shape == (4, 1, 1, 9)


def test_a_faster_encoder_leaves_other_models_alone():
    llama = LlamaForSequenceClassification(LlamaConfig(vocab_size=120, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                                       num_attention_heads=4, num_key_value_heads=2, pad_token_id=0))
    forwards = [layer.forward for layer in llama.model.layers]
    assert not predictor.faster_encoder(llama)
    assert [layer.forward for layer in llama.model.layers] == forwards


def _lora(seed):
    torch.manual_seed(seed)
    model = get_peft_model(BertForSequenceClassification(BertConfig(**SIZES)), LoraConfig(r=4, target_modules="all-linear", task_type="SEQ_CLS"))
    with torch.no_grad():  # trained-looking adapters: B is zero at initialisation
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.5)
    return model.eval()


def test_bf16_copy_is_reused_and_holds_each_models_weights():
    batch = _batch()
    first, second = _lora(0), _lora(1)
    copies = []
    for model in (first, second):
        model.merge_adapter()
        merged = {name: p.detach().clone() for name, p in model.named_parameters()}
        kept = predictor.bf16_copy(model)
        copies.append(kept)
        expected = model.to(torch.bfloat16)(**batch).logits.float()  # the model itself in bf16, all positions
        model.to(torch.float32).unmerge_adapter()
        with torch.no_grad():
            torch.testing.assert_close(kept(**batch).logits.float(), expected, atol=0.05, rtol=0.05)
        assert all(p.dtype == torch.bfloat16 for p in kept.parameters())
    assert copies[0] is copies[1]  # refilled, not copied again
    # the second model's merged weights, not the first's
    for name, parameter in copies[1].named_parameters():
        if "lora_" not in name:
            torch.testing.assert_close(parameter, merged[name].to(torch.bfloat16))


def test_bf16_copy_is_made_again_for_another_structure_or_merge_state():
    model = _lora(0)
    unmerged = predictor.bf16_copy(model)
    model.merge_adapter()
    merged = predictor.bf16_copy(model)
    assert merged is not unmerged  # merged adapters predict by another path
    other = BertForSequenceClassification(BertConfig(**{**SIZES, "num_hidden_layers": 2})).eval()
    assert predictor.bf16_copy(other) is not merged
