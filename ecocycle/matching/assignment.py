"""Optimal assignment under capacities: maximum-cardinality, then maximum-weight b-matching via
min-cost flow. Each *member* gets at most one *host*; each host takes up to its capacity of
members. The platform uses it for mentees and their mentors, and for students and the partner
companies they are introduced to.

Network: one node per member (supply 1), one per host (demand = its capacity) and one arc
of capacity 1 per eligible (member, host) pair with unit cost ``-weight``. OR-Tools'
``solve_max_flow_with_min_cost`` first computes the maximum flow value F (= the largest number
of members that can be covered) and then the cheapest flow of value exactly F, i.e. the
heaviest assignment among those of maximum cardinality. This is exactly the lexicographic
objective, with no big-M constant inside the solver (a big-M only appears in the optimality
certificate of the sparse solve, computed exactly in int64 on our side).
"""

from __future__ import annotations

import operator
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import NamedTuple

import numpy as np
from ortools.graph.python import min_cost_flow

from ecocycle.matching._keys import (
    _int_positions,
    index_of,
    int_keys,
    positions,
    stable_argsort_bounded,
)
from ecocycle.matching._validate import checked_capacities, checked_fits

__all__ = ["MentorFit", "PairFit", "assign_mentors", "assign_optimal", "assign_optimal_arrays"]

# OR-Tools scales unit costs by ~3x the node count (measured: BAD_COST_RANGE beyond
# max|cost| ~ 2**63 / (2.7 * nodes)); keep max|cost| * nodes below 2**60.
_COST_HEADROOM = 1 << 60


class PairFit(NamedTuple):
    """One eligible pair; plain ``(member, host, weight)`` tuples work the same."""

    member: Hashable
    host: Hashable
    weight: float


def assign_optimal(
    fits: Iterable[tuple[Hashable, Hashable, float]],
    capacities: Mapping[Hashable, int],
    *,
    weight_scale: int = 1000,
) -> dict[Hashable, Hashable]:
    """Assign each member at most one host, covering as many members as possible, then
    maximising the total weight. Returns ``{member: host}`` for assigned members only.

    ``fits`` holds ``(member, host, weight)`` triples, one per eligible pair, ``weight >= 0``
    (int, float, Decimal...). Weights are compared after ``round(weight * weight_scale)``
    (round-half-even), so weights closer than ``1 / weight_scale`` may tie. ``capacities`` maps
    host -> maximum members (int >= 0).

    Invariants: a host gets at most its capacity; only listed pairs are used; the number of
    assigned members is maximum; among maximum assignments the total scaled weight is maximum.
    A pair listed several times counts once, with its largest weight. A host missing from
    ``capacities`` has capacity 0 (its pairs are ignored) so that a stale pair cannot over-fill
    anybody; members need no declaration.

    Tie-breaking: members and hosts are numbered in sorted key order when their keys are
    mutually orderable (e.g. all ints or all strs), else in order of first appearance (members
    in ``fits``, hosts in ``capacities``); arcs are added sorted by (member, host). OR-Tools'
    solver is deterministic, so equal inputs give equal outputs, and with orderable keys the
    result does not depend on the order of ``fits`` or ``capacities`` at all.

    Complexity: O(P) Python/numpy work plus sorts for P pairs, then OR-Tools' cost-scaling
    push-relabel (O(V^2 E log(V C)) worst case, near-linear in practice). From 200k pairs on
    the flow is first solved on a pruned network and proven optimal for the full one (see
    ``_solve_sparse``), falling back to the full network when the proof fails. Memory O(P + V).
    About 0.2 s for 300k pairs and 2.5-4 s / ~300 MB for 3M pairs on 2 cores.

    Raises ``ValueError`` for a malformed triple, a negative/NaN/infinite weight, a negative
    capacity, a non-positive ``weight_scale`` or weights too large for int64 costs; ``TypeError``
    for a capacity that is not an integer (``bool`` included) or a weight that is not a real
    number (``str`` and ``bool`` included), naming the key (see ``_validate``, shared with
    :func:`~ecocycle.matching.stable_match`). Numpy scalar keys are read as Python scalars.
    """
    weight_scale = operator.index(weight_scale)
    if weight_scale <= 0:
        raise ValueError("weight_scale must be positive")
    capacities = checked_capacities(capacities)
    host_keys = _canonical(list(capacities))
    caps = np.array([capacities[key] for key in host_keys], dtype=np.int64).reshape(-1)
    rows = fits if isinstance(fits, Sequence) else list(fits)
    if not rows:
        return {}
    _triples_check(rows)
    rows = checked_fits(rows)
    # Passed straight through so that no frame here keeps the intermediate arrays alive.
    return _solve(host_keys, caps, *_arcs(rows, host_keys, caps, weight_scale))


