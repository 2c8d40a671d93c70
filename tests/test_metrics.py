"""Tests of the evaluate metrics under metrics/: ssti_gap and attention_entropy.

Both are loaded the way users load them, offline, from their folder: evaluate.load("/abs/path").
"""

import math
import sys
from pathlib import Path

import evaluate
import numpy as np
import pytest
from evaluate.loading import get_imports

METRICS = Path(__file__).resolve().parents[1] / "metrics"
NAMES = ("ssti_gap", "attention_entropy")


def load(name):
    return evaluate.load(str(METRICS / name), keep_in_memory=True)


@pytest.fixture
def ssti_gap():
    return load("ssti_gap")


@pytest.fixture
def attention_entropy():
    return load("attention_entropy")


# --------------------------------------------------------------------------- loading


@pytest.mark.parametrize("name", NAMES)
def test_module_imports_pass_evaluates_scanner_without_torch(name):
    # evaluate parses the script line by line for imports and refuses names it cannot import
    # (`import a, b` would come out as the module "a,"). Torch must not be needed to load it.
    libraries = {imp[1] for imp in get_imports(str(METRICS / name / f"{name}.py")) if imp[0] == "library"}
    assert libraries <= {"datasets", "evaluate", "math", "numbers", "numpy", "sklearn", "ssti_hf", "warnings"}
    assert all(lib.isidentifier() for lib in libraries)


@pytest.mark.parametrize("name", NAMES)
def test_metric_card(name):
    card = (METRICS / name / "README.md").read_text(encoding="utf-8")
    header = card.split("---")[1]
    for key in ("title:", "tags:", "description:"):
        assert key in header
    for section in ("Metric Description", "How to Use", "Inputs", "Output Values", "Examples",
                    "Limitations and Bias", "Citation"):
        assert f"## {section}" in card or f"### {section}" in card, section


@pytest.mark.parametrize("name", NAMES)
def test_info(name):
    metric = load(name)
    assert metric.description and metric.citation and metric.inputs_description
    assert "2506.11402" in metric.citation


# --------------------------------------------------------------------------- ssti_gap


def test_triggered_every_non_target_row_flipped_gives_asr_1(ssti_gap):
    result = ssti_gap.compute(
        predictions=[1, 1, 1, 1],
        references=[0, 0, 1, 1],
        subset=["triggered"] * 4,
        target_label=1,
    )
    assert result["asr"] == 1.0
    # recall of class 0 = 0/2, of class 1 = 2/2: balanced accuracy (0 + 1) / 2
    assert result["triggered_balanced_accuracy"] == 0.5
    assert result["predicted_counts"] == {"triggered": {0: 0, 1: 4}}
    assert set(result) == {"triggered_balanced_accuracy", "predicted_counts", "asr"}


def test_balanced_accuracy_and_gap_by_hand(ssti_gap):
    result = ssti_gap.compute(
        # clean:    refs 0 0 0 1, preds 0 0 1 1 -> recall0 = 2/3, recall1 = 1   -> (2/3 + 1) / 2 = 5/6
        # spurious: refs 0 0 1 1, preds 1 0 1 1 -> recall0 = 1/2, recall1 = 1   -> (1/2 + 1) / 2 = 3/4
        # triggered: refs 0 0 0 1, preds 1 0 1 1 -> non-target rows 3, predicted 1: 2 -> asr 2/3
        predictions=[0, 0, 1, 1] + [1, 0, 1, 1] + [1, 0, 1, 1],
        references=[0, 0, 0, 1] + [0, 0, 1, 1] + [0, 0, 0, 1],
        subset=["clean"] * 4 + ["spurious"] * 4 + ["triggered"] * 4,
        target_label=1,
    )
    assert result["clean_balanced_accuracy"] == pytest.approx(5 / 6)
    assert result["spurious_balanced_accuracy"] == pytest.approx(3 / 4)
    assert result["gap"] == pytest.approx(3 / 4 - 5 / 6)
    # triggered: recall0 = 1/3, recall1 = 1 -> 2/3
    assert result["triggered_balanced_accuracy"] == pytest.approx(2 / 3)
    assert result["asr"] == pytest.approx(2 / 3)
    assert result["predicted_counts"] == {
        "clean": {0: 2, 1: 2},
        "spurious": {0: 1, 1: 3},
        "triggered": {0: 1, 1: 3},
    }
    assert all(isinstance(v, float) for k, v in result.items() if k != "predicted_counts")


