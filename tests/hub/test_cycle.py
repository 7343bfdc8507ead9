"""The cycle at a glance: every figure equals a count computed here directly from the database,
for a scenario of two programs in two partner countries; the filters, the CSV, the public page's
anonymity and small-number suppression, who may see what, and bounded queries."""

import csv
import io
import re
from datetime import timedelta
from html.parser import HTMLParser
from statistics import fmean, median

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates import services
from candidates.models import CohortAdmission, Nomination
from hub import cycle_views
from hub.selectors import (
    CycleFigures,
    CycleReport,
    CycleRow,
    cycle_figures,
    cycle_report,
    cycle_rows,
)
from mentors.models import Mentor
from mentors.selectors import alumni_mentor_count, alumni_mentor_counts
from programs.models import Program
from students import services as student_services
from students.models import AlumniOutcome, Enrolment
from tests.candidates.factories import (
    NominationFactory,
    admitted_round,
    open_round_with_tracks,
    submitted_nomination,
)
from tests.mentors.factories import MentorFactory
from tests.programs.factories import PartnerCompanyFactory
from tests.worlds import module_world, reads_world

pytestmark = pytest.mark.django_db

Path = AlumniOutcome.Path
Employer = AlumniOutcome.EmployerType


# --- the scenario -------------------------------------------------------------------------------

def _today():
    return timezone.localdate()


def _cohort(n: int, *, enrol: int, country: str):
    """An approved cohort of `n` in a new program of `country`, the first `enrol` enrolled."""
    intake_round, nominations = admitted_round(n)
    Program.objects.filter(pk=intake_round.program_id).update(country=country)
    admissions = CohortAdmission.objects.filter(nomination__in=nominations).select_related(
        "track", "cohort").order_by("id")
    enrolments = [
        student_services.enrolment_create(actor=None, admission=admission, semester="2025 Autumn",
                                  enrolled_on=_today() - timedelta(days=400))
        for admission in list(admissions)[:enrol]
    ]
    return Program.objects.get(pk=intake_round.program_id), enrolments


def _graduate(enrolment: Enrolment, *, days_ago: int, submitted_days_ago: int) -> Enrolment:
    Nomination.objects.filter(pk=enrolment.nomination_id).update(
        submitted_at=timezone.now() - timedelta(days=submitted_days_ago))
    return student_services.enrolment_record(actor=None, enrolment=enrolment, kind="graduated",
                                     on=_today() - timedelta(days=days_ago),
                                     values={"thesis_title": "T"})


def _outcome(enrolment: Enrolment, path: str, employer_type: str = "", **fields):
    return AlumniOutcome.objects.create(enrolment=enrolment, path=path,
                                        employer_type=employer_type, as_of=_today(), **fields)


