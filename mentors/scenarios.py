"""Demo mentors: illustrative retired KITECH scientists (invented people), and their invitations
for the demo's approved cohorts. Idempotent."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from candidates.models import Cohort, MatchRun
from ecocycle.models import User
from programs.models import CoreTechnology
from programs.scenarios import PAST_ROUND_NAME

from .models import Mentor, MentorAssignment, MentoringActivity
from .services import (
    alumni_mentor_profiles_create,
    invitation_answer,
    invitation_link,
    invitations_send,
    mentor_confirm,
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
    ("Dr. Oh Sang-wook", "oh.mentor@retired.example", "KITECH Smart Manufacturing R&D",
     ["Smart factory for moulding lines", "Casting and moulding simulation"],
     "automation, simulation", "ko,en", ["VN"], 3),
    ("Dr. Ryu Hye-sun", "ryu.mentor@retired.example", "KITECH Carbon Neutral Technology R&D",
     ["Process scale-up and plant engineering", "Biodiesel quality control"],
     "scale-up, membranes", "ko,en,id", ["ID"], 3),
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
    """Mentors for the demo's approved cohorts. The latest round: proposed and invited, one
    mentorship per program accepted with a first online meeting, the rest left waiting for the
    mentors' answer. Earlier rounds' students (those still studying) have accepted mentors."""
    now = now or timezone.now()
    invited = 0
    for cohort in Cohort.objects.filter(status=Cohort.Status.APPROVED).select_related(
            "intake_round").order_by("intake_round__created_at", "id"):
        intake_round = cohort.intake_round
        if MatchRun.objects.filter(intake_round=intake_round, kind=MatchRun.Kind.MENTOR).exists():
            continue
        with transaction.atomic():
            mentor_match_run(intake_round=intake_round, trigger="command", now=now)
            invited += invitations_send(intake_round_id=intake_round.pk, now=now)
            if intake_round.name != PAST_ROUND_NAME:
                for assignment in MentorAssignment.objects.filter(
                        nomination__intake_round=intake_round,
                        status=MentorAssignment.Status.INVITED).order_by("id"):
                    token = invitation_link(assignment).rstrip("/").rsplit("/", 1)[1]
                    invitation_answer(token=token, accept=True, now=now)
                continue
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


def build_alumni_mentors(*, now=None) -> int:
    """Alumni who offered to mentor get their profile; the first is confirmed by staff."""
    created = alumni_mentor_profiles_create(now=now)
    first = Mentor.objects.filter(alumnus__isnull=False, confirmed_at__isnull=True).order_by(
        "id").first()
    staff = User.objects.filter(role=User.Role.STAFF, is_active=True).order_by("id").first()
    if first is not None and staff is not None and not Mentor.objects.filter(
            alumnus__isnull=False, confirmed_at__isnull=False).exists():
        mentor_confirm(actor=staff, mentor=first, now=now)
    return created
