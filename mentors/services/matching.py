"""Mentor matching: optimal proposals for admitted candidates without a mentor."""

import json
import time
from collections import defaultdict
from datetime import datetime

import numpy as np
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from candidates.models import CohortAdmission, MatchRun, Nomination, NominationCourse
from candidates.scoring import words
from candidates.selectors import taken_up_nominations
from ecocycle.bulk import bulk_insert, prepared_datetime
from ecocycle.locks import exclusive_job
from ecocycle.matching import assign_optimal_arrays
from ecocycle.models import AuditEntry, User
from ecocycle.services import audit_entry_build
from ecocycle.writes import short_transaction
from programs.models import DegreeTrack, IntakeRound
from students.models import Enrolment

from .. import fit as mentor_fit
from ..models import Mentor, MentorAssignment
from ..selectors import mentors_matchable


def _candidates_to_mentor(intake_round: IntakeRound) -> QuerySet[Nomination]:
    """The round's candidates the matching looks for a mentor for: admitted and having accepted
    their offer (a pending, declined or lapsed offer needs no mentor), without a live
    (proposed, invited or accepted) assignment, and neither graduated nor withdrawn."""
    return (
        taken_up_nominations(intake_round)
        .exclude(mentor_assignments__status__in=MentorAssignment.ACTIVE)
        # Students who graduated or left need no new mentor.
        .exclude(enrolment__status__in=[Enrolment.Status.GRADUATED, Enrolment.Status.WITHDRAWN])
    )


