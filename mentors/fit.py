"""How well a mentor fits an admitted candidate: a weight in [0, 1] for assign_optimal.

Pure, over plain values. A pair is eligible only when mentor and candidate share a language;
then the weight mixes expertise overlap (with the candidate's track and coursework, and the
words of their research interests), willingness to travel to the candidate's country, and
continuity (the mentor already mentors someone from the same university or program).
"""

from dataclasses import dataclass

WEIGHTS = {"expertise": 0.55, "travel": 0.25, "continuity": 0.20}


@dataclass(frozen=True)
class MenteeFacts:
    nomination_id: int
    country: str
    languages: frozenset[str]
    technology_ids: frozenset[int]
    interest_words: frozenset[str]
    university_id: int
    program_id: int


@dataclass(frozen=True)
class MentorFacts:
    mentor_id: int
    languages: frozenset[str]
    technology_ids: frozenset[int]
    keyword_words: frozenset[str]
    travel_countries: frozenset[str]
    universities: frozenset[int]
    programs: frozenset[int]


def mentee_languages(candidate_language: str, language_test: str) -> frozenset[str]:
    """The languages a candidate can be mentored in: their own, plus what their test shows."""
    spoken = {candidate_language}
    if language_test in ("toefl_ibt", "ielts"):
        spoken.add("en")
    if language_test == "topik":
        spoken.add("ko")
    return frozenset(spoken)


def fit(mentee: MenteeFacts, mentor: MentorFacts) -> tuple[float, dict[str, float]] | None:
    """(weight, components), or None when the pair is not eligible (no shared language)."""
    shared = mentee.languages & mentor.languages
    if not shared:
        return None
    parts = fit_from_counts(
        tech_shared=len(mentee.technology_ids & mentor.technology_ids),
        tech_total=len(mentee.technology_ids),
        words_shared=len(mentee.interest_words & mentor.keyword_words),
        words_total=len(mentee.interest_words),
        travels=mentee.country in mentor.travel_countries,
        continuity=1.0 if mentee.university_id in mentor.universities else (
            0.5 if mentee.program_id in mentor.programs else 0.0))
    weight = parts.pop("weight")
    parts["languages"] = sorted(shared)
    return weight, parts


def fit_from_counts(*, tech_shared: int, tech_total: int, words_shared: int, words_total: int,
                    travels: bool, continuity: float) -> dict[str, float]:
    """The weight and its components ("weight", "expertise", "travel", "continuity") of an
    eligible pair from what `fit` counts: the one formula, which the nightly matching applies to
    each distinct combination of counts rather than to each pair."""
    tech = tech_shared / tech_total if tech_total else 0.0
    words = words_shared / words_total if words_total else 0.0
    expertise = min(1.0, 0.8 * tech + 0.2 * words)
    parts = {"expertise": round(expertise, 6), "travel": 1.0 if travels else 0.0,
             "continuity": continuity}
    weight = sum(WEIGHTS[name] * parts[name] for name in WEIGHTS)
    return {"weight": round(weight, 6), **parts}
