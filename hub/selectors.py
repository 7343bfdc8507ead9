"""Reads of the whole cycle: nominated -> admitted -> enrolled -> graduated -> stayed in Korea or
returned home, per program and per partner country, for the cycle dashboard and its export.

What each figure counts (the pages say the same):

- nominated: nominations submitted by a partner university (submitted at some time, not a
  draft), withdrawn ones included;
- admitted: of those, admitted when their round's cohort was approved (a reopened cohort's
  admissions do not count until it is approved again);
- enrolled: of those, enrolled as UST-KITECH students, whatever happened since;
- studying / withdrawn / graduated: where the enrolled are now (studying includes leave);
- stayed / returned / other / unknown: the graduates' recorded path (unknown: no outcome yet);
- SME share: graduates working at a small or medium-sized company, among graduates whose
  employer type is known;
- returned and cooperating: graduates who returned home and cooperate with a Korean company
  (a listed partner company or a named one);
- days from nomination to graduation: from the date of submission (Korean time) to the
  graduation date, over the graduates.

- alumni mentors: graduates whose offer to mentor became a mentor profile confirmed by staff.

A partner country is the program's country. Every function issues three queries whatever the
number of nominations: one aggregate grouped by program, one list of the graduates' two dates,
one count of alumni mentors per program.
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django_countries import countries

from candidates.models import Cohort, Nomination
from mentors.selectors import alumni_mentor_counts
from programs.models import Program
from students.models import AlumniOutcome, Enrolment

Path = AlumniOutcome.Path

_ADMITTED = Q(admission__cohort__status=Cohort.Status.APPROVED)
_ENROLLED = _ADMITTED & Q(enrolment__isnull=False)
_GRADUATED = _ENROLLED & Q(enrolment__status=Enrolment.Status.GRADUATED)
_OUTCOME = "enrolment__outcome__"
_RETURNED = _GRADUATED & Q(**{f"{_OUTCOME}path": Path.RETURNED})

# Each count is one conditional COUNT over the nominations joined one-to-one to their admission,
# enrolment and outcome: no fan-out, so no DISTINCT is needed.
_COUNTS = {
    "nominated": Q(),
    "admitted": _ADMITTED,
    "enrolled": _ENROLLED,
    "studying": _ENROLLED & Q(enrolment__status__in=[Enrolment.Status.ENROLLED,
                                                    Enrolment.Status.ON_LEAVE]),
    "withdrawn": _ENROLLED & Q(enrolment__status=Enrolment.Status.WITHDRAWN),
    "graduated": _GRADUATED,
    "stayed": _GRADUATED & Q(**{f"{_OUTCOME}path": Path.STAYED}),
    "returned": _RETURNED,
    "other_path": _GRADUATED & Q(**{f"{_OUTCOME}path": Path.OTHER}),
    "unknown_path": _GRADUATED & Q(enrolment__outcome__isnull=True),
    # `__gt=""` rather than a negated `=""`: it reads "not blank" without NULL pitfalls on the
    # outer joins.
    "known_employer": _GRADUATED & Q(**{f"{_OUTCOME}employer_type__gt": ""}),
    "at_sme": _GRADUATED & Q(**{f"{_OUTCOME}employer_type": AlumniOutcome.EmployerType.SME}),
    "returned_cooperating": _RETURNED & (
        Q(**{f"{_OUTCOME}cooperating_company__isnull": False})
        | Q(**{f"{_OUTCOME}cooperating_company_name__gt": ""})),
}


@dataclass(frozen=True)
class CountryReturn:
    """Graduates of one partner country's programs who returned home."""

    country: str
    name: str
    returned: int
    cooperating: int


@dataclass(frozen=True)
class CycleFigures:
    """The cycle's counts for one scope (everything, a program, a country).

    Each stage is a subset of the one before: admitted <= nominated, enrolled <= admitted,
    studying + withdrawn + graduated == enrolled, stayed + returned + other + unknown == graduated.
    """

    nominated: int = 0
    admitted: int = 0
    enrolled: int = 0
    studying: int = 0
    withdrawn: int = 0
    graduated: int = 0
    stayed: int = 0
    returned: int = 0
    other_path: int = 0
    unknown_path: int = 0
    known_employer: int = 0
    at_sme: int = 0
    returned_cooperating: int = 0
    graduation_days_count: int = 0
    graduation_days_median: float | None = None
    graduation_days_mean: float | None = None
    returned_by_country: tuple[CountryReturn, ...] = ()
    # Alumni who became mentors, confirmed by staff.
    alumni_mentors: int = 0

    @property
    def not_admitted(self) -> int:
        return self.nominated - self.admitted

    @property
    def not_enrolled(self) -> int:
        return self.admitted - self.enrolled

    @property
    def sme_share(self) -> float | None:
        """At SMEs among graduates with a known employer type, from 0 to 1 (None: nobody known)."""
        return self.at_sme / self.known_employer if self.known_employer else None

    @property
    def flows(self) -> list[tuple[str, str, int]]:
        """(from stage, to stage, how many), for the flow diagram and the table behind it."""
        return [
            ("nominated", "admitted", self.admitted),
            ("nominated", "not_admitted", self.not_admitted),
            ("admitted", "enrolled", self.enrolled),
            ("admitted", "not_enrolled", self.not_enrolled),
            ("enrolled", "graduated", self.graduated),
            ("enrolled", "studying", self.studying),
            ("enrolled", "withdrawn", self.withdrawn),
            ("graduated", "stayed", self.stayed),
            ("graduated", "returned", self.returned),
            ("graduated", "other_path", self.other_path),
            ("graduated", "unknown_path", self.unknown_path),
        ]


