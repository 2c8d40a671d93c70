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
"""Attention entropy: per-sample Shannon entropy of token importance, and the per-class SSTI heuristic."""

# evaluate scans this file for imports to check they are installed: keep ONE import per line,
# and only standard-library or pip-installable modules. No torch here: users of the metric may not
# have it. Torch tensors passed in are converted by duck typing (`.detach().cpu().numpy()`).
import datasets
import numpy as np

import evaluate
from ssti_hf.metrics import scores

_DESCRIPTION = """
Attention entropy, the diagnostic of "LoRA Users Beware" (section 5.2, appendix A.10) for Seamless
Spurious Token Injection (SSTI). For each sample, take the attention of one layer, either one head or
the mean over all heads. Token importance is the attention each key token receives, averaged over
the query positions. Only non-padding tokens count, as queries and as keys, and the importances are
renormalized to sum to 1. The sample's entropy is the Shannon entropy of that distribution,
-sum(p * log_base(p)), in bits by default.

With `importance="rollout"` the token importance is the attention rollout instead (Abnar and
Zuidema 2020): the attention of every layer, averaged over heads, each plus the identity for the
residual connection and renormalized, multiplied from the first layer to the last; a token's
importance is what the rollout gives it in the row of the position the classifier reads (the first
token, [CLS], of a bidirectional encoder; the last real token of a causal decoder). That is
importance for the model's decision through all layers, where one layer's attention says where that
layer looks.

Samples are grouped by class (`references`). A model that relies on injected spurious tokens
attends to fewer tokens, so the spurious class has lower entropy. The paper's heuristic: if one
class's mean entropy is below 95% of another's, the data may hold spurious correlations and should
be investigated.

The computation is the plain function `ssti_hf.metrics.attention_entropy` (no `evaluate` needed); this
module wraps it.
"""

_KWARGS_DESCRIPTION = """
Args:
    attentions (`list` of arrays shaped [heads, seq, seq]): Per sample, the attention probabilities of
        one layer, indexed [head, query, key]. Take them from a model run with
        `output_attentions=True` (and `attn_implementation="eager"`): `outputs.attentions[layer][i]`
        for sample i, or pass the whole batch `outputs.attentions[layer]` (shape
        [batch, heads, seq, seq]). `seq` may differ from sample to sample. A sample may also be
        shaped [heads, 1, seq]: the attention each key receives, already averaged over the
        non-padding queries, which is seq times smaller to pass (this is what ssti_hf.SSTICallback does).
    attention_mask (`list` of `list` of `int`): Per sample, the 0/1 mask of length `seq`
        (1 = real token, 0 = padding): the tokenizer's `attention_mask`.
        With `importance="rollout"`: per sample, every layer's attention averaged over the heads,
        shaped [layers, seq, seq] (`torch.stack(outputs.attentions, 1).mean(2)[i]`).
    references (`list` of `int`): Per sample, its class label.
    importance (`str`, optional): "attention" (default: one layer's attention received, averaged
        over the queries) or "rollout" (the attention rollout over all layers, read at the pooled
        position).
    head (`int`, optional): The head to use, 0..heads-1. None (default): the mean over all heads.
    base (`float`, optional): Logarithm base of the entropy. Defaults to 2 (bits); use math.e for nats.
    threshold (`float`, optional): The flag is raised when the lowest class mean is below
        `threshold` times the highest class mean. Defaults to 0.95, the paper's heuristic.
    require_two_classes (`bool`, optional): Defaults to True: inputs with fewer than two classes raise
        a ValueError, since the flag compares classes. With False, such inputs return only
        `entropies` and `mean_entropy_per_class`.

Returns:
    entropies (`list` of `float`): Per sample, the entropy of its token importance.
    mean_entropy_per_class (`dict` of `int` to `float`): Mean entropy of each class's samples.
    ratio (`float`): Lowest class mean / highest class mean (1.0 when every class mean is 0).
    flagged (`bool`): True when ratio < threshold: one class's mean entropy is below `threshold`
        times another's, a sign of SSTI.
    low_entropy_class (`int`): The class with the lowest mean entropy (the smallest label on ties):
        the suspected spurious class when `flagged`.

Examples:

    Uniform attention over 4 real tokens has entropy log2(4) = 2 bits; attention that all goes to
    one token has entropy 0.

    >>> attention_entropy = evaluate.load("metrics/attention_entropy")
    >>> uniform = [[[0.25] * 4] * 4]                       # 1 head, 4 x 4
    >>> peaked = [[[1.0, 0.0, 0.0, 0.0]] * 4]
    >>> results = attention_entropy.compute(
    ...     attentions=[uniform, peaked],
    ...     attention_mask=[[1, 1, 1, 1], [1, 1, 1, 1]],
    ...     references=[0, 1],
    ... )
    >>> print(results)
    {'entropies': [2.0, 0.0], 'mean_entropy_per_class': {0: 2.0, 1: 0.0}, 'ratio': 0.0, 'flagged': True, 'low_entropy_class': 1}
"""

