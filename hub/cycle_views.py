"""The cycle at a glance: nominated -> admitted -> enrolled -> graduated -> stayed or returned,
per program and per partner country.

Three pages under /cycle/: a public, anonymised summary (counts only, small counts hidden), the
staff dashboard with the flow diagram and every figure, and its CSV export. Project-level pages:
they read through `hub.selectors` and `mentors.selectors` and write nothing.
"""

from datetime import UTC, datetime

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_countries import countries

from ecocycle.access import staff_required
from ecocycle.exports import CSV_CONTENT_TYPE, ExportTable, csv_bytes
from hub import selectors as cycle
from hub.cycle_figures import CachedReport, cycle_report_cached

# The public page hides counts from 1 to SUPPRESS_BELOW - 1: in a tiny group a count can point
# at one person.
SUPPRESS_BELOW = 3

STAGE_LABELS = {
    "nominated": gettext_lazy("Nominated"),
    "admitted": gettext_lazy("Admitted"),
    "not_admitted": gettext_lazy("Not admitted (yet)"),
    "enrolled": gettext_lazy("Enrolled"),
    "not_enrolled": gettext_lazy("Not enrolled (yet)"),
    "graduated": gettext_lazy("Graduated"),
    "studying": gettext_lazy("Still studying"),
    "withdrawn": gettext_lazy("Withdrawn"),
    "stayed": gettext_lazy("Stayed in Korea"),
    "returned": gettext_lazy("Returned home"),
    "other_path": gettext_lazy("Other path"),
    "unknown_path": gettext_lazy("Path not known yet"),
}
# The flow diagram's columns, left to right; in each, the nodes from top to bottom.
SANKEY_COLUMNS = [
    ["nominated"],
    ["admitted", "not_admitted"],
    ["enrolled", "not_enrolled"],
    ["graduated", "studying", "withdrawn"],
    ["stayed", "returned", "other_path", "unknown_path"],
]
PUBLIC_COLUMNS = [
    ("nominated", gettext_lazy("Nominated")),
    ("admitted", gettext_lazy("Admitted")),
    ("enrolled", gettext_lazy("Enrolled")),
    ("withdrawn", gettext_lazy("Withdrawn")),
    ("graduated", gettext_lazy("Graduated")),
    ("stayed", gettext_lazy("Stayed in Korea")),
    ("returned", gettext_lazy("Returned home")),
    ("returned_cooperating", gettext_lazy("Returned, cooperating with Korean companies")),
    ("alumni_mentors", gettext_lazy("Alumni mentors")),
]


# --- filters ------------------------------------------------------------------------------------

def _filters(params) -> dict:
    """The program and country chosen in the query string; anything unknown is dropped."""
    programs = list(cycle.cycle_programs())
    country_codes = sorted({str(p.country) for p in programs})
    program_id = params.get("program") or ""
    program = next((p for p in programs if program_id.isdigit() and p.pk == int(program_id)),
                   None)
    country = params.get("country") or ""
    return {
        "programs": programs,
        "countries": sorted(((code, countries.name(code) or code) for code in country_codes),
                            key=lambda pair: pair[1].casefold()),
        "program": program,
        "country": country if country in country_codes else "",
    }


def _cached(filters: dict) -> CachedReport:
    # From the cache (hub.cycle_figures): counted again every few minutes, or soon after a change.
    return cycle_report_cached(program=filters["program"], country=filters["country"])


def _report(filters: dict) -> cycle.CycleReport:
    return _cached(filters).report


# --- the flow diagram ---------------------------------------------------------------------------
# Geometry is computed here as plain strings: templates would localise floats ("12,5") and
# break the SVG attributes in languages with a decimal comma.

SANKEY_WIDTH, SANKEY_HEIGHT = 960, 320
NODE_WIDTH, NODE_GAP, LABEL_SPACE, MIN_NODE_HEIGHT = 12, 16, 200, 2.0


def _f(value: float) -> str:
    return f"{value:.1f}"


def _band(x0: float, y0: float, x1: float, y1: float, thickness: float) -> str:
    middle = (x0 + x1) / 2
    return (f"M{_f(x0)},{_f(y0)} C{_f(middle)},{_f(y0)} {_f(middle)},{_f(y1)} {_f(x1)},{_f(y1)} "
            f"L{_f(x1)},{_f(y1 + thickness)} C{_f(middle)},{_f(y1 + thickness)} "
            f"{_f(middle)},{_f(y0 + thickness)} {_f(x0)},{_f(y0 + thickness)} Z")