def _mentees(intake_round: IntakeRound) -> list[mentor_fit.MenteeFacts]:
    """The candidates to mentor, as plain facts, in id order."""
    rows = list(
        _candidates_to_mentor(intake_round)
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
    """The optimal proposals (nomination id -> mentor id), each proposed pair's fit, and the
    counts."""
    mentees = _mentees(intake_round)
    mentors, capacities = _mentors(timezone.localdate(now))
    refused = set(MentorAssignment.objects.filter(
        nomination_id__in=[m.nomination_id for m in mentees]
    ).exclude(status__in=MentorAssignment.ACTIVE).values_list("nomination_id", "mentor_id"))
    members, hosts, weights = pair_weights(mentees, mentors, refused)
    pairs = len(members)
    assignment = assign_optimal_arrays(members, hosts, weights, capacities)
    del members, hosts, weights
    # The components are stored with the proposals only: computed for those, by `fit` itself.
    mentee_of = {mentee.nomination_id: mentee for mentee in mentees}
    mentor_of = {mentor.mentor_id: mentor for mentor in mentors}
    parts = {(nomination_id, mentor_id): mentor_fit.fit(mentee_of[nomination_id],
                                                        mentor_of[mentor_id])
             for nomination_id, mentor_id in assignment.items()}
    counts = {"candidates": len(mentees), "mentors": len(mentors), "pairs": pairs,
              "proposed": len(assignment), "without_mentor": len(mentees) - len(assignment)}
    return assignment, parts, counts


# Candidates scored at once: the dense blocks are this many rows by the number of mentors.
_CHUNK = 256


def pair_weights(
    mentees: list[mentor_fit.MenteeFacts], mentors: list[mentor_fit.MentorFacts],
    refused: set[tuple[int, int]] = frozenset(),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every eligible pair (a shared language, not in `refused`) as three columns: nomination
    ids, mentor ids and `mentor_fit.fit`'s weight, in (mentee, mentor) input order.

    The same weights as calling `fit` on every pair, without touching every pair in Python: the
    overlaps are counted by matrix products over a block of candidates at a time, and the weight
    depends only on a few small counts (shared and total technologies and words, travel,
    continuity), so the formula (`fit_from_counts`) runs once per distinct combination.
    """
    empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64),
             np.empty(0, dtype=np.float64))
    if not mentees or not mentors:
        return empty
    blocks = _eligible_blocks(mentees, mentors, refused)
    techs, vocabulary, countries, universities, programs = _vocabularies(mentees, mentors)
    mentor_tech = _incidence([mentor.technology_ids for mentor in mentors], techs)
    mentor_word = _incidence([mentor.keyword_words for mentor in mentors], vocabulary)
    travel = _incidence([mentor.travel_countries for mentor in mentors], countries)
    known = _incidence([mentor.universities for mentor in mentors], universities)
    program = _incidence([mentor.programs for mentor in mentors], programs)
    mentor_ids = np.array([mentor.mentor_id for mentor in mentors], dtype=np.int64)
    tech_total = np.array([len(m.technology_ids) for m in mentees], dtype=np.int64)
    words_total = np.array([len(m.interest_words) for m in mentees], dtype=np.int64)
    radix = (int(tech_total.max()) + 1, int(words_total.max()) + 1)

    members, hosts, weights = _pair_columns(blocks, mentees, mentor_ids)
    key_type = members.dtype
    lookup = _WeightLookup(radix)
    done = 0
    for start, eligible in zip(range(0, len(mentees), _CHUNK), blocks, strict=True):
        block = mentees[start:start + _CHUNK]
        count = int(np.count_nonzero(eligible))
        if not count:
            continue
        rows = slice(start, start + len(block))
        country = np.array([countries[m.country] for m in block], dtype=np.int64)
        university = np.array([universities[m.university_id] for m in block], dtype=np.int64)
        own_program = np.array([programs[m.program_id] for m in block], dtype=np.int64)
        # Whole blocks (candidates x mentors) of small counts, then the eligible entries only.
        continuity = np.where(known.T[university] > 0, 2,
                              np.where(program.T[own_program] > 0, 1, 0))
        code = _code(_shared(block, "technology_ids", techs, mentor_tech),
                     tech_total[rows, None], _shared(block, "interest_words", vocabulary,
                                                     mentor_word),
                     words_total[rows, None], travel.T[country] > 0, continuity, radix)
        out = slice(done, done + count)
        weights[out] = lookup(code[eligible])
        i, j = np.nonzero(eligible)  # row by row: mentee, then mentor, as given
        members[out] = np.array([m.nomination_id for m in block], dtype=key_type)[i]
        hosts[out] = mentor_ids[j]
        done += count
    return members, hosts, weights


def _vocabularies(mentees: list[mentor_fit.MenteeFacts], mentors: list[mentor_fit.MentorFacts]):
    """Position of each value that can be shared (technologies, interest words, countries,
    universities, programs), as `_index` gives it."""
    # Only what some candidate has can be shared: the vocabularies are the candidates'.
    techs = _index(t for mentee in mentees for t in mentee.technology_ids)
    vocabulary = _index(w for mentee in mentees for w in mentee.interest_words)
    mentor_words = set().union(*(mentor.keyword_words for mentor in mentors))
    vocabulary = _index(w for w in vocabulary if w in mentor_words)
    countries = _index(mentee.country for mentee in mentees)
    universities = _index(mentee.university_id for mentee in mentees)
    programs = _index(mentee.program_id for mentee in mentees)
    return techs, vocabulary, countries, universities, programs


def _pair_columns(blocks: list[np.ndarray], mentees: list[mentor_fit.MenteeFacts],
                  mentor_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The empty (nomination id, mentor id, weight) columns for every eligible pair of
    `blocks`: ids as int32 when they fit, else int64."""
    total = sum(int(np.count_nonzero(eligible)) for eligible in blocks)
    largest = max(max(abs(m.nomination_id) for m in mentees), int(np.abs(mentor_ids).max()))
    key_type = np.int32 if largest < 2**31 - 1 else np.int64
    members = np.empty(total, dtype=key_type)
    hosts = np.empty(total, dtype=key_type)
    weights = np.empty(total, dtype=np.float64)
    return members, hosts, weights


def _eligible_blocks(mentees, mentors, refused) -> list[np.ndarray]:
    """Which pairs can match (a shared language, not refused), as one boolean matrix
    (candidates x mentors) per block of `_CHUNK` candidates: the language sets are few, so
    each pair of them is tested once."""
    e_groups, e_group = _groups([mentee.languages for mentee in mentees])
    m_groups, m_group = _groups([mentor.languages for mentor in mentors])
    speaks = np.array([[bool(a & b) for b in m_groups] for a in e_groups], dtype=bool)
    column = {mentor.mentor_id: j for j, mentor in enumerate(mentors)}
    row = {mentee.nomination_id: i for i, mentee in enumerate(mentees)}
    blocks = []
    for start in range(0, len(mentees), _CHUNK):
        eligible = speaks[e_group[start:start + _CHUNK]][:, m_group]
        for nomination_id, mentor_id in refused:
            i = row.get(nomination_id, -1) - start
            if 0 <= i < len(eligible) and mentor_id in column:
                eligible[i, column[mentor_id]] = False
        blocks.append(eligible)
    return blocks


class _WeightLookup:
    """The weight of each code (`_code`), computed once per distinct code: through a table
    when the codes' range is small (the usual case), else through the distinct codes."""

    _TABLE_MAX = 1 << 20

    def __init__(self, radix: tuple[int, int]) -> None:
        self.radix = radix
        size = radix[0] ** 2 * radix[1] ** 2 * 6
        self.table = np.full(size, np.nan) if size <= self._TABLE_MAX else None
        self.known: dict[int, float] = {}

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        if self.table is not None:
            wanted = np.zeros(len(self.table), dtype=bool)
            wanted[codes] = True  # no sort: the range is small
            missing = np.flatnonzero(wanted & np.isnan(self.table))
            self.table[missing] = [_weight(code, self.radix) for code in missing.tolist()]
            return self.table[codes]
        distinct, which = np.unique(codes, return_inverse=True)
        values = np.array([self.known.setdefault(int(code), _weight(int(code), self.radix))
                           for code in distinct.tolist()], dtype=np.float64)
        return values[which.reshape(-1)]


def _groups(values: list[frozenset]) -> tuple[list[frozenset], np.ndarray]:
    """The distinct values, and the index of each value among them."""
    index = _index(values)
    return list(index), np.array([index[value] for value in values], dtype=np.int64)


def _index(values) -> dict:
    """Each distinct value's position, in order of first appearance."""
    return {value: k for k, value in enumerate(dict.fromkeys(values))}


def _incidence(sets: list, index: dict) -> np.ndarray:
    """Row r, column index[v] is 1 when v is in sets[r] (values outside `index` ignored)."""
    matrix = np.zeros((len(sets), len(index)), dtype=np.float32)
    for r, values in enumerate(sets):
        matrix[r, [index[v] for v in values if v in index]] = 1
    return matrix


def _shared(block, field: str, index: dict, mentor_matrix: np.ndarray) -> np.ndarray:
    """How many of each block candidate's `field` values each mentor has (candidates x
    mentors)."""
    if not index:
        return np.zeros((len(block), len(mentor_matrix)), dtype=np.int64)
    mine = _incidence([getattr(mentee, field) for mentee in block], index)
    # Exact: 0/1 products summed in float32, far below 2**24.
    return (mine @ mentor_matrix.T).astype(np.int64)


def _code(shared_tech, tech_total, shared_words, words_total, travels, continuity,
          radix) -> np.ndarray:
    """The counts the weight depends on, as one integer (mixed radix). Below 2**63 while
    technologies x words (each candidate's most) stay below 10**9: a megabyte of research
    interests has some 250,000 words."""
    techs, words = radix
    code = shared_tech * techs + tech_total
    code = (code * words + shared_words) * words + words_total
    return (code * 2 + travels.astype(np.int64)) * 3 + continuity


def _weight(code: int, radix: tuple[int, int]) -> float:
    techs, words = radix
    code, continuity = divmod(code, 3)
    code, travels = divmod(code, 2)
    code, words_total = divmod(code, words)
    code, shared_words = divmod(code, words)
    shared_tech, tech_total = divmod(code, techs)
    return mentor_fit.fit_from_counts(
        tech_shared=shared_tech, tech_total=tech_total, words_shared=shared_words,
        words_total=words_total, travels=bool(travels),
        continuity=(0.0, 0.5, 1.0)[continuity])["weight"]


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
