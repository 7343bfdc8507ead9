"""Reads of a round's cohort: the cohort itself, its scoring weights, and whether a matching run
is under way. The dashboard, the exports, the matching service and the staff pages share them."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from programs.models import IntakeRound

from .. import scoring
from ..models import (
    Cohort,
    CohortNotification,
    Coordinator,
    MatchRun,
    Nomination,
    Placement,
    ScoringPolicy,
)

# A run request older than this was skipped or lost (the task's time limit is shorter), and
# the pages stop saying "running".
RUN_REQUEST_TIMEOUT = timedelta(minutes=30)


def cohort_get_for_round(intake_round: IntakeRound) -> Cohort | None:
    """The round's cohort, with its current run and approver joined; None before any run."""
    return Cohort.objects.filter(intake_round=intake_round).select_related(
        "match_run", "approved_by").first()


def scoring_weights_get_for_round(intake_round: IntakeRound) -> dict[str, int]:
    """The weight of each scoring criterion in the round's program (the defaults without a
    policy of its own)."""
    policy = ScoringPolicy.objects.filter(program_id=intake_round.program_id).first()
    return policy.weights() if policy else dict(scoring.DEFAULT_WEIGHTS)


def cohort_run_list(intake_round: IntakeRound) -> QuerySet[MatchRun]:
    """The round's cohort runs that did not fail, newest first (a run still being written,
    STAGING, is not one yet). The proposals of later waves of offers (counts {"wave": n}) are
    not: they are shown on the wave's page."""
    return (MatchRun.objects.filter(intake_round=intake_round, kind=MatchRun.Kind.COHORT)
            .exclude(status__in=[MatchRun.Status.FAILED, MatchRun.Status.STAGING])
            .exclude(counts__has_key="wave")
            .order_by("-started_at", "-id"))


def cohort_run_requested(cohort: Cohort | None, latest: MatchRun | None, *,
                         now: datetime | None = None) -> bool:
    """Whether a run staff asked for is still to come: a request newer than the latest run and
    younger than RUN_REQUEST_TIMEOUT. Reads nothing more."""
    requested = cohort.run_requested_at if cohort else None
    if requested is None or (latest is not None and requested <= latest.started_at):
        return False
    return (now or timezone.now()) - requested < RUN_REQUEST_TIMEOUT


@dataclass(frozen=True)
class CohortRunState:
    running: bool
    latest_run: MatchRun | None


def cohort_run_state(intake_round: IntakeRound) -> CohortRunState:
    """What the page polling a requested run needs: is it running, and the latest run (two
    queries)."""
    latest = cohort_run_list(intake_round).first()
    return CohortRunState(running=cohort_run_requested(cohort_get_for_round(intake_round), latest),
                          latest_run=latest)


@dataclass(frozen=True)
class CohortResultRecipients:
    placements: list[Placement]                 # each candidate of the run, placed or not
    coordinators: dict[int, list[Coordinator]]  # university id -> its coordinators
    nominees: dict[int, int]                    # university id -> its nominees in the round


def round_nominees(intake_round_id: int) -> QuerySet[Nomination]:
    """Whom a round's universities nominated: every nomination but drafts (withdrawn ones too,
    unless they were withdrawn before being submitted). The results each university is sent
    list these."""
    return (Nomination.objects.filter(intake_round_id=intake_round_id)
            .exclude(status=Nomination.Status.DRAFT)
            .exclude(status=Nomination.Status.WITHDRAWN, submitted_at__isnull=True))


def cohort_result_recipients(cohort: Cohort) -> CohortResultRecipients:
    """Whom approving the cohort's current proposal tells its result, as the approval's emails
    do: every candidate of the run, placed or not, and the coordinators with an active account
    of every university that nominated in the round (its results list every nominee, also those
    who never took part). So also whom a reopening tells. Three queries."""
    placements = [] if cohort.match_run_id is None else list(
        Placement.objects.filter(match_run_id=cohort.match_run_id)
        .select_related("nomination__university", "track").order_by("id"))
    nominees = Counter(round_nominees(cohort.intake_round_id).values_list("university_id",
                                                                          flat=True))
    coordinators = _coordinators_of(set(nominees)
                                    | {p.nomination.university_id for p in placements})
    return CohortResultRecipients(placements=placements, coordinators=coordinators,
                                  nominees=dict(nominees))


def _coordinators_of(university_ids) -> dict[int, list[Coordinator]]:
    coordinators = defaultdict(list)
    for coordinator in Coordinator.objects.filter(
        university_id__in=university_ids, user__is_active=True,
    ).select_related("user", "university").order_by("user__email"):
        coordinators[coordinator.university_id].append(coordinator)
    return dict(coordinators)


def cohort_result_coordinators(*, intake_round_id: int,
                               match_run_id: int) -> dict[int, list[Coordinator]]:
    """The coordinators cohort_result_recipients names for the run `match_run_id`, per
    university, without loading the run's placements (the emails' job). Two queries."""
    university_ids = set(round_nominees(intake_round_id).values_list("university_id", flat=True)
                         .distinct().order_by())
    university_ids |= set(Placement.objects.filter(match_run_id=match_run_id).values_list(
        "nomination__university_id", flat=True).distinct().order_by())
    return _coordinators_of(university_ids)


def cohort_notification_latest(cohort: Cohort | None) -> CohortNotification | None:
    """The emails of the cohort's latest decision and how far their writing has come (the
    round's page shows it)."""
    if cohort is None or cohort.pk is None:
        return None
    return cohort.notifications.order_by("-id").first()


def cohort_notification_failures(*, since: datetime, until: datetime):
    """Cohort decisions whose emails failed in (since, until], per round, oldest first (the
    staff digest)."""
    return (CohortNotification.objects.filter(failed_at__gt=since, failed_at__lte=until,
                                              status=CohortNotification.Status.FAILED)
            .select_related("cohort__intake_round__program")
            .order_by("cohort__intake_round_id", "failed_at", "id"))


def cohort_notifications_unfinished() -> list[int]:
    """The cohort decisions whose emails' job has not finished (queued, stopped, failed)."""
    Status = CohortNotification.Status
    return list(CohortNotification.objects.filter(
        status__in=[Status.QUEUED, Status.SENDING, Status.FAILED]).order_by("id")
        .values_list("pk", flat=True))
