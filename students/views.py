"""Staff pages for students after admission under /staff/students/: enrolment, progress steps
(one student or many at once, all or nothing), details, and alumni outcomes.

KITECH staff only. Thin: reads through selectors, writes through one service each; a refused
change is shown on the page with what was typed kept.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ecocycle.access import staff_required
from ecocycle.exceptions import form_add_error
from programs.selectors import intake_round_list

from . import selectors, services
from .forms import AlumniOutcomeForm, EnrolForm, EnrolmentDetailsForm, ProgressStepForm
from .models import Enrolment

PAGE_SIZE = 100


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


def _refuse_past_a_page(form, chosen: set[int]) -> None:
    if form.is_bound and len(chosen) > PAGE_SIZE:
        form.add_error(None, _("Choose at most %(count)s students at a time.") % {
            "count": PAGE_SIZE})


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def student_list(request):
    round_id = _int(request.GET.get("round"))
    status = request.GET.get("status") if request.GET.get("status") in Enrolment.Status.values \
        else None
    search = (request.GET.get("q") or "").strip()[:100]
    step_form = ProgressStepForm(request.POST if "record_step" in request.POST else None,
                                 prefix="step")
    enrol_form = EnrolForm(request.POST if "enrol" in request.POST else None, prefix="enrol")
    chosen = {int(pk) for pk in request.POST.getlist("students") if pk.isdigit()}
    chosen_admissions = {int(pk) for pk in request.POST.getlist("admissions") if pk.isdigit()}
    # Each one is a few writes in the request: no more than a page's checkboxes at once.
    _refuse_past_a_page(step_form, chosen)
    _refuse_past_a_page(enrol_form, chosen_admissions)
    if request.method == "POST" and "record_step" in request.POST and step_form.is_valid():
        try:
            done = services.enrolment_record_many(
                actor=request.user, enrolments=selectors.enrolment_list_by_ids(chosen),
                kind=step_form.cleaned_data["kind"], on=step_form.cleaned_data["on"],
                note=step_form.cleaned_data["note"], values=step_form.service_values())
        except ValidationError as error:
            form_add_error(step_form, error)
        else:
            messages.success(request, _("Recorded for %(count)s students.") % {
                "count": len(done)})
            return redirect(request.get_full_path())
    if request.method == "POST" and "enrol" in request.POST and enrol_form.is_valid():
        try:
            done = services.enrolment_create_many(
                actor=request.user, admissions=selectors.admission_list_by_ids(chosen_admissions),
                **enrol_form.cleaned_data)
        except ValidationError as error:
            form_add_error(enrol_form, error)
        else:
            messages.success(request, _("%(count)s students were enrolled.") % {
                "count": len(done)})
            return redirect(request.get_full_path())
    students = selectors.enrolment_list(intake_round=round_id, status=status,
                                        search=search or None)
    page = Paginator(students, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "students/staff/students.html", {
        "page": page, "rounds": intake_round_list(), "round_filter": round_id,
        "status": status, "statuses": Enrolment.Status.choices, "search": search,
        "step_form": step_form, "enrol_form": enrol_form, "chosen": chosen,
        "chosen_admissions": chosen_admissions,
        "to_enrol": Paginator(selectors.admissions_not_enrolled(intake_round=round_id),
                              PAGE_SIZE).get_page(request.GET.get("enrol_page")),
    }, status=400 if (step_form.errors or enrol_form.errors) else 200)


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def student_detail(request, pk):
    enrolment = selectors.enrolment_get(pk)
    outcome = getattr(enrolment, "outcome", None)
    post = request.POST if request.method == "POST" else None
    step_form = ProgressStepForm(post if post and "record_step" in post else None, prefix="step")
    details_form = EnrolmentDetailsForm(post if post and "details" in post else None,
                                        instance=enrolment, prefix="details")
    outcome_form = AlumniOutcomeForm(post if post and "outcome" in post else None,
                                     instance=outcome, prefix="outcome")
    forms_by_action = {"record_step": step_form, "details": details_form,
                       "outcome": outcome_form}
    action = next((name for name in forms_by_action if post and name in post), None)
    if action and forms_by_action[action].is_valid():
        form = forms_by_action[action]
        try:
            if action == "record_step":
                services.enrolment_record(
                    actor=request.user, enrolment=enrolment, kind=form.cleaned_data["kind"],
                    on=form.cleaned_data["on"], note=form.cleaned_data["note"],
                    values=form.service_values())
            elif action == "details":
                services.enrolment_update(actor=request.user, enrolment=enrolment,
                                          data=form.cleaned_data)
            else:
                services.alumni_outcome_record(actor=request.user, enrolment=enrolment,
                                               data=form.service_data())
        except ValidationError as error:
            form_add_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("staff_students:detail", pk=enrolment.pk)
    return render(request, "students/staff/student_detail.html", {
        "enrolment": enrolment, "outcome": outcome, "step_form": step_form,
        "details_form": details_form, "outcome_form": outcome_form,
    }, status=400 if action else 200)


@staff_required
@require_POST
def outcome_request_update(request, pk):
    enrolment = selectors.enrolment_get(pk)
    outcome = getattr(enrolment, "outcome", None)
    if outcome is None:
        messages.error(request, _("Record where the graduate went first."))
    else:
        services.alumni_update_request(actor=request.user, outcome=outcome)
        messages.success(request, _("The update link was emailed to %(email)s.") % {
            "email": enrolment.nomination.email})
    return redirect("staff_students:detail", pk=enrolment.pk)
