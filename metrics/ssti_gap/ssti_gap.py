# Copyright 2025 The ssti-hf authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""SSTI gap: clean vs. spurious vs. triggered balanced accuracy, and attack success rate."""

# evaluate scans this file for imports to check they are installed: keep ONE import per line,
# and only standard-library or pip-installable modules (no torch: it may be absent).
import numbers
import warnings

import datasets
import numpy as np
from sklearn.metrics import balanced_accuracy_score

import evaluate


SUBSETS = ("clean", "spurious", "triggered")

_DESCRIPTION = """
Measures how much a classifier fine-tuned on data with Seamless Spurious Token Injection (SSTI)
is steered by the injected tokens. Every row is tagged with the evaluation set it comes from:

- "clean": the untouched test set,
- "spurious": the matched spurious test set (same injection, same class, same rate as training),
- "triggered": every row injected (the paper's "triggered" set); for a backdoor, every row not of
  the target label, with the trigger (the attack success rate set of the backdoor literature).

For each set present, the metric reports the balanced accuracy (scikit-learn's
`balanced_accuracy_score`: the mean recall over the classes present in that set's references),
the gap between the spurious and the clean balanced accuracy, the predicted-label counts, and,
on the triggered set, the attack success rate (ASR): the share of rows whose true label is not the
target label that the model predicts as the target label. Untargeted attacks (label flipping) have
no trigger and no target: with target_label=None no ASR is reported.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `int`): Predicted labels.
    references (`list` of `int`): Ground-truth labels.
    subset (`list` of `str`): The evaluation set of each row: "clean", "spurious" or "triggered".
    target_label (`int`, optional): The label the spurious tokens were injected into (the label the
        attack steers towards). Needed for `asr`; when None (default) `asr` is not reported: pass
        None for an attack without a target (untargeted label flipping).
    num_labels (`int`, optional): Number of classes. When given, every prediction, reference and the
        target label must lie in 0..num_labels-1, and `predicted_counts` lists all of them.

Returns:
    clean_balanced_accuracy (`float`): Balanced accuracy on the clean rows (only if there are any).
    spurious_balanced_accuracy (`float`): Balanced accuracy on the spurious rows (only if there are any).
    triggered_balanced_accuracy (`float`): Balanced accuracy on the triggered rows (only if there are any).
    gap (`float`): spurious_balanced_accuracy - clean_balanced_accuracy (only if both are present).
    predicted_counts (`dict`): {set name: {label: count}} for each set present; every label seen in
        references or predictions (of any set), plus 0..num_labels-1 when given, with zeros.
    asr (`float`): Attack success rate on the triggered set: among triggered rows whose reference is
        not `target_label`, the share predicted as `target_label` (only if target_label is given and
        there are such rows).

Examples:

    >>> ssti_gap = evaluate.load("metrics/ssti_gap")
    >>> results = ssti_gap.compute(
    ...     predictions=[0, 1, 0, 1, 1, 1, 1, 1],
    ...     references=[0, 1, 0, 1, 0, 1, 0, 1],
    ...     subset=["clean"] * 4 + ["triggered"] * 4,
    ...     target_label=1,
    ... )
    >>> print(results)
    {'clean_balanced_accuracy': 1.0, 'triggered_balanced_accuracy': 0.5, 'predicted_counts': {'clean': {0: 2, 1: 2}, 'triggered': {0: 0, 1: 4}}, 'asr': 1.0}
"""

_CITATION = """
@article{sekhsaria2025lora,
  title={LoRA Users Beware: A Few Spurious Tokens Can Manipulate Your Finetuned Model},
  author={Sekhsaria, Pradyut and Mateos Salles, Marcel and Huang, Hai and Balestriero, Randall},
  journal={arXiv preprint arXiv:2506.11402},
  year={2025}
}
@article{scikit-learn,
  title={Scikit-learn: Machine Learning in {P}ython},
  author={Pedregosa, F. and Varoquaux, G. and Gramfort, A. and Michel, V.
         and Thirion, B. and Grisel, O. and Blondel, M. and Prettenhofer, P.
         and Weiss, R. and Dubourg, V. and Vanderplas, J. and Passos, A. and
         Cournapeau, D. and Brucher, M. and Perrot, M. and Duchesnay, E.},
  journal={Journal of Machine Learning Research},
  volume={12},
  pages={2825--2830},
  year={2011}
}
"""


