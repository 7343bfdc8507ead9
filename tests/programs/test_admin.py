from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from ecocycle.models import AuditEntry
from programs.models import IntakeRound, University
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
    from django.test import RequestFactory

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
