"""Candidate-proposing deferred acceptance for many-to-one matching (candidates -> tracks).

This is Gale-Shapley / Roth-Peranson without couples: each candidate ranks tracks, each track
ranks candidates and has a number of seats. The output is the candidate-optimal stable
matching, which is unique, so the result does not depend on the order in which proposals are
processed.

Semantics shared by :func:`stable_match` and :func:`check_stability`:

* A track is *known* when it is a key of ``track_prefs`` or of ``capacities``. A missing
  capacity means 0 seats; a track absent from ``track_prefs`` accepts nobody.
* A candidate is acceptable to a track iff it appears in the track's list. Its rank there is
  the 0-based index of its first occurrence (later duplicates are ignored).
* A track appearing twice in a candidate's list only counts at its first occurrence.
* Entries naming unknown candidates or tracks are ignored, but they keep their index, so ranks
  and cutoffs always refer to positions in the lists exactly as given.
* Keys may be any hashables, compared with Python equality (``1 == 1.0 == True``); numpy
  scalars are read as the equal Python scalars. Seats are integers >= 0 and preference lists
  are lists or tuples; anything else is refused with an error naming the key (``_validate``).
"""

from __future__ import annotations

import operator
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from heapq import heappush, heapreplace
from itertools import chain, islice
from typing import NamedTuple

import numpy as np

from ecocycle.matching._keys import (
    gc_paused,
    index_of,
    int_keys,
    lengths,
    positions,
    stable_argsort_bounded,
)
from ecocycle.matching._validate import (
    checked_capacities,
    checked_placements,
    checked_prefs,
)

__all__ = [
    "StabilityViolation",
    "StableMatchResult",
    "UnplacedReason",
    "ViolationKind",
    "check_stability",
    "stable_match",
]


class UnplacedReason(StrEnum):
    """Why an unplaced candidate did not get one of the tracks it ranked.

    When several apply, the first in this order is reported.
    """

    UNKNOWN_TRACK = "unknown_track"
    """The track is neither in ``track_prefs`` nor in ``capacities``."""
    NO_SEATS = "no_seats"
    """The track has capacity 0 (or no capacity entry)."""
    NOT_ACCEPTABLE = "not_acceptable"
    """The track's preference list does not contain the candidate."""
    FULL_RANKED_BELOW_CUTOFF = "full_ranked_below_cutoff"
    """Every seat went to a candidate the track ranks higher (rank > the track's cutoff)."""


_REASONS: tuple[UnplacedReason, ...] = tuple(UnplacedReason)
_UNKNOWN, _NO_SEATS, _NOT_ACCEPTABLE, _FULL = range(4)


@dataclass(frozen=True, slots=True)
class StableMatchResult:
    """Outcome of :func:`stable_match`. Treat the dicts as read-only.

    Every dict iterates in input order: candidates as in ``candidate_prefs``, tracks as in
    ``track_prefs`` followed by the tracks only found in ``capacities``.
    """

    placements: dict[Hashable, Hashable]
    """candidate -> track, placed candidates only."""
    assigned: dict[Hashable, tuple[Hashable, ...]]
    """track -> its placed candidates, best first (track order); every known track."""
    cutoffs: dict[Hashable, int | None]
    """track -> rank of the worst candidate it took when all its seats are taken; ``None`` when
    it has free seats or no seats at all. Every known track."""
    choice_ranks: dict[Hashable, int]
    """candidate -> 0-based index of its placement in its own list, placed candidates only."""
    unplaced_reasons: dict[Hashable, tuple[tuple[Hashable, UnplacedReason], ...]]
    """unplaced candidate -> ``(track, reason)`` for every entry of its list, in its order (a
    candidate with an empty list maps to ``()``)."""


