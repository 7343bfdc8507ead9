"""Staff pages for mentors' data protection under /staff/privacy/mentors/: find a mentor,
export their data as JSON or erase it on request. The candidates' side, with the retention
job, is `privacy.views`; these pages share its tabs, form and templates' look.

KITECH staff only: every view is wrapped in `staff_required`. Thin: reads go through
`privacy.selectors`, writes through `privacy.services`. Exports are POSTs (they write an audit
entry; a GET never does).
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ecocycle.access import staff_required
from mentors.models import Mentor

from . import selectors, services
from .views import ErasureForm, erasure_handle, json_download, tabs


@never_cache
@staff_required
@require_GET
def search(request):
    query = (request.GET.get("q") or "").strip()[:200]
    return render(request, "privacy/mentor_search.html", {
        **tabs("mentors", query),
        "mentors": list(selectors.mentor_search(query=query)) if query else [],
    })


def _mentor(pk: int) -> Mentor:
    return selectors.mentor_get(pk)


def _mentor_context(mentor: Mentor, form: ErasureForm) -> dict:
    return {**tabs("mentors"), "mentor": mentor, "erased": selectors.mentor_is_erased(mentor),
            "held": selectors.mentor_held(mentor), "form": form}


@never_cache
@staff_required
@require_GET
def mentor(request, pk):
    return render(request, "privacy/mentor.html",
                  _mentor_context(_mentor(pk), ErasureForm()))


@never_cache
@staff_required
@require_POST
def mentor_export(request, pk):
    found = _mentor(pk)
    data = services.mentor_export(actor=request.user, mentor=found)
    return json_download(data, f"ecocycle-mentor-{found.pk}.json")


@staff_required
@require_POST
def mentor_erase(request, pk):
    found = _mentor(pk)
    form = ErasureForm(request.POST)
    if erasure_handle(form, lambda reason: services.mentor_erase(
            actor=request.user, mentor=found, reason=reason)):
        messages.success(request, _("The personal data of mentor #%(id)s was removed and the "
                                    "account deactivated. Assignments and the audit trail are "
                                    "kept, anonymised.") % {"id": found.pk})
        return redirect("staff_privacy:mentor", pk=found.pk)
    return render(request, "privacy/mentor.html", _mentor_context(found, form),
                  status=400)
