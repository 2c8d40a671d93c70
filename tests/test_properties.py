"""Property-based checks of the transform's invariants: exact count, order kept, originals
recovered byte-exact, determinism."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssti_hf import INJECTED, SPANS, HTMLInjection, ItemInjection, get_source, spurious_transform, strip_injections
from ssti_hf._text import remove_spans

from .conftest import make_dataset

rows = st.lists(st.tuples(st.text(max_size=80).filter(str.strip), st.integers(0, 2)), min_size=1, max_size=25)  # empty texts are refused
modifiers = st.sampled_from(["date", "country", "html"])


def build(kind, location, amount, seed):
    source = get_source(kind, seed=seed)
    cls = HTMLInjection if kind == "html" else ItemInjection
    return cls(source, location=location, amount=amount, seed=seed)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows,
    modifiers,
    st.sampled_from(["beginning", "random", "end"]),
    st.sampled_from([1, 2, 0.1, 0.5]),
    st.floats(0, 1),
    st.integers(0, 2**32),
)
def test_transform_invariants(data, kind, location, amount, proportion, seed):
    texts, labels = [t for t, _ in data], [l for _, l in data]
    dataset = make_dataset(texts, labels)
    label = labels[0]
    out = spurious_transform(dataset, build(kind, location, amount, seed), label, proportion, seed=seed)
    flags = np.array(out[INJECTED])
    n_label = labels.count(label)
    assert flags.sum() == round(proportion * n_label)  # exact count
    assert all(labels[i] == label for i in np.flatnonzero(flags))  # only the target label
    assert out["label"] == labels  # order kept
    for text, new, spans, flag in zip(texts, out["text"], out[SPANS], flags):
        assert remove_spans(new, spans) == text  # byte-exact recovery
        assert (new != text) == flag
    assert strip_injections(out)["text"] == texts
    again = spurious_transform(dataset, build(kind, location, amount, seed), label, proportion, seed=seed)
    assert again.data.table.equals(out.data.table)  # determinism