def stable_match(
    candidate_prefs: Mapping[Hashable, Sequence[Hashable]],
    track_prefs: Mapping[Hashable, Sequence[Hashable]],
    capacities: Mapping[Hashable, int],
) -> StableMatchResult:
    """Candidate-optimal stable assignment of candidates to tracks (deferred acceptance).

    ``candidate_prefs`` maps each candidate to the tracks it wants, best first;
    ``track_prefs`` maps each track to the candidates it accepts, best first; ``capacities``
    maps tracks to seat counts (ints >= 0). See the module docstring for the handling of
    unknown keys, duplicates and missing capacities.

    Invariants of the result: no track holds more candidates than seats; every placement is
    ranked by the candidate and acceptable to the track; there is no blocking pair (a candidate
    and a track it prefers to its placement that has a free seat or holds someone it ranks
    lower); among all stable matchings, every candidate gets its best achievable track.

    Tie-breaking: none is needed, preferences are strict and the candidate-optimal stable
    matching is unique, so the result is a deterministic function of the input (dict orders
    follow input order, so two calls on equal inputs give equal ``repr``).

    Complexity: O(L log L) time and O(L) memory for L = total length of all preference lists:
    keys are interned once (vectorised when all keys are plain ``int``), ranks are joined with
    radix-style sorts, then each list entry is proposed at most once: in simultaneous numpy
    rounds while many candidates are free, then in a sequential loop with a heap per track
    (O(log seats) per proposal). About 0.4 s for 100k candidates x 10 choices. The cyclic
    garbage collector is paused during the call (see ``_keys.gc_paused``).

    Raises ``TypeError`` or ``ValueError`` naming the key for malformed input: seats that are
    not integers >= 0, preference lists that are not lists or tuples, unhashable keys (see
    ``_validate``). Numpy scalar keys are read as the equal Python scalars.
    """
    candidate_prefs = checked_prefs(candidate_prefs, "candidate")
    track_prefs = checked_prefs(track_prefs, "track")
    with gc_paused():
        return _stable_match(candidate_prefs, track_prefs, checked_capacities(capacities))


def _stable_match(
    candidate_prefs: Mapping[Hashable, Sequence[Hashable]],
    track_prefs: Mapping[Hashable, Sequence[Hashable]],
    capacities: Mapping[Hashable, int],
) -> StableMatchResult:
    cand_keys = list(candidate_prefs)
    cand_lists = list(candidate_prefs.values())
    track_keys, track_lists = _known_tracks(track_prefs, capacities)
    n, m = len(cand_keys), len(track_keys)
    cap, has_seats, capped = _capacity_arrays(track_keys, track_lists, capacities, n)
    c_len, c_off, c_track, t_off, t_cand, rank = _interned(
        cand_keys, cand_lists, track_keys, track_lists
    )

    known = c_track >= 0
    seats = has_seats[np.where(known, c_track, 0)] if m else np.zeros(len(c_track), dtype=bool)
    p_idx = np.flatnonzero((rank >= 0) & seats)  # entries that can actually be proposed
    owner = np.repeat(np.arange(n), c_len)
    p_off = _offsets(np.bincount(owner[p_idx], minlength=n))

    heaps, cut, ptr = _deferred_acceptance(
        p_track=c_track[p_idx],
        p_rank=rank[p_idx],
        p_off=p_off,
        cap=cap,
        t_cand=t_cand,
        t_off=t_off,
    )
    sizes, held_cand, cand_track = _held(heaps, t_cand, t_off, n)

    placed = cand_track >= 0
    placed_ids = np.flatnonzero(placed)
    # ptr is one past the entry that got the candidate its seat.
    held_entry = p_idx[np.asarray(ptr, dtype=np.int64)[placed_ids] - 1]
    choice = held_entry - c_off[placed_ids]

    ck = cand_keys.__getitem__
    tk = track_keys.__getitem__
    placed_keys = list(map(ck, placed_ids.tolist()))
    placements = dict(zip(placed_keys, map(tk, cand_track[placed_ids].tolist()), strict=True))
    choice_ranks = dict(zip(placed_keys, choice.tolist(), strict=True))

    members = list(map(ck, held_cand.tolist()))
    bounds = _offsets(sizes).tolist()
    assigned = {key: tuple(members[bounds[t] : bounds[t + 1]]) for t, key in enumerate(track_keys)}
    cutoffs = {
        key: (None if c == _OPEN or free else c)
        for key, c, free in zip(track_keys, cut, capped.tolist(), strict=True)
    }
    return StableMatchResult(
        placements=placements,
        assigned=assigned,
        cutoffs=cutoffs,
        choice_ranks=choice_ranks,
        unplaced_reasons=_unplaced_reasons(
            cand_keys, cand_lists, c_len, known, rank, seats, placed
        ),
    )


