"""Mentor-facing pages: the emailed invitation link, and the signed-in mentor's own page.

Thin: reads through selectors, writes through one service each. The link page never changes
anything on GET (email scanners open links); the answer is a POST.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ecocycle.exceptions import form_add_error, messages_add_error
from ecocycle.links import LinkState, link_dead_render, link_language_activate, link_page

from . import selectors, services
from .forms import ActivityForm, AnswerForm, ProfileForm
from .models import MentorAssignment

Status = MentorAssignment.Status


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


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """The page the emailed link opens: the summary, and Accept / Decline as POSTs."""
    check = services.invitation_check(token)
    link_language_activate(request, services.MENTOR_INVITATION_LINK, check)
    form = AnswerForm(request.POST or None)
    just_answered = False
    if request.method == "POST" and check.state == LinkState.VALID and form.is_valid():
        accept = request.POST.get("answer") == "accept"
        try:
            services.invitation_answer(token=token, accept=accept,
                                       reason=form.cleaned_data["reason"])
        except ValidationError as error:
            check = services.invitation_check(token)
            if check.state == LinkState.VALID:
                form_add_error(form, error)  # e.g. capacity reached: the buttons stay
        else:
            just_answered = True
            check = services.invitation_check(token)
    page = link_page(services.MENTOR_INVITATION_LINK, check)
    if page.dead:
        return link_dead_render(request, services.MENTOR_INVITATION_LINK, page)
    assignment = check.object
    admission = getattr(assignment.nomination, "admission", None)
    return render(request, "mentors/invitation.html", {
        # Once answered, the page shows the answer: "accepted" or "declined".
        "state": assignment.status if page.state == "used" else "valid",
        "assignment": assignment, "form": form, "just_answered": just_answered,
        "track": admission.track if admission else None, "mentor": assignment.mentor,
    })


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
