from datetime import timedelta

import factory
from django.utils import timezone

from candidates.models import Coordinator
from programs.models import (
    CoreTechnology,
    DegreeTrack,
    IntakeRound,
    Program,
    ProgramUniversity,
    RoundMilestone,
    RoundTrack,
    University,
)
from tests.kernel.factories import UserFactory


class UniversityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = University

    name = factory.Sequence(lambda n: f"Partner University {n}")
    country = "ID"
    city = "Bandung"
    email_domain = factory.Sequence(lambda n: f"uni{n}.example")


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    name = factory.Sequence(lambda n: f"Program {n}")
    country = "ID"
    industry = "Palm oil and biofuels"
    status = Program.Status.ACTIVE


class CoreTechnologyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoreTechnology

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Technology {n}")


class ProgramUniversityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramUniversity
        django_get_or_create = ("program", "university")

    program = factory.SubFactory(ProgramFactory)
    university = factory.SubFactory(UniversityFactory)
    nomination_quota = 5


class DegreeTrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DegreeTrack

    program = factory.SubFactory(ProgramFactory)
    level = DegreeTrack.Level.MASTERS
    major = factory.Sequence(lambda n: f"Major {n}")
    department = "Green Process and Materials R&D Department"
    campus = DegreeTrack.Campus.ULSAN
    supervisor_name = "Dr. Example"
    supervisor_email = factory.Sequence(lambda n: f"supervisor{n}@example.test")
    seats = 2


class IntakeRoundFactory(factory.django.DjangoModelFactory):
    """A round whose nominations opened `opened_days_ago` days ago (default: open now)."""

    class Meta:
        model = IntakeRound
        skip_postgeneration_save = True

    class Params:
        opened_days_ago = 7

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Round {n}")

    @factory.post_generation
    def milestones(obj, create, extracted, **kwargs):
        if not create:
            return
        start = timezone.now() - timedelta(days=kwargs.get("opened_days_ago", 7))
        dates = extracted if extracted is not None else {
            RoundMilestone.Kind.NOMINATIONS_OPEN: start,
            RoundMilestone.Kind.NOMINATIONS_CLOSE: start + timedelta(days=30),
            RoundMilestone.Kind.MATCHING: start + timedelta(days=37),
            RoundMilestone.Kind.DECISIONS: start + timedelta(days=50),
            RoundMilestone.Kind.ENROLMENT: start + timedelta(days=120),
        }
        for kind, at in dates.items():
            RoundMilestone.objects.create(intake_round=obj, kind=kind, at=at)


def close_nominations(intake_round, *, ago=timedelta(0)):
    """Move the round's nomination deadline to now (`ago` before), its other milestones kept: the
    round is then in its screening phase, where the matching runs and the cohort is approved.
    A fixture, as the factory's milestones are; staff use intake_round_close_nominations."""
    RoundMilestone.objects.filter(
        intake_round=intake_round, kind=RoundMilestone.Kind.NOMINATIONS_CLOSE,
    ).update(at=timezone.now() - ago)
    getattr(intake_round, "_prefetched_objects_cache", {}).pop("milestones", None)
    return intake_round


class RoundTrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoundTrack

    intake_round = factory.SubFactory(IntakeRoundFactory)
    track = factory.SubFactory(
        DegreeTrackFactory, program=factory.SelfAttribute("..intake_round.program")
    )
    seats = 2


class CoordinatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coordinator

    user = factory.SubFactory(UserFactory)
    university = factory.SubFactory(UniversityFactory)
    timezone = "Asia/Jakarta"


class PartnerCompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "programs.PartnerCompany"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Partner Company {n}")
    kind = "onshore"
    sector = "Precision casting"
    size_band = "small"
    country = "KR"
    region = "Gyeonggi"
    openings_per_year = 2
    contact_name = "Ms. Park"
    contact_email = factory.Sequence(lambda n: f"hr{n}@company.example")
    contact_language = "ko"

    @factory.post_generation
    def technologies(self, create, extracted, **kwargs):
        if create and extracted:
            self.technologies.set(extracted)

    @factory.post_generation
    def programs(self, create, extracted, **kwargs):
        if create and extracted:
            self.programs.set(extracted)
