"""Arguments of ``ssti-hf train``: the SSTI config, the model and its adapter, and every
``transformers.TrainingArguments`` flag (through ``HfArgumentParser``), with the paper's
small-model defaults: LoRA alpha = rank, dropout 0.05, lr 1e-4, weight decay 1e-5, batch 16,
500 steps."""

from __future__ import annotations

from dataclasses import dataclass, field

# TrainingArguments defaults changed to the paper's setup; anything given on the command line wins.
PAPER_DEFAULTS = {
    "learning_rate": 1e-4,
    "weight_decay": 1e-5,
    "per_device_train_batch_size": 16,
    "max_steps": 500,
    "eval_strategy": "no",
    "save_strategy": "no",
    "report_to": "none",
    "logging_steps": 50,
    "seed": 0,  # the same default seed as inject, build, load_dataset and sweep
    # The Trainer's NaN check reads the loss back every step, which stalls the CPU until the GPU
    # is done; the loss is still logged every logging_steps.
    "logging_nan_inf_filter": False,
    # Under DDP: every adapter weight takes part in each step, so the extra pass over the autograd
    # graph looking for unused ones (the Trainer's default without gradient checkpointing) is waste.
    # A model with weights some steps skip (mixture-of-experts) needs --ddp_find_unused_parameters true.
    "ddp_find_unused_parameters": False,
}


def paper_defaults() -> dict:
    """``PAPER_DEFAULTS`` plus length bucketing (little padding per batch), whose flag was renamed
    in transformers 5 (``group_by_length`` became ``train_sampling_strategy``)."""
    from dataclasses import fields

    from transformers import TrainingArguments

    import torch

    names = {f.name for f in fields(TrainingArguments)}
    bucketing = {"train_sampling_strategy": "group_by_length"} if "train_sampling_strategy" in names else {"group_by_length": True}
    # bf16 must go through TrainingArguments' constructor (it sets the mixed precision there), and
    # only where the GPU has it; a --bf16 flag on the command line still wins.
    bf16 = {"bf16": True} if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else {}
    # Pinned memory only speeds copies to a GPU; without one torch warns that it is unused.
    pinned = {} if torch.cuda.is_available() else {"dataloader_pin_memory": False}
    return {**PAPER_DEFAULTS, **bucketing, **bf16, **pinned}
MINILM = "minilm"


