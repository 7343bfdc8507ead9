"""The staff digest's reads: what needs KITECH staff's attention, across the apps, in a window.

Each kind is read by the moment its event happened, and each digest's window starts where the
last one ended, so an event is told once:

- duplicate nominations refused: when the submission was refused;
- mentor invitations declined: when the mentor answered; expired: when the invitation expired
  (past its expiry it cannot be answered, whether or not the daily follow-up has marked it yet);
- consent missing: when the round's nominations deadline came within
  ECOCYCLE_DIGEST_CONSENT_DAYS, for the submitted nominations still without consent then;
- candidates who withdrew on their own page: when they withdrew (one line per round, to the
  round's audit log of withdrawals);
- alumni who offered to mentor: when their paused profile was made, if still unconfirmed;
- scheduled jobs that failed: when they failed; so also the emails of a cohort decision whose
  writing failed (one line per round, told as a failed job).

One query per kind, whatever the window. Lines group a kind per round where staff handle it per
round, and name the first few people.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from django.conf import settings
from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from candidates.models import DuplicateAttempt, Nomination
from candidates.selectors import cohort_notification_failures
from candidates.services.candidate_changes import CANDIDATE
from ecocycle.mail import absolute_url
from ecocycle.models import AuditEntry, User
from mentors.models import MentorAssignment
from mentors.selectors import alumni_mentors_to_confirm
from programs.models import IntakeRound, RoundMilestone

from .models import JobFailure, StaffDigest

NAMES_SHOWN = 3
# A first digest, with none before it, looks back this far.
FIRST_WINDOW = timedelta(days=1)

DUPLICATES = "duplicates"
MENTOR_DECLINED = "mentor_declined"
MENTOR_EXPIRED = "mentor_expired"
CONSENT_MISSING = "consent_missing"
CANDIDATE_WITHDREW = "candidate_withdrew"
ALUMNI_MENTORS = "alumni_mentors"
JOB_FAILURES = "job_failures"

Status = MentorAssignment.Status


@dataclass(frozen=True)
class DigestLine:
    """One line of the digest: how many events of a kind (in a round), who, and where to act."""

    kind: str
    count: int
    names: tuple[str, ...]
    url: str
    round_name: str = ""
    deadline: datetime | None = None

    @property
    def more(self) -> int:
        return self.count - len(self.names)


def _line(kind: str, items: list, name: Callable, url: str, **extra) -> DigestLine:
    return DigestLine(kind=kind, count=len(items),
                      names=tuple(name(item) for item in items[:NAMES_SHOWN]), url=url, **extra)


def _per_round(kind: str, items: Iterable, round_of: Callable[..., IntakeRound], name: Callable,
               url_name: str, deadlines: dict | None = None) -> list[DigestLine]:
    """One line per round, for items already ordered by round."""
    lines = []
    for intake_round, group in groupby(items, key=round_of):
        url = absolute_url(reverse(url_name, args=[intake_round.pk]))
        lines.append(_line(kind, list(group), name, url, round_name=str(intake_round),
                           deadline=(deadlines or {}).get(intake_round.pk)))
    return lines


def _between(field: str, since: datetime, until: datetime) -> Q:
    return Q(**{f"{field}__gt": since, f"{field}__lte": until})


def _duplicates(since: datetime, until: datetime) -> list[DigestLine]:
    attempts = list(DuplicateAttempt.objects.filter(_between("created_at", since, until))
                    .select_related("nomination__university").order_by("created_at", "id"))
    if not attempts:
        return []
    return [_line(DUPLICATES, attempts,
                  lambda a: f"{a.nomination.display_name} ({a.nomination.university.name})",
                  absolute_url(reverse("admin:candidates_duplicateattempt_changelist")))]


def _mentor_invitations(since: datetime, until: datetime) -> list[DigestLine]:
    answered = (MentorAssignment.objects
                .filter((Q(status=Status.DECLINED) & _between("responded_at", since, until))
                        | (Q(status__in=[Status.INVITED, Status.EXPIRED])
                           & _between("expires_at", since, until)))
                .select_related("mentor", "nomination__intake_round__program")
                .order_by("nomination__intake_round_id", "id"))
    lines = []
    for kind, statuses in ((MENTOR_DECLINED, {Status.DECLINED}),
                           (MENTOR_EXPIRED, {Status.INVITED, Status.EXPIRED})):
        lines += _per_round(kind, (a for a in answered if a.status in statuses),
                            lambda a: a.nomination.intake_round,
                            lambda a: f"{a.nomination.display_name} ({a.mentor.full_name})",
                            "staff_mentors:round_assignments")
    return lines


def _consent_missing(since: datetime, until: datetime) -> list[DigestLine]:
    ahead = timedelta(days=settings.ECOCYCLE_DIGEST_CONSENT_DAYS)
    # The deadline came within `ahead` during the window, and nominations are still open.
    closing = RoundMilestone.objects.filter(
        kind=RoundMilestone.Kind.NOMINATIONS_CLOSE, at__gt=max(since + ahead, until),
        at__lte=until + ahead)
    deadlines = dict(closing.values_list("intake_round_id", "at"))
    waiting = (Nomination.objects.filter(intake_round_id__in=deadlines,
                                         status=Nomination.Status.SUBMITTED,
                                         consent_given_at__isnull=True)
               .select_related("intake_round__program", "university")
               .order_by("intake_round_id", "submitted_at", "id"))
    return _per_round(CONSENT_MISSING, waiting, lambda n: n.intake_round,
                      lambda n: f"{n.display_name} ({n.university.name})",
                      "staff_rounds:round_overview", deadlines)


def _candidates_withdrew(since: datetime, until: datetime) -> list[DigestLine]:
    """Candidates who withdrew on their own page (coordinators withdraw their own nominations
    before the deadline, and need no telling), per round. One query."""
    by_candidate = (AuditEntry.objects.filter(_between("created_at", since, until),
                                              action="nomination_withdraw", actor__isnull=True,
                                              actor_label=CANDIDATE)
                    .annotate(nomination_id=Cast("target_id", BigIntegerField()))
                    .values("nomination_id"))
    withdrawn = (Nomination.objects.filter(pk__in=by_candidate,
                                           status=Nomination.Status.WITHDRAWN)
                 .select_related("intake_round__program", "university")
                 .order_by("intake_round_id", "withdrawn_at", "id"))
    lines = []
    for intake_round, group in groupby(withdrawn, key=lambda n: n.intake_round):
        url = absolute_url(reverse("staff_rounds:audit_log", args=[intake_round.pk])
                           + "?what=nomination_withdraw")
        lines.append(_line(CANDIDATE_WITHDREW, list(group),
                           lambda n: f"{n.display_name} ({n.university.name})", url,
                           round_name=str(intake_round)))
    return lines


def _alumni_mentors(since: datetime, until: datetime) -> list[DigestLine]:
    offers = list(alumni_mentors_to_confirm().filter(_between("created_at", since, until)))
    if not offers:
        return []
    return [_line(ALUMNI_MENTORS, offers, lambda m: m.full_name,
                  absolute_url(reverse("staff_mentors:mentor_list")))]


def _job_failures(since: datetime, until: datetime) -> list[DigestLine]:
    failures = list(JobFailure.objects.filter(_between("failed_at", since, until))
                    .order_by("failed_at", "id"))
    if not failures:
        return []
    return [_line(JOB_FAILURES, failures,
                  lambda f: f"{f.job} {timezone.localtime(f.failed_at):%Y-%m-%d %H:%M}: "
                            f"{f.error[:120]}",
                  absolute_url(reverse("admin:hub_jobfailure_changelist")))]


def _cohort_email_failures(since: datetime, until: datetime) -> list[DigestLine]:
    """The emails of a cohort decision whose job gave up, per round: how far it came."""
    return _per_round(
        JOB_FAILURES, cohort_notification_failures(since=since, until=until),
        lambda n: n.cohort.intake_round,
        lambda n: f"{n.cohort.intake_round}: {n.get_kind_display()}, "
                  f"{n.candidates_told}/{n.candidates} ({n.error[:120]})",
        "staff_rounds:round_overview")


def staff_digest_lines(*, since: datetime, until: datetime) -> list[DigestLine]:
    """Everything that needs staff's attention among the events in (since, until]."""
    return [*_duplicates(since, until), *_mentor_invitations(since, until),
            *_consent_missing(since, until), *_candidates_withdrew(since, until),
            *_alumni_mentors(since, until),
            *_job_failures(since, until), *_cohort_email_failures(since, until)]


def staff_digest_window_start(*, now: datetime) -> datetime:
    """Where the next digest starts: where the last one ended."""
    last = StaffDigest.objects.order_by("-window_end").values_list("window_end", flat=True).first()
    return min(last, now) if last is not None else now - FIRST_WINDOW


def staff_digest_recipients() -> QuerySet[User]:
    """KITECH staff who want the digest (their account page says so)."""
    return User.objects.filter(role=User.Role.STAFF, is_staff=True, is_active=True,
                               wants_staff_digest=True).order_by("id")
