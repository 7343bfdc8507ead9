"""Demo mentors: illustrative retired KITECH scientists (invented people), and their invitations
for the demo's approved cohorts. Idempotent."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from candidates.models import Cohort
from ecocycle.models import User
from programs.models import CoreTechnology

from .models import Mentor, MentorAssignment, MentoringActivity
from .services import (
    invitation_answer,
    invitation_link,
    invitations_send,
    mentor_create,
    mentor_match_run,
    mentoring_activity_record,
)

MENTORS = [
    # name, email, retired from, expertise (core technology names), keywords, languages, travel
    ("Dr. Kim Young-soo", "mentor@kitech.test", "KITECH Green Process R&D",
     ["Palm-oil transesterification", "Heterogeneous catalysts for biofuels"],
     "catalysis, reactors", "ko,en", ["ID"], 3),
    ("Dr. Lee Jung-hee", "lee.mentor@retired.example", "KITECH Clean Energy R&D",
     ["Biodiesel quality control", "Palm-oil mill effluent valorisation"],
     "analysis, biogas", "ko,en,id", ["ID"], 2),
    ("Dr. Choi Byung-ho", "choi.mentor@retired.example", "KITECH Molding and Metal Forming R&D",
     ["Precision die casting", "Casting and moulding simulation"],
     "die casting, solidification", "ko,en", ["VN"], 3),
    ("Dr. Jang Mi-kyung", "jang.mentor@retired.example", "KITECH Surface Technology R&D",
     ["Surface treatment and plating", "Injection mould design"],
     "plating, polymers", "ko,en,vi", ["VN", "ID"], 2),
]


@transaction.atomic
def build_mentors() -> None:
    for name, email, retired, expertise, keywords, languages, travel, capacity in MENTORS:
        if Mentor.objects.filter(email=email).exists():
            continue
        mentor_create(actor=None, data={
            "full_name": name, "email": email, "retired_from": retired, "keywords": keywords,
            "languages_spoken": languages, "travel_countries": travel, "capacity": capacity,
            "user": User.objects.filter(email=email).first(),
            "expertise": list(CoreTechnology.objects.filter(name__in=expertise)),
            "biography": "Illustrative profile of a retired KITECH researcher.",
        })


def build_invitations(*, now=None) -> int:
    """Mentors for the demo's approved cohorts: proposed, invited; one mentorship per round
    accepted with a first online meeting, the rest left waiting for the mentors' answer."""
    now = now or timezone.now()
    invited = 0
    for cohort in Cohort.objects.filter(status=Cohort.Status.APPROVED).select_related(
            "intake_round"):
        intake_round = cohort.intake_round
        if MentorAssignment.objects.filter(nomination__intake_round=intake_round).exists():
            continue
        with transaction.atomic():
            mentor_match_run(intake_round=intake_round, trigger="command", now=now)
            invited += invitations_send(intake_round_id=intake_round.pk, now=now)
            first = (MentorAssignment.objects.filter(nomination__intake_round=intake_round,
                                                     status=MentorAssignment.Status.INVITED)
                     .exclude(mentor__email="mentor@kitech.test")
                     .select_related("mentor__user").order_by("id").first())
            if first is None:
                continue
            token = invitation_link(first).rstrip("/").rsplit("/", 1)[1]
            accepted = invitation_answer(token=token, accept=True, now=now)
            if accepted.mentor.user is not None:
                mentoring_activity_record(
                    actor=accepted.mentor.user, assignment=accepted,
                    date=timezone.localdate(now) - timedelta(days=3),
                    mode=MentoringActivity.Mode.ONLINE,
                    notes="First video call: study plan and arrival in Korea.", now=now)
    return invited
