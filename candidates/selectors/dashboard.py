"""Reads of the staff dashboard: a round's figures, its cohort proposal, what-ifs, its audit.

Each function issues a fixed number of queries whatever the number of nominations, and returns
plain dicts and lists that the pages, the exports and the benchmark share.
"""

from collections import Counter, defaultdict
from datetime import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, Q, QuerySet
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
                  placed_now: dict[int, int]) -> list[dict]:
    run_tracks = {}
    if latest:
        run_tracks = {t.track_id: t for t in latest.track_results.all()}
    round_tracks = list(RoundTrack.objects.filter(intake_round=intake_round)
                        .select_related("track").order_by("track__department",
                                                          "track__major", "track__level"))
    return [{
        "track": rt.track, "seats": rt.seats,
        "placed": sum(1 for t in placed_now.values() if t == rt.track_id),
        "applicants": run_tracks[rt.track_id].applicants if rt.track_id in run_tracks else 0,
        "cutoff_score": run_tracks[rt.track_id].cutoff_score if rt.track_id in run_tracks
        else None,
    } for rt in round_tracks]


def _round_breakdowns(nominations: list[tuple], eligible_ids: set[int],
                      placed_now: dict[int, int]) -> tuple[list[dict], list[dict]]:
    """Nominated, eligible and placed by country and by university."""
    by_university_counts = defaultdict(Counter)
    by_country_counts = defaultdict(Counter)
    for pk, _status, _consent, _eligible, university_id, country in nominations:
        for bucket in (by_university_counts[university_id], by_country_counts[str(country)]):
            bucket["nominated"] += 1
            bucket["eligible"] += pk in eligible_ids
            bucket["placed"] += pk in placed_now
    universities = University.objects.in_bulk(by_university_counts.keys())
    by_country = [{"country": code, "name": dict(countries).get(code, code), **counts}
                  for code, counts in sorted(by_country_counts.items())]
    by_university = sorted(
        ({"university": universities[uid], **counts}
         for uid, counts in by_university_counts.items()),
        key=lambda row: row["university"].name)
    return by_country, by_university


def _run_changes(placed_now: dict[int, int], placed_before: dict[int, int],
                 previous: MatchRun | None) -> dict[str, int]:
    changes = {"newly_placed": 0, "no_longer_placed": 0, "moved": 0}
    if previous:
        for pk, track_id in placed_now.items():
            if pk not in placed_before:
                changes["newly_placed"] += 1
            elif placed_before[pk] != track_id:
                changes["moved"] += 1
        changes["no_longer_placed"] = sum(1 for pk in placed_before if pk not in placed_now)
    return changes


