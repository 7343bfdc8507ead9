from datetime import timedelta

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from ecocycle.models import AuditEntry
from programs.models import (
    MAX_TRACK_SEATS,
    IntakeRound,
    RoundMilestone,
    RoundTrack,
    University,
)
from programs.services import intake_round_create
from tests.programs.factories import (
    CoordinatorFactory,
    CoreTechnologyFactory,
    DegreeTrackFactory,
    IntakeRoundFactory,
    ProgramUniversityFactory,
    RoundTrackFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    participation = ProgramUniversityFactory()
    track = DegreeTrackFactory(program=participation.program)
    CoreTechnologyFactory(program=participation.program)
    RoundTrackFactory(intake_round=IntakeRoundFactory(program=participation.program), track=track)
    CoordinatorFactory(university=participation.university)
    AuditEntry.objects.create(
        actor_label="system", action="seed", target_type_id=1, target_id="1", target_repr="x"
    )


def _admin_urls():
    urls = []
    for model, _model_admin in admin.site._registry.items():
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        obj = model._default_manager.first()
        if obj is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    return urls


def test_every_admin_page_loads_for_staff(client, staff_user, world):
    client.force_login(staff_user)
    urls = _admin_urls()
    assert len(urls) > 10
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
    for model in admin.site._registry:
        opts = model._meta
        if admin.site._registry[model].has_add_permission(_request_for(staff_user)):
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            assert client.get(url).status_code == 200, url


def _request_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.mark.parametrize("who", ["coordinator_user", "mentor_user", "anonymous"])
def test_admin_is_refused_to_everyone_but_staff(client, who, request, world):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    for url in _admin_urls():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_admin_add_goes_through_the_audited_service(client, staff_user):
    client.force_login(staff_user)
    response = client.post(reverse("admin:programs_university_add"), {
        "name": "Universitas Riau", "country": "ID", "city": "Pekanbaru", "website": "",
        "email_domain": "unri.ac.id",
    })
    assert response.status_code == 302
    uni = University.objects.get(name="Universitas Riau")
    entry = AuditEntry.objects.get(action="university_create")
    assert entry.actor == staff_user and entry.target_id == str(uni.pk)

    response = client.post(reverse("admin:programs_university_change", args=[uni.pk]), {
        "name": "Universitas Riau", "country": "ID", "city": "Pekanbaru (Riau)", "website": "",
        "email_domain": "unri.ac.id",
    })
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="university_update")
    assert entry.before == {"city": "Pekanbaru"} and entry.after == {"city": "Pekanbaru (Riau)"}


def _round_post(program, dates):
    data = {
        "program": program.pk, "name": "2028 Autumn", "preference_limit": 3,
        "offer_response_days": 14,
        "milestones-TOTAL_FORMS": 5, "milestones-INITIAL_FORMS": 0,
        "milestones-MIN_NUM_FORMS": 0, "milestones-MAX_NUM_FORMS": 1000,
        "round_tracks-TOTAL_FORMS": 0, "round_tracks-INITIAL_FORMS": 0,
        "round_tracks-MIN_NUM_FORMS": 0, "round_tracks-MAX_NUM_FORMS": 1000,
    }
    for i, (kind, at) in enumerate(dates.items()):
        data[f"milestones-{i}-kind"] = kind
        data[f"milestones-{i}-at_0"] = at.strftime("%Y-%m-%d")
        data[f"milestones-{i}-at_1"] = at.strftime("%H:%M:%S")
    return data


def test_admin_round_with_milestones_in_order_is_created(client, staff_user):
    client.force_login(staff_user)
    program = ProgramUniversityFactory().program
    start = timezone.now() + timedelta(days=1)
    kinds = ["nominations_open", "nominations_close", "matching", "decisions", "enrolment"]
    dates = {k: start + timedelta(days=10 * i) for i, k in enumerate(kinds)}
    response = client.post(reverse("admin:programs_intakeround_add"), _round_post(program, dates))
    assert response.status_code == 302, response.content.decode()[:2000]
    intake_round = IntakeRound.objects.get(name="2028 Autumn")
    assert intake_round.milestones.count() == 5
    assert AuditEntry.objects.filter(action="roundmilestone_create").count() == 5


def test_admin_round_with_milestones_out_of_order_shows_the_error(client, staff_user):
    client.force_login(staff_user)
    program = ProgramUniversityFactory().program
    start = timezone.now() + timedelta(days=1)
    kinds = ["nominations_open", "nominations_close", "matching", "decisions", "enrolment"]
    dates = {k: start + timedelta(days=10 * i) for i, k in enumerate(kinds)}
    dates["decisions"] = dates["nominations_open"]
    response = client.post(reverse("admin:programs_intakeround_add"), _round_post(program, dates))
    assert response.status_code == 200
    assert "must come after" in response.content.decode()
    assert not IntakeRound.objects.exists()
    assert not AuditEntry.objects.exists()


# --- changing a round: the admin writes through the audited services ----------------------------