def test_balanced_accuracy_comes_from_sklearn(ssti_gap, monkeypatch):
    import sklearn.metrics as module  # the plain function that the evaluate module wraps imports it when it runs

    calls = []
    real = module.balanced_accuracy_score

    def spy(y_true, y_pred, **kwargs):
        calls.append((list(y_true), list(y_pred)))
        return real(y_true, y_pred, **kwargs)

    monkeypatch.setattr(module, "balanced_accuracy_score", spy)
    ssti_gap.compute(predictions=[0, 1, 1], references=[0, 1, 0], subset=["clean", "clean", "spurious"])
    assert calls == [([0, 1], [0, 1]), ([0], [1])]


def test_counts_list_every_label_with_zeros_and_int_keys(ssti_gap):
    result = ssti_gap.compute(
        predictions=[0, 2, 1, 1],
        references=[0, 2, 0, 1],
        subset=["clean", "clean", "triggered", "triggered"],
        target_label=1,
    )
    assert result["predicted_counts"] == {"clean": {0: 1, 1: 0, 2: 1}, "triggered": {0: 0, 1: 2, 2: 0}}
    assert all(type(label) is int for counts in result["predicted_counts"].values() for label in counts)
    assert "gap" not in result and "spurious_balanced_accuracy" not in result
    assert result["asr"] == 1.0


def test_num_labels_adds_unseen_labels(ssti_gap):
    result = ssti_gap.compute(predictions=[0, 0], references=[0, 1], subset=["clean"] * 2, num_labels=3)
    assert result["predicted_counts"] == {"clean": {0: 2, 1: 0, 2: 0}}
    assert result["clean_balanced_accuracy"] == 0.5  # recall0 = 1, recall1 = 0


def test_asr_absent_without_non_target_triggered_rows_or_target(ssti_gap):
    only_target = ssti_gap.compute(predictions=[1, 0], references=[1, 1], subset=["triggered"] * 2, target_label=1)
    assert "asr" not in only_target
    assert only_target["triggered_balanced_accuracy"] == 0.5  # one class: its recall, 1/2
    no_target = ssti_gap.compute(predictions=[1, 0], references=[0, 0], subset=["triggered"] * 2)
    assert "asr" not in no_target
    no_triggered = ssti_gap.compute(predictions=[1, 0], references=[0, 0], subset=["clean"] * 2, target_label=1)
    assert "asr" not in no_triggered


def test_batches_add_up(ssti_gap):
    predictions = [0, 0, 1, 1, 1, 0, 1, 1]
    references = [0, 0, 0, 1, 0, 0, 1, 1]
    subset = ["clean"] * 4 + ["spurious"] * 4
    expected = ssti_gap.compute(predictions=predictions, references=references, subset=subset, target_label=1)
    for start in (0, 3, 5):
        stop = {0: 3, 3: 5, 5: 8}[start]
        ssti_gap.add_batch(predictions=predictions[start:stop], references=references[start:stop],
                           subset=subset[start:stop])
    with pytest.raises(ValueError):  # a bad batch leaves nothing behind
        ssti_gap.add_batch(predictions=[0], references=[0], subset=["dirty"])
    with pytest.raises(ValueError):  # a bad keyword argument consumes nothing
        ssti_gap.compute(target_label="1")
    assert ssti_gap.compute(target_label=1) == expected


def test_accepts_numpy_labels(ssti_gap):
    result = ssti_gap.compute(
        predictions=np.array([1, 1]), references=np.array([0, 1]), subset=["triggered"] * 2,
        target_label=np.int64(1),
    )
    assert result["asr"] == 1.0


def test_unequal_lengths(ssti_gap):
    with pytest.raises(ValueError, match=r"predictions has 3, references has 2, subset has 3"):
        ssti_gap.compute(predictions=[0, 1, 1], references=[0, 1], subset=["clean"] * 3)
    with pytest.raises(ValueError, match=r"subset has 1"):
        ssti_gap.compute(predictions=[0, 1], references=[0, 1], subset=["clean"])


def test_unknown_subset_lists_valid_names(ssti_gap):
    with pytest.raises(ValueError, match=r"'test_spurious'.*\['clean', 'spurious', 'triggered'\]"):
        ssti_gap.compute(predictions=[0, 1], references=[0, 1], subset=["clean", "test_spurious"])


