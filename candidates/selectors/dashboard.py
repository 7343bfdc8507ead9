"""Reads of the staff dashboard: a round's figures, its cohort proposal, what-ifs, its audit.

Each function issues a fixed number of queries whatever the number of nominations, and returns
plain dicts and lists that the pages, the exports and the benchmark share.
"""

from collections import Counter, defaultdict
from datetime import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from ecocycle.models import AuditEntry
from programs.calendar import CALENDAR_ACTIONS, calendar_action_refusal
from programs.models import (
    MILESTONE_PHASE,
    PHASE_MILESTONES,
    DegreeTrack,
    IntakeRound,
    RoundMilestone,
    RoundTrack,
    University,
)

from ..eligibility import reason_text
from ..models import (
    Cohort,
    CohortAdmission,
    CohortOverride,
    MatchRun,
    Nomination,
    NominationPreference,
    NominationScore,
    Placement,
)
from .cohorts import (
    cohort_get_for_round,
    cohort_result_recipients,
    cohort_run_list,
    cohort_run_requested,
)

UNPLACED_TEXT = {
    "full_ranked_below_cutoff": gettext_lazy(
        "%(track)s: full, and ranked this candidate below its cut-off."),
    "not_acceptable": gettext_lazy("%(track)s: not open to this candidate."),
    "no_seats": gettext_lazy("%(track)s: has no seats in this round."),
    "unknown_track": gettext_lazy("%(track)s: not offered in this round."),
    "excluded_by_staff": gettext_lazy("Excluded by staff."),
}


def staff_round_list() -> list[IntakeRound]:
    rounds = list(
        IntakeRound.objects.select_related("program")
        .prefetch_related(Prefetch("milestones", queryset=RoundMilestone.objects.order_by("at")))
        .order_by("program__name", "-created_at")
    )
    cohorts = {c.intake_round_id: c for c in Cohort.objects.filter(
        intake_round__in=rounds).select_related("match_run")}
    for intake_round in rounds:
        intake_round.cohort_or_none = cohorts.get(intake_round.pk)
        intake_round.latest_run = getattr(intake_round.cohort_or_none, "match_run", None)
    return rounds


def round_timeline(intake_round: IntakeRound, *, now: datetime) -> dict:
    """The round's milestones in their order with today among them, the current phase, and for
    each calendar action why the phase refuses it (None: it is offered). Reads only the round's
    milestones, which intake_round_list prefetches."""
    dates = intake_round.milestone_dates()
    phase = intake_round.phase_at(now)
    steps = [{
        "kind": kind, "label": RoundMilestone.Kind(kind).label, "at": dates.get(kind),
        "starts": IntakeRound.Phase(MILESTONE_PHASE[kind]).label,
        "reached": dates.get(kind) is not None and dates[kind] <= now,
        "current": MILESTONE_PHASE[kind] == phase,
    } for kind in PHASE_MILESTONES]
    last_wave = dates.get(RoundMilestone.Kind.LAST_WAVE)
    if last_wave is not None:
        # Optional, names no phase: placed among the others by its date.
        step = {"kind": RoundMilestone.Kind.LAST_WAVE,
                "label": RoundMilestone.Kind.LAST_WAVE.label, "at": last_wave,
                "starts": None, "reached": last_wave <= now, "current": False}
        before = sum(1 for s in steps if s["at"] is not None and s["at"] <= last_wave)
        steps.insert(before, step)
    # The milestones follow each other (validate_milestone_order): the reached ones come first.
    position = sum(1 for step in steps if step["reached"])
    entries = [*steps[:position], {"kind": "today", "at": now}, *steps[position:]]
    return {
        "entries": entries, "phase": phase, "phase_label": IntakeRound.Phase(phase).label,
        "now": now,
        "refusals": {action: calendar_action_refusal(intake_round, action, now)
                     for action in CALENDAR_ACTIONS},
    }


def _round_tracks(intake_round: IntakeRound, latest: MatchRun | None,
                  placed_per_track: dict[int, int]) -> list[dict]:
    run_tracks = {}
    if latest:
        run_tracks = {t.track_id: t for t in latest.track_results.all()}
    round_tracks = list(RoundTrack.objects.filter(intake_round=intake_round)
                        .select_related("track").order_by("track__department",
                                                          "track__major", "track__level"))
    return [{
        "track": rt.track, "seats": rt.seats,
        "placed": placed_per_track.get(rt.track_id, 0),
        "applicants": run_tracks[rt.track_id].applicants if rt.track_id in run_tracks else 0,
        "cutoff_score": run_tracks[rt.track_id].cutoff_score if rt.track_id in run_tracks
        else None,
    } for rt in round_tracks]


