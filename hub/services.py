"""The composition's writes, which span apps: the nightly job, which runs every app's
scheduled matching in the order the cycle needs (eligibility and cohorts, then mentors for the
admitted), and the alumnus's answer, which records their outcome and, when they offer to
mentor, makes them a mentor profile."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from candidates.models import Cohort, MatchRun
from candidates.services import nightly_cohort_matching
from ecocycle.locks import JobBusy
from mentors.models import Mentor
from mentors.services import (
    alumni_mentor_profiles_create,
    invitations_expire,
    invitations_send,
    mentor_match_run,
    mentor_profile_from_alumnus,
)
from privacy.mentors import mentee_notes_anonymise
from programs.models import IntakeRound
from students.models import AlumniOutcome
from students.services import alumni_update_submit


def nightly_matching(*, trigger: str = MatchRun.Trigger.SCHEDULE,
                     now: datetime | None = None) -> dict:
    """The whole nightly job: cohorts first; then, for every round with an approved cohort,
    expired invitations are closed, mentors proposed for the candidates without one, and every
    proposal emailed as an invitation. Safe to run twice: a second run finds nothing new."""
    now = now or timezone.now()
    summary = nightly_cohort_matching(trigger=trigger, now=now)
    summary["alumni_mentor_profiles"] = alumni_mentor_profiles_create(now=now)
    summary["mentee_notes_removed"] = mentee_notes_anonymise()
    summary["mentor_invitations_expired"] = invitations_expire(now=now)
    summary["mentor_proposals"] = 0
    summary["mentor_invitations_sent"] = 0
    for round_id in Cohort.objects.filter(status=Cohort.Status.APPROVED).order_by(
        "intake_round_id").values_list("intake_round_id", flat=True):
        try:
            run = mentor_match_run(intake_round=IntakeRound.objects.get(pk=round_id),
                                   trigger=trigger, now=now)
        except JobBusy:
            summary["skipped_rounds"][round_id] = "a mentor run is under way"
            continue
        summary["mentor_proposals"] += run.counts["proposed"]
        summary["mentor_invitations_sent"] += invitations_send(intake_round_id=round_id, now=now)
    return summary


@transaction.atomic
def alumni_update_answer(*, token: str, data: Mapping[str, Any],
                         now: datetime | None = None) -> tuple[AlumniOutcome, Mentor | None]:
    """The alumnus answers from the emailed link (once): the outcome is recorded and, if they
    offer to mentor, a paused mentor profile is made for staff to confirm — both or neither."""
    outcome = alumni_update_submit(token=token, data=data, now=now)
    mentor = mentor_profile_from_alumnus(actor=None, enrolment=outcome.enrolment)
    return outcome, mentor
