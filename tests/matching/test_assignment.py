"""Tests of ecocycle.matching.assign_optimal (pure: no Django, no database)."""

from __future__ import annotations

import itertools
import math
import random
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.engine import generate_mentor_instance
from ecocycle.matching import MentorFit, PairFit, assign_mentors, assign_optimal, assignment

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def scaled_weights(fits, scale=1000):
    """(mentee, mentor) -> largest scaled weight, the engine's view of the input."""
    best = {}
    for mentee, mentor, weight in fits:
        best[mentee, mentor] = max(best.get((mentee, mentor), 0), round(weight * scale))
    return best


def score(assignment, fits, scale=1000):
    weights = scaled_weights(fits, scale)
    return len(assignment), sum(weights[pair] for pair in assignment.items())


def assert_valid(assignment, fits, capacities):
    eligible = scaled_weights(fits)
    for pair in assignment.items():
        assert pair in eligible, f"{pair} is not an eligible pair"
    load = {}
    for mentor in assignment.values():
        load[mentor] = load.get(mentor, 0) + 1
    for mentor, count in load.items():
        assert count <= capacities.get(mentor, 0), f"{mentor} over capacity"


def brute_force_best(fits, capacities, scale=1000):
    """Lexicographic optimum (cardinality, scaled weight) by enumerating every assignment."""
    weights = scaled_weights(fits, scale)
    options = {}
    for mentee, mentor in weights:
        if capacities.get(mentor, 0) > 0:
            options.setdefault(mentee, []).append(mentor)
    mentees = list(options)
    best = (0, 0)
    for choice in itertools.product(*([None, *options[m]] for m in mentees)):
        load = {}
        for mentor in choice:
            if mentor is not None:
                load[mentor] = load.get(mentor, 0) + 1
        if any(count > capacities[mentor] for mentor, count in load.items()):
            continue
        picked = [(m, t) for m, t in zip(mentees, choice, strict=True) if t is not None]
        best = max(best, (len(picked), sum(weights[p] for p in picked)))
    return best


def lsa_best(fits, capacities, scale=1000):
    """Independent optimum with scipy: mentor seats as columns, big-M for cardinality."""
    np = pytest.importorskip("numpy")
    optimize = pytest.importorskip("scipy.optimize")
    weights = scaled_weights(fits, scale)
    mentees = sorted({m for m, _ in weights})
    seats = [t for t in sorted(capacities) for _ in range(capacities[t])]
    if not mentees or not seats:
        return (0, 0)
    row = {m: i for i, m in enumerate(mentees)}
    big = sum(weights.values()) + 1  # one more pair beats any weight difference
    gain = np.zeros((len(mentees), len(seats)))
    for j, mentor in enumerate(seats):
        for mentee in mentees:
            if (mentee, mentor) in weights:
                gain[row[mentee], j] = big + weights[mentee, mentor]
    rows, cols = optimize.linear_sum_assignment(gain, maximize=True)
    used = gain[rows, cols] > 0
    return int(used.sum()), int(sum(gain[rows, cols][used] - big))


@st.composite
def small_instances(draw):
    n_mentees = draw(st.integers(0, 6))
    n_mentors = draw(st.integers(0, 4))
    mentors = [f"m{i}" for i in range(n_mentors)]
    capacities = {m: draw(st.integers(0, 3)) for m in mentors}
    fits = []
    for i in range(n_mentees):
        for mentor in (
            draw(st.lists(st.sampled_from([*mentors, "ghost"]), max_size=3)) if mentors else []
        ):
            fits.append((i, mentor, draw(st.sampled_from([0, 0.5, 1, 1.25, 2, 3.0001, 7.5]))))
    return fits, capacities


@PROPERTY
@given(small_instances())
def test_property_equals_brute_force_optimum(instance):
    fits, capacities = instance
    result = assign_optimal(fits, capacities)
    assert_valid(result, fits, capacities)
    assert score(result, fits) == brute_force_best(fits, capacities)
    assert repr(result) == repr(assign_optimal(fits, capacities))


def random_instance(rng, n_mentees, n_mentors, per_mentee, max_cap):
    capacities = {f"m{j}": rng.randint(0, max_cap) for j in range(n_mentors)}
    fits = [
        (i, f"m{j}", rng.choice([rng.random(), rng.randint(0, 3)]))
        for i in range(n_mentees)
        for j in rng.sample(range(n_mentors), min(per_mentee, n_mentors))
    ]
    return fits, capacities