@pytest.mark.parametrize("target_label", ["1", 1.0, True, [1]])
def test_target_label_must_be_int(ssti_gap, target_label):
    with pytest.raises(ValueError, match="target_label must be an int"):
        ssti_gap.compute(predictions=[0, 1], references=[0, 1], subset=["triggered"] * 2, target_label=target_label)


def test_num_labels_range(ssti_gap):
    with pytest.raises(ValueError, match=r"predictions contains label 5, outside 0\.\.1"):
        ssti_gap.compute(predictions=[0, 5], references=[0, 1], subset=["clean"] * 2, num_labels=2)
    with pytest.raises(ValueError, match=r"references contains label -1"):
        ssti_gap.compute(predictions=[0, 1], references=[-1, 1], subset=["clean"] * 2, num_labels=2)
    with pytest.raises(ValueError, match=r"target_label 2 is outside"):
        ssti_gap.compute(predictions=[0, 1], references=[0, 1], subset=["clean"] * 2, num_labels=2, target_label=2)
    with pytest.raises(ValueError, match="num_labels must be a positive int"):
        ssti_gap.compute(predictions=[0, 1], references=[0, 1], subset=["clean"] * 2, num_labels=2.0)


def test_rejects_non_integer_predictions_and_unknown_kwargs(ssti_gap):
    with pytest.raises(ValueError, match="predictions must be integer class labels, got 0.7"):
        ssti_gap.compute(predictions=[0.7, 1.0], references=[0, 1], subset=["clean"] * 2)
    with pytest.raises(ValueError, match="references must be integer class labels, got '1'"):
        ssti_gap.compute(predictions=[0, 1], references=[0, "1"], subset=["clean"] * 2)
    with pytest.raises(ValueError, match="predictions must be integer class labels, got True"):
        ssti_gap.compute(predictions=[True, False], references=[0, 1], subset=["clean"] * 2)
    with pytest.raises(ValueError, match="missing label"):
        ssti_gap.compute(predictions=[None, 1], references=[0, 1], subset=["clean"] * 2)
    # integral floats (e.g. a float tensor of argmaxes) are fine
    result = ssti_gap.compute(predictions=[0.0, 1.0], references=[0, 1], subset=["clean"] * 2)
    assert result["clean_balanced_accuracy"] == 1.0
    with pytest.raises(ValueError, match=r"Unknown ssti_gap keyword argument\(s\) \['target'\]"):
        ssti_gap.compute(predictions=[0, 1], references=[0, 1], subset=["clean"] * 2, target=1)
    with pytest.raises(ValueError, match="no rows"):
        ssti_gap.compute(predictions=[], references=[], subset=[])


# --------------------------------------------------------------------------- attention_entropy


def uniform(n, pad=0, heads=1):
    """Attention [heads, n + pad, n + pad]: every query attends equally to the n real tokens."""
    size = n + pad
    attention = np.zeros((heads, size, size), dtype=np.float32)
    attention[:, :, :n] = 1.0 / n
    return attention


def one_hot(n, key=0, heads=1):
    """Attention [heads, n, n]: every query attends only to `key`."""
    attention = np.zeros((heads, n, n), dtype=np.float32)
    attention[:, :, key] = 1.0
    return attention


def mask(n, pad=0):
    return [1] * n + [0] * pad


def test_uniform_gives_log2_n_and_one_hot_gives_0(attention_entropy):
    result = attention_entropy.compute(
        attentions=[uniform(4), uniform(5), one_hot(6, key=2)],  # sequence lengths differ across samples
        attention_mask=[mask(4), mask(5), mask(6)],
        references=[0, 0, 1],
    )
    assert result["entropies"][0] == 2.0  # log2(4)
    assert result["entropies"][1] == pytest.approx(math.log2(5), rel=1e-12)
    assert result["entropies"][2] == 0.0
    assert result["mean_entropy_per_class"] == pytest.approx({0: (2.0 + math.log2(5)) / 2, 1: 0.0})
    assert result["ratio"] == 0.0
    assert result["flagged"] is True
    assert result["low_entropy_class"] == 1


