"""CSV import of many nominations at once: the upload page and the template download.

Thin, like the other coordinator pages: the round is read through a selector (404 when it is
not one of the coordinator's), the file goes to one import (candidates.imports), and the
kernel's import page (ecocycle.csvimport_views) shows its errors.
"""

from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ecocycle.csvimport_views import import_page, template_download
from programs.models import IntakeRound

from . import imports, selectors
from .views import coordinator_required


def _created(count: int) -> str:
    return ngettext(
        "%(count)s draft nomination was created. Upload the candidate's documents and "
        "submit the draft.",
        "%(count)s draft nominations were created. Upload each candidate's documents and "
        "submit each draft.",
        count,
    ) % {"count": count}


@never_cache
@coordinator_required
@require_http_methods(["GET", "POST"])
def nomination_import(request, coordinator, round_id):
    intake_round = selectors.round_get_for_coordinator(coordinator, round_id)
    is_open = intake_round.phase == IntakeRound.Phase.NOMINATIONS
    return import_page(
        request,
        importer=imports.NominationImport(actor=request.user, intake_round=intake_round,
                                          university=coordinator.university),
        template_name="candidates/nomination_import.html",
        template_url=reverse("candidates:nomination_import_template", args=[intake_round.pk]),
        cancel_url=reverse("candidates:coordinator_home"),
        success_url=f"{reverse('candidates:coordinator_home')}?round={intake_round.pk}"
                    "&status=draft",
        success_message=_created,
        can_upload=is_open,
        context={
            "coordinator": coordinator,
            "intake_round": intake_round,
            "is_open": is_open,
            "tracks": selectors.round_tracks(intake_round),
            "technologies": intake_round.program.core_technologies.order_by("name"),
        },
    )


@coordinator_required
@require_GET
def import_template(request, coordinator, round_id):
    intake_round = selectors.round_get_for_coordinator(coordinator, round_id)
    content = imports.import_template_csv(intake_round=intake_round,
                                          university=coordinator.university)
    return template_download(content, filename=f"nominations-round-{intake_round.pk}.csv")
