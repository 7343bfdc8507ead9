"""The composition's writes, which span apps: the nightly job, which runs every app's
scheduled matching in the order the cycle needs (eligibility and cohorts, then mentors for the
admitted), and the alumnus's answer, which records their outcome and, when they offer to
mentor, makes them a mentor profile; the staff digest, which tells KITECH staff what needs
their attention across the apps, and the record of a scheduled job that failed."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from candidates.models import Cohort, MatchRun
from candidates.services import nightly_cohort_matching, offers_lapse
from ecocycle.locks import JobBusy, exclusive_job
from ecocycle.mail import absolute_url, email_queue
from ecocycle.services import audit_entry_create
from mentors.models import Mentor
from mentors.services import (
    alumni_mentor_profiles_create,
    assignments_end_for_places_given_up,
    invitations_expire,
    invitations_send,
    mentor_match_run,
    mentor_profile_from_alumnus,
)
from privacy.services import mentee_notes_anonymise
from programs.models import IntakeRound
from students.models import AlumniOutcome
from students.services import alumni_update_submit

from .digest import (
    DigestLine,
    staff_digest_lines,
    staff_digest_recipients,
    staff_digest_window_start,
)
from .models import JobFailure, StaffDigest


def nightly_matching(*, trigger: str = MatchRun.Trigger.SCHEDULE,
                     now: datetime | None = None) -> dict:
    """The whole nightly job: cohorts first, and offers past their deadline lapse; then, for
    every round with an approved cohort, expired invitations are closed, mentors proposed for
    the candidates without one, and every proposal emailed as an invitation. Safe to run twice:
    a second run finds nothing new."""
    now = now or timezone.now()
    summary = nightly_cohort_matching(trigger=trigger, now=now)
    # Before mentors: a lapsed offer's seat is back and its candidate needs no mentor.
    summary["offers_lapsed"] = offers_lapse(now=now)
    summary["alumni_mentor_profiles"] = alumni_mentor_profiles_create(now=now)
    summary["mentee_notes_removed"] = mentee_notes_anonymise()
    summary["mentor_invitations_expired"] = invitations_expire(now=now)
    # A candidate who gave their place up (withdrew, no-show) needs their mentor no more.
    summary["mentorships_ended"] = assignments_end_for_places_given_up(now=now)
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


@dataclass(frozen=True)
class StaffDigestResult:
    """What a digest run did: SENT (to `recipients` staff), or why it sent nothing."""

    SENT = "sent"
    QUIET = "nothing needs attention"
    ALREADY_SENT = "already sent today"
    BUSY = "another copy is sending it"

    status: str
    lines: tuple[DigestLine, ...] = ()
    recipients: int = 0
    digest: StaffDigest | None = None


def staff_digest_send(*, now: datetime | None = None, force: bool = False) -> StaffDigestResult:
    """Email each KITECH staff member who wants it, in their language, what needs attention
    since the last digest, each line linking to the page where it is handled.

    Nothing is sent on a quiet day. Once a day (the date in TIME_ZONE): a second run the same
    day sends nothing; `force` sends now all the same. Every digest is recorded with its window
    and the next starts where it ended, so an event is never told twice.
    """
    now = now or timezone.now()
    day = timezone.localdate(now)
    try:
        with exclusive_job("staff-digest"):
            if not force and StaffDigest.objects.filter(day=day, forced=False).exists():
                return StaffDigestResult(status=StaffDigestResult.ALREADY_SENT)
            since = staff_digest_window_start(now=now)
            lines = tuple(staff_digest_lines(since=since, until=now))
            if not lines:
                return StaffDigestResult(status=StaffDigestResult.QUIET)
            recipients = list(staff_digest_recipients())
            counts: dict[str, int] = {}
            for line in lines:
                counts[line.kind] = counts.get(line.kind, 0) + line.count
            digest = StaffDigest.objects.create(day=day, forced=force, window_start=since,
                                                window_end=now, counts=counts,
                                                recipients=len(recipients))
            audit_entry_create(actor=None, action="staff_digest_send", target=digest,
                               after={"counts": counts, "recipients": len(recipients),
                                      "forced": force})
            context = {"lines": lines, "total": sum(counts.values()), "since": since,
                       "until": now, "account_url": absolute_url(reverse("candidates:account"))}
            for user in recipients:
                email_queue(to=user.email, language=user.language, template="staff_digest",
                            context={**context, "recipient": user})
    except JobBusy:
        return StaffDigestResult(status=StaffDigestResult.BUSY)
    return StaffDigestResult(status=StaffDigestResult.SENT, lines=lines,
                             recipients=len(recipients), digest=digest)


@transaction.atomic
def job_failure_record(*, job: str, error: BaseException, traceback: str = "",
                       now: datetime | None = None) -> JobFailure:
    """Keep a scheduled job's failure for the staff digest (and the admin, which shows it)."""
    failure = JobFailure.objects.create(
        job=job, failed_at=now or timezone.now(),
        error=f"{error.__class__.__name__}: {error}"[:500], traceback=traceback)
    audit_entry_create(actor=None, action="job_failure_record", target=failure,
                       after={"job": job, "error": failure.error})
    return failure
