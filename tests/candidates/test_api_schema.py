"""The OpenAPI schema is valid and complete enough that a schema-driven fuzzer finds no 5xx."""

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from candidates import services
from candidates.selectors import OutcomeCode
from tests.candidates.factories import (
    NominationFactory,
    complete_nomination,
    open_round_with_tracks,
    submitted_nomination,
)
from tests.programs.factories import (
    CoordinatorFactory,
    CoreTechnologyFactory,
    ProgramUniversityFactory,
)

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("GET", "/api/v1/"),
    ("GET", "/api/v1/rounds/"), ("GET", "/api/v1/rounds/{id}/"),
    ("GET", "/api/v1/rounds/{id}/tracks/"),
    ("GET", "/api/v1/nominations/"), ("POST", "/api/v1/nominations/"),
    ("GET", "/api/v1/nominations/{id}/"), ("PATCH", "/api/v1/nominations/{id}/"),
    ("POST", "/api/v1/nominations/{id}/submit/"), ("POST", "/api/v1/nominations/{id}/withdraw/"),
    ("GET", "/api/v1/nominations/{id}/documents/"),
    ("POST", "/api/v1/nominations/{id}/documents/"),
    ("GET", "/api/v1/nominations/{id}/documents/{document_id}/"),
    ("DELETE", "/api/v1/nominations/{id}/documents/{document_id}/"),
    ("GET", "/api/v1/nominations/{id}/documents/{document_id}/download/"),
}


