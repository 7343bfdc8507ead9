"""A later wave of offers: deferred acceptance again, around what was already promised.

After a cohort's first offers some candidates accept, some decline (or let the offer lapse, or
withdraw) and some have not answered yet. A wave refills the seats that were given back:

* candidates who *accepted* are fixed: their seats are taken off their tracks' capacities and
  they take no part (``fixed``);
* candidates who declined, lapsed or withdrew are simply not passed in (the caller leaves them
  out of ``candidate_prefs``);
* everybody else still in the market takes part: the unplaced eligible candidates and the
  candidates whose offer is still *pending* (``held``: candidate -> the track of that offer).

Guarantee (never move down): a candidate in ``held`` ends in its held track or in a track it
ranks higher, never lower and never unplaced. When the previous offers came from a stable
matching of a larger market with the same preferences (which is how waves follow each other),
deferred acceptance already gives this: removing candidates from the proposing side can only
help the others, so no candidate is ever rejected by the track it holds. When it does not
(preferences changed between waves, a staff override, a newly consenting candidate), the
holders that deferred acceptance would place lower keep their held track: they are fixed there
like the accepted ones and the engine runs again, until no holder moves down. ``kept`` names
them, so that the caller can tell (and tests can assert it stays empty for honest sequences).

Invariants of :func:`wave_match`: no track holds more than its seats, fixed candidates counted
(``fixed`` must not exceed a track's seats; held seats are taken back only for ``kept``
holders, whose held seat was counted in the previous wave); every placement is ranked by the
candidate and acceptable to the track, or is the held track of a kept holder; among the
candidates that took part and were not kept, there is no blocking pair given the seats left
by the fixed and kept candidates; a held candidate never moves down.

Pure Python, deterministic, no Django. Same conventions as :func:`stable_match`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from ecocycle.matching.stable import StableMatchResult, UnplacedReason, stable_match

__all__ = ["WaveResult", "wave_match"]


@dataclass(frozen=True, slots=True)
class WaveResult:
    """Outcome of :func:`wave_match`. Dicts iterate in ``candidate_prefs`` order."""

    placements: dict[Hashable, Hashable]
    """candidate -> track for every placed candidate that took part (fixed ones excluded)."""
    new: dict[Hashable, Hashable]
    """candidate -> track for the candidates placed who held nothing: new offers."""
    moved_up: dict[Hashable, tuple[Hashable, Hashable]]
    """held candidate -> (held track, new track ranked higher): their offer is replaced."""
    kept: tuple[Hashable, ...]
    """held candidates deferred acceptance would have placed lower, kept in their held track."""
    unplaced_reasons: dict[Hashable, tuple[tuple[Hashable, UnplacedReason], ...]]
    """unplaced candidate -> (track, reason) for each track of its list (as stable_match)."""
    seats_left: dict[Hashable, int]
    """track -> seats still free after the wave (capacity - fixed - placed)."""
    runs: int
    """How many times deferred acceptance ran (1 unless holders had to be kept)."""


def _position(prefs: Sequence[Hashable], track: Hashable) -> int:
    """Index of the first occurrence of ``track`` in ``prefs``; len(prefs) when absent (worse
    than anything ranked)."""
    try:
        return list(prefs).index(track)
    except ValueError:
        return len(prefs)


def _seats_after_fixed(capacities: Mapping[Hashable, int],
                       fixed: Mapping[Hashable, Hashable]) -> dict[Hashable, int]:
    """track -> seats left once the fixed candidates took theirs; ``ValueError`` when a track
    has more fixed candidates than seats."""
    remaining = {track: int(seats) for track, seats in capacities.items()}
    for cand, track in fixed.items():
        if remaining.get(track, 0) <= 0:
            raise ValueError(f"fixed candidate {cand!r}: track {track!r} has no seat left")
        remaining[track] -= 1
    return remaining


def _match_keeping_holders(
    market: Mapping[Hashable, Sequence[Hashable]],
    track_prefs: Mapping[Hashable, Sequence[Hashable]],
    remaining: Mapping[Hashable, int],
    held: Mapping[Hashable, Hashable],
) -> tuple[StableMatchResult, dict[Hashable, int], dict[Hashable, Hashable], int]:
    """Deferred acceptance on ``market``, run again with the holders it would place lower kept
    in their held track, until none is. (last run's result, its seats, kept holders, runs)."""
    kept: dict[Hashable, Hashable] = {}
    runs = 0
    while True:
        runs += 1
        seats = dict(remaining)
        for track in kept.values():
            seats[track] = seats.get(track, 0) - 1
        taking = {c: p for c, p in market.items() if c not in kept}
        lists = {t: [c for c in cands if c in taking] for t, cands in track_prefs.items()}
        result = stable_match(taking, lists, seats)
        lower = [
            c for c, track in held.items()
            if c in taking and (
                c not in result.placements
                or _position(taking[c], result.placements[c]) > _position(taking[c], track)
            )
        ]
        if not lower:
            return result, seats, kept, runs
        for cand in lower:
            kept[cand] = held[cand]


def wave_match(
    candidate_prefs: Mapping[Hashable, Sequence[Hashable]],
    track_prefs: Mapping[Hashable, Sequence[Hashable]],
    capacities: Mapping[Hashable, int],
    *,
    fixed: Mapping[Hashable, Hashable],
    held: Mapping[Hashable, Hashable],
) -> WaveResult:
    """One wave of offers: deferred acceptance on the market left, holders never moving down.

    ``candidate_prefs``: every candidate taking part (held ones included), best track first.
    ``track_prefs`` and ``capacities``: as for :func:`stable_match` (the full seats; fixed
    candidates may appear in track lists, they are ignored). ``fixed``: candidate -> track of
    the accepted places, their seats taken off. ``held``: candidate -> track of the pending
    offer, for candidates of ``candidate_prefs``.

    A fixed track with more fixed candidates than seats is refused (``ValueError``): the
    caller's data is inconsistent. See the module docstring for the guarantees.

    Complexity: O(k · L log L) for L = total list length and k = number of engine runs; k is 1
    when the previous wave was stable for the same preferences, and at most 1 + the number of
    held candidates otherwise (each extra run keeps at least one more holder).
    """
    remaining = _seats_after_fixed(capacities, fixed)
    market = {c: list(prefs) for c, prefs in candidate_prefs.items() if c not in fixed}
    result, seats, kept, runs = _match_keeping_holders(market, track_prefs, remaining, held)
    placements: dict[Hashable, Hashable] = {}
    for cand in market:
        if cand in kept:
            placements[cand] = kept[cand]
        elif cand in result.placements:
            placements[cand] = result.placements[cand]
    new = {c: t for c, t in placements.items() if c not in held}
    moved_up = {c: (held[c], t) for c, t in placements.items() if c in held and t != held[c]}
    seats_left = {track: seats.get(track, 0) - len(result.assigned.get(track, ()))
                  for track in seats}
    return WaveResult(
        placements=placements, new=new, moved_up=moved_up, kept=tuple(kept),
        unplaced_reasons={c: r for c, r in result.unplaced_reasons.items() if c not in kept},
        seats_left=seats_left, runs=runs,
    )
