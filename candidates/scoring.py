"""How a degree track ranks the candidates who ranked it: weighted criteria, 0-100.

Pure: works on plain values already loaded (see ScoringInput), so the nightly job scores ten
thousand nominations without a query per nomination. Each criterion is a number in [0, 1]; the
total is the weighted mean times 100, rounded to 4 decimals so that equal inputs give equal
scores on every platform.

Tie-breaking (documented, deterministic): higher total first; then the candidate who ranked the
track higher; then the higher normalised GPA; then the earlier submission; then the lower
nomination id.
"""

import json
import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CRITERIA = ("gpa", "language", "coursework", "interests", "university_rank")

DEFAULT_WEIGHTS = {"gpa": 35, "language": 15, "coursework": 25, "interests": 15,
                   "university_rank": 10}

LANGUAGE_MAX = {"toefl_ibt": 120.0, "ielts": 9.0, "topik": 6.0}

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOP = {"and", "the", "for", "with", "from", "into", "onto", "its", "our", "their", "this",
         "that", "using", "based", "study", "studies", "research", "program", "programme"}


def words(text: str) -> frozenset[str]:
    """Lower-case words of 3+ letters, without common filler, lightly stemmed (plural -s)."""
    out = set()
    for word in _WORD.findall((text or "").casefold()):
        if word in _STOP:
            continue
        out.add(word[:-1] if len(word) > 4 and word.endswith("s") else word)
    return frozenset(out)


@dataclass(frozen=True)
class CandidateFacts:
    nomination_id: int
    gpa_normalised: float | None
    language_test: str
    language_score: float | None
    technology_ids: frozenset[int]
    interest_words: frozenset[str]
    university_rank: int | None
    university_nominees: int
    submitted_order: float


@dataclass(frozen=True)
class TrackFacts:
    track_id: int
    technology_ids: frozenset[int]
    wanted_words: frozenset[str]


@dataclass(frozen=True, slots=True)
class Score:
    total: Decimal
    components: dict[str, float]


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def candidate_parts(candidate: CandidateFacts) -> dict[str, float]:
    """The criteria that do not depend on the track."""
    gpa = _clamp((candidate.gpa_normalised or 0.0) / 4.0)
    top = LANGUAGE_MAX.get(candidate.language_test)
    language = _clamp((candidate.language_score or 0.0) / top) if top else 0.0
    if candidate.university_rank and candidate.university_nominees > 1:
        rank = 1.0 - (candidate.university_rank - 1) / (candidate.university_nominees - 1)
    else:
        rank = 1.0 if candidate.university_rank == 1 else 0.5
    return {"gpa": round(gpa, 6), "language": round(language, 6),
            "university_rank": round(_clamp(rank), 6)}


def components(candidate: CandidateFacts, track: TrackFacts,
               parts: dict[str, float] | None = None) -> dict[str, float]:
    """Every criterion for this pair; `parts` may carry candidate_parts() computed once."""
    return {**(parts or candidate_parts(candidate)), "coursework": _coursework(candidate, track),
            "interests": _interests(candidate, track)}


def _coursework(candidate: CandidateFacts, track: TrackFacts) -> float:
    if track.technology_ids:
        coursework = len(candidate.technology_ids & track.technology_ids) / len(
            track.technology_ids)
    else:
        coursework = 1.0 if candidate.technology_ids else 0.0
    # A share of the track's set, within [0, 1] already: clamping would change nothing.
    return round(coursework, 6)


def _interests(candidate: CandidateFacts, track: TrackFacts) -> float:
    if track.wanted_words:
        interests = len(candidate.interest_words & track.wanted_words) / len(track.wanted_words)
    else:
        interests = 0.0
    return round(interests, 6)


_QUANTUM = Decimal("0.0001")


def score(candidate: CandidateFacts, track: TrackFacts, weights: dict[str, float],
          parts: dict[str, float] | None = None) -> Score:
    return _total(components(candidate, track, parts), *_positive(weights))


def _positive(weights: dict[str, float]) -> tuple[dict[str, float], float]:
    positive = {name: max(float(weights.get(name, 0)), 0.0) for name in CRITERIA}
    return positive, sum(positive.values()) or 1.0


def _total(values: dict[str, float], positive: dict[str, float], total_weight: float) -> Score:
    value = sum(values[name] * positive[name] for name in CRITERIA)
    total = Decimal(repr(round(100.0 * value / total_weight, 6))).quantize(
        _QUANTUM, rounding=ROUND_HALF_UP)
    return Score(total=total, components=values)


class RoundScoring:
    """score() for every pair of a round, with the same results, faster and smaller: the
    weights are read once, the coursework of a (candidate's, track's) technologies pair is
    computed once for the round, and a candidate's tracks that give it the same coursework and
    interests share one Score (scores are read-only)."""

    def __init__(self, weights: dict[str, float]):
        self.positive, self.total_weight = _positive(weights)
        self.coursework: dict[tuple[frozenset, frozenset], float] = {}

    def candidate(self, candidate: CandidateFacts) -> "CandidateScorer":
        return CandidateScorer(self, candidate)


class CandidateScorer:
    """One candidate's scores against many tracks (see RoundScoring)."""

    __slots__ = ("_candidate", "_parts", "_round", "_seen")

    def __init__(self, round_scoring: RoundScoring, candidate: CandidateFacts):
        self._round = round_scoring
        self._candidate = candidate
        self._parts = candidate_parts(candidate)
        self._seen: dict[tuple[float, float], Score] = {}

    def score(self, track: TrackFacts) -> Score:
        candidate = self._candidate
        key = (candidate.technology_ids, track.technology_ids)
        coursework = self._round.coursework.get(key)
        if coursework is None:
            coursework = self._round.coursework[key] = _coursework(candidate, track)
        interests = _interests(candidate, track)
        found = self._seen.get((coursework, interests))
        if found is None:
            values = {**self._parts, "coursework": coursework, "interests": interests}
            found = self._seen[(coursework, interests)] = _total(
                values, self._round.positive, self._round.total_weight)
        return found


def components_json(values: dict[str, float]) -> str:
    """json.dumps(values, sort_keys=True), the same text, several times faster for the usual
    five float criteria (the nightly job stores one per scored pair)."""
    if values.keys() == _CRITERIA_SET and all(
            type(v) is float and math.isfinite(v) for v in values.values()):
        return _COMPONENTS_JSON % tuple(values[name] for name in _SORTED_CRITERIA)
    return json.dumps(values, sort_keys=True)


_CRITERIA_SET = frozenset(CRITERIA)
_SORTED_CRITERIA = tuple(sorted(CRITERIA))
_COMPONENTS_JSON = "{" + ", ".join(f'"{name}": %r' for name in _SORTED_CRITERIA) + "}"


def order_key(total: Decimal, choice_rank: int, candidate: CandidateFacts) -> tuple:
    """Sort key for a track's list, best first (see the module docstring for the rule)."""
    return (-total, choice_rank, -(candidate.gpa_normalised or 0.0), candidate.submitted_order,
            candidate.nomination_id)
