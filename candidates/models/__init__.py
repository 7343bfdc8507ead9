"""Models of the candidates domain, nominations up to the approved cohort: coordinators,
nominations, matching runs and cohorts. What follows admission lives in the `students` app."""

from .cohorts import Cohort, CohortAdmission, CohortNotification, CohortOverride
from .coordinators import Coordinator, CoordinatorInvitation, DeadlineReminder
from .email_changes import CandidateEmailChange
from .imports import NominationImportJob
from .matching import MatchRun, MatchRunTrack, NominationScore, Placement, ScoringPolicy
from .nominations import (
    DuplicateAttempt,
    EligibilityPolicy,
    Nomination,
    NominationCourse,
    NominationDocument,
    NominationPreference,
    document_upload_to,
)
from .offers import Offer
from .whatif import WhatIfRun

__all__ = [
    "CandidateEmailChange",
    "Cohort",
    "CohortAdmission",
    "CohortNotification",
    "CohortOverride",
    "Coordinator",
    "CoordinatorInvitation",
    "DeadlineReminder",
    "DuplicateAttempt",
    "EligibilityPolicy",
    "MatchRun",
    "MatchRunTrack",
    "Nomination",
    "NominationCourse",
    "NominationDocument",
    "NominationImportJob",
    "NominationPreference",
    "NominationScore",
    "Offer",
    "Placement",
    "ScoringPolicy",
    "WhatIfRun",
    "document_upload_to",
]