def _known_tracks(
    track_prefs: Mapping[Hashable, Sequence[Hashable]], capacities: Mapping[Hashable, int]
) -> tuple[list[Hashable], list[Sequence[Hashable]]]:
    """Every known track and its list: ``track_prefs`` then the tracks only in ``capacities``."""
    track_keys = list(track_prefs)
    track_lists: list[Sequence[Hashable]] = list(track_prefs.values())
    for key in capacities:
        if key not in track_prefs:
            track_keys.append(key)
            track_lists.append(())
    return track_keys, track_lists


def _interned(
    cand_keys: list[Hashable],
    cand_lists: list[Sequence[Hashable]],
    track_keys: list[Hashable],
    track_lists: list[Sequence[Hashable]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both sides' lists as flat arrays of ids, entries in input order.

    Returns ``(c_len, c_off, c_track, t_off, t_cand, rank)``: ``c_track[c_off[c] + i]`` is the
    i-th track of candidate c (-1 if unknown), ``t_cand[t_off[t] + r]`` the candidate of rank
    r at track t (-1 if unknown), and ``rank[c_off[c] + i]`` the rank of c at its i-th track
    (-1 if that track does not rank it).
    """
    c_len = lengths(cand_lists)
    c_off = _offsets(c_len)
    t_len = lengths(track_lists)
    t_off = _offsets(t_len)
    c_track = positions(
        cand_lists,
        int(c_off[-1]),
        track_keys,
        index_of(track_keys),
        keys_as_ints=int_keys(track_keys),
    )
    t_cand = positions(
        track_lists,
        int(t_off[-1]),
        cand_keys,
        index_of(cand_keys),
        keys_as_ints=int_keys(cand_keys),
    )
    rank = _join_ranks(c_len, c_track, t_len, t_off, t_cand, len(cand_keys), len(track_keys))
    return c_len, c_off, c_track, t_off, t_cand, rank


def _held(
    heaps: list[list[int]], t_cand: np.ndarray, t_off: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From the per-track heaps: the number each track holds, the held candidates grouped by
    track, best rank first, and every candidate's track (-1 if unplaced)."""
    m = len(heaps)
    sizes = np.fromiter(map(len, heaps), dtype=np.int64, count=m)
    held_rank = -np.fromiter(chain.from_iterable(heaps), dtype=np.int64, count=int(sizes.sum()))
    held_track = np.repeat(np.arange(m), sizes)
    order = np.lexsort((held_rank, held_track))
    held_rank, held_track = held_rank[order], held_track[order]
    held_cand = t_cand[t_off[held_track] + held_rank]
    cand_track = np.full(n, -1, dtype=np.int64)
    cand_track[held_cand] = held_track
    return sizes, held_cand, cand_track


def _unplaced_reasons(
    cand_keys: list[Hashable],
    cand_lists: list[Sequence[Hashable]],
    c_len: np.ndarray,
    known: np.ndarray,
    rank: np.ndarray,
    seats: np.ndarray,
    placed: np.ndarray,
) -> dict[Hashable, tuple[tuple[Hashable, UnplacedReason], ...]]:
    codes = np.full(len(known), _FULL, dtype=np.int8)
    codes[rank < 0] = _NOT_ACCEPTABLE
    codes[known & ~seats] = _NO_SEATS
    codes[~known] = _UNKNOWN
    unplaced_ids = np.flatnonzero(~placed)
    reasons = map(_REASONS.__getitem__, codes[np.repeat(~placed, c_len)].tolist())
    return {
        cand_keys[c]: tuple(zip(cand_lists[c], islice(reasons, size), strict=False))
        for c, size in zip(unplaced_ids.tolist(), c_len[unplaced_ids].tolist(), strict=True)
    }


# Cutoff of a track that still accepts anyone acceptable (free seats).
_OPEN = 1 << 62


def _capacity_arrays(
    track_keys: list[Hashable],
    track_lists: list[Sequence[Hashable]],
    capacities: Mapping[Hashable, int],
    n: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each track's effective capacity, whether it has any seat, and whether it was capped.

    A track can never hold more candidates than its list names, nor more than there are
    candidates, so seats beyond that are cut off before anything is sized by capacity: cost
    follows the proposals, not the seats (10**9 or ``sys.maxsize`` seats are fine). A capped
    track never fills, so its cutoff stays ``None``.
    """
    caps = [capacities.get(key, 0) for key in track_keys]
    limits = [min(len(lst), n) for lst in track_lists]
    effective = np.array(list(map(min, caps, limits)), dtype=np.int64).reshape(-1)
    has_seats = np.array([c > 0 for c in caps], dtype=bool).reshape(-1)
    capped = np.array(list(map(operator.gt, caps, limits)), dtype=bool).reshape(-1)
    return effective, has_seats, capped


def _offsets(counts: np.ndarray) -> np.ndarray:
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _join_ranks(
    c_len: np.ndarray,
    c_track: np.ndarray,
    t_len: np.ndarray,
    t_off: np.ndarray,
    t_cand: np.ndarray,
    n: int,
    m: int,
) -> np.ndarray:
    """Rank of the candidate in the track's list for every candidate entry, -1 if unranked.

    Sort-merge join on key ``candidate * m + track``. Both sides are brought into key order
    by stable sorts, so among duplicate (track, candidate) entries the first, i.e. the best
    rank, is found by ``searchsorted(side="left")``.
    """
    rank = np.full(len(c_track), -1, dtype=np.int64)
    found_t = t_cand >= 0
    if not len(c_track) or not found_t.any():
        return rank
    # Candidate side is already grouped by candidate: a stable sort of short runs is cheap.
    q_idx = np.flatnonzero(c_track >= 0)
    q_key = np.repeat(np.arange(n), c_len)[q_idx] * m + c_track[q_idx]
    q_order = np.argsort(q_key, kind="stable")
    q_key = q_key[q_order]
    # Track side is grouped by track with ranks ascending; sort by candidate keeping that.
    t_of = np.repeat(np.arange(m), t_len)[found_t]
    r_of = (np.arange(len(t_cand)) - np.repeat(t_off[:-1], t_len))[found_t]
    cands = t_cand[found_t]
    order = stable_argsort_bounded(cands, n)
    s_key = cands[order] * m + t_of[order]
    s_rank = r_of[order]
    pos = np.minimum(np.searchsorted(s_key, q_key), len(s_key) - 1)
    hit = s_key[pos] == q_key
    rank[q_idx[q_order[hit]]] = s_rank[pos[hit]]
    return rank


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenation of the index ranges ``[s, s + l)``."""
    total = int(lens.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    return np.repeat(starts - _offsets(lens)[:-1], lens) + np.arange(total)


# Vectorised rounds scan at most this many entries of a free candidate's list per round.
_WINDOW = 8


def _deferred_acceptance(
    *,
    p_track: np.ndarray,
    p_rank: np.ndarray,
    p_off: np.ndarray,
    cap: np.ndarray,
    t_cand: np.ndarray,
    t_off: np.ndarray,
) -> tuple[list[list[int]], list[int], list[int]]:
    """Candidate-proposing deferred acceptance on interned ids.

    Candidate c proposes along ``p_track/p_rank[p_off[c]:p_off[c + 1]]`` (pre-filtered to
    acceptable tracks with seats); ``t_cand[t_off[t] + r]`` is the candidate of rank r at t.
    Returns per-track heaps of ``-rank`` held, per-track cutoffs (``_OPEN`` while seats are
    free) and per-candidate pointers one past the entry that got them their seat (or one past
    their last entry).

    The result does not depend on the order of proposals (the candidate-optimal matching is
    unique), which allows two phases: simultaneous rounds in numpy while many candidates are
    free, then a plain sequential loop for the long thin tail of rejection chains.

    Invariants: a track holds the best ``cap`` candidates among all who proposed to it, so its
    cutoff only decreases and an entry ranked below a track's current cutoff can be skipped
    for good. Every round consumes at least one entry per free candidate and a round is only
    repeated while its merge work is O(free candidates), so the rounds cost O(L * _WINDOW)
    overall; the tail costs O(log seats) per proposal.
    """
    m = len(cap)
    seat_off = _offsets(cap)
    state = _Acceptance(
        p_track=p_track,
        p_rank=p_rank,
        t_cand=t_cand,
        t_off=t_off,
        cap=cap,
        end=p_off[1:],
        ptr=p_off[:-1].copy(),
        seat_off=seat_off,
        seat_rank=np.full(int(seat_off[-1]), _OPEN, dtype=np.int64),
        held=np.zeros(m, dtype=np.int64),
        cut=np.full(m, _OPEN, dtype=np.int64),
    )
    free = _proposal_rounds(state, threshold=max(256, (len(p_off) - 1) // 200))
    return _proposal_tail(state, free)


class _Acceptance(NamedTuple):
    """What the two phases of :func:`_deferred_acceptance` share; the arrays change in place.

    ``ptr[c]`` is candidate c's next entry, ``end[c]`` one past its last. Track t holds the
    ranks ``seat_rank[seat_off[t] : seat_off[t] + held[t]]``, sorted, and ``cut[t]`` is the
    worst of them once all ``cap[t]`` seats are taken (``_OPEN`` until then).
    """

    p_track: np.ndarray
    p_rank: np.ndarray
    t_cand: np.ndarray
    t_off: np.ndarray
    cap: np.ndarray
    end: np.ndarray
    ptr: np.ndarray
    seat_off: np.ndarray
    seat_rank: np.ndarray
    held: np.ndarray
    cut: np.ndarray


def _proposal_rounds(state: _Acceptance, threshold: int) -> np.ndarray:
    """Phase 1: simultaneous rounds in numpy while more than ``threshold`` candidates are free.

    Returns the candidates still free.
    """
    p_track, p_rank, t_cand, t_off, cap, end, ptr, seat_off, seat_rank, held, cut = state
    stride = int(np.diff(t_off).max(initial=0)) + 1  # track * stride + rank orders pairs
    free = np.flatnonzero(end > ptr)
    window = 1  # first round: every track is open, so the first entry is always live
    while len(free) > threshold:
        # 1. Each free candidate's first live entry within the window; dead ones are skipped.
        start = ptr[free]
        lens = np.minimum(end[free] - start, window)
        idx = _ranges(start, lens)
        live = p_rank[idx] <= cut[p_track[idx]]
        first = np.minimum.reduceat(np.where(live, idx, _OPEN), _offsets(lens)[:-1])
        has = first < _OPEN
        idle = free[~has]
        ptr[idle] += lens[~has]
        entry = first[has]
        ptr[free[has]] = entry + 1
        # 2. Merge the proposals, sorted by (track, rank), into the sorted seats of their tracks.
        prop_key = np.sort(p_track[entry] * stride + p_rank[entry])
        prop_track = prop_key // stride
        group = np.flatnonzero(np.r_[True, prop_track[1:] != prop_track[:-1]])
        tracks = prop_track[group]
        n_new = np.diff(np.r_[group, len(prop_key)])
        n_old = held[tracks]
        old_key = np.repeat(tracks * stride, n_old) + seat_rank[_ranges(seat_off[tracks], n_old)]
        total = len(old_key) + len(prop_key)
        is_new = np.zeros(total, dtype=bool)
        is_new[np.searchsorted(old_key, prop_key) + np.arange(len(prop_key))] = True
        merged = np.empty(total, dtype=np.int64)
        merged[is_new] = prop_key
        merged[~is_new] = old_key
        m_track, m_rank = np.divmod(merged, stride)
        size = n_old + n_new
        pos = np.arange(total) - np.repeat(_offsets(size)[:-1], size)
        keep = pos < cap[m_track]
        seat_rank[seat_off[m_track[keep]] + pos[keep]] = m_rank[keep]
        held[tracks] = np.minimum(cap[tracks], size)
        cut[tracks] = np.where(
            held[tracks] == cap[tracks], seat_rank[seat_off[tracks] + cap[tracks] - 1], _OPEN
        )
        # 3. Rejected proposers and displaced holders are free again.
        gone = ~keep
        back = np.concatenate([idle, t_cand[t_off[m_track[gone]] + m_rank[gone]]])
        was_free = len(free)
        free = back[ptr[back] < end[back]]
        window = _WINDOW
        if total > 16 * was_free:
            break  # merges dominated by big tracks: the sequential loop is cheaper now
    return free


def _proposal_tail(
    state: _Acceptance, free: np.ndarray
) -> tuple[list[list[int]], list[int], list[int]]:
    """Phase 2, the sequential tail (McVitie-Wilson): plain lists and memoryviews for fast
    scalar access. Returns what :func:`_deferred_acceptance` returns."""
    p_track, p_rank, t_cand, t_off, cap, end, ptr, seat_off, seat_rank, held, cut = state
    neg = (-seat_rank).tolist()
    bounds = seat_off.tolist()
    sizes = held.tolist()
    m = len(cap)
    heaps = [neg[bounds[t] : bounds[t] + sizes[t]][::-1] for t in range(m)]  # ascending = heap
    cut_l = cut.tolist()
    cap_l = cap.tolist()
    ptr_l = ptr.tolist()
    end_l = end.tolist()
    track_of = memoryview(np.ascontiguousarray(p_track))
    rank_of = memoryview(np.ascontiguousarray(p_rank))
    cand_at = memoryview(np.ascontiguousarray(t_cand))
    first_at = memoryview(np.ascontiguousarray(t_off))
    for start_c in free.tolist():
        c = start_c
        p = ptr_l[c]
        e = end_l[c]
        while p < e:
            t = track_of[p]
            r = rank_of[p]
            p += 1
            if r > cut_l[t]:
                continue  # full with candidates the track prefers
            h = heaps[t]
            if cut_l[t] == _OPEN:
                heappush(h, -r)
                if len(h) == cap_l[t]:
                    cut_l[t] = -h[0]
                break
            worst = -heapreplace(h, -r)
            cut_l[t] = -h[0]
            ptr_l[c] = p
            # The displaced candidate resumes right after the entry it had been held on.
            c = cand_at[first_at[t] + worst]
            p = ptr_l[c]
            e = end_l[c]
        ptr_l[c] = p
    return heaps, cut_l, ptr_l


class ViolationKind(StrEnum):
    """Kinds of problems reported by :func:`check_stability`."""

    UNKNOWN_CANDIDATE = "unknown_candidate"
    """A placed candidate is not a key of ``candidate_prefs``."""
    NOT_RANKED_BY_CANDIDATE = "not_ranked_by_candidate"
    """The candidate's list does not contain its track."""
    NOT_ACCEPTABLE_TO_TRACK = "not_acceptable_to_track"
    """The track's list does not contain the candidate (or the track is unknown)."""
    OVER_CAPACITY = "over_capacity"
    """More candidates placed at the track than it has seats (``candidate`` is ``None``)."""
    BLOCKING_PAIR = "blocking_pair"
    """The candidate prefers the track to its placement and the track has a free seat or holds
    someone it ranks lower (or someone it does not rank at all)."""


@dataclass(frozen=True, slots=True)
class StabilityViolation:
    """One problem found by :func:`check_stability`."""

    kind: ViolationKind
    candidate: Hashable | None
    track: Hashable


def check_stability(
    candidate_prefs: Mapping[Hashable, Sequence[Hashable]],
    track_prefs: Mapping[Hashable, Sequence[Hashable]],
    capacities: Mapping[Hashable, int],
    placements: Mapping[Hashable, Hashable],
) -> list[StabilityViolation]:
    """All stability, capacity and acceptability violations of ``placements``.

    Deliberately simple and independent of :func:`stable_match` (plain dicts, no interning) so
    it can audit it. Same conventions as the solver (see the module docstring). An empty list
    means ``placements`` is a stable matching.

    Order: placement problems in ``placements`` order, then over-capacity tracks in order of
    first placement, then blocking pairs by candidate (``candidate_prefs`` order) and, within a
    candidate, by its preference order.

    Complexity: O(L + P) time and memory for L = total list length and P = len(placements).

    Inputs are validated as by :func:`stable_match`; placements' numpy keys become plain ones.
    """
    candidate_prefs = checked_prefs(candidate_prefs, "candidate")
    track_prefs = checked_prefs(track_prefs, "track")
    capacities = checked_capacities(capacities)
    placements = checked_placements(placements)
    rank_in: dict[Hashable, dict[Hashable, int]] = {}
    for track, cands in track_prefs.items():
        ranks: dict[Hashable, int] = {}
        for i, cand in enumerate(cands):
            ranks.setdefault(cand, i)
        rank_in[track] = ranks

    out: list[StabilityViolation] = []
    members: dict[Hashable, list[Hashable]] = {}
    for cand, track in placements.items():
        members.setdefault(track, []).append(cand)
        if cand not in candidate_prefs:
            out.append(StabilityViolation(ViolationKind.UNKNOWN_CANDIDATE, cand, track))
        elif track not in candidate_prefs[cand]:
            out.append(StabilityViolation(ViolationKind.NOT_RANKED_BY_CANDIDATE, cand, track))
        if cand not in rank_in.get(track, {}):
            out.append(StabilityViolation(ViolationKind.NOT_ACCEPTABLE_TO_TRACK, cand, track))
    worst: dict[Hashable, float] = {}
    for track, cands in members.items():
        if len(cands) > capacities.get(track, 0):
            out.append(StabilityViolation(ViolationKind.OVER_CAPACITY, None, track))
        ranks = rank_in.get(track, {})
        worst[track] = max(ranks.get(c, float("inf")) for c in cands)
    out.extend(_blocking_pairs(candidate_prefs, capacities, placements, rank_in, members, worst))
    return out


def _blocking_pairs(
    candidate_prefs: Mapping[Hashable, Sequence[Hashable]],
    capacities: Mapping[Hashable, int],
    placements: Mapping[Hashable, Hashable],
    rank_in: Mapping[Hashable, Mapping[Hashable, int]],
    members: Mapping[Hashable, list[Hashable]],
    worst: Mapping[Hashable, float],
) -> Iterator[StabilityViolation]:
    """The blocking pairs of :func:`check_stability`, given each track's ranks (``rank_in``),
    placed candidates (``members``) and the rank of its worst placed candidate (``worst``)."""
    unplaced = object()
    for cand, prefs in candidate_prefs.items():
        current = placements.get(cand, unplaced)
        seen = set()
        for track in prefs:
            if track == current:
                break
            if track in seen:
                continue
            seen.add(track)
            r = rank_in.get(track, {}).get(cand)
            seats = capacities.get(track, 0)
            if r is None or seats <= 0:
                continue
            if len(members.get(track, ())) < seats or r < worst[track]:
                yield StabilityViolation(ViolationKind.BLOCKING_PAIR, cand, track)
