"""Staff dashboard pages under /staff/: rounds, a round's overview with its calendar, the cohort
review with overrides, what-ifs, approval after a confirmation, "run now" and the round's audit
log. In the composition because a round's pages run its calendar (programs) and its cohort
(candidates) together and show where its candidates went after admission. An action the
round's phase does not allow is not offered: the page says when it will be.

KITECH staff only: every view is wrapped in `staff_required`. Reads go through
`candidates.selectors` (the rows an action names are looked up by id), writes through one service
each; a DomainError is shown on the page next to the form it concerns, keeping what was typed.
Not thin: the views also lay the pages out (chart geometry, the review table's filters, paging
and links, the what-if form).
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from candidates import scoring, selectors, services
from candidates.models import Cohort, CohortOverride, Nomination
from ecocycle.access import staff_required
from ecocycle.exceptions import messages_add_error
from ecocycle.exports import CSV_CONTENT_TYPE, csv_chunks
from programs import services as program_services
from programs.calendar import (
    CALENDAR_ACTIONS,
    CLOSE_NOMINATIONS,
    EXTEND_NOMINATIONS,
    OPEN_MATCHING,
    SET_LAST_WAVE,
    SET_RESULTS_RELEASE,
    moment,
)
from programs.models import MAX_TRACK_SEATS, IntakeRound, RoundMilestone
from programs.selectors import intake_round_list

from . import audit

REVIEW_PAGE_SIZE = 100
SORT_KEYS = ["track", "candidate", "university", "rank", "score"]
STATUS_FILTERS = [
    ("placed", gettext_lazy("Placed")),
    ("unplaced", gettext_lazy("Not placed")),
    ("overridden", gettext_lazy("Overridden")),
]
CRITERIA_LABELS = {
    "gpa": gettext_lazy("GPA"),
    "language": gettext_lazy("Language"),
    "coursework": gettext_lazy("Coursework fit"),
    "interests": gettext_lazy("Research-interest fit"),
    "university_rank": gettext_lazy("University's rank"),
}
REVIEW_FILTER_KEYS = ("sort", "track", "university", "status")
AUDIT_PAGE_SIZE = 50
# The newest entries paged through (200 pages); older ones are reached by narrowing the period.
AUDIT_PAGED_ENTRIES = 10_000
AUDIT_FILTER_KEYS = ("who", "what", "since", "until")


def _round(round_id: int) -> IntakeRound:
    # The round with its program and milestones, so that its phase costs no further query.
    return get_object_or_404(intake_round_list(), pk=round_id)


def _cohort(intake_round: IntakeRound) -> Cohort:
    cohort = selectors.cohort_get_for_round(intake_round)
    if cohort is None:
        raise Http404
    return cohort


# --- charts -------------------------------------------------------------------------------------
# Bar geometry is computed here as plain strings: templates would localise floats ("12,5")
# and break the SVG attributes in languages with a decimal comma.

def _pct(value: float) -> str:
    return f"{max(0.0, min(value, 100.0)):.1f}"


def _funnel_bars(funnel) -> list[dict]:
    top = max((count for _key, _label, count in funnel), default=0) or 1
    bars = []
    for index, (key, label, count) in enumerate(funnel):
        width = 100.0 * count / top
        bars.append({"key": key, "label": label, "count": count, "width": _pct(width),
                     "y": index * 30, "text_y": index * 30 + 17})
    return bars


def _track_bars(tracks) -> list[dict]:
    labels = _TrackLabels()
    rows = []
    for entry in tracks:
        seats, placed = entry["seats"] or 0, entry["placed"] or 0
        fill = 100.0 * placed / seats if seats else 0.0
        rows.append({**entry, "fill": _pct(fill), "fill_label": f"{fill:.0f}",
                     "key": str(entry["track"].pk), "name": labels(entry["track"])[1],
                     "full": bool(seats) and placed >= seats})
    return rows


# --- pages --------------------------------------------------------------------------------------

@never_cache
@staff_required
@require_GET
def round_list(request):
    return render(request, "candidates/staff/round_list.html", {
        "rounds": selectors.staff_round_list(),
    })


def _cohort_refusals(intake_round: IntakeRound, cohort: Cohort | None, now) -> dict:
    """Why "Run now", "Approve" and "Reopen" are not offered (None: offered)."""
    if cohort is not None:
        # The round with its prefetched milestones: the phase costs no further query.
        cohort.intake_round = intake_round
    approved = cohort is not None and cohort.status == Cohort.Status.APPROVED
    return {
        "run_refusal": services.cohort_match_refusal(intake_round=intake_round, now=now),
        "approve_refusal": services.cohort_approve_refusal(cohort=cohort, now=now)
        if cohort is not None and not approved else None,
        "reopen_refusal": services.cohort_reopen_refusal(cohort=cohort) if approved else None,
    }


def _overview_context(intake_round: IntakeRound, *, calendar_errors=None, calendar_values=None,
                      **extra) -> dict:
    overview = selectors.round_overview(intake_round)
    now = timezone.now()
    timeline = selectors.round_timeline(intake_round, now=now)
    context = {
        "intake_round": intake_round, "overview": overview, "active": "overview",
        "cohort": overview["cohort"], "funnel_bars": _funnel_bars(overview["funnel"]),
        "funnel_height": 30 * len(overview["funnel"]),
        "track_rows": _track_bars(overview["tracks"]),
        "exports": _exports(intake_round),
        "reopen_reason": "", "reopen_errors": [],
        "timeline": timeline, "time_zone": timezone.get_current_timezone_name(),
        "calendar_actions": _calendar_actions(intake_round, timeline, calendar_errors or {},
                                              calendar_values or {}),
        **_cohort_refusals(intake_round, overview["cohort"], now),
        "notification": selectors.cohort_notification_latest(overview["cohort"]),
    }
    context.update(extra)
    return context


# --- the round's calendar -----------------------------------------------------------------------

CALENDAR_TEXT = {
    CLOSE_NOMINATIONS: (gettext_lazy("Close nominations early"),
                        gettext_lazy("Close nominations now")),
    EXTEND_NOMINATIONS: (gettext_lazy("Extend the nomination deadline"),
                         gettext_lazy("Extend the deadline")),
    OPEN_MATCHING: (gettext_lazy("Open the matching phase"),
                    gettext_lazy("Open the matching phase now")),
    SET_RESULTS_RELEASE: (gettext_lazy("Set the release of results"),
                          gettext_lazy("Set the release")),
    SET_LAST_WAVE: (gettext_lazy("Set the last wave of offers"),
                    gettext_lazy("Set the last wave")),
}
CALENDAR_DATED = {EXTEND_NOMINATIONS: RoundMilestone.Kind.NOMINATIONS_CLOSE,
                  SET_RESULTS_RELEASE: RoundMilestone.Kind.DECISIONS,
                  SET_LAST_WAVE: RoundMilestone.Kind.LAST_WAVE}
DATETIME_INPUT = "%Y-%m-%dT%H:%M"


def _calendar_help(action: str, dates: dict) -> str:
    kind = RoundMilestone.Kind
    if action == CLOSE_NOMINATIONS:
        return _("Nominations end now instead of on %(date)s: coordinators can no longer "
                 "create, change, submit or withdraw nominations, on the pages, through the "
                 "API or by a CSV import.") % {
            "date": moment(dates.get(kind.NOMINATIONS_CLOSE))}
    if action == EXTEND_NOMINATIONS:
        return _("A later deadline, before the matching phase opens (%(date)s).") % {
            "date": moment(dates.get(kind.MATCHING))}
    if action == OPEN_MATCHING:
        return _("The matching phase starts now instead of on %(date)s; the nightly job then "
                 "matches the round.") % {"date": moment(dates.get(kind.MATCHING))}
    if action == SET_LAST_WAVE:
        return _("Seats given back are offered again in waves until this date; after "
                 "nominations close (%(close)s) and before enrolment (%(enrolment)s). Without "
                 "it, until enrolment.") % {
            "close": moment(dates.get(kind.NOMINATIONS_CLOSE)),
            "enrolment": moment(dates.get(kind.ENROLMENT))}
    return _("After the matching phase opens (%(matching)s) and before enrolment "
             "(%(enrolment)s).") % {"matching": moment(dates.get(kind.MATCHING)),
                                    "enrolment": moment(dates.get(kind.ENROLMENT))}


def _calendar_actions(intake_round: IntakeRound, timeline: dict, errors: dict,
                      values: dict) -> list[dict]:
    """The calendar actions, each with its form's state, or why it is not offered."""
    dates = intake_round.milestone_dates()
    actions = []
    for action in CALENDAR_ACTIONS:
        title, button = CALENDAR_TEXT[action]
        current = dates.get(CALENDAR_DATED[action]) if action in CALENDAR_DATED else None
        actions.append({
            "action": action, "id": action.replace("_", "-"), "title": title, "button": button,
            "refusal": timeline["refusals"][action], "help": _calendar_help(action, dates),
            "dated": action in CALENDAR_DATED, "errors": errors.get(action, []),
            "reason": values.get(action, {}).get("reason", ""),
            "at": values.get(action, {}).get("at") or (
                timezone.localtime(current).strftime(DATETIME_INPUT) if current else ""),
            "url": reverse("staff_rounds:round_calendar", args=[intake_round.pk, action]),
        })
    return actions


