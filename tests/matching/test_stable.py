"""Tests of ecocycle.matching.stable_match / check_stability (pure: no Django, no database)."""

from __future__ import annotations

import ast
import itertools
import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.engine import generate_cohort_instance, solve_with_matching_package
from ecocycle.matching import (
    StabilityViolation,
    UnplacedReason,
    ViolationKind,
    check_stability,
    stable_match,
)

FULL = UnplacedReason.FULL_RANKED_BELOW_CUTOFF
NOT_ACCEPTABLE = UnplacedReason.NOT_ACCEPTABLE
NO_SEATS = UnplacedReason.NO_SEATS
UNKNOWN = UnplacedReason.UNKNOWN_TRACK

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

# c3 and c6 fill A; c2 loses A, then displaces c1 from B; c1 and c4 end unplaced.
HAND_CANDIDATES = {
    "c1": ["B", "A"],
    "c2": ["A", "B"],
    "c3": ["A"],
    "c4": ["Z", "ghost", "C", "B", "A"],
    "c5": [],
    "c6": ["A"],
}
HAND_TRACKS = {"A": ["c3", "c6", "c1", "c2", "c4"], "B": ["c2", "c1"], "Z": ["c1"]}
HAND_CAPACITIES = {"A": 2, "B": 1, "Z": 0, "C": 1}


def hand_result():
    return stable_match(HAND_CANDIDATES, HAND_TRACKS, HAND_CAPACITIES)


def test_hand_example_placements_and_assigned():
    result = hand_result()
    assert result.placements == {"c2": "B", "c3": "A", "c6": "A"}
    assert list(result.placements) == ["c2", "c3", "c6"]  # candidate input order
    assert result.assigned == {"A": ("c3", "c6"), "B": ("c2",), "Z": (), "C": ()}
    assert list(result.assigned) == ["A", "B", "Z", "C"]  # track_prefs order, then capacities
    assert result.choice_ranks == {"c2": 1, "c3": 0, "c6": 0}


def test_hand_example_cutoffs():
    # A is full, worst taken is c6 at index 1; B took c2 at index 0; Z has no seats, C is open.
    assert hand_result().cutoffs == {"A": 1, "B": 0, "Z": None, "C": None}


def test_hand_example_unplaced_reasons():
    assert hand_result().unplaced_reasons == {
        "c1": (("B", FULL), ("A", FULL)),
        "c4": (
            ("Z", NO_SEATS),
            ("ghost", UNKNOWN),
            ("C", NOT_ACCEPTABLE),
            ("B", NOT_ACCEPTABLE),
            ("A", FULL),
        ),
        "c5": (),
    }
    assert hand_result().unplaced_reasons["c4"][0][1] == "no_seats"  # StrEnum compares as str


def test_hand_example_is_stable():
    assert (
        check_stability(HAND_CANDIDATES, HAND_TRACKS, HAND_CAPACITIES, hand_result().placements)
        == []
    )


def test_check_stability_finds_planted_blocking_pair():
    planted = {"c1": "B", "c3": "A", "c6": "A"}  # c2 is dropped from B in favour of c1
    assert check_stability(HAND_CANDIDATES, HAND_TRACKS, HAND_CAPACITIES, planted) == [
        StabilityViolation(ViolationKind.BLOCKING_PAIR, "c2", "B")
    ]


def test_check_stability_finds_capacity_and_acceptability_violations():
    bad = {"c2": "B", "c3": "A", "c6": "A", "c1": "A", "c4": "C", "c5": "B", "nobody": "A"}
    v = StabilityViolation
    kind = ViolationKind
    assert check_stability(HAND_CANDIDATES, HAND_TRACKS, HAND_CAPACITIES, bad) == [
        v(kind.NOT_ACCEPTABLE_TO_TRACK, "c4", "C"),
        v(kind.NOT_RANKED_BY_CANDIDATE, "c5", "B"),
        v(kind.NOT_ACCEPTABLE_TO_TRACK, "c5", "B"),
        v(kind.UNKNOWN_CANDIDATE, "nobody", "A"),
        v(kind.NOT_ACCEPTABLE_TO_TRACK, "nobody", "A"),
        v(kind.OVER_CAPACITY, None, "B"),
        v(kind.OVER_CAPACITY, None, "A"),
        # B and A each hold someone they do not rank at all, so they prefer c1 / c2.
        v(kind.BLOCKING_PAIR, "c1", "B"),
        v(kind.BLOCKING_PAIR, "c2", "A"),
    ]


