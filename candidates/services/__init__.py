"""Writes of the candidates domain: coordinators, nominations, documents, consent, eligibility.

Every function is one transaction with audit entries; views, the API, the CSV import, admin
actions and tasks all call these, so every door applies the same rules.
"""

from ._common import (
    ALLOWED_CONTENT_TYPES,
    CONSENT_PURPOSE,
    EDITABLE_FIELDS,
    INVITATION_PURPOSE,
    LANGUAGE_FIELDS,
    OTHER_FIELDS,
    PERSON_FIELDS,
    REQUIRED_FIELDS,
    STUDIES_FIELDS,
    nomination_derived_fields,
    nominations_open_check,
)
from .alumni import (
    alumni_outcome_record,
    alumni_update_check,
    alumni_update_link,
    alumni_update_request,
    alumni_update_requests_send,
    alumni_update_submit,
)
from .cohorts import (
    cohort_approve,
    cohort_reopen,
    cohort_run_request,
    override_clear,
    override_create,
)
from .consent import (
    consent_check,
    consent_confirm,
    consent_link,
    consent_reminders_send,
)
from .coordinators import (
    api_token_create,
    api_token_revoke,
    coordinator_create,
    coordinator_invite,
    invitation_accept,
    invitation_check,
)
from .matching import (
    CohortProposal,
    cohort_match_run,
    cohort_propose,
    nightly_cohort_matching,
)
from .nominations import (
    document_remove,
    document_upload,
    eligibility_recheck,
    nomination_create,
    nomination_missing_parts,
    nomination_set_courses,
    nomination_set_preferences,
    nomination_submit,
    nomination_update,
    nomination_withdraw,
    required_documents,
)
from .progress import (
    enrolment_create,
    enrolment_create_many,
    enrolment_record,
    enrolment_record_many,
    enrolment_update,
)

__all__ = [
    "ALLOWED_CONTENT_TYPES",
    "CONSENT_PURPOSE",
    "EDITABLE_FIELDS",
    "INVITATION_PURPOSE",
    "LANGUAGE_FIELDS",
    "OTHER_FIELDS",
    "PERSON_FIELDS",
    "REQUIRED_FIELDS",
    "STUDIES_FIELDS",
    "CohortProposal",
    "alumni_outcome_record",
    "alumni_update_check",
    "alumni_update_link",
    "alumni_update_request",
    "alumni_update_requests_send",
    "alumni_update_submit",
    "api_token_create",
    "api_token_revoke",
    "cohort_approve",
    "cohort_match_run",
    "cohort_propose",
    "cohort_reopen",
    "cohort_run_request",
    "consent_check",
    "consent_confirm",
    "consent_link",
    "consent_reminders_send",
    "coordinator_create",
    "coordinator_invite",
    "document_remove",
    "document_upload",
    "eligibility_recheck",
    "enrolment_create",
    "enrolment_create_many",
    "enrolment_record",
    "enrolment_record_many",
    "enrolment_update",
    "invitation_accept",
    "invitation_check",
    "nightly_cohort_matching",
    "nomination_create",
    "nomination_derived_fields",
    "nomination_missing_parts",
    "nomination_set_courses",
    "nomination_set_preferences",
    "nomination_submit",
    "nomination_update",
    "nomination_withdraw",
    "nominations_open_check",
    "override_clear",
    "override_create",
    "required_documents",
]
