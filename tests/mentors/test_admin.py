"""Staff add a mentor in the admin: the same service as the import, with the mentor's account."""

import pytest
from django.urls import reverse

from ecocycle.models import AuditEntry
from mentors.models import Mentor, MentoringActivity
from tests.programs.factories import CoreTechnologyFactory

pytestmark = pytest.mark.django_db


def test_staff_add_a_mentor_in_the_admin(client, staff_user):
    technology = CoreTechnologyFactory()
    client.force_login(staff_user)
    response = client.post(reverse("admin:mentors_mentor_add"), {
        "full_name": "Dr. Yoo Jae-won", "email": "Yoo.Mentor@Retired.example", "language": "ko",
        "expertise": [technology.pk], "languages_spoken": "ko,en", "travel_countries": ["VN"],
        "capacity": 2, "is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    mentor = Mentor.objects.get()
    assert mentor.email == "yoo.mentor@retired.example"
    assert mentor.user.role == "mentor" and list(mentor.expertise.all()) == [technology]
    assert AuditEntry.objects.filter(action="mentor_create", actor=staff_user).exists()
    changelist = client.get(reverse("admin:mentors_mentor_changelist")).content.decode()
    assert reverse("staff_mentors:import") in changelist
    assert client.get(reverse("admin:mentors_mentoringactivity_changelist")).status_code == 200
    assert MentoringActivity.objects.count() == 0
