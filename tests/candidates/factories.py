"""Factories for nominations. `complete_nomination` builds a draft that can be submitted."""

from datetime import date, timedelta

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from candidates import selectors, services
from candidates.models import Cohort, CohortAdmission, EligibilityPolicy, Nomination
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

# The smallest file each type's content check accepts.
PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
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
        nomination = super()._create(model_class, *args, **kwargs)
        for name, value in services.nomination_derived_fields(nomination).items():
            setattr(nomination, name, value)
        nomination.save()
        return nomination


def open_round_with_tracks(n_tracks=3, **round_kwargs):
    intake_round = IntakeRoundFactory(**round_kwargs)
    for _ in range(n_tracks):
        RoundTrackFactory(intake_round=intake_round,
                          track=DegreeTrackFactory(program=intake_round.program))
    EligibilityPolicyFactory(program=intake_round.program)
    return intake_round


def complete_nomination(*, coordinator=None, intake_round=None, documents=True, **fields):
    """A draft with preferences, one related course and every required document."""
    intake_round = intake_round or open_round_with_tracks()
    if coordinator is None:
        coordinator = CoordinatorFactory()
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university)
    nomination = NominationFactory(intake_round=intake_round, university=coordinator.university,
                                   created_by=coordinator.user, **fields)
    tracks = [rt.track for rt in RoundTrack.objects.filter(intake_round=intake_round)
              .select_related("track").order_by("id")][: intake_round.preference_limit]
    services.nomination_set_preferences(actor=coordinator.user, nomination=nomination,
                                        tracks=tracks)
    technology = intake_round.program.core_technologies.first() or CoreTechnologyFactory(
        program=intake_round.program)
    services.nomination_set_courses(actor=coordinator.user, nomination=nomination, courses=[
        {"name": "Reaction engineering", "grade": "A", "technologies": [technology]},
    ])
    if documents:
        for kind in selectors.required_documents(nomination):
            services.document_upload(actor=coordinator.user, nomination=nomination, kind=kind,
                                     file=pdf_file(f"{kind}.pdf"))
    nomination.refresh_from_db()
    return nomination


def submitted_nomination(**kwargs):
    nomination = complete_nomination(**kwargs)
    return services.nomination_submit(actor=nomination.created_by, nomination=nomination)


def upload(content: bytes, name: str):
    return SimpleUploadedFile(name, content)



def consented_nomination(**kwargs):
    """A submitted nomination whose candidate confirmed consent through the emailed link."""
    nomination = submitted_nomination(**kwargs)
    token = services.consent_link(nomination).rstrip("/").rsplit("/", 1)[1]
    return services.consent_confirm(token=token)


def consented_round(n=4, *, seats=5, n_tracks=2):
    """A round taking nominations, with `n` consented candidates: (round, nominations)."""
    intake_round = open_round_with_tracks(n_tracks=n_tracks)
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=seats)
    nominations = [consented_nomination(intake_round=intake_round, gpa=f"3.{9 - i}")
                   for i in range(n)]
    return intake_round, nominations


def round_decide(intake_round):
    """Close the round's nominations, match and approve its cohort: the approved cohort."""
    close_nominations(intake_round)
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    return services.cohort_approve(actor=None,
                                   cohort=Cohort.objects.get(intake_round=intake_round))


def admitted_round(n=4, *, seats=5, n_tracks=2):
    """An approved cohort of `n` consented candidates, no mentors yet: (round, nominations)."""
    intake_round, nominations = consented_round(n, seats=seats, n_tracks=n_tracks)
    round_decide(intake_round)
    return intake_round, nominations


def enrolled_round(n=3, *, enrolled_on=None, expected_graduation=None, seats=5):
    """An approved cohort of `n` candidates, each enrolled: (round, enrolments)."""
    intake_round, nominations = admitted_round(n, seats=seats)
    enrolled_on = enrolled_on or date.today() - timedelta(days=400)
    enrolments = [
        student_services.enrolment_create(actor=None, admission=admission, semester="2025 Autumn",
                                  enrolled_on=enrolled_on,
                                  expected_graduation=expected_graduation)
        for admission in CohortAdmission.objects.filter(
            nomination__in=nominations).select_related("track", "cohort").order_by("id")
    ]
    return intake_round, enrolments
