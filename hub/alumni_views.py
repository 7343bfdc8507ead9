"""The page an alumnus's yearly update link opens: GET shows, POST saves (once).

It lives with the mentors domain because an alumnus who offers to mentor gets a mentor profile
for staff to confirm, in the same transaction as the update.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ecocycle.exceptions import form_add_error
from ecocycle.tokens import LinkState
from mentors.services import mentor_profile_from_alumnus
from students import services as student_services
from students.forms import AlumniOutcomeForm


@never_cache
@require_http_methods(["GET", "POST"])
def alumni_update(request, token):
    check, outcome = student_services.alumni_update_check(token)
    if outcome is not None and "django_language" not in request.COOKIES:
        language = outcome.enrolment.nomination.candidate_language
        translation.activate(language)
        request.LANGUAGE_CODE = language
    if check.state != LinkState.VALID:
        state = check.state.value
        if state == "stale" and outcome is not None and outcome.updated_by_alumnus_at and (
                outcome.update_requested_at is None
                or outcome.updated_by_alumnus_at >= outcome.update_requested_at):
            state = "answered"
        return render(request, "hub/alumni_update.html", {"state": state, "outcome": outcome},
                      status=200 if state == "answered" else 404 if state == "invalid" else 410)
    form = AlumniOutcomeForm(request.POST or None, instance=outcome)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                outcome = student_services.alumni_update_submit(token=token,
                                                                  data=form.service_data())
                mentor = mentor_profile_from_alumnus(actor=None, enrolment=outcome.enrolment)
        except ValidationError as error:
            form_add_error(form, error)
        else:
            return render(request, "hub/alumni_update.html", {
                "state": "saved", "outcome": outcome, "mentor_profile": mentor})
    return render(request, "hub/alumni_update.html", {"state": "valid", "outcome": outcome,
                                                  "form": form})
