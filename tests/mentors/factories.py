import factory

from mentors.models import Mentor


class MentorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mentor

    full_name = factory.Sequence(lambda n: f"Dr. Mentor {n}")
    email = factory.Sequence(lambda n: f"mentor{n}@retired.example")
    language = "ko"
    languages_spoken = "ko,en"
    travel_countries = ["ID"]
    capacity = 2


def admitted_round(n=4, *, seats=5, n_tracks=2):
    """An approved cohort of `n` consented candidates, no mentors yet: (round, nominations)."""
    from candidates import services
    from candidates.models import Cohort
    from programs.models import RoundTrack
    from tests.candidates.factories import consented_nomination, open_round_with_tracks

    intake_round = open_round_with_tracks(n_tracks=n_tracks)
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=seats)
    nominations = [consented_nomination(intake_round=intake_round, gpa=f"3.{9 - i}")
                   for i in range(n)]
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    services.cohort_approve(actor=None, cohort=Cohort.objects.get(intake_round=intake_round))
    return intake_round, nominations
