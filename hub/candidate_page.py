"""What the candidate's own page shows: the timeline of their nomination from the nomination to
the enrolment, and what comes next and by when. Composed here because it reads what follows the
decision (mentor, enrolment) as well as the nomination.

Everything is read through the one nomination the page's link names: nothing of any other
candidate is loaded. A fixed number of queries.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import prefetch_related_objects
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from candidates.eligibility import reason_text
from candidates.models import Cohort, Nomination, NominationDocument, Offer, Placement
from mentors.models import MentorAssignment
from programs.calendar import nominations_closed
from programs.models import DegreeTrack, RoundMilestone
from students.models import Enrolment

# Why the matching left a candidate out, in words to the candidate (the codes of the engine's
# reasons; see candidates.selectors.dashboard.UNPLACED_TEXT for the staff's words).
UNPLACED_TEXT = {
    "full_ranked_below_cutoff": gettext_lazy(
        "%(track)s: all its seats went to candidates it ranked higher."),
    "not_acceptable": gettext_lazy("%(track)s: not open to your profile."),
    "no_seats": gettext_lazy("%(track)s: has no seats in this round."),
    "unknown_track": gettext_lazy("%(track)s: not offered in this round."),
    "excluded_by_staff": gettext_lazy("KITECH staff did not admit you to the cohort."),
}


@dataclass
class Step:
    """One line of the timeline: done (with its date), current (waiting), or still to come."""

    key: str
    title: str
    state: str = "done"  # done | current | todo | ended
    when: datetime | date | None = None
    text: str = ""
    lines: list[str] = field(default_factory=list)


@dataclass
class CandidatePage:
    nomination: Nomination
    steps: list[Step]
    next_text: str
    next_by: datetime | None
    pending_offer: Offer | None
    documents: list[NominationDocument]
    documents_editable: bool
    can_withdraw: bool
    can_edit_details: bool
    mentor: MentorAssignment | None
    enrolment: Enrolment | None


def candidate_page_read(nomination: Nomination, *, now: datetime | None = None) -> CandidatePage:
    now = now or timezone.now()
    intake_round = nomination.intake_round
    # Read once: the dates below and the phase checks share them.
    prefetch_related_objects([intake_round], "milestones")
    dates = intake_round.milestone_dates()
    close = dates.get(RoundMilestone.Kind.NOMINATIONS_CLOSE)
    decisions = dates.get(RoundMilestone.Kind.DECISIONS)
    cohort = Cohort.objects.filter(intake_round_id=intake_round.pk).first()
    approved = cohort is not None and cohort.status == Cohort.Status.APPROVED
    offers = list(Offer.objects.filter(nomination=nomination).select_related("track")
                  .order_by("made_at", "id"))
    mentor = (MentorAssignment.objects.filter(nomination=nomination,
                                              status=MentorAssignment.Status.ACCEPTED)
              .select_related("mentor").first())
    enrolment = Enrolment.objects.filter(nomination=nomination).first()
    admission_track = (DegreeTrack.objects.filter(admissions__nomination=nomination).first()
                       if approved and not offers else None)
    withdrawn = nomination.status == Nomination.Status.WITHDRAWN
    open_for_nominations = not nominations_closed(intake_round, now) and (
        intake_round.phase_at(now) != intake_round.Phase.UPCOMING)

    steps = _early_steps(nomination, withdrawn=withdrawn, close=close)
    steps += _decision_steps(nomination, cohort, approved, offers, admission_track, decisions,
                             withdrawn)
    for offer in offers:
        steps.append(_offer_step(offer))
    if mentor is not None:
        steps.append(Step("mentor", _("Your mentor: %(name)s") % {"name": mentor.mentor.full_name},
                          when=mentor.responded_at, text=mentor.mentor.email))
    if enrolment is not None:
        steps.append(Step("enrolment", _("Enrolled"), when=enrolment.enrolled_on, text=_(
            "First semester %(semester)s, %(campus)s campus") % {
                "semester": enrolment.semester, "campus": enrolment.get_campus_display()}))
    if withdrawn:
        steps.append(Step("withdrawn", _("You withdrew your nomination"), state="ended",
                          when=nomination.withdrawn_at))

    pending = next((o for o in offers if o.status == Offer.Status.PENDING), None)
    accepted = next((o for o in offers if o.status == Offer.Status.ACCEPTED), None)
    next_text, next_by = _next(nomination, withdrawn=withdrawn, close=close, decisions=decisions,
                               approved=approved, pending=pending, accepted=accepted,
                               admitted=admission_track, mentor=mentor, enrolment=enrolment,
                               offers=offers, now=now)
    documents = list(nomination.documents.order_by("kind"))
    return CandidatePage(
        nomination=nomination, steps=steps, next_text=next_text, next_by=next_by,
        pending_offer=pending if pending and pending.deadline > now else None,
        documents=documents, documents_editable=open_for_nominations and not withdrawn,
        can_withdraw=not withdrawn and enrolment is None
        and nomination.status == Nomination.Status.SUBMITTED,
        can_edit_details=not withdrawn, mentor=mentor, enrolment=enrolment)


def _early_steps(nomination: Nomination, *, withdrawn: bool, close: datetime | None) -> list[Step]:
    """Nominated, consent, eligibility."""
    intake_round = nomination.intake_round
    steps = [Step("nominated", _("Nominated by %(university)s") % {
        "university": nomination.university.name}, when=nomination.submitted_at,
        text=_("%(program)s, %(round)s") % {"program": intake_round.program.name,
                                             "round": intake_round.name})]
    if nomination.consent_given_at:
        steps.append(Step("consent", _("Consent given"), when=nomination.consent_given_at))
    elif not withdrawn:
        steps.append(Step("consent", _("Consent"), state="current", when=close, text=_(
            "Waiting for your confirmation through the link emailed to you.")))
    if nomination.is_eligible is True:
        steps.append(Step("eligibility", _("Eligible"), when=nomination.eligibility_checked_at,
                          lines=[reason_text(r) for r in nomination.eligibility_reasons or []]))
    elif nomination.is_eligible is False:
        steps.append(Step("eligibility", _("Not eligible"), state="ended",
                          when=nomination.eligibility_checked_at,
                          text=_("Checked again every night until the decision."),
                          lines=[reason_text(r) for r in nomination.eligibility_reasons or []]))
    return steps


def _decision_steps(nomination, cohort, approved, offers, admission_track, decisions,
                    withdrawn) -> list[Step]:
    if offers:
        first = offers[0]
        return [Step("decision", _("Admitted to %(track)s") % {"track": first.track},
                     when=first.made_at)]
    if admission_track is not None:
        return [Step("decision", _("Admitted to %(track)s") % {"track": admission_track},
                     when=cohort.approved_at)]
    if approved and nomination.consent_given_at and nomination.is_eligible is not False:
        placement = Placement.objects.filter(nomination=nomination,
                                             match_run_id=cohort.match_run_id).first()
        reasons = list(getattr(placement, "reasons", None) or [])
        names = DegreeTrack.objects.in_bulk({r.get("track_id") for r in reasons} - {None})
        lines = []
        for reason in reasons:
            text = UNPLACED_TEXT.get(reason.get("reason"))
            if text:
                track = names.get(reason.get("track_id"))
                lines.append(str(text) % {"track": str(track) if track else "—"})
        return [Step("decision", _("Not placed in this round"), state="ended",
                     when=cohort.approved_at, lines=lines)]
    if withdrawn or approved:
        return []
    return [Step("decision", _("The decision"), state="todo", when=decisions, text=_(
        "KITECH staff decide after nominations close; you will be emailed."))]


def _offer_step(offer: Offer) -> Step:
    title = _("Offer of a place in %(track)s") % {"track": offer.track}
    if offer.wave > 1:
        title = _("Offer of a place in %(track)s (wave %(wave)s)") % {
            "track": offer.track, "wave": offer.wave}
    lines = [_("Offered on %(date)s; answer due by %(deadline)s.") % {
        "date": _format(offer.made_at), "deadline": _format(offer.deadline)}]
    if offer.status == Offer.Status.PENDING:
        # Its two dates are in the line: "expected by" the date it was made would mislead.
        return Step("offer", title, state="current", lines=lines,
                    text=_("Waiting for your answer."))
    if offer.responded_at:
        lines.append(_("%(status)s on %(date)s.") % {"status": offer.get_status_display(),
                                                    "date": _format(offer.responded_at)})
    if offer.decline_reason:
        lines.append(_("Reason: %(reason)s") % {"reason": offer.get_decline_reason_display()})
    state = "done" if offer.status == Offer.Status.ACCEPTED else "ended"
    return Step("offer", title, state=state, when=offer.made_at, lines=lines,
                text=str(offer.get_status_display()))


def _format(when: datetime) -> str:
    return formats.date_format(timezone.localtime(when), "DATETIME_FORMAT")


def _next(nomination, *, withdrawn, close, decisions, approved, pending, accepted, admitted,
          mentor, enrolment, offers, now) -> tuple[str, datetime | None]:
    if withdrawn:
        return _("Nothing more: your nomination was withdrawn."), None
    if enrolment is not None:
        return _("You are enrolled. Your student office will contact you."), None
    if pending is not None:
        if pending.deadline <= now:
            return _("The deadline to answer the offer has passed."), None
        return _("Accept or decline the offer below."), pending.deadline
    if accepted is not None or admitted is not None:
        if mentor is None:
            return _("A mentor will be proposed to you; you will be emailed when one accepts."
                     ), None
        return _("Get in touch with your mentor; UST-KITECH will send the enrolment steps."), None
    if offers:
        return _("Nothing more in this round: your offer has ended."), None
    if nomination.consent_given_at is None:
        return _("Confirm your consent through the link emailed to you."), close
    if nomination.is_eligible is False:
        return _("Nothing more in this round: the nomination is not eligible."), None
    if approved:
        return _("Nothing more in this round: you were not placed."), None
    if close and close > now:
        return _("Your university may still change your nomination until nominations close. "
                 "The decision follows; you will be emailed."), decisions or close
    return _("KITECH staff decide about the cohort; you will be emailed."), decisions