@pytest.fixture
def scheduled_round(staff_user):
    """A round with whole-second milestones (the admin's date fields carry no microseconds) and
    one track of two seats."""
    program = ProgramUniversityFactory().program
    track = DegreeTrackFactory(program=program, seats=2)
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    kinds = ["nominations_open", "nominations_close", "matching", "decisions", "enrolment"]
    return intake_round_create(actor=staff_user, program=program, name="2029 Spring",
                               milestones={k: start + timedelta(days=10 * i)
                                           for i, k in enumerate(kinds)},
                               seats={track: 2})


def _round_change_post(intake_round, *, milestones=(), seats=(), add_track=None):
    """The change form as the admin page sends it, with `milestones` (kind -> date) and `seats`
    (track -> seats) changed and `add_track` offered in a new row."""
    milestones, seats = dict(milestones), dict(seats)
    data = {"program": intake_round.program_id, "name": intake_round.name,
            "preference_limit": intake_round.preference_limit,
            "offer_response_days": intake_round.offer_response_days}
    rows = list(intake_round.milestones.order_by("at"))
    data.update({"milestones-TOTAL_FORMS": len(rows), "milestones-INITIAL_FORMS": len(rows),
                 "milestones-MIN_NUM_FORMS": 0, "milestones-MAX_NUM_FORMS": 1000})
    for i, milestone in enumerate(rows):
        at = timezone.localtime(milestones.get(milestone.kind, milestone.at))
        data.update({f"milestones-{i}-id": milestone.pk,
                     f"milestones-{i}-intake_round": intake_round.pk,
                     f"milestones-{i}-kind": milestone.kind,
                     f"milestones-{i}-at_0": at.strftime("%Y-%m-%d"),
                     f"milestones-{i}-at_1": at.strftime("%H:%M:%S")})
    round_tracks = list(intake_round.round_tracks.order_by("id"))
    total = len(round_tracks) + (add_track is not None)
    data.update({"round_tracks-TOTAL_FORMS": total,
                 "round_tracks-INITIAL_FORMS": len(round_tracks),
                 "round_tracks-MIN_NUM_FORMS": 0, "round_tracks-MAX_NUM_FORMS": 1000})
    for i, round_track in enumerate(round_tracks):
        data.update({f"round_tracks-{i}-id": round_track.pk,
                     f"round_tracks-{i}-intake_round": intake_round.pk,
                     f"round_tracks-{i}-track": round_track.track_id,
                     f"round_tracks-{i}-seats": seats.get(round_track.track, round_track.seats)})
    if add_track is not None:
        i = len(round_tracks)
        data.update({f"round_tracks-{i}-intake_round": intake_round.pk,
                     f"round_tracks-{i}-track": add_track.pk, f"round_tracks-{i}-seats": 1})
    return data


def test_admin_reschedule_and_seats_are_audited(client, staff_user, scheduled_round):
    intake_round = scheduled_round
    track = intake_round.tracks.get()
    close = intake_round.milestones.get(kind=RoundMilestone.Kind.NOMINATIONS_CLOSE)
    new_close = close.at + timedelta(days=2)
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:programs_intakeround_change", args=[intake_round.pk]),
        _round_change_post(intake_round, milestones={close.kind: new_close}, seats={track: 4}))
    assert response.status_code == 302, response.content.decode()[:2000]
    close.refresh_from_db()
    assert close.at == new_close
    assert RoundTrack.objects.get(intake_round=intake_round, track=track).seats == 4
    moved = AuditEntry.objects.get(action="roundmilestone_update")
    assert moved.actor == staff_user and moved.target_id == str(close.pk)
    entry = AuditEntry.objects.get(action="roundtrack_update")
    assert (entry.before, entry.after) == ({"seats": 2}, {"seats": 4})


def test_admin_reschedule_out_of_order_changes_nothing(client, staff_user, scheduled_round):
    intake_round = scheduled_round
    close = intake_round.milestones.get(kind=RoundMilestone.Kind.NOMINATIONS_CLOSE)
    before = close.at
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:programs_intakeround_change", args=[intake_round.pk]),
        _round_change_post(intake_round, milestones={close.kind: before + timedelta(days=90)}))
    assert response.status_code == 200
    assert "must come after" in response.content.decode()
    close.refresh_from_db()
    assert close.at == before
    assert not AuditEntry.objects.filter(action="roundmilestone_update").exists()


def test_admin_refuses_a_track_of_another_program(client, staff_user, scheduled_round):
    intake_round = scheduled_round
    audited = AuditEntry.objects.count()
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:programs_intakeround_change", args=[intake_round.pk]),
        _round_change_post(intake_round, add_track=DegreeTrackFactory()))
    assert response.status_code == 200
    assert "This track belongs to another program than the round." in response.content.decode()
    assert intake_round.round_tracks.count() == 1
    assert AuditEntry.objects.count() == audited


def test_admin_refuses_seats_above_the_maximum(client, staff_user, scheduled_round):
    intake_round = scheduled_round
    track = intake_round.tracks.get()
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:programs_intakeround_change", args=[intake_round.pk]),
        _round_change_post(intake_round, seats={track: MAX_TRACK_SEATS + 1}))
    assert response.status_code == 200
    assert RoundTrack.objects.get(intake_round=intake_round, track=track).seats == 2
