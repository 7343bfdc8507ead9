"""Writes of data protection: the retention job, and a person's data (a candidate's, a student's
or a mentor's) exported or erased on request. Reads are in `privacy.selectors`."""

from .erasure import person_erase
from .mentors import (
    EXPORT_FORMAT as MENTOR_EXPORT_FORMAT,
)
from .mentors import (
    mentee_notes_anonymise,
    mentor_erase,
    mentor_export,
    mentor_label,
)
from .persons import (
    EXPORT_FORMAT,
    PERSONAL_AUDIT_FIELDS,
    RetentionItem,
    RetentionReport,
    audit_trail_anonymise,
    nomination_label,
    outbound_emails_anonymise,
    person_export,
    retention_apply,
)

__all__ = [
    "EXPORT_FORMAT",
    "MENTOR_EXPORT_FORMAT",
    "PERSONAL_AUDIT_FIELDS",
    "RetentionItem",
    "RetentionReport",
    "audit_trail_anonymise",
    "mentee_notes_anonymise",
    "mentor_erase",
    "mentor_export",
    "mentor_label",
    "nomination_label",
    "outbound_emails_anonymise",
    "person_erase",
    "person_export",
    "retention_apply",
]