def test_check_stability_unplaced_candidate_with_free_seat_blocks():
    assert check_stability({"x": ["t"]}, {"t": ["x"]}, {"t": 1}, {}) == [
        StabilityViolation(ViolationKind.BLOCKING_PAIR, "x", "t")
    ]


def test_empty_input():
    result = stable_match({}, {}, {})
    assert result.placements == {} and result.assigned == {} and result.cutoffs == {}
    assert result.unplaced_reasons == {} and result.choice_ranks == {}


def test_only_candidates_or_only_tracks():
    result = stable_match({"a": ["t"], "b": []}, {}, {})
    assert result.placements == {}
    assert result.unplaced_reasons == {"a": (("t", UNKNOWN),), "b": ()}
    result = stable_match({}, {"t": ["a"]}, {"t": 3})
    assert result.assigned == {"t": ()} and result.cutoffs == {"t": None}


def test_zero_capacity_and_missing_capacity_mean_no_seats():
    result = stable_match({"a": ["t", "u"]}, {"t": ["a"], "u": ["a"]}, {"t": 0})
    assert result.placements == {}
    assert result.unplaced_reasons == {"a": (("t", NO_SEATS), ("u", NO_SEATS))}
    assert result.cutoffs == {"t": None, "u": None}


def test_candidate_with_no_prefs_is_unplaced_with_no_reasons():
    result = stable_match({"a": [], "b": ["t"]}, {"t": ["a", "b"]}, {"t": 5})
    assert result.placements == {"b": "t"}
    assert result.unplaced_reasons == {"a": ()}
    assert result.cutoffs == {"t": None}  # 1 of 5 seats taken


def test_cutoff_is_index_in_list_as_given():
    # Unknown candidates and duplicates keep their index; a duplicate counts at its first place.
    prefs = {"a": ["t"], "b": ["t"], "c": ["t"]}
    result = stable_match(prefs, {"t": ["ghost", "b", "b", "a", "c"]}, {"t": 2})
    assert result.assigned == {"t": ("b", "a")}
    assert result.cutoffs == {"t": 3}
    assert result.unplaced_reasons == {"c": (("t", FULL),)}


def test_duplicate_track_in_candidate_list():
    result = stable_match(
        {"a": ["t", "t", "u"], "b": ["t"]}, {"t": ["b", "a"], "u": ["a"]}, {"t": 1, "u": 1}
    )
    assert result.placements == {"a": "u", "b": "t"}
    assert result.choice_ranks == {"a": 2, "b": 0}


def test_arbitrary_hashable_keys_mixed():
    cands = {1: [("t", 1), "t2"], "two": ["t2", 3], (3, "x"): [3, ("t", 1)], None: ["t2"]}
    tracks = {("t", 1): [(3, "x"), 1], "t2": [None, "two", 1], 3: ["two", (3, "x")]}
    caps = {("t", 1): 1, "t2": 1, 3: 1}
    result = stable_match(cands, tracks, caps)
    assert result.placements == {"two": 3, (3, "x"): ("t", 1), None: "t2"}
    assert result.unplaced_reasons == {1: ((("t", 1), FULL), ("t2", FULL))}
    assert check_stability(cands, tracks, caps, result.placements) == []


def test_python_equality_semantics_for_keys():
    # As in a dict, 1, 1.0 and True are the same key (this also disables the int fast path).
    result = stable_match({1: ["t"], 2: ["u"]}, {"t": [True], "u": [2.0]}, {"t": 1, "u": 1})
    assert result.placements == {1: "t", 2: "u"}