def at_least(name: str, value, low: int) -> None:
    """Refuse a flag that is not an int >= ``low``, naming the flag and the range."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"--{name} must be >= {low} (an int), got {value!r}")


def check_training(training_args) -> None:
    """The TrainingArguments numbers whose out-of-range values the Trainer would take without a word."""
    import math

    for name, low in (("per_device_train_batch_size", 1), ("per_device_eval_batch_size", 1), ("gradient_accumulation_steps", 1),
                      ("logging_steps", 0), ("seed", 0)):
        value = getattr(training_args, name, None)
        if value is not None and value < low:
            raise ValueError(f"--{name} must be >= {low}, got {value!r}")
    if training_args.max_steps == 0 or training_args.max_steps < -1:
        raise ValueError(f"--max_steps must be >= 1 (or -1: train --num_train_epochs), got {training_args.max_steps}")
    if training_args.max_steps == -1 and not training_args.num_train_epochs > 0:
        raise ValueError(f"--num_train_epochs must be > 0, got {training_args.num_train_epochs}")
    for name in ("learning_rate", "weight_decay"):
        value = getattr(training_args, name)
        if not math.isfinite(value) or value < 0 or (name == "learning_rate" and value == 0):
            raise ValueError(f"--{name} must be a finite number {'> 0' if name == 'learning_rate' else '>= 0'}, got {value}")
    ratio = getattr(training_args, "warmup_ratio", None)
    if ratio is not None and not 0 <= ratio <= 1:
        raise ValueError(f"--warmup_ratio must be in [0, 1], got {ratio}")


def hide_token(training_args) -> None:
    """Move ``--hub_token`` out of the TrainingArguments, which the Trainer pickles into every
    checkpoint (training_args.bin), into this process's HF_TOKEN, where huggingface_hub finds it:
    a token is never written anywhere."""
    import os

    token = getattr(training_args, "hub_token", None)
    if token:
        os.environ["HF_TOKEN"] = token
        training_args.hub_token = None


@dataclass
class SSTIArguments:
    config: str = field(default="imdb-ssti-date-50pct-1tok", metadata={"help": "SSTI config name"})
    source: str | None = field(default=None, metadata={"help": "base data: Hub id, folder or file (unset: the base's Hub id)"})
    sample: bool = field(default=False, metadata={"help": "use the small sample shipped with the package (2,000 train / 1,000 test IMDB reviews): minutes on a CPU"})
    max_length: int = field(default=512, metadata={"help": "tokens per text (longer texts are truncated)"})
    eval_batch_tokens: int | None = field(
        default=None, metadata={"help": "tokens per batch of the evaluation on the three test sets (unset: 262144 on a GPU, or 65536 for a model of 1B parameters or more; 8192 on a CPU)"}
    )
    cuda_graphs: bool = field(
        default=True, metadata={"help": "replay each training batch shape as a CUDA graph (one GPU, models under 1B parameters)"}
    )
    compile_layers: bool = field(
        default=True, metadata={"help": "torch.compile each repeated layer of a model of 1B parameters or more (one GPU)"}
    )
    entropy_samples: int = field(default=256, metadata={"help": "rows of the spurious test set for the attention entropy (0: off)"})
    objective: str = field(
        default="classification",
        metadata={
            "help": "classification (a classifier head) or sft (a causal LM fine-tuned with trl's SFTTrainer to complete "
            "a prompt with the label word; see ssti_hf.training.sft)",
            "choices": ["classification", "sft"],
        },
    )
    label_words: str | None = field(
        default=None,
        metadata={"help": "sft: the completion of each label, comma-separated in label order (unset: per base, see ssti_hf.training.sft)"},
    )

    def __post_init__(self):
        at_least("max_length", self.max_length, 1)
        at_least("entropy_samples", self.entropy_samples, 0)
        if self.eval_batch_tokens is not None:
            at_least("eval_batch_tokens", self.eval_batch_tokens, 1)
        if self.objective not in ("classification", "sft"):
            raise ValueError(f"objective must be classification or sft, got {self.objective!r}")
        if self.label_words is not None and self.objective != "sft":
            raise ValueError("--label_words names the completions of --objective sft; a classifier has no label words")


@dataclass
class ModelArguments:
    model: str = field(default=MINILM, metadata={"help": "Hub id, folder or .gguf file; 'minilm' is the offline all-MiniLM-L6-v2 stand-in"})
    method: str = field(default="lora", metadata={"help": "lora, dora or full (fine-tuning)", "choices": ["lora", "dora", "full"]})
    rank: int = field(default=16, metadata={"help": "LoRA rank (the paper: 1, 16, 32, 64)"})
    lora_alpha: int | None = field(default=None, metadata={"help": "LoRA alpha (unset: the rank)"})
    lora_dropout: float = field(default=0.05, metadata={"help": "dropout on the LoRA branch"})
    target_modules: str = field(default="all-linear", metadata={"help": "modules LoRA adapts (comma-separated, or all-linear)"})

    def __post_init__(self):
        at_least("rank", self.rank, 1)
        if self.lora_alpha is not None:
            at_least("lora_alpha", self.lora_alpha, 1)
        if isinstance(self.lora_dropout, bool) or not isinstance(self.lora_dropout, (int, float)) or not 0 <= self.lora_dropout < 1:
            raise ValueError(f"--lora_dropout must be a number in [0, 1), got {self.lora_dropout!r}")
        if self.method not in ("lora", "dora", "full"):
            raise ValueError(f"method must be lora, dora or full, got {self.method!r}")