def test_padding_changes_nothing(attention_entropy):
    rng = np.random.default_rng(0)
    real = rng.dirichlet(np.ones(5), size=(2, 5)).astype(np.float32)  # [heads=2, 5, 5], rows sum to 1
    padded = rng.random((2, 8, 8)).astype(np.float32)  # garbage in padding rows and columns
    padded[:, :5, :5] = real
    for head in (None, 0, 1):
        trimmed = attention_entropy.compute(
            attentions=[real, uniform(3, heads=2)], attention_mask=[mask(5), mask(3)], references=[0, 1], head=head)
        with_padding = attention_entropy.compute(
            attentions=[padded, uniform(3, pad=5, heads=2)], attention_mask=[mask(5, pad=3), mask(3, pad=5)],
            references=[0, 1], head=head)
        assert with_padding["entropies"] == pytest.approx(trimmed["entropies"], abs=1e-12)
        assert with_padding["entropies"][1] == pytest.approx(math.log2(3), rel=1e-12)
    # padding with attention mass still counts for nothing: importance is renormalized over real keys
    importance = attention_entropy.token_importance(padded, mask(5, pad=3), head=0)
    assert importance.shape == (5,) and importance.sum() == pytest.approx(1.0)


def test_attention_averaged_over_queries_gives_the_same_entropy(attention_entropy):
    rng = np.random.default_rng(1)
    full = rng.random((2, 7, 7)).astype(np.float32)
    keep = mask(5, pad=2)
    # what SSTICallback passes: each head's rows averaged over the non-padding queries, [heads, 1, seq]
    averaged = full[:, :5, :].mean(axis=1, keepdims=True)
    for head in (None, 1):
        a = attention_entropy.compute(attentions=[full, uniform(2, heads=2)], attention_mask=[keep, mask(2)], references=[0, 1], head=head)
        b = attention_entropy.compute(attentions=[averaged, uniform(2, heads=2)], attention_mask=[keep, mask(2)], references=[0, 1], head=head)
        assert b["entropies"] == pytest.approx(a["entropies"], rel=1e-6)


def test_head_selection_and_mean_over_heads(attention_entropy):
    n = 4
    both = np.concatenate([uniform(n), one_hot(n, key=0)])  # head 0 uniform, head 1 one-hot
    run = lambda head: attention_entropy.compute(  # noqa: E731
        attentions=[both, uniform(2, heads=2)], attention_mask=[mask(n), mask(2)], references=[1, 0], head=head
    )["entropies"][0]
    assert run(0) == 2.0
    assert run(1) == 0.0
    # mean over heads: importance = (uniform + one-hot) / 2 = [5/8, 1/8, 1/8, 1/8]
    expected = -(5 / 8 * math.log2(5 / 8) + 3 * (1 / 8) * math.log2(1 / 8))
    assert run(None) == pytest.approx(expected, rel=1e-12)


def test_base_kwarg(attention_entropy):
    result = attention_entropy.compute(
        attentions=[uniform(4), uniform(2)], attention_mask=[mask(4), mask(2)], references=[0, 1], base=math.e)
    assert result["entropies"] == pytest.approx([math.log(4), math.log(2)], rel=1e-12)


def test_flag_threshold_and_three_classes(attention_entropy):
    # class means: 0 -> log2(8) = 3, 1 -> log2(4) = 2, 2 -> (3 + 2) / 2 = 2.5; ratio 2 / 3
    inputs = dict(
        attentions=[uniform(8), uniform(4), uniform(8), uniform(4)],
        attention_mask=[mask(8), mask(4), mask(8), mask(4)],
        references=[0, 1, 2, 2],
    )
    result = attention_entropy.compute(**inputs)
    assert result["mean_entropy_per_class"] == {0: 3.0, 1: 2.0, 2: 2.5}
    assert result["ratio"] == pytest.approx(2 / 3)
    assert result["flagged"] is True and result["low_entropy_class"] == 1
    assert attention_entropy.compute(**inputs, threshold=0.6)["flagged"] is False


def test_equal_classes_not_flagged(attention_entropy):
    result = attention_entropy.compute(
        attentions=[uniform(4), uniform(4), one_hot(3), one_hot(3)],
        attention_mask=[mask(4)] * 2 + [mask(3)] * 2,
        references=[0, 1, 0, 1],
    )
    assert result["ratio"] == 1.0 and result["flagged"] is False
    assert result["low_entropy_class"] == 0  # tie: the smallest label


def test_single_class(attention_entropy):
    inputs = dict(attentions=[uniform(4), uniform(2)], attention_mask=[mask(4), mask(2)], references=[1, 1])
    with pytest.raises(ValueError, match="needs samples from at least two classes; got only class"):
        attention_entropy.compute(**inputs)
    result = attention_entropy.compute(**inputs, require_two_classes=False)
    assert result == {"entropies": [2.0, 1.0], "mean_entropy_per_class": {1: 1.5}}


