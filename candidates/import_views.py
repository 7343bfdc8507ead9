"""CSV import of many nominations at once: the upload page, the page that follows the import's
background job, and the template download.

Thin, like the other coordinator pages: the round is read through a selector (404 when it is
not one of the coordinator's), the upload is kept and queued as a job (candidates.imports),
and the kernel's import page (ecocycle.csvimport_views) shows what refuses the file at once.
The job's page shows its progress (static/js/import-progress.js asks the status URL) and then
every problem by row and column, or what was imported.
"""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ecocycle.csvimport_views import import_page, template_download
from ecocycle.exceptions import DomainError
from programs.models import IntakeRound

from . import imports, selectors
from .models import NominationImportJob
from .views import coordinator_required

# The most problems the page lists; the rest are counted (the job keeps them all).
ERRORS_SHOWN = 2000


def _created(count: int) -> str:
    return ngettext(
        "%(count)s draft nomination was created. Upload the candidate's documents and "
        "submit the draft.",
        "%(count)s draft nominations were created. Upload each candidate's documents and "
        "submit each draft.",
        count,
    ) % {"count": count}


@never_cache
@coordinator_required
@require_http_methods(["GET", "POST"])
def nomination_import(request, coordinator, round_id):
    intake_round = selectors.round_get_for_coordinator(coordinator, round_id)
    is_open = intake_round.phase == IntakeRound.Phase.NOMINATIONS

    def queue(file) -> str:
        job = imports.nomination_import_job_create(
            actor=request.user, intake_round=intake_round, university=coordinator.university,
            file=file)
        return reverse("candidates:nomination_import_job", args=[intake_round.pk, job.pk])

    return import_page(
        request,
        importer=imports.NominationImport(actor=request.user, intake_round=intake_round,
                                          university=coordinator.university),
        template_name="candidates/nomination_import.html",
        template_url=reverse("candidates:nomination_import_template", args=[intake_round.pk]),
        cancel_url=reverse("candidates:coordinator_home"),
        success_url=_drafts_url(intake_round),
        success_message=_created,
        can_upload=is_open,
        queue=queue,
        context={
            "coordinator": coordinator,
            "intake_round": intake_round,
            "is_open": is_open,
            "tracks": selectors.round_tracks(intake_round),
            "technologies": intake_round.program.core_technologies.order_by("name"),
            "recent_jobs": imports.nomination_import_jobs_recent(
                university=coordinator.university, intake_round=intake_round),
        },
    )


def _drafts_url(intake_round: IntakeRound) -> str:
    return f"{reverse('candidates:coordinator_home')}?round={intake_round.pk}&status=draft"


def _job(coordinator, round_id: int, job_id: int) -> tuple[IntakeRound, NominationImportJob]:
    """The round and one of the coordinator's university's imports in it; 404 otherwise."""
    intake_round = selectors.round_get_for_coordinator(coordinator, round_id)
    job = imports.nomination_import_job_get(university=coordinator.university,
                                            intake_round=intake_round, job_id=job_id)
    if job is None:
        raise Http404
    return intake_round, job


def _job_state(job: NominationImportJob) -> dict:
    stale = imports.job_is_stale(job)
    Status = NominationImportJob.Status
    status = Status.FAILED if stale else Status(job.status)
    return {
        "status": status.value,
        "label": str(status.label),
        "finished": status in (Status.DONE, Status.REJECTED, Status.FAILED),
        "rows_total": job.rows_total,
        "rows_checked": job.rows_checked,
        "rows_imported": job.rows_imported,
    }


@never_cache
@coordinator_required
@require_GET
def import_job(request, coordinator, round_id, job_id):
    intake_round, job = _job(coordinator, round_id, job_id)
    state = _job_state(job)
    errors = [imports.RowError(*error) for error in job.errors]
    row_errors = [error for error in errors if error.row is not None]
    return render(request, "candidates/nomination_import_job.html", {
        "coordinator": coordinator,
        "intake_round": intake_round,
        "job": job,
        "state": state,
        "can_retry": imports.job_can_retry(job),
        "file_errors": [error for error in errors if error.row is None],
        "row_errors": row_errors[:ERRORS_SHOWN],
        "more_errors": max(len(row_errors) - ERRORS_SHOWN, 0),
        "rows_with_errors": len({error.row for error in row_errors}),
        "status_url": reverse("candidates:nomination_import_job_status",
                              args=[intake_round.pk, job.pk]),
        "import_url": reverse("candidates:nomination_import", args=[intake_round.pk]),
        "drafts_url": _drafts_url(intake_round),
    })


@never_cache
@coordinator_required
@require_GET
def import_job_status(request, coordinator, round_id, job_id):
    _intake_round, job = _job(coordinator, round_id, job_id)
    return JsonResponse(_job_state(job))


@coordinator_required
@require_POST
def import_job_retry(request, coordinator, round_id, job_id):
    intake_round, job = _job(coordinator, round_id, job_id)
    try:
        imports.nomination_import_job_retry(actor=request.user, job=job)
    except DomainError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        messages.success(request, _("The import runs again."))
    return redirect("candidates:nomination_import_job", intake_round.pk, job.pk)


@coordinator_required
@require_GET
def import_template(request, coordinator, round_id):
    intake_round = selectors.round_get_for_coordinator(coordinator, round_id)
    content = imports.import_template_csv(intake_round=intake_round,
                                          university=coordinator.university)
    return template_download(content, filename=f"nominations-round-{intake_round.pk}.csv")