def sankey(figures: cycle.CycleFigures) -> dict:
    """Nodes and bands of the flow diagram: heights proportional to the counts, all stages on
    one scale (the nominations fill the height). Empty stages and flows are left out."""
    values = {key: getattr(figures, key) for column in SANKEY_COLUMNS for key in column}
    most_nodes = max(len(column) for column in SANKEY_COLUMNS)
    scale = (SANKEY_HEIGHT - NODE_GAP * (most_nodes - 1)) / max(figures.nominated, 1)
    step = (SANKEY_WIDTH - LABEL_SPACE - NODE_WIDTH) / (len(SANKEY_COLUMNS) - 1)
    nodes, placed = [], {}
    for index, column in enumerate(SANKEY_COLUMNS):
        y = 0.0
        for key in column:
            if not values[key]:
                continue
            height = max(values[key] * scale, MIN_NODE_HEIGHT)
            node = {"key": key, "label": STAGE_LABELS[key], "count": values[key],
                    "x": index * step, "y": y, "height": height}
            placed[key] = {**node, "out": 0.0, "in": 0.0}
            nodes.append({"key": key, "label": node["label"], "count": node["count"],
                          "x": _f(node["x"]), "y": _f(y), "width": _f(NODE_WIDTH),
                          "height": _f(height), "text_x": _f(node["x"] + NODE_WIDTH + 4),
                          "text_y": _f(y + height / 2 + 4)})
            y += height + NODE_GAP
    links = []
    for source, target, count in figures.flows:
        if not count or source not in placed or target not in placed:
            continue
        start, end = placed[source], placed[target]
        thickness = count * scale
        links.append({
            "source": source, "target": target, "count": count,
            "title": f"{STAGE_LABELS[source]} → {STAGE_LABELS[target]}: {count}",
            "path": _band(start["x"] + NODE_WIDTH, start["y"] + start["out"], end["x"],
                          end["y"] + end["in"], thickness),
        })
        start["out"] += thickness
        end["in"] += thickness
    return {"nodes": nodes, "links": links, "width": str(SANKEY_WIDTH),
            "height": str(SANKEY_HEIGHT + 4)}


def _flow_rows(figures: cycle.CycleFigures) -> list[dict]:
    stage_counts = {"nominated": figures.nominated, "admitted": figures.admitted,
                    "enrolled": figures.enrolled, "graduated": figures.graduated}
    rows = []
    for source, target, count in figures.flows:
        base = stage_counts[source]
        rows.append({"source": source, "target": target, "source_label": STAGE_LABELS[source],
                     "target_label": STAGE_LABELS[target], "count": count,
                     "share": 100.0 * count / base if base else None})
    return rows


def _percent(share: float | None) -> float | None:
    return None if share is None else 100.0 * share


# --- staff pages --------------------------------------------------------------------------------

@never_cache
@staff_required
@require_GET
def dashboard(request):
    filters = _filters(request.GET)
    cached = _cached(filters)
    report = cached.report
    return render(request, "hub/cycle/dashboard.html", {
        "filters": filters, "report": report, "figures": report.total,
        "counted_at": datetime.fromtimestamp(cached.counted_at, tz=UTC),
        "sankey": sankey(report.total), "flow_rows": _flow_rows(report.total),
        "sme_percent": _percent(report.total.sme_share),
        "export_query": request.GET.urlencode(),
    })


def _number(value: float | None, digits: int = 1):
    return None if value is None else round(value, digits)


EXPORT_COUNTS = [
    ("nominated", gettext_lazy("Nominated")),
    ("admitted", gettext_lazy("Admitted")),
    ("not_admitted", gettext_lazy("Not admitted (yet)")),
    ("enrolled", gettext_lazy("Enrolled")),
    ("not_enrolled", gettext_lazy("Not enrolled (yet)")),
    ("studying", gettext_lazy("Still studying")),
    ("withdrawn", gettext_lazy("Withdrawn")),
    ("graduated", gettext_lazy("Graduated")),
    ("stayed", gettext_lazy("Stayed in Korea")),
    ("returned", gettext_lazy("Returned home")),
    ("other_path", gettext_lazy("Other path")),
    ("unknown_path", gettext_lazy("Path not known yet")),
    ("known_employer", gettext_lazy("Graduates with a known employer type")),
    ("at_sme", gettext_lazy("Graduates at SMEs")),
    ("returned_cooperating", gettext_lazy("Returned, cooperating with Korean companies")),
    ("alumni_mentors", gettext_lazy("Alumni mentors")),
    ("graduation_days_count", gettext_lazy("Graduates with both dates")),
]


