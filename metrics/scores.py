"""The SSTI metrics as plain functions: numpy (and scikit-learn's balanced accuracy) in, a dict out,
no ``evaluate`` needed. The ``evaluate`` modules in ``metrics/<name>/`` wrap these.

    from ssti_hf.metrics import ssti_gap, attention_entropy
    ssti_gap(predictions, references, subset, target_label=1)
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

SUBSETS = ("clean", "spurious", "triggered")
_INT64 = np.iinfo(np.int64)


def _is_int(value) -> bool:
    """True for Python/numpy integers, False for bools (True is not a label)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


# -- ssti_gap ------------------------------------------------------------------------------------


def check_lengths(columns: dict) -> None:
    """Raise a ValueError naming every length when the input columns differ in length."""
    lengths = {name: len(column) for name, column in columns.items() if column is not None}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {length}" for name, length in lengths.items())
        raise ValueError(f"ssti_gap inputs must all have the same length, but {described}.")


def check_integer_labels(name: str, column) -> None:
    """Refuse what an int64 column would silently cast or overflow: 0.7 -> 0, "1" -> 1, True -> 1, 2**64."""
    if column is None:
        return
    if hasattr(column, "detach"):  # a torch tensor (torch itself is never imported here)
        column = column.detach().cpu().numpy()
    values = np.asarray(column)
    if values.dtype.kind == "f":
        bad = values[~np.isfinite(values) | (values != np.round(values))]
        if bad.size:
            raise ValueError(f"{name} must be integer class labels, got {bad.flat[0].item()!r} (take the argmax of the logits first).")
        big = values[(values < _INT64.min) | (values > _INT64.max)]
    elif values.dtype.kind == "u":
        big = values[values > _INT64.max]
    elif values.dtype.kind in "bUSO":
        items = column if isinstance(column, (list, tuple)) else values.flat  # numpy turned [0, "1"] into strings
        bad = [v for v in items if v is not None and not _is_int(v)]
        if bad:
            value = bad[0].item() if isinstance(bad[0], np.generic) else bad[0]
            raise ValueError(f"{name} must be integer class labels, got {value!r} of type {type(value).__name__}.")
        big = np.asarray([v for v in items if v is not None and not _INT64.min <= int(v) <= _INT64.max], dtype=object)
    else:
        return
    if big.size:
        raise ValueError(f"{name} holds {big.flat[0]!r}, which is not a class label (outside the 64-bit integers).")


def check_subsets(subset) -> None:
    unknown = sorted({repr(name) for name in subset if not isinstance(name, str) or name not in SUBSETS})
    if unknown:
        raise ValueError(f"Unknown subset name(s) {', '.join(unknown)}: each row's subset must be one of {list(SUBSETS)}.")


def check_gap_kwargs(target_label=None, num_labels=None, **unknown) -> None:
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


def ssti_gap(predictions, references, subset, target_label: int | None = None, num_labels: int | None = None) -> dict:
    """Balanced accuracy of each set present ("clean", "spurious", "triggered"), the gap (spurious
    minus clean), the predicted counts, and with ``target_label`` the attack success rate (``asr``:
    triggered rows not of the target predicted as the target) and the ``flip_rate`` (the backdoor
    literature's conditional ASR: of the rows not of the target predicted correctly when clean, the
    share predicted as the target when triggered; the i-th such triggered row is the i-th such
    clean row, as in ``ssti_hf`` configs, and it is omitted when the two sets do not pair up).
    See ``metrics/ssti_gap/README.md``."""
    from sklearn.metrics import balanced_accuracy_score

    check_lengths({"predictions": predictions, "references": references, "subset": subset})
    check_integer_labels("predictions", predictions)
    check_integer_labels("references", references)
    check_subsets(subset)
    check_gap_kwargs(target_label=target_label, num_labels=num_labels)
    if len(subset) == 0:
        raise ValueError("ssti_gap got no rows: pass predictions, references and subset (or add_batch them first).")
    for name, values in (("predictions", predictions), ("references", references)):
        missing = [i for i, value in enumerate(values) if value is None]
        if missing:
            raise ValueError(f"{name} has a missing label (None) at row {missing[0]}.")

    predictions = np.asarray(predictions, dtype=np.int64)
    references = np.asarray(references, dtype=np.int64)
    subset = np.asarray(subset, dtype=object)

    labels = set(predictions.tolist()) | set(references.tolist())
    if num_labels is not None:
        for name, values in (("predictions", predictions), ("references", references)):
            bad = values[(values < 0) | (values >= num_labels)]
            if bad.size:
                raise ValueError(f"{name} contains label {int(bad[0])}, outside 0..{num_labels - 1} (num_labels={num_labels}).")
        if target_label is not None and not 0 <= target_label < num_labels:
            raise ValueError(f"target_label {target_label} is outside 0..{num_labels - 1} (num_labels={num_labels}).")
        labels |= set(range(num_labels))
    elif target_label is not None and target_label not in labels:
        raise ValueError(
            f"target_label {target_label} is none of the labels of the rows ({', '.join(map(str, sorted(labels)))}); "
            f"pass num_labels if it is a class that no row has or predicts."
        )
    labels = sorted(labels)

    results, counts = {}, {}
    for name in SUBSETS:
        rows = subset == name
        if not rows.any():
            continue
        with warnings.catch_warnings():
            # A set whose references hold a single class (e.g. a triggered set of one class) is
            # legitimate: balanced accuracy is then that class's recall.
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
            clean = (subset == "clean") & (references != target_label)
            # paired row by row: the same non-target rows, in the same order, clean and triggered
            if clean.sum() == attacked.sum() and np.array_equal(references[clean], references[attacked]):
                correct = predictions[clean] == references[clean]
                if correct.any():
                    results["flip_rate"] = float(np.mean(predictions[attacked][correct] == target_label))
    return results


