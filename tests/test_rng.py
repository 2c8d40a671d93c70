import numpy as np
import pytest

from ssti_hf import _rng


def test_scalar_and_vector_hashes_agree():
    key = _rng.stream_key(42, _rng.STREAM_ITEM, 7)
    counters = np.arange(5000)
    assert [_rng.hash_at(key, c) for c in range(5000)] == _rng.hash_array(key, counters).tolist()
    for n in (1, 2, 37, 548229):
        assert [_rng.index_at(key, c, n) for c in range(5000)] == _rng.index_array(key, counters, n).tolist()


def test_row_keys_match_stream_key():
    rows = np.array([0, 1, 5, 123456789])
    assert _rng.row_keys(3, _rng.STREAM_POSITION, rows).tolist() == [
        _rng.stream_key(3, _rng.STREAM_POSITION, int(r)) for r in rows
    ]


def test_indices_are_uniform_enough():
    counts = np.bincount(_rng.index_array(_rng.stream_key(0, 1), np.arange(60000), 6), minlength=6)
    assert counts.min() > 9500 and counts.max() < 10500


@pytest.mark.parametrize("n", [1, 2, 3, 10, 1000, 4097])
def test_feistel_is_a_bijection_and_vectorizes(n):
    perm = _rng.FeistelPermutation(n, _rng.stream_key(9, _rng.STREAM_PERMUTE))
    values = [perm(i) for i in range(n)]
    assert sorted(values) == list(range(n))
    assert perm.array(np.arange(n)).tolist() == values


def test_feistel_rejects_out_of_range():
    perm = _rng.FeistelPermutation(10, 1)
    with pytest.raises(IndexError):
        perm(10)


def test_child_seeds_differ_by_name_and_parent():
    seeds = {_rng.child_seed(s, name) for s in (0, 1) for name in ("source", "modifier")}
    assert len(seeds) == 4 and all(0 <= s < 2**63 for s in seeds)