def _placed(run: MatchRun | None) -> QuerySet[Placement]:
    if run is None:
        return Placement.objects.none()
    return Placement.objects.filter(match_run=run, track__isnull=False)


# Counted as eligible: submitted, consented and eligible.
_CONSENTED = Q(status=Nomination.Status.SUBMITTED, consent_given_at__isnull=False)
_ELIGIBLE = _CONSENTED & Q(is_eligible=True)


def _round_counts(intake_round: IntakeRound, latest: MatchRun | None) -> list[dict]:
    """The round's nominations (drafts aside), whether they are scored and where the latest run
    placed them, counted in one pass of the database: a row per university, nationality and
    placed track (a few thousand at most, whatever the number of nominations)."""
    nominations = (Nomination.objects.filter(intake_round=intake_round)
                   .exclude(status=Nomination.Status.DRAFT))
    if latest is not None:
        nominations = nominations.annotate(latest=FilteredRelation(
            "placements", condition=Q(placements__match_run=latest)))
        placed_track = F("latest__track_id")
    else:
        placed_track = Value(None, output_field=IntegerField())
    return list(nominations.values("university_id", "nationality")
                .annotate(placed_track=placed_track)
                .values("university_id", "nationality", "placed_track")
                .annotate(nominated=Count("id"), consented=Count("id", filter=_CONSENTED),
                          eligible=Count("id", filter=_ELIGIBLE),
                          # Scores are kept for the candidates of the latest run: a probe of
                          # the scores' index each.
                          scored=Count("id", filter=Exists(NominationScore.objects.filter(
                              nomination_id=OuterRef("pk")))))
                .order_by())


def _round_breakdowns(counts: list[dict]) -> tuple[list[dict], list[dict]]:
    """Nominated, eligible and placed by country and by university (one query, for the
    universities' names)."""
    by_university_counts = defaultdict(Counter)
    by_country_counts = defaultdict(Counter)
    for row in counts:
        figures = {"nominated": row["nominated"], "eligible": row["eligible"],
                   "placed": row["nominated"] if row["placed_track"] is not None else 0}
        by_university_counts[row["university_id"]].update(figures)
        by_country_counts[str(row["nationality"])].update(figures)
    universities = University.objects.in_bulk(by_university_counts.keys())
    by_country = [{"country": code, "name": dict(countries).get(code, code),
                   **{key: counts[key] for key in ("nominated", "eligible", "placed")}}
                  for code, counts in sorted(by_country_counts.items())]
    by_university = sorted(
        ({"university": universities[uid],
          **{key: counts[key] for key in ("nominated", "eligible", "placed")}}
         for uid, counts in by_university_counts.items()),
        key=lambda row: row["university"].name)
    return by_country, by_university


def _run_changes(latest: MatchRun | None, previous: MatchRun | None) -> dict[str, int]:
    """Placed now and not before, placed before and not now, placed in another track: counted
    in the database (two queries) by the runs' (run, nomination) unique index."""
    changes = {"newly_placed": 0, "no_longer_placed": 0, "moved": 0}
    if latest is None or previous is None:
        return changes
    before = _placed(previous).filter(nomination_id=OuterRef("nomination_id"))
    now = _placed(latest).filter(nomination_id=OuterRef("nomination_id"))
    changes.update(_placed(latest).aggregate(
        newly_placed=Count("id", filter=~Exists(before)),
        moved=Count("id", filter=Exists(before.exclude(track_id=OuterRef("track_id"))))))
    changes["no_longer_placed"] = _placed(previous).filter(~Exists(now)).count()
    return changes