def assign_optimal_arrays(
    members: np.ndarray,
    hosts: np.ndarray,
    weights: np.ndarray,
    capacities: Mapping[Hashable, int],
    *,
    weight_scale: int = 1000,
) -> dict[Hashable, Hashable]:
    """:func:`assign_optimal` for pairs given column-wise: pair ``i`` is
    ``(members[i], hosts[i], weights[i])``, with integer member and host keys (database ids).

    The same result as ``assign_optimal(list(zip(members, hosts, weights)), capacities)``, with
    the same invariants, tie-breaking and errors for weights and capacities, but without a Python
    tuple per pair: a caller that scores millions of pairs with numpy hands them over as they are
    (member keys come back as Python ints). Raises ``ValueError`` for columns of different
    lengths or not one-dimensional, ``TypeError`` for keys that are not integers.
    """
    weight_scale = operator.index(weight_scale)
    if weight_scale <= 0:
        raise ValueError("weight_scale must be positive")
    capacities = checked_capacities(capacities)
    members, hosts = np.asarray(members), np.asarray(hosts)
    weights = np.asarray(weights)
    if not (members.ndim == hosts.ndim == weights.ndim == 1) or not (
        len(members) == len(hosts) == len(weights)
    ):
        raise ValueError("members, hosts and weights must be 1-D arrays of the same length")
    for name, column in (("member", members), ("host", hosts)):
        if len(column) and not np.issubdtype(column.dtype, np.integer):
            raise TypeError(f"{name} keys must be integers, not {column.dtype}")
    if len(weights) and not (
        np.issubdtype(weights.dtype, np.floating) or np.issubdtype(weights.dtype, np.integer)
    ):
        raise TypeError(f"weights must be real numbers, not {weights.dtype}")
    host_keys = _canonical(list(capacities))
    host_ints = int_keys(host_keys)
    if host_ints is None:
        # Hosts keyed by something else: the general path, with its dict semantics.
        return assign_optimal(
            list(zip(members.tolist(), hosts.tolist(), weights.tolist(), strict=True)),
            capacities,
            weight_scale=weight_scale,
        )
    caps = np.array([capacities[key] for key in host_keys], dtype=np.int64).reshape(-1)
    if not len(members):
        return {}
    member_keys = np.unique(members)  # sorted: the canonical numbering of int keys
    # Ids in int32 when every arc's (member, host) key fits: half the memory of millions of arcs.
    kind = np.int32 if len(member_keys) * max(len(host_keys), 1) < 2**31 else np.int64
    member_id = np.searchsorted(member_keys, members).astype(kind)
    host_id = _int_positions(hosts.astype(np.int64), host_ints).astype(kind)
    columns = [member_id, host_id, weights.astype(np.float64, copy=False)]
    del member_id, host_id, members, hosts, weights
    return _solve(host_keys, caps, *_arcs_from_ids(member_keys.tolist(), columns, caps,
                                                   weight_scale))


# The names from when the engine only assigned mentors: the same objects.
MentorFit = PairFit
assign_mentors = assign_optimal


def _arcs(
    rows: Sequence[tuple[Hashable, Hashable, float]],
    host_keys: list[Hashable],
    caps: np.ndarray,
    weight_scale: int,
) -> tuple[list[Hashable], np.ndarray, np.ndarray, np.ndarray]:
    """Validated, interned, canonically ordered and de-duplicated arcs.

    Returns member keys (canonical order) and, per arc, member id and host id (``int32``)
    and scaled weight (``int64``), sorted by (member, host), one arc per pair. Arcs to
    hosts without capacity are dropped. O(P) plus a radix sort.
    """
    count = len(rows)
    # Column-wise extraction: ~10x faster than zip(*rows) on millions of rows.
    members = list(map(itemgetter(0), rows))
    weights = np.fromiter(map(itemgetter(2), rows), dtype=np.float64, count=count)
    member_keys = _canonical(list(dict.fromkeys(members)))
    member_id = _ids(members, count, member_keys)
    del members  # large temporaries go as soon as possible: peak memory matters at 3M pairs
    columns = [member_id, _ids(_Column(rows, 1), count, host_keys), weights]
    del member_id, weights
    return _arcs_from_ids(member_keys, columns, caps, weight_scale)


