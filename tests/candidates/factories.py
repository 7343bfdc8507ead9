"""Factories for nominations. `complete_nomination` builds a draft that can be submitted.

By default the nomination factories write directly the rows the services would write (the
nomination with its derived fields, eligibility verdict and consent timestamps, its
preferences, course, documents with their files, the audit entries and the consent email): a
quarter of the queries and a tenth of the time. `via_services=True`, or
ECOCYCLE_FACTORIES_VIA_SERVICES=1 for a whole run, goes through the services instead;
tests/candidates/test_factories.py checks that both ways leave the same rows. The matching, the
approval and the enrolments always run through their services: they take a fixed handful of
queries however many candidates there are.
"""

import hashlib
import os
from datetime import date, timedelta

import factory
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from candidates import eligibility, selectors, services
from candidates.models import (
    Cohort,
    CohortAdmission,
    EligibilityPolicy,
    Nomination,
    NominationCourse,
    NominationDocument,
    NominationPreference,
    Offer,
)
from candidates.services.candidate_page import candidate_page_link
from ecocycle.mail import email_queue
from ecocycle.models import AuditEntry
from ecocycle.services import audit_entry_build, instance_snapshot
from programs.models import RoundTrack
from students import services as student_services
from tests.programs.factories import (
    CoordinatorFactory,
    CoreTechnologyFactory,
    DegreeTrackFactory,
    IntakeRoundFactory,
    ProgramUniversityFactory,
    RoundTrackFactory,
    close_nominations,
)

# Read once: a whole run can be sent through the services to check that a change to one of them
# left the direct rows below behind.
VIA_SERVICES = os.environ.get("ECOCYCLE_FACTORIES_VIA_SERVICES") == "1"

# The smallest file each type's content check accepts.
# A PDF whole enough to parse (candidates.documents reads every upload's cross-reference table).
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>"
    b"endobj\nxref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"trailer<</Size 3/Root 1 0 R>>\nstartxref\n96\n%%EOF\n"
)
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def pdf_file(name="document.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


class EligibilityPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EligibilityPolicy
        django_get_or_create = ("program",)

    min_gpa = 3.0
    min_related_courses = 1


class NominationFactory(factory.django.DjangoModelFactory):
    """A draft with every field filled (but no preferences, courses or documents)."""

    class Meta:
        model = Nomination

    intake_round = factory.SubFactory(IntakeRoundFactory)
    university = factory.LazyAttribute(
        lambda o: ProgramUniversityFactory(program=o.intake_round.program).university
    )
    family_name = factory.Faker("last_name")
    given_names = factory.Faker("first_name")
    date_of_birth = factory.Sequence(lambda n: date(1998, 1, 1) + timedelta(days=n))
    nationality = "ID"
    email = factory.Sequence(lambda n: f"candidate{n}@student.example")
    phone = "+62 812 0000 0000"
    passport_number = factory.Sequence(lambda n: f"X{n:07d}")
    candidate_language = "id"
    degree = "bachelor"
    degree_status = "completed"
    major = "Chemical Engineering"
    institution = "Institut Teknologi Bandung"
    gpa = 3.6
    gpa_scale = "4.0"
    gpa_normalised = 3.6
    language_test = "ielts"
    language_score = 7.0
    language_test_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=100))
    research_interests = "Heterogeneous catalysts for palm-oil transesterification."
    university_rank = factory.Sequence(lambda n: n + 1)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # The derived fields are set before the one insert, as nomination_create does.
        nomination = model_class(*args, **kwargs)
        for name, value in services.nomination_derived_fields(nomination).items():
            setattr(nomination, name, value)
        nomination.save(force_insert=True)
        return nomination


def open_round_with_tracks(n_tracks=3, **round_kwargs):
    intake_round = IntakeRoundFactory(**round_kwargs)
    for _ in range(n_tracks):
        RoundTrackFactory(intake_round=intake_round,
                          track=DegreeTrackFactory(program=intake_round.program))
    EligibilityPolicyFactory(program=intake_round.program)
    return intake_round


def _via_services(via_services: bool | None) -> bool:
    return VIA_SERVICES if via_services is None else via_services


