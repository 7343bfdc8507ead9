"""The nomination form's section tabs speak the reader's language (issue 15)."""

import pytest
from django.urls import reverse

from tests.candidates.factories import complete_nomination
from tests.programs.factories import CoordinatorFactory

pytestmark = pytest.mark.django_db


def test_section_tabs_are_translated_per_request(client):
    coordinator = CoordinatorFactory(user__language="ko")
    nomination = complete_nomination(coordinator=coordinator)
    client.force_login(coordinator.user)
    page = client.get(reverse("candidates:nomination_edit", args=[nomination.pk, "studies"]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "관심 분야 및 지망" in text and "학업" in text
    assert "Interests and preferences" not in text
    assert "2. Studies" not in text