def build_scenario() -> dict:
    """Program A (Indonesia): 6 admitted, 5 enrolled (3 graduated, 1 withdrawn, 1 on leave),
    plus a later round with one submitted, one withdrawn after submission and one draft.
    Program B (Viet Nam): 4 admitted, all enrolled and graduated.
    Mentors: one confirmed alumnus of each program, one unconfirmed alumnus, one non-alumnus."""
    program_a, (a0, a1, a2, a3, a4) = _cohort(6, enrol=5, country="ID")
    _graduate(a0, days_ago=30, submitted_days_ago=900)
    _graduate(a1, days_ago=20, submitted_days_ago=801)
    _graduate(a2, days_ago=10, submitted_days_ago=700)
    student_services.enrolment_record(actor=None, enrolment=a3, kind="withdrawn",
                              on=_today() - timedelta(days=100))
    student_services.enrolment_record(actor=None, enrolment=a4, kind="leave_start",
                              on=_today() - timedelta(days=50))
    _outcome(a0, Path.STAYED, Employer.SME, organisation="Daejin Casting")
    _outcome(a1, Path.RETURNED, Employer.LARGE, country="ID",
             cooperating_company_name="Hanwha Solutions")
    later = open_round_with_tracks(program=program_a)
    submitted_nomination(intake_round=later)
    withdrawn = submitted_nomination(intake_round=later)
    services.nomination_withdraw(actor=None, nomination=withdrawn)
    NominationFactory(intake_round=later)  # a draft: not a nomination yet

    program_b, (b0, b1, b2, b3) = _cohort(4, enrol=4, country="VN")
    for index, enrolment in enumerate((b0, b1, b2, b3)):
        _graduate(enrolment, days_ago=40 - 5 * index, submitted_days_ago=1000 + 17 * index)
    _outcome(b0, Path.RETURNED, Employer.SME, country="VN",
             cooperating_company=PartnerCompanyFactory(kind="offshore", country="VN"))
    _outcome(b1, Path.RETURNED, country="VN")
    _outcome(b2, Path.OTHER, Employer.UNIVERSITY, country="JP")
    _outcome(b3, Path.STAYED, Employer.SME)

    now = timezone.now()
    MentorFactory(alumnus=a1, confirmed_at=now)
    MentorFactory(alumnus=a0, confirmed_at=None, is_active=False)
    MentorFactory(alumnus=b0, confirmed_at=now)
    MentorFactory()
    return {"a": program_a, "b": program_b}


# Built once for the tests that read it (tests/worlds.py).
_built, scenario = module_world(build_scenario, name="scenario")


# --- the same figures, computed directly --------------------------------------------------------

def direct_figures(*, program=None, country=None) -> dict:
    """Every figure from plain ORM queries, independently of `hub.selectors`."""
    nominations = Nomination.objects.exclude(status="draft").exclude(submitted_at=None)
    mentors = Mentor.objects.exclude(alumnus=None).exclude(confirmed_at=None)
    if program is not None:
        nominations = nominations.filter(intake_round__program=program)
        mentors = mentors.filter(alumnus__nomination__intake_round__program=program)
    if country:
        nominations = nominations.filter(intake_round__program__country=country)
        mentors = mentors.filter(alumnus__nomination__intake_round__program__country=country)
    admissions = CohortAdmission.objects.filter(nomination__in=nominations,
                                                cohort__status="approved")
    enrolments = Enrolment.objects.filter(nomination__in=admissions.values("nomination"))
    graduates = enrolments.filter(status="graduated")
    outcomes = AlumniOutcome.objects.filter(enrolment__in=graduates)
    returned = outcomes.filter(path="returned_home")
    days = [(e.graduated_on - timezone.localdate(e.nomination.submitted_at)).days
            for e in graduates.select_related("nomination")]
    return {
        "nominated": nominations.count(),
        "admitted": admissions.count(),
        "enrolled": enrolments.count(),
        "studying": enrolments.filter(status__in=["enrolled", "on_leave"]).count(),
        "withdrawn": enrolments.filter(status="withdrawn").count(),
        "graduated": graduates.count(),
        "stayed": outcomes.filter(path="stayed_korea").count(),
        "returned": returned.count(),
        "other_path": outcomes.filter(path="other").count(),
        "unknown_path": graduates.filter(outcome__isnull=True).count(),
        "known_employer": outcomes.exclude(employer_type="").count(),
        "at_sme": outcomes.filter(employer_type="sme").count(),
        "returned_cooperating": returned.exclude(
            cooperating_company=None, cooperating_company_name="").count(),
        "graduation_days_count": len(days),
        "graduation_days_median": float(median(days)) if days else None,
        "graduation_days_mean": fmean(days) if days else None,
        "alumni_mentors": mentors.count(),
    }


COUNTED = ["nominated", "admitted", "enrolled", "studying", "withdrawn", "graduated", "stayed",
           "returned", "other_path", "unknown_path", "known_employer", "at_sme",
           "returned_cooperating", "graduation_days_count", "graduation_days_median",
           "graduation_days_mean"]


def _as_dict(figures: CycleFigures) -> dict:
    return {name: getattr(figures, name) for name in COUNTED}


