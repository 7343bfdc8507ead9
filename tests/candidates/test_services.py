from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from candidates import services
from candidates.models import DuplicateAttempt, Nomination
from ecocycle.models import AuditEntry, OutboundEmail
from programs.models import RoundMilestone
from tests.candidates.factories import (
    EXE_BYTES,
    PNG_BYTES,
    complete_nomination,
    open_round_with_tracks,
    pdf_file,
    submitted_nomination,
    upload,
)
from tests.programs.factories import CoordinatorFactory, ProgramUniversityFactory

pytestmark = pytest.mark.django_db


def test_submit_complete_nomination_sends_consent_email_and_audits():
    nomination = complete_nomination()
    services.nomination_submit(actor=nomination.created_by, nomination=nomination)
    nomination.refresh_from_db()
    assert nomination.status == Nomination.Status.SUBMITTED
    assert nomination.is_eligible is True, nomination.eligibility_reasons
    assert nomination.consent_requested_at is not None
    assert AuditEntry.objects.filter(action="nomination_submit",
                                     target_id=str(nomination.pk)).exists()
    email = OutboundEmail.objects.get(topic="consent_request")
    assert email.to == nomination.email
    assert email.language == "id"


def test_submit_refuses_missing_parts_with_each_named():
    nomination = complete_nomination(documents=False, research_interests="")
    with pytest.raises(ValidationError) as excinfo:
        services.nomination_submit(actor=nomination.created_by, nomination=nomination)
    messages = " ".join(excinfo.value.messages)
    assert "transcript" in messages and "Research interests" in messages
    nomination.refresh_from_db()
    assert nomination.status == Nomination.Status.DRAFT


def test_submit_refused_after_the_deadline():
    nomination = complete_nomination()
    close = nomination.intake_round.milestones.get(kind=RoundMilestone.Kind.NOMINATIONS_CLOSE)
    with pytest.raises(ValidationError, match="deadline"):
        services.nomination_submit(actor=nomination.created_by, nomination=nomination,
                                   now=close.at + timedelta(minutes=1))


def test_submit_refused_beyond_quota():
    coordinator = CoordinatorFactory()
    intake_round = open_round_with_tracks()
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university,
                             nomination_quota=1)
    submitted_nomination(coordinator=coordinator, intake_round=intake_round)
    second = complete_nomination(coordinator=coordinator, intake_round=intake_round)
    with pytest.raises(ValidationError, match="quota of 1"):
        services.nomination_submit(actor=coordinator.user, nomination=second)


def test_duplicate_across_universities_is_refused_without_revealing_the_other():
    intake_round = open_round_with_tracks()
    first = submitted_nomination(intake_round=intake_round, passport_number="A1234567")
    other = CoordinatorFactory()
    second = complete_nomination(coordinator=other, intake_round=intake_round,
                                 passport_number="a123 4567", email="another@student.example")
    with pytest.raises(ValidationError) as excinfo:
        services.nomination_submit(actor=other.user, nomination=second)
    message = excinfo.value.messages[0]
    assert "same passport number" in message
    assert first.university.name not in message
    attempt = DuplicateAttempt.objects.get()
    assert (attempt.nomination_id, attempt.existing_id) == (second.pk, first.pk)


def test_duplicate_by_name_and_birth_date():
    intake_round = open_round_with_tracks()
    first = submitted_nomination(intake_round=intake_round, family_name="Nguyễn",
                                 given_names="Văn An")
    second = complete_nomination(intake_round=intake_round, family_name="NGUYEN",
                                 given_names="Van An", date_of_birth=first.date_of_birth,
                                 passport_number="Z9", email="x@student.example")
    with pytest.raises(ValidationError, match="same name and date of birth"):
        services.nomination_submit(actor=second.created_by, nomination=second)


def test_upload_refuses_an_exe_renamed_to_pdf_and_oversized_files(settings):
    nomination = complete_nomination(documents=False)
    with pytest.raises(ValidationError) as excinfo:
        services.document_upload(actor=None, nomination=nomination, kind="cv",
                                 file=upload(EXE_BYTES, "cv.pdf"))
    assert "not a PDF, JPEG or PNG" in excinfo.value.message_dict["file"][0]
    settings.ECOCYCLE_MAX_UPLOAD_BYTES = 50
    with pytest.raises(ValidationError) as excinfo:
        services.document_upload(actor=None, nomination=nomination, kind="cv",
                                 file=upload(PNG_BYTES + b"\0" * 100, "cv.png"))
    assert "at most" in excinfo.value.message_dict["file"][0]
    assert not nomination.documents.exists()


def test_upload_stores_checksum_and_replaces_same_kind():
    nomination = complete_nomination(documents=False)
    first = services.document_upload(actor=None, nomination=nomination, kind="cv",
                                     file=upload(PNG_BYTES, "photo-cv.png"))
    assert first.content_type == "image/png" and len(first.sha256) == 64
    second = services.document_upload(actor=None, nomination=nomination, kind="cv",
                                      file=pdf_file("cv.pdf"))
    assert list(nomination.documents.values_list("pk", flat=True)) == [second.pk]
    assert "cv.pdf" not in second.file.name  # stored under a derived name


def test_expired_language_certificate_is_refused():
    nomination = complete_nomination()
    old = timezone.localdate() - timedelta(days=800)
    with pytest.raises(ValidationError) as excinfo:
        services.nomination_update(actor=None, nomination=nomination,
                                   data={"language_test_date": old})
    assert "older than two years" in excinfo.value.message_dict["language_test_date"][0]


def test_same_track_twice_is_refused():
    nomination = complete_nomination()
    track = nomination.preferences.first().track
    with pytest.raises(ValidationError, match="ranked twice"):
        services.nomination_set_preferences(actor=None, nomination=nomination,
                                            tracks=[track, track])


def test_consent_link_confirms_once_and_dies():
    nomination = submitted_nomination()
    token = services.consent_link(nomination).rstrip("/").rsplit("/", 1)[1]
    check = services.consent_check(token)
    assert check.state.value == "valid" and check.object == nomination
    services.consent_confirm(token=token)
    nomination.refresh_from_db()
    assert nomination.consent_given_at is not None
    assert services.consent_check(token).state.value == "used"
    with pytest.raises(ValidationError):
        services.consent_confirm(token=token)


def test_consent_link_tampered_and_expired(settings):
    nomination = submitted_nomination()
    token = services.consent_link(nomination).rstrip("/").rsplit("/", 1)[1]
    assert services.consent_check(token[:-2] + "xx").state.value == "invalid"
    settings.ECOCYCLE_CONSENT_LINK_DAYS = -1
    assert services.consent_check(token).state.value == "expired"


def test_consent_reminder_is_sent_once():
    nomination = submitted_nomination()
    later = timezone.now() + timedelta(days=4)
    assert services.consent_reminders_send(now=later) == 1
    assert services.consent_reminders_send(now=later) == 0
    assert OutboundEmail.objects.filter(topic="consent_reminder", to=nomination.email).count() == 1


def test_withdraw_kills_consent_link():
    nomination = submitted_nomination()
    token = services.consent_link(nomination).rstrip("/").rsplit("/", 1)[1]
    services.nomination_withdraw(actor=nomination.created_by, nomination=nomination)
    assert services.consent_check(token).state.value == "stale"


def test_email_goes_out_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submitted_nomination()
        assert len(mail.outbox) == 0  # not before the commit
    assert len(mail.outbox) == 1
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT
