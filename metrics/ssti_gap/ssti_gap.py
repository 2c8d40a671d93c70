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
import datasets

import evaluate
from ssti_hf.metrics import scores

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
target label that the model predicts as the target label. Beside it, the flip rate (the backdoor
literature's conditional ASR): of the rows not of the target label that the model predicts correctly
when clean, the share it predicts as the target when triggered. An untrained model that predicts the
target for everything has an ASR of 1 but no flip rate to speak of (it gets no non-target row right),
so read ASR beside the clean balanced accuracy and the flip rate. Untargeted attacks (label flipping)
have no trigger and no target: with target_label=None neither is reported.

The computation is the plain function `ssti_hf.metrics.ssti_gap` (no `evaluate` needed); this module
wraps it.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `int`): Predicted labels.
    references (`list` of `int`): Ground-truth labels.
    subset (`list` of `str`): The evaluation set of each row: "clean", "spurious" or "triggered".
    target_label (`int`, optional): The label the spurious tokens were injected into (the label the
        attack steers towards); it must be one of the labels of the rows, or below num_labels. Needed for `asr`; when None (default) `asr` is not reported: pass
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
    flip_rate (`float`): Among the triggered rows not of `target_label` whose clean counterpart was
        predicted correctly, the share predicted as `target_label`. The i-th non-target triggered row is
        paired with the i-th non-target clean row (as in ssti_hf configs); omitted when the two sets do
        not pair up (different counts or labels) or no such clean row is predicted correctly.

Examples:

    >>> ssti_gap = evaluate.load("metrics/ssti_gap")
    >>> results = ssti_gap.compute(
    ...     predictions=[0, 1, 0, 1, 1, 1, 1, 1],
    ...     references=[0, 1, 0, 1, 0, 1, 0, 1],
    ...     subset=["clean"] * 4 + ["triggered"] * 4,
    ...     target_label=1,
    ... )
    >>> print(results)
    {'clean_balanced_accuracy': 1.0, 'triggered_balanced_accuracy': 0.5, 'predicted_counts': {'clean': {0: 2, 1: 2}, 'triggered': {0: 0, 1: 4}}, 'asr': 1.0, 'flip_rate': 1.0}
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
        scores.check_gap_kwargs(**{k: v for k, v in kwargs.items() if k not in self._feature_names()})
        return super().compute(predictions=predictions, references=references, **kwargs)

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add a batch of predictions, references and subset names to the metric's stack.
        """
        # evaluate appends the inputs description to this docstring, so it must have one.
        # Checked here, before evaluate writes anything, so that a bad batch leaves no rows behind
        # and the message names every length (evaluate's own message names only two columns).
        scores.check_lengths({"predictions": predictions, "references": references, **kwargs})
        scores.check_integer_labels("predictions", predictions)
        scores.check_integer_labels("references", references)
        if kwargs.get("subset") is not None:
            scores.check_subsets(kwargs["subset"])
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    def _compute(self, predictions, references, subset, target_label=None, num_labels=None):
        return scores.ssti_gap(predictions, references, subset, target_label=target_label, num_labels=num_labels)
