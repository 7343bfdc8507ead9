"""The engine's cost follows the proposals, not the seats (issue 14)."""

from __future__ import annotations

import sys
import time

from ecocycle.matching import check_stability, stable_match


def test_huge_capacities_cost_nothing_and_place_the_candidate():
    candidate_prefs = {"c": ["big", "huge"], "d": ["huge"]}
    track_prefs = {"big": ["c"], "huge": ["d", "c"]}
    capacities = {"big": 10**9, "huge": sys.maxsize}
    started = time.perf_counter()
    result = stable_match(candidate_prefs, track_prefs, capacities)
    assert time.perf_counter() - started < 1.0
    assert result.placements == {"c": "big", "d": "huge"}
    assert result.cutoffs == {"big": None, "huge": None}
    assert check_stability(candidate_prefs, track_prefs, capacities, result.placements) == []


def test_capacity_beyond_int64_is_accepted():
    result = stable_match({"c": ["t"]}, {"t": ["c"]}, {"t": 2**80})
    assert result.placements == {"c": "t"}
    assert result.cutoffs == {"t": None}


def test_capped_track_that_takes_everyone_it_ranks_still_has_free_seats():
    # Two seats, one acceptable candidate: the cap (1) is reached but the track is not full.
    result = stable_match({"c": ["t"], "x": ["t"]}, {"t": ["c"]}, {"t": 2})
    assert result.placements == {"c": "t"}
    assert result.cutoffs == {"t": None}
    assert result.unplaced_reasons == {"x": (("t", "not_acceptable"),)}


def test_track_that_ranks_nobody_keeps_its_reason():
    result = stable_match({"c": ["t"]}, {"t": []}, {"t": 10**12})
    assert result.unplaced_reasons == {"c": (("t", "not_acceptable"),)}
