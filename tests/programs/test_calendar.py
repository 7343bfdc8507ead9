"""The round's calendar services: close nominations early, extend the deadline, open the
matching phase, set the release of results. Each audited with its reason, each refused when the
phase does not allow it or when it would break the order of the milestones."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from ecocycle.models import AuditEntry
from programs import services
from programs.calendar import (
    CALENDAR_ACTIONS,
    CLOSE_NOMINATIONS,
    EXTEND_NOMINATIONS,
    OPEN_MATCHING,
    SET_LAST_WAVE,
    SET_RESULTS_RELEASE,
    calendar_action_refusal,
)
from programs.models import IntakeRound, RoundMilestone
from tests.programs.factories import IntakeRoundFactory, close_nominations

pytestmark = pytest.mark.django_db

Kind = RoundMilestone.Kind
as_json = DjangoJSONEncoder().default  # how the audit log stores a date


def _dates(intake_round):
    return dict(RoundMilestone.objects.filter(intake_round=intake_round)
                .values_list("kind", "at"))


def _round(opened_days_ago=7):
    """Opened `opened_days_ago` days ago; closes 30 days after opening, matching at 37, results
    at 50, enrolment at 120 (the factory's calendar)."""
    return IntakeRoundFactory(milestones__opened_days_ago=opened_days_ago)


def _fresh(intake_round):
    return IntakeRound.objects.get(pk=intake_round.pk)


def test_close_nominations_early_is_audited_with_before_after_and_reason(staff_user):
    intake_round = _round()
    before = _dates(intake_round)
    now = timezone.now()

    services.intake_round_close_nominations(actor=staff_user, intake_round=intake_round,
                                            reason="The quota is reached everywhere", now=now)

    after = _dates(intake_round)
    assert after[Kind.NOMINATIONS_CLOSE] == now
    assert {k: v for k, v in after.items() if k != Kind.NOMINATIONS_CLOSE} == {
        k: v for k, v in before.items() if k != Kind.NOMINATIONS_CLOSE}
    assert _fresh(intake_round).phase_at(now + timedelta(seconds=1)) == IntakeRound.Phase.SCREENING
    entry = AuditEntry.objects.get(action="intake_round_close_nominations")
    assert entry.actor == staff_user and entry.target_id == str(intake_round.pk)
    assert entry.before == {"nominations_close": as_json(before[Kind.NOMINATIONS_CLOSE])}
    assert entry.after == {"nominations_close": as_json(now),
                           "reason": "The quota is reached everywhere"}


def test_extend_the_deadline_moves_only_the_close(staff_user):
    intake_round = _round()
    before = _dates(intake_round)
    until = before[Kind.NOMINATIONS_CLOSE] + timedelta(days=3)

    services.intake_round_extend_nominations(actor=staff_user, intake_round=intake_round,
                                             until=until, reason="Universities asked for time")

    after = _dates(intake_round)
    assert after[Kind.NOMINATIONS_CLOSE] == until
    assert after[Kind.MATCHING] == before[Kind.MATCHING]
    entry = AuditEntry.objects.get(action="intake_round_extend_nominations")
    assert entry.after["reason"] == "Universities asked for time"


def test_open_the_matching_phase_after_the_close(staff_user):
    intake_round = close_nominations(_round(), ago=timedelta(hours=2))
    now = timezone.now()

    services.intake_round_open_matching(actor=staff_user, intake_round=intake_round,
                                        reason="Screening is done", now=now)

    assert _dates(intake_round)[Kind.MATCHING] == now
    assert _fresh(intake_round).phase_at(now) == IntakeRound.Phase.MATCHING
    assert AuditEntry.objects.filter(action="intake_round_open_matching").count() == 1


def test_set_the_release_of_results(staff_user):
    intake_round = _round()
    dates = _dates(intake_round)
    at = dates[Kind.MATCHING] + timedelta(days=2)

    services.intake_round_set_results_release(actor=staff_user, intake_round=intake_round, at=at,
                                              reason="The committee meets that day")

    assert _dates(intake_round)[Kind.DECISIONS] == at
    entry = AuditEntry.objects.get(action="intake_round_set_results_release")
    assert entry.before == {"decisions": as_json(dates[Kind.DECISIONS])}
    assert entry.after == {"decisions": as_json(at), "reason": "The committee meets that day"}


def _call(action, intake_round, actor, *, reason="A reason", at=None):
    if action == CLOSE_NOMINATIONS:
        return services.intake_round_close_nominations(actor=actor, intake_round=intake_round,
                                                       reason=reason)
    if action == EXTEND_NOMINATIONS:
        return services.intake_round_extend_nominations(
            actor=actor, intake_round=intake_round, reason=reason,
            until=at or intake_round.nominations_close_at + timedelta(days=1))
    if action == OPEN_MATCHING:
        return services.intake_round_open_matching(actor=actor, intake_round=intake_round,
                                                   reason=reason)
    if action == SET_LAST_WAVE:
        return services.intake_round_set_last_wave(
            actor=actor, intake_round=intake_round, reason=reason,
            at=at or _dates(intake_round)[Kind.DECISIONS] + timedelta(days=10))
    return services.intake_round_set_results_release(
        actor=actor, intake_round=intake_round, reason=reason,
        at=at or _dates(intake_round)[Kind.DECISIONS] + timedelta(days=1))


@pytest.mark.parametrize("action", CALENDAR_ACTIONS)
@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(staff_user, action, reason):
    intake_round = _round()
    if action == OPEN_MATCHING:
        close_nominations(intake_round)
    before = _dates(intake_round)

    with pytest.raises(ValidationError) as refused:
        _call(action, intake_round, staff_user, reason=reason)

    assert refused.value.message_dict == {
        "reason": ["Give the reason for this change of the calendar."]}
    assert _dates(intake_round) == before
    assert not AuditEntry.objects.filter(action__startswith="intake_round_").exists()


PHASE_REFUSALS = [
    # (action, days since nominations opened, the refusal says)
    (CLOSE_NOMINATIONS, -2, "Nominations open on"),
    (CLOSE_NOMINATIONS, 31, "Nominations closed on"),
    (EXTEND_NOMINATIONS, 31, "a deadline that has passed is not extended"),
    (OPEN_MATCHING, 7, "can be opened once nominations have closed"),
    (OPEN_MATCHING, -2, "can be opened once nominations have closed"),
    (OPEN_MATCHING, 40, "The matching phase opened on"),
    (SET_RESULTS_RELEASE, 55, "Results were released on"),
    (SET_LAST_WAVE, 130, "Enrolment began on"),
]


@pytest.mark.parametrize(("action", "opened_days_ago", "says"), PHASE_REFUSALS)
def test_refused_when_the_phase_does_not_allow_it(staff_user, action, opened_days_ago, says):
    intake_round = _round(opened_days_ago)
    before = _dates(intake_round)

    assert says in calendar_action_refusal(_fresh(intake_round), action)
    with pytest.raises(ValidationError, match=says):
        _call(action, intake_round, staff_user)

    assert _dates(intake_round) == before
    assert not AuditEntry.objects.filter(action__startswith="intake_round_").exists()


@pytest.mark.parametrize(("action", "opened_days_ago"), [
    (CLOSE_NOMINATIONS, 7), (EXTEND_NOMINATIONS, 7), (EXTEND_NOMINATIONS, -2),
    (OPEN_MATCHING, 31), (SET_RESULTS_RELEASE, -2), (SET_RESULTS_RELEASE, 40),
])
def test_offered_when_the_phase_allows_it(action, opened_days_ago):
    assert calendar_action_refusal(_round(opened_days_ago), action) is None


ORDER_REFUSALS = [
    # (action, the date given, counted from the round's dates, the refusal says)
    (EXTEND_NOMINATIONS, lambda d: d[Kind.MATCHING],
     "“Nominations close” on .* would pass the next milestone, “Matching” on"),
    (EXTEND_NOMINATIONS, lambda d: d[Kind.MATCHING] + timedelta(days=1),
     "would pass the next milestone, “Matching”"),
    (EXTEND_NOMINATIONS, lambda d: d[Kind.NOMINATIONS_CLOSE] - timedelta(hours=1),
     "The new deadline must be later than the current one"),
    (SET_RESULTS_RELEASE, lambda d: d[Kind.MATCHING] - timedelta(hours=1),
     "“Decisions” on .* would come before “Matching” on"),
    (SET_RESULTS_RELEASE, lambda d: d[Kind.ENROLMENT] + timedelta(days=1),
     "would pass the next milestone, “Enrolment”"),
    (SET_RESULTS_RELEASE, lambda d: timezone.now() - timedelta(days=1),
     "The release of results cannot be in the past"),
]


@pytest.mark.parametrize(("action", "when", "says"), ORDER_REFUSALS)
def test_refused_when_it_would_break_the_order_of_the_milestones(staff_user, action, when, says):
    intake_round = _round()
    before = _dates(intake_round)

    with pytest.raises(ValidationError, match=says):
        _call(action, intake_round, staff_user, at=when(before))

    assert _dates(intake_round) == before
    assert not AuditEntry.objects.filter(action__startswith="intake_round_").exists()


def test_closing_early_keeps_the_order_with_the_opening(staff_user):
    # Opened a moment ago: closing now still comes after the opening.
    intake_round = IntakeRoundFactory(milestones__opened_days_ago=0.0001)
    services.intake_round_close_nominations(actor=staff_user, intake_round=intake_round,
                                            reason="Opened by mistake")
    dates = _dates(intake_round)
    assert dates[Kind.NOMINATIONS_OPEN] < dates[Kind.NOMINATIONS_CLOSE] < dates[Kind.MATCHING]


def test_the_last_wave_is_set_between_the_matching_phase_and_enrolment(staff_user):
    intake_round = _round(40)  # matching phase
    dates = _dates(intake_round)
    at = dates[Kind.DECISIONS] + timedelta(days=20)

    services.intake_round_set_last_wave(actor=staff_user, intake_round=intake_round, at=at,
                                        reason="Visa processing takes six weeks")

    assert _dates(intake_round)[Kind.LAST_WAVE] == at
    assert _fresh(intake_round).phase_at() == IntakeRound.Phase.MATCHING  # no phase of its own
    entry = AuditEntry.objects.get(action="intake_round_set_last_wave")
    assert entry.after == {"last_wave": as_json(at), "reason": "Visa processing takes six weeks"}
    with pytest.raises(ValidationError, match="before “Enrolment”"):
        services.intake_round_set_last_wave(actor=staff_user, intake_round=intake_round,
                                            at=dates[Kind.ENROLMENT] + timedelta(days=1),
                                            reason="Too late")
    with pytest.raises(ValidationError, match="cannot be in the past"):
        services.intake_round_set_last_wave(actor=staff_user, intake_round=intake_round,
                                            at=timezone.now() - timedelta(days=1),
                                            reason="Too early")
    # Once it has passed, it is not moved again.
    RoundMilestone.objects.filter(kind=Kind.LAST_WAVE).update(
        at=timezone.now() - timedelta(minutes=1))
    assert "The last wave of offers was on" in calendar_action_refusal(
        _fresh(intake_round), SET_LAST_WAVE)
