"""The staff pages for mentors: who may open them, what they show, withdrawing and proposing."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from ecocycle.models import AuditEntry
from mentors.models import MentorAssignment, MentoringActivity
from mentors.services import invitations_send, mentor_match_run
from tests.candidates.factories import open_round_with_tracks
from tests.mentors.factories import MentorFactory, admitted_round
from tests.worlds import module_world, reads_world

pytestmark = pytest.mark.django_db

Status = MentorAssignment.Status
ROUND_ID = 1  # permission checks come before any lookup: a made-up id is enough

PAGES = [
    ("staff_mentors:mentor_list", []),
    ("staff_mentors:mentor_detail", [1]),
    ("staff_mentors:round_assignments", [ROUND_ID]),
]
ACTIONS = [
    ("staff_mentors:assignment_withdraw", [1]),
    ("staff_mentors:assignment_propose", [ROUND_ID]),
]


def _mentored_round(n=4, *, mentors=2, capacity=2):
    """An approved cohort of `n` whose candidates were all invited by the nightly matching."""
    intake_round, nominations = admitted_round(n)
    team = [MentorFactory(capacity=capacity, full_name=f"Dr. Team {i}") for i in range(mentors)]
    mentor_match_run(intake_round=intake_round, trigger="command")
    invitations_send(intake_round_id=intake_round.pk)
    return intake_round, nominations, team


def _mentored():
    """Four invited candidates; then one accepted with two meetings, one declined."""
    intake_round, nominations, team = _mentored_round(4)
    accepted = MentorAssignment.objects.get(nomination=nominations[0])
    MentorAssignment.objects.filter(pk=accepted.pk).update(
        status=Status.ACCEPTED, responded_at=timezone.now())
    today = timezone.localdate()
    MentoringActivity.objects.create(assignment=accepted, date=today - timedelta(days=9),
                                     mode=MentoringActivity.Mode.ONLINE)
    MentoringActivity.objects.create(assignment=accepted, date=today - timedelta(days=2),
                                     mode=MentoringActivity.Mode.VISIT, notes="Lab visit")
    declined = MentorAssignment.objects.get(nomination=nominations[1])
    MentorAssignment.objects.filter(pk=declined.pk).update(
        status=Status.DECLINED, responded_at=timezone.now(),
        decline_reason="Travelling all spring")
    accepted.refresh_from_db()
    declined.refresh_from_db()
    return {"round": intake_round, "nominations": nominations, "team": team,
            "accepted": accepted, "declined": declined}


# Built once for the pages and refused actions that only read it (tests/worlds.py).
_built, mentored = module_world(_mentored, name="mentored")


# --- permissions --------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "args"), PAGES + ACTIONS)
def test_anonymous_users_are_sent_to_sign_in(client, name, args):
    method = client.post if (name, args) in ACTIONS else client.get
    response = method(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["coordinator_user", "mentor_user"])
@pytest.mark.parametrize(("name", "args"), PAGES + ACTIONS)
def test_coordinators_and_mentors_are_refused(client, request, who, name, args):
    client.force_login(request.getfixturevalue(who))
    method = client.post if (name, args) in ACTIONS else client.get
    assert method(reverse(name, args=args)).status_code == 403


@reads_world
@pytest.mark.parametrize("who", [None, "coordinator_user", "mentor_user"])
def test_refused_actions_change_nothing(client, request, mentored, who):
    if who:
        client.force_login(request.getfixturevalue(who))
    invited = MentorAssignment.objects.filter(status=Status.INVITED).first()
    client.post(reverse("staff_mentors:assignment_withdraw", args=[invited.pk]),
                {"reason": "not allowed"})
    client.post(reverse("staff_mentors:assignment_propose", args=[mentored["round"].pk]),
                {"nomination": mentored["nominations"][1].pk,
                 "mentor": mentored["team"][0].pk})
    invited.refresh_from_db()
    assert invited.status == Status.INVITED
    assert MentorAssignment.objects.count() == 4


@reads_world
def test_actions_refuse_get(client, staff_user, mentored):
    client.force_login(staff_user)
    invited = MentorAssignment.objects.filter(status=Status.INVITED).first()
    assert client.get(reverse("staff_mentors:assignment_withdraw",
                              args=[invited.pk])).status_code == 405
    assert client.get(reverse("staff_mentors:assignment_propose",
                              args=[mentored["round"].pk])).status_code == 405


# --- pages --------------------------------------------------------------------------------------

@reads_world
def test_mentor_list_shows_load_flags_rounds_and_links(client, staff_user, mentored):
    first, second = mentored["team"]
    paused = MentorFactory(full_name="Dr. Paused", is_active=False, capacity=3)
    free = MentorFactory(full_name="Dr. Free", capacity=5)
    client.force_login(staff_user)
    response = client.get(reverse("staff_mentors:mentor_list"))
    assert response.status_code == 200
    html = response.content.decode()
    rows = {m.pk: m for m in response.context["mentors"]}
    assert set(rows) == {first.pk, second.pk, paused.pk, free.pk}
    for mentor in (first, second):
        live = MentorAssignment.objects.filter(mentor=mentor)
        row = rows[mentor.pk]
        assert row.accepted == live.filter(status=Status.ACCEPTED).count()
        assert row.pending == live.filter(status__in=[Status.PROPOSED, Status.INVITED]).count()
        assert row.seats_left == mentor.capacity - row.accepted - row.pending
    assert rows[free.pk].seats_left == 5 and not rows[free.pk].near_capacity
    assert not rows[paused.pk].near_capacity
    assert "near capacity" in html and "paused" in html
    for mentor in (first, second, paused, free):
        assert reverse("staff_mentors:mentor_detail", args=[mentor.pk]) in html
    assert reverse("staff_mentors:round_assignments", args=[mentored["round"].pk]) in html
    assert reverse("staff_mentors:import") in html
    assert reverse("admin:mentors_mentor_add") in html

    near = client.get(reverse("staff_mentors:mentor_list"), {"near": "1"})
    shown = {m.pk for m in near.context["mentors"]}
    assert free.pk not in shown and paused.pk not in shown
    assert shown == {m.pk for m in rows.values() if m.near_capacity}
    assert shown  # the declined seat leaves one mentor at one seat left at most


@reads_world
def test_round_page_shows_counts_table_without_mentor_and_activity(client, staff_user,
                                                                   mentored):
    intake_round = mentored["round"]
    client.force_login(staff_user)
    response = client.get(reverse("staff_mentors:round_assignments", args=[intake_round.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    counts = {value: count for value, _label, count in response.context["status_counts"]}
    assert counts == {"proposed": 0, "invited": 2, "accepted": 1, "declined": 1,
                      "expired": 0, "withdrawn": 0}
    assert 'data-status="invited">2<' in html and 'data-status="all">4<' in html
    assert "Invited" in html and "Accepted" in html and "Declined" in html  # status labels
    assert "Travelling all spring" in html

    accepted = next(a for a in response.context["assignments"]
                    if a.pk == mentored["accepted"].pk)
    assert accepted.activity_count == 2
    assert accepted.last_activity == timezone.localdate() - timedelta(days=2)
    # A withdraw form for every live assignment, none for the declined one.
    for assignment in MentorAssignment.objects.all():
        url = reverse("staff_mentors:assignment_withdraw", args=[assignment.pk])
        assert (url in html) == (assignment.status in MentorAssignment.ACTIVE)

    declined_candidate = mentored["nominations"][1]
    assert [n.pk for n in response.context["without"]] == [declined_candidate.pk]
    assert reverse("staff_mentors:assignment_propose", args=[intake_round.pk]) in html
    options_url = reverse("staff_mentors:mentor_options", args=[intake_round.pk])
    assert f'data-mentor-search="{options_url}?candidate={declined_candidate.pk}"' in html

    activity = response.context["activity"]
    assert (activity.meetings, activity.mentored, activity.with_meeting) == (2, 1, 1)
    assert dict(response.context["activity_by_mode"])["Online"] == 1
    assert 'data-figure="meetings">2<' in html
    assert 'aria-current="page">Mentors<' in html  # the round's Mentors tab


@reads_world
def test_round_page_filters_by_status(client, staff_user, mentored):
    client.force_login(staff_user)
    url = reverse("staff_mentors:round_assignments", args=[mentored["round"].pk])
    response = client.get(url, {"status": "declined"})
    assert [a.pk for a in response.context["assignments"]] == [mentored["declined"].pk]
    everything = client.get(url, {"status": "nonsense"})
    assert len(everything.context["assignments"]) == 4


def test_round_page_without_an_approved_cohort(client, staff_user):
    intake_round = open_round_with_tracks(n_tracks=1)
    client.force_login(staff_user)
    response = client.get(reverse("staff_mentors:round_assignments", args=[intake_round.pk]))
    assert response.status_code == 200
    assert "no approved cohort yet" in response.content.decode()
    assert response.context["without"] == [] and response.context["assignments"] == []


@reads_world
def test_mentor_detail_shows_profile_and_every_assignment(client, staff_user, mentored):
    mentor = mentored["accepted"].mentor
    client.force_login(staff_user)
    response = client.get(reverse("staff_mentors:mentor_detail", args=[mentor.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert mentor.full_name in html and mentor.email in html
    mine = MentorAssignment.objects.filter(mentor=mentor)
    assert {a.pk for a in response.context["assignments"]} == set(mine.values_list("pk",
                                                                                    flat=True))
    assert response.context["accepted"] == 1
    assert "Accepted" in html
    assert reverse("staff_mentors:round_assignments", args=[mentored["round"].pk]) in html
    assert client.get(reverse("staff_mentors:mentor_detail", args=[99999])).status_code == 404


@reads_world
def test_header_and_round_list_link_to_the_mentor_pages(client, staff_user, mentored):
    client.force_login(staff_user)
    intake_round = mentored["round"]
    overview = client.get(reverse("staff_rounds:round_overview", args=[intake_round.pk]))
    assert reverse("staff_mentors:round_assignments", args=[intake_round.pk]) in (
        overview.content.decode())
    rounds = client.get(reverse("staff_rounds:round_list"))
    assert reverse("staff_mentors:mentor_list") in rounds.content.decode()


# --- withdraw -----------------------------------------------------------------------------------

def test_withdraw_changes_the_status_audits_and_tells_the_mentor(
    client, staff_user, mentored, django_capture_on_commit_callbacks,
):
    invited = MentorAssignment.objects.filter(status=Status.INVITED).first()
    client.force_login(staff_user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("staff_mentors:assignment_withdraw", args=[invited.pk]),
            {"reason": "The candidate asked for another field", "status": "invited"})
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "staff_mentors:round_assignments", args=[mentored["round"].pk]) + "?status=invited"
    invited.refresh_from_db()
    assert invited.status == Status.WITHDRAWN
    assert invited.withdraw_reason == "The candidate asked for another field"
    entry = AuditEntry.objects.get(action="mentor_assignment_withdraw")
    assert entry.actor == staff_user
    assert entry.before == {"status": "invited"}
    assert [m.to for m in mail.outbox] == [[invited.mentor.email]]
    page = client.get(response["Location"]).content.decode()
    assert "is withdrawn from" in page


@reads_world
def test_withdraw_without_a_reason_shows_the_error_and_changes_nothing(client, staff_user,
                                                                      mentored):
    accepted = mentored["accepted"]
    client.force_login(staff_user)
    response = client.post(reverse("staff_mentors:assignment_withdraw", args=[accepted.pk]),
                           {"reason": "   "})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the reason for withdrawing." in html
    assert f'id="withdraw-errors-{accepted.pk}"' in html
    accepted.refresh_from_db()
    assert accepted.status == Status.ACCEPTED
    assert not AuditEntry.objects.filter(action="mentor_assignment_withdraw").exists()


def test_withdrawing_twice_says_it_is_already_withdrawn(client, staff_user, mentored):
    invited = MentorAssignment.objects.filter(status=Status.INVITED).first()
    client.force_login(staff_user)
    url = reverse("staff_mentors:assignment_withdraw", args=[invited.pk])
    client.post(url, {"reason": "first"})
    response = client.post(url, {"reason": "second time"})
    assert response.status_code == 400
    assert "already withdrawn" in response.content.decode()


# --- propose ------------------------------------------------------------------------------------

def test_manual_propose_invites_and_emails(client, staff_user, mentored,
                                           django_capture_on_commit_callbacks):
    intake_round = mentored["round"]
    candidate = mentored["nominations"][1]  # declined by their first mentor
    other = MentorFactory(full_name="Dr. Other", capacity=2)
    client.force_login(staff_user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("staff_mentors:assignment_propose", args=[intake_round.pk]),
            {"nomination": candidate.pk, "mentor": other.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("staff_mentors:round_assignments",
                                           args=[intake_round.pk])
    assignment = MentorAssignment.objects.get(nomination=candidate, mentor=other)
    assert assignment.status == Status.INVITED and assignment.proposed_by == staff_user
    assert assignment.expires_at > timezone.now()
    assert [m.to for m in mail.outbox] == [[other.email]]
    assert AuditEntry.objects.filter(action="mentor_assignment_propose").count() == 1
    page = client.get(response["Location"])
    assert page.context["without"] == []
    assert "the invitation is being emailed" in page.content.decode()


@reads_world
def test_proposing_the_mentor_who_declined_shows_the_error(client, staff_user, mentored):
    intake_round = mentored["round"]
    declined = mentored["declined"]
    client.force_login(staff_user)
    response = client.post(
        reverse("staff_mentors:assignment_propose", args=[intake_round.pk]),
        {"nomination": declined.nomination_id, "mentor": declined.mentor_id})
    assert response.status_code == 400
    html = response.content.decode()
    assert "was already asked to mentor" in html and "(declined)" in html
    assert f'id="propose-errors-{declined.nomination_id}"' in html
    # The candidate's short list is open again, without the mentor who declined.
    row = response.context["without"][0]
    assert row.pk == declined.nomination_id and row.chosen.errors
    assert declined.mentor_id not in {m.pk for m in row.options}
    assert f'<option value="{declined.mentor_id}"' not in html
    assert MentorAssignment.objects.filter(nomination_id=declined.nomination_id).count() == 1


@reads_world
def test_proposing_without_choosing_a_mentor_asks_for_one(client, staff_user, mentored):
    client.force_login(staff_user)
    candidate = mentored["nominations"][1]
    response = client.post(
        reverse("staff_mentors:assignment_propose", args=[mentored["round"].pk]),
        {"nomination": candidate.pk, "mentor": ""})
    assert response.status_code == 400
    assert "Choose a mentor for" in response.content.decode()


@reads_world
def test_proposing_for_a_candidate_of_another_round_is_404(client, staff_user, mentored):
    other_round = open_round_with_tracks(n_tracks=1)
    client.force_login(staff_user)
    response = client.post(
        reverse("staff_mentors:assignment_propose", args=[other_round.pk]),
        {"nomination": mentored["nominations"][1].pk, "mentor": mentored["team"][0].pk})
    assert response.status_code == 404


# --- query counts -------------------------------------------------------------------------------

def _page_urls(intake_round, mentor):
    return [
        reverse("staff_mentors:mentor_list"),
        reverse("staff_mentors:mentor_list") + "?near=1",
        reverse("staff_mentors:round_assignments", args=[intake_round.pk]),
        reverse("staff_mentors:mentor_detail", args=[mentor.pk]),
    ]


def _spread(intake_round):
    """Some of every status, meetings on the accepted ones, candidates left without a mentor."""
    assignments = list(MentorAssignment.objects.filter(nomination__intake_round=intake_round)
                       .order_by("id"))
    today = timezone.localdate()
    for i, assignment in enumerate(assignments):
        status = [Status.ACCEPTED, Status.INVITED, Status.DECLINED, Status.WITHDRAWN][i % 4]
        MentorAssignment.objects.filter(pk=assignment.pk).update(status=status)
        if status == Status.ACCEPTED:
            for days in (1, 5):
                MentoringActivity.objects.create(assignment=assignment,
                                                 date=today - timedelta(days=days),
                                                 mode=MentoringActivity.Mode.ONLINE)


def test_pages_issue_a_bounded_number_of_queries(client, staff_user,
                                                 django_assert_max_num_queries):
    client.force_login(staff_user)
    small, _nominations, small_team = _mentored_round(2, mentors=1)
    _spread(small)
    large, _nominations, large_team = _mentored_round(8, mentors=4, capacity=3)
    _spread(large)
    MentorFactory.create_batch(5)
    for intake_round, mentor in ((small, small_team[0]), (large, large_team[0])):
        for url in _page_urls(intake_round, mentor):
            with django_assert_max_num_queries(16):
                assert client.get(url).status_code == 200
    large_page = client.get(reverse("staff_mentors:round_assignments", args=[large.pk]))
    assert len(large_page.context["assignments"]) == 8
    assert len(large_page.context["without"]) == 4  # the declined and the withdrawn