def complete_nomination(*, coordinator=None, intake_round=None, documents=True,
                        via_services=None, **fields):
    """A draft with preferences, one related course and every required document."""
    intake_round = intake_round or open_round_with_tracks()
    if coordinator is None:
        coordinator = CoordinatorFactory()
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university)
    if not _via_services(via_services):
        # As the services do, refuse a round that takes no nominations now.
        services.nominations_open_check(intake_round=intake_round)
    nomination = NominationFactory(intake_round=intake_round, university=coordinator.university,
                                   created_by=coordinator.user, **fields)
    tracks = [rt.track for rt in RoundTrack.objects.filter(intake_round=intake_round)
              .select_related("track").order_by("id")][: intake_round.preference_limit]
    technology = intake_round.program.core_technologies.first() or CoreTechnologyFactory(
        program=intake_round.program)
    courses = [{"name": "Reaction engineering", "grade": "A", "technologies": [technology]}]
    kinds = selectors.required_documents(nomination) if documents else []
    actor = coordinator.user
    if _via_services(via_services):
        services.nomination_set_preferences(actor=actor, nomination=nomination, tracks=tracks)
        services.nomination_set_courses(actor=actor, nomination=nomination, courses=courses)
        for kind in kinds:
            services.document_upload(actor=actor, nomination=nomination, kind=kind,
                                     file=pdf_file(f"{kind}.pdf"))
    else:
        AuditEntry.objects.bulk_create([
            *_preference_rows(nomination, actor=actor, tracks=tracks),
            *_course_rows(nomination, actor=actor, courses=courses),
            *_document_rows(nomination, actor=actor, kinds=kinds),
        ])
    nomination.refresh_from_db()
    return nomination


def submitted_nomination(*, via_services=None, **kwargs):
    """A complete nomination, submitted: eligibility checked and the candidate asked for
    consent by email."""
    nomination = complete_nomination(via_services=via_services, **kwargs)
    if _via_services(via_services):
        return services.nomination_submit(actor=nomination.created_by, nomination=nomination)
    return _submit_rows(nomination, consented=False)


def upload(content: bytes, name: str):
    return SimpleUploadedFile(name, content)


def consented_nomination(*, via_services=None, **kwargs):
    """A submitted nomination whose candidate confirmed consent through the emailed link."""
    if not _via_services(via_services):
        return _submit_rows(complete_nomination(via_services=False, **kwargs), consented=True)
    nomination = submitted_nomination(via_services=True, **kwargs)
    token = services.consent_link(nomination).rstrip("/").rsplit("/", 1)[1]
    return services.consent_confirm(token=token)


def consented_round(n=4, *, seats=5, n_tracks=2, via_services=None):
    """A round taking nominations, with `n` consented candidates: (round, nominations)."""
    intake_round = open_round_with_tracks(n_tracks=n_tracks)
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=seats)
    nominations = [consented_nomination(intake_round=intake_round, gpa=f"3.{9 - i}",
                                        via_services=via_services)
                   for i in range(n)]
    return intake_round, nominations


def round_decide(intake_round):
    """Close the round's nominations, match and approve its cohort: the approved cohort."""
    close_nominations(intake_round)
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    return services.cohort_approve(actor=None,
                                   cohort=Cohort.objects.get(intake_round=intake_round))


def offer_take_up(admission):
    """The admission's candidate accepts their pending offer (before staff enrol them)."""
    offer = Offer.objects.get(nomination_id=admission.nomination_id,
                              cohort_id=admission.cohort_id, status=Offer.Status.PENDING)
    services.offer_accept(offer=offer)


def offers_accept(intake_round):
    """Each pending offer of the round accepted by its candidate (the place taken up)."""
    for offer in Offer.objects.filter(cohort__intake_round=intake_round,
                                      status=Offer.Status.PENDING).order_by("id"):
        services.offer_accept(offer=offer)


def admitted_round(n=4, *, seats=5, n_tracks=2, via_services=None, accepted=True):
    """An approved cohort of `n` consented candidates, no mentors yet: (round, nominations).
    Each has accepted their offer, unless `accepted` is False (their offers pending)."""
    intake_round, nominations = consented_round(n, seats=seats, n_tracks=n_tracks,
                                                via_services=via_services)
    round_decide(intake_round)
    if accepted:
        offers_accept(intake_round)
    return intake_round, nominations


def enrolled_round(n=3, *, enrolled_on=None, expected_graduation=None, seats=5,
                   via_services=None):
    """An approved cohort of `n` candidates, each enrolled: (round, enrolments)."""
    intake_round, nominations = admitted_round(n, seats=seats, via_services=via_services)
    enrolled_on = enrolled_on or date.today() - timedelta(days=400)
    enrolments = [
        student_services.enrolment_create(actor=None, admission=admission, semester="2025 Autumn",
                                  enrolled_on=enrolled_on,
                                  expected_graduation=expected_graduation)
        for admission in CohortAdmission.objects.filter(
            nomination__in=nominations).select_related("track", "cohort").order_by("id")
    ]
    return intake_round, enrolments


# --- the rows the services write, written directly ----------------------------------------------
# Each helper mirrors one service for a draft that has none of these rows yet, and returns the
# audit entries that service would have written, unsaved, so that a factory saves them in one go
# (in the services' order).

PDF_SHA256 = hashlib.sha256(PDF_BYTES).hexdigest()