@pytest.mark.parametrize("seed", range(8))
def test_seeded_small_instances_equal_brute_force(seed):
    rng = random.Random(seed)
    fits, capacities = random_instance(rng, 7, 4, 2, 2)
    result = assign_optimal(fits, capacities)
    assert_valid(result, fits, capacities)
    assert score(result, fits) == brute_force_best(fits, capacities)


@pytest.mark.parametrize(
    ("n_mentees", "n_mentors", "per_mentee", "max_cap", "seed"),
    [(60, 20, 4, 3, 1), (200, 40, 6, 5, 2), (300, 150, 3, 1, 3), (250, 10, 10, 40, 4)],
)
def test_seeded_instances_equal_linear_sum_assignment(
    n_mentees, n_mentors, per_mentee, max_cap, seed
):
    fits, capacities = random_instance(
        random.Random(seed), n_mentees, n_mentors, per_mentee, max_cap
    )
    result = assign_optimal(fits, capacities)
    assert_valid(result, fits, capacities)
    assert score(result, fits) == lsa_best(fits, capacities)


def test_generated_instance_equals_linear_sum_assignment():
    inst = generate_mentor_instance(400, seed=5, mentors_per_mentee=8)
    result = assign_optimal(inst.fits, inst.capacities)
    assert_valid(result, inst.fits, inst.capacities)
    assert score(result, inst.fits) == lsa_best(inst.fits, inst.capacities)


def test_cardinality_beats_weight():
    # x alone on A would weigh 10, but giving A to y and B to x covers both mentees.
    fits = [("x", "A", 10), ("x", "B", 0), ("y", "A", 1)]
    assert assign_optimal(fits, {"A": 1, "B": 1}) == {"x": "B", "y": "A"}


def test_weight_decides_among_maximum_assignments():
    fits = [("x", "A", 1), ("x", "B", 2), ("y", "A", 2), ("y", "B", 1)]
    assert assign_optimal(fits, {"A": 1, "B": 1}) == {"x": "B", "y": "A"}


def test_capacity_respected_and_zero_capacity():
    fits = [(i, "A", 1.0) for i in range(5)] + [(i, "Z", 9.0) for i in range(5)]
    result = assign_optimal(fits, {"A": 2, "Z": 0})
    assert len(result) == 2 and set(result.values()) == {"A"}


def test_unknown_mentor_has_no_capacity():
    assert assign_optimal([("x", "ghost", 5.0), ("x", "A", 1.0)], {"A": 1}) == {"x": "A"}
    assert assign_optimal([("x", "ghost", 5.0)], {}) == {}


def test_duplicate_pair_counts_with_its_largest_weight():
    fits = [("x", "A", 0.1), ("y", "A", 0.5), ("x", "A", 0.9)]
    assert assign_optimal(fits, {"A": 1}) == {"x": "A"}


def test_empty_inputs():
    assert assign_optimal([], {}) == {}
    assert assign_optimal([], {"A": 3}) == {}
    assert assign_optimal(iter([]), {"A": 3}) == {}


def test_accepts_iterators_namedtuples_and_mixed_keys():
    fits = [PairFit(("team", 1), "A", 1.0), PairFit("solo", 7, 2.0), PairFit(3, "A", 3.0)]
    # Weight 3 beats weight 1 for the single A seat.
    assert assign_optimal(iter(fits), {"A": 1, 7: 1}) == {3: "A", "solo": 7}


def test_the_mentor_names_are_the_same_engine():
    assert assign_mentors is assign_optimal and MentorFit is PairFit
    assert PairFit("x", "A", 1.0) == ("x", "A", 1.0)


def test_weight_scale_sets_resolution():
    fits = [("x", "A", 0.0001), ("y", "A", 0.0002)]
    assert assign_optimal(fits, {"A": 1}, weight_scale=10_000) == {"y": "A"}
    assert len(assign_optimal(fits, {"A": 1})) == 1  # equal at 1/1000: either is optimal


def test_deterministic_and_independent_of_input_order():
    inst = generate_mentor_instance(2_000, seed=3, mentors_per_mentee=10)
    first = assign_optimal(inst.fits, inst.capacities)
    assert repr(first) == repr(assign_optimal(inst.fits, inst.capacities))
    shuffled = list(inst.fits)
    random.Random(1).shuffle(shuffled)
    caps = dict(reversed(list(inst.capacities.items())))
    assert repr(assign_optimal(shuffled, caps)) == repr(first)


def test_ties_are_stable_across_runs_with_unorderable_keys():
    fits = [(("a", i % 3) if i % 2 else i, ("m", i % 4) if i % 3 else "m", 1.0) for i in range(40)]
    capacities = {("m", 1): 2, ("m", 2): 2, ("m", 3): 2, "m": 3}
    results = {repr(assign_optimal(fits, capacities)) for _ in range(3)}
    assert len(results) == 1


