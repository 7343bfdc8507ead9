"""Data protection: the retention job, a person's export and erasure, and their staff pages."""

import json
import os
from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates.models import CohortAdmission, Nomination, NominationDocument
from candidates.services import cohort_notifications_resume, nomination_update
from ecocycle.exceptions import DomainError
from ecocycle.locks import JobBusy, exclusive_job
from ecocycle.models import AuditEntry, OutboundEmail
from privacy.selectors import OWNED_BY_NOMINATION, REMOVED, retention_due
from privacy.services import (
    audit_trail_anonymise,
    nomination_label,
    person_erase,
    person_export,
    retention_apply,
)
from privacy.services import persons as privacy_services
from privacy.tasks import apply_retention
from programs.models import RoundMilestone
from students.models import AlumniOutcome, Enrolment
from students.services import enrolment_record
from tests.candidates.factories import (
    complete_nomination,
    consented_round,
    enrolled_round,
    round_decide,
    submitted_nomination,
)

pytestmark = pytest.mark.django_db

PERSONAL = ["family_name", "given_names", "native_name", "date_of_birth", "email", "phone",
            "passport_number", "institution", "research_interests"]


def _decided(intake_round, days_ago: float) -> None:
    """Move the round's decisions `days_ago` days into the past (a direct update, no checks)."""
    RoundMilestone.objects.filter(intake_round=intake_round, kind="decisions").update(
        at=timezone.now() - timedelta(days=days_ago))


def _personal(nomination: Nomination) -> dict:
    nomination.refresh_from_db()
    return {name: getattr(nomination, name) for name in PERSONAL}


def _entries_about(nomination: Nomination) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(target_type__model="nomination",
                                          target_id=str(nomination.pk)).order_by("id"))


@pytest.fixture
def decided_round():
    """A round decided 400 days ago: two admitted, one placed nowhere (refused), one draft
    never submitted and one submitted late, whose candidate never consented (not matched)."""
    intake_round, nominations = consented_round(3, seats=1, n_tracks=2)
    draft = complete_nomination(intake_round=intake_round, native_name="Budi Santoso Native")
    late = submitted_nomination(intake_round=intake_round)
    cohort = round_decide(intake_round)
    cohort_notifications_resume()  # the decision's emails, as the worker writes them
    assert cohort.notifications.exists()
    admitted = [n for n in nominations if CohortAdmission.objects.filter(nomination=n).exists()]
    refused = [n for n in nominations if n not in admitted]
    _decided(intake_round, 400)
    assert len(admitted) == 2 and len(refused) == 1
    return {"round": intake_round, "admitted": admitted, "not_admitted": [*refused, draft, late],
            "refused": refused[0], "draft": draft, "late": late}


# --- retention ----------------------------------------------------------------------------------

def test_dry_run_lists_exactly_what_the_real_run_removes(decided_round,
                                                         django_capture_on_commit_callbacks):
    not_admitted = decided_round["not_admitted"]
    before = {n.pk: _personal(n) for n in not_admitted}
    counts = (AuditEntry.objects.count(), OutboundEmail.objects.count(),
              NominationDocument.objects.count())

    dry = retention_apply(dry_run=True)

    assert dry.dry_run is True
    assert sorted(dry.nomination_ids) == sorted(n.pk for n in not_admitted)
    assert {n.pk: _personal(n) for n in not_admitted} == before
    assert (AuditEntry.objects.count(), OutboundEmail.objects.count(),
            NominationDocument.objects.count()) == counts
    assert dry.counts["nominations"] == 3
    assert dry.counts["documents"] == NominationDocument.objects.filter(
        nomination__in=not_admitted).count() > 0

    with django_capture_on_commit_callbacks(execute=True):
        real = retention_apply(dry_run=False)

    assert real.dry_run is False
    assert real.items == dry.items
    assert real.counts == dry.counts
    for nomination in not_admitted:
        nomination.refresh_from_db()
        assert nomination.anonymised_at is not None
        assert nomination.family_name == nomination_label(nomination.pk)
        assert nomination.given_names == nomination.native_name == nomination.email == ""
        assert nomination.date_of_birth is None and nomination.passport_number is None
        assert nomination.passport_digest == nomination.person_digest == ""
        assert nomination.email_normalised == "" and nomination.phone == ""
        assert nomination.research_interests == nomination.institution == ""
        # Statistics stay.
        assert nomination.nationality == "ID" and nomination.gpa is not None
        assert nomination.university_id and nomination.intake_round_id
        assert nomination.preferences.exists()
    assert not NominationDocument.objects.filter(nomination__in=not_admitted).exists()