def round_overview(intake_round: IntakeRound) -> dict:
    """A round's figures: the funnel, each track's fill, the breakdowns by country and by
    university, and what changed since the previous run. Counted in the database, in a fixed
    number of queries each returning a row per track, university or country, never one per
    nomination."""
    cohort = cohort_get_for_round(intake_round)
    runs = list(cohort_run_list(intake_round)[:2])
    latest, previous = [*runs, None, None][:2]
    counts = _round_counts(intake_round, latest)
    placed_per_track = Counter()
    for row in counts:
        if row["placed_track"] is not None:
            placed_per_track[row["placed_track"]] += row["nominated"]
    admissions = CohortAdmission.objects.filter(
        cohort__intake_round=intake_round, cohort__status=Cohort.Status.APPROVED,
    ).aggregate(approved=Count("id"), enrolled=Count("enrolment"))
    funnel = [
        ("nominated", _("Nominated"), sum(row["nominated"] for row in counts)),
        ("consented", _("Consented"), sum(row["consented"] for row in counts)),
        ("eligible", _("Eligible"), sum(row["eligible"] for row in counts)),
        ("scored", _("Scored"), sum(row["scored"] for row in counts)),
        ("placed", _("Placed"), placed_per_track.total()),
        ("approved", _("Approved"), admissions["approved"]),
        ("enrolled", _("Enrolled"), admissions["enrolled"]),
    ]
    tracks = _round_tracks(intake_round, latest, placed_per_track)
    by_country, by_university = _round_breakdowns(counts)
    running = cohort_run_requested(cohort, latest)
    return {"funnel": funnel, "tracks": tracks, "by_country": by_country,
            "by_university": by_university, "latest_run": latest, "previous_run": previous,
            "changes": _run_changes(latest, previous), "cohort": cohort,
            "running": running}


def _approval_emails(recipients) -> dict:
    """The emails an approval sends: candidates' per language, universities' summaries each to
    its coordinators in their languages."""
    languages = dict(settings.LANGUAGES)
    per_language = defaultdict(Counter)
    admitted_per_university = Counter()
    for placement in recipients.placements:
        admitted = placement.track_id is not None
        per_language[placement.nomination.candidate_language][
            "admitted" if admitted else "not_admitted"] += 1
        admitted_per_university[placement.nomination.university_id] += admitted
    candidates = [{"language": code, "name": languages.get(code, code),
                   "admitted": counts["admitted"], "not_admitted": counts["not_admitted"],
                   "total": counts.total()}
                  for code, counts in sorted(per_language.items())]
    universities = sorted((
        {"university": people[0].university, "nominees": recipients.nominees.get(uid, 0),
         "admitted": admitted_per_university[uid], "coordinators": [
             {"email": c.user.email, "name": c.user.get_full_name(), "language": c.user.language,
              "language_name": languages.get(c.user.language, c.user.language)}
             for c in people]}
        for uid, people in recipients.coordinators.items()),
        key=lambda row: row["university"].name)
    return {"candidates": candidates, "universities": universities,
            "count": len(recipients.placements)
            + sum(len(u["coordinators"]) for u in universities)}


def cohort_approval_summary(cohort: Cohort) -> dict:
    """What approving the cohort's current proposal will do: how many are admitted to each
    track, how many are not, and which emails go to whom in which languages (the approval's
    own recipients, cohort_result_recipients). Four queries whatever the cohort's size."""
    recipients = cohort_result_recipients(cohort)
    admitted = Counter(p.track_id for p in recipients.placements if p.track_id is not None)
    round_tracks = RoundTrack.objects.filter(intake_round_id=cohort.intake_round_id).select_related(
        "track").order_by("track__department", "track__major", "track__level")
    return {
        "run": cohort.match_run_id,
        "tracks": [{"track": rt.track, "seats": rt.seats, "admitted": admitted[rt.track_id]}
                   for rt in round_tracks],
        "admitted": sum(admitted.values()),
        "not_admitted": len(recipients.placements) - sum(admitted.values()),
        "emails": _approval_emails(recipients),
    }


def _unplaced_sentences(reasons: list[dict], names: dict[int, str]) -> list[str]:
    out = []
    for reason in reasons:
        text = UNPLACED_TEXT.get(reason.get("reason"))
        track = names.get(reason.get("track_id"), "—")
        out.append(str(text) % {"track": track} if text else str(reason.get("reason")))
    return out


SORT_KEYS = ("track", "candidate", "university", "rank", "score")


class _ArrayPosition(Func):
    """PostgreSQL's array_position(ids, field), past the end when absent: one scan of a short
    integer array in C per row."""

    output_field = IntegerField()

    def __init__(self, field: str, ids: list[int]):
        super().__init__(F(field))
        self.ids = [int(pk) for pk in ids]

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        return (f"COALESCE(array_position(%s::integer[], {column}), %s)",
                (self.ids, *params, len(self.ids) + 1))


