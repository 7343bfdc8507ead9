import factory

from mentors.models import Mentor
from tests.candidates.factories import admitted_round  # noqa: F401  (re-exported)


class MentorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mentor

    full_name = factory.Sequence(lambda n: f"Dr. Mentor {n}")
    email = factory.Sequence(lambda n: f"mentor{n}@retired.example")
    language = "ko"
    languages_spoken = "ko,en"
    travel_countries = ["ID"]
    capacity = 2