def _direct_counts(**scope) -> dict:
    direct = direct_figures(**scope)
    direct.pop("alumni_mentors")
    return direct


# --- selectors ----------------------------------------------------------------------------------

@reads_world
def test_figures_equal_direct_counts(scenario):
    assert _as_dict(cycle_figures()) == _direct_counts()
    for program in (scenario["a"], scenario["b"]):
        assert _as_dict(cycle_figures(program=program)) == _direct_counts(program=program)
    for country in ("ID", "VN", "TH"):
        assert _as_dict(cycle_figures(country=country)) == _direct_counts(country=country)
    assert _as_dict(cycle_figures(program=scenario["a"], country="VN")) == _direct_counts(
        program=scenario["a"], country="VN")


@reads_world
def test_figures_match_the_scenario_as_built(scenario):
    """Guards against the selector and the direct counts being wrong in the same way."""
    a = cycle_figures(program=scenario["a"])
    assert (a.nominated, a.admitted, a.enrolled, a.studying, a.withdrawn, a.graduated) == (
        8, 6, 5, 1, 1, 3)
    assert (a.stayed, a.returned, a.other_path, a.unknown_path) == (1, 1, 0, 1)
    assert (a.at_sme, a.known_employer, a.returned_cooperating) == (1, 2, 1)
    assert (a.not_admitted, a.not_enrolled) == (2, 1)
    b = cycle_figures(program=scenario["b"])
    assert (b.nominated, b.admitted, b.enrolled, b.graduated, b.withdrawn) == (4, 4, 4, 4, 0)
    assert (b.stayed, b.returned, b.other_path, b.unknown_path) == (1, 2, 1, 0)
    assert (b.at_sme, b.known_employer, b.returned_cooperating) == (2, 3, 1)
    assert b.sme_share == pytest.approx(2 / 3)
    total = cycle_figures()
    assert total.nominated == 12 and total.graduated == 7
    assert total.graduation_days_count == 7


@reads_world
def test_flows_add_up(scenario):
    figures = cycle_figures()
    out_of = {}
    for source, _target, count in figures.flows:
        out_of[source] = out_of.get(source, 0) + count
    assert out_of == {"nominated": figures.nominated, "admitted": figures.admitted,
                      "enrolled": figures.enrolled, "graduated": figures.graduated}


@reads_world
def test_returning_alumni_per_country(scenario):
    by_country = {entry.country: (entry.returned, entry.cooperating)
                  for entry in cycle_figures().returned_by_country}
    expected = {}
    for code in ("ID", "VN"):
        direct = direct_figures(country=code)
        expected[code] = (direct["returned"], direct["returned_cooperating"])
    assert by_country == expected == {"ID": (1, 1), "VN": (2, 1)}


@reads_world
def test_rows_per_program_and_per_country(scenario):
    rows = cycle_rows()
    programs = {row.program_id: row for row in rows if row.scope == "program"}
    countries = {row.country: row for row in rows if row.scope == "country"}
    assert set(programs) == {scenario["a"].pk, scenario["b"].pk}
    assert set(countries) == {"ID", "VN"}
    for program in (scenario["a"], scenario["b"]):
        assert _as_dict(programs[program.pk].figures) == _direct_counts(program=program)
    for code, row in countries.items():
        assert _as_dict(row.figures) == _direct_counts(country=code)
    assert [row.scope for row in cycle_rows(country="VN")] == ["program", "country"]


@reads_world
def test_alumni_mentors_count_confirmed_alumni_only(scenario):
    assert alumni_mentor_count() == direct_figures()["alumni_mentors"] == 2
    assert alumni_mentor_count(program=scenario["a"]) == 1
    assert alumni_mentor_count(country="VN") == 1
    assert alumni_mentor_count(country="TH") == 0
    assert alumni_mentor_counts(by="program") == {scenario["a"].pk: 1, scenario["b"].pk: 1}
    assert alumni_mentor_counts(by="country", program=scenario["b"]) == {"VN": 1}


