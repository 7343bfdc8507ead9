"""Staff pages of the mentors domain under /staff/mentors/: mentors and their load, a round's
assignments and mentoring log, withdrawing an assignment and proposing a mentor by hand.

The round page does not grow with the round: both tables come a page at a time, and the mentor
for a candidate is found by one search (JSON for the page's script, or the page itself listing
one candidate's best fits), never by a list of every mentor in every row.

KITECH staff only: every view is wrapped in `staff_required`. Thin: reads go through
`mentors.selectors` and `candidates.selectors` (the rows a form names are looked up by id),
writes through one service each. A refused action re-renders the round
page with the error beside the form it concerns and what was typed kept in it.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from candidates.models import Cohort, Nomination
from candidates.selectors import cohort_get_for_round
from ecocycle.access import staff_required
from ecocycle.exceptions import messages_add_error
from programs.models import IntakeRound
from programs.selectors import intake_round_list

from . import selectors, services
from .models import Mentor, MentorAssignment, MentoringActivity

Status = MentorAssignment.Status
# Rows per page of the mentor list and of the round page's two tables: a page's size does not
# grow with the mentors or the round.
PAGE_SIZE = 25


def _round(round_id: int) -> IntakeRound:
    # With its program and milestones, so that the header's phase costs no further query.
    return get_object_or_404(intake_round_list(), pk=round_id)


def _status_filter(value: str | None) -> str:
    return value if value in Status.values else ""


def _back_to_round(intake_round: IntakeRound, status: str, page: str = "1"):
    url = reverse("staff_mentors:round_assignments", args=[intake_round.pk])
    query = {key: value for key, value in (("status", status), ("page", page))
             if value and value != "1"}
    return redirect(f"{url}?{urlencode(query)}" if query else url)


# --- mentors ------------------------------------------------------------------------------------

@never_cache
@staff_required
@require_GET
def mentor_list(request):
    near_only = request.GET.get("near") == "1"
    page = Paginator(selectors.mentor_list_with_load(near_only=near_only),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    everyone = selectors.mentor_list_with_load()
    return render(request, "mentors/staff/mentor_list.html", {
        "mentors": list(page.object_list), "page": page,
        "total": everyone.count(),
        "near_count": everyone.filter(near_capacity=True).count(),
        "paused_count": Mentor.objects.filter(is_active=False).count(),
        "near_only": near_only, "near_percent": selectors.NEAR_CAPACITY_PERCENT,
        "rounds": selectors.rounds_with_admissions(),
        "to_confirm": selectors.alumni_mentors_to_confirm(),
    })


@never_cache
@staff_required
@require_GET
def mentor_detail(request, mentor_id):
    mentor = selectors.mentor_get(mentor_id)
    assignments = list(selectors.assignment_list_for_staff(mentor=mentor))
    accepted = sum(a.status == Status.ACCEPTED for a in assignments)
    pending = sum(a.status in (Status.PROPOSED, Status.INVITED) for a in assignments)
    return render(request, "mentors/staff/mentor_detail.html", {
        "mentor": mentor, "assignments": assignments, "accepted": accepted, "pending": pending,
        "seats_left": max(mentor.capacity - accepted - pending, 0),
    })


# --- a round's assignments ----------------------------------------------------------------------

# The best fits listed for one candidate when staff search without the page's script.
SHORT_LIST_SIZE = 10


@dataclass
class Chosen:
    """The one candidate whose mentor search the page answers (no script needed): their id,
    what was typed, the mentor picked before a refusal, and its messages."""

    nomination_id: int
    query: str = ""
    mentor_id: int | None = None
    errors: list = field(default_factory=list)


def _page_number(value) -> str:
    return str(value) if str(value or "").isdigit() else "1"


def _without_page(intake_round: IntakeRound, number: str, chosen: Chosen | None):
    page = Paginator(selectors.candidates_without_mentor(intake_round),
                     PAGE_SIZE).get_page(number)
    rows = list(page.object_list)
    for nomination in rows:
        nomination.chosen = chosen if chosen and chosen.nomination_id == nomination.pk else None
        if nomination.chosen:
            nomination.intake_round = intake_round
            nomination.options = selectors.mentor_options_for_candidate(
                nomination, today=timezone.localdate(), query=chosen.query,
                limit=SHORT_LIST_SIZE)
    page.object_list = rows
    return page


def _round_context(intake_round: IntakeRound, status: str, *, withdraw_error=None,
                   pages=("1", "1"), chosen: Chosen | None = None) -> dict:
    """The round page. `withdraw_error`: (row id, messages, typed value); `pages`: the page
    numbers of the assignments and of the candidates without a mentor."""
    cohort = cohort_get_for_round(intake_round)
    counts = selectors.status_counts(intake_round)
    assignments = Paginator(selectors.assignment_list_for_staff(
        intake_round=intake_round, status=status or None), PAGE_SIZE).get_page(pages[0])
    for assignment in assignments:
        assignment.live = assignment.status in MentorAssignment.ACTIVE
        assignment.withdraw_errors, assignment.withdraw_reason_typed = [], ""
        if withdraw_error and withdraw_error[0] == assignment.pk:
            assignment.withdraw_errors, assignment.withdraw_reason_typed = withdraw_error[1:]
    without = _without_page(intake_round, pages[1], chosen)
    activity = selectors.cohort_activity(intake_round)
    return {
        "intake_round": intake_round, "cohort": cohort, "active": "mentors",
        "approved": cohort is not None and cohort.status == Cohort.Status.APPROVED,
        "status_counts": [(value, label, counts.get(value, 0))
                          for value, label in Status.choices],
        "total": sum(counts.values()), "status": status,
        "assignments": list(assignments), "assignments_page": assignments,
        "without": list(without), "without_page": without,
        "mentors_available": selectors.mentors_available(timezone.localdate()),
        "activity": activity,
        "activity_by_mode": [(label, activity.by_mode.get(value, 0))
                             for value, label in MentoringActivity.Mode.choices],
        "errors": (withdraw_error[1] if withdraw_error else chosen.errors if chosen else []),
    }


def _pages(data) -> tuple[str, str]:
    return _page_number(data.get("assignments_page")), _page_number(data.get("page"))


@never_cache
@staff_required
@require_GET
def round_assignments(request, round_id):
    """The round's assignments and its candidates without a mentor, a page of each. Given
    `candidate` (and `q`), that candidate's row lists their best-fitting mentors: the search
    that works without the page's script."""
    intake_round = _round(round_id)
    status = _status_filter(request.GET.get("status"))
    candidate = request.GET.get("candidate", "")
    chosen = (Chosen(int(candidate), query=(request.GET.get("q") or "").strip()[:100])
              if candidate.isdigit() else None)
    return render(request, "mentors/staff/round_assignments.html",
                  _round_context(intake_round, status, pages=_pages(request.GET),
                                 chosen=chosen))