# -- attention_entropy ---------------------------------------------------------------------------


def _to_numpy(value, dtype):
    """A numpy array from a list, a numpy array or a tensor (torch is never imported here)."""
    if hasattr(value, "detach"):  # a torch tensor, possibly on GPU or requiring grad
        value = value.detach().cpu()
        if hasattr(value, "float"):
            value = value.float()
        value = value.numpy()
    return np.asarray(value, dtype=dtype)


def sample_attention(attention, index=None):
    """One sample's attention as a float32 numpy array shaped [heads, seq, seq] (or [heads, 1, seq])."""
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


def check_mask_length(attention, mask, index=None) -> None:
    where = "" if index is None else f" (sample {index})"
    seq_len = attention.shape[-1]
    if mask.ndim != 1 or mask.shape[0] != seq_len:
        size = f"length {mask.shape[0]}" if mask.ndim == 1 else f"shape {mask.shape}"
        raise ValueError(f"attention_mask{where} has {size}, but the attention's sequence length is {seq_len}: they must match.")


def token_importance(attention, attention_mask, head=None, index=None):
    """Token importance of one sample: a probability distribution over its non-padding tokens.

    Args:
        attention: array-like [heads, seq, seq], indexed [head, query, key] (or [heads, 1, seq]:
            already averaged over the non-padding queries).
        attention_mask: array-like [seq] of 0/1.
        head: None for the mean over heads, or the head index (0..heads-1).
        index: the sample's position, only used in error messages.

    Returns:
        A float64 numpy array over the non-padding positions (in order), summing to 1: the attention
        each non-padding key receives, averaged over the non-padding queries, renormalized.
    """
    where = "" if index is None else f" (sample {index})"
    attention = sample_attention(attention, index).astype(np.float64)
    mask = _to_numpy(attention_mask, np.float64)
    num_heads = attention.shape[0]
    check_mask_length(attention, mask, index)
    if not np.isin(mask, (0, 1)).all():
        raise ValueError(f"attention_mask{where} must hold only 0 and 1, got values {sorted(set(mask.tolist()))}.")
    if head is None:
        matrix = attention.mean(axis=0)
    else:
        if not _is_int(head):
            raise ValueError(f"head must be an int or None, got {head!r}.")
        if not 0 <= head < num_heads:
            raise ValueError(f"head {head} is out of range: the attention{where} has {num_heads} heads (0..{num_heads - 1}).")
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
    layers = sample_attention(attentions, index).astype(np.float64)
    if layers.shape[1] != layers.shape[2]:
        raise ValueError(f"attentions{where} for a rollout must be shaped [layers, seq, seq], got {layers.shape}.")
    mask = _to_numpy(attention_mask, np.float64)
    check_mask_length(layers, mask, index)
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


def shannon_entropy(probabilities, base=2) -> float:
    """-sum(p * log_base(p)), with 0 * log(0) = 0."""
    p = np.asarray(probabilities, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() / math.log(base)) + 0.0  # + 0.0 turns -0.0 into 0.0


IMPORTANCES = ("attention", "rollout")


def check_entropy_kwargs(head=None, base=2, threshold=0.95, require_two_classes=True, importance="attention", **unknown) -> None:
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


def attention_entropy(attentions, attention_mask, references, head=None, base=2, threshold=0.95, require_two_classes=True,
                      importance="attention") -> dict:
    """Per sample, the Shannon entropy of its token importance (``importance``: one layer's
    attention, or the rollout over every layer); per class, the mean; and the paper's flag
    (``flagged``: the lowest class mean below ``threshold`` times the highest). See
    ``metrics/attention_entropy/README.md``."""
    if not (len(attentions) == len(attention_mask) == len(references)):
        raise ValueError(
            f"attention_entropy inputs must have one entry per sample, but attentions has {len(attentions)}, "
            f"attention_mask has {len(attention_mask)}, references has {len(references)}."
        )
    if len(references) == 0:
        raise ValueError("attention_entropy got no samples.")
    check_entropy_kwargs(head=head, base=base, threshold=threshold, require_two_classes=require_two_classes, importance=importance)

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
    per_class: dict[int, list[float]] = {}
    for label, entropy in zip((int(label) for label in references), entropies):
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
