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
import math
import numbers

import datasets
import numpy as np

import evaluate


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


def _is_int(value):
    """True for Python/numpy integers, False for bools."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _to_numpy(value, dtype):
    """A numpy array from a list, a numpy array or a tensor (torch is never imported here)."""
    if hasattr(value, "detach"):  # a torch tensor, possibly on GPU or requiring grad
        value = value.detach().cpu()
        if hasattr(value, "float"):
            value = value.float()
        value = value.numpy()
    return np.asarray(value, dtype=dtype)


def _sample_attention(attention, index=None):
    """One sample's attention as a float32 numpy array shaped [heads, seq, seq]."""
    where = "" if index is None else f" (sample {index})"
    try:
        attention = _to_numpy(attention, np.float32)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"attentions{where} must be a rectangular [heads, seq, seq] array: {error}") from None
    if attention.ndim != 3 or attention.shape[1] not in (1, attention.shape[2]):
        raise ValueError(
            f"attentions{where} must be shaped [heads, seq, seq] (or [heads, 1, seq], already averaged over "
            f"the queries) for one layer, got shape {attention.shape}. Pick the layer first: outputs.attentions[layer][i]."
        )
    return attention


def _check_mask_length(attention, mask, index=None):
    where = "" if index is None else f" (sample {index})"
    seq_len = attention.shape[-1]
    if mask.ndim != 1 or mask.shape[0] != seq_len:
        size = f"length {mask.shape[0]}" if mask.ndim == 1 else f"shape {mask.shape}"
        raise ValueError(
            f"attention_mask{where} has {size}, but the attention's sequence length is {seq_len}: they must match."
        )


def token_importance(attention, attention_mask, head=None, index=None):
    """Token importance of one sample: a probability distribution over its non-padding tokens.

    Args:
        attention: array-like [heads, seq, seq], indexed [head, query, key].
        attention_mask: array-like [seq] of 0/1.
        head: None for the mean over heads, or the head index (0..heads-1).
        index: the sample's position, only used in error messages.

    Returns:
        A float64 numpy array over the non-padding positions (in order), summing to 1: the attention
        each non-padding key receives, averaged over the non-padding queries, renormalized.
    """
    where = "" if index is None else f" (sample {index})"
    attention = _sample_attention(attention, index).astype(np.float64)
    mask = _to_numpy(attention_mask, np.float64)
    num_heads = attention.shape[0]
    _check_mask_length(attention, mask, index)
    if not np.isin(mask, (0, 1)).all():
        raise ValueError(f"attention_mask{where} must hold only 0 and 1, got values {sorted(set(mask.tolist()))}.")
    if head is None:
        matrix = attention.mean(axis=0)
    else:
        if not _is_int(head):
            raise ValueError(f"head must be an int or None, got {head!r}.")
        if not 0 <= head < num_heads:
            raise ValueError(
                f"head {head} is out of range: the attention{where} has {num_heads} heads (0..{num_heads - 1})."
            )
        matrix = attention[head]
    keep = mask.astype(bool)
    if not keep.any():
        raise ValueError(f"attention_mask{where} has no non-padding token: its entropy is undefined.")
    # Rows = non-padding queries, columns = non-padding keys; a single row is already the average
    # over the non-padding queries (cheap to pass: seq numbers per head instead of seq * seq).
    kept = matrix[:, keep] if matrix.shape[0] == 1 else matrix[np.ix_(keep, keep)]
    if not np.isfinite(kept).all() or (kept < 0).any():
        raise ValueError(f"attentions{where} must be finite non-negative attention probabilities.")
    received = kept.mean(axis=0)  # attention each key receives, averaged over the queries
    total = received.sum()
    if total <= 0:
        raise ValueError(f"attentions{where} give the non-padding tokens no attention at all: entropy is undefined.")
    return received / total


def attention_rollout(attentions, attention_mask, index=None):
    """Token importance by attention rollout: a probability distribution over the real tokens.

    Args:
        attentions: array-like [layers, seq, seq], each layer's attention averaged over its heads,
            indexed [layer, query, key], first layer first.
        attention_mask: array-like [seq] of 0/1.
        index: the sample's position, only used in error messages.

    Returns:
        A float64 numpy array over the non-padding positions, summing to 1: the row of the rollout
        at the position the classifier reads (the first real token, or the last one where the first
        token attends to nothing after itself in any layer: a causal model).
    """
    where = "" if index is None else f" (sample {index})"
    layers = _sample_attention(attentions, index).astype(np.float64)
    if layers.shape[1] != layers.shape[2]:
        raise ValueError(f"attentions{where} for a rollout must be shaped [layers, seq, seq], got {layers.shape}.")
    mask = _to_numpy(attention_mask, np.float64)
    _check_mask_length(layers, mask, index)
    if not np.isin(mask, (0, 1)).all():
        raise ValueError(f"attention_mask{where} must hold only 0 and 1, got values {sorted(set(mask.tolist()))}.")
    keep = mask.astype(bool)
    if not keep.any():
        raise ValueError(f"attention_mask{where} has no non-padding token: its entropy is undefined.")
    layers = layers[:, keep][:, :, keep]
    if not np.isfinite(layers).all() or (layers < 0).any():
        raise ValueError(f"attentions{where} must be finite non-negative attention probabilities.")
    identity = np.eye(layers.shape[-1])
    rollout = identity
    for layer in layers:  # the residual stream carries half of each token through every layer
        mixed = 0.5 * layer + 0.5 * identity
        rollout = (mixed / mixed.sum(axis=-1, keepdims=True)) @ rollout
    causal = layers.shape[-1] > 1 and not layers[:, 0, 1:].any()
    return rollout[-1 if causal else 0]


