"""Interning of arbitrary hashable keys into dense ``int64`` ids (private helpers).

Both solvers work on integer ids; callers pass whatever keys they like (ints, strings, tuples,
mixed). Lookups follow Python ``dict`` semantics (``1 == 1.0 == True``). When every key and
every looked-up value is exactly ``int`` (the usual database ids), a vectorised path gives the
same answer without one dict probe per element: on large inputs those random probes cost
~0.4 us each and would dominate the whole match.
"""

from __future__ import annotations

import gc
from collections.abc import Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain, repeat

import numpy as np

__all__ = ["gc_paused", "index_of", "int_keys", "lengths", "positions", "stable_argsort_bounded"]

# A lookup table is used for int keys whose span is at most this many slots per key.
_LUT_SLOTS_PER_KEY = 4


def lengths(seqs: Sequence[Sequence[object]]) -> np.ndarray:
    """``len`` of every sequence as an ``int64`` array. O(len(seqs))."""
    return np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))


def index_of(keys: Sequence[Hashable]) -> dict[Hashable, int]:
    """Map each key to its position. Keys must be distinct (they come from a mapping). O(n)."""
    return dict(zip(keys, range(len(keys)), strict=True))


def _to_int64(values: Iterable[object], count: int) -> np.ndarray | None:
    try:
        return np.fromiter(values, dtype=np.int64, count=count)
    except OverflowError:  # ints beyond int64: fall back to the generic path
        return None


def int_keys(keys: Sequence[Hashable]) -> np.ndarray | None:
    """``keys`` as an ``int64`` array when all are exactly ``int`` and fit, else ``None``. O(n)."""
    # Exact type check: numpy would silently turn '12', 1.5 or True into ints.
    if not set(map(type, keys)) <= {int}:
        return None
    return _to_int64(keys, len(keys))


def positions(
    groups: Sequence[Iterable[Hashable]],
    total: int,
    keys: Sequence[Hashable],
    index: dict[Hashable, int],
    *,
    keys_as_ints: np.ndarray | None = None,
) -> np.ndarray:
    """Position in ``keys`` of every element of the concatenated ``groups``; -1 when absent.

    ``total`` must equal the number of elements. ``index`` is ``index_of(keys)`` and
    ``keys_as_ints`` is ``int_keys(keys)`` (pass it to avoid recomputing). Output order follows
    the input order. O(total) expected; the int path is O(total) with a lookup table when the
    keys are dense and O(total log n) otherwise.
    """
    if total == 0:
        return np.empty(0, dtype=np.int64)
    if keys_as_ints is not None and set(map(type, chain.from_iterable(groups))) <= {int}:
        values = _to_int64(chain.from_iterable(groups), total)
        if values is not None:
            return _int_positions(values, keys_as_ints)
    return np.fromiter(
        map(index.get, chain.from_iterable(groups), repeat(-1)), dtype=np.int64, count=total
    )


def _int_positions(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    out = np.full(len(values), -1, dtype=np.int64)
    if len(keys) == 0:
        return out
    lo, hi = int(keys.min()), int(keys.max())
    span = hi - lo + 1
    if span <= _LUT_SLOTS_PER_KEY * len(keys) + 1024:
        lut = np.full(span, -1, dtype=np.int64)
        lut[keys - lo] = np.arange(len(keys))
        inside = (values >= lo) & (values <= hi)  # mask first: values - lo may overflow
        out[inside] = lut[values[inside] - lo]
        return out
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    pos = np.minimum(np.searchsorted(ordered, values), len(keys) - 1)
    found = ordered[pos] == values
    out[found] = order[pos[found]]
    return out


def stable_argsort_bounded(values: np.ndarray, upper: int) -> np.ndarray:
    """Stable argsort of non-negative ints ``< upper``.

    LSD radix over 16-bit digits, because numpy's stable sort of ``uint16`` is a radix sort:
    O(len(values) * ceil(log2(upper) / 16)) instead of a comparison sort (~5x faster here).
    """
    order = np.argsort((values & 0xFFFF).astype(np.uint16), kind="stable")
    shift = 16
    while (max(upper, 1) - 1) >> shift:
        digits = ((values[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digits, kind="stable")]
        shift += 16
    return order


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (restored even on error).

    Building hundreds of thousands of small result tuples triggers full collections that walk
    every object the caller holds (their large input included): ~25% of a 300k-candidate run.
    Nothing built here forms reference cycles, so nothing is lost by collecting later.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
