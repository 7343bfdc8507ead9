"""Mentor matching: optimal proposals for admitted candidates without a mentor."""

import json
import time
from collections import defaultdict
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from candidates.models import CohortAdmission, MatchRun, NominationCourse
from candidates.scoring import words
from candidates.selectors import admitted_nominations
from ecocycle.bulk import bulk_insert, prepared_datetime
from ecocycle.locks import exclusive_job
from ecocycle.matching import assign_optimal
from ecocycle.models import AuditEntry, User
from ecocycle.services import audit_entry_build
from ecocycle.writes import short_transaction
from programs.models import DegreeTrack, IntakeRound
from students.models import Enrolment

from .. import fit as mentor_fit
from ..models import Mentor, MentorAssignment
from ..selectors import mentors_matchable


def _mentees(intake_round: IntakeRound) -> list[mentor_fit.MenteeFacts]:
    """Admitted candidates of the round without a live assignment, as plain facts."""
    rows = list(
        admitted_nominations(intake_round)
        .exclude(mentor_assignments__status__in=MentorAssignment.ACTIVE)
        # Students who graduated or left need no new mentor.
        .exclude(enrolment__status__in=[Enrolment.Status.GRADUATED, Enrolment.Status.WITHDRAWN])
        .order_by("id")
        .values_list("id", "nationality", "candidate_language", "language_test",
                     "research_interests", "university_id")
    )
    ids = [row[0] for row in rows]
    technologies = defaultdict(set)
    links = NominationCourse.technologies.through.objects.filter(
        nominationcourse__nomination_id__in=ids)
    for nomination_id, technology_id in links.values_list("nominationcourse__nomination_id",
                                                          "coretechnology_id"):
        technologies[nomination_id].add(technology_id)
    tracks = dict(CohortAdmission.objects.filter(nomination_id__in=ids)
                  .values_list("nomination_id", "track_id"))
    wanted = defaultdict(set)
    for track_id, technology_id in DegreeTrack.wanted_technologies.through.objects.filter(
        degreetrack_id__in=set(tracks.values())
    ).values_list("degreetrack_id", "coretechnology_id"):
        wanted[track_id].add(technology_id)
    return [
        mentor_fit.MenteeFacts(
            nomination_id=pk, country=str(country),
            languages=mentor_fit.mentee_languages(language, test),
            technology_ids=frozenset(technologies[pk] | wanted[tracks.get(pk)]),
            interest_words=words(interests), university_id=university_id,
            program_id=intake_round.program_id,
        )
        for pk, country, language, test, interests, university_id in rows
    ]


def _mentors(today) -> tuple[list[mentor_fit.MentorFacts], dict[int, int]]:
    """Active, available mentors with seats left, and how many seats each has left."""
    mentors = list(mentors_matchable(today).prefetch_related("expertise").order_by("id"))
    current = defaultdict(lambda: (set(), set()))
    for mentor_id, university_id, program_id in MentorAssignment.objects.filter(
        status__in=MentorAssignment.ACTIVE
    ).values_list("mentor_id", "nomination__university_id",
                  "nomination__intake_round__program_id"):
        current[mentor_id][0].add(university_id)
        current[mentor_id][1].add(program_id)
    facts, capacities = [], {}
    for mentor in mentors:
        left = mentor.capacity - mentor.taken
        if left <= 0:
            continue
        capacities[mentor.pk] = left
        facts.append(mentor_fit.MentorFacts(
            mentor_id=mentor.pk, languages=mentor.language_codes,
            technology_ids=frozenset(t.pk for t in mentor.expertise.all()),
            keyword_words=words(mentor.keywords + " " + " ".join(
                t.name for t in mentor.expertise.all())),
            travel_countries=frozenset(str(c) for c in mentor.travel_countries),
            universities=frozenset(current[mentor.pk][0]),
            programs=frozenset(current[mentor.pk][1]),
        ))
    return facts, capacities


