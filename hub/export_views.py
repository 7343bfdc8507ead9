"""Staff exports of a round's cohort, tracks and universities, as CSV or XLSX downloads.

A CSV is streamed as its rows are read (the cohort table's rows are lazy), so that a round of
tens of thousands of candidates never sits whole in a web process's memory.
"""

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from candidates.selectors import EXPORT_TABLES
from ecocycle.exports import CSV_CONTENT_TYPE, FORMATS, csv_chunks
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
    table = EXPORT_TABLES[what](intake_round)
    if fmt == "csv":
        response = StreamingHttpResponse(_in_language(csv_chunks(table)),
                                         content_type=CSV_CONTENT_TYPE)
    else:
        render, content_type = FORMATS[fmt]
        response = HttpResponse(render(table), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="ecocycle-{intake_round.pk}-{what}.{fmt}"')
    return response


def _in_language(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks, written in the request's language even when the server reads them after
    the view has returned."""
    language = translation.get_language()
    with translation.override(language):
        yield from chunks