def round_overview(intake_round: IntakeRound) -> dict:
    nominations = list(
        Nomination.objects.filter(intake_round=intake_round)
        .exclude(status=Nomination.Status.DRAFT)
        .values_list("id", "status", "consent_given_at", "is_eligible", "university_id",
                     "nationality")
    )
    cohort = cohort_get_for_round(intake_round)
    runs = list(cohort_run_list(intake_round)[:2])
    latest, previous = [*runs, None, None][:2]
    placed_now = dict(Placement.objects.filter(match_run=latest, track__isnull=False)
                      .values_list("nomination_id", "track_id")) if latest else {}
    placed_before = dict(Placement.objects.filter(match_run=previous, track__isnull=False)
                         .values_list("nomination_id", "track_id")) if previous else {}
    scored = set(NominationScore.objects.filter(nomination__intake_round=intake_round)
                 .values_list("nomination_id", flat=True).distinct())
    admissions = list(CohortAdmission.objects.filter(
        cohort__intake_round=intake_round, cohort__status=Cohort.Status.APPROVED,
    ).values_list("nomination_id", "enrolment"))
    submitted = [n for n in nominations if n[1] == Nomination.Status.SUBMITTED]
    consented = [n for n in submitted if n[2] is not None]
    eligible = [n for n in consented if n[3]]
    funnel = [
        ("nominated", _("Nominated"), len(nominations)),
        ("consented", _("Consented"), len(consented)),
        ("eligible", _("Eligible"), len(eligible)),
        ("scored", _("Scored"), len(scored)),
        ("placed", _("Placed"), len(placed_now)),
        ("approved", _("Approved"), len(admissions)),
        ("enrolled", _("Enrolled"), sum(1 for _pk, enrolment in admissions if enrolment)),
    ]
    tracks = _round_tracks(intake_round, latest, placed_now)
    by_country, by_university = _round_breakdowns(nominations, {n[0] for n in eligible},
                                                  placed_now)
    running = cohort_run_requested(cohort, latest)
    return {"funnel": funnel, "tracks": tracks, "by_country": by_country,
            "by_university": by_university, "latest_run": latest, "previous_run": previous,
            "changes": _run_changes(placed_now, placed_before, previous), "cohort": cohort,
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


SORTS = {
    "track": lambda r: (r["track"] is None, r["track_name"], -(r["score"] or 0)),
    "score": lambda r: (-(r["score"] or 0), r["nomination_id"]),
    "university": lambda r: (r["university"].name, r["name"].lower(), r["nomination_id"]),
    "candidate": lambda r: (r["name"].lower(), r["nomination_id"]),
    "rank": lambda r: (r["choice_rank"] or 99, -(r["score"] or 0)),
}


def cohort_review_rows(
    intake_round: IntakeRound, *, sort: str = "track", track_id: int | None = None,
    university_id: int | None = None, status: str | None = None,
) -> list[dict]:
    """The current proposal, one row per candidate who took part in the latest run."""
    cohort = cohort_get_for_round(intake_round)
    if cohort is None or cohort.match_run_id is None:
        return []
    # Plain values for every row (thousands); model objects only for the page shown, in
    # cohort_review_details.
    placements = list(
        Placement.objects.filter(match_run_id=cohort.match_run_id).values_list(
            "nomination_id", "track_id", "choice_rank", "score", "reasons",
            "nomination__university_id", "nomination__nationality",
            "nomination__given_names", "nomination__family_name")
    )
    ids = [row[0] for row in placements]
    overrides = {o.nomination_id: o for o in CohortOverride.objects.filter(
        nomination_id__in=ids, cleared_at__isnull=True).select_related("track", "created_by")}
    tracks = DegreeTrack.objects.in_bulk(
        {row[1] for row in placements if row[1] is not None})
    names = {pk: str(track) for pk, track in tracks.items()}
    universities = University.objects.in_bulk({row[5] for row in placements})
    rows = [{
        "nomination_id": pk, "name": " ".join(p for p in [given, family.upper()] if p),
        "university": universities[university_id], "country": country,
        "track": tracks.get(track_id), "choice_rank": choice_rank, "score": score,
        "override": overrides.get(pk),
        "reasons": reasons if track_id is None else [],
        "track_name": names.get(track_id, ""),
    } for (pk, track_id, choice_rank, score, reasons, university_id, country, given,
           family) in placements]
    if track_id:
        rows = [r for r in rows if r["track"] is not None and r["track"].pk == track_id]
    if university_id:
        rows = [r for r in rows if r["university"].pk == university_id]
    if status == "placed":
        rows = [r for r in rows if r["track"] is not None]
    elif status == "unplaced":
        rows = [r for r in rows if r["track"] is None]
    elif status == "overridden":
        rows = [r for r in rows if r["override"] is not None]
    return sorted(rows, key=SORTS.get(sort, SORTS["track"]))


def cohort_review_details(rows: list[dict]) -> list[dict]:
    """Fill in what only a page of rows needs: the nomination, score components, eligibility
    notes and the tracks each candidate ranked (three queries for the page)."""
    ids = [row["nomination_id"] for row in rows]
    nominations = Nomination.objects.defer("passport_number").in_bulk(ids)
    placed = {row["nomination_id"]: row["track"].pk for row in rows if row["track"]}
    components = {
        (n, t): parts for n, t, parts in NominationScore.objects.filter(
            nomination_id__in=ids).values_list("nomination_id", "track_id", "components")
        if placed.get(n) == t
    }
    ranked = defaultdict(list)
    for preference in NominationPreference.objects.filter(nomination_id__in=ids).select_related(
            "track").order_by("rank"):
        ranked[preference.nomination_id].append(preference.track)
    names = {track.pk: str(track) for tracks in ranked.values() for track in tracks}
    for row in rows:
        pk = row["nomination_id"]
        row["nomination"] = nominations[pk]
        row["unplaced_reasons"] = _unplaced_sentences(row["reasons"], names)
        row["components"] = components.get((pk, placed.get(pk)), {})
        row["eligibility"] = [reason_text(r) for r in row["nomination"].eligibility_reasons]
        row["ranked_tracks"] = ranked[pk]
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