def test_a_second_run_removes_nothing(decided_round):
    retention_apply(dry_run=False)
    entries = AuditEntry.objects.count()

    assert not retention_due().exists()
    again = retention_apply(dry_run=False)

    assert again.items == ()
    assert again.counts == {"nominations": 0, "documents": 0, "emails": 0, "audit_entries": 0}
    assert AuditEntry.objects.count() == entries  # a run that removes nothing records nothing


def test_an_admitted_candidate_is_never_touched(decided_round):
    admitted = decided_round["admitted"]
    before = {n.pk: _personal(n) for n in admitted}
    documents = NominationDocument.objects.filter(nomination__in=admitted).count()
    entries = {n.pk: [(e.target_repr, e.before, e.after) for e in _entries_about(n)]
               for n in admitted}
    emails = list(OutboundEmail.objects.filter(to__in=[n.email for n in admitted])
                  .values_list("id", "subject", "body_text"))

    # Even ages after the decisions.
    report = retention_apply(dry_run=False, now=timezone.now() + timedelta(days=5000))

    assert not set(report.nomination_ids) & {n.pk for n in admitted}
    assert {n.pk: _personal(n) for n in admitted} == before
    for nomination in admitted:
        nomination.refresh_from_db()
        assert nomination.anonymised_at is None
    assert NominationDocument.objects.filter(nomination__in=admitted).count() == documents > 0
    assert {n.pk: [(e.target_repr, e.before, e.after) for e in _entries_about(n)]
            for n in admitted} == entries
    assert list(OutboundEmail.objects.filter(to__in=[n.email for n in admitted])
                .values_list("id", "subject", "body_text")) == emails


def test_the_retention_period_is_respected(decided_round, settings):
    intake_round = decided_round["round"]
    settings.ECOCYCLE_RETENTION_DAYS = 365

    _decided(intake_round, 10)
    assert not retention_due().exists()
    assert retention_apply(dry_run=False).items == ()

    _decided(intake_round, 364.9)
    assert not retention_due().exists()
    _decided(intake_round, 365.1)
    assert retention_due().count() == 3

    settings.ECOCYCLE_RETENTION_DAYS = 30
    _decided(intake_round, 31)
    report = retention_apply(dry_run=True)
    assert len(report.items) == 3 and report.retention_days == 30
    item = report.items[0]
    decisions = RoundMilestone.objects.get(intake_round=intake_round, kind="decisions").at
    assert item.due_since == decisions + timedelta(days=30)


def test_a_round_decided_recently_is_not_due_but_is_once_time_has_passed(decided_round):
    intake_round = decided_round["round"]
    _decided(intake_round, -5)  # decisions still ahead
    assert not retention_due().exists()
    assert retention_due(now=timezone.now() + timedelta(days=400)).count() == 3


def test_a_draft_never_submitted_is_due_too(decided_round):
    draft = decided_round["draft"]
    assert draft.status == Nomination.Status.DRAFT
    assert draft.pk in retention_apply(dry_run=True).nomination_ids


def test_documents_files_are_deleted_after_commit(decided_round,
                                                  django_capture_on_commit_callbacks):
    draft = decided_round["draft"]
    paths = [d.file.path for d in draft.documents.all()]
    assert paths and all(os.path.exists(p) for p in paths)

    with django_capture_on_commit_callbacks(execute=True):
        retention_apply(dry_run=False)

    assert not any(os.path.exists(p) for p in paths)
    assert not NominationDocument.objects.filter(nomination=draft).exists()


