"""Tests of ecocycle.matching.wave_match (pure: no Django, no database).

The checks here are written apart from the engine: plain loops over dicts, and on small
instances a brute force over every matching of the market.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecocycle.matching import stable_match, wave_match

PROPERTY = settings(max_examples=300, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


# --- the independent check ----------------------------------------------------------------------

def rank_of(order, who):
    return order.index(who) if who in order else None


def blocking_pairs(market, track_prefs, seats_left, placements):
    """Every (candidate, track) of the market that would both rather have each other, with
    `seats_left` the seats not held by fixed candidates. Plain loops."""
    members = {t: [c for c, p in placements.items() if p == t] for t in seats_left}
    pairs = []
    for cand, prefs in market.items():
        current = placements.get(cand)
        for track in prefs:
            if track == current:
                break
            order = track_prefs.get(track, [])
            mine = rank_of(order, cand)
            if mine is None or seats_left.get(track, 0) <= 0:
                continue
            held = members.get(track, [])
            outranked = any(rank_of(order, other) is None or rank_of(order, other) > mine
                            for other in held)
            if len(held) < seats_left[track] or outranked:
                pairs.append((cand, track))
    return pairs


def wave_problems(market, track_prefs, capacities, fixed, held, placements):
    """What is wrong with a wave's placements (empty: nothing)."""
    problems = []
    seats_left = dict(capacities)
    for track in fixed.values():
        seats_left[track] = seats_left.get(track, 0) - 1
    for cand, track in placements.items():
        if cand in fixed:
            problems.append(("fixed candidate placed again", cand))
        if cand not in market:
            problems.append(("not in the market", cand))
        elif track not in market[cand] and held.get(cand) != track:
            problems.append(("track not ranked", cand, track))
        elif rank_of(track_prefs.get(track, []), cand) is None and held.get(cand) != track:
            problems.append(("not acceptable", cand, track))
    for track, left in seats_left.items():
        taken = sum(1 for t in placements.values() if t == track)
        if taken > left:
            problems.append(("over capacity", track, taken, left))
    for cand, track in held.items():
        new = placements.get(cand)
        prefs = market[cand]
        if new is None:
            problems.append(("holder unplaced", cand))
        elif new != track and track in prefs and (
                new not in prefs or prefs.index(new) > prefs.index(track)):
            problems.append(("holder moved down", cand, track, new))
    problems += [("blocking pair", *pair)
                 for pair in blocking_pairs(market, track_prefs, seats_left, placements)]
    return problems


# --- hand examples -----------------------------------------------------------------------------

def test_a_vacated_seat_goes_to_the_next_on_the_reserve_list():
    tracks = {"A": ["a1", "a2", "r1", "r2"]}
    # a1 accepted; a2 declined (left out); r1 and r2 wait; one seat is free again.
    result = wave_match({"r1": ["A"], "r2": ["A"]}, tracks, {"A": 2},
                        fixed={"a1": "A"}, held={})
    assert result.placements == {"r1": "A"}
    assert result.new == {"r1": "A"}
    assert result.moved_up == {}
    assert result.kept == ()
    assert result.seats_left == {"A": 0}
    assert dict(result.unplaced_reasons)["r2"] == (("A", "full_ranked_below_cutoff"),)


def test_a_pending_holder_moves_up_into_a_seat_freed_above():
    tracks = {"A": ["x", "p", "q"], "B": ["p", "q"]}
    first = stable_match({"x": ["A"], "p": ["A", "B"], "q": ["A", "B"]}, tracks,
                         {"A": 1, "B": 1})
    assert first.placements == {"x": "A", "p": "B"}
    # x declines: p (pending in B) moves up to A and q gets B.
    result = wave_match({"p": ["A", "B"], "q": ["A", "B"]}, tracks, {"A": 1, "B": 1},
                        fixed={}, held={"p": "B"})
    assert result.placements == {"p": "A", "q": "B"}
    assert result.moved_up == {"p": ("B", "A")}
    assert result.new == {"q": "B"}
    assert result.runs == 1


def test_an_accepted_candidate_is_never_moved_and_holds_its_seat():
    tracks = {"A": ["r", "a"], "B": ["a", "r"]}
    # a accepted B, though a ranks A higher and the track ranks r higher in A.
    result = wave_match({"r": ["B", "A"]}, tracks, {"A": 1, "B": 1}, fixed={"a": "B"},
                        held={})
    assert result.placements == {"r": "A"}
    assert "a" not in result.placements


def test_a_holder_deferred_acceptance_would_move_down_keeps_its_offer():
    # h holds A from a matching made with other preferences; A now ranks n first.
    tracks = {"A": ["n", "h"], "B": ["h"]}
    result = wave_match({"h": ["A", "B"], "n": ["A"]}, tracks, {"A": 1, "B": 1},
                        fixed={}, held={"h": "A"})
    assert result.kept == ("h",)
    assert result.placements == {"h": "A"}
    assert result.runs == 2
    assert result.seats_left == {"A": 0, "B": 1}
    assert dict(result.unplaced_reasons)["n"] == (("A", "no_seats"),)


def test_too_many_fixed_candidates_for_a_track_is_refused():
    with pytest.raises(ValueError, match="no seat left"):
        wave_match({}, {"A": []}, {"A": 1}, fixed={"a": "A", "b": "A"}, held={})


# --- sequences of declines and waves -----------------------------------------------------------

