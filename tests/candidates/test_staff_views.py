"""The staff dashboard pages: who may open them, what they show, and the actions they take."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from candidates import services
from candidates.models import (
    Cohort,
    CohortAdmission,
    CohortOverride,
    MatchRun,
    Nomination,
    Placement,
    WhatIfRun,
)
from ecocycle.models import AuditEntry
from ecocycle.services import audit_entry_create
from programs.models import RoundTrack
from students import services as student_services
from tests.candidates.factories import (
    consented_nomination as consented,
)
from tests.candidates.factories import (
    offer_take_up,
    open_round_with_tracks,
    submitted_nomination,
)
from tests.programs.factories import (
    CoordinatorFactory,
    DegreeTrackFactory,
    ProgramUniversityFactory,
    RoundTrackFactory,
    UniversityFactory,
    close_nominations,
)
from tests.worlds import module_world, reads_world

pytestmark = pytest.mark.django_db

ROUND_ID = 1  # permission checks come before any lookup: a made-up id is enough


def _matched_round():
    """Five consented candidates from two universities (Indonesia, Vietnam) for three tracks of
    one seat each, one candidate without consent, and a fourth track nobody ranked."""
    intake_round = open_round_with_tracks(n_tracks=3)
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=1)
    itb = CoordinatorFactory(university=UniversityFactory(name="ITB", country="ID"))
    hust = CoordinatorFactory(university=UniversityFactory(name="HUST", country="VN"))
    nominations = [
        consented(intake_round=intake_round, coordinator=itb, gpa="3.9", family_name="Alpha"),
        consented(intake_round=intake_round, coordinator=hust, gpa="3.7", family_name="Bravo",
                   nationality="VN"),
        consented(intake_round=intake_round, coordinator=itb, gpa="3.5", family_name="Charlie"),
        consented(intake_round=intake_round, coordinator=hust, gpa="3.3", family_name="Delta",
                   nationality="VN"),
        consented(intake_round=intake_round, coordinator=itb, gpa="3.1", family_name="Echo"),
    ]
    no_consent = submitted_nomination(intake_round=intake_round, coordinator=itb, gpa="4.0",
                                      family_name="Foxtrot")
    RoundTrackFactory(intake_round=intake_round,
                      track=DegreeTrackFactory(program=intake_round.program, major="Unranked"))
    close_nominations(intake_round)
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    return {"round": intake_round, "nominations": nominations, "no_consent": no_consent,
            "itb": itb, "hust": hust}


# Built once for the pages that only read it (tests/worlds.py); the other tests build their own.
_built, matched_round = module_world(_matched_round, name="matched_round")


def _placed(intake_round):
    cohort = Cohort.objects.get(intake_round=intake_round)
    return dict(Placement.objects.filter(match_run_id=cohort.match_run_id)
                .values_list("nomination_id", "track_id"))


# --- permissions --------------------------------------------------------------------------------

PAGES = [
    ("staff_rounds:round_list", []),
    ("staff_rounds:round_overview", [ROUND_ID]),
    ("staff_rounds:cohort_review", [ROUND_ID]),
    ("staff_rounds:whatif", [ROUND_ID]),
    ("staff_rounds:run_status", [ROUND_ID]),
    ("staff_rounds:audit_log", [ROUND_ID]),
    ("staff_rounds:cohort_approve_confirm", [ROUND_ID]),
]
ACTIONS = [
    ("staff_rounds:override_create", [ROUND_ID]),
    ("staff_rounds:override_clear", [ROUND_ID, 1]),
    ("staff_rounds:cohort_approve", [ROUND_ID]),
    ("staff_rounds:cohort_reopen", [ROUND_ID]),
    ("staff_rounds:run_now", [ROUND_ID]),
    ("staff_rounds:round_calendar", [ROUND_ID, "close_nominations"]),
]


@pytest.mark.parametrize(("name", "args"), PAGES + ACTIONS)
def test_anonymous_users_are_sent_to_sign_in(client, name, args):
    url = reverse(name, args=args)
    method = client.post if (name, args) in ACTIONS else client.get
    response = method(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["coordinator_user", "mentor_user"])
@pytest.mark.parametrize(("name", "args"), PAGES + ACTIONS)
def test_coordinators_and_mentors_are_refused(client, request, who, name, args):
    client.force_login(request.getfixturevalue(who))
    url = reverse(name, args=args)
    method = client.post if (name, args) in ACTIONS else client.get
    assert method(url).status_code == 403


@reads_world
@pytest.mark.parametrize("who", [None, "coordinator_user", "mentor_user"])
def test_refused_actions_change_nothing(client, request, matched_round, who):
    if who:
        client.force_login(request.getfixturevalue(who))
    intake_round = matched_round["round"]
    alpha = matched_round["nominations"][0]
    runs = MatchRun.objects.count()
    client.post(reverse("staff_rounds:override_create", args=[intake_round.pk]),
                {"nomination": alpha.pk, "kind": "exclude", "reason": "not allowed"})
    client.post(reverse("staff_rounds:cohort_approve", args=[intake_round.pk]),
                {"confirm": "yes"})
    client.post(reverse("staff_rounds:run_now", args=[intake_round.pk]))
    assert not CohortOverride.objects.exists()
    cohort = Cohort.objects.get(intake_round=intake_round)
    assert cohort.status == Cohort.Status.PROPOSED and cohort.run_requested_at is None
    assert MatchRun.objects.count() == runs


def test_an_inactive_staff_account_is_sent_to_sign_in(client, staff_user):
    client.force_login(staff_user)
    staff_user.is_active = False
    staff_user.save()
    response = client.get(reverse("staff_rounds:round_list"))
    assert response.status_code == 302


@reads_world
def test_get_on_an_action_is_refused(client, staff_user, matched_round):
    client.force_login(staff_user)
    url = reverse("staff_rounds:cohort_approve", args=[matched_round["round"].pk])
    assert client.get(url).status_code == 405
    assert Cohort.objects.get().status == Cohort.Status.PROPOSED


# --- round list and overview --------------------------------------------------------------------

@reads_world
def test_round_list_shows_phase_cohort_and_latest_run(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    other = open_round_with_tracks(n_tracks=1)
    client.force_login(staff_user)
    response = client.get(reverse("staff_rounds:round_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("staff_rounds:round_overview", args=[intake_round.pk]) in html
    assert reverse("staff_rounds:round_overview", args=[other.pk]) in html
    assert "Nominations open" in html
    assert "Proposed" in html and "no proposal yet" in html
    run = MatchRun.objects.get(intake_round=intake_round)
    assert timezone.localtime(run.started_at).strftime("%Y-%m-%dT%H:%M") in html


def _stage(html, key):
    return int(re.search(rf'data-stage="{key}">(\d+)<', html).group(1))


@reads_world
def test_overview_figures_match_the_database(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    client.force_login(staff_user)
    response = client.get(reverse("staff_rounds:round_overview", args=[intake_round.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    placed = {n: t for n, t in _placed(intake_round).items() if t}
    submitted = Nomination.objects.filter(intake_round=intake_round, status="submitted")
    assert _stage(html, "nominated") == submitted.count() == 6
    assert _stage(html, "consented") == submitted.filter(
        consent_given_at__isnull=False).count() == 5
    assert _stage(html, "eligible") == 5
    assert _stage(html, "scored") == 5
    assert _stage(html, "placed") == len(placed) == 3
    assert _stage(html, "approved") == 0
    assert _stage(html, "enrolled") == 0
    assert html.count("<svg") >= 1 + 4  # the funnel and one fill bar per track

    tracks = {row["track"].pk: row for row in response.context["overview"]["tracks"]}
    for rt in RoundTrack.objects.filter(intake_round=intake_round):
        row = tracks[rt.track_id]
        assert row["seats"] == rt.seats
        assert row["placed"] == sum(1 for t in placed.values() if t == rt.track_id)
    unranked = next(row for row in tracks.values() if row["track"].major == "Unranked")
    assert unranked["placed"] == 0 and unranked["applicants"] == 0

    universities = {row["university"].name: row
                    for row in response.context["overview"]["by_university"]}
    itb_ids = {n.pk for n in matched_round["nominations"] if n.university.name == "ITB"}
    assert universities["ITB"]["nominated"] == 4  # three consented and the one without consent
    assert universities["ITB"]["eligible"] == 3
    assert universities["ITB"]["placed"] == len(itb_ids & placed.keys())
    assert universities["HUST"]["nominated"] == 2
    assert "Viet Nam" in html or "Vietnam" in html
    assert "first run of this round" in html
    assert reverse("staff_rounds:export", args=[intake_round.pk, "cohort", "xlsx"]) in html
    assert reverse("staff_rounds:export", args=[intake_round.pk, "universities", "csv"]) in html


def test_overview_reports_changes_since_the_previous_run(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=2)
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    client.force_login(staff_user)
    response = client.get(reverse("staff_rounds:round_overview", args=[intake_round.pk]))
    changes = response.context["overview"]["changes"]
    assert changes["newly_placed"] == 2 and changes["no_longer_placed"] == 0
    assert "2 newly placed, 0 no longer placed" in response.content.decode()


def test_overview_counts_the_enrolled_students(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    services.cohort_approve(actor=staff_user, cohort=Cohort.objects.get())
    admission = CohortAdmission.objects.select_related("track", "cohort").order_by("id").first()
    offer_take_up(admission)
    student_services.enrolment_create(actor=staff_user, admission=admission,
                                      semester="2027 Spring",
                              enrolled_on=timezone.localdate())
    client.force_login(staff_user)
    url = reverse("staff_rounds:round_overview", args=[intake_round.pk])
    html = client.get(url).content.decode()
    assert (_stage(html, "approved"), _stage(html, "enrolled")) == (3, 1)


# --- cohort review ------------------------------------------------------------------------------

@reads_world
def test_cohort_review_lists_the_proposal_with_explanations(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    client.force_login(staff_user)
    response = client.get(reverse("staff_rounds:cohort_review", args=[intake_round.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    rows = response.context["rows"]
    placed = _placed(intake_round)
    assert {row["nomination"].pk for row in rows} == set(placed)
    for row in rows:
        assert (row["track"].pk if row["track"] else None) == placed[row["nomination"].pk]
        assert reverse("admin:candidates_nomination_change",
                       args=[row["nomination"].pk]) in html
    unplaced = [row for row in rows if row["track"] is None]
    assert len(unplaced) == 2
    assert "full, and ranked this candidate below its cut-off" in html
    assert matched_round["no_consent"].family_name.upper() not in html


@reads_world
def test_cohort_review_filters_and_sorts_on_the_server(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    client.force_login(staff_user)
    url = reverse("staff_rounds:cohort_review", args=[intake_round.pk])
    unplaced = client.get(url, {"status": "unplaced"}).context["rows"]
    assert len(unplaced) == 2 and all(row["track"] is None for row in unplaced)
    hust = matched_round["hust"].university
    rows = client.get(url, {"university": hust.pk}).context["rows"]
    assert {row["university"] for row in rows} == {hust}
    track_id = next(t for t in _placed(intake_round).values() if t)
    rows = client.get(url, {"track": track_id}).context["rows"]
    assert [row["track"].pk for row in rows] == [track_id]
    response = client.get(url, {"sort": "score"})
    by_score = response.context["rows"]
    scores = [row["score"] for row in by_score if row["score"] is not None]
    assert scores == sorted(scores, reverse=True)
    # The sorted column's header says so to a screen reader; the others say nothing.
    headers = re.findall(r"<th[^>]*>", response.content.decode().split('id="cohort"')[1])
    assert [h for h in headers if "aria-sort" in h] == ['<th class="num" aria-sort="descending">']
    by_name = client.get(url, {"sort": "candidate"}).context["rows"]
    assert [str(r["nomination"]) for r in by_name] == sorted(
        (str(r["nomination"]) for r in by_name), key=str.lower)
    # Unknown values are ignored, not errors.
    assert client.get(url, {"sort": "password", "status": "x", "track": "y"}).status_code == 200


def _override(client, intake_round, **data):
    return client.post(reverse("staff_rounds:override_create", args=[intake_round.pk]), data)


def test_override_exclude_then_move_into_the_freed_seat(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    alpha, _bravo, _charlie, delta, _echo = matched_round["nominations"]
    client.force_login(staff_user)
    freed = _placed(intake_round)[alpha.pk]
    assert _placed(intake_round)[delta.pk] is None

    response = _override(client, intake_round, nomination=alpha.pk, kind="exclude",
                         reason="Accepted an offer elsewhere", query="status=placed")
    assert response.status_code == 302
    assert response["Location"].endswith("?status=placed")
    assert _placed(intake_round)[alpha.pk] is None

    response = _override(client, intake_round, nomination=delta.pk, kind="move", track=freed,
                         reason="Supervisor asked for this candidate")
    assert response.status_code == 302
    assert _placed(intake_round)[delta.pk] == freed

    page = client.get(reverse("staff_rounds:cohort_review", args=[intake_round.pk]))
    html = page.content.decode()
    assert "Accepted an offer elsewhere" in html and "Excluded" in html
    assert "Supervisor asked for this candidate" in html and "Moved to" in html
    overridden = client.get(reverse("staff_rounds:cohort_review", args=[intake_round.pk]),
                            {"status": "overridden"}).context["rows"]
    assert {row["nomination"].pk for row in overridden} == {alpha.pk, delta.pk}
    assert AuditEntry.objects.filter(action="cohort_override_create").count() == 2


@reads_world
def test_the_move_select_offers_ranked_tracks_and_marks_full_ones(client, staff_user,
                                                                   matched_round):
    intake_round = matched_round["round"]
    delta = matched_round["nominations"][3]
    client.force_login(staff_user)
    rows = client.get(reverse("staff_rounds:cohort_review", args=[intake_round.pk])).context["rows"]
    row = next(r for r in rows if r["nomination"] == delta)
    assert [o["track"] for o in row["move_options"]] == row["ranked_tracks"]
    assert not any(o["free"] for o in row["move_options"])  # every seat is taken


@pytest.mark.parametrize("case", ["no_reason", "not_ranked", "no_free_seat", "no_consent",
                                  "no_track", "approved"])
def test_override_refusals_are_shown_with_what_was_typed(client, staff_user, matched_round,
                                                         case):
    intake_round = matched_round["round"]
    delta = matched_round["nominations"][3]
    full_track = _placed(intake_round)[matched_round["nominations"][0].pk]
    unranked = intake_round.tracks.get(major="Unranked")
    client.force_login(staff_user)
    data = {"nomination": delta.pk, "kind": "move", "track": full_track,
            "reason": "Typed reason to keep"}
    expected = "has no free seat"
    if case == "no_reason":
        data["reason"], expected = "  ", "Give the reason for this override."
    elif case == "not_ranked":
        data["track"], expected = unranked.pk, "did not rank"
    elif case == "no_consent":
        data["nomination"] = matched_round["no_consent"].pk
        expected = "has not confirmed consent"
    elif case == "no_track":
        data["track"], expected = "", "Choose the track to move the candidate to."
    elif case == "approved":
        services.cohort_approve(actor=staff_user, cohort=Cohort.objects.get())
        expected = "This cohort is approved"
    before = _placed(intake_round)
    response = _override(client, intake_round, **data)
    assert response.status_code == 400
    html = response.content.decode()
    assert expected in html.replace("&#x27;", "'")
    assert not CohortOverride.objects.exists()
    assert _placed(intake_round) == before
    if case in {"no_free_seat", "not_ranked"}:
        # The row keeps the reason as typed beside its error.
        row = re.search(rf'<form[^>]*id="override-{delta.pk}".*?</form>', html, re.S).group(0)
        assert 'value="Typed reason to keep"' in row
        assert "errorlist" in row


@reads_world
def test_override_for_a_candidate_of_another_round_is_not_found(client, staff_user,
                                                                matched_round):
    other = submitted_nomination()
    client.force_login(staff_user)
    response = _override(client, matched_round["round"], nomination=other.pk, kind="exclude",
                         reason="x")
    assert response.status_code == 404


def test_override_clear(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    alpha = matched_round["nominations"][0]
    client.force_login(staff_user)
    _override(client, intake_round, nomination=alpha.pk, kind="exclude", reason="Duplicate")
    override = CohortOverride.objects.get()
    url = reverse("staff_rounds:override_clear", args=[intake_round.pk, override.pk])
    response = client.post(url, {"query": "sort=score"}, follow=True)
    assert response.redirect_chain[-1][0].endswith("?sort=score")
    assert "cleared" in response.content.decode()
    override.refresh_from_db()
    assert override.cleared_at is not None and override.cleared_by == staff_user
    assert AuditEntry.objects.filter(action="cohort_override_clear").exists()
    # A cleared override cannot be cleared through another round's address.
    other = open_round_with_tracks(n_tracks=1)
    assert client.post(reverse("staff_rounds:override_clear",
                               args=[other.pk, override.pk])).status_code == 404


# --- what-if ------------------------------------------------------------------------------------

@reads_world
def test_whatif_form_is_prefilled_with_the_current_figures(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    client.force_login(staff_user)
    response = client.get(reverse("staff_rounds:whatif", args=[intake_round.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for rt in RoundTrack.objects.filter(intake_round=intake_round):
        assert re.search(rf'name="seats_{rt.track_id}"[^>]*value="{rt.seats}"', html)
    assert re.search(r'name="weight_gpa"[^>]*value="35"', html)
    assert response.context["whatif"] is None


@reads_world
def test_whatif_shows_the_differences_and_saves_nothing(client, staff_user, matched_round,
                                                        django_capture_on_commit_callbacks):
    intake_round = matched_round["round"]
    client.force_login(staff_user)
    runs, placements = MatchRun.objects.count(), _placed(intake_round)
    params = {"weight_gpa": "35", "weight_language": "15", "weight_coursework": "25",
              "weight_interests": "15", "weight_university_rank": "10"}
    for rt in RoundTrack.objects.filter(intake_round=intake_round):
        params[f"seats_{rt.track_id}"] = "2"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff_rounds:whatif", args=[intake_round.pk]), params)
    response = client.get(response.url)
    assert response.status_code == 200
    whatif = response.context["whatif"]
    assert whatif.counts["placed_now"] == 3 and whatif.counts["placed_whatif"] == 5
    rows = response.context["page"].object_list
    assert rows and len(rows) == whatif.counts["changed"]
    assert all(row["current_track"] != row["whatif_track"] for row in rows)
    assert all(row["whatif_track"] for row in rows)  # everyone placed
    html = response.content.decode()
    assert html.count('class="changed"') >= len(rows)
    # A changed track says so in words too, not by its colour alone.
    changed_tracks = sum(row["changed"] for row in response.context["track_compare"])
    assert changed_tracks and html.count('class="badge changed-mark"') == changed_tracks
    assert f"{len(rows)} candidates would change." in html
    assert MatchRun.objects.count() == runs
    assert _placed(intake_round) == placements


@reads_world
def test_whatif_refuses_bad_numbers_and_keeps_them(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    client.force_login(staff_user)
    params = {f"weight_{n}": "0" for n in
              ["gpa", "language", "coursework", "interests", "university_rank"]}
    track = RoundTrack.objects.filter(intake_round=intake_round).first()
    params[f"seats_{track.track_id}"] = "-3"
    response = client.post(reverse("staff_rounds:whatif", args=[intake_round.pk]), params)
    assert response.status_code == 400
    html = response.content.decode()
    assert "At least one weight must be above zero." in html
    assert "greater than or equal to 0" in html
    assert re.search(rf'name="seats_{track.track_id}"[^>]*value="-3"', html)
    assert response.context["whatif"] is None and not WhatIfRun.objects.exists()


# --- approve, reopen, run now -------------------------------------------------------------------

def test_approve_then_reopen(client, staff_user, matched_round, django_capture_on_commit_callbacks):
    intake_round = matched_round["round"]
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff_rounds:cohort_approve", args=[intake_round.pk]),
                               {"confirm": "yes"}, follow=True)
    cohort = Cohort.objects.get()
    assert cohort.status == Cohort.Status.APPROVED and cohort.approved_by == staff_user
    assert CohortAdmission.objects.filter(cohort=cohort).count() == 3
    html = response.content.decode()
    assert f"Approved by {staff_user.get_full_name()}" in html
    assert "Reopen the cohort" in html and 'id="approve-cohort"' not in html
    assert 'id="run-now"' not in html
    assert len(mail.outbox) >= 5  # five candidates and their two universities' coordinators

    reopen = reverse("staff_rounds:cohort_reopen", args=[intake_round.pk])
    response = client.post(reopen, {"reason": "   "})
    assert response.status_code == 400
    assert "Give the reason for reopening the cohort." in response.content.decode()
    assert Cohort.objects.get().status == Cohort.Status.APPROVED

    response = client.post(reopen, {"reason": "A seat was added to track 1"}, follow=True)
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.PROPOSED and not cohort.admissions.exists()
    assert "reopened" in response.content.decode()
    assert AuditEntry.objects.filter(action="cohort_reopen").exists()


def test_approve_refusal_is_shown(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    alpha = matched_round["nominations"][0]
    # Nominations are closed: no longer eligible, as the nightly re-check may find.
    Nomination.objects.filter(pk=alpha.pk).update(is_eligible=False)
    client.force_login(staff_user)
    response = client.post(reverse("staff_rounds:cohort_approve", args=[intake_round.pk]),
                           {"confirm": "yes"}, follow=True)
    assert "can no longer be admitted" in response.content.decode()
    assert Cohort.objects.get().status == Cohort.Status.PROPOSED


def test_approve_without_a_proposal_is_not_found(client, staff_user):
    intake_round = open_round_with_tracks(n_tracks=1)
    client.force_login(staff_user)
    response = client.post(reverse("staff_rounds:cohort_approve", args=[intake_round.pk]))
    assert response.status_code == 404


def test_run_now_runs_the_matching_and_status_reports_it(
    client, staff_user, matched_round, django_capture_on_commit_callbacks,
):
    intake_round = matched_round["round"]
    client.force_login(staff_user)
    before = MatchRun.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff_rounds:run_now", args=[intake_round.pk]))
    assert response.status_code == 302
    latest = MatchRun.objects.filter(intake_round=intake_round).first()
    assert latest.pk != before.pk and latest.triggered_by == staff_user
    status = client.get(reverse("staff_rounds:run_status", args=[intake_round.pk]))
    assert status["Content-Type"] == "application/json"
    data = status.json()
    assert data["running"] is False
    assert data["latest_run"]["id"] == latest.pk
    assert data["latest_run"]["counts"]["placed"] == 3
    url = reverse("staff_rounds:round_overview", args=[intake_round.pk])
    page = client.get(url).content.decode()
    assert "running…" not in page and "round_overview.js" not in page


def test_a_requested_run_shows_running_and_polls(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    Cohort.objects.update(run_requested_at=timezone.now() + timedelta(seconds=5))
    client.force_login(staff_user)
    url = reverse("staff_rounds:round_overview", args=[intake_round.pk])
    html = client.get(url).content.decode()
    assert "running…" in html
    assert reverse("staff_rounds:run_status", args=[intake_round.pk]) in html
    assert "js/round_overview.js" in html  # polls every 3 s (static/js, under the CSP)
    assert client.get(reverse("staff_rounds:run_status", args=[intake_round.pk])).json()["running"]


def test_a_round_without_a_proposal_renders_and_can_be_run(
    client, staff_user, django_capture_on_commit_callbacks,
):
    intake_round = close_nominations(open_round_with_tracks(n_tracks=2))
    client.force_login(staff_user)
    for name in ("staff_rounds:round_overview", "staff_rounds:cohort_review", "staff_rounds:whatif",
                 "staff_rounds:audit_log"):
        response = client.get(reverse(name, args=[intake_round.pk]))
        assert response.status_code == 200
        assert 'id="approve-cohort"' not in response.content.decode()
    assert client.get(reverse("staff_rounds:run_status", args=[intake_round.pk])).json() == {
        "running": False, "latest_run": None}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("staff_rounds:run_now", args=[intake_round.pk]))
    assert Cohort.objects.get(intake_round=intake_round).match_run is not None
    assert client.get(reverse("staff_rounds:whatif", args=[intake_round.pk])).status_code == 200


def test_run_now_on_an_approved_cohort_is_refused(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    services.cohort_approve(actor=staff_user, cohort=Cohort.objects.get())
    client.force_login(staff_user)
    response = client.post(reverse("staff_rounds:run_now", args=[intake_round.pk]), follow=True)
    assert "reopen it before matching again" in response.content.decode()
    assert MatchRun.objects.count() == 1


# --- audit --------------------------------------------------------------------------------------

def test_audit_lists_filters_and_paginates(client, staff_user, matched_round):
    intake_round = matched_round["round"]
    alpha = matched_round["nominations"][0]
    services.override_create(actor=staff_user, cohort=Cohort.objects.get(), nomination=alpha,
                             kind="exclude", reason="Duplicate")
    for _ in range(55):
        audit_entry_create(actor=None, action="test_note", target=intake_round)
    client.force_login(staff_user)
    url = reverse("staff_rounds:audit_log", args=[intake_round.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "page 1 of" in page.content.decode()
    assert len(page.context["page"].object_list) == 50
    mine = client.get(url, {"who": AuditEntry.objects.get(
        action="cohort_override_create").actor_label}).context["page"]
    assert {entry.action for entry in mine} == {"cohort_override_create"}
    runs = client.get(url, {"what": "match_run_create"}).context["page"]
    assert [entry.action for entry in runs] == ["match_run_create"]
    second = client.get(url, {"what": "test_note", "page": 2})
    assert len(second.context["page"].object_list) == 5
    assert "what=test_note&amp;page=1" in second.content.decode()


# --- bounded queries ----------------------------------------------------------------------------

def _grow(intake_round, coordinators, count):
    for i in range(count):
        consented(intake_round=intake_round, coordinator=coordinators[i % len(coordinators)],
                   gpa=f"{3.0 + (i % 10) / 10:.1f}")
    # Matched as it will be once nominations have closed: the round grows again afterwards.
    services.cohort_match_run(intake_round=intake_round, trigger="command",
                              now=intake_round.nominations_close_at + timedelta(minutes=1))


def test_pages_issue_a_bounded_number_of_queries(client, staff_user,
                                                 django_assert_max_num_queries,
                                                 django_capture_on_commit_callbacks):
    intake_round = open_round_with_tracks(n_tracks=4)
    coordinators = [CoordinatorFactory() for _ in range(4)]
    for coordinator in coordinators:
        ProgramUniversityFactory(program=intake_round.program,
                                 university=coordinator.university, nomination_quota=100)
    client.force_login(staff_user)
    pages = [reverse("staff_rounds:round_list")] + [
        reverse(name, args=[intake_round.pk])
        for name in ("staff_rounds:round_overview", "staff_rounds:cohort_review",
                     "staff_rounds:run_status", "staff_rounds:audit_log")
    ]
    whatif = {f"weight_{n}": "1" for n in
              ["gpa", "language", "coursework", "interests", "university_rank"]}
    for rt in RoundTrack.objects.filter(intake_round=intake_round):
        whatif[f"seats_{rt.track_id}"] = "5"
    for size in (40, 40):  # 40, then 80 nominations: the same bound
        _grow(intake_round, coordinators, size)
        for url in pages:
            with django_assert_max_num_queries(25):
                assert client.get(url).status_code == 200
        with django_assert_max_num_queries(25), django_capture_on_commit_callbacks() as queued:
            response = client.post(reverse("staff_rounds:whatif", args=[intake_round.pk]), whatif)
        queued[0]()  # the what-if's task, outside the request
        with django_assert_max_num_queries(25):
            response = client.get(response.url)
        # Everyone ranks the same three tracks: fifteen seats fill.
        assert response.context["whatif"].counts["placed_whatif"] == 15