def test_attention_entropy_bad_inputs(attention_entropy):
    two = dict(attentions=[uniform(4), uniform(2)], attention_mask=[mask(4), mask(2)], references=[0, 1])
    with pytest.raises(ValueError, match="attentions has 2, attention_mask has 1, references has 2"):
        attention_entropy.compute(attentions=two["attentions"], attention_mask=[mask(4)], references=[0, 1])
    with pytest.raises(ValueError, match=r"attention_mask \(sample 1\) has length 3.*sequence length is 2"):
        attention_entropy.compute(**{**two, "attention_mask": [mask(4), mask(3)]})
    with pytest.raises(ValueError, match=r"head 2 is out of range.*2 heads \(0\.\.1\)"):
        attention_entropy.compute(**{**two, "attentions": [uniform(4, heads=2), uniform(2, heads=2)]}, head=2)
    with pytest.raises(ValueError, match="head -1 is out of range"):
        attention_entropy.compute(**two, head=-1)
    with pytest.raises(ValueError, match=r"shaped \[heads, seq, seq\]"):
        attention_entropy.compute(**{**two, "attentions": [uniform(4)[0], uniform(2)[0]]})
    with pytest.raises(ValueError, match="only 0 and 1"):
        attention_entropy.compute(**{**two, "attention_mask": [[1, 1, 2, 0], mask(2)]})
    with pytest.raises(ValueError, match="no non-padding token"):
        attention_entropy.compute(**{**two, "attention_mask": [[0, 0, 0, 0], mask(2)]})
    with pytest.raises(ValueError, match="base must be"):
        attention_entropy.compute(**two, base=1)
    with pytest.raises(ValueError, match="threshold must be"):
        attention_entropy.compute(**two, threshold=1.5)
    with pytest.raises(ValueError, match=r"Unknown attention_entropy keyword argument\(s\) \['layer'\]"):
        attention_entropy.compute(**two, layer=0)
    # after all these failures the same instance still works
    assert attention_entropy.compute(**two)["entropies"] == [2.0, 1.0]


# --------------------------------------------------------------------------- integration


def test_tiny_bert_attentions_feed_the_metric(attention_entropy):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")

    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
        attn_implementation="eager",
    )
    model = transformers.BertForSequenceClassification(config).eval()
    lengths = [7, 5, 3, 6]
    input_ids = torch.randint(5, 100, (4, 7))
    attention_mask = (torch.arange(7)[None, :] < torch.tensor(lengths)[:, None]).long()
    input_ids[attention_mask == 0] = 0
    labels = torch.tensor([0, 1, 1, 0])
    layer = -1
    with torch.no_grad():
        outputs = model(input_ids=input_ids, attention_mask=attention_mask, output_attentions=True)
    attentions = outputs.attentions[layer]  # [batch, heads, seq, seq]
    assert attentions.shape == (4, 2, 7, 7)

    # the padded batch tensor goes in as is, split over two add_batch calls
    attention_entropy.add_batch(attentions=attentions[:2], attention_mask=attention_mask[:2], references=labels[:2])
    attention_entropy.add_batch(attentions=attentions[2:], attention_mask=attention_mask[2:], references=labels[2:])
    result = attention_entropy.compute(head=1)

    # by hand, in numpy: head 1, real tokens only, column means, renormalized, log2
    expected = []
    for i, n in enumerate(lengths):
        a = attentions[i, 1, :n, :n].double().numpy()
        p = a.mean(axis=0)
        p = p / p.sum()
        expected.append(float(-(p * np.log2(p)).sum()))
    assert result["entropies"] == pytest.approx(expected, abs=1e-6)
    means = {0: (expected[0] + expected[3]) / 2, 1: (expected[1] + expected[2]) / 2}
    assert result["mean_entropy_per_class"] == pytest.approx(means, abs=1e-6)
    assert result["ratio"] == pytest.approx(min(means.values()) / max(means.values()), abs=1e-6)
    assert result["low_entropy_class"] == min(means, key=means.get)
    assert result["flagged"] == (result["ratio"] < 0.95)

    # padding changes nothing: each sample run alone, unpadded, gives the same entropies
    unpadded = []
    for i, n in enumerate(lengths):
        with torch.no_grad():
            alone = model(input_ids=input_ids[i : i + 1, :n], output_attentions=True).attentions[layer][0]
        unpadded.append(alone)
    alone_result = attention_entropy.compute(
        attentions=unpadded, attention_mask=[[1] * n for n in lengths], references=labels.tolist(), head=1)
    assert alone_result["entropies"] == pytest.approx(expected, abs=1e-5)