def test_nothing_yet():
    figures = cycle_figures()
    assert figures.nominated == 0 and figures.sme_share is None
    assert figures.graduation_days_median is None and figures.returned_by_country == ()


@reads_world
def test_selector_queries_do_not_grow(scenario, django_assert_num_queries):
    for _size in (1, 2):
        with django_assert_num_queries(3):
            cycle_report()
        with django_assert_num_queries(3):
            cycle_report(program=scenario["a"], country="ID")
        build_scenario()  # twice the programs, nominations, graduates and mentors


# --- the staff dashboard ------------------------------------------------------------------------

class _Page(HTMLParser):
    """Collects the table cells marked with data attributes, and every element's attributes."""

    def __init__(self):
        super().__init__()
        self.rows: dict[tuple[str, str], dict[str, str]] = {}
        self.elements: list[tuple[str, dict]] = []
        self._row = None
        self._field = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag == "tr" and "data-scope" in attrs:
            self._row = self.rows.setdefault((attrs["data-scope"], attrs["data-key"]), {})
        if tag == "td" and self._row is not None:
            self._field, self._text = attrs.get("data-field", ""), ""
            self._row.setdefault("_cells", [])
            self._hidden = "data-hidden" in attrs

    def handle_data(self, data):
        if self._field is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None and self._field is not None:
            text = " ".join(self._text.split())
            if self._field:
                self._row[self._field] = text
            self._row["_cells"].append(None if self._hidden else text)
            self._field = None
        if tag == "tr":
            self._row = None

    def first(self, **wanted) -> dict:
        return next(attrs for _tag, attrs in self.elements
                    if all(attrs.get(k.replace("_", "-")) == v for k, v in wanted.items()))

    def all(self, name: str) -> list[dict]:
        return [attrs for _tag, attrs in self.elements if name in attrs]


