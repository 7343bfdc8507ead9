import pytest
from django.urls import reverse

from tests.programs.factories import IntakeRoundFactory, ProgramUniversityFactory

pytestmark = pytest.mark.django_db


def test_anonymous_home_invites_to_sign_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert reverse("account_login") in response.content.decode()


def test_staff_see_every_active_program_and_admin_link(client, staff_user):
    a = ProgramUniversityFactory(program__name="Palm oil")
    b = ProgramUniversityFactory(program__name="Casting", program__country="VN")
    IntakeRoundFactory(program=a.program, name="2027 Spring")
    client.force_login(staff_user)
    html = client.get(reverse("home")).content.decode()
    assert "Palm oil" in html and "Casting" in html and "2027 Spring" in html
    assert reverse("admin:index") in html
    assert b.program.get_country_display() in html


def test_coordinator_sees_only_programs_of_their_university(client, coordinator):
    mine = ProgramUniversityFactory(university=coordinator.university, program__name="Mine")
    ProgramUniversityFactory(program__name="Someone else's")
    IntakeRoundFactory(program=mine.program, name="Open round")
    client.force_login(coordinator.user)
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert "Mine" in html and "Open round" in html
    assert "Someone else" not in html
    assert reverse("admin:index") not in html
    assert "Asia/Jakarta" in html  # the deadline is shown in the coordinator's time zone


def test_home_in_korean(client, staff_user):
    client.force_login(staff_user)
    client.post(reverse("set_language"), {"language": "ko", "next": "/"})
    html = client.get(reverse("home")).content.decode()
    assert 'lang="ko"' in html
    assert "입학 차수" in html


def test_home_queries_are_bounded(client, staff_user, django_assert_max_num_queries):
    for _ in range(10):
        IntakeRoundFactory(program=ProgramUniversityFactory().program)
    client.force_login(staff_user)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("home")).status_code == 200


def test_signed_in_user_gets_their_preferred_language(client, staff_user):
    staff_user.language = "ko"
    staff_user.save()
    client.force_login(staff_user)
    assert 'lang="ko"' in client.get(reverse("home")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert 'lang="en"' in client.get(reverse("home")).content.decode()