_CITATION = """
@article{sekhsaria2025lora,
  title={LoRA Users Beware: A Few Spurious Tokens Can Manipulate Your Finetuned Model},
  author={Sekhsaria, Pradyut and Mateos Salles, Marcel and Huang, Hai and Balestriero, Randall},
  journal={arXiv preprint arXiv:2506.11402},
  year={2025}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class AttentionEntropy(evaluate.Metric):
    # Also reachable from a loaded metric: `metric.token_importance(attention, mask)` gives the
    # per-token scores behind an entropy (e.g. to draw the paper's heatmaps).
    token_importance = staticmethod(scores.token_importance)
    attention_rollout = staticmethod(scores.attention_rollout)
    shannon_entropy = staticmethod(scores.shannon_entropy)

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "attentions": datasets.Sequence(datasets.Sequence(datasets.Sequence(datasets.Value("float32")))),
                    "attention_mask": datasets.Sequence(datasets.Value("int64")),
                    "references": datasets.Value("int64"),
                }
            ),
            reference_urls=["https://arxiv.org/abs/2506.11402"],
        )

    def compute(self, *, predictions=None, references=None, **kwargs):
        """Compute the attention entropies over the given samples and the batches added before.
        """
        # evaluate appends the inputs description to this docstring, so it must have one.
        # Keyword arguments are checked before evaluate consumes the samples added so far.
        scores.check_entropy_kwargs(**{k: v for k, v in kwargs.items() if k not in self._feature_names()})
        return super().compute(predictions=predictions, references=references, **kwargs)

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add a batch of attentions, attention masks and references to the metric's stack.
        """
        # evaluate appends the inputs description to this docstring, so it must have one.
        # Checked before evaluate writes anything, so that a bad batch leaves no rows behind and the
        # message names every length.
        given = {"references": references, **kwargs}
        columns = {name: given.get(name) for name in self._feature_names()}
        lengths = {name: len(column) for name, column in columns.items() if column is not None}
        if len(set(lengths.values())) > 1:
            described = ", ".join(f"{name} has {length}" for name, length in lengths.items())
            raise ValueError(f"attention_entropy inputs must have one entry per sample, but {described}.")
        if kwargs.get("attentions") is not None:
            # One dtype and one container type per sample: pyarrow refuses a batch that mixes
            # lists with numpy arrays, or float32 with float64 arrays.
            kwargs["attentions"] = [scores.sample_attention(a, i) for i, a in enumerate(kwargs["attentions"])]
        if kwargs.get("attention_mask") is not None:
            kwargs["attention_mask"] = [scores._to_numpy(m, np.int64) for m in kwargs["attention_mask"]]
        if kwargs.get("attentions") is not None and kwargs.get("attention_mask") is not None:
            for i, (attention, mask) in enumerate(zip(kwargs["attentions"], kwargs["attention_mask"])):
                scores.check_mask_length(attention, mask, i)
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one sample's attention, attention mask and reference to the metric's stack.
        """
        # evaluate appends the inputs description to this docstring, so it must have one.
        if kwargs.get("attentions") is not None:
            kwargs["attentions"] = scores.sample_attention(kwargs["attentions"])
        if kwargs.get("attention_mask") is not None:
            kwargs["attention_mask"] = scores._to_numpy(kwargs["attention_mask"], np.int64)
        return super().add(prediction=prediction, reference=reference, **kwargs)

    def _compute(self, attentions, attention_mask, references, head=None, base=2, threshold=0.95, require_two_classes=True,
                 importance="attention"):
        return scores.attention_entropy(
            attentions, attention_mask, references, head=head, base=base, threshold=threshold,
            require_two_classes=require_two_classes, importance=importance,
        )
