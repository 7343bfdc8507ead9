"""Every time in the viewer's time zone, with the zone named (issue 15)."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from ecocycle.middleware import user_time_zone
from ecocycle.models import AuditEntry
from hub.models import JobFailure
from programs.models import RoundMilestone
from tests.candidates.factories import (
    complete_nomination,
    open_round_with_tracks,
    submitted_nomination,
)
from tests.programs.factories import CoordinatorFactory, ProgramUniversityFactory, close_nominations

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def _in_jakarta(at) -> str:
    with timezone.override("Asia/Jakarta"):
        return formats.date_format(timezone.localtime(at), "DATETIME_FORMAT")


@pytest.fixture
def jakarta():
    intake_round = open_round_with_tracks(n_tracks=3)
    coordinator = CoordinatorFactory(timezone="Asia/Jakarta")
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university)
    draft = complete_nomination(coordinator=coordinator, intake_round=intake_round)
    submitted = submitted_nomination(coordinator=coordinator, intake_round=intake_round)
    return {"round": intake_round, "coordinator": coordinator, "draft": draft,
            "submitted": submitted}


def test_a_coordinator_sees_the_submission_time_in_their_zone_named(client, jakarta):
    submitted = jakarta["submitted"]
    client.force_login(jakarta["coordinator"].user)
    text = _text(client.get(reverse("candidates:nomination_detail", args=[submitted.pk])))
    when = _in_jakarta(submitted.submitted_at)
    assert f"Submitted on {when}." in text
    assert "WIB" in when and "KST" not in text


def test_a_deadline_error_is_in_the_coordinators_zone_named(client, jakarta):
    close_nominations(jakarta["round"])
    draft = jakarta["draft"]
    client.force_login(jakarta["coordinator"].user)
    response = client.post(reverse("candidates:nomination_submit", args=[draft.pk]), follow=True)
    text = _text(response)
    close = jakarta["round"].nominations_close_at
    assert re.search(r"The nomination deadline for .* has passed", text)
    assert f"({_in_jakarta(close)})" in text
    assert "WIB" in _in_jakarta(close) and "KST" not in text


def test_staff_and_mentors_read_times_in_seoul(staff_user, mentor_user):
    assert user_time_zone(staff_user) == user_time_zone(mentor_user) == "Asia/Seoul"


def test_a_coordinator_with_an_unknown_zone_reads_seoul_time():
    coordinator = CoordinatorFactory(timezone="Mars/Olympus")
    assert user_time_zone(coordinator.user) == "Asia/Seoul"


AT = datetime(2026, 12, 6, 8, 3, tzinfo=UTC)  # 15:03 in Jakarta, 17:03 in Seoul


def test_admin_headings_are_in_the_viewers_zone_named():
    """The admin's headings and lists show the objects' names: their times are the viewer's,
    not the database's UTC."""
    rows = [AuditEntry(created_at=AT, actor_label="a@example.test", action="nomination.submit",
                       target_repr="Nomination 1"),
            RoundMilestone(kind=RoundMilestone.Kind.NOMINATIONS_CLOSE, at=AT),
            JobFailure(job="retention", failed_at=AT, error="boom")]
    with timezone.override("Asia/Jakarta"):
        names = [str(row) for row in rows]
    assert all("15:03 WIB" in name for name in names), names
    assert not [name for name in names if "08:03" in name]
    with timezone.override("Asia/Seoul"):
        assert "17:03 KST" in str(rows[0])
