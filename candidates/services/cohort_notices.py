"""The emails that tell a cohort decision, written to the outbox by a background job.

A decision (approval, reopening) commits its record and a `CohortNotification` in the request;
the job `cohort_notification_send` then writes the emails batch by batch, each batch in its own
transaction with the notification's cursor, so that a job run twice, killed half-way and run
again, or run beside another copy of itself writes every email exactly once. Each template is
rendered once per language and variant (admitted or not, which track), the candidate's name
and track filled in afterwards; each university's summary is rendered once per language, the
words of each kind of outcome once.
"""

from types import SimpleNamespace

from django.conf import settings
from django.db import transaction
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation

from ecocycle.mail import email_draft, email_placeholder, email_queue_many
from ecocycle.services import audit_entry_create
from programs.calendar import moment
from programs.models import DegreeTrack, RoundTrack

from ..models import Cohort, CohortNotification, Coordinator, Nomination, Offer, Placement
from ..selectors import (
    cohort_notifications_unfinished,
    cohort_result_coordinators,
    round_results_by_university,
)
from .candidate_page import candidate_page_link

# Candidates' emails per transaction; one outbox flush is queued per batch (it sends up to 500).
NOTIFY_BATCH = 500

Kind, Status = CohortNotification.Kind, CohortNotification.Status
TEMPLATES = {
    Kind.APPROVED: ("cohort_candidate_result", "cohort_university_summary"),
    Kind.WITHDRAWN: ("cohort_result_withdrawn_candidate", "cohort_result_withdrawn_university"),
}
NAME = "name"
# An admitted candidate's offer: its deadline in their time zone, and the link to their page.
DEADLINE, PAGE_LINK = "offer_deadline", "page_link"
# The candidate's name as everywhere else, without making a model instance per candidate.
DISPLAY_NAME = Nomination.display_name.fget


def cohort_notification_queue(*, cohort: Cohort, kind: str) -> CohortNotification:
    """Inside the decision's transaction: the notification of record, and its job queued on
    commit. A withdrawal tells whom the approval's emails reached, and stops those still being
    written."""
    # In here: candidates.tasks imports the services.
    from ..tasks import send_cohort_notification  # noqa: PLC0415

    upto, universities = None, True
    if kind == Kind.WITHDRAWN:
        # Locked: a batch of the approval's job under way ends first, so its cursor is final.
        approval = (cohort.notifications.select_for_update().filter(kind=Kind.APPROVED)
                    .order_by("-id").first())
        if approval is not None and approval.status != Status.DONE:
            upto, universities = approval.cursor, approval.universities_done
            approval.status = Status.CANCELLED
            approval.save(update_fields=["status"])
    placements = Placement.objects.filter(match_run_id=cohort.match_run_id)
    if upto is not None:
        placements = placements.filter(pk__lte=upto)
    notification = CohortNotification.objects.create(
        cohort=cohort, kind=kind, match_run_id=cohort.match_run_id, placements_upto=upto,
        tell_universities=universities, candidates=placements.count())
    send_cohort_notification.delay_on_commit(notification.pk)
    return notification


def cohort_notification_send(*, notification_id: int,
                             batch_size: int = NOTIFY_BATCH) -> CohortNotification:
    """Write the notification's emails to the outbox: the universities' summaries, then the
    candidates' emails `batch_size` at a time. Safe to run twice, at once or after a crash;
    a done or cancelled notification is left alone; a failed one carries on where it stopped."""
    drafts: dict = {}
    while True:
        with transaction.atomic():
            notification = (CohortNotification.objects.select_for_update()
                            .select_related("cohort__intake_round__program")
                            .get(pk=notification_id))
            if notification.status in (Status.DONE, Status.CANCELLED):
                return notification
            notification.status, notification.error = Status.SENDING, ""
            if notification.tell_universities and not notification.universities_done:
                told = _universities_tell(notification)
                notification.queued += told
                notification.universities_queued = told
                notification.universities_done = True
            elif told := _candidates_tell(notification, drafts, batch_size):
                notification.queued += told
            else:
                notification.status, notification.finished_at = Status.DONE, timezone.now()
                audit_entry_create(actor=None, action="cohort_notification_done",
                                   target=notification.cohort,
                                   after={"kind": notification.kind,
                                          "emails": notification.queued})
            notification.save()


