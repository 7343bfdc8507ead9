"""The page an alumnus's yearly update link opens: GET shows, POST saves (once).

The link and the outcome are the students app's; the page is here because an alumnus who
offers to mentor also gets a mentor profile, in the same transaction (`alumni_update_answer`).
"""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ecocycle.exceptions import form_add_error
from ecocycle.links import link_dead_render, link_language_activate, link_page
from students.forms import AlumniOutcomeForm
from students.services import ALUMNI_UPDATE_LINK, alumni_update_check

from .services import alumni_update_answer


@never_cache
@require_http_methods(["GET", "POST"])
def alumni_update(request, token):
    check = alumni_update_check(token)
    link_language_activate(request, ALUMNI_UPDATE_LINK, check)
    page = link_page(ALUMNI_UPDATE_LINK, check)
    if page.dead:
        return link_dead_render(request, ALUMNI_UPDATE_LINK, page)
    outcome = check.object
    if page.state == "used":
        return render(request, "hub/alumni_update.html", {"state": "answered",
                                                          "outcome": outcome})
    form = AlumniOutcomeForm(request.POST or None, instance=outcome)
    if request.method == "POST" and form.is_valid():
        try:
            outcome, mentor = alumni_update_answer(token=token, data=form.service_data())
        except ValidationError as error:
            form_add_error(form, error)
        else:
            return render(request, "hub/alumni_update.html", {
                "state": "saved", "outcome": outcome, "mentor_profile": mentor})
    return render(request, "hub/alumni_update.html", {"state": "valid", "outcome": outcome,
                                                      "form": form})
