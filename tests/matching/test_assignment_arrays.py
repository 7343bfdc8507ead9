"""Tests of ecocycle.matching.assign_optimal_arrays: assign_optimal for pairs given as columns
(pure: no Django, no database)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.engine import generate_mentor_instance
from ecocycle.matching import assign_optimal, assign_optimal_arrays

PROPERTY = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def columns(fits):
    members, hosts, weights = zip(*fits, strict=True) if fits else ((), (), ())
    return (np.array(members, dtype=np.int64), np.array(hosts, dtype=np.int64),
            np.array(weights, dtype=np.float64))


@st.composite
def int_instances(draw):
    n_mentors = draw(st.integers(0, 4))
    capacities = {10 * m: draw(st.integers(0, 3)) for m in range(1, n_mentors + 1)}
    hosts = [*capacities, 999]  # 999: a host without a capacity, whose pairs are ignored
    fits = []
    for member in draw(st.lists(st.integers(-3, 8), max_size=8)):
        for host in draw(st.lists(st.sampled_from(hosts), max_size=3)):
            fits.append((member, host, draw(st.sampled_from([0, 0.5, 1, 1.25, 2, 3.0001]))))
    return fits, capacities


@PROPERTY
@given(int_instances())
def test_equals_assign_optimal_on_the_same_triples(instance):
    # Duplicated pairs, unknown hosts, zero capacities and members in any order included.
    fits, capacities = instance
    assert repr(assign_optimal_arrays(*columns(fits), capacities)) == repr(
        assign_optimal(fits, capacities))


def test_equals_assign_optimal_on_a_large_instance_solved_sparsely():
    instance = generate_mentor_instance(8_000, seed=3)  # > 200k arcs: the sparse solve
    fits = [(int(m), int(h), w) for m, h, w in instance.fits]
    capacities = {int(h): c for h, c in instance.capacities.items()}
    result = assign_optimal_arrays(*columns(fits), capacities)
    assert result == assign_optimal(fits, capacities)
    assert all(type(member) is int for member in result)


def test_hosts_keyed_otherwise_take_the_general_path():
    assert assign_optimal_arrays(np.array([1, 2]), np.array([5, 5]), np.array([0.5, 1.0]),
                                 {"x": 1, 5: 1}) == {2: 5}


@pytest.mark.parametrize(("members", "hosts", "weights", "error"), [
    (np.array([1]), np.array([1, 2]), np.array([0.5]), ValueError),
    (np.array([[1]]), np.array([[1]]), np.array([[0.5]]), ValueError),
    (np.array(["a"]), np.array([1]), np.array([0.5]), TypeError),
    (np.array([1.5]), np.array([1]), np.array([0.5]), TypeError),
    (np.array([1]), np.array([1]), np.array([-0.5]), ValueError),
    (np.array([1]), np.array([1]), np.array([np.nan]), ValueError),
    (np.array([1]), np.array([1]), np.array([True]), TypeError),
])
def test_malformed_columns_are_refused(members, hosts, weights, error):
    with pytest.raises(error):
        assign_optimal_arrays(members, hosts, weights, {1: 1})


def test_capacities_and_scale_are_checked_as_assign_optimal_checks_them():
    one = (np.array([1]), np.array([1]), np.array([0.5]))
    with pytest.raises(ValueError):
        assign_optimal_arrays(*one, {1: -1})
    with pytest.raises(TypeError):
        assign_optimal_arrays(*one, {1: 1.5})
    with pytest.raises(ValueError):
        assign_optimal_arrays(*one, {1: 1}, weight_scale=0)
    assert assign_optimal_arrays(*columns([]), {1: 1}) == {}


@pytest.mark.parametrize("upper", [1, 300, 1 << 16, (1 << 16) + 1, 2_000_000, 2**32])
def test_the_engines_small_stable_sort_is_a_stable_sort(upper):
    from ecocycle.matching.assignment import _stable_argsort_small  # noqa: PLC0415

    rng = np.random.default_rng(upper)
    for dtype in (np.int32, np.int64):
        key = rng.integers(0, min(upper, 2**31 - 1), size=5000).astype(dtype)
        assert (_stable_argsort_small(key, upper) == np.argsort(key, kind="stable")).all()
