"""What became of each nomination, as its university follows it: the outcome.

An outcome is computed, never stored: one CASE expression over the nomination and the records
that follow it (the approved cohort's admission, the mentor, the enrolment, the alumni outcome)
names the furthest step reached, so that a list can be filtered by outcome in the database and
each page of it is described in a fixed number of queries, whatever its size.

The codes are part of the API (the `outcome.code` of a nomination), so they are only ever added,
never renamed or given another meaning. The offer to an admitted candidate adds its codes
(offered, offer accepted, declined, lapsed, no-show) after ADMITTED, decided by the status of
the candidate's latest offer; ADMITTED itself remains for an admission without an offer.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import models
from django.db.models import Case, CharField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from programs.calendar import moment
from programs.models import DegreeTrack, IntakeRound, University

from ..eligibility import reason_text
from ..models import Cohort, Nomination, Offer, Placement
from .cohorts import round_nominees
from .dashboard import UNPLACED_TEXT

# The mentors and students apps build on candidates, so candidates may not import them: their
# records are reached through the reverse relations by name (`mentor_assignments`, `enrolment`,
# `enrolment__outcome`), and the few stored values compared here are spelt out. They are the
# values of MentorAssignment.Status, Enrolment.Status and AlumniOutcome.Path;
# tests/candidates/test_outcomes.py checks that they still are.
MENTOR_ACCEPTED = "accepted"
ENROLMENT_ENROLLED = "enrolled"
ENROLMENT_ON_LEAVE = "on_leave"
ENROLMENT_WITHDRAWN = "withdrawn"
ENROLMENT_GRADUATED = "graduated"
ALUMNI_PATHS = {
    "stayed_korea": gettext_lazy("Stayed in Korea"),
    "returned_home": gettext_lazy("Returned home"),
    "other": gettext_lazy("Other path"),
}


class OutcomeCode(models.TextChoices):
    """The outcome codes, from the first step to the furthest (a withdrawal ends any step)."""

    DRAFT = "draft", gettext_lazy("Draft")
    AWAITING_CONSENT = "awaiting_consent", gettext_lazy("Awaiting consent")
    SUBMITTED = "submitted", gettext_lazy("Submitted")
    NOT_ELIGIBLE = "not_eligible", gettext_lazy("Not eligible")
    NOT_PLACED = "not_placed", gettext_lazy("Not placed")
    ADMITTED = "admitted", gettext_lazy("Admitted")
    MENTOR_ACCEPTED = "mentor_accepted", gettext_lazy("Mentor accepted")
    ENROLLED = "enrolled", gettext_lazy("Enrolled")
    ON_LEAVE = "on_leave", gettext_lazy("On leave")
    GRADUATED = "graduated", gettext_lazy("Graduated")
    WITHDRAWN = "withdrawn", gettext_lazy("Withdrawn")
    OFFERED = "offered", gettext_lazy("Offered a place")
    OFFER_ACCEPTED = "offer_accepted", gettext_lazy("Offer accepted")
    OFFER_DECLINED = "offer_declined", gettext_lazy("Offer declined")
    OFFER_LAPSED = "offer_lapsed", gettext_lazy("Offer lapsed")
    NO_SHOW = "no_show", gettext_lazy("Did not take up the place")


# The round has decided about the nomination: nothing of it may change from the coordinator's
# side any more.
DECIDED_OUTCOMES = frozenset({
    OutcomeCode.NOT_PLACED, OutcomeCode.ADMITTED, OutcomeCode.MENTOR_ACCEPTED,
    OutcomeCode.ENROLLED, OutcomeCode.ON_LEAVE, OutcomeCode.GRADUATED,
    OutcomeCode.OFFERED, OutcomeCode.OFFER_ACCEPTED, OutcomeCode.OFFER_DECLINED,
    OutcomeCode.OFFER_LAPSED, OutcomeCode.NO_SHOW,
})
# The offer's status that gives each offer code (of the candidate's latest offer).
OFFER_CODES = {
    Offer.Status.PENDING: OutcomeCode.OFFERED,
    Offer.Status.ACCEPTED: OutcomeCode.OFFER_ACCEPTED,
    Offer.Status.DECLINED: OutcomeCode.OFFER_DECLINED,
    Offer.Status.LAPSED: OutcomeCode.OFFER_LAPSED,
    Offer.Status.NO_SHOW: OutcomeCode.NO_SHOW,
}
# The codes whose offer has ended: the admission is gone, the offer names the track.
OFFER_ENDED = frozenset({OutcomeCode.OFFER_DECLINED, OutcomeCode.OFFER_LAPSED,
                         OutcomeCode.NO_SHOW})


def _latest_offer(field_name: str) -> Subquery:
    return Subquery(Offer.objects.filter(nomination_id=OuterRef("pk"))
                    .order_by("-made_at", "-id").values(field_name)[:1])


def _outcome_when() -> list[When]:
    admitted = Q(admission__cohort__status=Cohort.Status.APPROVED)
    mentored = Q(pk__in=Nomination.objects.filter(
        mentor_assignments__status=MENTOR_ACCEPTED).values("pk"))
    return [
        When(status=Nomination.Status.DRAFT, then=Value(OutcomeCode.DRAFT)),
        When(Q(status=Nomination.Status.WITHDRAWN) | Q(enrolment__status=ENROLMENT_WITHDRAWN),
             then=Value(OutcomeCode.WITHDRAWN)),
        When(enrolment__status=ENROLMENT_GRADUATED, then=Value(OutcomeCode.GRADUATED)),
        When(enrolment__status=ENROLMENT_ON_LEAVE, then=Value(OutcomeCode.ON_LEAVE)),
        When(enrolment__status=ENROLMENT_ENROLLED, then=Value(OutcomeCode.ENROLLED)),
        When(admitted & mentored, then=Value(OutcomeCode.MENTOR_ACCEPTED)),
        When(admitted & Q(offer_status=Offer.Status.ACCEPTED),
             then=Value(OutcomeCode.OFFER_ACCEPTED)),
        When(admitted & Q(offer_status=Offer.Status.PENDING), then=Value(OutcomeCode.OFFERED)),
        # An offer that ended gave its seat (the admission) back.
        *[When(Q(intake_round__cohort__status=Cohort.Status.APPROVED, offer_status=status),
               then=Value(OFFER_CODES[status]))
          for status in (Offer.Status.DECLINED, Offer.Status.LAPSED, Offer.Status.NO_SHOW)],
        When(admitted, then=Value(OutcomeCode.ADMITTED)),
        # Eligibility is checked again every night, also for candidates admitted long ago: it
        # only speaks for those the round has not decided about yet.
        When(is_eligible=False, then=Value(OutcomeCode.NOT_ELIGIBLE)),
        When(consent_given_at__isnull=True, then=Value(OutcomeCode.AWAITING_CONSENT)),
        # A proposal is not an outcome: "not placed" only once the cohort is approved.
        When(intake_round__cohort__status=Cohort.Status.APPROVED,
             then=Value(OutcomeCode.NOT_PLACED)),
    ]


def outcome_annotate(nominations: QuerySet[Nomination]) -> QuerySet[Nomination]:
    """The nominations with their outcome code as `outcome_code` (and the status of their
    latest offer as `offer_status`)."""
    return nominations.annotate(offer_status=_latest_offer("status")).annotate(
        outcome_code=Case(*_outcome_when(), default=Value(OutcomeCode.SUBMITTED),
                          output_field=CharField()))


@dataclass(frozen=True, eq=False)
class NominationOutcome:
    """A nomination's outcome. Its words are made when read, in the reader's language (a page,
    the API, or an email rendered in the recipient's language)."""

    code: str
    decided_round: bool = False
    track: DegreeTrack | None = None
    eligibility_reasons: tuple[dict, ...] = ()
    unplaced_reasons: tuple[dict, ...] = ()
    # The tracks the engine's reasons name, by id.
    tracks: Mapping[int, DegreeTrack] = field(default_factory=dict)
    alumni_path: str = ""
    left_studies: bool = False
    # The latest offer's deadline and, when declined, the reason the candidate chose.
    offer_deadline: datetime | None = None
    decline_reason: str = ""
    # The wave of offers the latest offer came in (1: the cohort's approval).
    offer_wave: int = 1

    @property
    def track_id(self) -> int | None:
        return self.track.pk if self.track is not None else None

    @property
    def decided(self) -> bool:
        return self.code in DECIDED_OUTCOMES or self.left_studies

    @property
    def label(self) -> str:
        if self.code == OutcomeCode.AWAITING_CONSENT and self.decided_round:
            return _("Consent never given")
        return str(OutcomeCode(self.code).label)

    @property
    def detail(self) -> str:
        """One line more: the alumni path, the track, or what is awaited."""
        if self.code == OutcomeCode.GRADUATED and self.alumni_path in ALUMNI_PATHS:
            return str(ALUMNI_PATHS[self.alumni_path])
        if self.code == OutcomeCode.OFFERED and self.track is not None:
            # In the reader's time zone (the coordinator's page; the summary email's recipient).
            return _("%(track)s: answer due by %(date)s") % {
                "track": self.track, "date": moment(self.offer_deadline)} + self._wave_note
        if self.code == OutcomeCode.OFFER_ACCEPTED and self.track is not None:
            return str(self.track) + self._wave_note
        if (self.code == OutcomeCode.OFFER_DECLINED and self.track is not None
                and self.decline_reason in Offer.DeclineReason.values):
            return _("%(track)s (reason: %(reason)s)") % {
                "track": self.track,
                "reason": Offer.DeclineReason(self.decline_reason).label}
        if self.track is not None:
            return str(self.track)
        if self.code == OutcomeCode.WITHDRAWN and self.left_studies:
            return _("Withdrew from the studies.")
        if self.code == OutcomeCode.AWAITING_CONSENT and self.decided_round:
            return _("The candidate never confirmed consent, so they could not take part in "
                     "the matching.")
        return str(_DETAIL.get(self.code, ""))

    @property
    def _wave_note(self) -> str:
        """Said of an offer made for a seat given back, not at the cohort's approval."""
        if self.offer_wave > 1:
            return " " + _("(wave %(wave)s)") % {"wave": self.offer_wave}
        return ""

    @property
    def reasons(self) -> list[str]:
        """Why not: eligibility's reasons, or the matching engine's."""
        if self.code == OutcomeCode.NOT_ELIGIBLE:
            return [reason_text(reason) for reason in self.eligibility_reasons]
        if self.code == OutcomeCode.NOT_PLACED:
            if not self.unplaced_reasons:
                return [_("The candidate did not take part in the cohort matching.")]
            return [_unplaced_text(reason, self.tracks) for reason in self.unplaced_reasons]
        return []


# The detail line of the outcomes that have no track, alumni path or later state to name.
_DETAIL = {
    OutcomeCode.DRAFT: gettext_lazy("Not submitted."),
    OutcomeCode.AWAITING_CONSENT: gettext_lazy(
        "The candidate has not yet confirmed consent through the emailed link."),
    OutcomeCode.SUBMITTED: gettext_lazy("Consent given; awaiting the cohort decision."),
    OutcomeCode.WITHDRAWN: gettext_lazy("The nomination was withdrawn."),
}


def _unplaced_text(reason: dict, tracks: Mapping[int, DegreeTrack]) -> str:
    text = UNPLACED_TEXT.get(reason.get("reason"))
    track = tracks.get(reason.get("track_id"))
    return str(text) % {"track": str(track) if track else "—"} if text else str(
        reason.get("reason"))


def nomination_outcomes(nominations: Sequence[Nomination]) -> dict[int, NominationOutcome]:
    """The outcome of each nomination, by id, in at most three queries for the whole list.

    Each nomination also gets it as `.outcome`, for templates and serializers.
    """
    ids = [nomination.pk for nomination in nominations]
    if not ids:
        return {}
    rows = list(outcome_annotate(Nomination.objects.filter(pk__in=ids)).annotate(
        offer_track=_latest_offer("track_id"), offer_deadline=_latest_offer("deadline"),
        offer_reason=_latest_offer("decline_reason"), offer_wave=_latest_offer("wave"),
    ).order_by().values_list(
        "pk", "outcome_code", "admission__track_id", "enrolment__outcome__path",
        "intake_round__cohort__status", "intake_round__cohort__match_run_id",
        "offer_track", "offer_deadline", "offer_reason", "offer_wave"))
    offers = {row[0]: row[6:] for row in rows}
    rows = [row[:6] for row in rows]
    unplaced = {pk: run for pk, code, _t, _p, _s, run in rows if code == OutcomeCode.NOT_PLACED}
    # The placement of the approved run, which says why the engine left the candidate out.
    reasons = {
        nomination_id: found for nomination_id, run, found in Placement.objects.filter(
            nomination_id__in=unplaced, match_run_id__in=set(unplaced.values()),
        ).values_list("nomination_id", "match_run_id", "reasons")
        if unplaced[nomination_id] == run
    } if unplaced else {}
    track_ids = {row[2] for row in rows if row[2]} | {
        offers[row[0]][0] for row in rows if row[1] in OFFER_ENDED} | {
        reason.get("track_id") for found in reasons.values() for reason in found or []}
    track_ids.discard(None)
    tracks = DegreeTrack.objects.in_bulk(track_ids) if track_ids else {}
    by_id = {nomination.pk: nomination for nomination in nominations}
    outcomes = {}
    for pk, code, track_id, path, cohort_status, _run in rows:
        nomination = by_id[pk]
        offer_track, offer_deadline, offer_reason, offer_wave = offers[pk]
        if code in OFFER_ENDED:
            track_id = offer_track
        outcomes[pk] = nomination.outcome = NominationOutcome(
            code=code, decided_round=cohort_status == Cohort.Status.APPROVED,
            track=tracks.get(track_id) if code in DECIDED_OUTCOMES else None,
            eligibility_reasons=tuple(nomination.eligibility_reasons or ()),
            unplaced_reasons=tuple(reasons.get(pk) or ()), tracks=tracks,
            alumni_path=path or "",
            offer_deadline=offer_deadline if code == OutcomeCode.OFFERED else None,
            decline_reason=(offer_reason or "") if code == OutcomeCode.OFFER_DECLINED else "",
            offer_wave=offer_wave or 1,
            left_studies=code == OutcomeCode.WITHDRAWN
            and nomination.status != Nomination.Status.WITHDRAWN)
    return outcomes


def round_results_by_university(intake_round: IntakeRound) -> list[tuple[University, list[dict]]]:
    """Every nominee of the round with their outcome, per university: the results each
    university is sent. A draft, or a draft withdrawn before it was submitted, nominated
    nobody and is left out."""
    nominations = (
        round_nominees(intake_round.pk)
        .select_related("university").defer("passport_number")
        .order_by("university__name", "university_id", "university_rank", "family_name", "id")
    )
    nominations = list(nominations)
    nomination_outcomes(nominations)
    results: dict[int, tuple[University, list[dict]]] = {}
    for nomination in nominations:
        results.setdefault(nomination.university_id, (nomination.university, []))[1].append(
            {"nomination": nomination, "outcome": nomination.outcome})
    return list(results.values())
