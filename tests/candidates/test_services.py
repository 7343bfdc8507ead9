from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from candidates import services
from candidates.models import Cohort, CoordinatorInvitation, DuplicateAttempt, Nomination
from ecocycle.models import AuditEntry, OutboundEmail
from programs.models import RoundMilestone, RoundTrack
from tests.candidates.factories import (
    EXE_BYTES,
    PNG_BYTES,
    complete_nomination,
    open_round_with_tracks,
    pdf_file,
    submitted_nomination,
    upload,
)
from tests.kernel.factories import StaffFactory
from tests.programs.factories import (
    CoordinatorFactory,
    CoreTechnologyFactory,
    ProgramUniversityFactory,
    close_nominations,
)

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
    assert "cannot be nominated again" in message and "passport" not in message
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
    with pytest.raises(ValidationError, match="cannot be nominated again"):
        services.nomination_submit(actor=second.created_by, nomination=second)
    assert DuplicateAttempt.objects.get().matched_on == "name and date of birth"


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


# --- nomination_save: a nomination and its parts, all or nothing ----------------------------------

def _coordinator_in(intake_round):
    coordinator = CoordinatorFactory()
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university)
    return coordinator


def test_save_starts_a_draft_with_its_preferences_and_courses():
    intake_round = open_round_with_tracks()
    coordinator = _coordinator_in(intake_round)
    tracks = [rt.track for rt in RoundTrack.objects.filter(intake_round=intake_round)
              .select_related("track").order_by("-id")][:2]
    technology = CoreTechnologyFactory(program=intake_round.program)

    nomination = services.nomination_save(
        actor=coordinator.user, intake_round=intake_round, university=coordinator.university,
        data={"family_name": "Santoso"}, preferences=tracks,
        courses=[{"name": "Reaction engineering", "grade": "A", "technologies": [technology]}],
    )

    assert nomination.status == Nomination.Status.DRAFT
    assert nomination.created_by == coordinator.user
    assert [p.track for p in nomination.preferences.order_by("rank")] == tracks
    course = nomination.courses.get()
    assert (course.name, list(course.technologies.all())) == ("Reaction engineering",
                                                              [technology])
    assert set(AuditEntry.objects.filter(target_id=str(nomination.pk))
               .values_list("action", flat=True)) == {
        "nomination_create", "nomination_set_preferences", "nomination_set_courses"}


def test_a_technology_named_twice_in_a_course_is_kept_once():
    # Found by the API's schema fuzzing: [1, 1] broke the link table's unique constraint (500).
    intake_round = open_round_with_tracks()
    coordinator = _coordinator_in(intake_round)
    technology = CoreTechnologyFactory(program=intake_round.program)

    nomination = services.nomination_save(
        actor=coordinator.user, intake_round=intake_round, university=coordinator.university,
        data={"family_name": "Santoso"},
        courses=[{"name": "Reaction engineering", "technologies": [technology, technology]}],
    )

    assert list(nomination.courses.get().technologies.all()) == [technology]


def test_save_of_a_new_draft_refused_in_its_courses_leaves_no_draft():
    intake_round = open_round_with_tracks()
    coordinator = _coordinator_in(intake_round)
    elsewhere = CoreTechnologyFactory()  # another program's

    with pytest.raises(ValidationError, match="not a core technology of this program"):
        services.nomination_save(
            actor=coordinator.user, intake_round=intake_round,
            university=coordinator.university, data={"family_name": "Santoso"},
            courses=[{"name": "Reaction engineering", "technologies": [elsewhere]}],
        )

    assert not Nomination.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="nomination_").exists()


def test_save_refused_in_its_preferences_changes_no_field_either():
    nomination = submitted_nomination()
    family_name, ranked = nomination.family_name, list(
        nomination.preferences.values_list("track_id", flat=True))
    audited = AuditEntry.objects.count()

    with pytest.raises(ValidationError, match="Rank at least one degree track"):
        services.nomination_save(actor=None, nomination=nomination,
                                 data={"family_name": "Changed"}, preferences=[])

    nomination.refresh_from_db()
    assert nomination.family_name == family_name
    assert list(nomination.preferences.values_list("track_id", flat=True)) == ranked
    assert AuditEntry.objects.count() == audited


def test_save_keeps_the_parts_it_is_not_given():
    nomination = complete_nomination()
    ranked = list(nomination.preferences.values_list("track_id", flat=True))

    services.nomination_save(actor=None, nomination=nomination, data={"phone": "+62 1"})

    nomination.refresh_from_db()
    assert nomination.phone == "+62 1"
    assert list(nomination.preferences.values_list("track_id", flat=True)) == ranked
    assert nomination.courses.count() == 1


# --- the writes of admin actions and tasks -------------------------------------------------------

def test_revoking_an_invitation_audits_once_and_spares_an_accepted_one():
    staff = StaffFactory()
    university = ProgramUniversityFactory().university
    open_one = services.coordinator_invite(actor=staff, email="a@uni.example",
                                           university=university)
    accepted = services.coordinator_invite(actor=staff, email="b@uni.example",
                                           university=university)
    CoordinatorInvitation.objects.filter(pk=accepted.pk).update(accepted_at=timezone.now())

    assert services.coordinator_invitation_revoke(actor=staff, invitation=open_one) is True
    assert services.coordinator_invitation_revoke(actor=staff, invitation=open_one) is False
    assert services.coordinator_invitation_revoke(actor=staff, invitation=accepted) is False

    open_one.refresh_from_db()
    accepted.refresh_from_db()
    assert open_one.revoked_at is not None and accepted.revoked_at is None
    entry = AuditEntry.objects.get(action="coordinatorinvitation_revoke")
    assert entry.actor == staff and entry.target_id == str(open_one.pk)


def test_clearing_a_run_request_is_audited_and_safe_to_repeat():
    intake_round = close_nominations(open_round_with_tracks())
    services.cohort_run_request(actor=StaffFactory(), intake_round=intake_round)
    assert Cohort.objects.get(intake_round=intake_round).run_requested_at is not None

    services.cohort_run_request_clear(intake_round=intake_round, reason="busy")
    services.cohort_run_request_clear(intake_round=intake_round, reason="busy")

    assert Cohort.objects.get(intake_round=intake_round).run_requested_at is None
    entry = AuditEntry.objects.get(action="cohort_run_request_clear")
    assert entry.after == {"reason": "busy"} and entry.before["run_requested_at"]
