"""CSV import of many mentors at once: the staff upload page and the template download.

KITECH staff only. Thin: the file goes to one import (mentors.imports), the kernel's import
page (ecocycle.csvimport_views) shows its errors; on success the mentors are in the admin's
list.
"""

from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ecocycle.access import staff_required
from ecocycle.csvimport_views import import_page, template_download
from programs.selectors import core_technology_list

from . import imports


def _imported(count: int) -> str:
    return ngettext(
        "%(count)s mentor was imported, with a sign-in account.",
        "%(count)s mentors were imported, each with a sign-in account.",
        count,
    ) % {"count": count}


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def mentor_import(request):
    mentor_list = reverse("admin:mentors_mentor_changelist")
    return import_page(
        request,
        importer=imports.MentorImport(actor=request.user),
        template_name="mentors/staff/mentor_import.html",
        template_url=reverse("staff_mentors:import_template"),
        cancel_url=mentor_list,
        success_url=mentor_list,
        success_message=_imported,
        context={
            "technologies": core_technology_list(),
        },
    )


@staff_required
@require_GET
def mentor_import_template(request):
    return template_download(imports.mentor_import_template_csv(), filename="mentors.csv")
