"""The engine validates its inputs the same way everywhere, with clear errors (issue 14)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from ecocycle.matching import assign_mentors, assign_optimal, check_stability, stable_match

CANDS = {"c": ["t"]}
TRACKS = {"t": ["c"]}


def _both(candidate_prefs, track_prefs, capacities):
    """Run the solver and the checker on the same input; both must raise the same error."""
    errors = []
    for call in (
        lambda: stable_match(candidate_prefs, track_prefs, capacities),
        lambda: check_stability(candidate_prefs, track_prefs, capacities, {}),
    ):
        with pytest.raises((TypeError, ValueError)) as raised:
            call()
        errors.append(raised.value)
    assert type(errors[0]) is type(errors[1])
    return errors[0]


@pytest.mark.parametrize(
    ("seats", "error"),
    [(1.5, TypeError), (-1, ValueError), (True, TypeError), ("2", TypeError),
     (np.float64(2.0), TypeError), (None, TypeError)],
)
def test_seats_must_be_integers_at_least_zero(seats, error):
    raised = _both(CANDS, TRACKS, {"t": seats})
    assert isinstance(raised, error)
    assert "'t'" in str(raised)


def test_numpy_integer_seats_are_integers():
    capacities = {"t": np.int64(1)}
    assert stable_match(CANDS, TRACKS, capacities).placements == {"c": "t"}
    assert check_stability(CANDS, TRACKS, capacities, {"c": "t"}) == []


@pytest.mark.parametrize("prefs", [{"t"}, "t", {"t": 1}, frozenset({"t"}), None, 5])
def test_candidate_lists_must_be_lists_or_tuples(prefs):
    raised = _both({"c": prefs}, TRACKS, {"t": 1})
    assert isinstance(raised, TypeError)
    assert "'c'" in str(raised)


@pytest.mark.parametrize("prefs", [{"c"}, "c", {"c": 1}])
def test_track_lists_must_be_lists_or_tuples(prefs):
    raised = _both(CANDS, {"t": prefs}, {"t": 1})
    assert isinstance(raised, TypeError)
    assert "'t'" in str(raised)


def test_unhashable_entries_are_named():
    raised = _both({"c": [["t"]]}, TRACKS, {"t": 1})
    assert isinstance(raised, TypeError)
    assert "'c'" in str(raised)


def test_numpy_integer_keys_mix_with_tuple_keys():
    candidate_prefs = {np.int64(1): [("t", 1), np.int64(7)], ("c", 2): [np.int64(7)]}
    track_prefs = {("t", 1): [np.int64(1)], np.int64(7): [("c", 2), 1]}
    capacities = {("t", 1): 1, np.int64(7): np.int32(1)}
    result = stable_match(candidate_prefs, track_prefs, capacities)
    assert result.placements == {1: ("t", 1), ("c", 2): 7}
    assert check_stability(candidate_prefs, track_prefs, capacities, result.placements) == []
    # Swapping them breaks stability; the checker reports instead of crashing.
    assert check_stability(candidate_prefs, track_prefs, capacities, {np.int64(1): np.int64(7)})


@pytest.mark.parametrize("weight", ["1.5", "2", True, np.bool_(True), None, b"1"])
def test_weights_must_be_real_numbers(weight):
    for assign in (assign_optimal, assign_mentors):
        with pytest.raises(TypeError, match="'x'"):
            assign([("x", "A", 1.0), ("x", "B", weight)], {"A": 1, "B": 1})


@pytest.mark.parametrize("weight", [1, 1.5, np.float32(1.5), np.int64(2), Decimal("1.5"),
                                    Fraction(3, 2)])
def test_real_weights_are_accepted(weight):
    assert assign_optimal([("x", "A", weight)], {"A": 1}) == {"x": "A"}


@pytest.mark.parametrize(("seats", "error"), [(True, TypeError), ("1", TypeError),
                                              (-1, ValueError), (1.5, TypeError)])
def test_assignment_seats_are_validated_the_same_way(seats, error):
    with pytest.raises(error, match="'A'"):
        assign_optimal([("x", "A", 1.0)], {"A": seats})


def test_assignment_numpy_keys_mix_with_tuple_keys():
    fits = [(np.int64(1), ("h", 1), 1.0), (("m", 2), np.int64(5), 2.0)]
    assert assign_optimal(fits, {("h", 1): 1, np.int64(5): 1}) == {1: ("h", 1), ("m", 2): 5}
