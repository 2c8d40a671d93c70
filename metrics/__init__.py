"""``evaluate`` metrics for SSTI, one folder each with its card (installed as ``ssti_hf.metrics``).

    import evaluate, ssti_hf
    gap = evaluate.load(ssti_hf.metric_path("ssti_gap"))
"""

from importlib import resources
from pathlib import Path

METRICS = ("ssti_gap", "attention_entropy")


def metric_path(name: str) -> str:
    """The folder of metric ``name``, for ``evaluate.load`` (works offline, from the installed package)."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; ssti-hf ships {', '.join(METRICS)}")
    return str(Path(str(resources.files(__name__))) / name)