@never_cache
@staff_required
@require_GET
def mentor_options(request, round_id):
    """JSON for the page's mentor search: the best-fitting mentors one admitted candidate of
    the round may be proposed (`candidate`), filtered by name (`q`), at most `limit`."""
    intake_round = _round(round_id)
    candidate = request.GET.get("candidate", "")
    if not candidate.isdigit():
        return JsonResponse({"error": _("Say which candidate (candidate=<id>).")}, status=400)
    nomination = selectors.admitted_candidate_get(intake_round, int(candidate))
    nomination.intake_round = intake_round
    limit = request.GET.get("limit", "")
    mentors = selectors.mentor_options_for_candidate(
        nomination, today=timezone.localdate(), query=(request.GET.get("q") or "").strip()[:100],
        limit=int(limit) if limit.isdigit() else SHORT_LIST_SIZE)
    return JsonResponse({"candidate": nomination.pk, "results": [
        {"id": m.pk, "name": m.full_name, "languages": m.languages_spoken,
         "seats_left": m.seats_left, "fit": m.fit, "label": _option_label(m)}
        for m in mentors]})


def _option_label(mentor: Mentor) -> str:
    return ngettext("%(name)s (%(languages)s) — %(seats)s seat left",
                    "%(name)s (%(languages)s) — %(seats)s seats left", mentor.seats_left) % {
        "name": mentor.full_name, "languages": mentor.languages_spoken,
        "seats": mentor.seats_left}


@staff_required
@require_POST
def assignment_withdraw(request, pk):
    assignment = selectors.assignment_get_for_staff(pk)
    intake_round = _round(assignment.nomination.intake_round_id)
    reason = (request.POST.get("reason") or "").strip()[:2000]
    status = _status_filter(request.POST.get("status"))
    try:
        services.assignment_withdraw(actor=request.user, assignment=assignment, reason=reason)
    except ValidationError as error:
        context = _round_context(intake_round, status, pages=_pages(request.POST),
                                 withdraw_error=(assignment.pk, list(error.messages), reason))
        return render(request, "mentors/staff/round_assignments.html", context, status=400)
    messages.success(request, _("%(mentor)s is withdrawn from %(candidate)s.") % {
        "mentor": assignment.mentor, "candidate": assignment.nomination})
    return _back_to_round(intake_round, status)


class ProposeForm(forms.Form):
    nomination = forms.IntegerField(min_value=1)
    # Empty is let through to be answered with a message beside the select.
    mentor = forms.IntegerField(min_value=1, required=False)
    status = forms.CharField(max_length=20, required=False)
    q = forms.CharField(max_length=100, required=False)


@staff_required
@require_POST
def assignment_propose(request, round_id):
    intake_round = _round(round_id)
    form = ProposeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The proposal could not be read. Please try again."))
        return _back_to_round(intake_round, _status_filter(request.POST.get("status")))
    data = form.cleaned_data
    status = _status_filter(data["status"])
    nomination = get_object_or_404(Nomination, pk=data["nomination"], intake_round=intake_round)
    mentor = Mentor.objects.filter(pk=data["mentor"]).first() if data["mentor"] else None
    try:
        if mentor is None:
            raise ValidationError({"mentor": _("Choose a mentor for %(candidate)s.") % {
                "candidate": nomination}})
        services.assignment_propose(actor=request.user, nomination=nomination, mentor=mentor)
    except ValidationError as error:
        chosen = Chosen(nomination.pk, query=data["q"].strip(),
                        mentor_id=mentor.pk if mentor else None, errors=list(error.messages))
        context = _round_context(intake_round, status, pages=_pages(request.POST),
                                 chosen=chosen)
        return render(request, "mentors/staff/round_assignments.html", context, status=400)
    messages.success(request, _(
        "%(mentor)s is proposed for %(candidate)s; the invitation is being emailed."
    ) % {"mentor": mentor, "candidate": nomination})
    return _back_to_round(intake_round, status, _pages(request.POST)[1])


@staff_required
@require_POST
def mentor_confirm(request, mentor_id):
    """Confirm an alumnus's offer to mentor: the profile becomes active."""
    mentor = selectors.mentor_get(mentor_id)
    try:
        services.mentor_confirm(actor=request.user, mentor=mentor)
    except ValidationError as error:
        messages_add_error(request, error)
    else:
        messages.success(request, _("%(mentor)s is confirmed and can now be proposed.") % {
            "mentor": mentor})
    return redirect("staff_mentors:mentor_list")