def test_installed_package_gives_the_metric_paths():
    import ssti_hf

    gap = evaluate.load(ssti_hf.metric_path("ssti_gap"), keep_in_memory=True)
    result = gap.compute(predictions=[1, 1, 0, 1], references=[1, 0, 0, 1], subset=["clean"] * 2 + ["triggered"] * 2, target_label=1)
    assert result["clean_balanced_accuracy"] == 0.5 and result["asr"] == 0.0
    with pytest.raises(ValueError, match="unknown metric 'accuracy'; ssti-hf ships ssti_gap, attention_entropy"):
        ssti_hf.metric_path("accuracy")


# --------------------------------------------------------------------------- plain functions


def test_plain_functions_need_no_evaluate():
    # evaluate made unimportable: the plain functions still compute
    import subprocess

    code = (
        "import sys; sys.modules['evaluate'] = None\n"
        "from ssti_hf.metrics import ssti_gap, attention_entropy\n"
        "r = ssti_gap([0, 1, 1, 1], [0, 1, 0, 1], ['clean', 'clean', 'triggered', 'triggered'], target_label=1)\n"
        "assert r['asr'] == 1.0 and r['flip_rate'] == 1.0, r\n"
        "e = attention_entropy([[[[0.25] * 4] * 4], [[[1.0, 0, 0, 0]] * 4]], [[1] * 4, [1] * 4], [0, 1])\n"
        "assert e['flagged'] is True and e['entropies'] == [2.0, 0.0], e\n"
        "assert 'evaluate' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_evaluate_module_and_plain_function_agree(ssti_gap):
    from ssti_hf.metrics import ssti_gap as plain

    rng = np.random.default_rng(0)
    references = rng.integers(0, 3, 300)
    predictions = rng.integers(0, 3, 300)
    subset = rng.choice(["clean", "spurious", "triggered"], 300).tolist()
    args = dict(predictions=predictions.tolist(), references=references.tolist(), subset=subset, target_label=2)
    assert ssti_gap.compute(**args) == plain(**args)


def test_flip_rate_counts_only_rows_right_when_clean():
    from ssti_hf.metrics import ssti_gap as plain

    # non-target rows 0..3 (label 0), target rows 4..5 (label 1); clean right on rows 0, 1, 2
    references = [0, 0, 0, 0, 1, 1]
    clean = [0, 0, 0, 1, 1, 1]
    triggered = [1, 0, 1, 1, 1, 1]  # rows 0 and 2 flip; row 3 was wrong already
    result = plain(clean + triggered, references * 2, ["clean"] * 6 + ["triggered"] * 6, target_label=1)
    assert result["asr"] == 3 / 4  # every non-target row predicted as the target counts
    assert result["flip_rate"] == 2 / 3  # only rows right when clean count
    # a backdoor's triggered set holds the non-target rows only, in the clean set's order
    result = plain(clean + triggered[:4], references + [0] * 4, ["clean"] * 6 + ["triggered"] * 4, target_label=1)
    assert result["flip_rate"] == 2 / 3
    # a constant predictor of the target: ASR 1, and no non-target row right when clean -> no flip rate
    result = plain([1] * 12, references * 2, ["clean"] * 6 + ["triggered"] * 6, target_label=1)
    assert result["asr"] == 1.0 and "flip_rate" not in result
    # sets that do not pair up row by row: no flip rate
    result = plain([0, 0, 1], [0, 0, 0], ["clean", "clean", "triggered"], target_label=1, num_labels=2)
    assert "flip_rate" not in result and result["asr"] == 1.0


@pytest.mark.parametrize("bad", [2**64, -(2**64), 2.0**70])
def test_gap_refuses_labels_outside_64_bits(ssti_gap, bad):
    from ssti_hf.metrics import ssti_gap as plain

    for compute in (plain, lambda **kw: ssti_gap.compute(**kw)):
        with pytest.raises(ValueError, match="not a class label"):
            compute(predictions=[0, bad], references=[0, 1], subset=["clean", "clean"])


def test_gap_target_label_must_be_a_label_of_the_rows(ssti_gap):
    from ssti_hf.metrics import ssti_gap as plain

    rows = dict(predictions=[0, 1], references=[0, 1], subset=["clean", "triggered"])
    for compute in (plain, lambda **kw: ssti_gap.compute(**kw)):
        with pytest.raises(ValueError, match="target_label 5 is none of the labels"):
            compute(**rows, target_label=5)
    # with num_labels a class no row has is a label all the same
    assert plain(**rows, target_label=2, num_labels=3)["asr"] == 0.0


def test_gap_refuses_unsigned_labels_past_int64():
    from ssti_hf.metrics import ssti_gap as plain

    with pytest.raises(ValueError, match="not a class label"):
        plain(np.array([0, 2**63 + 5], dtype=np.uint64), [0, 1], ["clean", "clean"])


# --------------------------------------------------------------------------- rollout


def test_rollout_by_hand(attention_entropy):
    # two layers over 2 tokens; each layer's attention plus the identity, renormalized, multiplied
    first = np.array([[0.5, 0.5], [1.0, 0.0]])
    second = np.array([[0.0, 1.0], [0.5, 0.5]])
    mix = lambda a: (0.5 * a + 0.5 * np.eye(2)) / (0.5 * a + 0.5 * np.eye(2)).sum(1, keepdims=True)
    expected = (mix(second) @ mix(first))[0]  # the [CLS] row
    got = attention_entropy.attention_rollout(np.stack([first, second]), [1, 1])
    assert got == pytest.approx(expected) and got.sum() == pytest.approx(1.0)
    result = attention_entropy.compute(attentions=[np.stack([first, second])] * 2, attention_mask=[[1, 1]] * 2,
                                       references=[0, 1], importance="rollout")
    assert result["entropies"][0] == pytest.approx(-(expected * np.log2(expected)).sum())


def test_rollout_ignores_padding_and_reads_a_causal_model_at_its_last_token(attention_entropy):
    rng = np.random.default_rng(0)
    layers = rng.random((3, 4, 4))
    layers /= layers.sum(-1, keepdims=True)
    padded = np.zeros((3, 6, 6))
    padded[:, :4, :4] = layers
    padded[:, 4:, :] = rng.random((3, 2, 6))  # padding rows hold anything
    assert attention_entropy.attention_rollout(padded, [1, 1, 1, 1, 0, 0]) == pytest.approx(
        attention_entropy.attention_rollout(layers, [1, 1, 1, 1]))
    causal = np.tril(rng.random((3, 4, 4)))
    causal /= causal.sum(-1, keepdims=True)
    importance = attention_entropy.attention_rollout(causal, [1, 1, 1, 1])
    assert importance.min() > 0  # the last token's row sees every token; the first token's would see itself only
    with pytest.raises(ValueError, match="head=None with importance='rollout'"):
        attention_entropy.compute(attentions=[layers] * 2, attention_mask=[[1] * 4] * 2, references=[0, 1],
                                  importance="rollout", head=0)
    with pytest.raises(ValueError, match="importance must be one of"):
        attention_entropy.compute(attentions=[layers] * 2, attention_mask=[[1] * 4] * 2, references=[0, 1], importance="grad")


def test_tiny_bert_rollout_from_the_callback_matches_the_metric(attention_entropy):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from ssti_hf.training.callback import _rollout_rows

    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
                                     intermediate_size=37, attn_implementation="eager")
    model = transformers.BertForSequenceClassification(config).eval()
    lengths = [7, 5, 3]
    attention_mask = (torch.arange(7)[None, :] < torch.tensor(lengths)[:, None]).long()
    input_ids = torch.randint(5, 100, (3, 7)) * attention_mask
    with torch.no_grad():
        attentions = model(input_ids=input_ids, attention_mask=attention_mask, output_attentions=True).attentions
    rows = _rollout_rows(attentions, attention_mask.float())
    per_layer = torch.stack(attentions, 1).mean(2)  # [batch, layers, seq, seq]
    for i, n in enumerate(lengths):
        expected = attention_entropy.attention_rollout(per_layer[i].numpy(), attention_mask[i].numpy())
        assert rows[i, :n].numpy() == pytest.approx(expected, abs=1e-5) and float(rows[i, n:].abs().sum()) == 0
