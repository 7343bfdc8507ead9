"""The candidate's own page: no password, reached by a signed link (see
`candidates.services.candidate_page`). Composed here because it shows what follows the
decision too (mentor, enrolment), which the candidates app does not import."""

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from candidates.services.candidate_page import CANDIDATE_PAGE_LINK, candidate_page_check
from ecocycle.links import link_dead_render, link_language_activate, link_page


@never_cache
@require_http_methods(["GET"])
def page(request, token):
    check = candidate_page_check(token)
    link_language_activate(request, CANDIDATE_PAGE_LINK, check)
    shown = link_page(CANDIDATE_PAGE_LINK, check)
    if shown.dead:
        return link_dead_render(request, CANDIDATE_PAGE_LINK, shown)
    return render(request, "hub/candidate_page.html", {"nomination": check.object})