def shannon_entropy(probabilities, base=2):
    """-sum(p * log_base(p)), with 0 * log(0) = 0."""
    p = np.asarray(probabilities, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() / math.log(base)) + 0.0  # + 0.0 turns -0.0 into 0.0


IMPORTANCES = ("attention", "rollout")


def _check_compute_kwargs(head=None, base=2, threshold=0.95, require_two_classes=True, importance="attention", **unknown):
    if unknown:
        raise ValueError(
            f"Unknown attention_entropy keyword argument(s) {sorted(unknown)}: the keyword arguments are "
            f"importance, head, base, threshold and require_two_classes (inputs: attentions, attention_mask, references)."
        )
    if importance not in IMPORTANCES:
        raise ValueError(f"importance must be one of {list(IMPORTANCES)}, got {importance!r}.")
    if importance == "rollout" and head is not None:
        raise ValueError("a rollout averages every layer over its heads: pass head=None with importance='rollout'.")
    if head is not None and not _is_int(head):
        raise ValueError(f"head must be an int or None, got {head!r}.")
    if head is not None and head < 0:
        raise ValueError(f"head {head} is out of range: heads are numbered from 0.")
    if isinstance(base, bool) or not isinstance(base, numbers.Real) or not base > 0 or base == 1:
        raise ValueError(f"base must be a positive number other than 1, got {base!r}.")
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0 < threshold <= 1:
        raise ValueError(f"threshold must be a number in (0, 1], got {threshold!r}.")
    if not isinstance(require_two_classes, (bool, np.bool_)):
        raise ValueError(f"require_two_classes must be True or False, got {require_two_classes!r}.")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class AttentionEntropy(evaluate.Metric):
    # Also reachable from a loaded metric: `metric.token_importance(attention, mask)` gives the
    # per-token scores behind an entropy (e.g. to draw the paper's heatmaps).
    token_importance = staticmethod(token_importance)
    attention_rollout = staticmethod(attention_rollout)
    shannon_entropy = staticmethod(shannon_entropy)

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
        _check_compute_kwargs(**{k: v for k, v in kwargs.items() if k not in self._feature_names()})
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
            kwargs["attentions"] = [_sample_attention(a, i) for i, a in enumerate(kwargs["attentions"])]
        if kwargs.get("attention_mask") is not None:
            kwargs["attention_mask"] = [_to_numpy(m, np.int64) for m in kwargs["attention_mask"]]
        if kwargs.get("attentions") is not None and kwargs.get("attention_mask") is not None:
            for i, (attention, mask) in enumerate(zip(kwargs["attentions"], kwargs["attention_mask"])):
                _check_mask_length(attention, mask, i)
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one sample's attention, attention mask and reference to the metric's stack.
        """
        # evaluate appends the inputs description to this docstring, so it must have one.
        if kwargs.get("attentions") is not None:
            kwargs["attentions"] = _sample_attention(kwargs["attentions"])
        if kwargs.get("attention_mask") is not None:
            kwargs["attention_mask"] = _to_numpy(kwargs["attention_mask"], np.int64)
        return super().add(prediction=prediction, reference=reference, **kwargs)

    def _compute(
        self, attentions, attention_mask, references, head=None, base=2, threshold=0.95, require_two_classes=True,
        importance="attention",
    ):
        if not (len(attentions) == len(attention_mask) == len(references)):
            raise ValueError(
                f"attention_entropy inputs must have one entry per sample, but attentions has {len(attentions)}, "
                f"attention_mask has {len(attention_mask)}, references has {len(references)}."
            )
        if len(references) == 0:
            raise ValueError("attention_entropy got no samples.")
        _check_compute_kwargs(head=head, base=base, threshold=threshold, require_two_classes=require_two_classes,
                              importance=importance)

        def importances(i, attention, mask):
            if importance == "rollout":
                return attention_rollout(attention, mask, index=i)
            return token_importance(attention, mask, head=head, index=i)

        entropies = [
            shannon_entropy(importances(i, attention, mask), base=base)
            for i, (attention, mask) in enumerate(zip(attentions, attention_mask))
        ]

        missing = [i for i, label in enumerate(references) if label is None]
        if missing:
            raise ValueError(f"references has a missing label (None) at sample {missing[0]}.")
        labels = [int(label) for label in references]
        per_class = {}
        for label, entropy in zip(labels, entropies):
            per_class.setdefault(label, []).append(entropy)
        means = {label: float(np.mean(per_class[label])) for label in sorted(per_class)}
        results = {"entropies": entropies, "mean_entropy_per_class": means}

        if len(means) < 2:
            if require_two_classes:
                raise ValueError(
                    f"attention_entropy compares classes, so the flag needs samples from at least two classes; "
                    f"got only class(es) {sorted(means)}. Pass require_two_classes=False to get the entropies alone."
                )
            return results

        low = min(means, key=lambda label: (means[label], label))
        highest = max(means.values())
        ratio = means[low] / highest if highest > 0 else 1.0
        results["ratio"] = float(ratio)
        results["flagged"] = bool(ratio < threshold)
        results["low_entropy_class"] = low
        return results
