"""Every action follows the round's calendar, in its service, so every door obeys it: after the
nomination deadline coordinators can no longer create, change, submit or withdraw (pages, API,
CSV import); the cohort is matched only once nominations have closed (service, staff's "run
now", the command, the task, the nightly job), a what-if at any time; approval is refused while
nominations are open. Each refusal says why, changes nothing and emails nobody."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone

from candidates import services, tasks
from candidates.imports import nomination_import_csv
from candidates.models import (
    Cohort,
    CohortAdmission,
    MatchRun,
    Nomination,
    NominationCourse,
    NominationDocument,
    NominationPreference,
)
from ecocycle.models import AuditEntry, OutboundEmail
from programs.models import RoundMilestone, RoundTrack
from tests.candidates.factories import (
    complete_nomination,
    consented_nomination,
    open_round_with_tracks,
    pdf_file,
    submitted_nomination,
    upload,
)
from tests.candidates.test_apis import api_client
from tests.candidates.test_imports import csv_bytes, row
from tests.programs.factories import (
    CoordinatorFactory,
    IntakeRoundFactory,
    ProgramUniversityFactory,
    close_nominations,
)

pytestmark = pytest.mark.django_db

DEADLINE = "The nomination deadline for"


def _state() -> dict:
    """Everything a refused action must leave as it was."""
    return {
        "nominations": list(Nomination.objects.order_by("id").values_list(
            "id", "status", "family_name", "phone", "updated_at")),
        "preferences": list(NominationPreference.objects.order_by("id").values_list(
            "id", "nomination_id", "track_id", "rank")),
        "courses": list(NominationCourse.objects.order_by("id").values_list("id", "name")),
        "documents": list(NominationDocument.objects.order_by("id").values_list(
            "id", "kind", "sha256")),
        "cohorts": list(Cohort.objects.order_by("id").values_list(
            "id", "status", "match_run_id", "run_requested_at")),
        "runs": MatchRun.objects.count(),
        "admissions": CohortAdmission.objects.count(),
        "audit": AuditEntry.objects.count(),
        "emails": OutboundEmail.objects.count(),
    }


@pytest.fixture
def closed():
    """A round whose nominations closed a moment ago, with a draft and a submitted nomination
    of one coordinator, both made while it was open."""
    intake_round = open_round_with_tracks(n_tracks=3)
    coordinator = CoordinatorFactory()
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university)
    draft = complete_nomination(coordinator=coordinator, intake_round=intake_round)
    submitted = submitted_nomination(coordinator=coordinator, intake_round=intake_round)
    close_nominations(intake_round)
    mail.outbox.clear()
    return {"round": intake_round, "coordinator": coordinator, "draft": draft,
            "submitted": submitted}


@pytest.fixture
def unchanged(django_capture_on_commit_callbacks):
    """Check, around a refused action, that nothing changed and nothing was emailed: the emails
    an action queued would be sent on commit, which this runs."""

    class Unchanged:
        def __enter__(self):
            self.before = _state()
            self.capture = django_capture_on_commit_callbacks(execute=True)
            self.capture.__enter__()
            return self

        def __exit__(self, *exc):
            self.capture.__exit__(*exc)
            if exc[0] is None:
                assert _state() == self.before
                assert mail.outbox == []

    return Unchanged()


# --- nominations: the services ------------------------------------------------------------------

def _tracks(intake_round):
    return [rt.track for rt in RoundTrack.objects.filter(intake_round=intake_round)
            .select_related("track").order_by("-id")]


NOMINATION_ACTIONS = {
    "create": lambda c, user: services.nomination_create(
        actor=user, intake_round=c["round"], university=c["coordinator"].university,
        data={"family_name": "Late"}),
    "save a new one": lambda c, user: services.nomination_save(
        actor=user, intake_round=c["round"], university=c["coordinator"].university,
        data={"family_name": "Late"}),
    "update": lambda c, user: services.nomination_update(
        actor=user, nomination=c["submitted"], data={"phone": "+62 811 0000 9999"}),
    "save": lambda c, user: services.nomination_save(
        actor=user, nomination=c["draft"], data={"phone": "+62 811 0000 9999"},
        preferences=_tracks(c["round"])[:1], courses=[{"name": "Late course"}]),
    "set preferences": lambda c, user: services.nomination_set_preferences(
        actor=user, nomination=c["submitted"], tracks=_tracks(c["round"])[:1]),
    "set courses": lambda c, user: services.nomination_set_courses(
        actor=user, nomination=c["draft"], courses=[{"name": "Late course", "grade": "A"}]),
    "upload a document": lambda c, user: services.document_upload(
        actor=user, nomination=c["submitted"], kind="cv", file=pdf_file("new-cv.pdf")),
    "remove a document": lambda c, user: services.document_remove(
        actor=user, document=c["draft"].documents.order_by("id").first()),
    "submit": lambda c, user: services.nomination_submit(actor=user, nomination=c["draft"]),
    "withdraw": lambda c, user: services.nomination_withdraw(
        actor=user, nomination=c["submitted"], reason="Changed their mind"),
}


@pytest.mark.parametrize("action", NOMINATION_ACTIONS)
def test_after_the_deadline_every_nomination_action_is_refused(closed, unchanged, action):
    # A savepoint, as the CSV import makes: some steps have none of their own.
    with unchanged, pytest.raises(ValidationError) as refused, transaction.atomic():
        NOMINATION_ACTIONS[action](closed, closed["coordinator"].user)
    message = " ".join(refused.value.messages)
    assert message.startswith(DEADLINE) and closed["round"].name in message
    assert "can no longer be created, changed or submitted" in message


def test_before_nominations_open_a_nomination_is_refused(unchanged):
    upcoming = open_round_with_tracks(milestones__opened_days_ago=-3)
    coordinator = CoordinatorFactory()
    ProgramUniversityFactory(program=upcoming.program, university=coordinator.university)
    with unchanged, pytest.raises(ValidationError, match="are not open yet"), \
            transaction.atomic():
        services.nomination_create(actor=coordinator.user, intake_round=upcoming,
                                   university=coordinator.university, data={"family_name": "A"})


# --- nominations: the doors ---------------------------------------------------------------------

def _followed_text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def test_coordinator_pages_refuse_every_change_after_the_deadline(client, closed, unchanged):
    draft, submitted = closed["draft"], closed["submitted"]
    client.force_login(closed["coordinator"].user)
    person = {"family_name": "Changed", "given_names": draft.given_names,
              "date_of_birth": draft.date_of_birth.isoformat(), "nationality": "ID",
              "email": draft.email, "phone": "+62 811 1", "passport_number": "",
              "candidate_language": "id"}
    posts = [
        (reverse("candidates:nomination_new", args=[closed["round"].pk]), person),
        (reverse("candidates:nomination_edit", args=[draft.pk, "person"]), person),
        (reverse("candidates:nomination_edit", args=[submitted.pk, "documents"]),
         {"kind": "cv", "file": pdf_file("new-cv.pdf")}),
        (reverse("candidates:nomination_submit", args=[draft.pk]), {}),
        (reverse("candidates:nomination_withdraw", args=[submitted.pk]), {"reason": "x"}),
        (reverse("candidates:document_remove", args=[draft.documents.first().pk]), {}),
    ]
    with unchanged:
        for url, data in posts:
            response = client.post(url, data, follow=True)
            # Refused by the service (the page shows why), or not offered by the page at all.
            assert response.status_code in (200, 400, 403, 404), url
            assert response.status_code != 200 or re.search(
                "deadline|closed", _followed_text(response), re.I), url


def test_the_api_refuses_every_change_after_the_deadline(closed, unchanged):
    draft, submitted = closed["draft"], closed["submitted"]
    api = api_client(closed["coordinator"].user)
    calls = [
        lambda: api.post(reverse("api:nomination_list"),
                         {"round": closed["round"].pk, "family_name": "Late",
                          "passport_number": "A1"}, format="json"),
        lambda: api.patch(reverse("api:nomination_detail", args=[submitted.pk]),
                          {"phone": "+62 1"}, format="json"),
        lambda: api.post(reverse("api:nomination_submit", args=[draft.pk])),
        lambda: api.post(reverse("api:nomination_withdraw", args=[submitted.pk]),
                         {"reason": "x"}, format="json"),
        lambda: api.post(reverse("api:document_list", args=[submitted.pk]),
                         {"kind": "cv", "file": pdf_file("new-cv.pdf")}, format="multipart"),
        lambda: api.delete(reverse("api:document_detail",
                                   args=[draft.pk, draft.documents.first().pk])),
    ]
    # The API token was created above: from here on nothing may change.
    with unchanged:
        for call in calls:
            response = call()
            assert response.status_code == 400
            assert response.json()["detail"][0].startswith(DEADLINE)


def test_the_csv_import_refuses_after_the_deadline(client, closed, unchanged):
    coordinator = closed["coordinator"]
    url = reverse("candidates:nomination_import", args=[closed["round"].pk])
    client.force_login(coordinator.user)
    with unchanged:
        result = nomination_import_csv(actor=coordinator.user, intake_round=closed["round"],
                                       university=coordinator.university,
                                       file=csv_bytes([row(1)]))
        response = client.post(url, {"file": upload(csv_bytes([row(2)]), "rows.csv")})
    assert result.errors[0].message.startswith(DEADLINE)
    assert DEADLINE in _followed_text(response)


# --- matching -----------------------------------------------------------------------------------

@pytest.fixture
def open_round():
    """A round still taking nominations, with three consented candidates."""
    intake_round = open_round_with_tracks(n_tracks=2)
    for _ in range(3):
        consented_nomination(intake_round=intake_round)
    mail.outbox.clear()
    return intake_round


WAITS = "the matching runs once they have closed"


def test_the_matching_is_refused_while_nominations_are_open(open_round, unchanged):
    with unchanged, pytest.raises(ValidationError) as refused:
        services.cohort_match_run(intake_round=open_round, trigger="command")
    message = " ".join(refused.value.messages)
    assert WAITS in message and open_round.name in message
    close = RoundMilestone.objects.get(intake_round=open_round, kind="nominations_close").at
    assert formats.date_format(timezone.localtime(close), "DATETIME_FORMAT") in message


def test_before_nominations_open_the_matching_is_refused_too(unchanged):
    upcoming = open_round_with_tracks(milestones__opened_days_ago=-3)
    with unchanged, pytest.raises(ValidationError, match=WAITS):
        services.cohort_match_run(intake_round=upcoming, trigger="command")


def test_a_what_if_runs_while_nominations_are_open(client, staff_user, open_round, unchanged):
    proposal = services.cohort_propose(intake_round=open_round)
    assert proposal.counts["candidates"] == 3
    client.force_login(staff_user)
    with unchanged:  # runs the task queued on commit
        response = client.post(reverse("staff_rounds:whatif", args=[open_round.pk]),
                               {**{f"weight_{n}": "1" for n in [
                                   "gpa", "language", "coursework", "interests",
                                   "university_rank"]},
                                **{f"seats_{t}": "2" for t in open_round.tracks.values_list(
                                    "id", flat=True)}})
    response = client.get(response.url)
    assert response.status_code == 200 and response.context["whatif"].status == "done"
    assert 'id="whatif-stale"' not in response.content.decode()  # no run to be stale against


def test_run_now_is_refused_and_not_offered_while_nominations_are_open(client, staff_user,
                                                                       open_round, unchanged):
    client.force_login(staff_user)
    overview = reverse("staff_rounds:round_overview", args=[open_round.pk])
    page = _followed_text(client.get(overview))
    assert 'id="run-now"' not in page
    assert WAITS in page and 'id="run-note"' in page
    with unchanged:
        response = client.post(reverse("staff_rounds:run_now", args=[open_round.pk]),
                               follow=True)
    assert WAITS in _followed_text(response)


def test_the_command_refuses_a_round_whose_nominations_are_open(open_round, unchanged):
    with unchanged, pytest.raises(CommandError, match=WAITS):
        call_command("run_matching", "--round", str(open_round.pk), stdout=StringIO())


def test_the_command_dry_run_is_a_what_if_and_runs(open_round, unchanged):
    out = StringIO()
    with unchanged:
        call_command("run_matching", "--round", str(open_round.pk), "--dry-run", stdout=out)
    assert "nothing saved" in out.getvalue()


def test_the_task_refuses_and_answers_the_request(open_round, staff_user):
    # A request made once the deadline had passed, which staff then extended.
    Cohort.objects.create(intake_round=open_round, run_requested_at=timezone.now())
    tasks.run_cohort_matching(open_round.pk, staff_user.pk)
    assert not MatchRun.objects.exists()
    assert Cohort.objects.get().run_requested_at is None
    assert AuditEntry.objects.get(action="cohort_run_request_clear").after == {
        "reason": "refused"}


def test_the_nightly_job_matches_only_rounds_in_their_matching_phase(open_round):
    screening = open_round_with_tracks(n_tracks=1)
    consented_nomination(intake_round=screening)
    close_nominations(screening)
    matching = open_round_with_tracks(n_tracks=1)
    consented_nomination(intake_round=matching)
    RoundMilestone.objects.filter(intake_round=matching, kind="nominations_close").update(
        at=timezone.now() - timedelta(days=2))
    RoundMilestone.objects.filter(intake_round=matching, kind="matching").update(
        at=timezone.now() - timedelta(days=1))
    out = StringIO()
    call_command("run_matching", stdout=out)
    assert set(MatchRun.objects.values_list("intake_round_id", flat=True)) == {matching.pk}
    assert f"Rounds matched: [{matching.pk}]" in out.getvalue()


# --- approval -----------------------------------------------------------------------------------

APPROVAL_WAITS = "the cohort can be approved only once they have closed"


@pytest.fixture
def proposal_in_open_round(open_round):
    """A proposal made once the deadline had passed, after which the deadline was moved a day
    later in the admin (data maintenance, which no service offers): nominations are open."""
    close_nominations(open_round)
    services.cohort_match_run(intake_round=open_round, trigger="command")
    RoundMilestone.objects.filter(intake_round=open_round, kind="nominations_close").update(
        at=timezone.now() + timedelta(days=1))
    return open_round, Cohort.objects.get(intake_round=open_round)


def test_approval_is_refused_while_nominations_are_open(proposal_in_open_round, staff_user,
                                                        unchanged):
    intake_round, cohort = proposal_in_open_round
    with unchanged, pytest.raises(ValidationError) as refused:
        services.cohort_approve(actor=staff_user, cohort=cohort)
    message = " ".join(refused.value.messages)
    assert APPROVAL_WAITS in message and intake_round.name in message


def test_the_pages_do_not_offer_approval_while_nominations_are_open(
    client, staff_user, proposal_in_open_round, unchanged,
):
    intake_round, cohort = proposal_in_open_round
    client.force_login(staff_user)
    for name in ("staff_rounds:round_overview", "staff_rounds:cohort_review",
                 "staff_rounds:cohort_approve_confirm"):
        page = _followed_text(client.get(reverse(name, args=[intake_round.pk])))
        assert APPROVAL_WAITS in page, name
        assert 'id="approve-cohort"' not in page and 'id="confirm-approve"' not in page, name
    with unchanged:
        response = client.post(reverse("staff_rounds:cohort_approve", args=[intake_round.pk]),
                               {"confirm": "yes", "run": cohort.match_run_id}, follow=True)
    assert APPROVAL_WAITS in _followed_text(response)


def test_the_approval_follows_the_clock_it_is_given(proposal_in_open_round, staff_user):
    """A door that acts as of a moment (seed_demo's past rounds) is judged at that moment."""
    intake_round, cohort = proposal_in_open_round
    close = RoundMilestone.objects.get(intake_round=intake_round, kind="nominations_close").at
    with pytest.raises(ValidationError, match=APPROVAL_WAITS):
        services.cohort_approve(actor=staff_user, cohort=cohort, now=close - timedelta(seconds=1))
    approved = services.cohort_approve(actor=staff_user, cohort=cohort, now=close)
    assert approved.status == Cohort.Status.APPROVED


def test_a_round_not_yet_open_offers_nothing_but_says_when(client, staff_user):
    upcoming = IntakeRoundFactory(milestones__opened_days_ago=-3)
    client.force_login(staff_user)
    page = _followed_text(client.get(reverse("staff_rounds:round_overview",
                                             args=[upcoming.pk])))
    assert 'id="run-now"' not in page and WAITS in page
    assert 'id="close-nominations-note"' in page and "Nominations open on" in page


def test_clearing_an_override_while_nominations_are_open_queues_no_run(
    proposal_in_open_round, staff_user, django_capture_on_commit_callbacks,
):
    intake_round, cohort = proposal_in_open_round
    nomination = Nomination.objects.filter(intake_round=intake_round).first()
    override = services.override_create(actor=staff_user, cohort=cohort, nomination=nomination,
                                        kind="exclude", reason="Asked to be left out")
    with django_capture_on_commit_callbacks(execute=True):
        services.override_clear(actor=staff_user, override=override)
    override.refresh_from_db()
    assert override.cleared_at is not None
    assert Cohort.objects.get().run_requested_at is None and MatchRun.objects.count() == 1
