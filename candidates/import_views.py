"""CSV import of many nominations at once: the upload page and the template download.

Thin, like the other coordinator pages: the round is read through a selector (404 when it is
not one of the coordinator's), the file goes to one service, and its errors are shown.
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

from programs.models import IntakeRound

from . import imports, selectors
from .views import coordinator_required


class NominationImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


@never_cache
@coordinator_required
@require_http_methods(["GET", "POST"])
def nomination_import(request, coordinator, round_id):
    intake_round = selectors.round_get_for_coordinator(coordinator, round_id)
    if request.method == "POST":
        form = NominationImportForm(request.POST, request.FILES)
    else:
        form = NominationImportForm()
    result = None
    if request.method == "POST" and form.is_valid():
        result = imports.nomination_import_csv(
            actor=request.user, intake_round=intake_round, university=coordinator.university,
            file=form.cleaned_data["file"],
        )
        if result.ok:
            count = len(result.created)
            messages.success(request, ngettext(
                "%(count)s draft nomination was created. Upload the candidate's documents and "
                "submit the draft.",
                "%(count)s draft nominations were created. Upload each candidate's documents and "
                "submit each draft.",
                count,
            ) % {"count": count})
            return redirect(
                f"{reverse('candidates:coordinator_home')}?round={intake_round.pk}&status=draft"
            )
    return render(request, "candidates/nomination_import.html", {
        "coordinator": coordinator,
        "intake_round": intake_round,
        "is_open": intake_round.phase == IntakeRound.Phase.NOMINATIONS,
        "form": form,
        "result": result,
        "columns": imports.COLUMNS,
        "tracks": selectors.round_tracks(intake_round),
        "technologies": intake_round.program.core_technologies.order_by("name"),
        "max_bytes": imports.max_bytes(),
        "max_rows": imports.max_rows(),
    })


@coordinator_required
@require_GET
def import_template(request, coordinator, round_id):
    intake_round = selectors.round_get_for_coordinator(coordinator, round_id)
    content = imports.import_template_csv(intake_round=intake_round,
                                          university=coordinator.university)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="nominations-round-{intake_round.pk}.csv"'
    )
    return response
