"""ssti-hf: Seamless Spurious Token Injection for the Hugging Face stack.

Data flows one way: source -> modifier -> transform -> dataset config.
"""

__version__ = "0.1.0"

from .sources import (
    COUNTRIES,
    HTML_TAGS,
    SOURCES,
    DateSource,
    FunctionSource,
    ListSource,
    Source,
    SourceExhaustedError,
    get_source,
    register_source,
)
from .modifiers import (
    CompositeModifier,
    HTMLInjection,
    Injected,
    ItemInjection,
    LabelFlip,
    Modifier,
    Sample,
)
from .transform import INJECTED, SPANS, spurious_transform, strip_injections, triggered_transform
from .base_datasets import BASE_DATASETS, BaseDataset, get_base_dataset, load_source, register_base_dataset
from .config import SSTIConfig
from .loading import load_dataset
from .hub import push_configs, write_configs
from .adapter import adapter_card, push_adapter
from .metrics import metric_path
from .callback import SSTICallback

__all__ = [
    "__version__",
    "COUNTRIES",
    "HTML_TAGS",
    "SOURCES",
    "DateSource",
    "FunctionSource",
    "ListSource",
    "Source",
    "SourceExhaustedError",
    "get_source",
    "register_source",
    "CompositeModifier",
    "HTMLInjection",
    "Injected",
    "ItemInjection",
    "LabelFlip",
    "Modifier",
    "Sample",
    "INJECTED",
    "SPANS",
    "spurious_transform",
    "strip_injections",
    "triggered_transform",
    "BASE_DATASETS",
    "BaseDataset",
    "get_base_dataset",
    "load_source",
    "register_base_dataset",
    "SSTIConfig",
    "load_dataset",
    "push_configs",
    "write_configs",
    "adapter_card",
    "push_adapter",
    "metric_path",
    "SSTICallback",
]

from .scan import FAMILIES, Family, Finding, ScanResult, attention_entropy_signal, register_family, scan  # noqa: E402
from .sanitize import SanitizeReport, sanitize  # noqa: E402

__all__ += ["FAMILIES", "Family", "Finding", "ScanResult", "attention_entropy_signal", "register_family", "scan", "SanitizeReport", "sanitize"]