def export_table(report: cycle.CycleReport) -> ExportTable:
    """Every figure, for everything in the scope, then per program, then per partner country."""
    headers = [_("Scope"), _("Program"), _("Country"),
               *(str(label) for _key, label in EXPORT_COUNTS),
               _("SME share (%)"), _("Median days from nomination to graduation"),
               _("Mean days from nomination to graduation")]
    scopes = {"all": _("All"), "program": _("Program"), "country": _("Country")}

    def line(scope: str, program: str, country: str, figures: cycle.CycleFigures) -> list:
        return [scopes[scope], program, country,
                *(getattr(figures, key) for key, _label in EXPORT_COUNTS),
                _number(_percent(figures.sme_share)), _number(figures.graduation_days_median),
                _number(figures.graduation_days_mean)]

    rows = [line("all", "", "", report.total)]
    rows += [line("program", row.label, row.country_name, row.figures)
             for row in report.programs]
    rows += [line("country", "", row.label, row.figures) for row in report.countries]
    return ExportTable(title=_("Cycle"), headers=headers, rows=rows)


@never_cache
@staff_required
@require_GET
def export(request):
    response = HttpResponse(csv_bytes(export_table(_report(_filters(request.GET)))),
                            content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="ecocycle-cycle.csv"'
    return response


# --- the public summary -------------------------------------------------------------------------

def _hidden(values: list[int]) -> set[int]:
    """Positions to hide among parts whose total is shown: the small ones, and when only one
    is small, the next smallest too, so that it cannot be found by subtraction."""
    hidden = {i for i, value in enumerate(values) if 0 < value < SUPPRESS_BELOW}
    if len(hidden) == 1:
        others = sorted((value, i) for i, value in enumerate(values)
                        if i not in hidden and value > 0)
        if others:
            hidden.add(others[0][1])
    return hidden


def _public_cells(report: cycle.CycleReport) -> dict[tuple[str, str], list[dict]]:
    """Each row's cells, by (scope, key): a count, or hidden."""
    cells: dict[tuple[str, str], list[dict]] = {}
    rows = [("program", str(row.program_id), row) for row in report.programs]
    rows += [("country", row.country, row) for row in report.countries]
    for scope, key, row in rows:
        cells[scope, key] = [
            {"value": value, "hidden": 0 < value < SUPPRESS_BELOW}
            for value in (getattr(row.figures, name) or 0 for name, _label in PUBLIC_COLUMNS)]
    # A country's count is the sum of its programs': hide a second program's count where only
    # one is hidden, else the country's count would give the hidden one away.
    for country_row in report.countries:
        members = [row for row in report.programs if row.country == country_row.country]
        if len(members) < 2:
            continue
        for column in range(len(PUBLIC_COLUMNS)):
            if cells["country", country_row.country][column]["hidden"]:
                continue
            parts = [cells["program", str(row.program_id)][column] for row in members]
            for index in _hidden([part["value"] for part in parts]):
                parts[index]["hidden"] = True
    for row_cells in cells.values():
        for cell in row_cells:
            if cell["hidden"]:
                cell["value"] = None
    return cells


@require_GET
def public(request):
    """Counts only, per program and per partner country; no names, no rows per person. From the
    cache: however many visitors it has, the database counts once every few minutes at most."""
    report = cycle_report_cached().report
    # Hidden over the whole table first, then narrowed: a program's own page never shows what
    # the full page hides.
    cells = _public_cells(report)
    program_rows = [{"row": row, "cells": cells["program", str(row.program_id)]}
                    for row in report.programs]
    country_rows = [{"row": row, "cells": cells["country", row.country]}
                    for row in report.countries]
    selected = request.GET.get("program") or ""
    if selected:
        program_rows = [entry for entry in program_rows
                        if str(entry["row"].program_id) == selected]
        if not program_rows:
            raise Http404
        country_rows = []
    return render(request, "hub/cycle/public.html", {
        "columns": [label for _key, label in PUBLIC_COLUMNS],
        "program_rows": program_rows, "country_rows": country_rows,
        "selected": program_rows[0]["row"] if selected else None,
        "suppress_below": SUPPRESS_BELOW,
    })
