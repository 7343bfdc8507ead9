"""CSV import of many mentors at once: the staff upload page and the template download.

KITECH staff only. Thin: the file goes to one service (mentors.imports) and its errors are
shown; on success the mentors are in the admin's list.
"""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ecocycle.access import staff_required
from programs.models import CoreTechnology

from . import imports


class MentorImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def mentor_import(request):
    if request.method == "POST":
        form = MentorImportForm(request.POST, request.FILES)
    else:
        form = MentorImportForm()
    result = None
    chosen = ""
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["file"].name
        result = imports.mentor_import_csv(actor=request.user, file=form.cleaned_data["file"])
        if result.ok:
            count = len(result.created)
            messages.success(request, ngettext(
                "%(count)s mentor was imported, with a sign-in account.",
                "%(count)s mentors were imported, each with a sign-in account.",
                count,
            ) % {"count": count})
            return redirect(reverse("admin:mentors_mentor_changelist"))
    return render(request, "mentors/staff/mentor_import.html", {
        "form": form,
        "result": result,
        "chosen": chosen,
        "columns": imports.COLUMNS,
        "technologies": CoreTechnology.objects.select_related("program")
        .order_by("program__name", "name"),
        "max_bytes": imports.max_bytes(),
        "max_rows": imports.max_rows(),
    })


@staff_required
@require_GET
def mentor_import_template(request):
    response = HttpResponse(imports.mentor_import_template_csv(),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="mentors.csv"'
    return response