COUNT_FIELDS = tuple(_COUNTS)
SUMMED_FIELDS = (*COUNT_FIELDS, "alumni_mentors")


@dataclass(frozen=True)
class CycleRow:
    """One line of the table and the export: a program, or a partner country."""

    scope: str  # "program" or "country"
    label: str
    country: str
    country_name: str
    program_id: int | None
    figures: CycleFigures


@dataclass(frozen=True)
class CycleReport:
    total: CycleFigures
    programs: list[CycleRow] = field(default_factory=list)
    countries: list[CycleRow] = field(default_factory=list)


def _nominations(*, program: Program | int | None, country: str | None) -> QuerySet[Nomination]:
    qs = Nomination.objects.filter(submitted_at__isnull=False).exclude(
        status=Nomination.Status.DRAFT)
    if program is not None:
        qs = qs.filter(intake_round__program=program)
    if country:
        qs = qs.filter(intake_round__program__country=country)
    return qs


def _country_name(code: str) -> str:
    return countries.name(code) or code


def _days(submitted_at: datetime, graduated_on: date) -> int:
    return (graduated_on - timezone.localdate(submitted_at)).days


def _with_days(figures: CycleFigures, days: list[int]) -> CycleFigures:
    if not days:
        return figures
    return replace(figures, graduation_days_count=len(days),
                   graduation_days_median=float(statistics.median(days)),
                   graduation_days_mean=statistics.fmean(days))


def _summed(counts: list[dict]) -> dict[str, int]:
    return {name: sum(row[name] for row in counts) for name in SUMMED_FIELDS}


def _returned_by_country(rows: list[CycleRow]) -> tuple[CountryReturn, ...]:
    return tuple(
        CountryReturn(country=row.country, name=row.label, returned=row.figures.returned,
                      cooperating=row.figures.returned_cooperating)
        for row in rows if row.figures.returned
    )


def cycle_report(*, program: Program | int | None = None,
                 country: str | None = None) -> CycleReport:
    """The totals, one row per program and one per partner country, for the scope given.

    Three queries, whatever the number of nominations.
    """
    qs = _nominations(program=program, country=country)
    key = ("intake_round__program", "intake_round__program__name",
           "intake_round__program__country")
    grouped = list(
        qs.values(*key)
        .annotate(**{name: Count("id", filter=condition) for name, condition in _COUNTS.items()})
        .order_by()
    )
    days_by_program: dict[int, list[int]] = defaultdict(list)
    for program_id, submitted_at, graduated_on in (
        qs.filter(_GRADUATED, enrolment__graduated_on__isnull=False)
        .values_list("intake_round__program", "submitted_at", "enrolment__graduated_on")
    ):
        days_by_program[program_id].append(_days(submitted_at, graduated_on))
    mentors_by_program = alumni_mentor_counts(by="program", program=program, country=country)
    for row in grouped:
        row["alumni_mentors"] = mentors_by_program.get(row["intake_round__program"], 0)

    program_rows = sorted((
        CycleRow(scope="program", label=row["intake_round__program__name"],
                 country=row["intake_round__program__country"],
                 country_name=_country_name(row["intake_round__program__country"]),
                 program_id=row["intake_round__program"],
                 figures=_with_days(CycleFigures(**{name: row[name] for name in SUMMED_FIELDS}),
                                    days_by_program[row["intake_round__program"]]))
        for row in grouped), key=lambda row: (row.label.casefold(), row.program_id))

    by_country: dict[str, list[dict]] = defaultdict(list)
    days_by_country: dict[str, list[int]] = defaultdict(list)
    for row in grouped:
        code = row["intake_round__program__country"]
        by_country[code].append(row)
        days_by_country[code] += days_by_program[row["intake_round__program"]]
    country_rows = sorted((
        CycleRow(scope="country", label=_country_name(code), country=code,
                 country_name=_country_name(code), program_id=None,
                 figures=_with_days(CycleFigures(**_summed(rows)), days_by_country[code]))
        for code, rows in by_country.items()), key=lambda row: (row.label.casefold(), row.country))

    all_days = [d for days in days_by_program.values() for d in days]
    total = _with_days(CycleFigures(**_summed(grouped),
                                    returned_by_country=_returned_by_country(country_rows)),
                       all_days)
    return CycleReport(total=total, programs=program_rows, countries=country_rows)


def cycle_figures(*, program: Program | int | None = None,
                  country: str | None = None) -> CycleFigures:
    """The cycle's figures for everything, one program, or one partner country. Three queries."""
    return cycle_report(program=program, country=country).total


def cycle_rows(*, program: Program | int | None = None,
               country: str | None = None) -> list[CycleRow]:
    """One row per program, then one per partner country, within the scope. Three queries."""
    report = cycle_report(program=program, country=country)
    return [*report.programs, *report.countries]


def cycle_programs() -> QuerySet[Program]:
    """The programs the dashboard's filter offers: every program, by name."""
    return Program.objects.order_by("name", "id")

