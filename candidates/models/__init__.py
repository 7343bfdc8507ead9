"""Models of the candidates domain: nominations and their matching (nominations.py), and what
follows admission: progress, career introductions, alumni outcomes (cycle.py)."""

from .cycle import (
    AlumniOutcome,
    CareerProposal,
    Enrolment,
    ProgressMilestone,
)
from .nominations import (
    Cohort,
    CohortAdmission,
    CohortOverride,
    Coordinator,
    CoordinatorInvitation,
    DuplicateAttempt,
    EligibilityPolicy,
    MatchRun,
    MatchRunTrack,
    Nomination,
    NominationCourse,
    NominationDocument,
    NominationPreference,
    NominationScore,
    Placement,
    ScoringPolicy,
    document_upload_to,
)

__all__ = [
    "AlumniOutcome",
    "CareerProposal",
    "Cohort",
    "CohortAdmission",
    "CohortOverride",
    "Coordinator",
    "CoordinatorInvitation",
    "DuplicateAttempt",
    "EligibilityPolicy",
    "Enrolment",
    "MatchRun",
    "MatchRunTrack",
    "Nomination",
    "NominationCourse",
    "NominationDocument",
    "NominationPreference",
    "NominationScore",
    "Placement",
    "ProgressMilestone",
    "ScoringPolicy",
    "document_upload_to",
]