def track_positions(field: str, ids: list[int]):
    """The place of a row's `field` (a column or an annotation) among `ids`, past the end when
    absent, as a database expression to order by (the exports share it)."""
    if connection.vendor == "postgresql":
        return _ArrayPosition(field, ids)
    return Case(*(When(**{field: pk}, then=Value(i)) for i, pk in enumerate(ids)),
                default=Value(len(ids)), output_field=IntegerField())


def _positions(field: str, objects):
    """Each object's place in `objects` (sorted in Python, by names as the page shows them in
    the current language) as a database expression to order by: a round has a few hundred
    tracks and universities at most."""
    return track_positions(field, [obj.pk for obj in objects])


def _name_lower() -> Case:
    # The candidate's name as str(nomination) writes it ("Given FAMILY"), lowercased.
    given, family = "nomination__given_names", "nomination__family_name"
    return Case(When(**{given: ""}, then=Lower(family)),
                default=Lower(Concat(given, Value(" "), family)), output_field=CharField())


def cohort_review_summary(intake_round: IntakeRound) -> dict:
    """What the review page shows around its table: the cohort, each track's seats and how many
    the proposal places there (to mark full tracks), and the universities that nominated.
    Four queries, a row per track or university."""
    cohort = cohort_get_for_round(intake_round)
    placed = {}
    if cohort is not None and cohort.match_run_id is not None:
        placed = dict(Placement.objects.filter(match_run_id=cohort.match_run_id,
                                               track__isnull=False)
                      .values("track_id").annotate(n=Count("id")).order_by()
                      .values_list("track_id", "n"))
    tracks = [{"track": rt.track, "seats": rt.seats, "placed": placed.get(rt.track_id, 0)}
              for rt in RoundTrack.objects.filter(intake_round=intake_round)
              .select_related("track").order_by("track__department", "track__major",
                                                "track__level")]
    universities = list(University.objects.filter(Exists(
        Nomination.objects.filter(university_id=OuterRef("pk"), intake_round=intake_round)
        .exclude(status=Nomination.Status.DRAFT))).order_by("name"))
    return {"cohort": cohort, "tracks": tracks, "universities": universities}


def cohort_review_rows(
    intake_round: IntakeRound, *, sort: str = "track", track_id: int | None = None,
    university_id: int | None = None, status: str | None = None,
    summary: dict | None = None,
) -> QuerySet[Placement]:
    """The current proposal, one placement per candidate who took part in the latest run,
    filtered and sorted in the database: a page of it is a slice (cohort_review_details turns a
    page into rows). `summary` (cohort_review_summary) saves reading the tracks and
    universities again."""
    summary = summary or cohort_review_summary(intake_round)
    cohort = summary["cohort"]
    if cohort is None or cohort.match_run_id is None:
        return Placement.objects.none()
    rows = Placement.objects.filter(match_run_id=cohort.match_run_id)
    if track_id:
        rows = rows.filter(track_id=track_id)
    if university_id:
        rows = rows.filter(nomination__university_id=university_id)
    if status == "placed":
        rows = rows.filter(track__isnull=False)
    elif status == "unplaced":
        rows = rows.filter(track__isnull=True)
    elif status == "overridden":
        rows = rows.filter(Exists(CohortOverride.objects.filter(
            nomination_id=OuterRef("nomination_id"), cleared_at__isnull=True)))
    best = F("score").desc(nulls_last=True)
    if sort == "score":
        order = [best, "nomination_id"]
    elif sort == "candidate":
        order = [_name_lower(), "nomination_id"]
    elif sort == "university":
        order = [_positions("nomination__university_id", summary["universities"]),
                 _name_lower(), "nomination_id"]
    elif sort == "rank":
        order = [Coalesce("choice_rank", 99), best, "nomination_id"]
    else:  # by track, as its name reads, the unplaced last
        tracks = sorted((entry["track"] for entry in summary["tracks"]), key=str)
        unplaced_last = Case(When(track__isnull=True, then=Value(1)), default=Value(0),
                             output_field=IntegerField())
        order = [unplaced_last, _positions("track_id", tracks), best, "nomination_id"]
    return rows.order_by(*order)


