"""Staff page for career matching under /staff/careers/: the latest proposals with their reasons,
sending introductions, dismissing proposals, running the matching now, companies' openings.

KITECH staff only: every view is wrapped in `staff_required`. Thin: reads go through
`students.selectors`, writes through `students.services.careers`; a refused action re-renders
the page with the error beside the proposal it concerns and the typed reason kept.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from candidates.models import MatchRun
from ecocycle.access import staff_required

from . import selectors
from .models import CareerProposal
from .services import careers
from .tasks import run_career_matching

Status = CareerProposal.Status
PAGE_SIZE = 100
# When staff last asked for a run; forgotten after the task's time limit.
RUN_REQUESTED_KEY = "students:career-run-requested"
RUN_REQUESTED_SECONDS = 30 * 60
ALL = "all"
DEFAULT_STATUS = Status.PROPOSED
PART_LABELS = {
    "technologies": gettext_lazy("Core technologies"),
    "skills": gettext_lazy("Skills"),
    "wish": gettext_lazy("Wish"),
    "region": gettext_lazy("Region"),
    "program": gettext_lazy("Program"),
}


def _status(value: str | None) -> str:
    return value if value in (*Status.values, ALL) else DEFAULT_STATUS


def _back(status: str, page: str = ""):
    url = reverse("staff_careers:proposal_list")
    query = {key: value for key, value in (("status", status), ("page", page))
             if value and not (key == "status" and value == DEFAULT_STATUS)}
    return redirect(f"{url}?{urlencode(query)}" if query else url)


def _context(status: str, page_number, *, error=None) -> dict:
    """The page. `error`: (proposal id, messages, typed reason) for the row that was refused."""
    counts = selectors.career_status_counts()
    proposals = selectors.career_proposal_list(status=None if status == ALL else status)
    page = Paginator(proposals, PAGE_SIZE).get_page(page_number)
    rows = list(page.object_list)
    for proposal in rows:
        explanation = proposal.explanation or {}
        proposal.reasons = selectors.career_reasons(explanation)
        proposal.part_list = [(label, (explanation.get("parts") or {}).get(name))
                              for name, label in PART_LABELS.items()
                              if name in (explanation.get("parts") or {})]
        proposal.dismiss_reason = (explanation.get("dismissal") or {}).get("reason", "")
        proposal.errors, proposal.reason_typed = [], ""
        if error and error[0] == proposal.pk:
            proposal.errors, proposal.reason_typed = error[1], error[2]
    companies = selectors.career_company_openings()
    latest_run = selectors.career_latest_run()
    return {
        "status": status, "default_status": DEFAULT_STATUS,
        "status_counts": [(value, label, counts.get(value, 0))
                          for value, label in Status.choices],
        "total": sum(counts.values()), "page": page, "proposals": rows,
        "companies": companies,
        "openings": sum(c.openings_per_year for c in companies),
        "openings_left": sum(c.left for c in companies),
        "latest_run": latest_run, "run_queued": _run_queued(latest_run),
        "errors": error[1] if error else [],
        "window_days": careers.WINDOW_DAYS,
    }


@never_cache
@staff_required
@require_GET
def proposal_list(request):
    status = _status(request.GET.get("status"))
    return render(request, "students/staff/careers.html",
                  _context(status, request.GET.get("page")))


@staff_required
@require_POST
def run_now(request):
    """Queue a career matching run: the request does none of the matching's work, which grows
    with the students and companies. The page says the run is queued until one has started."""
    cache.set(RUN_REQUESTED_KEY, timezone.now(), RUN_REQUESTED_SECONDS)
    run_career_matching.delay_on_commit(actor_id=request.user.pk, trigger=MatchRun.Trigger.STAFF)
    messages.success(request, _("Career matching is queued. This page shows its figures once it "
                                "has run; reload it in a minute."))
    return redirect("staff_careers:proposal_list")


def _run_queued(latest_run: MatchRun | None) -> bool:
    requested = cache.get(RUN_REQUESTED_KEY)
    return requested is not None and (latest_run is None or latest_run.started_at < requested)


def _proposal(pk: int) -> CareerProposal:
    return selectors.career_proposal_get(pk)


def _refused(request, proposal, error: ValidationError, reason: str = ""):
    status = _status(request.POST.get("status"))
    context = _context(status, request.POST.get("page"),
                       error=(proposal.pk, list(error.messages), reason))
    return render(request, "students/staff/careers.html", context, status=400)


@staff_required
@require_POST
def introduce(request, pk):
    proposal = _proposal(pk)
    try:
        proposal = careers.career_introduce(actor=request.user, proposal=proposal)
    except ValidationError as error:
        return _refused(request, proposal, error)
    messages.success(request, _(
        "%(student)s and %(company)s are introduced; both are being emailed."
    ) % {"student": proposal.enrolment.nomination, "company": proposal.company})
    return _back(_status(request.POST.get("status")), request.POST.get("page", ""))


@staff_required
@require_POST
def dismiss(request, pk):
    proposal = _proposal(pk)
    reason = (request.POST.get("reason") or "").strip()[:2000]
    try:
        careers.career_dismiss(actor=request.user, proposal=proposal, reason=reason)
    except ValidationError as error:
        return _refused(request, proposal, error, reason)
    messages.success(request, _(
        "The proposal of %(company)s for %(student)s is dismissed; it will not be made again."
    ) % {"student": proposal.enrolment.nomination, "company": proposal.company})
    return _back(_status(request.POST.get("status")), request.POST.get("page", ""))
