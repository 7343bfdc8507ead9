"""Writes of the mentors domain: profiles, the nightly matching, invitations, the mentoring log.

Every function is one transaction with audit entries; the emailed link, the mentor's page, the
staff pages, the admin, commands and tasks all call these.
"""

from .activities import mentoring_activity_record
from .alumni import alumni_mentor_profiles_create, mentor_confirm, mentor_profile_from_alumnus
from .invitations import (
    MENTOR_INVITATION_LINK,
    assignment_answer,
    assignment_propose,
    assignment_withdraw,
    assignments_end_for_places_given_up,
    invitation_answer,
    invitation_check,
    invitation_link,
    invitation_reminders_send,
    invitations_expire,
    invitations_send,
    mentor_follow_up,
)
from .matching import mentor_match_run
from .profiles import SELF_EDITABLE_FIELDS, mentor_create, mentor_update

__all__ = [
    "MENTOR_INVITATION_LINK",
    "SELF_EDITABLE_FIELDS",
    "alumni_mentor_profiles_create",
    "assignment_answer",
    "assignment_propose",
    "assignment_withdraw",
    "assignments_end_for_places_given_up",
    "invitation_answer",
    "invitation_check",
    "invitation_link",
    "invitation_reminders_send",
    "invitations_expire",
    "invitations_send",
    "mentor_confirm",
    "mentor_create",
    "mentor_follow_up",
    "mentor_match_run",
    "mentor_profile_from_alumnus",
    "mentor_update",
    "mentoring_activity_record",

]