def cohort_review_details(placements, tracks: dict[int, DegreeTrack] | None = None) -> list[dict]:
    """The rows of one page of placements: the nomination and its university, the track, score
    components, eligibility notes, overrides and the tracks each candidate ranked (four queries
    for the page, whatever the round's size). `tracks` (the round's, by id) saves reading
    them again."""
    placements = list(placements)
    ids = [p.nomination_id for p in placements]
    nominations = Nomination.objects.select_related("university").only(
        "given_names", "family_name", "native_name", "nationality", "eligibility_reasons",
        "university__name", "university__country").in_bulk(ids)
    ranked_ids = defaultdict(list)
    for nomination_id, track_id in NominationPreference.objects.filter(
            nomination_id__in=ids).order_by("rank").values_list("nomination_id", "track_id"):
        ranked_ids[nomination_id].append(track_id)
    wanted = {p.track_id for p in placements if p.track_id} | {
        t for ranked in ranked_ids.values() for t in ranked}
    tracks = dict(tracks or {})
    if wanted - tracks.keys():
        tracks.update(DegreeTrack.objects.in_bulk(wanted - tracks.keys()))
    overrides = {o.nomination_id: o for o in CohortOverride.objects.filter(
        nomination_id__in=ids, cleared_at__isnull=True).select_related("track", "created_by")}
    placed = {p.nomination_id: p.track_id for p in placements if p.track_id}
    components = {
        (n, t): parts for n, t, parts in NominationScore.objects.filter(
            nomination_id__in=ids).values_list("nomination_id", "track_id", "components")
        if placed.get(n) == t
    }
    names = {}
    rows = []
    for placement in placements:
        pk = placement.nomination_id
        nomination = nominations[pk]
        ranked = [tracks[t] for t in ranked_ids[pk] if t in tracks]
        reasons = placement.reasons if placement.track_id is None else []
        if reasons:
            names.update((t.pk, str(t)) for t in ranked if t.pk not in names)
        rows.append({
            "nomination_id": pk, "nomination": nomination, "name": str(nomination),
            "university": nomination.university, "country": nomination.nationality,
            "track": tracks.get(placement.track_id), "choice_rank": placement.choice_rank,
            "score": placement.score, "override": overrides.get(pk), "reasons": reasons,
            "unplaced_reasons": _unplaced_sentences(reasons, names),
            "components": components.get((pk, placed.get(pk)), {}),
            "eligibility": [reason_text(r) for r in nomination.eligibility_reasons],
            "ranked_tracks": ranked,
        })
    return rows


def whatif_compare(intake_round: IntakeRound, proposal) -> dict:
    """The current proposal beside a what-if proposal (from services.cohort_propose)."""
    cohort = cohort_get_for_round(intake_round)
    current = dict(Placement.objects.filter(match_run_id=cohort.match_run_id)
                   .values_list("nomination_id", "track_id")) if cohort and cohort.match_run_id \
        else {}
    ids = set(current) | set(proposal.placements) | set(proposal.unplaced)
    nominations = Nomination.objects.in_bulk(ids)
    tracks = DegreeTrack.objects.in_bulk(
        {t for t in current.values() if t} | set(proposal.placements.values()))
    rows = []
    for pk in sorted(ids, key=lambda i: str(nominations[i]).lower()):
        now_track, then_track = current.get(pk), proposal.placements.get(pk)
        rows.append({"nomination": nominations[pk], "current_track": tracks.get(now_track),
                     "whatif_track": tracks.get(then_track), "changed": now_track != then_track})
    return {"rows": rows, "changed": sum(r["changed"] for r in rows),
            "placed_now": sum(1 for t in current.values() if t),
            "placed_whatif": len(proposal.placements)}


def audit_for_round(intake_round: IntakeRound, *, actor: str | None = None,
                    action: str | None = None) -> QuerySet[AuditEntry]:
    """Audit entries about the round, its nominations, runs and cohort."""
    def ids(qs):
        return [str(pk) for pk in qs.values_list("pk", flat=True)]

    types = ContentType.objects.get_for_models(IntakeRound, Nomination, MatchRun, Cohort)
    scope = (
        Q(target_type=types[IntakeRound], target_id=str(intake_round.pk))
        | Q(target_type=types[Nomination],
            target_id__in=ids(Nomination.objects.filter(intake_round=intake_round)))
        | Q(target_type=types[MatchRun],
            target_id__in=ids(MatchRun.objects.filter(intake_round=intake_round)))
        | Q(target_type=types[Cohort],
            target_id__in=ids(Cohort.objects.filter(intake_round=intake_round)))
    )
    entries = AuditEntry.objects.filter(scope).select_related("target_type")
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    if action:
        entries = entries.filter(action=action)
    return entries.order_by("-created_at", "-id")