def _preference_rows(nomination, *, actor, tracks) -> list[AuditEntry]:
    """nomination_set_preferences."""
    if not tracks:
        return []
    NominationPreference.objects.bulk_create(
        NominationPreference(nomination=nomination, track=track, rank=rank)
        for rank, track in enumerate(tracks, start=1))
    return [audit_entry_build(actor=actor, action="nomination_set_preferences",
                              target=nomination, before={"preferences": []},
                              after={"preferences": [track.pk for track in tracks]})]


def _course_rows(nomination, *, actor, courses) -> list[AuditEntry]:
    """nomination_set_courses."""
    created = NominationCourse.objects.bulk_create(
        NominationCourse(nomination=nomination, name=course["name"], grade=course["grade"])
        for course in courses)
    links = NominationCourse.technologies.through
    links.objects.bulk_create(
        links(nominationcourse_id=row.pk, coretechnology_id=technology.pk)
        for row, course in zip(created, courses, strict=True)
        for technology in course["technologies"])
    after = [[course["name"], course["grade"], sorted(t.pk for t in course["technologies"])]
             for course in courses]
    return [audit_entry_build(actor=actor, action="nomination_set_courses", target=nomination,
                              before={"courses": []}, after={"courses": after})]


def _document_rows(nomination, *, actor, kinds) -> list[AuditEntry]:
    """document_upload of the same small PDF for each kind; the files are written to storage."""
    documents = []
    for kind in kinds:
        document = NominationDocument(
            nomination=nomination, kind=kind, original_name=f"{kind}.pdf",
            content_type="application/pdf", size=len(PDF_BYTES), sha256=PDF_SHA256,
            uploaded_by=actor,
        )
        document.file.save(f"{kind}.pdf", ContentFile(PDF_BYTES), save=False)
        documents.append(document)
    NominationDocument.objects.bulk_create(documents)
    return [audit_entry_build(actor=actor, action="document_upload", target=nomination,
                              after={"document": instance_snapshot(document)})
            for document in documents]


def _submit_rows(nomination, *, consented: bool) -> Nomination:
    """nomination_submit (the eligibility verdict, the consent request and its email), then,
    when `consented`, consent_confirm."""
    now = timezone.now()
    actor = nomination.created_by
    nomination.status, nomination.submitted_at = Nomination.Status.SUBMITTED, now
    entries = [audit_entry_build(actor=actor, action="nomination_submit", target=nomination,
                                 before={"status": Nomination.Status.DRAFT},
                                 after={"status": Nomination.Status.SUBMITTED})]
    preferences = list(nomination.preferences.select_related("track").order_by("rank"))
    verdict = eligibility.evaluate(
        nomination, EligibilityPolicy.objects.filter(
            program_id=nomination.intake_round.program_id).first(),
        today=timezone.localdate(now), preferences=preferences,
        courses=list(nomination.courses.prefetch_related("technologies")))
    if (nomination.is_eligible, nomination.eligibility_reasons) != (verdict.eligible,
                                                                    verdict.reasons):
        entries.append(audit_entry_build(
            actor=None, action="nomination_eligibility", target=nomination,
            before={"is_eligible": nomination.is_eligible,
                    "reasons": nomination.eligibility_reasons},
            after={"is_eligible": verdict.eligible, "reasons": verdict.reasons}))
    nomination.is_eligible, nomination.eligibility_reasons = verdict.eligible, verdict.reasons
    nomination.eligibility_checked_at = now
    nomination.consent_requested_at = now
    nomination.consent_given_at = nomination.consent_reminded_at = None
    entries.append(audit_entry_build(actor=actor, action="nomination_consent_request",
                                     target=nomination,
                                     after={"consent_requested_at": now, "reset": False}))
    # The link in the email carries the fingerprint of the state before consent is given.
    email_queue(
        to=nomination.email, language=nomination.candidate_language,
        template="consent_request", topic="consent_request",
        context={"nomination": nomination, "preferences": preferences,
                 "link": services.consent_link(nomination),
                 "page_link": candidate_page_link(nomination),
                 "days": settings.ECOCYCLE_CONSENT_LINK_DAYS,
                 "program": nomination.intake_round.program,
                 "university": nomination.university},
    )
    if consented:
        nomination.consent_given_at = timezone.now()
        entries.append(audit_entry_build(
            actor=None, actor_label="candidate (consent link)", action="nomination_consent_give",
            target=nomination, before={"consent_given_at": None},
            after={"consent_given_at": nomination.consent_given_at}))
    nomination.save(update_fields=[
        "status", "submitted_at", "is_eligible", "eligibility_reasons", "eligibility_checked_at",
        "consent_requested_at", "consent_given_at", "consent_reminded_at", "updated_at"])
    AuditEntry.objects.bulk_create(entries)
    nomination.refresh_from_db()
    return nomination
