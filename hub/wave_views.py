"""Staff pages for the later waves of offers of an approved cohort, under /staff/rounds/<id>/:
the seats given back and the proposed wave as a difference from the current cohort (who gets
which seat, whose pending offer moves up, and why the others do not), with the cohort review's
overrides; the approval after a confirmation page; each track's reserve list.

KITECH staff only (`staff_required`); reads through `candidates.selectors`, writes through one
service each, a DomainError shown on the page.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from candidates import selectors, services
from candidates.models import Cohort, CohortOverride, Nomination
from ecocycle.access import staff_required
from ecocycle.exceptions import messages_add_error

from .round_views import OverrideForm, _cohort, _confirmed, _round

UNPLACED_PAGE_SIZE = 50
RESERVE_PAGE_SIZE = 50


def _page_number(value: str) -> int:
    return int(value) if value.isdigit() and 0 < int(value) < 1_000_000 else 1


def _wave_context(request, intake_round, cohort: Cohort, *, form_errors=None,
                  form_values=None) -> dict:
    cohort.intake_round = intake_round  # its milestones are prefetched: the phase is free
    now = timezone.now()
    diff = selectors.wave_diff(cohort)
    refusal = services.wave_refusal(cohort=cohort, now=now)
    free = {row["track"].pk: row["free"] for row in diff.tracks}
    page = Paginator(diff.unplaced, UNPLACED_PAGE_SIZE).get_page(
        _page_number(request.GET.get("page", "")))
    rows = selectors.wave_unplaced_rows(cohort, list(page.object_list))
    form_errors, form_values = form_errors or {}, form_values or {}
    for row in rows:
        pk = row["nomination"].pk
        row["move_options"] = [{"track": track, "free": free.get(track.pk, 0) > 0}
                               for track in row["ranked_tracks"]]
        row["errors"], row["values"] = form_errors.get(pk, []), form_values.get(pk, {})
    query = urlencode({"page": page.number}) if page.number > 1 else ""
    return {
        "intake_round": intake_round, "cohort": cohort, "active": "wave", "diff": diff,
        "refusal": refusal, "seats_free": sum(free.values()), "page": page, "rows": rows,
        "query": query, "editable": diff.run is not None and refusal is None,
        "next_wave": cohort.wave + 1 if cohort.wave else 2,
        "page_links": {
            "previous": f"?page={page.previous_page_number()}" if page.has_previous() else "",
            "next": f"?page={page.next_page_number()}" if page.has_next() else ""},
        "tracks": [row["track"] for row in diff.tracks],
    }


@never_cache
@staff_required
@require_GET
def wave_review(request, round_id):
    intake_round = _round(round_id)
    cohort = _cohort(intake_round)
    return render(request, "hub/round_wave.html", _wave_context(request, intake_round, cohort))


@staff_required
@require_POST
def wave_propose(request, round_id):
    intake_round = _round(round_id)
    cohort = _cohort(intake_round)
    try:
        services.wave_propose(actor=request.user, cohort=cohort)
    except ValidationError as error:
        messages_add_error(request, error)
    else:
        messages.success(request, _("The next wave of offers is proposed: check it below, "
                                    "then approve it."))
    return redirect("staff_rounds:wave_review", round_id=intake_round.pk)


def _back(intake_round, query: str):
    url = reverse("staff_rounds:wave_review", args=[intake_round.pk])
    page = _page_number(query.removeprefix("page=")) if query.startswith("page=") else 1
    return redirect(f"{url}?page={page}" if page > 1 else url)


@staff_required
@require_POST
def wave_override_create(request, round_id):
    """The cohort review's override, on the proposed wave (which is proposed again at once)."""
    intake_round = _round(round_id)
    cohort = _cohort(intake_round)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The override could not be read. Please try again."))
        return _back(intake_round, request.POST.get("query", ""))
    data = form.cleaned_data
    nomination = get_object_or_404(Nomination, pk=data["nomination"], intake_round=intake_round)
    track = intake_round.tracks.filter(pk=data["track"]).first() if data["track"] else None
    try:
        services.override_create(actor=request.user, cohort=cohort, nomination=nomination,
                                 kind=data["kind"], track=track, reason=data["reason"])
    except ValidationError as error:
        errors = error.messages
    else:
        messages.success(request, _("Override saved for %(candidate)s; the wave is proposed "
                                    "again with it.") % {"candidate": nomination})
        return _back(intake_round, data["query"])
    values = {"kind": data["kind"], "track": data["track"], "reason": data["reason"]}
    context = _wave_context(request, intake_round, cohort, form_errors={nomination.pk: errors},
                            form_values={nomination.pk: values})
    context.update(error_nomination=nomination, error_messages=errors)
    return render(request, "hub/round_wave.html", context, status=400)