@pytest.mark.parametrize("offset", [0, -(10**6), 10**15, 2**70])
def test_int_keys_dense_sparse_and_huge(offset):
    # Dense ints use a lookup table, sparse ones a sorted search, huge ones the dict path.
    inst = generate_cohort_instance(300, 20, seed=3)
    shift = {c: offset + c * (1 if abs(offset) < 10**9 else 7919) for c in inst.candidate_prefs}
    cands = {shift[c]: ts for c, ts in inst.candidate_prefs.items()}
    tracks = {t: [shift[c] for c in cs] for t, cs in inst.track_prefs.items()}
    base = stable_match(inst.candidate_prefs, inst.track_prefs, inst.capacities)
    moved = stable_match(cands, tracks, inst.capacities)
    assert moved.placements == {shift[c]: t for c, t in base.placements.items()}
    assert moved.cutoffs == base.cutoffs


def test_int_and_str_keys_give_the_same_matching():
    ints = generate_cohort_instance(500, 30, seed=5)
    strs = generate_cohort_instance(500, 30, seed=5, str_keys=True)
    a = stable_match(ints.candidate_prefs, ints.track_prefs, ints.capacities)
    b = stable_match(strs.candidate_prefs, strs.track_prefs, strs.capacities)
    assert {f"c{c}": f"t{t}" for c, t in a.placements.items()} == b.placements
    assert list(a.cutoffs.values()) == list(b.cutoffs.values())


def test_deterministic_repr_and_order_independent():
    inst = generate_cohort_instance(2_000, 50, seed=11)
    first = stable_match(inst.candidate_prefs, inst.track_prefs, inst.capacities)
    again = stable_match(inst.candidate_prefs, inst.track_prefs, inst.capacities)
    assert repr(first) == repr(again)
    rng = random.Random(0)
    shuffled_cands = list(inst.candidate_prefs.items())
    rng.shuffle(shuffled_cands)
    shuffled_tracks = list(inst.track_prefs.items())
    rng.shuffle(shuffled_tracks)
    other = stable_match(dict(shuffled_cands), dict(shuffled_tracks), inst.capacities)
    assert other.placements == first.placements  # the candidate-optimal matching is unique
    assert other.cutoffs == first.cutoffs


def test_validation():
    with pytest.raises(ValueError, match="negative capacity"):
        stable_match({}, {"t": []}, {"t": -1})
    with pytest.raises(TypeError):
        stable_match({}, {"t": []}, {"t": 1.5})


def test_engine_imports_nothing_from_django_or_the_project():
    allowed = {"numpy", "ortools", "ecocycle"}
    package = Path(__file__).resolve().parents[2] / "ecocycle" / "matching"
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in allowed or top in _stdlib(), f"{path.name} imports {name}"
                if top == "ecocycle":
                    assert name.startswith("ecocycle.matching"), f"{path.name} imports {name}"


def _stdlib() -> frozenset[str]:
    return frozenset(sys.stdlib_module_names) | {"__future__"}


# --------------------------------------------------------------------------- random instances


@st.composite
def messy_instances(draw):
    """Small instances with every oddity: unknown keys, duplicates, seatless tracks, mixed keys."""
    n_c = draw(st.integers(0, 9))
    n_t = draw(st.integers(0, 5))
    cands = [[i, f"c{i}", ("c", i)][i % 3] for i in range(n_c)]
    tracks = [[("t", i), f"t{i}", 100 + i][i % 3] for i in range(n_t)]
    track_pool = [*tracks, "ghost-track"]
    cand_pool = [*cands, "ghost-candidate"]
    candidate_prefs = {
        c: draw(st.lists(st.sampled_from(track_pool), max_size=len(track_pool) + 1)) for c in cands
    }
    with_list = draw(st.lists(st.sampled_from(tracks), unique=True)) if tracks else []
    track_prefs = {}
    for t in with_list:
        order = draw(st.permutations(cand_pool))
        track_prefs[t] = order[: draw(st.integers(0, len(order)))]
    if draw(st.booleans()) and cands:
        # duplicates inside a track list
        for t in track_prefs:
            track_prefs[t] = track_prefs[t] + track_prefs[t][:1]
    with_cap = draw(st.lists(st.sampled_from(tracks), unique=True)) if tracks else []
    capacities = {t: draw(st.integers(0, 3)) for t in with_cap}
    return candidate_prefs, track_prefs, capacities


