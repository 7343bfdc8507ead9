"""A round's calendar: which of staff's calendar actions its phase allows, and when it will.

Plain reads of the round's milestones (the prefetched ones when a selector loaded them). The
calendar services refuse with these sentences, and the round overview shows the same sentence
in place of an action it does not offer, so the page and every other door say the same.
"""

from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .models import IntakeRound, RoundMilestone

CLOSE_NOMINATIONS = "close_nominations"
EXTEND_NOMINATIONS = "extend_nominations"
OPEN_MATCHING = "open_matching"
SET_RESULTS_RELEASE = "set_results_release"
SET_LAST_WAVE = "set_last_wave"
CALENDAR_ACTIONS = (CLOSE_NOMINATIONS, EXTEND_NOMINATIONS, OPEN_MATCHING, SET_RESULTS_RELEASE,
                    SET_LAST_WAVE)

Kind = RoundMilestone.Kind
Phase = IntakeRound.Phase


def moment(at: datetime | None) -> str:
    """A milestone's date and time as messages write it: in the current time zone (the
    viewer's), named, in the language's format ("6 December 2026, 15:03 WIB")."""
    if at is None:
        return "—"
    return formats.date_format(timezone.localtime(at), "DATETIME_FORMAT")


def nominations_closed(intake_round: IntakeRound, now: datetime) -> bool:
    """Whether the round's nominations have closed at `now` (they never opened: not closed)."""
    return intake_round.phase_at(now) not in (Phase.UPCOMING, Phase.NOMINATIONS)


def _close_refusal(intake_round: IntakeRound, dates: dict, now: datetime) -> str | None:
    phase = intake_round.phase_at(now)
    if phase == Phase.UPCOMING:
        return _("Nominations open on %(date)s; they can be closed early from then.") % {
            "date": moment(dates.get(Kind.NOMINATIONS_OPEN))}
    if phase != Phase.NOMINATIONS:
        return _("Nominations closed on %(date)s.") % {
            "date": moment(dates.get(Kind.NOMINATIONS_CLOSE))}
    return None


def _extend_refusal(intake_round: IntakeRound, dates: dict, now: datetime) -> str | None:
    close = dates.get(Kind.NOMINATIONS_CLOSE)
    if close is not None and close <= now:
        return _("Nominations closed on %(date)s: a deadline that has passed is not extended, "
                 "so that no university nominates into a round being decided.") % {
            "date": moment(close)}
    return None


def _matching_refusal(intake_round: IntakeRound, dates: dict, now: datetime) -> str | None:
    phase = intake_round.phase_at(now)
    if phase in (Phase.UPCOMING, Phase.NOMINATIONS):
        return _("The matching phase can be opened once nominations have closed (%(date)s).") % {
            "date": moment(dates.get(Kind.NOMINATIONS_CLOSE))}
    if phase != Phase.SCREENING:
        return _("The matching phase opened on %(date)s.") % {
            "date": moment(dates.get(Kind.MATCHING))}
    return None


def _release_refusal(intake_round: IntakeRound, dates: dict, now: datetime) -> str | None:
    decisions = dates.get(Kind.DECISIONS)
    if decisions is not None and decisions <= now:
        return _("Results were released on %(date)s.") % {"date": moment(decisions)}
    return None


def _last_wave_refusal(intake_round: IntakeRound, dates: dict, now: datetime) -> str | None:
    enrolment = dates.get(Kind.ENROLMENT)
    if enrolment is not None and enrolment <= now:
        return _("Enrolment began on %(date)s: no further wave of offers is made.") % {
            "date": moment(enrolment)}
    last_wave = dates.get(Kind.LAST_WAVE)
    if last_wave is not None and last_wave <= now:
        return _("The last wave of offers was on %(date)s.") % {"date": moment(last_wave)}
    return None


REFUSALS = {
    CLOSE_NOMINATIONS: _close_refusal,
    EXTEND_NOMINATIONS: _extend_refusal,
    OPEN_MATCHING: _matching_refusal,
    SET_RESULTS_RELEASE: _release_refusal,
    SET_LAST_WAVE: _last_wave_refusal,
}


def calendar_action_refusal(intake_round: IntakeRound, action: str,
                            now: datetime | None = None) -> str | None:
    """Why the round's phase does not allow `action` at `now`, saying when it will (or that it
    will not again); None when it does."""
    now = now or timezone.now()
    return REFUSALS[action](intake_round, intake_round.milestone_dates(), now)
