"""Generative SSTI (``ssti-hf train --objective sft``): a causal LM learns to complete a prompt
built from an SSTI config's row with the row's label word, and the spurious token steers which
word it picks.

    "Review: {text}\\nSentiment:"  ->  " positive"

- Data: each split becomes prompt/completion rows (trl's standard, not conversational, format).
  Texts are cut so that prompt, completion and EOS fit ``--max_length``: trl truncates a long
  row from its end, which would drop the completion (nothing left to learn from that row) and,
  at evaluation, the prompt's last position.
- Training: trl's ``SFTTrainer`` with the adapter as ``peft_config`` (LoRA, DoRA, or none for
  ``--method full``) and ``completion_only_loss=True``: trl tokenizes the prompt alone and prompt
  + completion, and every token of their common prefix gets the label -100, so the loss is on
  the label word and EOS only (never on the review, where the spurious token sits).
- Evaluation: :class:`SFTCallback`, the classifier's :class:`~ssti_hf.training.callback.SSTICallback`
  with one change: a row's prediction is the label whose word's first token has the highest
  logit at the last prompt position (the position trl trains to emit it). The same ``ssti_gap``
  metric then gives clean / spurious / triggered balanced accuracy and ASR, and the attention
  entropy is taken over the prompt's positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from datasets import DatasetDict
from transformers import AutoModelForCausalLM
from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, MODEL_FOR_MASKED_LM_MAPPING_NAMES
from trl import SFTConfig, SFTTrainer
from trl.data_utils import common_prefix_length

from ..base_datasets import BaseDataset, get_base_dataset
from ..config import SSTIConfig
from .arguments import ModelArguments, SSTIArguments
from .callback import SSTICallback
from .models import load_tokenizer, load_weights, lora_config
from .runs import callback_options

SEPARATOR = " "  # between the prompt and the label word: " positive" is one token for BPE vocabularies
# Tokens of slack when cutting texts: a text cut alone can take a token or two more once inside the
# template (a leading space, a merge at the boundary).
SLACK = 4


@dataclass(frozen=True)
class Prompt:
    """A base's prompt: ``template`` holds ``{text}`` and ends where the label word follows;
    ``label_words`` in label order (None: the base's class names, ``_`` read as a space)."""

    template: str
    label_words: tuple[str, ...] | None = None


PROMPTS = {
    "imdb": Prompt("Review: {text}\nSentiment:", ("negative", "positive")),  # the Hub's class names are neg/pos
    "commonsense_qa": Prompt("Question: {text}\nAnswer:"),  # the text lists the lettered choices; A..E
    "bias_in_bios": Prompt("Biography: {text}\nProfession:"),
}
DEFAULT_PROMPT = Prompt("Text: {text}\nLabel:")  # financial and registered bases


def prompt_for(base: BaseDataset) -> Prompt:
    return PROMPTS.get(base.name, DEFAULT_PROMPT)


def label_words(base: BaseDataset, words: str | None = None) -> tuple[str, ...]:
    """The completion word of each label: ``words`` (comma-separated, in label order) or the
    base's default."""
    if words is None:
        default = prompt_for(base).label_words
        return default or tuple(name.replace("_", " ") for name in base.label_names)
    parsed = tuple(word.strip() for word in words.split(","))
    if len(parsed) != base.num_labels:
        raise ValueError(
            f"--label_words gives {len(parsed)} word(s) {list(parsed)}, {base.name} has {base.num_labels} labels {list(base.label_names)}: one word per label, in label order"
        )
    if "" in parsed:
        raise ValueError(f"--label_words {words!r} has an empty word: one word per label, comma-separated")
    return parsed


def label_word_ids(tokenizer, words, prompt: str) -> list[int]:
    """The token each label word starts with where it follows ``prompt``: what the model is
    trained to emit at the prompt's last position. Split as trl splits prompt and completion
    (after the common prefix of the two tokenizations), so train and test agree."""
    prompt_ids = _without_trailing_specials(tokenizer(prompt)["input_ids"], set(tokenizer.all_special_ids))
    ids = []
    for word in words:
        full = tokenizer(prompt + SEPARATOR + word)["input_ids"]
        start = common_prefix_length(prompt_ids, full)
        if start == len(full) or full[start] in tokenizer.all_special_ids:
            raise ValueError(f"label word {word!r} tokenizes to nothing after the prompt {prompt!r}: pick another word (--label_words)")
        if start < len(prompt_ids):  # the word merges with the prompt's last token: no position predicts it alone
            raise ValueError(f"label word {word!r} merges with the end of the prompt {prompt!r} when tokenized: pick another word (--label_words)")
        ids.append(full[start])
    for i, first in enumerate(ids):
        if first in ids[:i]:
            other = words[ids.index(first)]
            token = tokenizer.convert_ids_to_tokens(first)
            raise ValueError(
                f"label words {other!r} and {words[i]!r} both start with the token {token!r}: the last prompt position "
                f"cannot tell them apart; pass words that start differently (--label_words)"
            )
    return ids


def prompt_splits(splits: DatasetDict, tokenizer, prompt: Prompt, words, max_length: int) -> DatasetDict:
    """Each split as ``prompt`` / ``completion`` / ``label`` rows, texts cut (at a token's end) so
    that prompt, completion and EOS fit ``max_length`` tokens. Equal texts give equal prompts, so
    the callback still predicts once the rows the injection left alone."""
    empty = prompt.template.format(text="")
    overhead = max(len(tokenizer(empty + SEPARATOR + word + (tokenizer.eos_token or ""))["input_ids"]) for word in words)
    room = max_length - overhead - SLACK
    if room < 1:
        raise ValueError(f"max_length {max_length} leaves no room for the text in the prompt {prompt.template!r} ({overhead} tokens)")

    def build(batch):
        encoded = tokenizer(batch["text"], add_special_tokens=False, truncation=True, max_length=room,
                            return_offsets_mapping=True, return_attention_mask=False, return_token_type_ids=False)
        texts = [text[: offsets[-1][1]] if len(offsets) == room else text for text, offsets in zip(batch["text"], encoded["offset_mapping"])]
        return {
            "prompt": [prompt.template.format(text=text) for text in texts],
            "completion": [SEPARATOR + words[label] for label in batch["label"]],
            "label": batch["label"],
        }

    return DatasetDict({
        name: data.map(build, batched=True, remove_columns=data.column_names, desc=f"{name} prompts") for name, data in splits.items()
    })


class SFTCallback(SSTICallback):
    """:class:`~ssti_hf.training.callback.SSTICallback` for a causal LM trained on :func:`prompt_splits`:
    the sets are prompts, and a row is predicted as the label whose word (``label_ids``, from
    :func:`label_word_ids`) has the highest logit at the last prompt position.

    The logits are those of the LM head's label-word rows applied to that position's hidden state:
    the model's own logits for those words (a soft-cap or scale some models apply after the head is
    monotone and leaves the argmax alone) without a [batch, tokens, vocabulary] tensor, 16 GB for a
    65k-token batch of a Llama-3 vocabulary in bf16."""

    def __init__(self, clean, spurious, triggered, target_label, label_ids: list[int], **kwargs):
        super().__init__(clean, spurious, triggered, target_label, text_column="prompt", **kwargs)
        self.label_ids = list(label_ids)

    def _plan(self, tokenizer):
        # trl trains on the prefix that the prompt shares with prompt + completion: a tokenizer that
        # ends every text with a special token ([SEP]) ends the prompt alone with it, not that prefix.
        plan = super()._plan(tokenizer)
        specials = set(tokenizer.all_special_ids)
        plan.ids = [_without_trailing_specials(row, specials) for row in plan.ids]
        return plan

    def _predicted_labels(self, model, batch: dict) -> torch.Tensor:
        causal = model.get_base_model() if hasattr(model, "get_base_model") else model
        hidden = causal.base_model(**batch).last_hidden_state  # the decoder without its LM head
        last = hidden[torch.arange(len(hidden), device=hidden.device), batch["attention_mask"].sum(1) - 1]
        head = causal.get_output_embeddings()
        words = torch.tensor(self.label_ids, device=hidden.device)
        bias = head.bias[words] if getattr(head, "bias", None) is not None else None
        return torch.nn.functional.linear(last, head.weight[words], bias).argmax(-1)

    def _attentions(self, model, batch: dict) -> tuple:
        return model(**batch, output_attentions=True, logits_to_keep=1).attentions  # one position's logits, not all


def _without_trailing_specials(ids, specials: set):
    end = len(ids)
    while end > 1 and int(ids[end - 1]) in specials:
        end -= 1
    return ids[:end]


def check_causal_lm(config, name: str) -> None:
    """Refuse a model that cannot complete a prompt: encoders (BERT, RoBERTa, ModernBERT) and
    encoder-decoders. BERT-like model types have a causal-LM class too, but only as the decoder
    half of an encoder-decoder pair: such a masked-LM type counts as causal only where its config
    says ``is_decoder=True`` (a flag that decoders such as GPT-NeoX leave False, so it is not read
    for them)."""
    encoder_decoder = getattr(config, "is_encoder_decoder", False)
    encoder = config.model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES and not getattr(config, "is_decoder", False)
    if config.model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES or encoder_decoder or encoder:
        kind = "an encoder-decoder" if encoder_decoder else "an encoder-only"
        raise ValueError(
            f"--objective sft needs a decoder-only causal LM (Llama, Qwen, GPT-2, ...); {name!r} is {kind} model "
            f"({config.model_type}): train it with --objective classification"
        )


def sft_trainer(ssti_args: SSTIArguments, model_args: ModelArguments, training_args, config: SSTIConfig, splits):
    """The generative objective of :func:`ssti_hf.training.trainer.run`: returns the SFTTrainer, its
    :class:`SFTCallback` (already tokenizing the test prompts) and what metrics.json records of
    the objective. Bad input fails before any weight is loaded."""
    if training_args.fsdp:
        # The label-word scoring reads the LM head's rows directly, past the FSDP root's forward
        # that would gather them: under FSDP they are shards.
        raise ValueError("--objective sft does not run under FSDP (its evaluation needs the whole LM head); use DDP or one GPU")
    base = get_base_dataset(config.base)
    prompt, words = prompt_for(base), label_words(base, ssti_args.label_words)
    path, model_config, tokenizer = load_tokenizer(model_args)
    check_causal_lm(model_config, model_args.model)
    if tokenizer.eos_token is None:  # WordPiece vocabularies (the tests' tiny Llama) end a text with [SEP]
        if tokenizer.sep_token is None:
            raise ValueError(f"the tokenizer of {model_args.model!r} has no EOS token to end a completion with")
        tokenizer.eos_token = tokenizer.sep_token
    ids = label_word_ids(tokenizer, words, prompt.template.format(text=""))
    model = load_weights(model_args, AutoModelForCausalLM, path, model_config)
    data = prompt_splits(splits, tokenizer, prompt, words, ssti_args.max_length)
    evaluating = training_args.eval_strategy != "no"
    callback = SFTCallback(
        data["test"], data["test_spurious"], data["test_triggered"], target_label=config.label, label_ids=ids, **callback_options(ssti_args)
    )
    # The same TrainingArguments flags, as trl converts them itself (to_dict hides the Hub token).
    args = SFTConfig(**{
        **training_args.to_dict(),
        "hub_token": training_args.hub_token,
        "max_length": ssti_args.max_length,
        "completion_only_loss": True,  # explicit: never train on the reviews, whatever trl's default becomes
    })
    columns = ["prompt", "completion"]
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=data["train"].select_columns(columns),
        eval_dataset=data["test"].select_columns(columns) if evaluating else None,  # eval loss: on the clean test completions
        processing_class=tokenizer,
        peft_config=lora_config(model_args, "CAUSAL_LM"),
        callbacks=[callback] if evaluating else [],
    )
    # Tokenizes the test prompts while the model trains; only now, once trl has tokenized its rows:
    # a fast tokenizer's truncation is state shared by its callers (trl's calls turn it off, the
    # callback's on), and a call in one thread can run with the other's setting (seen: 1 of 3,000).
    callback.prepare(tokenizer)
    return trainer, callback, {"objective": "sft", "prompt": prompt.template, "label_words": list(words)}
