"""Staff exports of a round's cohort, tracks and universities, as CSV or XLSX downloads.

A CSV is streamed as its rows are read (the cohort table's rows are lazy), so that a round of
tens of thousands of candidates never sits whole in a web process's memory. An XLSX of a large
round is built by a background job (hub.export_jobs): the download link then leads to a page
that asks for it (a POST), and the job's page shows its progress, refreshing itself, until the
file can be downloaded. Each staff member sees and downloads only the exports they asked for.
"""

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from candidates.selectors import EXPORT_TABLES, cohort_get_for_round
from ecocycle.access import staff_required
from ecocycle.exports import CSV_CONTENT_TYPE, FORMATS, XLSX_CONTENT_TYPE, csv_chunks
from programs.models import IntakeRound
from programs.selectors import intake_round_list

from .export_jobs import (
    XLSX_INLINE_ROWS,
    export_job_list_for_user,
    export_job_request,
    export_rows_estimate,
)
from .models import ExportJob


@never_cache  # personal data: no copy left in a shared cache
@require_GET
@login_required
def export(request, round_id: int, what: str, fmt: str) -> HttpResponse:
    # Staff only, checked before anything else so that others learn nothing about the round.
    if not request.user.is_kitech_staff:
        raise PermissionDenied
    if what not in EXPORT_TABLES or fmt not in FORMATS:
        raise Http404
    intake_round = get_object_or_404(IntakeRound, pk=round_id)
    if fmt == "xlsx":
        rows = export_rows_estimate(intake_round=intake_round, what=what)
        if rows > XLSX_INLINE_ROWS:
            return _export_prepare(request, intake_round, what, rows)
    table = EXPORT_TABLES[what](intake_round)
    if fmt == "csv":
        response = StreamingHttpResponse(_in_language(csv_chunks(table)),
                                         content_type=CSV_CONTENT_TYPE)
    else:
        render_table, content_type = FORMATS[fmt]
        response = HttpResponse(render_table(table), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="ecocycle-{intake_round.pk}-{what}.{fmt}"')
    return response


def _in_language(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks, written in the request's language even when the server reads them after
    the view has returned."""
    language = translation.get_language()
    with translation.override(language):
        yield from chunks


def _export_prepare(request, intake_round: IntakeRound, what: str, rows: int) -> HttpResponse:
    """Too large to build in the request: a page that asks for it to be built (changes
    nothing), with the member's earlier exports of the round."""
    # With its milestones: the page's header shows its phase.
    intake_round = get_object_or_404(intake_round_list(), pk=intake_round.pk)
    return render(request, "hub/staff/export_prepare.html", {
        "intake_round": intake_round, "cohort": cohort_get_for_round(intake_round),
        "active": "overview", "what": what, "rows": rows,
        "jobs": list(export_job_list_for_user(request.user, intake_round)[:5]),
    })


@staff_required
@require_POST
def export_job_create(request, round_id: int, what: str):
    if what not in EXPORT_TABLES:
        raise Http404
    intake_round = get_object_or_404(IntakeRound, pk=round_id)
    job = export_job_request(actor=request.user, intake_round=intake_round, what=what)
    return redirect("staff_rounds:export_job", job_id=job.pk)


def _job(request, job_id: int) -> ExportJob:
    # Scoped to the member who asked for it: another's file is not found.
    return get_object_or_404(export_job_list_for_user(request.user), pk=job_id)


@never_cache
@staff_required
@require_GET
def export_job(request, job_id: int):
    """The job's progress; the page refreshes itself (a meta refresh: no script) while it is
    being built, and offers the file once it is ready."""
    job = _job(request, job_id)
    intake_round = get_object_or_404(intake_round_list(), pk=job.intake_round_id)
    return render(request, "hub/staff/export_job.html", {
        "intake_round": intake_round, "cohort": cohort_get_for_round(intake_round),
        "active": "overview", "job": job, "refresh_seconds": 3 if job.pending else None,
    })


@never_cache  # personal data: no copy left in a shared cache
@staff_required
@require_GET
def export_job_download(request, job_id: int):
    job = _job(request, job_id)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, content_type=XLSX_CONTENT_TYPE,
                        filename=f"ecocycle-{job.intake_round_id}-{job.what}.{job.fmt}")
