"""Writes of the candidates domain: coordinators, nominations, documents, consent, eligibility,
reminders.

Every function is one transaction with audit entries; views, the API, the CSV import, admin
actions and tasks all call these, so every door applies the same rules.
"""

from ._common import (
    ALLOWED_CONTENT_TYPES,
    EDITABLE_FIELDS,
    LANGUAGE_FIELDS,
    OTHER_FIELDS,
    PERSON_FIELDS,
    REQUIRED_FIELDS,
    STUDIES_FIELDS,
    nomination_derived_fields,
    nominations_open_check,
)
from .cohorts import (
    cohort_approve,
    cohort_reopen,
    cohort_run_request,
    cohort_run_request_clear,
    override_clear,
    override_create,
)
from .consent import (
    CONSENT_LINK,
    consent_check,
    consent_confirm,
    consent_link,
    consent_reminders_send,
    consent_request_after_email_change,
    consent_resend,
)
from .coordinators import (
    COORDINATOR_INVITATION_LINK,
    api_token_create,
    api_token_revoke,
    coordinator_create,
    coordinator_invitation_revoke,
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
    nomination_save,
    nomination_set_courses,
    nomination_set_preferences,
    nomination_submit,
    nomination_update,
    nomination_withdraw,
)
from .reminders import deadline_reminders_send

__all__ = [
    "ALLOWED_CONTENT_TYPES",
    "CONSENT_LINK",
    "COORDINATOR_INVITATION_LINK",
    "EDITABLE_FIELDS",
    "LANGUAGE_FIELDS",
    "OTHER_FIELDS",
    "PERSON_FIELDS",
    "REQUIRED_FIELDS",
    "STUDIES_FIELDS",
    "CohortProposal",
    "api_token_create",
    "api_token_revoke",
    "cohort_approve",
    "cohort_match_run",
    "cohort_propose",
    "cohort_reopen",
    "cohort_run_request",
    "cohort_run_request_clear",
    "consent_check",
    "consent_confirm",
    "consent_link",
    "consent_reminders_send",
    "consent_request_after_email_change",
    "consent_resend",
    "coordinator_create",
    "coordinator_invitation_revoke",
    "coordinator_invite",
    "deadline_reminders_send",
    "document_remove",
    "document_upload",
    "eligibility_recheck",
    "invitation_accept",
    "invitation_check",
    "nightly_cohort_matching",
    "nomination_create",
    "nomination_derived_fields",
    "nomination_missing_parts",
    "nomination_save",
    "nomination_set_courses",
    "nomination_set_preferences",
    "nomination_submit",
    "nomination_update",
    "nomination_withdraw",
    "nominations_open_check",
    "override_clear",
    "override_create",
]