def _candidates_tell(notification: CohortNotification, drafts: dict, batch_size: int) -> int:
    """The next batch of candidates' emails after the cursor; how many. Plain values, not model
    instances: the batch is the job's hot loop."""
    placements = Placement.objects.filter(match_run_id=notification.match_run_id,
                                          pk__gt=notification.cursor)
    if notification.placements_upto is not None:
        placements = placements.filter(pk__lte=notification.placements_upto)
    batch = list(placements.order_by("pk").values_list(
        "pk", "track_id", "nomination__email", "nomination__candidate_language",
        "nomination__given_names", "nomination__family_name", "nomination_id",
        "nomination__email_normalised", "nomination__anonymised_at", "nomination__time_zone",
        "nomination__created_by_id")[:batch_size])
    if not batch:
        return 0
    offers = _offers_of(notification, batch)
    emails = []
    for (_pk, track_id, email, language, given_names, family_name, nomination_id,
         email_normalised, anonymised_at, time_zone, created_by_id) in batch:
        deadline = offers.get(nomination_id)
        draft, fill = _candidate_draft(notification, drafts, language, track_id,
                                       offered=deadline is not None)
        name = DISPLAY_NAME(SimpleNamespace(given_names=given_names, family_name=family_name))
        fill = {**fill, NAME: name}
        if deadline is not None:
            zone = time_zone or offers["zones"].get(created_by_id) or settings.TIME_ZONE
            fill[DEADLINE] = _deadline_text(drafts, deadline, zone, language)
            fill[PAGE_LINK] = candidate_page_link(SimpleNamespace(
                pk=nomination_id, email=email, email_normalised=email_normalised,
                anonymised_at=anonymised_at))
        emails.append(draft.personalise(to=email, fill=fill))
    email_queue_many(emails)
    notification.cursor = batch[-1][0]
    return len(emails)


def _offers_of(notification: CohortNotification, batch: list) -> dict:
    """The deadline of each admitted candidate's pending offer in this cohort, by nomination (an
    approval's emails tell the offer; a withdrawal's tell none), and, under "zones", the time
    zone of each nominating coordinator: two queries a batch."""
    if notification.kind != Kind.APPROVED:
        return {"zones": {}}
    ids = [row[6] for row in batch if row[1] is not None]
    offers: dict = dict(Offer.objects.filter(
        cohort_id=notification.cohort_id, nomination_id__in=ids,
        status=Offer.Status.PENDING).values_list("nomination_id", "deadline")) if ids else {}
    creators = {row[10] for row in batch if row[6] in offers and not row[9]} - {None}
    offers["zones"] = dict(Coordinator.objects.filter(user_id__in=creators).exclude(
        timezone="").values_list("user_id", "timezone")) if creators else {}
    return offers


def _deadline_text(drafts: dict, deadline, zone: str, language: str) -> str:
    """The deadline as the candidate reads it (their time zone, their language's format), made
    once per deadline, zone and language: a wave's offers share one deadline."""
    key = ("deadline", deadline, zone, language)
    if key not in drafts:
        with timezone.override(zone), translation.override(language):
            drafts[key] = moment(deadline)
    return drafts[key]


class _TrackStandIn:
    """What the candidate's templates print of their track, as placeholders: the template is
    rendered once per language for every track, the track's words filled in per email."""

    supervisor_name = email_placeholder("track_supervisor")

    def __str__(self) -> str:
        return email_placeholder("track")

    def get_campus_display(self) -> str:
        return email_placeholder("track_campus")


def _candidate_draft(notification: CohortNotification, drafts: dict, language: str,
                     track_id: int | None, *, offered: bool = False):
    """The draft for a candidate (rendered once per language, admitted or not, with an offer or
    not) and the values of their track to fill in (made once per language and track)."""
    admitted = track_id is not None
    if ("draft", language, admitted, offered) not in drafts:
        intake_round = notification.cohort.intake_round
        drafts["draft", language, admitted, offered] = email_draft(
            template=TEMPLATES[notification.kind][0], language=language,
            context={"nomination": SimpleNamespace(display_name=email_placeholder(NAME)),
                     "intake_round": intake_round, "program": intake_round.program,
                     "track": _TrackStandIn() if admitted else None, "admitted": admitted,
                     "offer": SimpleNamespace(deadline=email_placeholder(DEADLINE))
                     if offered else None,
                     "page_link": email_placeholder(PAGE_LINK) if offered else ""})
    if ("track", language, track_id) not in drafts:
        if "tracks" not in drafts:
            drafts["tracks"] = DegreeTrack.objects.in_bulk(
                list(RoundTrack.objects.filter(
                    intake_round_id=notification.cohort.intake_round_id)
                    .values_list("track_id", flat=True)))
        track = drafts["tracks"].get(track_id) or (
            DegreeTrack.objects.get(pk=track_id) if admitted else None)
        with translation.override(language):
            drafts["track", language, track_id] = {
                "track": str(track), "track_campus": str(track.get_campus_display()),
                "track_supervisor": track.supervisor_name} if admitted else {}
    return drafts["draft", language, admitted, offered], drafts["track", language, track_id]