def _arcs_from_ids(
    member_keys: list[Hashable],
    columns: list[np.ndarray],
    caps: np.ndarray,
    weight_scale: int,
) -> tuple[list[Hashable], np.ndarray, np.ndarray, np.ndarray]:
    """`_arcs` from ``columns``: the pairs' member ids, host ids (-1: unknown host) and float
    weights. The list is emptied, so that the caller's frame keeps none of them alive."""
    member_id, host_id, weights = columns
    columns.clear()
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("weights must be finite and >= 0")
    keep = host_id >= 0
    keep[keep] = caps[host_id[keep]] > 0
    everything = bool(keep.all())  # the usual case: no copies then
    scaled = weights * weight_scale if everything else weights[keep] * weight_scale
    del weights
    np.rint(scaled, out=scaled)
    n_nodes = len(member_keys) + len(caps)
    if len(scaled) and scaled.max() >= _COST_HEADROOM // (n_nodes + 2):
        raise ValueError("weights too large for int64 costs: lower weight_scale")
    w_int = scaled.astype(np.int64)
    del scaled
    if not everything:
        member_id, host_id = member_id[keep], host_id[keep]
    del keep

    # Canonical arc order (member, host); duplicates collapse to their largest weight.
    stride = max(len(caps), 1)
    key = member_id * stride + host_id
    if not len(key) or (key[1:] > key[:-1]).all():
        # Already in order, without duplicates (pairs scored mentee by mentee, mentor by
        # mentor): nothing to sort or collapse.
        del key
        return (member_keys, member_id.astype(np.int32, copy=False),
                host_id.astype(np.int32, copy=False), w_int)
    if (member_id[1:] >= member_id[:-1]).all():
        # Rows grouped by member (the usual query order): timsort merges the short runs ~3x
        # faster than the radix passes.
        order = np.argsort(key, kind="stable")
    else:
        order = stable_argsort_bounded(key, len(member_keys) * stride)
    key = key[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else key
    del key
    w_int = np.maximum.reduceat(w_int[order], first) if len(first) else w_int
    order = order[first]
    return (
        member_keys,
        member_id[order].astype(np.int32),
        host_id[order].astype(np.int32),
        w_int,
    )


def _triples_check(rows: Sequence[tuple[Hashable, Hashable, float]]) -> None:
    try:
        shapes = set(map(len, rows))
    except TypeError:
        shapes = set()
    if shapes != {3}:
        raise ValueError("every fit must be a (member, host, weight) triple")


def _ids(column: Iterable[Hashable], count: int, keys: list[Hashable]) -> np.ndarray:
    """The index in ``keys`` of every entry of ``column`` (-1 if absent)."""
    return positions((column,), count, keys, index_of(keys), keys_as_ints=int_keys(keys))


def _solve(
    host_keys: list[Hashable],
    caps: np.ndarray,
    member_keys: list[Hashable],
    member_id: np.ndarray,
    host_id: np.ndarray,
    w_int: np.ndarray,
) -> dict[Hashable, Hashable]:
    """Optimal assignment as ``{member: host}`` in member order.

    Large networks are first solved on a sparse subgraph whose optimality for the whole
    network is then proven (see :func:`_solve_sparse`); anything unproven falls back to the
    plain solve on every arc, so the result is always a lexicographic optimum.
    """
    arcs = (member_id, host_id, w_int, len(member_keys), caps)
    used = _solve_sparse(*arcs) if len(member_id) >= _SPARSE_MIN_ARCS else None
    if used is None:
        used = np.flatnonzero(_max_flow_min_cost(*arcs) > 0)
    return dict(
        zip(
            map(member_keys.__getitem__, member_id[used].tolist()),
            map(host_keys.__getitem__, host_id[used].tolist()),
            strict=True,
        )
    )


def _max_flow_min_cost(
    member_id: np.ndarray,
    host_id: np.ndarray,
    w_int: np.ndarray,
    n_members: int,
    caps: np.ndarray,
) -> np.ndarray:
    """Flow (0/1) on every arc of a lexicographically optimal assignment (OR-Tools)."""
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        member_id,
        host_id + np.int32(n_members),
        np.ones(len(member_id), dtype=np.int64),
        -w_int,
    )
    flow.set_nodes_supplies(
        np.arange(n_members + len(caps), dtype=np.int32),
        np.concatenate([np.ones(n_members, dtype=np.int64), -caps]),
    )
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status!r}")
    # Arcs were numbered 0..n-1 in insertion order.
    return np.asarray(flow.flows(np.arange(len(member_id), dtype=np.int32)))


