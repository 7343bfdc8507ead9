"""The embedded default (SQLite) while the nightly job runs: writers are never kept waiting
long, a busy database answers 503 "try again" and never 500, and a run killed during its
writes leaves every round with its previous proposal or the whole new one (issue 17)."""

import json
import sqlite3
import threading
import time
from contextlib import contextmanager

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from bench.cohort_job import build_round
from candidates import services
from candidates.models import (
    Cohort,
    CohortOverride,
    MatchRun,
    Nomination,
    NominationScore,
    Placement,
    ScoringPolicy,
)
from candidates.selectors import cohort_run_list
from candidates.services import matching
from ecocycle.exceptions import DomainError
from ecocycle.middleware import database_busy_response
from ecocycle.writes import write_holds
from hub.services import nightly_matching
from tests.candidates.factories import open_round_with_tracks, submitted_nomination
from tests.candidates.test_imports import csv_bytes, row, upload
from tests.programs.factories import CoordinatorFactory, ProgramUniversityFactory

only_sqlite = pytest.mark.skipif(connection.vendor != "sqlite",
                                 reason="SQLite's one write lock is what is tested")


def _coordinator(language="en"):
    intake_round = open_round_with_tracks()
    coordinator = CoordinatorFactory(user__language=language)
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university,
                             nomination_quota=10_000)
    return intake_round, coordinator


