"""Counter-based randomness: every random choice is a pure function of (seed, stream, counter).

Why not ``random.Random``: a stateful generator makes row ``i``'s outcome depend on how many
draws earlier rows made, so ``Dataset.map(num_proc=4)`` (which splits rows across processes)
would give different bytes than ``num_proc=1``. Hashing the row index instead gives the same
outcome whatever the batching, the process count or the row order, and does not depend on the
Python or NumPy version. The hash is SplitMix64's finalizer, a well-studied 64-bit mixer.

The scalar (Python int) and vector (NumPy uint64) versions must agree bit for bit; a test checks it.
"""

from __future__ import annotations

import numpy as np

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_TO_UNIT = 2.0**-53

# One stream per kind of choice, so that e.g. the rows picked and the items drawn never share bits.
STREAM_SELECT = 1  # which rows of the target label get injected
STREAM_ITEM = 2  # which item a source gives for a draw
STREAM_POSITION = 3  # where a modifier inserts
STREAM_PERMUTE = 4  # permutation for sampling without replacement
STREAM_DIVERSITY = 5  # which k items make up a restricted sample space
STREAM_LABEL = 6  # which label an untargeted label flip picks
STREAM_SEED = 7  # child seeds derived from a parent seed


def check_seed(seed, what: str = "seed") -> None:
    """A seed is an int >= 0 (a string or a float would hash differently from the int it shows)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{what} must be an int >= 0, got {seed!r}")


def mix64(x: int) -> int:
    """SplitMix64 finalizer of a Python int (taken modulo 2**64)."""
    z = (x + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def mix64_array(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer of a uint64 array (NumPy arithmetic wraps modulo 2**64)."""
    z = x.astype(np.uint64) + np.uint64(_GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def stream_key(seed: int, stream: int, *parts: int) -> int:
    """A 64-bit key for one stream of one seeded object (and optional sub-keys, e.g. a row)."""
    key = mix64((seed & _MASK) ^ mix64(stream))
    for part in parts:
        key = mix64(key ^ (part & _MASK))
    return key


def hash_at(key: int, counter: int) -> int:
    """The ``counter``-th 64-bit value of the stream ``key``."""
    return mix64((key + counter * _GOLDEN) & _MASK)


def hash_array(key, counters: np.ndarray) -> np.ndarray:
    """Vector form of :func:`hash_at`; ``key`` is one key or one per counter."""
    return mix64_array(np.asarray(key, dtype=np.uint64) + counters.astype(np.uint64) * np.uint64(_GOLDEN))


def index_at(key: int, counter: int, n: int) -> int:
    """A uniform integer in ``[0, n)``: the top 53 bits as a float in [0, 1), scaled."""
    return int((hash_at(key, counter) >> 11) * _TO_UNIT * n)


def index_array(key, counters: np.ndarray, n) -> np.ndarray:
    """Vector form of :func:`index_at` (same float arithmetic, so the same integers); ``key`` and
    ``n`` may be arrays, one per counter."""
    unit = (hash_array(key, counters) >> np.uint64(11)).astype(np.float64) * _TO_UNIT
    return (unit * n).astype(np.int64)


def row_keys(seed: int, stream: int, rows: np.ndarray, salt: int = 0) -> np.ndarray:
    """Vector form of :func:`row_key` for many rows."""
    keys = mix64_array(np.uint64(stream_key(seed, stream)) ^ rows.astype(np.uint64))
    return mix64_array(keys ^ np.uint64(salt & _MASK)) if salt else keys


def row_key(seed: int, stream: int, row: int, salt: int = 0) -> int:
    """The key of one row's choices in one stream; ``salt`` separates modifiers that share a
    seed inside one chain (a :class:`~ssti_hf.CompositeModifier` salts each child)."""
    return stream_key(seed, stream, row, salt) if salt else stream_key(seed, stream, row)


def unit_at(key: int, counter: int) -> float:
    """A uniform float in ``[0, 1)``."""
    return (hash_at(key, counter) >> 11) * _TO_UNIT


def name_key(name: str) -> int:
    """A 64-bit key for a name (stable across processes, unlike ``hash(str)``)."""
    key = mix64(STREAM_SEED)
    for byte in name.encode():
        key = mix64(key ^ byte)
    return key


def child_seed(seed: int, name: str) -> int:
    """A seed for a named part (``"source"``, ``"modifier"``) derived from a parent seed."""
    return mix64(stream_key(seed, STREAM_SEED) ^ name_key(name)) >> 1  # a non-negative int that fits in int64


class FeistelPermutation:
    """A seeded bijection of ``[0, n)``, evaluated one point at a time (no O(n) table).

    Four balanced Feistel rounds on the smallest even bit width covering ``n``, with cycle
    walking to stay inside ``[0, n)``. Sampling without replacement is then ``perm(counter)``.
    """

    def __init__(self, n: int, key: int):
        if n < 1:
            raise ValueError(f"a permutation needs n >= 1, got {n}")
        self.n = n
        bits = max(2, (n - 1).bit_length())
        bits += bits % 2
        self._half = bits // 2
        self._mask = (1 << self._half) - 1
        self._keys = [mix64(key ^ mix64(r + 1)) for r in range(4)]

    def __call__(self, i: int) -> int:
        if not 0 <= i < self.n:
            raise IndexError(f"permutation index {i} outside [0, {self.n})")
        x = i
        while True:
            left, right = x >> self._half, x & self._mask
            for k in self._keys:
                left, right = right, left ^ (mix64(k ^ right) & self._mask)
            x = (left << self._half) | right
            if x < self.n:
                return x

    def array(self, counters: np.ndarray) -> np.ndarray:
        """Vector form of ``__call__``."""
        x = counters.astype(np.uint64)
        todo = np.ones(len(x), dtype=bool)
        half, mask = np.uint64(self._half), np.uint64(self._mask)
        while todo.any():
            left, right = x[todo] >> half, x[todo] & mask
            for k in self._keys:
                left, right = right, left ^ (mix64_array(np.uint64(k) ^ right) & mask)
            x[todo] = (left << half) | right
            todo = x >= np.uint64(self.n)
        return x.astype(np.int64)