def test_a_failing_run_changes_nothing_and_keeps_the_files(decided_round, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    draft = decided_round["draft"]
    paths = [d.file.path for d in draft.documents.all()]

    def boom(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(privacy_services, "_audit_anonymise", boom)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        retention_apply(dry_run=False)

    draft.refresh_from_db()
    assert draft.anonymised_at is None and draft.email
    assert all(os.path.exists(p) for p in paths)


@pytest.mark.skipif(connection.vendor == "postgresql",
                    reason="a PostgreSQL advisory lock is re-entrant within one connection; the "
                           "race across connections is tested with the cohort matching's lock")
def test_a_run_beside_another_copy_is_refused():
    with exclusive_job("retention"), pytest.raises(JobBusy):
        retention_apply(dry_run=False)


def test_emails_to_and_about_the_person_are_removed(decided_round):
    refused, late = decided_round["refused"], decided_round["late"]
    name = refused.display_name
    to_refused = list(OutboundEmail.objects.filter(to=refused.email))
    assert to_refused
    OutboundEmail.objects.filter(pk=to_refused[0].pk).update(status=OutboundEmail.Status.SENT,
                                                             sent_at=timezone.now())
    about = OutboundEmail.objects.filter(body_text__contains=name).exclude(to=refused.email)
    assert about.exists()  # the university's summary of the cohort names them
    about_ids = list(about.values_list("pk", flat=True))
    pending_to_late = list(OutboundEmail.objects.filter(
        to=late.email, status=OutboundEmail.Status.PENDING).values_list("pk", flat=True))
    assert pending_to_late

    retention_apply(dry_run=False)

    sent = OutboundEmail.objects.get(pk=to_refused[0].pk)
    assert sent.status == OutboundEmail.Status.SENT and sent.topic == to_refused[0].topic
    assert refused.email not in sent.to and sent.subject == sent.body_text == REMOVED
    assert not OutboundEmail.objects.filter(pk__in=pending_to_late).exists()
    for email in OutboundEmail.objects.filter(pk__in=about_ids):
        assert name not in email.body_text and name not in email.body_html
        assert nomination_label(refused.pk) in email.body_text
    assert not OutboundEmail.objects.filter(to__iexact=refused.email).exists()


def test_the_audit_trail_is_kept_but_anonymised(decided_round):
    draft = decided_round["draft"]
    old_name = draft.family_name
    # Changed while the round still took nominations.
    draft = nomination_update(actor=draft.created_by, nomination=draft, data={
        "family_name": "Santoso", "phone": "+62 811 7777 1234",
        "research_interests": "Enzymes from Sumatra"}, now=draft.created_at)
    personal_values = [old_name, "Santoso", draft.given_names, draft.email, draft.native_name,
                       "+62 811 7777 1234", "Enzymes from Sumatra", draft.passport_number,
                       draft.institution]
    entries = _entries_about(draft)
    shape = [(e.pk, e.action, e.actor_label, e.created_at) for e in entries]
    assert any("Santoso" in json.dumps(e.after) for e in entries if e.after)

    report = retention_apply(dry_run=False)

    entries = _entries_about(draft)
    assert [(e.pk, e.action, e.actor_label, e.created_at) for e in entries] == shape
    for entry in entries:
        text = json.dumps([entry.before, entry.after, entry.target_repr])
        for value in personal_values:
            assert value not in text
        assert entry.target_repr == nomination_label(draft.pk)
    updated = next(e for e in entries if e.action == "nomination_update")
    assert updated.before["family_name"] == updated.after["family_name"] == REMOVED
    assert updated.after["phone"] == REMOVED
    assert updated.actor == draft.created_by  # who stays
    upload = next(e for e in entries if e.action == "document_upload")
    assert upload.after["document"]["original_name"] == REMOVED
    assert upload.after["document"]["kind"]  # non-identifying facts stay

    run = AuditEntry.objects.get(action="retention_apply")
    assert run.actor is None and run.actor_label == "system"
    assert sorted(run.after["nominations"]) == sorted(report.nomination_ids)
    assert run.after["counts"] == report.counts
    assert draft.email not in json.dumps(run.after)


def test_audit_trail_anonymise_replaces_personal_values_at_any_depth(decided_round):
    draft = decided_round["draft"]
    content_type = ContentType.objects.get_for_model(Nomination)
    entry = AuditEntry.objects.create(
        actor_label="someone", action="test", target_type=content_type,
        target_id=str(draft.pk), target_repr="Full Name",
        before={"email": "x@example.test", "nested": [{"phone": "+62"}], "status": "draft"},
        after={"email": "", "gpa": "3.5"})

    touched = audit_trail_anonymise(targets=[draft], label="L", fields={"email", "phone"})

    entry.refresh_from_db()
    assert touched == len(_entries_about(draft))
    assert entry.before == {"email": REMOVED, "nested": [{"phone": REMOVED}], "status": "draft"}
    assert entry.after == {"email": "", "gpa": "3.5"}  # empty values reveal nothing
    assert entry.target_repr == "L" and entry.action == "test"


def test_the_job_takes_a_bounded_number_of_queries(settings):
    def run_with(n):
        intake_round, _nominations = consented_round(1, seats=1, n_tracks=1)
        for _ in range(n):
            submitted_nomination(intake_round=intake_round)
        round_decide(intake_round)
        _decided(intake_round, 400)
        with CaptureQueriesContext(connection) as queries:
            report = retention_apply(dry_run=False)
        assert report.counts["nominations"] == n
        return len(queries)

    assert run_with(2) == run_with(5)


# --- export and erasure on request --------------------------------------------------------------

def test_export_contains_the_persons_data(decided_round, staff_user):
    draft = decided_round["draft"]

    data = person_export(actor=staff_user, nomination=draft)

    json.dumps(data)  # plain JSON
    person = data["nomination"]
    assert person["family_name"] == draft.family_name and person["email"] == draft.email
    assert person["passport_number"] == draft.passport_number  # in full: it is theirs
    assert person["date_of_birth"] == draft.date_of_birth.isoformat()
    assert person["native_name"] == "Budi Santoso Native"
    assert "passport_digest" not in person
    assert [p["rank"] for p in data["preferences"]] == [1, 2]
    assert data["courses"][0]["name"] == "Reaction engineering"
    assert {d["kind"] for d in data["documents"]} == set(
        draft.documents.values_list("kind", flat=True))
    assert any(e["action"] == "nomination_set_preferences" for e in data["audit_trail"])
    entry = AuditEntry.objects.get(action="person_export")
    assert entry.actor == staff_user and entry.target_id == str(draft.pk)
    assert draft.email not in json.dumps([entry.before, entry.after])


def test_export_of_a_student_has_admission_enrolment_and_milestones(staff_user):
    _round, enrolments = enrolled_round(1)
    enrolment = enrolments[0]

    data = person_export(actor=staff_user, nomination=enrolment.nomination)

    assert data["admission"]["track_id"] == enrolment.admission.track_id
    assert data["enrolment"]["status"] == "enrolled"
    assert [m["kind"] for m in data["enrolment"]["milestones"]] == ["enrolled"]
    assert data["enrolment"]["alumni_outcome"] is None
    assert any(e["action"] == "enrolment_create" for e in data["audit_trail"])
    json.dumps(data)


def test_erase_requires_a_reason(decided_round, staff_user):
    draft = decided_round["draft"]
    before = _personal(draft)

    with pytest.raises(DomainError) as raised:
        person_erase(actor=staff_user, nomination=draft, reason="   ")

    assert "reason" in raised.value.message_dict
    assert _personal(draft) == before


def test_erase_of_a_graduate_keeps_the_statistics(staff_user):
    _round, enrolments = enrolled_round(1)
    enrolment = enrolments[0]
    nomination = enrolment.nomination
    enrolment_record(actor=staff_user, enrolment=enrolment, kind="thesis",
                     on=timezone.localdate(), values={"thesis_title": "Catalysts of Budi"})
    outcome = AlumniOutcome.objects.create(
        enrolment=enrolment, path="stayed_korea", organisation="Hanwha Solutions Ulsan Plant",
        employer_type="large_company", country="KR", region="Ulsan", as_of=date.today())
    name = nomination.display_name

    erased = person_erase(actor=staff_user, nomination=nomination,
                          reason="Email of the person, 3 May")

    assert erased.anonymised_at is not None and erased.email == ""
    enrolment.refresh_from_db()
    outcome.refresh_from_db()
    assert CohortAdmission.objects.filter(nomination=nomination).exists()
    assert enrolment.status == Enrolment.Status.ENROLLED and enrolment.thesis_title == ""
    assert (outcome.path, outcome.employer_type, outcome.country) == (
        "stayed_korea", "large_company", "KR")
    assert outcome.organisation == outcome.region == ""
    about_enrolment = AuditEntry.objects.filter(target_type__model="enrolment",
                                                target_id=str(enrolment.pk))
    assert about_enrolment.count() == 2
    for entry in about_enrolment:
        assert entry.target_repr == nomination_label(nomination.pk)
        assert "Catalysts of Budi" not in json.dumps(entry.after)
        assert name not in entry.target_repr
    erase_entry = AuditEntry.objects.get(action="person_erase")
    assert erase_entry.actor == staff_user and erase_entry.after["reason"]
    # The retention job never sees an erased person again; erasing again changes nothing.
    assert not retention_due(now=timezone.now() + timedelta(days=5000)).filter(
        pk=nomination.pk).exists()
    person_erase(actor=staff_user, nomination=nomination, reason="again")
    assert AuditEntry.objects.filter(action="person_erase").count() == 1


# --- the command --------------------------------------------------------------------------------

def test_the_command_dry_run_lists_and_changes_nothing(decided_round):
    out = StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)

    text = out.getvalue()
    for nomination in decided_round["not_admitted"]:
        assert f"nomination #{nomination.pk} " in text
    for nomination in decided_round["admitted"]:
        assert f"nomination #{nomination.pk} " not in text
    assert "Would remove the personal data of 3 nomination(s)" in text
    assert text.rstrip().endswith("Dry run: nothing was changed.")
    assert not Nomination.objects.filter(anonymised_at__isnull=False).exists()


def test_the_command_removes_and_a_second_run_removes_nothing(decided_round):
    out = StringIO()
    call_command("apply_retention", stdout=out)

    text = out.getvalue()
    assert "Removed the personal data of 3 nomination(s)" in text
    assert "Dry run" not in text
    for nomination in decided_round["not_admitted"]:
        assert f"nomination #{nomination.pk} " in text
    assert Nomination.objects.filter(anonymised_at__isnull=False).count() == 3

    out = StringIO()
    call_command("apply_retention", stdout=out)
    assert "Removed the personal data of 0 nomination(s)" in out.getvalue()


def test_the_task_runs_the_real_job(decided_round):
    apply_retention.delay()

    assert Nomination.objects.filter(anonymised_at__isnull=False).count() == 3


# --- pages --------------------------------------------------------------------------------------

PAGES = [("staff_privacy:search", []), ("staff_privacy:person", [1]),
         ("staff_privacy:retention", [])]
ACTIONS = [("staff_privacy:person_export", [1]), ("staff_privacy:person_erase", [1]),
           ("staff_privacy:retention_apply", [])]


@pytest.mark.parametrize(("name", "args"), PAGES + ACTIONS)
def test_pages_are_for_kitech_staff_only(client, coordinator_user, name, args):
    url = reverse(name, args=args)
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(coordinator_user)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403


@pytest.mark.parametrize(("name", "args"), ACTIONS)
def test_actions_are_posts(client, staff_user, decided_round, name, args):
    client.force_login(staff_user)
    args = [decided_round["draft"].pk] if args else []
    assert client.get(reverse(name, args=args)).status_code == 405


def test_search_finds_by_name_and_email(client, staff_user, decided_round):
    draft = decided_round["draft"]
    client.force_login(staff_user)

    by_name = client.get(reverse("staff_privacy:search"), {"q": f"{draft.given_names} "
                                                          f"{draft.family_name}"})
    by_email = client.get(reverse("staff_privacy:search"), {"q": draft.email.upper()})

    for response in (by_name, by_email):
        assert response.status_code == 200
        assert reverse("staff_privacy:person", args=[draft.pk]) in response.content.decode()
    assert "No candidate matches" in client.get(reverse("staff_privacy:search"),
                                                {"q": "nobody-like-this"}).content.decode()


def test_person_page_and_export_download(client, staff_user, decided_round):
    draft = decided_round["draft"]
    client.force_login(staff_user)

    page = client.get(reverse("staff_privacy:person", args=[draft.pk]))
    assert page.status_code == 200
    assert draft.email in page.content.decode() and 'id="erase-form"' in page.content.decode()

    response = client.post(reverse("staff_privacy:person_export", args=[draft.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["nomination"]["email"] == draft.email
    assert AuditEntry.objects.filter(action="person_export", actor=staff_user).exists()


def test_erase_form_keeps_what_was_typed_and_needs_confirmation(client, staff_user,
                                                                decided_round):
    draft = decided_round["draft"]
    client.force_login(staff_user)
    url = reverse("staff_privacy:person_erase", args=[draft.pk])

    unconfirmed = client.post(url, {"reason": "Asked by email on 3 May"})
    assert unconfirmed.status_code == 400
    assert "Asked by email on 3 May" in unconfirmed.content.decode()
    assert "Tick the box to confirm" in unconfirmed.content.decode()

    no_reason = client.post(url, {"reason": "", "confirm": "on"})
    assert no_reason.status_code == 400
    assert "Give the reason" in no_reason.content.decode()
    draft.refresh_from_db()
    assert draft.anonymised_at is None

    done = client.post(url, {"reason": "Asked by email on 3 May", "confirm": "on"})
    assert done.status_code == 302
    draft.refresh_from_db()
    assert draft.anonymised_at is not None
    assert "nothing is left to erase" in client.get(done["Location"]).content.decode()


def test_retention_page_lists_the_dry_run_and_applies_it(client, staff_user, decided_round):
    client.force_login(staff_user)
    page = client.get(reverse("staff_privacy:retention"))
    text = page.content.decode()
    assert page.status_code == 200
    for nomination in decided_round["not_admitted"]:
        assert f'name="expected" value="{nomination.pk}"' in text
    for nomination in decided_round["admitted"]:
        assert f'value="{nomination.pk}"' not in text
    assert not Nomination.objects.filter(anonymised_at__isnull=False).exists()  # a GET

    expected = [str(n.pk) for n in decided_round["not_admitted"]]
    stale = client.post(reverse("staff_privacy:retention_apply"), {"expected": expected[:2]},
                        follow=True)
    assert "has changed since it was shown" in stale.content.decode()
    assert not Nomination.objects.filter(anonymised_at__isnull=False).exists()

    applied = client.post(reverse("staff_privacy:retention_apply"), {"expected": expected},
                          follow=True)
    assert "The personal data of 3 nominations was removed." in applied.content.decode()
    assert Nomination.objects.filter(anonymised_at__isnull=False).count() == 3
    assert "Nothing is due for removal." in client.get(
        reverse("staff_privacy:retention")).content.decode()


def test_every_row_that_belongs_to_a_nomination_is_listed_for_erasure():
    # A model of any app that cannot outlive a nomination (or a row listed as belonging to one)
    # must be in OWNED_BY_NOMINATION, or an erasure would leave its audit trail behind.
    def belonging(model):
        return {(rel.related_model, rel.field.name) for rel in model._meta.related_objects
                if not rel.many_to_many
                and rel.on_delete in (models.CASCADE, models.PROTECT)}

    def listed(owned):
        return {(model, link) for model, link, _children in owned}

    assert belonging(Nomination) == listed(OWNED_BY_NOMINATION)
    for model, _link, children in OWNED_BY_NOMINATION:
        assert belonging(model) == listed(children), model
