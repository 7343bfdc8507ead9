"""Writes of the students domain: enrolment and progress, career matching, alumni outcomes.

Every function is one transaction with audit entries; the staff pages, the alumni's emailed
link, commands and tasks all call these.
"""

from .alumni import (
    ALUMNI_UPDATE_LINK,
    alumni_outcome_record,
    alumni_update_check,
    alumni_update_link,
    alumni_update_request,
    alumni_update_requests_send,
    alumni_update_submit,
)
from .careers import career_dismiss, career_introduce, career_match_run
from .progress import (
    enrolment_create,
    enrolment_create_many,
    enrolment_record,
    enrolment_record_many,
    enrolment_update,
)

__all__ = [
    "ALUMNI_UPDATE_LINK",
    "alumni_outcome_record",
    "alumni_update_check",
    "alumni_update_link",
    "alumni_update_request",
    "alumni_update_requests_send",
    "alumni_update_submit",
    "career_dismiss",
    "career_introduce",
    "career_match_run",
    "enrolment_create",
    "enrolment_create_many",
    "enrolment_record",
    "enrolment_record_many",
    "enrolment_update",
]
