"""Mentor-facing pages: the emailed invitation link, and the signed-in mentor's own page.

Thin: reads through selectors, writes through one service each. The link page never changes
anything on GET (email scanners open links); the answer is a POST.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ecocycle.exceptions import form_add_error, messages_add_error
from ecocycle.tokens import LinkState

from . import selectors, services
from .forms import ActivityForm, AnswerForm, ProfileForm
from .models import MentorAssignment

Status = MentorAssignment.Status

# The page state for a link whose assignment has moved on, by the assignment's status now.
_ANSWERED_STATES = {
    Status.ACCEPTED: "accepted", Status.DECLINED: "declined", Status.WITHDRAWN: "withdrawn",
    Status.EXPIRED: "expired",
}


def mentor_required(view):
    """Signed-in mentors only; the mentor profile is passed to the view."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        mentor = selectors.mentor_for_user(request.user)
        if mentor is None:
            raise PermissionDenied
        return view(request, mentor, *args, **kwargs)

    return wrapper


def _page_state(check, assignment) -> str:
    if check.state == LinkState.VALID:
        return "valid"
    if check.state == LinkState.INVALID or assignment is None:
        return "invalid"
    # An answered or withdrawn assignment shows that, whatever the link's own state.
    fallback = "expired" if check.state == LinkState.EXPIRED else "stale"
    return _ANSWERED_STATES.get(assignment.status, fallback)


_STATUS_CODES = {"valid": 200, "accepted": 200, "declined": 200, "invalid": 404}


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """The page the emailed link opens: the summary, and Accept / Decline as POSTs."""
    check, assignment = services.invitation_check(token)
    if assignment is not None and "django_language" not in request.COOKIES:
        # The mentor's own language unless they chose another with the switcher.
        translation.activate(assignment.mentor.language)
        request.LANGUAGE_CODE = assignment.mentor.language
    form = AnswerForm(request.POST or None)
    just_answered = False
    if request.method == "POST" and check.state == LinkState.VALID and form.is_valid():
        accept = request.POST.get("answer") == "accept"
        try:
            assignment = services.invitation_answer(
                token=token, accept=accept, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            check, assignment = services.invitation_check(token)
            if check.state == LinkState.VALID:
                form_add_error(form, error)  # e.g. capacity reached: the buttons stay
        else:
            just_answered = True
            check, assignment = services.invitation_check(token)
    state = _page_state(check, assignment)
    return render(request, "mentors/invitation.html", {
        "state": state, "assignment": assignment if state != "invalid" else None,
        "form": form, "just_answered": just_answered,
        "track": _track(assignment), "mentor": assignment.mentor if assignment else None,
    }, status=_STATUS_CODES.get(state, 410))


def _track(assignment):
    if assignment is None:
        return None
    admission = getattr(assignment.nomination, "admission", None)
    return admission.track if admission else None


@never_cache
@mentor_required
def mentor_home(request, mentor):
    assignments = list(selectors.assignment_list_for_mentor(mentor))
    return render(request, "mentors/mentor_home.html", {
        "mentor": mentor, "assignments": assignments,
        "pending": [a for a in assignments if a.status == Status.INVITED],
        "mentees": [a for a in assignments if a.status == Status.ACCEPTED],
        "past": [a for a in assignments if a.status not in (Status.INVITED, Status.ACCEPTED,
                                                             Status.PROPOSED)],
        "answer_form": AnswerForm(), "activity_form": ActivityForm(),
        "accepted_count": sum(a.status == Status.ACCEPTED for a in assignments),
    })


@mentor_required
@require_POST
def assignment_answer(request, mentor, pk):
    assignment = selectors.assignment_get_for_mentor(mentor, pk)
    form = AnswerForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    accept = request.POST.get("answer") == "accept"
    try:
        services.assignment_answer(actor=request.user, assignment=assignment, accept=accept,
                                   reason=reason)
    except ValidationError as error:
        messages_add_error(request, error)
    else:
        messages.success(request, _("Thank you: you now mentor %(name)s.") % {
            "name": assignment.nomination.display_name} if accept else
            _("Thank you for your answer. KITECH will find another mentor."))
    return redirect("mentors:home")


@mentor_required
@require_http_methods(["GET", "POST"])
def activity_new(request, mentor, pk):
    assignment = selectors.assignment_get_for_mentor(mentor, pk)
    form = ActivityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.mentoring_activity_record(actor=request.user, assignment=assignment,
                                               **form.cleaned_data)
        except ValidationError as error:
            form_add_error(form, error)
        else:
            messages.success(request, _("The meeting was recorded."))
            return redirect("mentors:home")
    return render(request, "mentors/activity_form.html", {
        "mentor": mentor, "assignment": assignment, "form": form})


@never_cache
@mentor_required
@require_http_methods(["GET", "POST"])
def profile(request, mentor):
    form = ProfileForm(request.POST or None, instance=mentor)
    if request.method == "POST" and form.is_valid():
        try:
            services.mentor_update(actor=request.user, mentor=mentor, data=form.service_data(),
                                   self_service=True)
        except ValidationError as error:
            form_add_error(form, error)
        else:
            messages.success(request, _("Your profile was saved."))
            return redirect("mentors:home")
    return render(request, "mentors/profile.html", {"mentor": mentor, "form": form})
