"""Pure matching engine: stable assignment of candidates to tracks, and optimal assignment under
capacities (mentees to mentors, students to partner companies).

No Django or project imports: plain Python, numpy and OR-Tools only. Inputs are mappings or
iterables keyed by any hashables; outputs are frozen dataclasses or plain dicts; every call is
deterministic.
"""

from ecocycle.matching.assignment import (
    MentorFit,
    PairFit,
    assign_mentors,
    assign_optimal,
    assign_optimal_arrays,
)
from ecocycle.matching.stable import (
    StabilityViolation,
    StableMatchResult,
    UnplacedReason,
    ViolationKind,
    check_stability,
    stable_match,
)
from ecocycle.matching.waves import WaveResult, wave_match

__all__ = [
    "MentorFit",
    "PairFit",
    "StabilityViolation",
    "StableMatchResult",
    "UnplacedReason",
    "ViolationKind",
    "WaveResult",
    "assign_mentors",
    "assign_optimal",
    "assign_optimal_arrays",
    "check_stability",
    "stable_match",
    "wave_match",
]
