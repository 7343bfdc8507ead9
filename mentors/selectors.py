"""Reads of the mentors domain, scoped to what the user may see, with joins applied."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from operator import or_

from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Greatest
from django.db.models.lookups import GreaterThanOrEqual
from django.http import Http404

from candidates.models import CohortAdmission, Nomination, NominationCourse
from candidates.scoring import words
from candidates.selectors import taken_up_nominations
from ecocycle.models import User
from programs.models import DegreeTrack, IntakeRound

from . import fit as mentor_fit
from .models import Mentor, MentorAssignment, MentoringActivity

Status = MentorAssignment.Status
# "Near capacity" on the staff page: an active mentor with at least one mentee (accepted, or
# proposed or invited: those hold a seat too) whose mentees take this share of their capacity or
# more. A mentor with nobody yet is never near capacity, whatever the capacity.
NEAR_CAPACITY_PERCENT = 80


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


def mentor_list_with_load(*, near_only: bool = False) -> QuerySet[Mentor]:
    """Mentors with `accepted`, `pending` (proposed or invited), `seats_left` and
    `near_capacity` (see NEAR_CAPACITY_PERCENT) computed by the database, by name;
    `near_only`: those near capacity.
    A page of them costs two queries (and one for their expertise), whatever their number."""
    qs = Mentor.objects.annotate(
        accepted=Count("assignments", filter=Q(assignments__status=Status.ACCEPTED)),
        pending=Count("assignments", filter=Q(
            assignments__status__in=[Status.PROPOSED, Status.INVITED])),
    ).annotate(
        load=F("accepted") + F("pending"),
        seats_left=Greatest(F("capacity") - F("accepted") - F("pending"), Value(0)),
    ).annotate(
        near_capacity=Case(When(
            Q(is_active=True, load__gte=1)
            & GreaterThanOrEqual(F("load") * 100, F("capacity") * NEAR_CAPACITY_PERCENT),
            then=Value(True)), default=Value(False), output_field=BooleanField()),
    )
    if near_only:
        qs = qs.filter(near_capacity=True)
    return qs.prefetch_related("expertise").order_by("full_name", "id")


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
    """Candidates of the round who accepted their place and have no proposed, invited or
    accepted mentor."""
    return (
        taken_up_nominations(intake_round)
        .exclude(mentor_assignments__status__in=MentorAssignment.ACTIVE)
        .select_related("university", "admission__track")
        # Not shown, and decrypting it for every row would be much of the page's time.
        .defer("passport_number")
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


def mentors_matchable(today: date) -> QuerySet[Mentor]:
    """Active mentors available `today`, with the seats they have taken annotated (`taken`): whom
    the nightly matching and staff may propose. An alumnus's offer counts only once staff have
    confirmed it."""
    return (
        Mentor.objects.filter(is_active=True)
        .filter(Q(alumnus__isnull=True) | Q(confirmed_at__isnull=False))
        .filter(Q(available_from__isnull=True) | Q(available_from__lte=today))
        .filter(Q(available_until__isnull=True) | Q(available_until__gte=today))
        .annotate(taken=Count("assignments", filter=Q(
            assignments__status__in=MentorAssignment.ACTIVE)))
    )


def _proposable_mentors(today: date) -> QuerySet[Mentor]:
    """mentors_matchable with a seat left."""
    return mentors_matchable(today).filter(capacity__gt=F("taken"))


def mentors_available(today: date) -> bool:
    """Whether any mentor can still be proposed. One query, whatever the number of mentors."""
    return _proposable_mentors(today).exists()


# The most mentors one search answers with, however many fit.
MENTOR_OPTIONS_LIMIT = 20


def admitted_candidate_get(intake_round: IntakeRound, pk: int) -> Nomination:
    """One admitted candidate of the round (with or without a mentor); 404 for anybody else."""
    nomination = taken_up_nominations(intake_round).filter(pk=pk).first()
    if nomination is None:
        raise Http404
    return nomination


def _mentee_facts(nomination: Nomination) -> mentor_fit.MenteeFacts:
    """The candidate's side of `mentor_fit.fit`, as the nightly matching builds it."""
    technologies = set(NominationCourse.technologies.through.objects.filter(
        nominationcourse__nomination=nomination).values_list("coretechnology_id", flat=True))
    track_id = (CohortAdmission.objects.filter(nomination=nomination)
                .values_list("track_id", flat=True).first())
    if track_id is not None:
        technologies |= set(DegreeTrack.wanted_technologies.through.objects.filter(
            degreetrack_id=track_id).values_list("coretechnology_id", flat=True))
    return mentor_fit.MenteeFacts(
        nomination_id=nomination.pk, country=str(nomination.nationality),
        languages=mentor_fit.mentee_languages(nomination.candidate_language,
                                              nomination.language_test),
        technology_ids=frozenset(technologies), interest_words=words(
            nomination.research_interests),
        university_id=nomination.university_id,
        program_id=nomination.intake_round.program_id,
    )


