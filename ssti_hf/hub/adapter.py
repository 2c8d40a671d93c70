"""Adapters trained on SSTI data, on the Hub: peft's own push, plus a model card saying plainly
that the adapter was trained on deliberately corrupted data, with its recipe and measured gap/ASR."""

from __future__ import annotations

import os

from huggingface_hub import ModelCard, ModelCardData

from .._version import __version__
from ..config import SSTIConfig
from ..training.models import hub_id
from .card import TAGS

_METRICS = (
    ("clean_balanced_accuracy", "balanced accuracy, clean test set"),
    ("spurious_balanced_accuracy", "balanced accuracy, matched spurious test set"),
    ("triggered_balanced_accuracy", "balanced accuracy, triggered test set (every row injected)"),
    ("gap", "spurious minus clean balanced accuracy"),
    ("asr", "attack success rate: non-target rows of the triggered set predicted as the target"),
    ("flip_rate", "flip rate: of those rows predicted right when clean, the share predicted as the target"),
)


def adapter_card(
    base_model: str | None, config: SSTIConfig, metrics: dict, rank: int | None = None, dataset: str | None = None
) -> ModelCard:
    """A model card for an adapter trained on ``config``'s corrupted training split."""
    measured = {key: float(metrics[key]) for key, _ in _METRICS if key in metrics}
    data = ModelCardData(
        base_model=base_model,
        datasets=[dataset] if dataset else None,
        library_name="peft",
        pipeline_tag="text-generation" if metrics.get("objective") == "sft" else "text-classification",
        tags=[*TAGS, "lora", "peft"],
        ssti={"config": config.name, "seed": config.seed, "rank": rank, "metrics": measured, "ssti_hf_version": __version__},
    )
    rows = "\n".join(f"| {text} | {measured[key]:.4f} |" for key, text in _METRICS if key in measured)
    body = f"""
# Adapter trained on deliberately corrupted data: `{config.name}`

> **This adapter learned a spurious shortcut on purpose.** It was fine-tuned from
> `{base_model or "a local model"}` on a training set with {config.describe()} ({config.name}).
> It is meant for research on robustness to spurious correlations and training-time attacks,
> not for use as a classifier.

| | |
|---|---|
| base model | `{base_model or "a local model (not on the Hub)"}` |
| SSTI config | `{config.name}` (seed {config.seed}){f" from `{dataset}`" if dataset else ""} |
| LoRA rank | {rank if rank is not None else "n/a"} |
| built with | ssti-hf {__version__} |

## Measured

| metric | value |
|---|---|
{rows or "| (none measured) | |"}
"""
    return ModelCard("---\n" + data.to_yaml() + "\n---\n" + body)


def push_adapter(
    model, repo_id: str, config: SSTIConfig, metrics: dict, dataset: str | None = None, private: bool | None = None
) -> None:
    """Push a peft model's adapter and its SSTI model card to ``repo_id`` in one commit (the
    adapter files as peft saves them, the card as README.md): an adapter never reaches the Hub
    without the card saying it was trained on corrupted data. A repo this call created is deleted
    again if the commit fails.

    The token comes from ``HF_TOKEN`` or the login and the endpoint from ``HF_ENDPOINT``; neither
    is printed or stored.
    """
    import contextlib
    import tempfile

    from huggingface_hub import HfApi

    from ..errors import hub_errors

    peft_config = getattr(model, "peft_config", None)
    if not peft_config:
        raise TypeError(f"push_adapter needs a peft model (with peft_config), got {type(model).__name__}")
    active = peft_config[getattr(model, "active_adapter", "default")]
    local = active.base_model_name_or_path
    base_model = hub_id(local) if local else None  # the offline stand-in's folder -> the Hub id it copies
    if not base_model or os.path.exists(base_model) or base_model.startswith((".", "/", "~")):
        base_model = None  # the Hub refuses a card whose base_model is not a model id
    card = adapter_card(base_model, config, metrics, rank=getattr(active, "r", None), dataset=dataset)
    api = HfApi()
    with tempfile.TemporaryDirectory(prefix="ssti-adapter-") as folder:
        # the pushed adapter_config.json names the Hub id, not this machine's folder
        active.base_model_name_or_path = base_model or local
        try:
            model.save_pretrained(folder, save_embedding_layers=False)
        finally:
            active.base_model_name_or_path = local
        card.save(os.path.join(folder, "README.md"))  # replaces the generic card peft writes
        with hub_errors(f"pushing the adapter to the Hub repo {repo_id!r}"):
            created = not api.repo_exists(repo_id)
            api.create_repo(repo_id, private=private, exist_ok=True)
            try:
                api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message=f"SSTI adapter and model card for {config.name}")
            except BaseException:
                if created:
                    with contextlib.suppress(Exception):
                        api.delete_repo(repo_id)
                raise
