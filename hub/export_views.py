"""Staff exports of a round's cohort, tracks and universities, as CSV or XLSX downloads."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from candidates.selectors import EXPORT_TABLES
from ecocycle.exports import FORMATS
from programs.models import IntakeRound


@never_cache  # personal data: no copy left in a shared cache
@require_GET
@login_required
def export(request, round_id: int, what: str, fmt: str) -> HttpResponse:
    # Staff only, checked before anything else so that others learn nothing about the round.
    if not request.user.is_kitech_staff:
        raise PermissionDenied
    if what not in EXPORT_TABLES or fmt not in FORMATS:
        raise Http404
    intake_round = get_object_or_404(IntakeRound, pk=round_id)
    render, content_type = FORMATS[fmt]
    response = HttpResponse(render(EXPORT_TABLES[what](intake_round)),
                            content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="ecocycle-{intake_round.pk}-{what}.{fmt}"')
    return response