def test_schema_is_valid_openapi_3_and_lists_every_operation(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    validate_schema(document)
    schemathesis.openapi.from_dict(document).validate()

    operations = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    assert operations == OPERATIONS
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["operationId"] and operation.get("summary"), (method, path)
            assert {"tokenAuth": []} in operation["security"]
            assert "401" in operation["responses"]
            # Every operation but the root (open to anyone, and always there) may answer 404.
            assert ("404" in operation["responses"]) == (path != "/api/v1/"), (method, path)
            assert ({} in operation["security"]) == (path == "/api/v1/"), (method, path)
    detail = document["components"]["schemas"]["NominationDetail"]["properties"]
    assert "passport_masked" in detail and "passport_number" not in detail
    assert {"missing", "is_eligible", "eligibility_reasons", "documents"} <= detail.keys()
    create = document["components"]["schemas"]["NominationCreateRequest"]["properties"]
    assert create["passport_number"]["writeOnly"] is True
    assert create["preferences"]["items"]["type"] == "integer"
    _assert_outcome_documented(document)


def _assert_outcome_documented(document):
    """The outcome is a new read-only field beside `status`, whose meaning is unchanged, and a
    filter of the list; nothing of it is accepted as input."""
    schemas = document["components"]["schemas"]
    for name in ("NominationList", "NominationDetail"):
        properties = schemas[name]["properties"]
        assert properties["outcome"]["readOnly"] is True
        assert properties["outcome"]["allOf"] == [{"$ref": "#/components/schemas/Outcome"}]
        assert properties["status"]["allOf"] == [
            {"$ref": "#/components/schemas/StatusEnum"}]
    for name in ("NominationCreateRequest", "PatchedNominationWriteRequest"):
        assert "outcome" not in schemas[name]["properties"]
    assert schemas["StatusEnum"]["enum"] == ["draft", "submitted", "withdrawn"]
    outcome = schemas["Outcome"]["properties"]
    assert set(outcome) == {"code", "label", "detail", "reasons", "track",
                            "offer_deadline"}
    assert outcome["code"]["allOf"] == [{"$ref": "#/components/schemas/OutcomeCodeEnum"}]
    assert schemas["OutcomeCodeEnum"]["enum"] == OutcomeCode.values
    assert "`not_placed`" in outcome["code"]["description"]
    parameters = document["paths"]["/api/v1/nominations/"]["get"]["parameters"]
    (outcome_filter,) = [p for p in parameters if p["name"] == "outcome"]
    assert outcome_filter["in"] == "query" and outcome_filter["schema"]["enum"] == (
        OutcomeCode.values)


def test_interactive_docs_are_served(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content


# --- the fuzzer -------------------------------------------------------------------------------

@pytest.fixture
def keep_test_connection():
    # Django closes "old" connections around each request, which would end the test's
    # transaction under a plain WSGI handler; its own test client turns this off the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(db, keep_test_connection):
    """A coordinator with a token, an open round with tracks, and nominations in each state."""
    intake_round = open_round_with_tracks(n_tracks=3)
    technology = CoreTechnologyFactory(program=intake_round.program)
    coordinator = CoordinatorFactory()
    other_round = open_round_with_tracks()
    for taken_part in (intake_round, other_round):
        ProgramUniversityFactory(program=taken_part.program, university=coordinator.university,
                                 nomination_quota=1000)
    drafts = [complete_nomination(coordinator=coordinator, intake_round=intake_round)
              for _ in range(3)]
    drafts.append(NominationFactory(intake_round=intake_round,
                                    university=coordinator.university))
    submitted = submitted_nomination(coordinator=coordinator, intake_round=intake_round)
    theirs = submitted_nomination(intake_round=intake_round)
    nominations = [*drafts, submitted, theirs]
    return {
        "token": services.api_token_create(actor=coordinator.user, user=coordinator.user),
        "round_ids": [intake_round.pk, other_round.pk],
        "track_ids": list(intake_round.tracks.values_list("pk", flat=True)),
        "technology_ids": [technology.pk, CoreTechnologyFactory().pk],
        "nomination_ids": [n.pk for n in nominations],
        "documents": [(d.nomination_id, d.pk) for n in nominations for d in n.documents.all()],
    }


# Loaded when the module is collected: generating the schema touches no database. (The lazy
# `schemathesis.pytest.from_fixture` does not work with pytest 9 yet.) The coverage phase is
# left out for the two nomination bodies: it tries each of their ~250 enum values (countries)
# one request at a time, which alone took half a minute; their fuzzing still runs.
# Writes answer 400 to input the schema cannot describe: rules across fields (a GPA within its
# scale, a score within its test's range), references to rows (tracks offered in the round,
# technologies of the program), and the nomination's state and the round's calendar. So for
# those operations a 400 to schema-valid input is expected; every other check stays as it is.
WRITES_WITH_DOMAIN_RULES = [
    "nominations_create", "nominations_partial_update", "nominations_submit",
    "nominations_withdraw", "documents_upload", "documents_destroy",
]
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", WSGIHandler(),
    config=schemathesis.Config.from_dict({"operations": [
        {"include-operation-id": ["nominations_create", "nominations_partial_update"],
         "phases": {"coverage": {"enabled": False}}},
        {"include-operation-id": WRITES_WITH_DOMAIN_RULES,
         "checks": {"positive_data_acceptance": {
             "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]}}},
    ]}),
)


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _aim_at_real_objects(case, world) -> None:
    # Random ids mostly miss and only exercise the 404 path; point three in four of them at
    # real objects (ours and another university's) so that bodies are tried on real rows.
    # Input meant to break the schema is left as it is: the checks judge it as generated.
    if case.meta is not None and not case.meta.generation.mode.is_positive:
        return
    params = case.path_parameters or {}
    value = params.get("id")
    if _is_id(value) and value % 4 != 3:
        if "document_id" in params:
            params["id"], params["document_id"] = world["documents"][
                value % len(world["documents"])]
        elif "/nominations/" in case.path:
            params["id"] = world["nomination_ids"][value % len(world["nomination_ids"])]
        else:
            params["id"] = world["round_ids"][value % len(world["round_ids"])]
    body = case.body
    if not isinstance(body, dict):
        return
    if _is_id(body.get("round")):
        body["round"] = world["round_ids"][body["round"] % len(world["round_ids"])]
    preferences = body.get("preferences")
    if isinstance(preferences, list) and all(_is_id(p) for p in preferences):
        tracks = world["track_ids"]
        body["preferences"] = [tracks[p % len(tracks)] for p in preferences]
    courses = body.get("courses")
    for course in courses if isinstance(courses, list) else []:
        technologies = course.get("technologies") if isinstance(course, dict) else None
        if isinstance(technologies, list) and all(_is_id(t) for t in technologies):
            known = world["technology_ids"]
            course["technologies"] = [known[t % len(known)] for t in technologies]


load_all_checks()
ALL_CHECKS = CHECKS.get_all()


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_fuzzed_requests_pass_every_check(case, fuzz_world):
    """Every operation, every schemathesis check: answers match the published schema (status
    codes, content types, headers, bodies), schema-valid input is accepted and invalid input
    refused. This is the API's fuzzing run in CI."""
    _aim_at_real_objects(case, fuzz_world)
    case.call_and_validate(headers={"Authorization": f"Token {fuzz_world['token']}"},
                           checks=ALL_CHECKS)


def test_429_and_503_document_their_retry_after_header(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for item in document["paths"].values():
        for operation in item.values():
            for code in ("429", "503"):
                header = operation["responses"][code]["headers"]["Retry-After"]
                assert header["schema"]["type"] == "integer"
