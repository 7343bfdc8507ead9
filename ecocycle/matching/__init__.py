"""Pure matching engine: stable assignment of candidates to tracks and mentor assignment.

No Django or project imports: plain Python, numpy and OR-Tools only. Inputs are mappings or
iterables keyed by any hashables; outputs are frozen dataclasses or plain dicts; every call is
deterministic.
"""

from ecocycle.matching.mentors import MentorFit, assign_mentors
from ecocycle.matching.stable import (
    StabilityViolation,
    StableMatchResult,
    UnplacedReason,
    ViolationKind,
    check_stability,
    stable_match,
)

__all__ = [
    "MentorFit",
    "StabilityViolation",
    "StableMatchResult",
    "UnplacedReason",
    "ViolationKind",
    "assign_mentors",
    "check_stability",
    "stable_match",
]