def _all_stable_matchings(candidate_prefs, track_prefs, capacities):
    options = [[None, *dict.fromkeys(prefs)] for prefs in candidate_prefs.values()]
    for choice in itertools.product(*options):
        placements = {c: t for c, t in zip(candidate_prefs, choice, strict=True) if t is not None}
        if not check_stability(candidate_prefs, track_prefs, capacities, placements):
            yield placements


def _check_result_invariants(candidate_prefs, track_prefs, capacities, result):
    assert check_stability(candidate_prefs, track_prefs, capacities, result.placements) == []
    assert set(result.placements) | set(result.unplaced_reasons) == set(candidate_prefs)
    assert not set(result.placements) & set(result.unplaced_reasons)
    for cand, track in result.placements.items():
        assert candidate_prefs[cand][result.choice_ranks[cand]] == track
        assert track not in candidate_prefs[cand][: result.choice_ranks[cand]]
    members = {}
    for cand, track in result.placements.items():
        members.setdefault(track, []).append(cand)
    for track, cands in result.assigned.items():
        assert sorted(map(repr, cands)) == sorted(map(repr, members.get(track, [])))
        ranks = [list(track_prefs[track]).index(c) for c in cands]
        assert ranks == sorted(ranks)  # best first
        seats = capacities.get(track, 0)
        if seats and len(cands) == seats:
            assert result.cutoffs[track] == ranks[-1]
        else:
            assert result.cutoffs[track] is None
    for cand, reasons in result.unplaced_reasons.items():
        assert [t for t, _ in reasons] == list(candidate_prefs[cand])
        for track, reason in reasons:
            if reason == FULL:
                assert result.cutoffs[track] is not None
                assert list(track_prefs[track]).index(cand) > result.cutoffs[track]
            elif reason == UNKNOWN:
                assert track not in track_prefs and track not in capacities
            elif reason == NO_SEATS:
                assert capacities.get(track, 0) == 0
            else:
                assert cand not in track_prefs.get(track, ())


@PROPERTY
@given(messy_instances())
def test_property_stable_and_consistent(instance):
    result = stable_match(*instance)
    _check_result_invariants(*instance, result)
    assert repr(result) == repr(stable_match(*instance))


@settings(PROPERTY, max_examples=60)
@given(messy_instances())
def test_property_candidate_optimal_by_brute_force(instance):
    candidate_prefs, track_prefs, capacities = instance
    kept, size = {}, 1
    for cand, prefs in candidate_prefs.items():  # keep the brute force small
        size *= len(set(prefs)) + 1
        if size > 5_000:
            break
        kept[cand] = prefs
    candidate_prefs = kept
    result = stable_match(candidate_prefs, track_prefs, capacities)
    stable = list(_all_stable_matchings(candidate_prefs, track_prefs, capacities))
    assert result.placements in stable
    for other in stable:  # every candidate weakly prefers its candidate-optimal track
        for cand, prefs in candidate_prefs.items():
            mine, theirs = result.placements.get(cand), other.get(cand)
            if theirs is not None:
                assert mine is not None and prefs.index(mine) <= prefs.index(theirs)


@PROPERTY
@given(messy_instances())
def test_property_equals_matching_package(instance):
    pytest.importorskip("matching.games")
    expected = solve_with_matching_package(*instance)
    assert stable_match(*instance).placements == expected


