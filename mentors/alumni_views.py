"""The page an alumnus's yearly update link opens: GET shows, POST saves (once).

It lives with the mentors domain because an alumnus who offers to mentor gets a mentor profile
for staff to confirm, in the same transaction as the update.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from candidates import services as candidate_services
from candidates.forms import AlumniOutcomeForm
from ecocycle.exceptions import form_add_error
from ecocycle.links import link_dead_render, link_language_activate, link_page

from .services import mentor_profile_from_alumnus


@never_cache
@require_http_methods(["GET", "POST"])
def alumni_update(request, token):
    check = candidate_services.alumni_update_check(token)
    link_language_activate(request, candidate_services.ALUMNI_UPDATE_LINK, check)
    page = link_page(candidate_services.ALUMNI_UPDATE_LINK, check)
    if page.dead:
        return link_dead_render(request, candidate_services.ALUMNI_UPDATE_LINK, page)
    outcome = check.object
    if page.state == "used":
        return render(request, "alumni/update.html", {"state": "answered", "outcome": outcome})
    form = AlumniOutcomeForm(request.POST or None, instance=outcome)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                outcome = candidate_services.alumni_update_submit(token=token,
                                                                  data=form.service_data())
                mentor = mentor_profile_from_alumnus(actor=None, enrolment=outcome.enrolment)
        except ValidationError as error:
            form_add_error(form, error)
        else:
            return render(request, "alumni/update.html", {
                "state": "saved", "outcome": outcome, "mentor_profile": mentor})
    return render(request, "alumni/update.html", {"state": "valid", "outcome": outcome,
                                                  "form": form})