def _api(user) -> APIClient:
    client = APIClient()
    key = services.api_token_create(actor=user, user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _api_body(intake_round, i: int) -> dict:
    return {"round": intake_round.pk, "family_name": f"Api{i}", "given_names": "Dewi",
            "date_of_birth": "2000-04-02", "nationality": "ID",
            "email": f"api{i}@student.example", "candidate_language": "id"}


def _page_body(i: int) -> dict:
    return {"family_name": f"Page{i}", "given_names": "Dewi", "native_name": "",
            "date_of_birth": "2000-04-02", "nationality": "ID",
            "email": f"page{i}@student.example", "phone": "+62 811",
            "passport_number": f"B {1000000 + i}", "candidate_language": "id",
            "save_next": "1"}


@contextmanager
def write_lock_held():
    """Another process's writer holding SQLite's write lock for the whole block."""
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


# --- a busy database answers 503, in the user's language, keeping what they entered ---------

@only_sqlite
@pytest.mark.django_db(transaction=True)
def test_api_write_on_a_busy_database_answers_503_with_retry_after():
    intake_round, coordinator = _coordinator()
    api = _api(coordinator.user)
    with write_lock_held():
        started = time.perf_counter()
        response = api.post(reverse("api:nomination_list"), _api_body(intake_round, 1),
                            format="json")
        waited = time.perf_counter() - started
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert "try again" in response.json()["detail"]
    assert waited < 5
    assert not Nomination.objects.filter(family_name="Api1").exists()
    # Sent again once the database is free, it is saved.
    again = api.post(reverse("api:nomination_list"), _api_body(intake_round, 1), format="json")
    assert again.status_code == 201


@only_sqlite
@pytest.mark.django_db(transaction=True)
def test_page_write_on_a_busy_database_answers_503_keeping_the_input_in_their_language():
    intake_round, coordinator = _coordinator(language="ko")
    client = Client()
    client.force_login(coordinator.user)
    url = reverse("candidates:nomination_new", args=[intake_round.pk])
    with write_lock_held():
        response = client.post(url, _page_body(7))
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    page = response.content.decode()
    assert 'lang="ko"' in page and 'id="database-busy"' in page
    assert f'action="{url}"' in page
    assert 'name="family_name" value="Page7"' in page
    assert 'name="email" value="page7@student.example"' in page
    assert 'name="csrfmiddlewaretoken"' in page  # a fresh one
    assert not Nomination.objects.filter(family_name="Page7").exists()
    # The kept form sent again is saved.
    assert client.post(url, _page_body(7)).status_code == 302
    assert Nomination.objects.filter(family_name="Page7").exists()


@only_sqlite
@pytest.mark.django_db(transaction=True)
def test_csv_import_and_consent_link_on_a_busy_database_answer_503_then_work():
    intake_round, coordinator = _coordinator()
    client = Client()
    client.force_login(coordinator.user)
    url = reverse("candidates:nomination_import", args=[intake_round.pk])
    with write_lock_held():
        response = client.post(url, {"file": upload(csv_bytes([row(1), row(2)]))})
    assert response.status_code == 503
    assert "choose the file again" in response.content.decode()
    assert not Nomination.objects.filter(intake_round=intake_round).exists()
    assert client.post(url, {"file": upload(csv_bytes([row(1), row(2)]))}).status_code == 302
    assert Nomination.objects.filter(intake_round=intake_round).count() == 2

    nomination = submitted_nomination(candidate_language="en")
    link = services.consent_link(nomination)
    consent = reverse("candidates:consent", args=[link.rstrip("/").rsplit("/", 1)[1]])
    anonymous = Client()
    with write_lock_held():
        assert anonymous.post(consent).status_code == 503
    nomination.refresh_from_db()
    assert nomination.consent_given_at is None
    assert anonymous.post(consent).status_code == 200
    nomination.refresh_from_db()
    assert nomination.consent_given_at is not None


@pytest.mark.django_db
@override_settings(SESSION_SAVE_EVERY_REQUEST=True)
def test_a_busy_database_outside_the_view_answers_503_not_500(monkeypatch):
    _intake_round, coordinator = _coordinator()
    client = Client(raise_request_exception=False)
    client.force_login(coordinator.user)

    def busy(self, must_create=False):
        raise OperationalError("database is locked")

    monkeypatch.setattr(SessionStore, "save", busy)
    response = client.get(reverse("candidates:coordinator_home"))
    assert response.status_code == 503
    assert 'id="database-busy"' in response.content.decode()


@pytest.mark.django_db
@override_settings(SESSION_SAVE_EVERY_REQUEST=True)
def test_other_database_errors_stay_server_errors(monkeypatch):
    _intake_round, coordinator = _coordinator()
    client = Client(raise_request_exception=False)
    client.force_login(coordinator.user)

    def broken(self, must_create=False):
        raise OperationalError("no such table: django_session")

    monkeypatch.setattr(SessionStore, "save", broken)
    response = client.get(reverse("candidates:coordinator_home"))
    assert response.status_code == 500


# --- the nightly job beside coordinators who keep submitting ----------------------------------

@only_sqlite
@pytest.mark.django_db(transaction=True)
def test_writers_are_saved_within_2_seconds_while_the_nightly_job_runs():
    build_round(3000, 100)
    intake_round, coordinator = _coordinator()
    api = _api(coordinator.user)
    page = Client()
    page.force_login(coordinator.user)
    done, outcome = threading.Event(), {}

    def job():
        try:
            with write_holds() as holds:
                outcome["summary"] = nightly_matching()
            outcome["holds"] = holds
        except BaseException as error:  # reported by the main thread
            outcome["error"] = error
        finally:
            connection.close()
            done.set()

    # Both doors once before the job starts, so that no answer below pays for warming up.
    assert api.post(reverse("api:nomination_list"), _api_body(intake_round, 0),
                    format="json").status_code == 201
    assert page.post(reverse("candidates:nomination_new", args=[intake_round.pk]),
                     _page_body(0)).status_code == 302
    thread = threading.Thread(target=job)
    thread.start()
    answers = []
    i = 0
    while not done.is_set() or i < 10:
        i += 1
        started = time.perf_counter()
        if i % 2:
            status = api.post(reverse("api:nomination_list"), _api_body(intake_round, i),
                              format="json").status_code
        else:
            status = page.post(reverse("candidates:nomination_new", args=[intake_round.pk]),
                               _page_body(i)).status_code
        answers.append((i, status, time.perf_counter() - started))
    thread.join(timeout=120)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["summary"]["matched_rounds"], outcome["summary"]
    assert [a for a in answers if a[1] not in (201, 302)] == [], sorted(outcome["holds"])[-5:]
    assert max(waited for _i, _s, waited in answers) < 2
    saved = Nomination.objects.filter(intake_round=intake_round).count()
    assert saved == len(answers) + 2
    # The job's own figure, in this one process, counts the time its thread waited for the
    # GIL while the other thread answered; bench.write_lock measures it alone (goal: 500 ms).
    assert len(outcome["holds"]) > 10 and max(outcome["holds"]) < 2


# --- a run killed during its writes -------------------------------------------------------------

class Killed(BaseException):
    """The process dying: not an Exception, so nothing on the way catches it."""


def _proposal_state(intake_round):
    """What a reader sees of the round's proposal: the current run, its placements complete."""
    cohort = Cohort.objects.get(intake_round=intake_round)
    run = cohort.match_run
    assert run.status == MatchRun.Status.SUCCEEDED
    assert cohort_run_list(intake_round).first() == run
    assert Placement.objects.filter(match_run=run).count() == run.counts["candidates"]
    return run.output_digest


def _weights(intake_round, gpa: int) -> None:
    ScoringPolicy.objects.filter(program_id=intake_round.program_id).update(weight_gpa=gpa)


def _kill_at(monkeypatch, kill_at: int):
    """Make the `kill_at`-th short transaction of the run write, then die before its commit."""
    real, calls = matching.short_transaction, {"n": 0}

    def dying(work):
        calls["n"] += 1
        if calls["n"] != kill_at:
            return real(work)

        def half_done():
            work()
            raise Killed

        return real(half_done)

    monkeypatch.setattr(matching, "short_transaction", dying)


@only_sqlite
@pytest.mark.django_db(transaction=True)
def test_a_run_killed_during_its_writes_leaves_the_previous_or_the_whole_new_proposal(
        monkeypatch):
    intake_round = build_round(300, 20)
    # 1 run, 3 batches of placements, the swap (5th), then 30 batches of scores.
    monkeypatch.setattr(matching, "BATCH_ROWS", 100)
    previous = matching.cohort_match_run(intake_round=intake_round, trigger="command")
    outcomes = []
    for kill_at in (1, 2, 4, 5, 6, 20, 35):
        _weights(intake_round, 80)
        with monkeypatch.context() as patch:
            _kill_at(patch, kill_at)
            with pytest.raises(Killed):
                matching.cohort_match_run(intake_round=intake_round, trigger="command")
        digest = _proposal_state(intake_round)
        outcomes.append("previous" if digest == previous.output_digest else "new")
        # Each nomination's scores are whole: all from one run or all from the other.
        stamps = {}
        for nomination_id, computed_at in NominationScore.objects.filter(
                nomination__intake_round=intake_round).values_list("nomination_id",
                                                                   "computed_at"):
            stamps.setdefault(nomination_id, set()).add(computed_at)
        assert len(stamps) == 300 and all(len(s) == 1 for s in stamps.values())
        # The next run is whole, and tidies away what the killed one left staging.
        new = matching.cohort_match_run(intake_round=intake_round, trigger="command")
        assert not MatchRun.objects.filter(status=MatchRun.Status.STAGING).exists()
        assert _proposal_state(intake_round) == new.output_digest != previous.output_digest
        _weights(intake_round, 35)
        assert matching.cohort_match_run(
            intake_round=intake_round, trigger="command").output_digest == previous.output_digest
    # Killed before the swap: the previous proposal; at or after it: the whole new one.
    assert outcomes == ["previous"] * 4 + ["new"] * 3


def test_the_busy_answer_outside_a_view_is_json_under_the_api(rf):
    response = database_busy_response(rf.post("/api/v1/nominations/", {"family_name": "X"}))
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert "try again" in json.loads(response.content)["detail"]


# --- what changed while the run computed ---------------------------------------------------------

@pytest.mark.django_db
def test_a_cohort_approved_while_the_run_computed_keeps_its_proposal(monkeypatch):
    intake_round = build_round(40, 10)
    previous = matching.cohort_match_run(intake_round=intake_round, trigger="command")
    ScoringPolicy.objects.filter(program_id=intake_round.program_id).update(weight_gpa=80)
    computed = matching.cohort_propose

    def approved_meanwhile(**kwargs):
        proposal = computed(**kwargs)
        Cohort.objects.filter(intake_round=intake_round).update(status=Cohort.Status.APPROVED)
        return proposal

    monkeypatch.setattr(matching, "cohort_propose", approved_meanwhile)
    with pytest.raises(DomainError, match="approved"):
        matching.cohort_match_run(intake_round=intake_round, trigger="command")
    assert Cohort.objects.get(intake_round=intake_round).match_run_id == previous.run.pk
    assert not MatchRun.objects.filter(status=MatchRun.Status.STAGING).exists()


@pytest.mark.django_db
def test_an_override_made_while_the_run_computed_is_in_the_run_that_is_saved(monkeypatch):
    intake_round = build_round(40, 10)
    matching.cohort_match_run(intake_round=intake_round, trigger="command")
    excluded = Placement.objects.filter(track__isnull=False).order_by("id").first()
    computed, calls = matching.cohort_propose, []

    def override_meanwhile(**kwargs):
        proposal = computed(**kwargs)
        calls.append(proposal)
        if len(calls) == 1:
            CohortOverride.objects.create(
                cohort=Cohort.objects.get(intake_round=intake_round),
                nomination_id=excluded.nomination_id, kind=CohortOverride.Kind.EXCLUDE,
                reason="Staff excluded them during the run.")
        return proposal

    monkeypatch.setattr(matching, "cohort_propose", override_meanwhile)
    proposal = matching.cohort_match_run(intake_round=intake_round, trigger="command")
    assert len(calls) == 2  # computed again, with the override
    assert excluded.nomination_id not in proposal.placements
    assert Cohort.objects.get(intake_round=intake_round).match_run_id == proposal.run.pk
    assert not MatchRun.objects.filter(status=MatchRun.Status.STAGING).exists()