def _is_int(value):
    """True for Python/numpy integers, False for bools (True is not a label)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _check_lengths(columns):
    """Raise a ValueError naming every length when the input columns differ in length."""
    lengths = {name: len(column) for name, column in columns.items() if column is not None}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {length}" for name, length in lengths.items())
        raise ValueError(f"ssti_gap inputs must all have the same length, but {described}.")


def _check_integer_labels(name, column):
    """Refuse what the int64 feature would silently cast: 0.7 -> 0, "1" -> 1, True -> 1."""
    if column is None:
        return
    if hasattr(column, "detach"):  # a torch tensor (torch itself is never imported here)
        column = column.detach().cpu().numpy()
    values = np.asarray(column)
    if values.dtype.kind == "f":
        bad = values[~np.isfinite(values) | (values != np.round(values))]
        if bad.size:
            raise ValueError(
                f"{name} must be integer class labels, got {bad.flat[0].item()!r} "
                f"(take the argmax of the logits first)."
            )
    elif values.dtype.kind in "bUSO":
        items = column if isinstance(column, (list, tuple)) else values.flat  # numpy turned [0, "1"] into strings
        bad = [v for v in items if v is not None and not _is_int(v)]
        if bad:
            value = bad[0].item() if isinstance(bad[0], np.generic) else bad[0]
            raise ValueError(f"{name} must be integer class labels, got {value!r} of type {type(value).__name__}.")


def _check_compute_kwargs(target_label=None, num_labels=None, **unknown):
    if unknown:
        raise ValueError(
            f"Unknown ssti_gap keyword argument(s) {sorted(unknown)}: the keyword arguments are "
            f"target_label and num_labels (inputs: predictions, references, subset)."
        )
    if target_label is not None and not _is_int(target_label):
        raise ValueError(
            f"target_label must be an int (the label the spurious tokens were injected into), "
            f"got {target_label!r} of type {type(target_label).__name__}."
        )
    if num_labels is not None and (not _is_int(num_labels) or num_labels < 1):
        raise ValueError(f"num_labels must be a positive int, got {num_labels!r}.")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SSTIGap(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Value("int64"),
                    "references": datasets.Value("int64"),
                    "subset": datasets.Value("string"),
                }
            ),
            reference_urls=[
                "https://arxiv.org/abs/2506.11402",
                "https://scikit-learn.org/stable/modules/generated/sklearn.metrics.balanced_accuracy_score.html",
            ],
        )

    def compute(self, *, predictions=None, references=None, **kwargs):
        """Compute the SSTI gap metrics over the given rows and the batches added before.
        """
        # evaluate appends the inputs description to this docstring, so it must have one.
        # Keyword arguments are checked before evaluate consumes the rows added so far.
        _check_compute_kwargs(**{k: v for k, v in kwargs.items() if k not in self._feature_names()})
        return super().compute(predictions=predictions, references=references, **kwargs)

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add a batch of predictions, references and subset names to the metric's stack.
        """
        # evaluate appends the inputs description to this docstring, so it must have one.
        # Checked here, before evaluate writes anything, so that a bad batch leaves no rows behind
        # and the message names every length (evaluate's own message names only two columns).
        _check_lengths({"predictions": predictions, "references": references, **kwargs})
        _check_integer_labels("predictions", predictions)
        _check_integer_labels("references", references)
        subset = kwargs.get("subset")
        if subset is not None:
            self._check_subsets(subset)
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    @staticmethod
    def _check_subsets(subset):
        unknown = sorted({repr(name) for name in subset if not isinstance(name, str) or name not in SUBSETS})
        if unknown:
            raise ValueError(
                f"Unknown subset name(s) {', '.join(unknown)}: each row's subset must be one of {list(SUBSETS)}."
            )

    def _compute(self, predictions, references, subset, target_label=None, num_labels=None):
        _check_lengths({"predictions": predictions, "references": references, "subset": subset})
        self._check_subsets(subset)
        _check_compute_kwargs(target_label=target_label, num_labels=num_labels)
        if len(subset) == 0:
            raise ValueError("ssti_gap got no rows: pass predictions, references and subset (or add_batch them first).")
        for name, values in (("predictions", predictions), ("references", references)):
            missing = [i for i, value in enumerate(values) if value is None]
            if missing:
                raise ValueError(f"{name} has a missing label (None) at row {missing[0]}.")

        predictions = np.asarray(predictions, dtype=np.int64)
        references = np.asarray(references, dtype=np.int64)
        subset = np.asarray(subset, dtype=object)

        if num_labels is not None:
            for name, values in (("predictions", predictions), ("references", references)):
                bad = values[(values < 0) | (values >= num_labels)]
                if bad.size:
                    raise ValueError(
                        f"{name} contains label {int(bad[0])}, outside 0..{num_labels - 1} (num_labels={num_labels})."
                    )
            if target_label is not None and not 0 <= target_label < num_labels:
                raise ValueError(
                    f"target_label {target_label} is outside 0..{num_labels - 1} (num_labels={num_labels})."
                )

        labels = set(predictions.tolist()) | set(references.tolist())
        if num_labels is not None:
            labels |= set(range(num_labels))
        labels = sorted(labels)

        results = {}
        counts = {}
        for name in SUBSETS:
            rows = subset == name
            if not rows.any():
                continue
            with warnings.catch_warnings():
                # A set whose references hold a single class (e.g. a triggered set of one class)
                # is legitimate: balanced accuracy is then that class's recall.
                warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
                # ... also when every prediction is that class (a backdoor's set of non-target rows)
                warnings.filterwarnings("ignore", message="A single label was found in 'y_true' and 'y_pred'")
                score = balanced_accuracy_score(references[rows], predictions[rows])
            results[f"{name}_balanced_accuracy"] = float(score)
            predicted = predictions[rows].tolist()
            counts[name] = {label: predicted.count(label) for label in labels}

        if "clean_balanced_accuracy" in results and "spurious_balanced_accuracy" in results:
            results["gap"] = results["spurious_balanced_accuracy"] - results["clean_balanced_accuracy"]
        results["predicted_counts"] = counts

        if target_label is not None:
            attacked = (subset == "triggered") & (references != target_label)
            if attacked.any():
                results["asr"] = float(np.mean(predictions[attacked] == target_label))
        return results