@staff_required
@require_POST
def wave_override_clear(request, round_id, override_id):
    intake_round = _round(round_id)
    override = get_object_or_404(CohortOverride.objects.select_related("nomination"),
                                 pk=override_id, cohort__intake_round=intake_round)
    try:
        services.override_clear(actor=request.user, override=override)
    except ValidationError as error:
        messages_add_error(request, error)
    else:
        messages.success(request, _("Override for %(candidate)s cleared; the wave is proposed "
                                    "again without it.") % {"candidate": override.nomination})
    return _back(intake_round, request.POST.get("query", ""))


@never_cache
@staff_required
@require_GET
def wave_approve_confirm(request, round_id):
    """What approving the wave will do: the offers it makes and replaces, the emails. Changes
    nothing."""
    intake_round = _round(round_id)
    cohort = _cohort(intake_round)
    cohort.intake_round = intake_round
    diff = selectors.wave_diff(cohort)
    universities = {row["nomination"].university for row in [*diff.new, *diff.moved]}
    return render(request, "hub/round_wave_confirm.html", {
        "intake_round": intake_round, "cohort": cohort, "active": "wave", "diff": diff,
        "refusal": services.wave_refusal(cohort=cohort),
        "emails": len(diff.new) + len(diff.moved), "universities": len(universities),
        "deadline": services.offer_deadline(cohort=cohort, now=timezone.now()),
    })


@staff_required
@require_POST
def wave_approve(request, round_id):
    intake_round = _round(round_id)
    cohort = _cohort(intake_round)
    confirm_url = reverse("staff_rounds:wave_approve_confirm", args=[intake_round.pk])
    if not _confirmed(request):
        return redirect(confirm_url)
    run = request.POST.get("run") or ""
    if not run.isdigit():
        raise Http404
    try:
        services.wave_approve(actor=request.user, cohort=cohort, run_id=int(run))
    except ValidationError as error:
        messages_add_error(request, error)
        return redirect(confirm_url)
    messages.success(request, _("The wave is approved: its offers are made, and the candidates "
                                "and their universities are told by email."))
    return redirect("staff_rounds:wave_review", round_id=intake_round.pk)


@never_cache
@staff_required
@require_GET
def reserve(request, round_id):
    """A track's reserve list, a page at a time, with each candidate's position."""
    intake_round = _round(round_id)
    cohort = selectors.cohort_get_for_round(intake_round)
    tracks = list(selectors.round_tracks(intake_round))
    wanted = request.GET.get("track", "")
    track = next((t for t in tracks if wanted.isdigit() and t.pk == int(wanted)),
                 tracks[0] if tracks else None)
    page, rows = None, []
    if track is not None:
        page = Paginator(selectors.reserve_list(intake_round, cohort, track),
                         RESERVE_PAGE_SIZE).get_page(_page_number(request.GET.get("page", "")))
        start = page.start_index()
        rows = [{"position": start + i, "score": s} for i, s in enumerate(page.object_list)]
    base = f"?{urlencode({'track': track.pk})}&" if track else "?"
    return render(request, "hub/round_wave_reserve.html", {
        "intake_round": intake_round, "cohort": cohort, "active": "wave", "tracks": tracks,
        "track": track, "page": page, "rows": rows,
        "page_links": {
            "previous": f"{base}page={page.previous_page_number()}"
            if page and page.has_previous() else "",
            "next": f"{base}page={page.next_page_number()}" if page and page.has_next() else ""},
    })