# Sparsification: below this many arcs the plain solve is fast enough.
_SPARSE_MIN_ARCS = 200_000
# Arcs kept: each member's _MEMBER_TOP best; each host's _HOST_TOP * (capacity + 1) best.
_MEMBER_TOP = 3
_HOST_TOP = 4
# Rounds of "add the arcs that violate the certificate, re-solve" before the plain solve.
_SPARSE_ROUNDS = 3
# Bellman-Ford rounds allowed for the certificate (it typically needs ~30).
_MAX_RELAXATIONS = 300


def _solve_sparse(
    member_id: np.ndarray,
    host_id: np.ndarray,
    w_int: np.ndarray,
    n_members: int,
    caps: np.ndarray,
) -> np.ndarray | None:
    """Indices of the arcs used by an optimal assignment, or ``None`` when none was proven.

    The solver's time grows with the arcs, but an optimum rarely uses more than a member's few
    best arcs or a host's few best candidates. So solve on those only, then prove the
    result optimal for the whole network with LP duality: with ``M`` larger than any total
    weight, "max cardinality, then max weight" is the min-cost circulation with arc costs
    ``-(M + w)``; a solution is optimal iff its residual network has node potentials making
    every residual arc's reduced cost >= 0. Shortest distances in the sparse residual network
    are such potentials; if they also price every left-out arc at >= 0, the sparse optimum is
    optimal for the full network. Left-out arcs that fail the test are added and the sparse
    problem is solved again (column generation), a few times at most. ~2x faster at 3M arcs.
    """
    n_hosts = len(caps)
    w_max = int(w_int.max()) if len(w_int) else 0
    big_m = _sum_of_group_max(member_id, w_int) + 1  # > weight of any assignment
    n_nodes = n_members + n_hosts + 2
    rank_keys = max(n_members, n_hosts) * (w_max + 1)
    if (big_m + w_max) * (n_nodes + 1) >= _COST_HEADROOM or rank_keys >= _COST_HEADROOM:
        return None  # the certificate's or the ranking's int64 arithmetic could overflow
    keep = _group_rank(member_id, w_int, n_members, w_max) < _MEMBER_TOP
    keep |= _group_rank(host_id, w_int, n_hosts, w_max) < _HOST_TOP * (caps[host_id] + 1)
    for _ in range(_SPARSE_ROUNDS):
        sub = np.flatnonzero(keep)
        used = sub[
            _max_flow_min_cost(member_id[sub], host_id[sub], w_int[sub], n_members, caps) > 0
        ]
        potential = _residual_potentials(
            sub, used, member_id, host_id, w_int + big_m, n_members, caps
        )
        if potential is None:
            return None
        bad = _underpriced(np.flatnonzero(~keep), potential, member_id, host_id, w_int,
                           big_m, n_members)
        if not len(bad):
            return used
        keep[bad] = True
    return None


# Left-out arcs priced at once by `_underpriced`: bounds its temporaries at millions of arcs.
_PRICE_SLICE = 1 << 18


def _underpriced(out, potential, member_id, host_id, w_int, big_m, n_members) -> np.ndarray:
    """The arcs of `out` whose reduced cost under `potential` is negative, slice by slice."""
    bad = []
    for start in range(0, len(out), _PRICE_SLICE):
        arcs = out[start:start + _PRICE_SLICE]
        reduced = potential[member_id[arcs]] - potential[host_id[arcs] + n_members]
        bad.append(arcs[reduced < w_int[arcs] + big_m])
    return np.concatenate(bad) if bad else out[:0]


def _sum_of_group_max(group: np.ndarray, values: np.ndarray) -> int:
    # Arcs are sorted by member, so groups are contiguous.
    if not len(group):
        return 0
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    return int(np.maximum.reduceat(values, starts).sum())


