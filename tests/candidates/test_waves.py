"""Later waves of offers: proposed on the seats given back, corrected with overrides, approved
once, nobody moved down and no accepted place touched."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from candidates import selectors, services
from candidates.models import (
    Cohort,
    CohortAdmission,
    CohortOverride,
    MatchRun,
    Nomination,
    Offer,
    Placement,
)
from candidates.services import waves
from ecocycle.exceptions import DomainError
from ecocycle.models import AuditEntry, OutboundEmail
from programs.models import RoundMilestone, RoundTrack
from tests.candidates.factories import admitted_round
from tests.kernel.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return StaffFactory()


def _decided(n=4, seats=1):
    """Two tracks of `seats` seats each, `n` candidates ranking them in the same order, best
    GPA first: with one seat each, c0 holds T1, c1 holds T2, the others wait."""
    intake_round, nominations = admitted_round(n, seats=seats, accepted=False)
    cohort = Cohort.objects.get(intake_round=intake_round)
    services.offers_make(cohort=cohort, wave=1, now=timezone.now())  # no-op if approval did
    tracks = list(RoundTrack.objects.filter(intake_round=intake_round).order_by("id")
                  .values_list("track_id", flat=True))
    return cohort, nominations, tracks


def _offer(nomination):
    return Offer.objects.get(nomination=nomination, status__in=Offer.OPEN)


def _decline(nomination):
    services.offer_decline(offer=_offer(nomination), reason="other_offer")


def test_the_scenario_is_what_the_tests_assume():
    _cohort, (c0, c1, _c2, _c3), (t1, t2) = _decided()
    assert dict(CohortAdmission.objects.values_list("nomination_id", "track_id")) == {
        c0.pk: t1, c1.pk: t2}


def test_a_wave_refills_a_declined_seat_and_moves_a_pending_offer_up(staff):
    cohort, (c0, c1, c2, c3), (t1, t2) = _decided()
    _decline(c0)

    run = waves.wave_propose(actor=staff, cohort=cohort)

    cohort.refresh_from_db()
    assert cohort.wave_run_id == run.pk and run.counts["wave"] == 2
    placed = dict(Placement.objects.filter(match_run=run).values_list("nomination_id",
                                                                       "track_id"))
    assert placed == {c1.pk: t1, c2.pk: t2, c3.pk: None, c0.pk: None}
    assert run.counts["new"] == 1 and run.counts["moved_up"] == 1
    # The first wave's run is still the cohort's; the wave's is not a "latest run".
    assert cohort.match_run_id != run.pk
    assert run not in selectors.cohort_run_list(cohort.intake_round)

    waves.wave_approve(actor=staff, cohort=cohort, run_id=run.pk)

    cohort.refresh_from_db()
    assert cohort.wave == 2 and cohort.wave_run_id is None
    assert dict(CohortAdmission.objects.values_list("nomination_id", "track_id")) == {
        c1.pk: t1, c2.pk: t2}
    assert _offer(c1).track_id == t1 and _offer(c1).wave == 2
    assert Offer.objects.get(nomination=c1, status="superseded").track_id == t2
    assert _offer(c2).track_id == t2 and _offer(c2).wave == 2
    assert not Offer.objects.filter(nomination=c3).exists()
    assert AuditEntry.objects.filter(action="cohort_wave_approve").count() == 1
    assert AuditEntry.objects.filter(action="offer_wave_make").count() == 1
    assert AuditEntry.objects.filter(action="offer_wave_move_up").count() == 1


def test_the_wave_emails_tell_the_candidates_and_their_university(staff):
    cohort, (c0, c1, c2, _c3), _tracks = _decided()
    # Their emails read in English here.
    Nomination.objects.filter(pk__in=[c1.pk, c2.pk]).update(candidate_language="en")
    _decline(c0)
    run = waves.wave_propose(actor=staff, cohort=cohort)
    OutboundEmail.objects.all().delete()

    waves.wave_approve(actor=staff, cohort=cohort, run_id=run.pk)

    new = OutboundEmail.objects.get(to=c2.email)
    assert "A place has become free" in new.body_text
    assert "Please answer by" in new.body_text
    assert "/candidate/" not in new.body_text  # the link is a secret, masked in the outbox
    assert new.links and "/candidate/" in new.links
    moved = OutboundEmail.objects.get(to=c1.email)
    assert "replaces your previous one" in moved.body_text
    summaries = OutboundEmail.objects.filter(topic="wave_university_summary")
    assert summaries.exists()
    assert all(c2.display_name in e.body_text for e in summaries
               if e.to in {c.user.email for c in c2.university.coordinators.all()})


def test_an_accepted_place_is_never_moved(staff):
    cohort, (c0, c1, c2, _c3), (t1, t2) = _decided()
    services.offer_accept(offer=_offer(c1))  # c1 accepts T2, though ranking T1 higher
    _decline(c0)

    run = waves.wave_propose(actor=staff, cohort=cohort)
    waves.wave_approve(actor=staff, cohort=cohort, run_id=run.pk)

    assert _offer(c1).track_id == t2 and _offer(c1).status == "accepted"
    assert _offer(c2).track_id == t1


def test_an_answer_after_the_proposal_refuses_the_approval(staff):
    cohort, (c0, c1, _c2, _c3), _tracks = _decided()
    _decline(c0)
    run = waves.wave_propose(actor=staff, cohort=cohort)
    services.offer_accept(offer=_offer(c1))  # c1 accepts T2 while the wave moves them up

    with pytest.raises(DomainError, match="propose it again"):
        waves.wave_approve(actor=staff, cohort=cohort, run_id=run.pk)
    assert _offer(c1).status == "accepted"


def test_approving_twice_approves_once(staff):
    cohort, (c0, *_rest), _tracks = _decided()
    _decline(c0)
    run = waves.wave_propose(actor=staff, cohort=cohort)
    waves.wave_approve(actor=staff, cohort=cohort, run_id=run.pk)
    offers = Offer.objects.count()

    waves.wave_approve(actor=staff, cohort=cohort, run_id=run.pk)

    assert Offer.objects.count() == offers
    assert AuditEntry.objects.filter(action="cohort_wave_approve").count() == 1


def test_refused_without_a_seat_given_back_and_before_approval(staff):
    cohort, _nominations, _tracks = _decided()
    with pytest.raises(DomainError, match="No seat has been given back"):
        waves.wave_propose(actor=staff, cohort=cohort)
    Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.PROPOSED)
    cohort.refresh_from_db()
    with pytest.raises(DomainError, match="not approved yet"):
        waves.wave_propose(actor=staff, cohort=cohort)


def test_refused_after_the_last_wave_date_and_after_enrolment(staff):
    cohort, (c0, *_rest), _tracks = _decided()
    _decline(c0)
    intake_round = cohort.intake_round
    RoundMilestone.objects.create(intake_round=intake_round, kind=RoundMilestone.Kind.LAST_WAVE,
                                  at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(DomainError, match="The last wave of offers was on"):
        waves.wave_propose(actor=staff, cohort=Cohort.objects.get(pk=cohort.pk))
    RoundMilestone.objects.filter(kind=RoundMilestone.Kind.LAST_WAVE).delete()
    run = waves.wave_propose(actor=staff, cohort=Cohort.objects.get(pk=cohort.pk))
    RoundMilestone.objects.filter(intake_round=intake_round,
                                  kind=RoundMilestone.Kind.ENROLMENT).update(
        at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(DomainError, match="Enrolment began on"):
        waves.wave_approve(actor=staff, cohort=Cohort.objects.get(pk=cohort.pk),
                           run_id=run.pk)


def test_the_last_wave_milestone_leaves_the_phase_alone():
    cohort, _nominations, _tracks = _decided()
    intake_round = cohort.intake_round
    phase = intake_round.phase_at()
    RoundMilestone.objects.create(intake_round=intake_round, kind=RoundMilestone.Kind.LAST_WAVE,
                                  at=timezone.now() - timedelta(minutes=1))
    intake_round = type(intake_round).objects.get(pk=intake_round.pk)
    assert intake_round.phase_at() == phase


def test_overrides_apply_to_the_wave_and_propose_it_again(staff):
    cohort, (c0, c1, c2, c3), (t1, t2) = _decided()
    _decline(c0)
    waves.wave_propose(actor=staff, cohort=cohort)

    services.override_create(actor=staff, cohort=cohort, nomination=c2, kind="exclude",
                             reason="Took another place, told us by phone")

    cohort.refresh_from_db()
    placed = dict(Placement.objects.filter(match_run_id=cohort.wave_run_id)
                  .values_list("nomination_id", "track_id"))
    assert placed[c2.pk] is None and placed[c3.pk] == t2 and placed[c1.pk] == t1
    with pytest.raises(DomainError, match="holds an offer"):
        services.override_create(actor=staff, cohort=cohort, nomination=c1, kind="exclude",
                                 reason="No")

    override = CohortOverride.objects.get(nomination=c2, cleared_at__isnull=True)
    services.override_clear(actor=staff, override=override)
    cohort.refresh_from_db()
    placed = dict(Placement.objects.filter(match_run_id=cohort.wave_run_id)
                  .values_list("nomination_id", "track_id"))
    assert placed[c2.pk] == t2 and placed[c3.pk] is None


def test_an_override_moves_a_reserve_candidate_into_a_seat_given_back(staff):
    cohort, (c0, c1, c2, c3), (t1, t2) = _decided()
    _decline(c0)
    waves.wave_propose(actor=staff, cohort=cohort)
    # T2 is held by c1's pending offer until the wave is approved: no seat given back there.
    with pytest.raises(DomainError, match="no free seat"):
        services.override_create(actor=staff, cohort=cohort, nomination=c3, kind="move",
                                 track=cohort.intake_round.tracks.get(pk=t2), reason="Why")

    services.override_create(actor=staff, cohort=cohort, nomination=c3, kind="move",
                             track=cohort.intake_round.tracks.get(pk=t1), reason="Supervisor")

    cohort.refresh_from_db()
    placed = dict(Placement.objects.filter(match_run_id=cohort.wave_run_id)
                  .values_list("nomination_id", "track_id"))
    assert placed[c3.pk] == t1 and placed[c1.pk] == t2 and placed[c2.pk] is None
    waves.wave_approve(actor=staff, cohort=cohort, run_id=cohort.wave_run_id)
    assert _offer(c3).track_id == t1 and _offer(c1).track_id == t2


def test_first_wave_overrides_still_work_before_approval(staff):
    intake_round, nominations = admitted_round(3, seats=1, accepted=False)
    cohort = Cohort.objects.get(intake_round=intake_round)
    services.cohort_reopen(actor=staff, cohort=cohort, reason="Check again")
    services.override_create(actor=staff, cohort=cohort, nomination=nominations[0],
                             kind="exclude", reason="Gone")
    placement = Placement.objects.get(match_run_id=cohort.match_run_id,
                                      nomination=nominations[0])
    assert placement.track_id is None


def test_a_new_proposal_supersedes_the_previous_one(staff):
    cohort, (c0, *_rest), _tracks = _decided()
    _decline(c0)
    first = waves.wave_propose(actor=staff, cohort=cohort)
    second = waves.wave_propose(actor=staff, cohort=cohort)
    first.refresh_from_db()
    assert first.status == MatchRun.Status.SUPERSEDED
    with pytest.raises(DomainError, match="has changed"):
        waves.wave_approve(actor=staff, cohort=cohort, run_id=first.pk)
    waves.wave_approve(actor=staff, cohort=cohort, run_id=second.pk)


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_approve_once(staff):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only")
    cohort, (c0, *_rest), _tracks = _decided()
    _decline(c0)
    run = waves.wave_propose(actor=staff, cohort=cohort)
    barrier, errors = threading.Barrier(2), []

    def approve():
        try:
            barrier.wait()
            with transaction.atomic():
                waves.wave_approve(actor=staff, cohort=Cohort.objects.get(pk=cohort.pk),
                                   run_id=run.pk)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Offer.objects.filter(wave=2).count() == 2
    assert AuditEntry.objects.filter(action="cohort_wave_approve").count() == 1


def _approve_queries(staff, n, seats, declines):
    intake_round, nominations = admitted_round(n, seats=seats, accepted=False)
    cohort = Cohort.objects.get(intake_round=intake_round)
    services.offers_make(cohort=cohort, wave=1, now=timezone.now())
    for nomination in nominations[:declines]:
        _decline(nomination)
    run = waves.wave_propose(actor=staff, cohort=cohort)
    with CaptureQueriesContext(connection) as queries:
        waves.wave_approve(actor=staff, cohort=cohort, run_id=run.pk)
    return len(queries), Offer.objects.filter(cohort=cohort, wave=2).count()


def test_the_approval_does_not_grow_with_the_wave(staff):
    small, small_offers = _approve_queries(staff, 4, 1, 1)
    large, large_offers = _approve_queries(staff, 9, 3, 4)
    assert large_offers > small_offers
    assert large == small


@pytest.mark.django_db(transaction=True)
def test_an_answer_during_the_computation_computes_the_wave_again(staff, monkeypatch):
    cohort, (c0, c1, c2, c3), (t1, t2) = _decided()
    _decline(c0)
    compute, calls = waves._wave_compute, []

    def answer_meanwhile(locked):
        calls.append(locked.pk)
        proposal = compute(locked)
        if len(calls) == 1:
            services.offer_accept(offer=_offer(c1))  # c1 accepts T2 while the wave computes
        return proposal

    monkeypatch.setattr(waves, "_wave_compute", answer_meanwhile)
    run = waves.wave_propose(actor=staff, cohort=cohort)

    assert len(calls) == 2
    placed = dict(Placement.objects.filter(match_run=run).values_list("nomination_id",
                                                                       "track_id"))
    assert placed[c1.pk] == t2 and placed[c2.pk] == t1 and placed[c3.pk] is None
    waves.wave_approve(actor=staff, cohort=cohort, run_id=run.pk)
    assert _offer(c1).status == "accepted" and _offer(c2).track_id == t1
