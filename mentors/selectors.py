"""Reads of the mentors domain, scoped to what the user may see, with joins applied."""

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.http import Http404

from candidates.models import Nomination
from candidates.selectors import admitted_nominations
from ecocycle.models import User
from programs.models import IntakeRound

from .models import Mentor, MentorAssignment, MentoringActivity

Status = MentorAssignment.Status
# A mentor with this many seats left or fewer is "near capacity" on the staff page.
NEAR_CAPACITY_SEATS = 1


def mentor_for_user(user: User) -> Mentor | None:
    if not user.is_authenticated or not user.is_mentor:
        return None
    return Mentor.objects.filter(user=user).prefetch_related("expertise").first()


def _assignments() -> QuerySet[MentorAssignment]:
    return MentorAssignment.objects.select_related(
        "mentor", "nomination__university", "nomination__intake_round__program",
        "nomination__admission__track",
    )


def assignment_list_for_mentor(mentor: Mentor) -> QuerySet[MentorAssignment]:
    """The mentor's invitations and mentees, newest first, with their meetings."""
    return _assignments().filter(mentor=mentor).prefetch_related(
        Prefetch("activities", queryset=MentoringActivity.objects.order_by("-date", "-id"))
    ).order_by("-created_at", "-id")


def assignment_get_for_mentor(mentor: Mentor | None, pk: int) -> MentorAssignment:
    """One of the mentor's own assignments; 404 for anybody else's."""
    if mentor is None:
        raise Http404
    assignment = _assignments().filter(mentor=mentor, pk=pk).first()
    if assignment is None:
        raise Http404
    return assignment


def mentor_list_with_load() -> list[Mentor]:
    """Every mentor with `accepted`, `pending` (proposed or invited), `seats_left` and
    `near_capacity`, in a fixed number of queries."""
    mentors = list(
        Mentor.objects.annotate(
            accepted=Count("assignments", filter=Q(assignments__status=Status.ACCEPTED)),
            pending=Count("assignments", filter=Q(
                assignments__status__in=[Status.PROPOSED, Status.INVITED])),
        ).prefetch_related("expertise").order_by("full_name", "id")
    )
    for mentor in mentors:
        mentor.seats_left = max(mentor.capacity - mentor.accepted - mentor.pending, 0)
        mentor.near_capacity = mentor.is_active and mentor.seats_left <= NEAR_CAPACITY_SEATS
    return mentors


def mentor_get(pk: int) -> Mentor:
    mentor = Mentor.objects.prefetch_related("expertise").filter(pk=pk).first()
    if mentor is None:
        raise Http404
    return mentor


def assignment_list_for_staff(
    *, intake_round: IntakeRound | None = None, mentor: Mentor | None = None,
    status: str | None = None,
) -> QuerySet[MentorAssignment]:
    qs = _assignments().annotate(
        activity_count=Count("activities"), last_activity=Max("activities__date"))
    if intake_round is not None:
        qs = qs.filter(nomination__intake_round=intake_round)
    if mentor is not None:
        qs = qs.filter(mentor=mentor)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("nomination__family_name", "nomination__given_names", "-created_at", "-id")


def assignment_get_for_staff(pk: int) -> MentorAssignment:
    assignment = _assignments().filter(pk=pk).first()
    if assignment is None:
        raise Http404
    return assignment


def candidates_without_mentor(intake_round: IntakeRound) -> QuerySet[Nomination]:
    """Admitted candidates of the round with no proposed, invited or accepted mentor."""
    return (
        admitted_nominations(intake_round)
        .exclude(mentor_assignments__status__in=MentorAssignment.ACTIVE)
        .select_related("university", "admission__track")
        .order_by("family_name", "given_names", "id")
    )


@dataclass
class CohortActivity:
    """The mentoring log of one round's cohort, for staff."""

    meetings: int = 0
    by_mode: Counter = field(default_factory=Counter)
    mentored: int = 0  # accepted mentorships
    with_meeting: int = 0  # accepted mentorships with at least one meeting


def status_counts(intake_round: IntakeRound) -> dict[str, int]:
    counts = dict.fromkeys(Status.values, 0)
    counts.update(MentorAssignment.objects.filter(nomination__intake_round=intake_round)
                  .values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return counts


def cohort_activity(intake_round: IntakeRound) -> CohortActivity:
    activity = CohortActivity()
    for mode, count in (MentoringActivity.objects
                        .filter(assignment__nomination__intake_round=intake_round)
                        .values_list("mode").annotate(n=Count("id")).values_list("mode", "n")):
        activity.by_mode[mode] = count
        activity.meetings += count
    accepted = MentorAssignment.objects.filter(nomination__intake_round=intake_round,
                                               status=Status.ACCEPTED)
    activity.mentored = accepted.count()
    activity.with_meeting = accepted.filter(activities__isnull=False).distinct().count()
    return activity


def rounds_with_admissions() -> QuerySet[IntakeRound]:
    """Rounds whose cohort is approved, each with `admitted` counted."""
    return (
        IntakeRound.objects.filter(cohort__status="approved")
        .select_related("program")
        .annotate(admitted=Count("cohort__admissions", distinct=True))
        .order_by("program__name", "-created_at")
    )


def mentors_with_seats_left() -> list[Mentor]:
    """Active mentors who can still be proposed, with `seats_left`, for staff's propose forms."""
    return [mentor for mentor in mentor_list_with_load()
            if mentor.is_active and mentor.seats_left > 0]


def _alumni_mentors(*, program, country: str | None) -> QuerySet[Mentor]:
    # Alumni mentors: profiles linked to a former student's enrolment and confirmed by staff.
    qs = Mentor.objects.filter(alumnus__isnull=False, confirmed_at__isnull=False)
    if program is not None:
        qs = qs.filter(alumnus__nomination__intake_round__program=program)
    if country:
        qs = qs.filter(alumnus__nomination__intake_round__program__country=country)
    return qs


def alumni_mentor_count(*, program=None, country: str | None = None) -> int:
    """How many alumni became mentors (confirmed by staff), of one program's or one partner
    country's students, or of all. One query."""
    return _alumni_mentors(program=program, country=country).count()


def alumni_mentor_counts(*, by: str, program=None, country: str | None = None) -> dict:
    """`alumni_mentor_count` for every program (`by="program"`: program id -> count) or every
    partner country (`by="country"`: country code -> count) at once. One query."""
    key = {"program": "alumnus__nomination__intake_round__program",
           "country": "alumnus__nomination__intake_round__program__country"}[by]
    return dict(_alumni_mentors(program=program, country=country)
                .values_list(key).annotate(n=Count("id")).values_list(key, "n").order_by())


def alumni_mentors_to_confirm() -> QuerySet[Mentor]:
    """Profiles made from alumni's offers to mentor, waiting for staff to confirm them."""
    return (Mentor.objects.filter(alumnus__isnull=False, confirmed_at__isnull=True)
            .select_related("alumnus__nomination__university",
                            "alumnus__nomination__intake_round__program")
            .order_by("created_at", "id"))