def _group_rank(group: np.ndarray, w_int: np.ndarray, n_groups: int, w_max: int) -> np.ndarray:
    """0-based rank of each arc's weight within its group, heaviest first, ties by arc order."""
    # Half the memory in int32 when the keys fit (2,000 groups, weights to 1,000: they do).
    small = n_groups * (w_max + 1) < 2**31
    kind = np.int32 if small else np.int64
    key = group.astype(kind) * kind(w_max + 1)
    key += (w_max - w_int).astype(kind)
    order = _stable_argsort_small(key, n_groups * (w_max + 1))
    del key
    ordered_group = group[order]
    first = np.searchsorted(ordered_group, np.arange(n_groups))
    position = np.arange(len(order), dtype=kind)
    position -= first.astype(kind)[ordered_group]
    del ordered_group
    rank = np.empty(len(order), dtype=kind)
    rank[order] = position
    return rank


def _stable_argsort_small(key: np.ndarray, upper: int) -> np.ndarray:
    """``stable_argsort_bounded`` (a stable sort has one answer) for keys below ``2**32``,
    keeping the order in int32 between its two 16-bit passes: millions of arcs are ranked
    twice per solve, and these temporaries made the solve's peak memory."""
    if upper > 2**32 or len(key) >= 2**31:
        return stable_argsort_bounded(key, upper)
    order = np.argsort(key.astype(np.uint16), kind="stable").astype(np.int32)
    if upper > 1 << 16:
        high = key[order]
        high >>= 16
        order = order[np.argsort(high.astype(np.uint16), kind="stable")]
    return order


def _residual_potentials(
    sub: np.ndarray,
    used: np.ndarray,
    member_id: np.ndarray,
    host_id: np.ndarray,
    gain: np.ndarray,
    n_members: int,
    caps: np.ndarray,
) -> np.ndarray | None:
    """Shortest distances from a virtual root (0-cost arcs to every node) in the residual
    network of the circulation source -> member -> host -> sink -> source, where the used
    arcs carry one unit and a member -> host arc costs ``-gain``. ``None`` if Bellman-Ford
    has not converged after ``_MAX_RELAXATIONS`` rounds (then nothing is concluded)."""
    n_hosts = len(caps)
    source, sink = n_members + n_hosts, n_members + n_hosts + 1
    is_used = np.zeros(len(member_id), dtype=bool)
    is_used[used] = True
    flow = is_used[sub]
    member = member_id[sub].astype(np.int64)
    host = host_id[sub].astype(np.int64) + n_members
    matched = np.zeros(n_members, dtype=bool)
    matched[member_id[used]] = True
    load = np.bincount(host_id[used], minlength=n_hosts)
    members = np.arange(n_members)
    hosts = np.arange(n_hosts) + n_members
    open_ = load < caps
    busy = load > 0
    tails = [
        np.where(flow, host, member),  # unused arc forward, used arc backward
        np.where(matched, members, source),
        hosts[open_],
        np.full(busy.sum(), sink),
        [sink, source] if len(used) else [sink],
    ]
    heads = [
        np.where(flow, member, host),
        np.where(matched, source, members),
        np.full(open_.sum(), sink),
        hosts[busy],
        [source, sink] if len(used) else [source],
    ]
    tail = np.concatenate(tails).astype(np.int64)
    head = np.concatenate(heads).astype(np.int64)
    cost = np.zeros(len(tail), dtype=np.int64)
    cost[: len(sub)] = np.where(flow, gain[sub], -gain[sub])
    order = np.argsort(head, kind="stable")
    tail, head, cost = tail[order], head[order], cost[order]
    starts = np.flatnonzero(np.r_[True, head[1:] != head[:-1]])
    targets = head[starts]
    dist = np.zeros(source + 2, dtype=np.int64)
    for _ in range(_MAX_RELAXATIONS):
        best = np.minimum(dist[targets], np.minimum.reduceat(dist[tail] + cost, starts))
        if (best == dist[targets]).all():
            return dist
        dist[targets] = best
    return None


class _Column:
    """Re-iterable view of one field of the rows, without materialising it as a list."""

    __slots__ = ("_get", "_rows")

    def __init__(self, rows: Sequence[Sequence[Hashable]], index: int) -> None:
        self._rows = rows
        self._get = itemgetter(index)

    def __iter__(self) -> Iterator[Hashable]:
        return map(self._get, self._rows)


def _canonical(keys: list[Hashable]) -> list[Hashable]:
    # Sorted when orderable, so the numbering (hence tie-breaking) ignores input order.
    try:
        return sorted(keys)
    except TypeError:
        return keys
