"""The round overview's calendar: the milestones in order with today among them and the current
phase highlighted, in the viewer's time zone; and the four calendar actions, each offered only
when the phase allows it, else a line saying when it will be."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from candidates import services
from candidates.models import Cohort
from ecocycle.models import AuditEntry
from programs.models import PHASE_MILESTONES, IntakeRound, RoundMilestone
from tests.candidates.factories import admitted_round
from tests.programs.factories import IntakeRoundFactory

pytestmark = pytest.mark.django_db

ACTION_IDS = ["close-nominations", "extend-nominations", "open-matching", "set-results-release"]


def _overview(client, intake_round):
    response = client.get(reverse("staff_rounds:round_overview", args=[intake_round.pk]))
    assert response.status_code == 200
    return response, response.content.decode().replace("&#x27;", "'")


def _offered(html) -> set[str]:
    return {action for action in ACTION_IDS if f'id="{action}-form"' in html}


def _noted(html) -> set[str]:
    return {action for action in ACTION_IDS if f'id="{action}-note"' in html}


def _calendar_url(intake_round, action):
    return reverse("staff_rounds:round_calendar", args=[intake_round.pk, action])


def _dates(intake_round):
    return dict(RoundMilestone.objects.filter(intake_round=intake_round)
                .values_list("kind", "at"))


@pytest.mark.parametrize(("opened_days_ago", "phase", "today_after", "offered"), [
    (-3, "Upcoming", None, {"extend-nominations", "set-results-release"}),
    (7, "Nominations open", "nominations_open",
     {"close-nominations", "extend-nominations", "set-results-release"}),
    (33, "Screening", "nominations_close", {"open-matching", "set-results-release"}),
    (40, "Matching", "matching", {"set-results-release"}),
    (60, "Decisions", "decisions", set()),
    (200, "Enrolment", "enrolment", set()),
])
def test_the_timeline_and_the_actions_follow_the_phase(client, staff_user, opened_days_ago,
                                                       phase, today_after, offered):
    intake_round = IntakeRoundFactory(milestones__opened_days_ago=opened_days_ago)
    client.force_login(staff_user)
    response, html = _overview(client, intake_round)

    timeline = response.context["timeline"]
    kinds = [entry["kind"] for entry in timeline["entries"]]
    assert [k for k in kinds if k != "today"] == PHASE_MILESTONES
    assert kinds.index("today") == (0 if today_after is None else kinds.index(today_after) + 1)
    assert str(timeline["phase_label"]) == phase
    assert f"Current phase: <strong>{phase}</strong>" in html
    current = re.findall(r'data-milestone="(\w+)" aria-current="step"', html)
    assert current == ([] if today_after is None else [today_after])
    assert _offered(html) == offered
    assert _noted(html) == set(ACTION_IDS) - offered


def test_dates_are_shown_in_the_viewers_time_zone_with_the_zone_named(client, staff_user):
    intake_round = IntakeRoundFactory()
    close = _dates(intake_round)["nominations_close"]
    client.force_login(staff_user)
    _response, html = _overview(client, intake_round)
    assert "Times in Asia/Seoul." in html
    assert timezone.localtime(close).strftime("%H:%M") + " KST" in html
    assert f'datetime="{timezone.localtime(close).isoformat()}"' in html
    # The dated forms are filled with the current date, in the same zone.
    assert f'value="{timezone.localtime(close).strftime("%Y-%m-%dT%H:%M")}"' in html


def test_a_note_says_when_an_action_not_offered_will_be(client, staff_user):
    intake_round = IntakeRoundFactory()
    close = _dates(intake_round)["nominations_close"]
    client.force_login(staff_user)
    _response, html = _overview(client, intake_round)
    note = re.search(r'id="open-matching-note">(.*?)</p>', html, re.S).group(1)
    assert "can be opened once nominations have closed" in note
    assert formats.date_format(timezone.localtime(close), "DATETIME_FORMAT") in note
    assert "KST" in note


def test_staff_close_nominations_early_from_the_overview(client, staff_user):
    intake_round = IntakeRoundFactory()
    client.force_login(staff_user)
    response = client.post(_calendar_url(intake_round, "close_nominations"),
                           {"reason": "Every quota is used"}, follow=True)
    html = response.content.decode()
    assert f"Nominations for {intake_round.name} are closed." in html
    assert IntakeRound.objects.get(pk=intake_round.pk).phase == IntakeRound.Phase.SCREENING
    entry = AuditEntry.objects.get(action="intake_round_close_nominations")
    assert entry.actor == staff_user and entry.after["reason"] == "Every quota is used"
    assert 'id="open-matching-form"' in html and 'id="close-nominations-note"' in html


def test_a_refusal_is_shown_beside_its_form_keeping_what_was_typed(client, staff_user):
    intake_round = IntakeRoundFactory()
    before = _dates(intake_round)
    typed = timezone.localtime(before["matching"] + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    client.force_login(staff_user)
    response = client.post(_calendar_url(intake_round, "extend_nominations"),
                           {"reason": "Universities asked", "at": typed})
    assert response.status_code == 400
    html = response.content.decode().replace("&#x27;", "'")
    form = re.search(r'<details class="calendar-action" id="extend-nominations" open>.*?</details>',
                     html, re.S).group(0)
    assert "would pass the next milestone, “Matching”" in form
    assert f'value="{typed}"' in form and ">Universities asked</textarea>" in form
    assert _dates(intake_round) == before
    assert not AuditEntry.objects.filter(action__startswith="intake_round_").exists()


@pytest.mark.parametrize(("action", "data", "says"), [
    ("close_nominations", {"reason": "  "}, "Give the reason for this change of the calendar."),
    ("extend_nominations", {"reason": "x"}, "Choose the date and time."),
    ("set_results_release", {"reason": "x", "at": "not a date"}, "Enter a valid date/time."),
    ("open_matching", {"reason": "x"}, "can be opened once nominations have closed"),
])
def test_bad_input_is_refused_with_a_clear_message(client, staff_user, action, data, says):
    intake_round = IntakeRoundFactory()
    before = _dates(intake_round)
    client.force_login(staff_user)
    response = client.post(_calendar_url(intake_round, action), data)
    assert response.status_code == 400
    assert says in response.content.decode().replace("&#x27;", "'")
    assert _dates(intake_round) == before


def test_set_the_release_and_extend_from_the_overview(client, staff_user):
    intake_round = IntakeRoundFactory()
    dates = _dates(intake_round)
    client.force_login(staff_user)
    release = timezone.localtime(dates["decisions"] + timedelta(days=3)).replace(
        second=0, microsecond=0)
    response = client.post(_calendar_url(intake_round, "set_results_release"), {
        "reason": "Committee", "at": release.strftime("%Y-%m-%dT%H:%M")}, follow=True)
    assert "are to be released on" in response.content.decode()
    until = timezone.localtime(dates["nominations_close"] + timedelta(days=2)).replace(
        second=0, microsecond=0)
    client.post(_calendar_url(intake_round, "extend_nominations"), {
        "reason": "More time", "at": until.strftime("%Y-%m-%dT%H:%M")})
    assert _dates(intake_round)["decisions"] == release
    assert _dates(intake_round)["nominations_close"] == until


def test_an_unknown_action_is_not_found_and_others_may_not_act(client, staff_user,
                                                               coordinator_user):
    intake_round = IntakeRoundFactory()
    client.force_login(staff_user)
    assert client.post(_calendar_url(intake_round, "delete_round"),
                       {"reason": "x"}).status_code == 404
    assert client.get(_calendar_url(intake_round, "close_nominations")).status_code == 405
    client.force_login(coordinator_user)
    assert client.post(_calendar_url(intake_round, "close_nominations"),
                       {"reason": "x"}).status_code == 403
    assert IntakeRound.objects.get(pk=intake_round.pk).phase == IntakeRound.Phase.NOMINATIONS


def test_the_overview_issues_the_same_number_of_queries_at_two_sizes(
    client, staff_user, django_assert_max_num_queries,
):
    client.force_login(staff_user)
    counts = []
    for size in (2, 8):
        # An approved cohort: the page also asks whether it may still be reopened.
        intake_round, _nominations = admitted_round(size, accepted=False)
        assert services.cohort_reopen_refusal(
            cohort=Cohort.objects.get(intake_round=intake_round)) is None
        with django_assert_max_num_queries(25) as measured:
            _overview(client, intake_round)
        counts.append(len(measured.captured_queries))
    assert counts[0] == counts[1]