@st.composite
def rounds(draw, max_candidates=9, max_tracks=4):
    n = draw(st.integers(1, max_candidates))
    m = draw(st.integers(1, max_tracks))
    cands = [f"c{i}" for i in range(n)]
    tracks = [f"T{j}" for j in range(m)]
    candidate_prefs = {
        c: draw(st.lists(st.sampled_from(tracks), unique=True, max_size=m)) for c in cands}
    track_prefs = {t: draw(st.permutations(cands)) for t in tracks}
    # A track may not rank some candidates at all.
    track_prefs = {t: order[:draw(st.integers(0, n))] for t, order in track_prefs.items()}
    capacities = {t: draw(st.integers(0, 3)) for t in tracks}
    # Each wave: every holder either accepts, declines or waits.
    answers = draw(st.lists(st.lists(st.sampled_from("adw"), min_size=n, max_size=n),
                            min_size=1, max_size=4))
    return candidate_prefs, track_prefs, capacities, answers


@PROPERTY
@given(rounds())
def test_waves_keep_every_promise_and_stay_stable(instance):
    candidate_prefs, track_prefs, capacities, answers = instance
    first = stable_match(candidate_prefs, track_prefs, capacities)
    accepted: dict = {}
    held = dict(first.placements)   # pending offers
    gone: set = set()               # declined: out of the market
    for wave in answers:
        for index, cand in enumerate(candidate_prefs):
            if cand not in held:
                continue
            if wave[index] == "a":
                accepted[cand] = held.pop(cand)
            elif wave[index] == "d":
                held.pop(cand)
                gone.add(cand)
        market = {c: p for c, p in candidate_prefs.items() if c not in accepted and c not in gone}
        before_accepted = dict(accepted)
        result = wave_match(market, track_prefs, capacities, fixed=accepted, held=held)
        assert wave_problems(market, track_prefs, capacities, accepted, held,
                             result.placements) == []
        # Honest waves never need the guard: removing candidates only helps the others.
        assert result.kept == ()
        assert result.runs == 1
        assert accepted == before_accepted
        for cand, (old, new) in result.moved_up.items():
            assert candidate_prefs[cand].index(new) < candidate_prefs[cand].index(old)
        assert set(result.new) == set(result.placements) - set(held)
        held = dict(result.placements)


@PROPERTY
@given(rounds(), st.data())
def test_the_guard_holds_when_preferences_change_between_waves(instance, data):
    """Holders that no longer fit the preferences (a staff change, new scores) never move
    down: they keep their track, and the rest is stable around them."""
    candidate_prefs, track_prefs, capacities, _answers = instance
    first = stable_match(candidate_prefs, track_prefs, capacities)
    held = dict(first.placements)
    shuffled = {t: data.draw(st.permutations(order)) for t, order in track_prefs.items()}
    result = wave_match(candidate_prefs, shuffled, capacities, fixed={}, held=held)
    for cand, track in held.items():
        assert cand in result.placements
        new = result.placements[cand]
        prefs = candidate_prefs[cand]
        assert prefs.index(new) <= prefs.index(track)
    seats_left = dict(capacities)
    for cand in result.kept:
        seats_left[held[cand]] -= 1
    rest = {c: p for c, p in result.placements.items() if c not in result.kept}
    market = {c: p for c, p in candidate_prefs.items() if c not in result.kept}
    for track, left in seats_left.items():
        assert sum(1 for t in rest.values() if t == track) <= left
    assert blocking_pairs(market, shuffled, seats_left, rest) == []


# --- brute force --------------------------------------------------------------------------------

def all_matchings(market, track_prefs, seats_left):
    """Every assignment of the market to a ranked, accepting track or nothing, within seats."""
    cands = list(market)
    options = [[None] + [t for t in market[c] if c in track_prefs.get(t, [])
                         and seats_left.get(t, 0) > 0] for c in cands]
    for choice in itertools.product(*options):
        counts: dict = {}
        for t in choice:
            if t is not None:
                counts[t] = counts.get(t, 0) + 1
        if all(k <= seats_left[t] for t, k in counts.items()):
            yield {c: t for c, t in zip(cands, choice, strict=True) if t is not None}


def better_or_equal(prefs, a, b):
    """Whether a (a track or None) is at least as good as b for a candidate with `prefs`."""
    if b is None:
        return True
    if a is None:
        return False
    return prefs.index(a) <= prefs.index(b)


@settings(max_examples=150, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(rounds(max_candidates=5, max_tracks=3))
def test_a_wave_is_the_best_stable_refill_for_every_candidate(instance):
    candidate_prefs, track_prefs, capacities, answers = instance
    first = stable_match(candidate_prefs, track_prefs, capacities)
    accepted, held, gone = {}, dict(first.placements), set()
    for index, cand in enumerate(candidate_prefs):
        if cand in held and answers[0][index] == "a":
            accepted[cand] = held.pop(cand)
        elif cand in held and answers[0][index] == "d":
            held.pop(cand)
            gone.add(cand)
    market = {c: p for c, p in candidate_prefs.items() if c not in accepted and c not in gone}
    result = wave_match(market, track_prefs, capacities, fixed=accepted, held=held)
    seats_left = dict(capacities)
    for track in accepted.values():
        seats_left[track] -= 1
    stable = [m for m in all_matchings(market, track_prefs, seats_left)
              if not blocking_pairs(market, track_prefs, seats_left, m)]
    assert result.placements in stable
    for matching in stable:
        for cand, prefs in market.items():
            assert better_or_equal(prefs, result.placements.get(cand), matching.get(cand))
