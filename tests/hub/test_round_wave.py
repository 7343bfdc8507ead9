"""The staff pages of the later waves of offers: the proposal as a difference from the cohort,
its overrides and approval, and the tracks' reserve lists. Staff only."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from candidates import services
from candidates.models import Cohort, CohortOverride, Offer, Placement
from candidates.services import waves
from programs.models import RoundMilestone, RoundTrack
from tests.candidates.factories import admitted_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def declined():
    """Two tracks of one seat; c0 (T1) declined, c1 holds T2, c2 and c3 wait."""
    intake_round, nominations = admitted_round(4, seats=1, accepted=False)
    cohort = Cohort.objects.get(intake_round=intake_round)
    services.offers_make(cohort=cohort, wave=1, now=timezone.now())
    services.offer_decline(offer=Offer.objects.get(nomination=nominations[0], status="pending"))
    tracks = list(RoundTrack.objects.filter(intake_round=intake_round).order_by("id")
                  .values_list("track_id", flat=True))
    return cohort, nominations, tracks


def _url(name, cohort, *args):
    return reverse(f"staff_rounds:{name}", args=[cohort.intake_round_id, *args])


PAGES = ["wave_review", "wave_approve_confirm", "reserve"]
ACTIONS = ["wave_propose", "wave_override_create", "wave_approve"]


@pytest.mark.parametrize("name", PAGES + ACTIONS)
def test_coordinators_are_refused_and_change_nothing(client, coordinator_user, declined, name):
    cohort, _nominations, _tracks = declined
    client.force_login(coordinator_user)
    method = client.post if name in ACTIONS else client.get
    assert method(_url(name, cohort)).status_code == 403
    cohort.refresh_from_db()
    assert cohort.wave_run_id is None


def test_an_unknown_round_is_404(client, staff_user):
    client.force_login(staff_user)
    assert client.get(reverse("staff_rounds:wave_review", args=[999999])).status_code == 404
    assert client.get(reverse("staff_rounds:reserve", args=[999999])).status_code == 404


def test_an_override_of_another_round_is_404(client, staff_user, declined):
    cohort, nominations, _tracks = declined
    waves.wave_propose(actor=staff_user, cohort=cohort)
    services.override_create(actor=staff_user, cohort=cohort, nomination=nominations[3],
                             kind="exclude", reason="Gone")
    override = CohortOverride.objects.get()
    other, _n = admitted_round(1, accepted=False)
    client.force_login(staff_user)
    response = client.post(reverse("staff_rounds:wave_override_clear",
                                   args=[other.pk, override.pk]))
    assert response.status_code == 404


def test_staff_propose_review_and_approve_a_wave(client, staff_user, declined,
                                                 django_assert_max_num_queries):
    cohort, (_c0, c1, c2, c3), (t1, t2) = declined
    client.force_login(staff_user)
    page = client.get(_url("wave_review", cohort)).content.decode()
    assert 'id="wave-propose"' in page and "Propose wave 2" in page

    response = client.post(_url("wave_propose", cohort))
    assert response.status_code == 302
    with django_assert_max_num_queries(40):
        page = client.get(_url("wave_review", cohort)).content.decode()
    assert f'id="new-{c2.pk}"' in page
    assert f'id="moved-{c1.pk}"' in page
    assert f'id="row-{c3.pk}"' in page  # not offered a seat, with the reason
    assert "its seats given back go to candidates it ranks higher" in page

    confirm = client.get(_url("wave_approve_confirm", cohort)).content.decode()
    assert "1 new offer of a seat given back" in confirm
    cohort.refresh_from_db()
    # Without the confirmation, nothing happens.
    client.post(_url("wave_approve", cohort), {"run": cohort.wave_run_id})
    assert not Offer.objects.filter(wave=2).exists()
    response = client.post(_url("wave_approve", cohort),
                           {"confirm": "yes", "run": cohort.wave_run_id})
    assert response.status_code == 302
    assert Offer.objects.get(nomination=c2, status="pending").track_id == t2
    assert Offer.objects.get(nomination=c1, status="pending").track_id == t1


def test_an_override_on_the_wave_page_keeps_what_was_typed_on_error(client, staff_user,
                                                                     declined):
    cohort, (_c0, _c1, _c2, c3), (_t1, t2) = declined
    waves.wave_propose(actor=staff_user, cohort=cohort)
    client.force_login(staff_user)
    response = client.post(_url("wave_override_create", cohort),
                           {"nomination": c3.pk, "kind": "move", "track": t2,
                            "reason": "Supervisor asked"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "no free seat" in page and 'value="Supervisor asked"' in page

    response = client.post(_url("wave_override_create", cohort),
                           {"nomination": c3.pk, "kind": "exclude", "reason": "Gone"})
    assert response.status_code == 302
    cohort.refresh_from_db()
    assert Placement.objects.get(match_run_id=cohort.wave_run_id, nomination=c3).track is None


def test_the_reserve_list_shows_positions_in_the_tracks_order(client, staff_user, declined):
    cohort, (c0, c1, c2, c3), (t1, _t2) = declined
    client.force_login(staff_user)
    page = client.get(_url("reserve", cohort) + f"?track={t1}").content.decode()
    # c0 gave the place back, c1 holds T2: c2 then c3 wait for T1.
    assert page.index(f'id="reserve-{c2.pk}"') < page.index(f'id="reserve-{c3.pk}"')
    assert f'id="reserve-{c0.pk}"' not in page and f'id="reserve-{c1.pk}"' not in page
    rows = client.get(_url("reserve", cohort) + f"?track={t1}").context["rows"]
    assert [(r["position"], r["score"].nomination_id) for r in rows] == [(1, c2.pk), (2, c3.pk)]
    assert client.get(_url("reserve", cohort) + "?track=abc&page=x").status_code == 200


def test_the_last_wave_is_set_on_the_round_calendar_and_then_refuses_waves(client, staff_user,
                                                                            declined):
    cohort, _nominations, _tracks = declined
    client.force_login(staff_user)
    overview = client.get(reverse("staff_rounds:round_overview",
                                  args=[cohort.intake_round_id])).content.decode()
    assert 'id="set-last-wave-form"' in overview
    at = timezone.localtime(timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    response = client.post(
        reverse("staff_rounds:round_calendar", args=[cohort.intake_round_id, "set_last_wave"]),
        {"at": at.strftime("%Y-%m-%dT%H:%M"), "reason": "Visas take time"})
    assert response.status_code == 302
    assert RoundMilestone.objects.get(intake_round_id=cohort.intake_round_id,
                                      kind=RoundMilestone.Kind.LAST_WAVE).at == at
    overview = client.get(reverse("staff_rounds:round_overview",
                                  args=[cohort.intake_round_id])).content.decode()
    assert 'data-milestone="last_wave"' in overview

    RoundMilestone.objects.filter(kind=RoundMilestone.Kind.LAST_WAVE).update(
        at=timezone.now() - timedelta(minutes=1))
    page = client.get(_url("wave_review", cohort)).content.decode()
    assert 'id="wave-refusal"' in page and 'id="wave-propose"' not in page
    client.post(_url("wave_propose", cohort))
    cohort.refresh_from_db()
    assert cohort.wave_run_id is None