@pytest.mark.parametrize(
    ("n_candidates", "n_tracks", "seed"),
    [(200, 10, 1), (1_000, 40, 2), (3_000, 60, 3), (5_000, 300, 4)],
)
def test_seeded_instances_equal_matching_package(n_candidates, n_tracks, seed):
    pytest.importorskip("matching.games")
    inst = generate_cohort_instance(n_candidates, n_tracks, seed)
    result = stable_match(inst.candidate_prefs, inst.track_prefs, inst.capacities)
    _check_result_invariants(inst.candidate_prefs, inst.track_prefs, inst.capacities, result)
    expected = solve_with_matching_package(
        inst.candidate_prefs, inst.track_prefs, inst.capacities, solver_only=n_candidates > 1_000
    )
    assert result.placements == expected


def reference_deferred_acceptance(candidate_prefs, track_prefs, capacities):
    """Textbook candidate-proposing deferred acceptance on dicts: an independent oracle."""
    rank = {t: {} for t in track_prefs}
    for t, cands in track_prefs.items():
        for i, c in enumerate(cands):
            rank[t].setdefault(c, i)
    nxt = dict.fromkeys(candidate_prefs, 0)
    held = {t: [] for t in rank}
    free = list(candidate_prefs)
    while free:
        c = free.pop()
        prefs = candidate_prefs[c]
        while nxt[c] < len(prefs):
            t = prefs[nxt[c]]
            nxt[c] += 1
            if c not in rank.get(t, {}) or capacities.get(t, 0) <= 0:
                continue
            held[t].append(c)
            if len(held[t]) <= capacities[t]:
                break
            held[t].sort(key=rank[t].__getitem__)
            loser = held[t].pop()
            if loser != c:
                free.append(loser)
                break
    return {c: t for t, cands in held.items() for c in cands}


@pytest.mark.parametrize("seed", [1, 2])
def test_big_tracks_hand_over_to_the_sequential_loop(seed):
    # 8000 candidates fill the 8000-seat track H in round 1; later ~400 rejected candidates
    # propose to the full H, so merging costs far more than the free count: the vectorised
    # rounds stop early and the sequential loop finishes. Checked against the textbook oracle.
    rng = random.Random(seed)
    first = [f"a{i}" for i in range(8_000)]
    second = [f"b{i}" for i in range(3_000)]
    smalls = [f"s{i}" for i in range(10)]
    candidate_prefs = {c: ["H", *rng.sample(smalls, 3)] for c in first}
    candidate_prefs |= {c: ["S", "H", *rng.sample(smalls, 2)] for c in second}
    everyone = first + second
    track_prefs = {"H": rng.sample(everyone, len(everyone)), "S": rng.sample(second, 3_000)}
    track_prefs |= {t: rng.sample(everyone, 2_000) for t in smalls}
    capacities = {"H": 8_000, "S": 2_600} | {t: rng.randint(0, 30) for t in smalls}
    result = stable_match(candidate_prefs, track_prefs, capacities)
    _check_result_invariants(candidate_prefs, track_prefs, capacities, result)
    assert result.placements == reference_deferred_acceptance(
        candidate_prefs, track_prefs, capacities
    )


@pytest.mark.parametrize(("n_candidates", "n_tracks", "seed"), [(20_000, 500, 8), (6_000, 20, 9)])
def test_larger_seeded_instances_equal_textbook_oracle(n_candidates, n_tracks, seed):
    inst = generate_cohort_instance(n_candidates, n_tracks, seed)
    result = stable_match(inst.candidate_prefs, inst.track_prefs, inst.capacities)
    assert (
        check_stability(inst.candidate_prefs, inst.track_prefs, inst.capacities, result.placements)
        == []
    )
    assert result.placements == reference_deferred_acceptance(
        inst.candidate_prefs, inst.track_prefs, inst.capacities
    )


@PROPERTY
@given(messy_instances())
def test_property_equals_textbook_oracle(instance):
    assert stable_match(*instance).placements == reference_deferred_acceptance(*instance)
