"""How well a partner company fits a student close to graduation: a weight in [0, 1] for the
optimal assignment (``ecocycle.matching.assign_optimal``, companies' openings as capacities).

Pure, over plain values already loaded (no Django), so one run scores every pair without a query
per pair, and the rule can be tested without a database.

Where the openings are decides eligibility (``place``):

- openings in Korea suit a student who wants to **stay in Korea**, or who is **undecided**;
- openings in the student's **home country** (their nationality) suit a student who wants to
  **return home**, or who is **undecided**;
- anything else is not proposed: a student who wants to stay is never sent abroad, a student
  who wants to go home is never kept in Korea, and openings in a third country (a Korean
  company in Vietnam for an Indonesian student) suit nobody. The country of the openings is what
  counts, not the company's kind or its other sites.

A pair must also have something in common: a shared core technology, a word shared between the
student's research (interests and thesis title) and the skills the company needs, or the same
bilateral program. A company in the right place but unrelated to the student is not proposed.

The weight is the weighted sum of five components, each in [0, 1] (``WEIGHTS``):

- ``technologies``: the share of the company's needed core technologies the student brings
  (their track's wanted technologies and their coursework's);
- ``skills``: the share of the words of the company's skills that occur in the student's research;
- ``wish``: 1 when the place honours an explicit wish, 0.5 when the student is undecided;
- ``region``: 1 when the preferred region names the openings' region or a site, 0 when it names
  another, 0.5 when the student gave none (so a matching preference outranks none, and none
  outranks a different one);
- ``program``: 1 when the company works with the student's bilateral program.

Weights are rounded to 6 decimals, so equal inputs give equal weights on every platform.
Complexity: O(|technologies| + |words|) per pair.
"""

from collections.abc import Mapping
from dataclasses import dataclass

KOREA = "KR"

WEIGHTS = {"technologies": 0.40, "skills": 0.20, "wish": 0.15, "region": 0.15, "program": 0.10}

STAY = "stay_korea"
RETURN = "return_home"
UNDECIDED = "undecided"

# Reasons list at most this many matched skill words.
MAX_WORDS_SHOWN = 6


@dataclass(frozen=True)
class StudentFacts:
    enrolment_id: int
    home_country: str  # ISO code of the nationality; "" when unknown
    wish: str  # STAY | RETURN | UNDECIDED
    preferred_region: str  # as typed, for the reasons
    region_words: frozenset[str]
    technology_ids: frozenset[int]
    research_words: frozenset[str]
    program_id: int | None


@dataclass(frozen=True)
class CompanyFacts:
    company_id: int
    country: str  # ISO code of the openings' country
    region: str  # as typed, for the reasons
    region_words: frozenset[str]  # region and sites
    technology_ids: frozenset[int]
    skill_words: frozenset[str]
    program_ids: frozenset[int]


def place(student: StudentFacts, company: CompanyFacts) -> str | None:
    """"korea" or "home" when the openings' country suits the student's wish, else None."""
    if company.country == KOREA:
        return "korea" if student.wish in (STAY, UNDECIDED) else None
    if student.home_country and company.country == student.home_country:
        return "home" if student.wish in (RETURN, UNDECIDED) else None
    return None


def fit(student: StudentFacts, company: CompanyFacts) -> tuple[float, dict[str, float]] | None:
    """(weight, components), or None when the pair is not eligible (see the module's rule)."""
    if place(student, company) is None:
        return None
    shared_technologies = student.technology_ids & company.technology_ids
    shared_words = student.research_words & company.skill_words
    same_program = student.program_id is not None and student.program_id in company.program_ids
    if not (shared_technologies or shared_words or same_program):
        return None
    technologies = (len(shared_technologies) / len(company.technology_ids)
                    if company.technology_ids else 0.0)
    skills = len(shared_words) / len(company.skill_words) if company.skill_words else 0.0
    wish = 0.5 if student.wish == UNDECIDED else 1.0
    if not student.region_words:
        region = 0.5
    else:
        region = 1.0 if student.region_words & company.region_words else 0.0
    parts = {
        "technologies": round(technologies, 6), "skills": round(skills, 6), "wish": wish,
        "region": region, "program": 1.0 if same_program else 0.0,
    }
    weight = sum(WEIGHTS[name] * parts[name] for name in WEIGHTS)
    return round(weight, 6), parts


def reasons(student: StudentFacts, company: CompanyFacts,
            technology_names: Mapping[int, str]) -> list[dict]:
    """Why the pair fits, as codes with parameters, most important first.

    Codes and plain parameters, not sentences: the page and the emails render them in their
    reader's language. Call for eligible pairs only.
    """
    out: list[dict] = []
    shared = sorted(student.technology_ids & company.technology_ids,
                    key=lambda pk: (technology_names.get(pk, ""), pk))
    if shared:
        out.append({"code": "technologies", "params": {
            "shared": len(shared), "needed": len(company.technology_ids),
            "names": [technology_names.get(pk, "") for pk in shared]}})
    elif company.technology_ids:
        out.append({"code": "technologies_none",
                    "params": {"needed": len(company.technology_ids)}})
    words = sorted(student.research_words & company.skill_words)
    if words:
        out.append({"code": "skills", "params": {
            "count": len(words), "words": words[:MAX_WORDS_SHOWN]}})
    where = place(student, company)
    wish_code = {STAY: "wish_stay", RETURN: "wish_return"}.get(
        student.wish, f"wish_undecided_{where}")
    out.append({"code": wish_code, "params": {"country": company.country,
                                              "region": company.region}})
    if student.region_words:
        matched = bool(student.region_words & company.region_words)
        out.append({"code": "region_match" if matched else "region_other", "params": {
            "preferred": student.preferred_region, "region": company.region,
            "country": company.country}})
    if student.program_id is not None and student.program_id in company.program_ids:
        out.append({"code": "program", "params": {}})
    return out