def _proposals(intake_round: IntakeRound, now: datetime):
    """The optimal proposals (nomination id -> mentor id), each pair's fit, and the counts."""
    mentees = _mentees(intake_round)
    mentors, capacities = _mentors(timezone.localdate(now))
    refused = set(MentorAssignment.objects.filter(
        nomination_id__in=[m.nomination_id for m in mentees]
    ).exclude(status__in=MentorAssignment.ACTIVE).values_list("nomination_id", "mentor_id"))
    fits, parts = [], {}
    for mentee in mentees:
        for mentor in mentors:
            if (mentee.nomination_id, mentor.mentor_id) in refused:
                continue
            scored = mentor_fit.fit(mentee, mentor)
            if scored is None:
                continue
            fits.append((mentee.nomination_id, mentor.mentor_id, scored[0]))
            parts[(mentee.nomination_id, mentor.mentor_id)] = scored
    assignment = assign_optimal(fits, capacities)
    counts = {"candidates": len(mentees), "mentors": len(mentors), "pairs": len(fits),
              "proposed": len(assignment), "without_mentor": len(mentees) - len(assignment)}
    return assignment, parts, counts


def _still_free(assignment: dict[int, int]) -> dict[int, int]:
    """The proposals that still hold, read under the write lock: a candidate given a mentor, or
    a mentor's last seat taken, since the proposals were computed is left for the next run."""
    taken = set(MentorAssignment.objects.filter(
        nomination_id__in=list(assignment), status__in=MentorAssignment.ACTIVE,
    ).values_list("nomination_id", flat=True))
    left = {
        pk: capacity - active for pk, capacity, active in Mentor.objects.filter(
            pk__in=set(assignment.values())).annotate(active=Count(
                "assignments", filter=Q(assignments__status__in=MentorAssignment.ACTIVE)),
        ).values_list("pk", "capacity", "active")
    }
    kept = {}
    for nomination_id, mentor_id in sorted(assignment.items()):
        if nomination_id in taken or left.get(mentor_id, 0) <= 0:
            continue
        left[mentor_id] -= 1
        kept[nomination_id] = mentor_id
    return kept


def mentor_match_run(
    *, intake_round: IntakeRound, trigger: str, actor: User | None = None,
    now: datetime | None = None,
) -> MatchRun:
    """Propose mentors for the round's admitted candidates who have none, optimally.

    Accepted and pending assignments are kept and use up their mentors' capacity; a pair that
    was declined, expired or withdrawn is never proposed again. Every proposal is saved as a
    PROPOSED assignment; `invitations_send` then emails each as an invitation.
    """
    now = now or timezone.now()
    started = time.perf_counter()
    # Computed with no write transaction open; saved in one short one (ecocycle.writes).
    with exclusive_job(f"mentor-match-{intake_round.pk}", atomic=False):
        assignment, parts, counts = _proposals(intake_round, now)

        def save() -> MatchRun:
            kept = _still_free(assignment)
            counts["proposed"] = len(kept)
            counts["without_mentor"] = counts["candidates"] - len(kept)
            run = MatchRun.objects.create(
                kind=MatchRun.Kind.MENTOR, intake_round=intake_round, trigger=trigger,
                triggered_by=actor if actor and actor.pk else None, started_at=now,
                finished_at=timezone.now(), status=MatchRun.Status.SUCCEEDED, counts=counts,
                input_digest="", output_digest="",
                duration_ms=int((time.perf_counter() - started) * 1000),
            )
            stamp = prepared_datetime(timezone.now())
            bulk_insert(MentorAssignment, [
                "nomination", "mentor", "match_run", "status", "fit", "fit_components",
                "decline_reason", "withdraw_reason", "created_at", "updated_at",
            ], [
                (nomination_id, mentor_id, run.pk, MentorAssignment.Status.PROPOSED,
                 f"{parts[(nomination_id, mentor_id)][0]:.4f}",
                 json.dumps(parts[(nomination_id, mentor_id)][1], sort_keys=True), "", "",
                 stamp, stamp)
                for nomination_id, mentor_id in sorted(kept.items())
            ])
            AuditEntry.objects.bulk_create([audit_entry_build(
                actor=actor, action="mentor_match_run", target=run, after={"counts": counts})])
            return run

        return short_transaction(save)
