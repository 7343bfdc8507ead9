from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from candidates import selectors, services
from candidates.models import Nomination, NominationDocument
from candidates.services import nominations
from ecocycle import api_tokens
from ecocycle.exceptions import DomainError
from ecocycle.models import ApiToken, AuditEntry, OutboundEmail
from programs.models import ProgramUniversity, RoundTrack
from tests.candidates.factories import (
    EXE_BYTES,
    NominationFactory,
    complete_nomination,
    open_round_with_tracks,
    pdf_file,
    submitted_nomination,
    upload,
)
from tests.programs.factories import (
    CoordinatorFactory,
    CoreTechnologyFactory,
    ProgramUniversityFactory,
    RoundTrackFactory,
)

pytestmark = pytest.mark.django_db


def api_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        key = services.api_token_create(actor=user, user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def setup():
    intake_round = open_round_with_tracks()
    coordinator = CoordinatorFactory()
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university,
                             nomination_quota=5)
    return intake_round, coordinator


@pytest.fixture
def api(setup):
    return api_client(setup[1].user)


def tracks_of(intake_round):
    return [rt.track_id for rt in RoundTrack.objects.filter(intake_round=intake_round)
            .order_by("id")]


# --- authentication and roles -----------------------------------------------------------------

def test_token_authenticates_and_anonymous_gets_401(setup):
    _intake_round, coordinator = setup
    url = reverse("api:nomination_list")
    anonymous = APIClient()
    assert anonymous.get(url).status_code == 401
    assert anonymous.get(reverse("api:round_list")).status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert wrong.get(url).status_code == 401

    client = api_client(coordinator.user)
    assert client.get(url).status_code == 200
    services.api_token_revoke(actor=coordinator.user, user=coordinator.user)
    assert client.get(url).status_code == 401