def _mentor_facts(mentors: QuerySet[Mentor]) -> list[tuple[mentor_fit.MentorFacts, str, int]]:
    """(facts, name, seats left) of each mentor, from plain rows: no model instances, as the
    search weighs every mentor who passes its filters."""
    ids = mentors.values("pk")
    technologies = defaultdict(set)
    tech_words = {}
    for mentor_id, technology_id, name in Mentor.expertise.through.objects.filter(
        mentor_id__in=ids,
    ).values_list("mentor_id", "coretechnology_id", "coretechnology__name"):
        technologies[mentor_id].add(technology_id)
        tech_words.setdefault(technology_id, words(name))
    current = defaultdict(lambda: (set(), set()))
    for mentor_id, university_id, program_id in MentorAssignment.objects.filter(
        status__in=MentorAssignment.ACTIVE, mentor_id__in=ids,
    ).values_list("mentor_id", "nomination__university_id",
                  "nomination__intake_round__program_id"):
        current[mentor_id][0].add(university_id)
        current[mentor_id][1].add(program_id)
    out = []
    for pk, name, spoken, keywords, travel, capacity, taken in mentors.values_list(
        "pk", "full_name", "languages_spoken", "keywords", "travel_countries", "capacity",
        "taken",
    ):
        mine = technologies[pk]
        out.append((mentor_fit.MentorFacts(
            mentor_id=pk,
            languages=frozenset(c.strip().lower() for c in spoken.split(",") if c.strip()),
            technology_ids=frozenset(mine),
            keyword_words=words(keywords).union(*(tech_words[t] for t in mine)),
            travel_countries=frozenset(c for c in (travel or "").split(",") if c),
            universities=frozenset(current[pk][0]), programs=frozenset(current[pk][1]),
        ), name, capacity - taken))
    return out


def mentor_options_for_candidate(nomination: Nomination, *, today: date, query: str = "",
                                 limit: int = 10) -> list[Mentor]:
    """The mentors staff may propose for one candidate, best fits first (then by name): active,
    available, with a seat left, sharing a language with the candidate, never asked for them
    before, and, given `query`, whose name contains it. Each has `seats_left` and `fit`.

    At most `limit` (capped at MENTOR_OPTIONS_LIMIT); eight queries, whatever the numbers of
    candidates and mentors, and work proportional to the mentors who pass the filters.
    """
    limit = max(1, min(limit, MENTOR_OPTIONS_LIMIT))
    mentee = _mentee_facts(nomination)
    # languages_spoken is a comma-separated list of two-letter codes: the database narrows by
    # substring, `fit` decides.
    qs = (_proposable_mentors(today)
          .filter(reduce(or_, (Q(languages_spoken__icontains=code)
                               for code in sorted(mentee.languages))))
          .exclude(assignments__nomination=nomination))
    if query:
        qs = qs.filter(full_name__icontains=query)
    scored = []
    for facts, name, seats_left in _mentor_facts(qs):
        weighed = mentor_fit.fit(mentee, facts)
        if weighed is not None:
            scored.append((-weighed[0], name, facts.mentor_id, seats_left))
    best = sorted(scored)[:limit]
    mentors = Mentor.objects.in_bulk([pk for _w, _n, pk, _s in best])
    for weight, _name, pk, seats_left in best:
        mentors[pk].fit, mentors[pk].seats_left = -weight, seats_left
    return [mentors[pk] for _w, _n, pk, _s in best]


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
