"""ssti-hf: Seamless Spurious Token Injection for the Hugging Face stack.

Data flows one way: source -> modifier -> transform -> dataset config -> training/callback ->
metric -> report, with the detector beside it. The public API below is importable from the
package itself (``ssti_hf.SSTIConfig``); each name is loaded on first use, so that ``import
ssti_hf`` and every command start without torch, transformers or datasets.
"""

from __future__ import annotations

import importlib

from ._version import __version__

# name -> the module that defines it (relative to this package)
_PUBLIC = {
    **dict.fromkeys(
        ["COUNTRIES", "HTML_TAGS", "SOURCES", "DateSource", "FunctionSource", "ListSource", "Source",
         "SourceExhaustedError", "get_source", "register_source"],
        ".sources",
    ),
    **dict.fromkeys(["CompositeModifier", "HTMLInjection", "Injected", "ItemInjection", "LabelFlip", "Modifier", "Sample"], ".modifiers"),
    **dict.fromkeys(["INJECTED", "SPANS", "spurious_transform", "strip_injections", "triggered_transform"], ".transform"),
    **dict.fromkeys(["BASE_DATASETS", "BaseDataset", "get_base_dataset", "load_source", "register_base_dataset"], ".base_datasets"),
    "SSTIConfig": ".config",
    "load_dataset": ".loading",
    "push_configs": ".hub.datasets",
    "write_configs": ".hub.datasets",
    "adapter_card": ".hub.adapter",
    "push_adapter": ".hub.adapter",
    "metric_path": ".metrics",
    "SSTICallback": ".training.callback",
    **dict.fromkeys(["FAMILIES", "Family", "register_family"], ".detect.families"),
    **dict.fromkeys(["Finding", "ScanResult", "attention_entropy_signal", "scan"], ".detect.scan"),
    **dict.fromkeys(["SanitizeReport", "sanitize"], ".detect.sanitize"),
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'ssti_hf' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