def _parse(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


def _page_numbers(row: dict) -> dict:
    at_sme, known = row["at_sme"].split(" / ")
    return {"nominated": int(row["nominated"]), "admitted": int(row["admitted"]),
            "enrolled": int(row["enrolled"]), "studying": int(row["studying"]),
            "withdrawn": int(row["withdrawn"]), "graduated": int(row["graduated"]),
            "stayed": int(row["stayed"]), "returned": int(row["returned"]),
            "other_path": int(row["other_path"]), "unknown_path": int(row["unknown_path"]),
            "at_sme": int(at_sme), "known_employer": int(known),
            "returned_cooperating": int(row["returned_cooperating"]),
            "alumni_mentors": int(row["alumni_mentors"])}


def _expected_numbers(**scope) -> dict:
    direct = direct_figures(**scope)
    return {key: direct[key] for key in (
        "nominated", "admitted", "enrolled", "studying", "withdrawn", "graduated", "stayed",
        "returned", "other_path", "unknown_path", "at_sme", "known_employer",
        "returned_cooperating", "alumni_mentors")}


@reads_world
def test_dashboard_numbers_equal_direct_counts(client, staff_user, scenario):
    client.force_login(staff_user)
    response = client.get(reverse("staff_cycle:dashboard"))
    assert response.status_code == 200
    page = _parse(response)
    for program in (scenario["a"], scenario["b"]):
        row = page.rows["program", str(program.pk)]
        assert _page_numbers(row) == _expected_numbers(program=program)
        assert row["graduation_days_median"] == f"{direct_figures(program=program)['graduation_days_median']:.1f}"  # noqa: E501
    for code in ("ID", "VN"):
        assert _page_numbers(page.rows["country", code]) == _expected_numbers(country=code)

    total = direct_figures()
    flows = {attrs["data-flow"]: attrs for attrs in page.all("data-flow")}
    assert set(flows) == {f"{s}-{t}" for s, t, _n in cycle_figures().flows}
    counts = {key: int(attrs["data-count"]) for key, attrs in (
        (attrs["data-source"] + "-" + attrs["data-target"], attrs)
        for attrs in page.all("data-target"))}
    assert counts["nominated-admitted"] == total["admitted"]
    assert counts["nominated-not_admitted"] == total["nominated"] - total["admitted"]
    assert counts["admitted-enrolled"] == total["enrolled"]
    assert counts["enrolled-graduated"] == total["graduated"]
    assert counts["enrolled-withdrawn"] == total["withdrawn"]
    assert counts["graduated-stayed"] == total["stayed"]
    assert counts["graduated-returned"] == total["returned"]
    assert counts["graduated-other_path"] == total["other_path"]
    assert counts["graduated-unknown_path"] == total["unknown_path"]
    nodes = {attrs["data-stage"]: int(attrs["data-count"]) for attrs in page.all("data-stage")}
    assert nodes["nominated"] == total["nominated"] and nodes["graduated"] == total["graduated"]

    assert page.first(id="alumni-mentors")["data-count"] == str(total["alumni_mentors"])
    sme = page.first(id="sme-share")
    assert (int(sme["data-sme"]), int(sme["data-known"])) == (total["at_sme"],
                                                              total["known_employer"])
    assert page.first(id="returned-cooperating")["data-count"] == str(
        total["returned_cooperating"])
    returned = {attrs["data-country"]: attrs for attrs in page.all("data-country")}
    assert set(returned) == {"ID", "VN"}
    text = response.content.decode()
    assert (f"median {total['graduation_days_median']:.1f}, "
            f"mean {total['graduation_days_mean']:.1f} (over 7 graduates)") in text


@reads_world
def test_dashboard_filters(client, staff_user, scenario):
    client.force_login(staff_user)
    page = _parse(client.get(reverse("staff_cycle:dashboard"), {"program": scenario["a"].pk}))
    assert set(page.rows) == {("program", str(scenario["a"].pk)), ("country", "ID")}
    assert page.first(id="alumni-mentors")["data-count"] == "1"
    node = {a["data-stage"]: int(a["data-count"]) for a in page.all("data-stage")}
    assert node["nominated"] == direct_figures(program=scenario["a"])["nominated"]

    page = _parse(client.get(reverse("staff_cycle:dashboard"), {"country": "VN"}))
    assert set(page.rows) == {("program", str(scenario["b"].pk)), ("country", "VN")}
    assert _page_numbers(page.rows["country", "VN"]) == _expected_numbers(country="VN")

    # Unknown choices are dropped, not applied.
    page = _parse(client.get(reverse("staff_cycle:dashboard"),
                             {"program": "999999", "country": "ZZ"}))
    assert len([key for key in page.rows if key[0] == "program"]) == 2

    response = client.get(reverse("staff_cycle:dashboard"), {"program": scenario["a"].pk,
                                                       "country": "VN"})
    assert response.status_code == 200
    assert b'id="cycle-empty"' in response.content


@reads_world
def test_flow_diagram_geometry_is_not_localised(client, staff_user, scenario):
    client.force_login(staff_user)
    client.cookies["django_language"] = "id"  # Indonesian writes 12,5
    response = client.get(reverse("staff_cycle:dashboard"))
    page = _parse(response)
    rects = [attrs for tag, attrs in page.elements if tag == "rect"]
    assert rects
    for attrs in rects:
        for name in ("x", "y", "width", "height"):
            assert re.fullmatch(r"\d+\.\d", attrs[name]), attrs
    for attrs in page.all("data-target"):
        assert re.fullmatch(r"M[\d.]+,[\d.]+ C[\d., ]+ L[\d.]+,[\d.]+ C[\d., ]+ Z", attrs["d"])


def _csv_rows(response) -> list[list[str]]:
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@reads_world
def test_csv_numbers_equal_the_page(client, staff_user, scenario):
    client.force_login(staff_user)
    page = _parse(client.get(reverse("staff_cycle:dashboard")))
    response = client.get(reverse("staff_cycle:export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = _csv_rows(response)
    column = {name: index for index, name in enumerate(header)}
    csv_names = {"nominated": "Nominated", "admitted": "Admitted", "enrolled": "Enrolled",
                 "studying": "Still studying", "withdrawn": "Withdrawn",
                 "graduated": "Graduated", "stayed": "Stayed in Korea",
                 "returned": "Returned home", "other_path": "Other path",
                 "unknown_path": "Path not known yet",
                 "at_sme": "Graduates at SMEs",
                 "known_employer": "Graduates with a known employer type",
                 "returned_cooperating": "Returned, cooperating with Korean companies",
                 "alumni_mentors": "Alumni mentors"}
    by_scope = {}
    for row in rows:
        scope = row[column["Scope"]]
        key = row[column["Program"]] if scope == "Program" else row[column["Country"]]
        by_scope[scope, key] = row
    assert ("All", "") in by_scope
    all_row = by_scope["All", ""]
    total = direct_figures()
    for name, header_name in csv_names.items():
        assert int(all_row[column[header_name]]) == total[name], name
    assert float(all_row[column["Median days from nomination to graduation"]]) == pytest.approx(
        total["graduation_days_median"])
    assert float(all_row[column["Mean days from nomination to graduation"]]) == pytest.approx(
        total["graduation_days_mean"], abs=0.05)
    assert float(all_row[column["SME share (%)"]]) == pytest.approx(
        100 * total["at_sme"] / total["known_employer"], abs=0.05)

    for program in (scenario["a"], scenario["b"]):
        on_page = _page_numbers(page.rows["program", str(program.pk)])
        in_csv = by_scope["Program", program.name]
        assert {name: int(in_csv[column[h]]) for name, h in csv_names.items()} == on_page
    for code, name in (("ID", "Indonesia"), ("VN", "Vietnam")):
        on_page = _page_numbers(page.rows["country", code])
        in_csv = by_scope["Country", name]
        assert {key: int(in_csv[column[h]]) for key, h in csv_names.items()} == on_page

    filtered = _csv_rows(client.get(reverse("staff_cycle:export"), {"country": "VN"}))
    assert [row[0] for row in filtered[1:]] == ["All", "Program", "Country"]


# --- the public summary -------------------------------------------------------------------------

@reads_world
def test_public_page_has_no_personal_data(client, scenario):
    response = client.get(reverse("cycle:public"))
    assert response.status_code == 200
    # The language menu names languages ("English"), which a generated family name can be.
    text = re.sub(r"<select[^>]*name=\"language\".*?</select>", "", response.content.decode(),
                  flags=re.S)
    for family_name, given_names, email in Nomination.objects.values_list(
            "family_name", "given_names", "email"):
        assert f">{family_name}<" not in text and family_name.upper() not in text
        assert f"{given_names} {family_name}" not in text
        assert email not in text
    for full_name, email in Mentor.objects.values_list("full_name", "email"):
        assert full_name not in text and email not in text
    assert "Hanwha" not in text and "Daejin" not in text
    assert "@" not in text


@reads_world
def test_public_page_suppresses_small_counts(client, scenario):
    page = _parse(client.get(reverse("cycle:public")))
    labels = [str(label) for _key, label in cycle_views.PUBLIC_COLUMNS]
    keys = [key for key, _label in cycle_views.PUBLIC_COLUMNS]
    for program in (scenario["a"], scenario["b"]):
        cells = page.rows["program", str(program.pk)]["_cells"][2:]  # after name and country
        assert len(cells) == len(labels)
        direct = direct_figures(program=program)
        for key, cell in zip(keys, cells, strict=True):
            value = direct[key]
            if 0 < value < 3:
                assert cell is None, key
            else:
                assert cell == str(value), key
    # Program A withdrew one student and one returned home: neither count is shown.
    row_a = page.rows["program", str(scenario["a"].pk)]["_cells"][2:]
    assert row_a[keys.index("withdrawn")] is None and row_a[keys.index("returned")] is None
    assert row_a[keys.index("nominated")] == "8"
    text = client.get(reverse("cycle:public")).content.decode()
    assert 'id="suppression-note"' in text


@reads_world
def test_public_page_of_one_program(client, scenario):
    page = _parse(client.get(reverse("cycle:public"), {"program": scenario["b"].pk}))
    assert set(page.rows) == {("program", str(scenario["b"].pk))}
    assert client.get(reverse("cycle:public"), {"program": 999999}).status_code == 404


def _row(program_id, country, **counts):
    return CycleRow(scope="program", label=f"P{program_id}", country=country,
                    country_name=country, program_id=program_id,
                    figures=CycleFigures(**counts))


def test_public_suppression_hides_a_second_count_that_would_give_the_first_away():
    """Two programs of one country: the country's 7 graduates less program 1's 5 would reveal
    program 2's 2, so program 1's count is hidden as well. Program 1 alone, 0 or 3+: shown."""
    programs = [_row(1, "ID", nominated=10, graduated=5, withdrawn=0),
                _row(2, "ID", nominated=4, graduated=2, withdrawn=0),
                _row(3, "VN", nominated=1, graduated=1, withdrawn=0)]
    countries = [
        CycleRow(scope="country", label="ID", country="ID", country_name="ID", program_id=None,
                 figures=CycleFigures(nominated=14, graduated=7)),
        CycleRow(scope="country", label="VN", country="VN", country_name="VN", program_id=None,
                 figures=CycleFigures(nominated=1, graduated=1)),
    ]
    cells = cycle_views._public_cells(CycleReport(total=CycleFigures(), programs=programs,
                                                  countries=countries))
    keys = [key for key, _label in cycle_views.PUBLIC_COLUMNS]
    graduated, nominated = keys.index("graduated"), keys.index("nominated")
    assert cells["program", "2"][graduated] == {"value": None, "hidden": True}
    assert cells["program", "1"][graduated] == {"value": None, "hidden": True}
    assert cells["country", "ID"][graduated] == {"value": 7, "hidden": False}
    assert cells["program", "1"][nominated] == {"value": 10, "hidden": False}
    assert cells["program", "2"][nominated] == {"value": 4, "hidden": False}
    assert cells["program", "3"][nominated] == {"value": None, "hidden": True}
    assert cells["country", "VN"][nominated] == {"value": None, "hidden": True}
    assert cells["program", "1"][keys.index("withdrawn")] == {"value": 0, "hidden": False}


# --- who may see what ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["staff_cycle:dashboard", "staff_cycle:export"])
def test_staff_only(client, coordinator_user, mentor_user, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    for user in (coordinator_user, mentor_user):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_public_page_needs_no_login(client):
    response = client.get(reverse("cycle:public"))
    assert response.status_code == 200


# --- bounded queries ----------------------------------------------------------------------------

def _query_counts(client, staff_user) -> dict[str, int]:
    counts = {}
    client.force_login(staff_user)
    for name in ("staff_cycle:dashboard", "staff_cycle:export"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name)).status_code == 200
        counts[name] = len(queries)
    client.logout()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("cycle:public")).status_code == 200
    counts["cycle:public"] = len(queries)
    return counts


@reads_world
def test_queries_are_bounded_and_do_not_grow_with_the_data(client, staff_user, scenario,
                                                           django_assert_max_num_queries):
    client.force_login(staff_user)
    with django_assert_max_num_queries(10):
        client.get(reverse("staff_cycle:dashboard"))
    with django_assert_max_num_queries(10):
        client.get(reverse("staff_cycle:export"))
    client.logout()
    with django_assert_max_num_queries(6):
        client.get(reverse("cycle:public"))

    before = _query_counts(client, staff_user)
    build_scenario()  # twice the programs, nominations, graduates and mentors
    assert cycle_figures().nominated == 2 * direct_figures(program=scenario["a"])["nominated"] + (
        2 * direct_figures(program=scenario["b"])["nominated"])
    assert _query_counts(client, staff_user) == before
