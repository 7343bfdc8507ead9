"""The factories' direct rows equal the rows the services write.

Both ways build a nomination in the same round for the same coordinator, with the same name;
what differs by construction (ids, the email, passport, date of birth and rank the factory's
sequences make, the moment of writing, the stored file's name) is compared by what it must be
rather than by value.
"""

import re

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from candidates import services
from candidates.models import Nomination
from ecocycle.links import LinkState
from ecocycle.mail import outbound_email_rendered
from ecocycle.models import AuditEntry, OutboundEmail
from tests.candidates.factories import (
    PDF_BYTES,
    complete_nomination,
    consented_nomination,
    open_round_with_tracks,
    submitted_nomination,
)
from tests.programs.factories import CoordinatorFactory

pytestmark = pytest.mark.django_db

MADE_BY_SEQUENCES = {"email", "passport_number", "date_of_birth", "university_rank"}
DERIVED = set(services.nomination_derived_fields(Nomination()))
TIMESTAMPS = ["submitted_at", "eligibility_checked_at", "consent_requested_at",
              "consent_given_at", "consent_reminded_at", "withdrawn_at", "anonymised_at"]
CONSENT_LINK = re.compile(r"/consent/([^/\s\"<>]+)/")


def _file(document_or_snapshot, nomination: Nomination) -> str:
    """The stored name without what makes it unique: the nomination's id, a collision suffix."""
    name, kind, sha256 = (document_or_snapshot[key] for key in ("file", "kind", "sha256"))
    assert name.startswith(f"nominations/{nomination.pk}/{sha256[:16]}-{kind}"), name
    return f"<file {kind}>"


def _moments(nomination: Nomination) -> dict:
    """Each timestamp as its rank among the nomination's own: which are equal, which later."""
    values = sorted({getattr(nomination, name) for name in TIMESTAMPS} - {None})
    return {name: None if getattr(nomination, name) is None
            else values.index(getattr(nomination, name)) for name in TIMESTAMPS}


def _audit(nomination: Nomination) -> list[tuple]:
    encoded = {DjangoJSONEncoder().default(getattr(nomination, name)): f"<{name}>"
               for name in TIMESTAMPS if getattr(nomination, name) is not None}

    def neutral(value):
        if isinstance(value, dict):
            return {key: neutral(item) for key, item in value.items()}
        if isinstance(value, list):
            return [neutral(item) for item in value]
        return encoded.get(value, value) if isinstance(value, str) else value

    entries = []
    for entry in AuditEntry.objects.filter(target_type__model="nomination",
                                           target_id=str(nomination.pk)).order_by("id"):
        after = entry.after
        if entry.action == "document_upload":
            document = after["document"]
            assert document["nomination"] == nomination.pk
            after = {"document": {**document, "nomination": "<nomination>",
                                  "file": _file(document, nomination)}}
        entries.append((entry.action, entry.actor_id, entry.actor_label, entry.target_repr,
                        neutral(entry.before), neutral(after)))
    return entries


def _emails(nomination: Nomination) -> list[tuple]:
    emails = []
    for email in OutboundEmail.objects.filter(to=nomination.email).order_by("id"):
        links = [services.consent_check(token).state
                 for token in CONSENT_LINK.findall(outbound_email_rendered(email)[1])]
        assert links, email.body_text

        def neutral(text):
            return CONSENT_LINK.sub("<link>", text).replace(nomination.email, "<email>")

        emails.append((email.topic, email.language, email.subject, email.status, links,
                       neutral(email.body_text), neutral(email.body_html)))
    return emails


def _state(nomination: Nomination) -> dict:
    """Everything the services leave behind about a nomination, comparable across two."""
    nomination = Nomination.objects.get(pk=nomination.pk)
    assert {name: getattr(nomination, name) for name in DERIVED} == (
        services.nomination_derived_fields(nomination))
    documents = []
    for document in nomination.documents.order_by("kind"):
        with document.file.open("rb") as handle:
            content = handle.read()
        documents.append((document.kind, document.original_name, document.content_type,
                          document.size, document.sha256, document.uploaded_by_id,
                          _file({"file": document.file.name, "kind": document.kind,
                                 "sha256": document.sha256}, nomination), content))
    return {
        "fields": {field.attname: getattr(nomination, field.attname)
                   for field in Nomination._meta.concrete_fields
                   if field.attname not in {"id", "created_at", "updated_at", *MADE_BY_SEQUENCES,
                                            *DERIVED, *TIMESTAMPS}},
        "moments": _moments(nomination),
        "preferences": list(nomination.preferences.order_by("rank")
                            .values_list("track_id", "rank")),
        "courses": [(course.name, course.grade, sorted(t.pk for t in course.technologies.all()))
                    for course in nomination.courses.order_by("id")],
        "documents": documents,
        "emails": _emails(nomination),
        "audit": _audit(nomination),
    }


@pytest.mark.parametrize(("build", "fields"), [
    (complete_nomination, {}),
    (complete_nomination, {"documents": False}),
    (submitted_nomination, {}),
    # Not eligible (GPA, no language test), and four documents instead of five.
    (submitted_nomination, {"gpa": "2.5", "language_test": "none"}),
    (consented_nomination, {}),
])
def test_direct_rows_equal_the_services_rows(build, fields):
    intake_round = open_round_with_tracks()
    coordinator = CoordinatorFactory()
    same = {"intake_round": intake_round, "coordinator": coordinator, "family_name": "Santoso",
            "given_names": "Dewi", **fields}
    slow = build(via_services=True, **same)
    fast = build(via_services=False, **same)
    slow_state, fast_state = _state(slow), _state(fast)
    assert fast_state == slow_state
    assert (fast_state["documents"] != []) is fields.get("documents", True)
    assert len(fast_state["audit"]) > 1


def test_the_emailed_link_of_a_direct_nomination_works():
    nomination = submitted_nomination(via_services=False)
    (email,) = OutboundEmail.objects.filter(to=nomination.email, topic="consent_request")
    token = CONSENT_LINK.search(outbound_email_rendered(email)[1]).group(1)
    assert services.consent_check(token).state == LinkState.VALID
    assert services.consent_confirm(token=token).consent_given_at is not None
    for document in nomination.documents.all():
        with document.file.open("rb") as handle:
            assert handle.read() == PDF_BYTES
