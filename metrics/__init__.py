"""The SSTI metrics, one folder each with its card (installed as ``ssti_hf.metrics``): plain
functions that need no ``evaluate``, and ``evaluate`` modules that wrap them.

    from ssti_hf.metrics import ssti_gap, attention_entropy
    ssti_gap(predictions, references, subset, target_label=1)

    import evaluate, ssti_hf
    gap = evaluate.load(ssti_hf.metric_path("ssti_gap"))
"""

from importlib import resources
from pathlib import Path

from .scores import attention_entropy, attention_rollout, shannon_entropy, ssti_gap, token_importance

METRICS = ("ssti_gap", "attention_entropy")


def metric_path(name: str) -> str:
    """The folder of metric ``name``, for ``evaluate.load`` (works offline, from the installed package)."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; ssti-hf ships {', '.join(METRICS)}")
    return str(Path(str(resources.files(__name__))) / name)


__all__ = ["METRICS", "attention_entropy", "attention_rollout", "metric_path", "shannon_entropy", "ssti_gap", "token_importance"]