def _universities_tell(notification: CohortNotification) -> int:
    """Each university's coordinators get its summary, rendered once per language; how many
    emails."""
    intake_round = notification.cohort.intake_round
    coordinators = cohort_result_coordinators(intake_round_id=intake_round.pk,
                                              match_run_id=notification.match_run_id)
    if notification.kind == Kind.APPROVED:
        results = round_results_by_university(intake_round)
    else:
        results = _withdrawn_rows(notification, coordinators)
    emails, memo = [], {}
    for university, rows in results:
        by_language: dict[str, list[str]] = {}
        for coordinator in coordinators.get(university.pk, []):
            by_language.setdefault(coordinator.user.language, []).append(coordinator.user.email)
        for language, addresses in by_language.items():
            if notification.kind == Kind.APPROVED:
                rows = _summary_rows(rows, language, memo)
            draft = email_draft(
                template=TEMPLATES[notification.kind][1], language=language,
                context={"university": university, "intake_round": intake_round,
                         "program": intake_round.program, "rows": rows})
            emails += [draft.personalise(to=address, fill={}) for address in addresses]
    email_queue_many(emails)
    return len(emails)


def _summary_rows(rows: list[dict], language: str, memo: dict) -> list[dict]:
    """The summary's rows with each outcome's words (`outcome_text`, `reasons`) rendered once
    per language and kind of outcome, not once per row: thousands of rows share a few."""
    fragment = get_template("email/cohort_university_summary/_outcome.txt").template
    with translation.override(language):
        for row in rows:
            outcome = row["outcome"]
            key = (language, outcome.code, outcome.decided_round, outcome.track_id,
                   outcome.alumni_path, outcome.left_studies)
            if key not in memo:
                memo[key] = fragment.render(Context({"outcome": outcome}, autoescape=False))
            why = (language, outcome.code, repr(outcome.eligibility_reasons),
                   repr(outcome.unplaced_reasons))
            if why not in memo:
                memo[why] = [str(reason) for reason in outcome.reasons]
            row["outcome_text"], row["reasons"] = memo[key], memo[why]
    return rows


def _withdrawn_rows(notification: CohortNotification, coordinators: dict) -> list:
    """Per university, the candidates whose result is withdrawn (those the approval told)."""
    per_university = {uid: (found[0].university, []) for uid, found in coordinators.items()}
    placements = Placement.objects.filter(match_run_id=notification.match_run_id).select_related(
        "nomination__university", "track").order_by("id")
    if notification.placements_upto is not None:
        placements = placements.filter(pk__lte=notification.placements_upto)
    for placement in placements:
        nomination = placement.nomination
        per_university.setdefault(nomination.university_id, (nomination.university, []))[1].append(
            {"nomination": nomination, "track": placement.track,
             "admitted": placement.track_id is not None})
    return list(per_university.values())


@transaction.atomic
def cohort_notifications_resume() -> list[CohortNotification]:
    """Carry on every decision's emails whose job has not finished (queued, stopped half-way or
    failed), where each stopped: the command and a periodic task call this, because the
    embedded default's broker cannot redeliver a task whose worker died. Safe beside a job still
    running (its cursor is taken under the notification's row lock)."""
    return [cohort_notification_send(notification_id=notification_id)
            for notification_id in cohort_notifications_unfinished()]


def cohort_notification_fail(*, notification_id: int, error: BaseException) -> None:
    """The job gave up (its retries spent): kept for the round's page and the staff digest. A
    later run carries on where it stopped."""
    notification = CohortNotification.objects.select_for_update().get(pk=notification_id)
    if notification.status in (Status.DONE, Status.CANCELLED):
        return
    notification.status, notification.failed_at = Status.FAILED, timezone.now()
    notification.error = f"{error.__class__.__name__}: {error}"[:500]
    notification.save(update_fields=["status", "failed_at", "error"])
    audit_entry_create(actor=None, action="cohort_notification_fail", target=notification.cohort,
                       after={"kind": notification.kind, "error": notification.error,
                              "queued": notification.queued})