@pytest.mark.parametrize("who", ["staff_user", "mentor_user"])
def test_other_roles_get_403(request, who, setup):
    user = request.getfixturevalue(who)
    intake_round, coordinator = setup
    nomination = NominationFactory(intake_round=intake_round, university=coordinator.university)
    client = APIClient()
    key = api_tokens.api_token_create(actor=user, user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    session = APIClient()
    session.force_login(user)
    for c in (client, session):
        assert c.get(reverse("api:nomination_list")).status_code == 403
        assert c.get(reverse("api:nomination_detail", args=[nomination.pk])).status_code == 403
        assert c.get(reverse("api:round_list")).status_code == 403
        assert c.post(reverse("api:nomination_withdraw",
                              args=[nomination.pk])).status_code == 403
    nomination.refresh_from_db()
    assert nomination.status == Nomination.Status.DRAFT


# --- rounds and tracks ------------------------------------------------------------------------

def test_rounds_show_phase_and_quota_of_the_university(setup, api):
    intake_round, coordinator = setup
    submitted_nomination(coordinator=coordinator, intake_round=intake_round)
    technology = CoreTechnologyFactory(program=intake_round.program)
    not_ours = open_round_with_tracks()

    response = api.get(reverse("api:round_list"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [row] = body["results"]
    assert row["id"] == intake_round.pk
    assert row["phase"] == "nominations"
    assert row["quota"] == 5 and row["quota_used"] == 1 and row["quota_left"] == 4
    assert row["preference_limit"] == intake_round.preference_limit
    assert row["nominations_close"] is not None
    assert technology.pk in [t["id"] for t in row["core_technologies"]]

    assert api.get(reverse("api:round_list"), {"phase": "matching"}).json()["count"] == 0
    assert api.get(reverse("api:round_list"), {"phase": "bogus"}).status_code == 400
    assert api.get(reverse("api:round_detail", args=[intake_round.pk])).status_code == 200
    assert api.get(reverse("api:round_detail", args=[not_ours.pk])).status_code == 404
    assert api.get(reverse("api:round_tracks", args=[not_ours.pk])).status_code == 404


def test_round_tracks_with_their_seats_in_the_round(setup, api):
    intake_round, _coordinator = setup
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=4)
    response = api.get(reverse("api:round_tracks", args=[intake_round.pk]))
    assert response.status_code == 200
    results = response.json()["results"]
    assert sorted(t["id"] for t in results) == sorted(tracks_of(intake_round))
    assert {t["seats"] for t in results} == {4}
    assert set(results[0]) >= {"level", "major", "department", "campus", "supervisor_name",
                               "language_of_instruction"}


# --- the whole journey ------------------------------------------------------------------------

def test_create_edit_upload_submit_and_withdraw(setup, api):
    intake_round, coordinator = setup
    technology = CoreTechnologyFactory(program=intake_round.program)
    tracks = tracks_of(intake_round)

    response = api.post(reverse("api:nomination_list"), {
        "round": intake_round.pk, "family_name": "Santoso", "given_names": "Dewi",
        "date_of_birth": "2000-04-02", "nationality": "ID", "email": "dewi@student.example",
        "passport_number": "b 1234567", "candidate_language": "id",
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    pk = body["id"]
    assert body["status"] == "draft" and body["round"] == intake_round.pk
    assert "passport_number" not in body
    assert body["passport_masked"].endswith("567") and "1234" not in body["passport_masked"]
    assert Nomination.objects.get(pk=pk).passport_number == "B 1234567"
    assert body["missing"]

    url = reverse("api:nomination_detail", args=[pk])
    response = api.patch(url, {
        "degree": "bachelor", "degree_status": "completed", "major": "Chemical Engineering",
        "institution": "ITB", "gpa": "3.40", "gpa_scale": "4.0",
        "language_test": "toefl_ibt", "language_score": "95",
        "language_test_date": (timezone.localdate() - timedelta(days=30)).isoformat(),
        "research_interests": "Biodiesel catalysts", "university_rank": 1,
        "preferences": [tracks[1], tracks[0]],
        "courses": [{"name": "Reaction engineering", "grade": "A",
                     "technologies": [technology.pk]}],
    }, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["preferences"] == [tracks[1], tracks[0]]
    assert [p["rank"] for p in body["preference_tracks"]] == [1, 2]
    assert body["courses"] == [{"name": "Reaction engineering", "grade": "A",
                                "technologies": [technology.pk]}]
    assert body["gpa_normalised"] == "3.40"

    documents_url = reverse("api:document_list", args=[pk])
    for kind in ["transcript", "cv", "recommendation", "diploma", "language_certificate"]:
        response = api.post(documents_url, {"kind": kind, "file": pdf_file(f"{kind}.pdf")},
                            format="multipart")
        assert response.status_code == 201, response.json()
    listing = api.get(documents_url).json()
    assert sorted(d["kind"] for d in listing) == [
        "cv", "diploma", "language_certificate", "recommendation", "transcript"]
    assert api.get(url).json()["missing"] == []

    response = api.post(reverse("api:nomination_submit", args=[pk]))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "submitted" and body["submitted_at"]
    assert body["is_eligible"] is True and body["eligibility_reasons"] == []
    email = OutboundEmail.objects.get(topic="consent_request")
    assert email.to == "dewi@student.example"

    response = api.post(reverse("api:nomination_withdraw", args=[pk]),
                        {"reason": "Accepted elsewhere"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    entry = AuditEntry.objects.get(action="nomination_withdraw")
    assert entry.after["reason"] == "Accepted elsewhere" and entry.actor == coordinator.user
    assert api.patch(url, {"phone": "1"}, format="json").status_code == 400


def test_document_download_streams_the_file_and_remove_deletes_it(setup, api):
    intake_round, coordinator = setup
    nomination = complete_nomination(coordinator=coordinator, intake_round=intake_round)
    document = nomination.documents.get(kind="cv")
    listing = api.get(reverse("api:document_list", args=[nomination.pk])).json()
    [row] = [d for d in listing if d["id"] == document.pk]
    assert row["download_url"].endswith(
        reverse("api:document_download", args=[nomination.pk, document.pk]))

    response = api.get(row["download_url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]

    # The file comes in its own type whatever the client asked for.
    assert api.get(row["download_url"], HTTP_ACCEPT="application/pdf").status_code == 200
    assert api.get(row["download_url"], HTTP_ACCEPT="text/html").status_code == 200

    detail = reverse("api:document_detail", args=[nomination.pk, document.pk])
    assert api.get(detail).json()["kind"] == "cv"
    assert api.delete(detail).status_code == 204
    assert not NominationDocument.objects.filter(pk=document.pk).exists()
    assert api.get(detail).status_code == 404


def test_submitted_nomination_keeps_required_documents(setup, api):
    intake_round, coordinator = setup
    nomination = submitted_nomination(coordinator=coordinator, intake_round=intake_round)
    document = nomination.documents.get(kind="cv")
    response = api.delete(reverse("api:document_detail", args=[nomination.pk, document.pk]))
    assert response.status_code == 400
    assert "upload a replacement" in response.json()["detail"][0]


# --- list -------------------------------------------------------------------------------------

def test_list_is_scoped_filtered_and_paginated(setup, api, monkeypatch,
                                               django_assert_max_num_queries):
    intake_round, coordinator = setup
    drafts = [NominationFactory(intake_round=intake_round, university=coordinator.university,
                                family_name=f"Draft{i}") for i in range(3)]
    submitted = submitted_nomination(coordinator=coordinator, intake_round=intake_round,
                                     family_name="Kusuma")
    other_round = open_round_with_tracks()
    elsewhere = complete_nomination(coordinator=coordinator, intake_round=other_round,
                                    documents=False)
    theirs = submitted_nomination(intake_round=intake_round, family_name="Theirs")
    url = reverse("api:nomination_list")

    with django_assert_max_num_queries(10):
        body = api.get(url).json()
    ids = {row["id"] for row in body["results"]}
    assert ids == {n.pk for n in [*drafts, submitted, elsewhere]}
    assert theirs.pk not in ids and body["count"] == 5

    by_status = api.get(url, {"status": "submitted"}).json()["results"]
    assert [row["id"] for row in by_status] == [submitted.pk]
    by_round = api.get(url, {"round": other_round.pk}).json()["results"]
    assert [row["id"] for row in by_round] == [elsewhere.pk]
    by_search = api.get(url, {"q": "kusu"}).json()["results"]
    assert [row["id"] for row in by_search] == [submitted.pk]
    assert api.get(url, {"q": "Theirs"}).json()["count"] == 0
    assert api.get(url, {"status": "nope"}).status_code == 400
    assert api.get(url, {"round": "abc"}).status_code == 400
    assert api.get(url, {"round": str(10**30)}).status_code == 400

    monkeypatch.setattr("rest_framework.pagination.PageNumberPagination.page_size", 2)
    first = api.get(url).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["next"]
    third = api.get(url, {"page": 3}).json()
    assert len(third["results"]) == 1 and third["next"] is None
    assert api.get(url, {"page": 9}).status_code == 404


# --- errors per field -------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [100_000, 200])
def test_deeply_nested_json_is_refused_with_a_json_400(setup, api, depth):
    intake_round, coordinator = setup
    nomination = NominationFactory(intake_round=intake_round, university=coordinator.university)
    body = '{"courses": ' + "[" * depth + "]" * depth + "}"
    for method, url in [(api.post, reverse("api:nomination_list")),
                        (api.patch, reverse("api:nomination_detail", args=[nomination.pk]))]:
        response = method(url, body, content_type="application/json")
        assert response.status_code == 400
        assert any("nested too deeply" in message for message in response.json()["detail"])


def test_field_errors_come_back_as_json(setup, api):
    intake_round, coordinator = setup
    nomination = NominationFactory(intake_round=intake_round, university=coordinator.university)
    url = reverse("api:nomination_detail", args=[nomination.pk])
    track = tracks_of(intake_round)[0]
    foreign_track = RoundTrackFactory().track_id
    cases = [
        ({"gpa": "4.50", "gpa_scale": "4.0"}, "gpa"),
        ({"gpa": "99999999"}, "gpa"),
        ({"gpa": "3.1", "gpa_scale": ""}, "gpa_scale"),
        ({"language_test": "ielts", "language_score": "10"}, "language_score"),
        ({"language_test_date": (timezone.localdate() + timedelta(days=2)).isoformat()},
         "language_test_date"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": "0001-01-01"}, "date_of_birth"),
        ({"date_of_birth": (timezone.localdate() - timedelta(days=400)).isoformat()},
         "date_of_birth"),
        ({"email": "not-an-email"}, "email"),
        ({"passport_number": "X<script>"}, "passport_number"),
        ({"university_rank": 10**20}, "university_rank"),
        ({"nationality": "XX"}, "nationality"),
        ({"preferences": [track, track]}, "preferences"),
        ({"preferences": [foreign_track]}, "preferences"),
        ({"preferences": [10**18]}, "preferences"),
        ({"preferences": [10**30]}, "preferences"),
        ({"preferences": "12,7"}, "preferences"),
        ({"preferences": [True]}, "preferences"),
        ({"courses": [{"name": "X", "technologies": [CoreTechnologyFactory().pk]}]}, "courses"),
        ({"courses": [{"grade": "A"}]}, "courses"),
        ({"courses": "nope"}, "courses"),
        ({"family_name": ""}, "family_name"),
        ({"family_name": "a\x00b"}, "family_name"),
    ]
    for data, field in cases:
        response = api.patch(url, data, format="json")
        assert response.status_code == 400, (data, response.content)
        assert field in response.json(), (data, response.json())
    nomination.refresh_from_db()
    assert float(nomination.gpa) == 3.6 and not nomination.preferences.exists()

    assert api.patch(url, [1, 2], format="json").status_code == 400
    bad_json = api.patch(url, "{", content_type="application/json")
    assert bad_json.status_code == 400


def test_create_errors(setup, api):
    intake_round, _coordinator = setup
    url = reverse("api:nomination_list")
    not_ours = open_round_with_tracks()
    response = api.post(url, {"family_name": "X"}, format="json")
    assert response.status_code == 400 and "round" in response.json()
    response = api.post(url, {"round": not_ours.pk, "family_name": "X"}, format="json")
    assert response.status_code == 400 and "round" in response.json()
    response = api.post(url, {"round": intake_round.pk}, format="json")
    assert response.status_code == 400 and "family_name" in response.json()
    track = tracks_of(intake_round)[0]
    response = api.post(url, {"round": intake_round.pk, "family_name": "X",
                              "passport_number": "A1", "preferences": [track, track]},
                        format="json")
    assert response.status_code == 400 and "preferences" in response.json()
    response = api.post(url, {"round": intake_round.pk, "family_name": "X",
                              "passport_number": "<>"}, format="json")
    assert response.status_code == 400 and "passport_number" in response.json()
    assert api.post(url, {"round": True, "family_name": "X", "passport_number": "A1"},
                    format="json").status_code == 400
    assert api.post(url, "family_name=X", content_type="application/x-www-form-urlencoded",
                    ).status_code == 415
    assert not Nomination.objects.exists()
    # A draft may start without the passport number; submitting asks for it.
    response = api.post(url, {"round": intake_round.pk, "family_name": "X"}, format="json")
    assert response.status_code == 201
    assert "Passport number is missing." in [m["message"] for m in response.json()["missing"]]


def test_a_refused_preference_leaves_no_half_made_draft(setup, api, monkeypatch):
    intake_round, _coordinator = setup
    intake_round.preference_limit = 1
    intake_round.save()

    def refuse(**kwargs):
        raise DomainError({"preferences": "refused by the service"})

    monkeypatch.setattr(nominations, "nomination_set_preferences", refuse)
    response = api.post(reverse("api:nomination_list"), {
        "round": intake_round.pk, "family_name": "X", "passport_number": "A1",
        "preferences": tracks_of(intake_round)[:1],
    }, format="json")
    assert response.status_code == 400
    assert response.json() == {"preferences": ["refused by the service"]}
    assert not Nomination.objects.exists()


def test_a_refused_preference_changes_no_field_of_the_nomination(setup, api):
    intake_round, coordinator = setup
    nomination = submitted_nomination(coordinator=coordinator, intake_round=intake_round)
    family_name = nomination.family_name
    ranked = list(nomination.preferences.values_list("track_id", flat=True))

    # A submitted nomination must keep at least one ranked track: the service refuses.
    response = api.patch(reverse("api:nomination_detail", args=[nomination.pk]),
                         {"family_name": "Changed", "preferences": []}, format="json")

    assert response.status_code == 400
    assert response.json() == {"preferences": ["Rank at least one degree track."]}
    nomination.refresh_from_db()
    assert nomination.family_name == family_name
    assert list(nomination.preferences.values_list("track_id", flat=True)) == ranked


def test_disguised_executable_is_refused_with_a_file_error(setup, api):
    intake_round, coordinator = setup
    nomination = NominationFactory(intake_round=intake_round, university=coordinator.university)
    url = reverse("api:document_list", args=[nomination.pk])
    response = api.post(url, {"kind": "cv", "file": upload(EXE_BYTES, "cv.pdf")},
                        format="multipart")
    assert response.status_code == 400
    assert "is not a PDF, JPEG or PNG file" in response.json()["file"][0]
    response = api.post(url, {"kind": "passport", "file": pdf_file()}, format="multipart")
    assert response.status_code == 400 and "kind" in response.json()
    response = api.post(url, {"kind": "cv"}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    assert not nomination.documents.exists()


def test_incomplete_nomination_cannot_be_submitted(setup, api):
    intake_round, coordinator = setup
    nomination = NominationFactory(intake_round=intake_round, university=coordinator.university)
    response = api.post(reverse("api:nomination_submit", args=[nomination.pk]))
    assert response.status_code == 400
    assert any("Rank at least one degree track" in m for m in response.json()["detail"])


def test_after_the_deadline_changes_are_refused(api, setup):
    _intake_round, coordinator = setup
    closed = open_round_with_tracks(milestones__opened_days_ago=40)
    ProgramUniversityFactory(program=closed.program, university=coordinator.university)
    nomination = NominationFactory(intake_round=closed, university=coordinator.university)
    response = api.patch(reverse("api:nomination_detail", args=[nomination.pk]),
                         {"phone": "+62 1"}, format="json")
    assert response.status_code == 400
    assert "deadline" in response.json()["detail"][0]
    response = api.post(reverse("api:nomination_list"),
                        {"round": closed.pk, "family_name": "Late", "passport_number": "A1"},
                        format="json")
    assert response.status_code == 400 and "deadline" in response.json()["detail"][0]
    assert api.post(reverse("api:nomination_withdraw",
                            args=[nomination.pk])).status_code == 400


def test_quota_is_enforced_on_submit(setup, api):
    intake_round, coordinator = setup
    ProgramUniversity.objects.filter(program=intake_round.program,
                                     university=coordinator.university).update(nomination_quota=1)
    submitted_nomination(coordinator=coordinator, intake_round=intake_round)
    second = complete_nomination(coordinator=coordinator, intake_round=intake_round)
    response = api.post(reverse("api:nomination_submit", args=[second.pk]))
    assert response.status_code == 400 and "quota" in response.json()["detail"][0]


# --- another university's objects -------------------------------------------------------------

def test_university_a_gets_404_for_every_object_of_university_b(setup, api):
    intake_round, coordinator_a = setup
    ours = NominationFactory(intake_round=intake_round, university=coordinator_a.university)
    theirs = submitted_nomination(intake_round=intake_round, family_name="Theirs")
    document = theirs.documents.first()
    requests = [
        ("get", reverse("api:nomination_detail", args=[theirs.pk])),
        ("patch", reverse("api:nomination_detail", args=[theirs.pk])),
        ("post", reverse("api:nomination_submit", args=[theirs.pk])),
        ("post", reverse("api:nomination_withdraw", args=[theirs.pk])),
        ("get", reverse("api:document_list", args=[theirs.pk])),
        ("post", reverse("api:document_list", args=[theirs.pk])),
        ("get", reverse("api:document_detail", args=[theirs.pk, document.pk])),
        ("delete", reverse("api:document_detail", args=[theirs.pk, document.pk])),
        ("get", reverse("api:document_download", args=[theirs.pk, document.pk])),
        # Their document under our nomination's URL is not ours either.
        ("get", reverse("api:document_detail", args=[ours.pk, document.pk])),
        ("get", reverse("api:document_download", args=[ours.pk, document.pk])),
        ("delete", reverse("api:document_detail", args=[ours.pk, document.pk])),
    ]
    for method, url in requests:
        response = getattr(api, method)(url, {"family_name": "Hacked"}, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
    theirs.refresh_from_db()
    assert theirs.status == "submitted" and theirs.family_name == "Theirs"
    assert NominationDocument.objects.filter(pk=document.pk).exists()
    listing = api.get(reverse("api:nomination_list")).json()
    assert [row["id"] for row in listing["results"]] == [ours.pk]
    assert api.get(reverse("api:nomination_list"), {"q": "Theirs"}).json()["count"] == 0


def test_nomination_detail_shows_eligibility_in_words(setup, api):
    intake_round, coordinator = setup
    nomination = submitted_nomination(coordinator=coordinator, intake_round=intake_round,
                                      gpa=2.0)
    body = api.get(reverse("api:nomination_detail", args=[nomination.pk])).json()
    assert body["is_eligible"] is False
    assert any("GPA is 2.00" in reason for reason in body["eligibility_reasons"])


# --- operator command -------------------------------------------------------------------------

def test_create_api_token_command_prints_a_working_token(setup, mentor_user):
    _intake_round, coordinator = setup
    out = StringIO()
    call_command("create_api_token", coordinator.user.email.upper(), stdout=out)
    key = out.getvalue().strip()
    assert ApiToken.objects.get(user=coordinator.user).token_key == key[:15]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(reverse("api:round_list")).status_code == 200

    call_command("create_api_token", coordinator.user.email, stdout=StringIO())
    assert client.get(reverse("api:round_list")).status_code == 401  # the old one is replaced

    with pytest.raises(CommandError, match="No active university coordinator"):
        call_command("create_api_token", "nobody@example.test")
    with pytest.raises(CommandError):
        call_command("create_api_token", mentor_user.email)


def test_changing_preferences_of_a_submitted_nomination_asks_for_consent_again(setup, api):
    intake_round, coordinator = setup
    nomination = submitted_nomination(coordinator=coordinator, intake_round=intake_round)
    assert OutboundEmail.objects.filter(topic="consent_request").count() == 1
    tracks = tracks_of(intake_round)
    response = api.patch(reverse("api:nomination_detail", args=[nomination.pk]),
                         {"preferences": [tracks[2], tracks[0]]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["preferences"] == [tracks[2], tracks[0]]
    assert OutboundEmail.objects.filter(topic="consent_request").count() == 2
    response = api.patch(reverse("api:nomination_detail", args=[nomination.pk]),
                         {"preferences": []}, format="json")
    assert response.status_code == 400 and "preferences" in response.json()


def test_round_and_detail_queries_are_bounded(setup, api, django_assert_max_num_queries):
    intake_round, coordinator = setup
    for _ in range(5):
        complete_nomination(coordinator=coordinator, intake_round=intake_round)
        other = open_round_with_tracks()
        ProgramUniversityFactory(program=other.program, university=coordinator.university)
    nomination = Nomination.objects.filter(university=coordinator.university).first()
    with django_assert_max_num_queries(8):
        assert api.get(reverse("api:round_list")).json()["count"] == 6
    with django_assert_max_num_queries(10):
        assert api.get(reverse("api:nomination_detail", args=[nomination.pk])).status_code == 200


# --- answers agree with the schema ------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/v1/nominations/null,null/", "/api/v1/rounds/abc/tracks/", "/api/v1/nowhere/",
    "/api/v1/nominations/1/documents/x/download/", "/api/v2/",
])
def test_unknown_api_paths_answer_json_404_after_authentication(setup, api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.json()["detail"], str)
    assert APIClient().post(path).status_code == 401


@pytest.mark.parametrize("query", ["status=", "phase=", "outcome=", "round=", "page="])
def test_blank_query_parameters_are_refused_not_ignored(setup, api, query):
    url = reverse("api:round_list" if query == "phase=" else "api:nomination_list")
    response = api.get(f"{url}?{query}")
    assert response.status_code in (400, 404)
    assert response["Content-Type"] == "application/json"


def test_every_400_carries_detail_as_a_list(setup, api):
    nomination = NominationFactory(intake_round=setup[0], university=setup[1].university)
    response = api.patch(reverse("api:nomination_detail", args=[nomination.pk]), data=b"\x00",
                         content_type="application/json")
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], list)


def test_a_drafts_blank_values_read_as_documented(setup, api, client):
    intake_round, coordinator = setup
    nomination = NominationFactory(intake_round=intake_round, university=coordinator.university,
                                   email="", degree="", language_test="")
    body = api.get(reverse("api:nomination_detail", args=[nomination.pk])).json()
    assert body["email"] is None and body["degree"] == "" and body["language_test"] == ""
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    detail = schema["components"]["schemas"]["NominationDetail"]["properties"]
    assert detail["email"]["nullable"] is True
    assert {"$ref": "#/components/schemas/BlankEnum"} in detail["degree"]["oneOf"]


@pytest.mark.parametrize("body", [
    {"reason": 0.15}, {"reason": ["x"]},
])
def test_withdraw_refuses_values_of_another_type(setup, api, body):
    intake_round, coordinator = setup
    nomination = submitted_nomination(coordinator=coordinator, intake_round=intake_round)
    response = api.post(reverse("api:nomination_withdraw", args=[nomination.pk]), body,
                        format="json")
    assert response.status_code == 400 and "reason" in response.json()
    nomination.refresh_from_db()
    assert nomination.status == Nomination.Status.SUBMITTED


@pytest.mark.parametrize("body", [
    {"university_rank": "5"}, {"family_name": 7}, {"gpa": 3.5}, {"preferences": ["1"]},
    {"courses": [{"name": 5}]},
])
def test_nomination_writes_take_json_values_of_the_documented_types_only(setup, api, body):
    intake_round, coordinator = setup
    nomination = NominationFactory(intake_round=intake_round, university=coordinator.university)
    response = api.patch(reverse("api:nomination_detail", args=[nomination.pk]), body,
                         format="json")
    assert response.status_code == 400
    assert next(iter(body)) in response.json()


def test_search_with_a_nul_character_is_refused_as_the_schema_says(setup, api, client):
    response = api.get(reverse("api:nomination_list") + "?q=a%00b")
    assert response.status_code == 400
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    (q,) = [p for p in schema["paths"]["/api/v1/nominations/"]["get"]["parameters"]
            if p["name"] == "q"]
    assert q["schema"]["pattern"] == "^[^\\u0000]*$"


def test_too_many_requests_get_a_documented_429(setup, api, settings, client):
    settings.ECOCYCLE_API_RATE = "3/minute"
    url = reverse("api:round_list")
    assert [api.get(url).status_code for _ in range(3)] == [200, 200, 200]
    response = api.get(url)
    assert response.status_code == 429 and isinstance(response.json()["detail"], str)
    assert int(response["Retry-After"]) > 0
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for item in schema["paths"].values():
        for operation in item.values():
            assert {"429", "503"} <= operation["responses"].keys()


def test_a_busy_database_is_a_json_503_to_retry(setup, api, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(selectors, "round_list_for_coordinator", locked)
    response = api.get(reverse("api:round_list"))
    assert response.status_code == 503
    assert isinstance(response.json()["detail"], str) and response["Retry-After"]


# --- the API's root -----------------------------------------------------------------------------

ROOT_LINKS = {"rounds": "/api/v1/rounds/", "nominations": "/api/v1/nominations/",
              "schema": "/api/schema/", "docs": "/api/docs/"}


def test_the_root_links_to_the_endpoints_and_the_docs(setup, api):
    response = api.get("/api/v1/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    links = response.json()
    assert links == {key: f"http://testserver{path}" for key, path in ROOT_LINKS.items()}
    for key in ("rounds", "nominations"):
        assert api.get(links[key]).status_code == 200


def test_the_root_is_open_before_sign_in_but_refuses_a_bad_token(db):
    response = APIClient().get("/api/v1/")
    assert response.status_code == 200
    assert set(response.json()) == set(ROOT_LINKS)
    bad = APIClient(HTTP_AUTHORIZATION="Token not-a-token").get("/api/v1/")
    assert bad.status_code == 401


def test_the_root_is_documented(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = document["paths"]["/api/v1/"]["get"]
    assert operation["operationId"] == "api_root"
    assert {} in operation["security"]
    schema = document["components"]["schemas"]["ApiRoot"]
    assert set(schema["properties"]) == set(ROOT_LINKS) == set(schema["required"])