class CalendarForm(forms.Form):
    # Empty is let through: the service refuses it with the message staff should read.
    reason = forms.CharField(max_length=2000, required=False, strip=True)
    at = forms.DateTimeField(required=False, input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M"])


def _calendar_call(action: str, *, actor, intake_round: IntakeRound, reason: str, at):
    if action == CLOSE_NOMINATIONS:
        return program_services.intake_round_close_nominations(
            actor=actor, intake_round=intake_round, reason=reason)
    if action == EXTEND_NOMINATIONS:
        return program_services.intake_round_extend_nominations(
            actor=actor, intake_round=intake_round, until=at, reason=reason)
    if action == OPEN_MATCHING:
        return program_services.intake_round_open_matching(
            actor=actor, intake_round=intake_round, reason=reason)
    if action == SET_LAST_WAVE:
        return program_services.intake_round_set_last_wave(
            actor=actor, intake_round=intake_round, at=at, reason=reason)
    return program_services.intake_round_set_results_release(
        actor=actor, intake_round=intake_round, at=at, reason=reason)


CALENDAR_DONE = {
    CLOSE_NOMINATIONS: gettext_lazy("Nominations for %(round)s are closed."),
    EXTEND_NOMINATIONS: gettext_lazy("Nominations for %(round)s now close on %(date)s."),
    OPEN_MATCHING: gettext_lazy("The matching phase of %(round)s is open. Run the matching "
                                "now, or the nightly job will."),
    SET_RESULTS_RELEASE: gettext_lazy("Results of %(round)s are to be released on %(date)s."),
    SET_LAST_WAVE: gettext_lazy("The last wave of offers of %(round)s is on %(date)s."),
}


@staff_required
@require_POST
def round_calendar(request, round_id, action):
    """One of the calendar actions, with its reason (and date); refusals are shown beside
    its form on the overview, keeping what was typed."""
    intake_round = _round(round_id)
    if action not in CALENDAR_ACTIONS:
        raise Http404
    form = CalendarForm(request.POST)
    values = {"reason": request.POST.get("reason", ""), "at": request.POST.get("at", "")}
    if not form.is_valid():
        errors = [message for field in form.errors.values() for message in field]
    elif action in CALENDAR_DATED and form.cleaned_data["at"] is None:
        errors = [_("Choose the date and time.")]
    else:
        data = form.cleaned_data
        try:
            changed = _calendar_call(action, actor=request.user, intake_round=intake_round,
                                     reason=data["reason"], at=data["at"])
        except ValidationError as error:
            errors = error.messages
        else:
            when = changed.milestone_dates().get(CALENDAR_DATED.get(action))
            messages.success(request, CALENDAR_DONE[action] % {
                "round": intake_round.name, "date": moment(when)})
            return redirect("staff_rounds:round_overview", round_id=intake_round.pk)
    context = _overview_context(intake_round, calendar_errors={action: errors},
                                calendar_values={action: values})
    return render(request, "candidates/staff/round_overview.html", context, status=400)


def _exports(intake_round: IntakeRound) -> list[dict]:
    labels = {"cohort": _("Cohort"), "tracks": _("Tracks"), "universities": _("Universities")}
    return [
        {"label": label, "links": [
            (fmt.upper(), reverse("staff_rounds:export", args=[intake_round.pk, what, fmt]))
            for fmt in ("csv", "xlsx")
        ]}
        for what, label in labels.items()
    ]


@never_cache
@staff_required
@require_GET
def round_overview(request, round_id):
    intake_round = _round(round_id)
    return render(request, "candidates/staff/round_overview.html",
                  _overview_context(intake_round))


# --- cohort review and overrides ----------------------------------------------------------------

def _review_filters(params: QueryDict) -> dict:
    """The table's sort and filters from the query string, with anything unknown dropped."""
    sort = params.get("sort") or "track"
    if sort not in SORT_KEYS:
        sort = "track"
    track = params.get("track") or ""
    university = params.get("university") or ""
    status = params.get("status") or ""
    page = params.get("page") or ""
    return {
        "sort": sort,
        "page": int(page) if page.isdigit() and int(page) > 1 else None,
        "track": int(track) if track.isdigit() else None,
        "university": int(university) if university.isdigit() else None,
        "status": status if status in dict(STATUS_FILTERS) else None,
    }


class _TrackLabels:
    """A track's short label ("Master's · Major") and full name (str(track): the department
    too), each level's name translated once."""

    def __init__(self):
        self.levels: dict[str, str] = {}
        self.tracks: dict[int, tuple[str, str]] = {}

    def __call__(self, track) -> tuple[str, str]:
        if track is None:
            return "", ""
        if track.pk not in self.tracks:
            if track.level not in self.levels:
                self.levels[track.level] = track.get_level_display()
            short = f"{self.levels[track.level]} · {track.major}"
            self.tracks[track.pk] = (short, f"{short} ({track.department})")  # as str(track)
        return self.tracks[track.pk]

    def option(self, track) -> dict:
        """A track as a <select>'s option: its id as a plain string (no number formatting in
        the template), label and title."""
        label, title = self(track)
        return {"track": track, "pk": track.pk, "value": str(track.pk), "label": label,
                "title": title}


def _review_query(filters: dict) -> str:
    return urlencode({key: value for key, value in filters.items()
                      if value not in (None, "") and not (key == "sort" and value == "track")})


def _review_links(filters: dict, page) -> tuple[dict, dict]:
    """The review page's links to the previous and next page, and to each sort order, keeping
    the other filters."""
    kept = {key: value for key, value in filters.items()
            if key not in ("sort", "page") and value is not None}
    page_links = {
        "previous": "?" + urlencode({**kept, "sort": filters["sort"],
                                     "page": page.previous_page_number()})
        if page.has_previous() else None,
        "next": "?" + urlencode({**kept, "sort": filters["sort"],
                                 "page": page.next_page_number()}) if page.has_next() else None,
    }
    sort_links = {key: "?" + urlencode({**kept, "sort": key}) for key in SORT_KEYS}
    return page_links, sort_links


def _review_context(intake_round: IntakeRound, filters: dict, *, form_errors=None,
                    form_values=None) -> dict:
    summary = selectors.cohort_review_summary(intake_round)
    placements = selectors.cohort_review_rows(
        intake_round, sort=filters["sort"], track_id=filters["track"],
        university_id=filters["university"], status=filters["status"], summary=summary,
    )
    free = {entry["track"].pk: (entry["seats"] or 0) - (entry["placed"] or 0)
            for entry in summary["tracks"]}
    # Thousands of rows with a form each are slow to render and to read: 100 a page, sliced in
    # the database.
    page = Paginator(placements, REVIEW_PAGE_SIZE).get_page(filters.get("page"))
    rows = selectors.cohort_review_details(
        page.object_list, tracks={entry["track"].pk: entry["track"] for entry in summary["tracks"]})
    form_errors, form_values = form_errors or {}, form_values or {}
    # Each label translated once per page, not once per row and option: a page has a hundred
    # rows of up to ten tracks each.
    labels = _TrackLabels()
    criteria = {name: str(CRITERIA_LABELS[name]) for name in scoring.CRITERIA}
    admin_url = reverse("admin:candidates_nomination_change", args=[0])
    for row in rows:
        nomination = row["nomination"]
        current = row["track"].pk if row["track"] is not None else None
        row["track_label"], row["track_title"] = labels(row["track"])
        row["key"] = str(nomination.pk)  # a plain string: no number formatting per use
        values = form_values.get(nomination.pk, {})
        row["move_options"] = [
            {**labels.option(track), "selected": track.pk == values.get("track"),
             "free": free.get(track.pk, 0) > 0}
            for track in row["ranked_tracks"] if track.pk != current
        ]
        row["admin_url"] = admin_url.replace("/0/", f"/{nomination.pk}/")
        row["errors"] = form_errors.get(nomination.pk, [])
        row["values"] = values
        components = row["components"] or {}
        row["component_list"] = [(criteria[name], components[name])
                                 for name in scoring.CRITERIA if name in components]
    query = _review_query(filters)
    page_links, sort_links = _review_links(filters, page)
    cohort = summary["cohort"]
    editable = (cohort is not None and cohort.match_run_id is not None
                and cohort.status == Cohort.Status.PROPOSED)
    return {
        "intake_round": intake_round, "cohort": cohort,
        "active": "cohort", "rows": rows, "filters": filters, "query": query,
        "page": page, "page_links": page_links,
        "tracks": [labels.option(entry["track"]) for entry in summary["tracks"]],
        "universities": summary["universities"],
        "statuses": STATUS_FILTERS, "sort_links": sort_links, "editable": editable,
        "approve_refusal": _cohort_refusals(intake_round, cohort,
                                            timezone.now())["approve_refusal"]
        if editable else None,
    }


@never_cache
@staff_required
@require_GET
def cohort_review(request, round_id):
    intake_round = _round(round_id)
    return render(request, "candidates/staff/cohort_review.html",
                  _review_context(intake_round, _review_filters(request.GET)))


class OverrideForm(forms.Form):
    nomination = forms.IntegerField(min_value=1)
    kind = forms.ChoiceField(choices=CohortOverride.Kind.choices)
    track = forms.IntegerField(min_value=1, required=False)
    # Empty is let through: the service refuses it with the message staff should read.
    reason = forms.CharField(max_length=2000, required=False, strip=True)
    query = forms.CharField(max_length=500, required=False)


def _back_to_review(intake_round: IntakeRound, query: str):
    filters = _review_filters(QueryDict(query or ""))
    suffix = _review_query(filters)
    url = reverse("staff_rounds:cohort_review", args=[intake_round.pk])
    return redirect(f"{url}?{suffix}" if suffix else url)


@staff_required
@require_POST
def override_create(request, round_id):
    intake_round = _round(round_id)
    form = OverrideForm(request.POST)
    if not form.is_valid() or form.cleaned_data["nomination"] is None:
        messages.error(request, _("The override could not be read. Please try again."))
        return _back_to_review(intake_round, request.POST.get("query", ""))
    data = form.cleaned_data
    cohort = _cohort(intake_round)
    nomination = get_object_or_404(Nomination, pk=data["nomination"], intake_round=intake_round)
    # A track outside the round reaches the service as none: it asks for a track to be chosen.
    track = intake_round.tracks.filter(pk=data["track"]).first() if data["track"] else None
    try:
        services.override_create(actor=request.user, cohort=cohort, nomination=nomination,
                                 kind=data["kind"], track=track, reason=data["reason"])
    except ValidationError as error:
        errors = error.messages
    else:
        messages.success(request, _("Override saved for %(candidate)s.") % {
            "candidate": nomination})
        return _back_to_review(intake_round, data["query"])
    filters = _review_filters(QueryDict(data["query"] or ""))
    values = {"kind": data["kind"], "track": data["track"], "reason": data["reason"]}
    context = _review_context(intake_round, filters, form_errors={nomination.pk: errors},
                              form_values={nomination.pk: values})
    context.update(error_nomination=nomination, error_messages=errors)
    return render(request, "candidates/staff/cohort_review.html", context, status=400)


@staff_required
@require_POST
def override_clear(request, round_id, override_id):
    intake_round = _round(round_id)
    override = get_object_or_404(
        CohortOverride.objects.select_related("nomination"), pk=override_id,
        cohort__intake_round=intake_round,
    )
    try:
        services.override_clear(actor=request.user, override=override)
    except ValidationError as error:
        messages_add_error(request, error)
    else:
        messages.success(request, _(
            "Override for %(candidate)s cleared. The next matching run places the candidate "
            "on the merits again."
        ) % {"candidate": override.nomination})
    return _back_to_review(intake_round, request.POST.get("query", ""))


# --- what-if ------------------------------------------------------------------------------------

class WhatIfForm(forms.Form):
    """Seats per track (`seats_<track id>`) and the five scoring weights."""

    def __init__(self, data=None, *, tracks, seats, weights):
        super().__init__(data)
        self.tracks = list(tracks)
        for track in self.tracks:
            self.fields[f"seats_{track.pk}"] = forms.IntegerField(
                label=str(track), min_value=0, max_value=MAX_TRACK_SEATS,
                initial=seats.get(track.pk, 0),
            )
        for name in scoring.CRITERIA:
            self.fields[f"weight_{name}"] = forms.DecimalField(
                label=CRITERIA_LABELS[name], min_value=0, max_value=1000, decimal_places=2,
                initial=weights.get(name, 0),
            )

    def seat_fields(self):
        return [(track, self[f"seats_{track.pk}"]) for track in self.tracks]

    def weight_fields(self):
        return [self[f"weight_{name}"] for name in scoring.CRITERIA]

    def clean(self):
        cleaned = super().clean()
        weights = [cleaned.get(f"weight_{name}") for name in scoring.CRITERIA]
        if all(w is not None for w in weights) and not any(weights):
            raise forms.ValidationError(_("At least one weight must be above zero."))
        return cleaned

    def seats(self) -> dict[int, int]:
        return {track.pk: self.cleaned_data[f"seats_{track.pk}"] for track in self.tracks}

    def weights(self) -> dict[str, float]:
        return {name: float(self.cleaned_data[f"weight_{name}"]) for name in scoring.CRITERIA}


WHATIF_PAGE_SIZE = 25


def _whatif_form_values(whatif) -> tuple[dict[int, int], dict[str, float]]:
    return ({int(pk): n for pk, n in whatif.seats.items()}, dict(whatif.weights))


def _whatif_result_context(request, whatif) -> dict:
    """A stored what-if: its track figures and a page of the candidates that change."""
    if whatif is None or whatif.status != whatif.Status.DONE:
        return {}
    page = Paginator(whatif.changes, WHATIF_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.whatif_rows(whatif, list(page.object_list))
    return {"page": page, "track_compare": selectors.whatif_track_rows(whatif),
            "page_query": urlencode({"whatif": whatif.pk})}


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def whatif(request, round_id):
    """A dry run with other seats and weights beside the current proposal. Saves no run: a POST
    queues a what-if (or finds the same one stored) and redirects to it; its page shows
    "computing…" until the task has stored the result, then the candidates that change."""
    intake_round = _round(round_id)
    whatif_run, whatif_id = None, request.GET.get("whatif", "")
    if whatif_id:
        if not whatif_id.isdigit():
            raise Http404
        stored = selectors.whatif_list_for_round(intake_round)  # scoped to the round
        if request.GET.get("format") == "json":  # asked by static/js/round_overview.js
            return JsonResponse({"running": get_object_or_404(stored, pk=whatif_id).pending})
        whatif_run = get_object_or_404(stored.defer(None), pk=whatif_id)
    round_tracks = selectors.whatif_round_tracks(intake_round)
    seats = {rt.track_id: rt.seats for rt in round_tracks}
    weights = selectors.scoring_weights_get_for_round(intake_round)
    if whatif_run is not None:
        seats, weights = _whatif_form_values(whatif_run)
    posted = request.method == "POST"
    form = WhatIfForm(request.POST if posted else None, tracks=[rt.track for rt in round_tracks],
                      seats=seats, weights=weights)
    if posted and form.is_valid():
        whatif_run = services.whatif_request(actor=request.user, intake_round=intake_round,
                                             seats=form.seats(), weights=form.weights())
        url = reverse("staff_rounds:whatif", args=[intake_round.pk])
        return redirect(f"{url}?{urlencode({'whatif': whatif_run.pk})}")
    context = {"intake_round": intake_round, "cohort": selectors.cohort_get_for_round(intake_round),
               "active": "whatif", "form": form, "whatif": whatif_run,
               **_whatif_result_context(request, whatif_run)}
    return render(request, "candidates/staff/whatif.html", context, status=400 if posted else 200)


# --- approval and runs --------------------------------------------------------------------------

@never_cache
@staff_required
@require_GET
def cohort_approve_confirm(request, round_id):
    """What approving will do (admitted per track, not admitted, the emails and their
    languages), and the button that does it. Changes nothing."""
    intake_round = _round(round_id)
    cohort = _cohort(intake_round)
    cohort.intake_round = intake_round
    approved = cohort.status == Cohort.Status.APPROVED
    return render(request, "candidates/staff/cohort_approve_confirm.html", {
        "intake_round": intake_round, "cohort": cohort, "active": "overview",
        "approved": approved,
        "refusal": None if approved else services.cohort_approve_refusal(cohort=cohort),
        "summary": selectors.cohort_approval_summary(cohort)
        if cohort.match_run_id and not approved else None,
    })


def _confirmed(request) -> bool:
    """Whether an approval's POST comes from its confirmation page; if not, staff are told to
    confirm there (the caller sends them back to it)."""
    if request.POST.get("confirm") == "yes":
        return True
    messages.error(request, _("Check what the approval will do, then confirm it on this page."))
    return False


@staff_required
@require_POST
def cohort_approve(request, round_id):
    """Approve, once confirmed on the confirmation page (for the proposal it showed)."""
    intake_round = _round(round_id)
    cohort = _cohort(intake_round)
    confirm_url = reverse("staff_rounds:cohort_approve_confirm", args=[intake_round.pk])
    if not _confirmed(request):
        return redirect(confirm_url)
    run = request.POST.get("run") or ""
    try:
        services.cohort_approve(actor=request.user, cohort=cohort,
                                run_id=int(run) if run.isdigit() else None)
    except ValidationError as error:
        messages_add_error(request, error)
        return redirect(confirm_url)
    messages.success(request, _("The cohort is approved. The universities and candidates "
                                "are being notified by email."))
    return redirect("staff_rounds:round_overview", round_id=intake_round.pk)


@staff_required
@require_POST
def cohort_reopen(request, round_id):
    intake_round = _round(round_id)
    cohort = _cohort(intake_round)
    reason = (request.POST.get("reason") or "").strip()[:2000]
    try:
        services.cohort_reopen(actor=request.user, cohort=cohort, reason=reason)
    except ValidationError as error:
        # Shown beside the reopen form, with the reason as typed.
        context = _overview_context(intake_round, reopen_reason=reason,
                                    reopen_errors=error.messages)
        return render(request, "candidates/staff/round_overview.html", context, status=400)
    messages.success(request, _("The cohort is reopened for review. The candidates and "
                                "universities told of its result are being told by email that "
                                "it is withdrawn."))
    return redirect("staff_rounds:round_overview", round_id=intake_round.pk)


@staff_required
@require_POST
def run_now(request, round_id):
    intake_round = _round(round_id)
    try:
        services.cohort_run_request(actor=request.user, intake_round=intake_round)
    except ValidationError as error:
        messages_add_error(request, error)
    else:
        messages.success(request, _("A matching run was requested. This page refreshes when it "
                                    "has finished."))
    return redirect("staff_rounds:round_overview", round_id=intake_round.pk)


def _run_json(run) -> dict | None:
    if run is None:
        return None
    return {
        "id": run.pk, "status": run.status, "trigger": run.trigger,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_ms": run.duration_ms, "counts": run.counts,
    }


@never_cache
@staff_required
@require_GET
def run_status(request, round_id):
    state = selectors.cohort_run_state(_round(round_id))
    return JsonResponse({"running": state.running, "latest_run": _run_json(state.latest_run)})


# --- audit --------------------------------------------------------------------------------------

class AuditFilterForm(forms.Form):
    who = forms.CharField(label=gettext_lazy("Who"), required=False, max_length=254)
    what = forms.ChoiceField(label=gettext_lazy("What"), required=False)
    since = forms.DateField(label=gettext_lazy("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("To"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, actions: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["what"].choices = [("", _("all")), *actions]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end of the period comes before its start."))
        return data


def _audit_filtered(request, intake_round: IntakeRound) -> tuple[AuditFilterForm, object]:
    """The filter form and the entries it selects; an invalid filter is left out (the form
    says why)."""
    form = AuditFilterForm(request.GET, actions=audit.round_audit_actions(intake_round))
    form.is_valid()
    data = {k: v for k, v in getattr(form, "cleaned_data", {}).items() if k not in form.errors}
    entries = audit.round_audit_entries(
        intake_round, who=(data.get("who") or "").strip(), action=data.get("what") or "",
        since=data.get("since"), until=data.get("until"))
    return form, entries


@never_cache
@staff_required
@require_GET
def audit_log(request, round_id):
    intake_round = _round(round_id)
    form, entries = _audit_filtered(request, intake_round)
    page = audit.CappedPaginator(entries, AUDIT_PAGE_SIZE,
                                 cap=AUDIT_PAGED_ENTRIES).get_page(request.GET.get("page"))
    filters = {k: v for k in AUDIT_FILTER_KEYS if (v := request.GET.get(k, "").strip())}
    return render(request, "candidates/staff/audit_log.html", {
        "intake_round": intake_round, "active": "audit", "form": form, "page": page,
        "lines": audit.audit_lines(page.object_list),
        "filter_query": urlencode(filters),
        "cohort": selectors.cohort_get_for_round(intake_round),
    })


@never_cache  # personal data: no copy left in a shared cache
@staff_required
@require_GET
def audit_export(request, round_id):
    """The filtered log as a CSV file, streamed a batch of entries at a time."""
    intake_round = _round(round_id)
    _form, entries = _audit_filtered(request, intake_round)
    response = StreamingHttpResponse(csv_chunks(audit.audit_export_table(entries)),
                                     content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = (
        f'attachment; filename="ecocycle-{intake_round.pk}-audit.csv"')
    return response
