"""Staff decisions on a cohort: overrides, approval (also racing), reopening, run requests."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from candidates import services
from candidates.models import (
    Cohort,
    CohortAdmission,
    CohortOverride,
    MatchRun,
    Nomination,
    Placement,
)
from ecocycle.models import AuditEntry, OutboundEmail
from programs.models import DegreeTrack, RoundTrack
from tests.candidates.factories import (
    consented_nomination as consented,
)
from tests.candidates.factories import (
    open_round_with_tracks,
)
from tests.programs.factories import close_nominations

pytestmark = pytest.mark.django_db


def _proposed_round(n=4, seats=1):
    intake_round = open_round_with_tracks(n_tracks=3)
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=seats)
    nominations = [consented(intake_round=intake_round, gpa=f"3.{9 - i}") for i in range(n)]
    close_nominations(intake_round)
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    return intake_round, Cohort.objects.get(intake_round=intake_round), nominations


def _placed(cohort):
    return dict(Placement.objects.filter(match_run_id=cohort.match_run_id)
                .values_list("nomination_id", "track_id"))


def test_exclude_then_the_override_survives_a_rerun(staff_user):
    intake_round, cohort, nominations = _proposed_round()
    best = nominations[0]
    services.override_create(actor=staff_user, cohort=cohort, nomination=best, kind="exclude",
                             reason="Accepted a scholarship elsewhere")
    assert _placed(cohort)[best.pk] is None
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    cohort.refresh_from_db()
    placed = _placed(cohort)
    assert placed[best.pk] is None
    assert sum(1 for t in placed.values() if t) == 3  # the freed seat went to the fourth
    override = CohortOverride.objects.get()
    services.override_clear(actor=staff_user, override=override)
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    cohort.refresh_from_db()
    assert _placed(cohort)[best.pk] is not None
    assert AuditEntry.objects.filter(action__startswith="cohort_override").count() == 2


def test_move_needs_a_ranked_track_with_a_free_seat_and_a_reason(staff_user):
    intake_round, cohort, nominations = _proposed_round(n=3, seats=2)
    mover = nominations[2]
    placed = _placed(cohort)
    taken = {t: list(placed.values()).count(t) for t in set(placed.values())}
    target = next(t for t in intake_round.tracks.order_by("id")
                  if t.pk != placed[mover.pk] and taken.get(t.pk, 0) < 2)
    with pytest.raises(ValidationError, match="reason"):
        services.override_create(actor=staff_user, cohort=cohort, nomination=mover,
                                 kind="move", track=target, reason="  ")
    services.override_create(actor=staff_user, cohort=cohort, nomination=mover, kind="move",
                             track=target, reason="Supervisor asked for this candidate")
    assert _placed(cohort)[mover.pk] == target.pk
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    cohort.refresh_from_db()
    assert _placed(cohort)[mover.pk] == target.pk


def test_move_to_a_full_track_is_refused(staff_user):
    _round, cohort, nominations = _proposed_round(n=4, seats=1)
    placed = _placed(cohort)
    full_track = next(t for t in placed.values() if t)
    outsider = next(n for n in nominations if placed[n.pk] is None)
    with pytest.raises(ValidationError, match="no free seat"):
        services.override_create(actor=staff_user, cohort=cohort, nomination=outsider,
                                 kind="move", track=DegreeTrack.objects.get(pk=full_track),
                                 reason="x")


def test_move_refused_without_consent(staff_user):
    intake_round, cohort, nominations = _proposed_round(n=2, seats=2)
    Nomination.objects.filter(pk=nominations[0].pk).update(consent_given_at=None)
    with pytest.raises(ValidationError, match="consent"):
        services.override_create(actor=staff_user, cohort=cohort, nomination=nominations[0],
                                 kind="move", track=intake_round.tracks.first(), reason="x")


def test_approve_admits_the_placed_audits_and_emails(staff_user,
                                                     django_capture_on_commit_callbacks):
    intake_round, cohort, nominations = _proposed_round(n=4, seats=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.cohort_approve(actor=staff_user, cohort=cohort)
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.APPROVED and cohort.approved_by == staff_user
    assert CohortAdmission.objects.count() == 3
    topics = OutboundEmail.objects.values_list("topic", flat=True)
    assert list(topics).count("cohort_candidate_result") == 4
    assert "cohort_university_summary" in topics
    assert services.cohort_approve(actor=staff_user, cohort=cohort).status == "approved"
    assert CohortAdmission.objects.count() == 3  # idempotent
    with pytest.raises(ValidationError, match="approved"):
        services.override_create(actor=staff_user, cohort=cohort, nomination=nominations[0],
                                 kind="exclude", reason="late")
    with pytest.raises(ValidationError):
        services.cohort_match_run(intake_round=intake_round, trigger="command")


def test_approve_refuses_when_a_placed_candidate_withdrew(staff_user):
    _round, cohort, nominations = _proposed_round(n=2, seats=2)
    Nomination.objects.filter(pk=nominations[0].pk).update(status="withdrawn")
    with pytest.raises(ValidationError, match="no longer be admitted"):
        services.cohort_approve(actor=staff_user, cohort=cohort)
    assert not CohortAdmission.objects.exists()


def test_reopen_needs_a_reason_and_withdraws_admissions(staff_user):
    _round, cohort, _nominations = _proposed_round(n=2, seats=2)
    services.cohort_approve(actor=staff_user, cohort=cohort)
    with pytest.raises(ValidationError, match="reason"):
        services.cohort_reopen(actor=staff_user, cohort=cohort, reason="")
    services.cohort_reopen(actor=staff_user, cohort=cohort, reason="Seat added to a track")
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.PROPOSED and not CohortAdmission.objects.exists()
    assert AuditEntry.objects.filter(action="cohort_reopen").exists()


def test_run_request_runs_the_matching_after_commit(staff_user,
                                                   django_capture_on_commit_callbacks):
    intake_round = open_round_with_tracks(n_tracks=2)
    consented(intake_round=intake_round)
    close_nominations(intake_round)
    with django_capture_on_commit_callbacks(execute=True):
        services.cohort_run_request(actor=staff_user, intake_round=intake_round)
        assert not MatchRun.objects.exists()
    run = MatchRun.objects.get()
    assert run.trigger == "staff" and run.triggered_by == staff_user


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_two_approvals_racing_approve_once_within_seats(staff_user):
    _round, cohort, _nominations = _proposed_round(n=5, seats=1)
    barrier, errors = threading.Barrier(2), []

    def approve():
        try:
            barrier.wait(timeout=10)
            services.cohort_approve(actor=staff_user, cohort=cohort)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()  # the proxy resolves to this thread's own connection

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert CohortAdmission.objects.count() == 3
    assert AuditEntry.objects.filter(action="cohort_approve").count() == 1
    for track_id, seats in RoundTrack.objects.values_list("track_id", "seats"):
        assert CohortAdmission.objects.filter(track_id=track_id).count() <= seats
