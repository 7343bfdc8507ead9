"""Models of the candidates domain: nominations up to the approved cohort. What follows
admission lives in the `students` app."""

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
    "Cohort",
    "CohortAdmission",
    "CohortOverride",
    "Coordinator",
    "CoordinatorInvitation",
    "DuplicateAttempt",
    "EligibilityPolicy",
    "MatchRun",
    "MatchRunTrack",
    "Nomination",
    "NominationCourse",
    "NominationDocument",
    "NominationPreference",
    "NominationScore",
    "Placement",
    "ScoringPolicy",
    "document_upload_to",
]