@pytest.mark.parametrize(
    ("fits", "capacities", "error"),
    [
        ([("x", "A", -1.0)], {"A": 1}, ValueError),
        ([("x", "A", math.nan)], {"A": 1}, ValueError),
        ([("x", "A", math.inf)], {"A": 1}, ValueError),
        ([("x", "A")], {"A": 1}, ValueError),
        ([5], {"A": 1}, ValueError),
        ([("x", "A", 1.0, "extra")], {"A": 1}, ValueError),
        ([("x", "A", 1.0)], {"A": -1}, ValueError),
        ([("x", "A", 1.0)], {"A": 1.5}, TypeError),
        ([("x", "A", 1e300)], {"A": 1}, ValueError),
    ],
)
def test_validation(fits, capacities, error):
    with pytest.raises(error):
        assign_optimal(fits, capacities)


def test_largest_accepted_weights_still_solve():
    fits = [(i, "A", 1.0) for i in range(4)] + [(i, "B", 0.5) for i in range(4)]
    limit = (1 << 60) // (4 + 2 + 2)  # mentees + mentors + 2
    big = [(a, b, w * (limit // 2)) for a, b, w in fits]  # floats: stay clear of the edge
    assert len(assign_optimal(big, {"A": 2, "B": 1}, weight_scale=1)) == 3
    with sparse_solve():  # its certificate would overflow: it must hand over to the plain solve
        assert len(assign_optimal(big, {"A": 2, "B": 1}, weight_scale=1)) == 3
    with pytest.raises(ValueError, match="too large"):
        assign_optimal([(a, b, w * limit) for a, b, w in fits], {"A": 2, "B": 1}, weight_scale=1)


def test_weight_scale_must_be_positive():
    with pytest.raises(ValueError):
        assign_optimal([("x", "A", 1.0)], {"A": 1}, weight_scale=0)


# --------------------------------------------------------------------------- sparse solve

# Settings of the sparse solve: default pruning; pruning so aggressive that column generation
# must add arcs; none kept at all; a failing certificate (fallback to the plain solve); and a
# Bellman-Ford budget too small to converge (fallback too).
SPARSE_VARIANTS = [
    {},
    {"_MEMBER_TOP": 1, "_HOST_TOP": 0},
    {"_MEMBER_TOP": 0, "_HOST_TOP": 0, "_SPARSE_ROUNDS": 10},
    {"_MEMBER_TOP": 1, "_HOST_TOP": 0, "_SPARSE_ROUNDS": 1},
    {"_MAX_RELAXATIONS": 1},
]


@contextmanager
def sparse_solve(**overrides):
    """Force the sparse solve (normally used from 200k arcs on) with the given settings."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(assignment, "_SPARSE_MIN_ARCS", 0)
        for name, value in overrides.items():
            patch.setattr(assignment, name, value)
        yield


@PROPERTY
@given(small_instances())
def test_property_sparse_solve_equals_brute_force(instance):
    fits, capacities = instance
    best = brute_force_best(fits, capacities)
    for variant in SPARSE_VARIANTS:
        with sparse_solve(**variant):
            result = assign_optimal(fits, capacities)
        assert_valid(result, fits, capacities)
        assert score(result, fits) == best, variant


@pytest.mark.parametrize("variant", SPARSE_VARIANTS)
@pytest.mark.parametrize("seed", [1, 2])
def test_sparse_solve_equals_linear_sum_assignment(variant, seed):
    fits, capacities = random_instance(random.Random(seed), 200, 40, 8, 4)
    with sparse_solve(**variant):
        result = assign_optimal(fits, capacities)
    assert_valid(result, fits, capacities)
    assert score(result, fits) == lsa_best(fits, capacities)


def test_sparse_solve_is_certified_in_one_round_on_a_typical_instance():
    inst = generate_mentor_instance(3_000, seed=2)
    plain = assign_optimal(inst.fits, inst.capacities)  # 90k arcs: plain solve
    calls = []
    original = assignment._max_flow_min_cost

    def counting(*args):
        calls.append(len(args[0]))
        return original(*args)

    with sparse_solve(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(assignment, "_max_flow_min_cost", counting)
        result = assign_optimal(inst.fits, inst.capacities)
    assert len(calls) == 1 and calls[0] < len(inst.fits) / 2  # one solve on a pruned network
    assert score(result, inst.fits) == score(plain, inst.fits)
    assert_valid(result, inst.fits, inst.capacities)
