"""Staff pages of the mentors domain under /staff/mentors/: mentors and their load, a round's
assignments and mentoring log, withdrawing an assignment and proposing a mentor by hand.

KITECH staff only: every view is wrapped in `staff_required`. Thin: reads go through
`mentors.selectors` and `candidates.selectors` (the rows a form names are looked up by id),
writes through one service each. A refused action re-renders the round
page with the error beside the form it concerns and what was typed kept in it.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from candidates.models import Cohort, Nomination
from candidates.selectors import cohort_get_for_round
from ecocycle.access import staff_required
from ecocycle.exceptions import messages_add_error
from programs.models import IntakeRound
from programs.selectors import intake_round_list

from . import fit as mentor_fit
from . import selectors, services
from .models import Mentor, MentorAssignment, MentoringActivity

Status = MentorAssignment.Status


def _round(round_id: int) -> IntakeRound:
    # With its program and milestones, so that the header's phase costs no further query.
    return get_object_or_404(intake_round_list(), pk=round_id)


def _status_filter(value: str | None) -> str:
    return value if value in Status.values else ""


def _back_to_round(intake_round: IntakeRound, status: str):
    url = reverse("staff_mentors:round_assignments", args=[intake_round.pk])
    return redirect(f"{url}?{urlencode({'status': status})}" if status else url)


# --- mentors ------------------------------------------------------------------------------------

@never_cache
@staff_required
@require_GET
def mentor_list(request):
    mentors = selectors.mentor_list_with_load()
    near_only = request.GET.get("near") == "1"
    return render(request, "mentors/staff/mentor_list.html", {
        "mentors": [m for m in mentors if m.near_capacity] if near_only else mentors,
        "total": len(mentors),
        "near_count": sum(m.near_capacity for m in mentors),
        "paused_count": sum(not m.is_active for m in mentors),
        "near_only": near_only,
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

def _propose_options(nomination: Nomination, mentors: list[Mentor]) -> dict:
    """The mentors who share a language with the candidate first; the others after them."""
    languages = mentor_fit.mentee_languages(nomination.candidate_language,
                                            nomination.language_test)
    shared = [m for m in mentors if languages & m.language_codes]
    return {"shared": shared, "other": [m for m in mentors if not languages & m.language_codes]}


def _round_context(intake_round: IntakeRound, status: str, *, withdraw_error=None,
                   propose_error=None) -> dict:
    """The round page. `withdraw_error` / `propose_error`: (row id, messages, typed value)."""
    cohort = cohort_get_for_round(intake_round)
    counts = selectors.status_counts(intake_round)
    assignments = list(selectors.assignment_list_for_staff(intake_round=intake_round,
                                                           status=status or None))
    for assignment in assignments:
        assignment.live = assignment.status in MentorAssignment.ACTIVE
        assignment.withdraw_errors, assignment.withdraw_reason_typed = [], ""
        if withdraw_error and withdraw_error[0] == assignment.pk:
            assignment.withdraw_errors, assignment.withdraw_reason_typed = withdraw_error[1:]
    mentors = selectors.mentors_with_seats_left()
    without = list(selectors.candidates_without_mentor(intake_round))
    for nomination in without:
        nomination.propose_options = _propose_options(nomination, mentors)
        nomination.propose_errors, nomination.propose_mentor_typed = [], None
        if propose_error and propose_error[0] == nomination.pk:
            nomination.propose_errors, nomination.propose_mentor_typed = propose_error[1:]
    activity = selectors.cohort_activity(intake_round)
    errors = (withdraw_error or propose_error or (None, []))[1]
    return {
        "intake_round": intake_round, "cohort": cohort, "active": "mentors",
        "approved": cohort is not None and cohort.status == Cohort.Status.APPROVED,
        "status_counts": [(value, label, counts.get(value, 0))
                          for value, label in Status.choices],
        "total": sum(counts.values()), "status": status, "assignments": assignments,
        "without": without, "mentors_available": bool(mentors),
        "activity": activity,
        "activity_by_mode": [(label, activity.by_mode.get(value, 0))
                             for value, label in MentoringActivity.Mode.choices],
        "errors": errors,
    }


@never_cache
@staff_required
@require_GET
def round_assignments(request, round_id):
    intake_round = _round(round_id)
    status = _status_filter(request.GET.get("status"))
    return render(request, "mentors/staff/round_assignments.html",
                  _round_context(intake_round, status))


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
        context = _round_context(intake_round, status,
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
        context = _round_context(intake_round, status, propose_error=(
            nomination.pk, list(error.messages), mentor.pk if mentor else None))
        return render(request, "mentors/staff/round_assignments.html", context, status=400)
    messages.success(request, _(
        "%(mentor)s is proposed for %(candidate)s; the invitation is being emailed."
    ) % {"mentor": mentor, "candidate": nomination})
    return _back_to_round(intake_round, status)


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
