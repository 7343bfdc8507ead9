"""Staff exports of a round's cohort: the tables, each read in a fixed number of queries and
written as CSV or XLSX by `ecocycle.exports`.

The tables follow the round's cohort: the Placement rows of its current run (which carry the
staff's overrides) and, once approved, its CohortAdmission rows, the decision of record.
"""

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from itertools import chain

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django_countries.fields import Country

from ecocycle.exports import ExportTable
from programs.models import DegreeTrack, RoundTrack, University

from ..models import Cohort, CohortAdmission, CohortOverride, MatchRunTrack, Nomination, Placement
from .cohorts import cohort_get_for_round
from .dashboard import track_positions

_NOMINATION_COLUMNS = ("family_name", "given_names", "nationality", "university_id")
_TRACK_COLUMNS = ("level", "major", "department")


def _admissions(cohort: Cohort | None) -> dict[int, CohortAdmission]:
    if cohort is None:
        return {}
    return {a.nomination_id: a for a in CohortAdmission.objects.filter(cohort=cohort)
            .select_related("track", "nomination__university")
            .only("nomination_id", "track_id",
                  *(f"nomination__{name}" for name in _NOMINATION_COLUMNS),
                  "nomination__university__name", "nomination__university__country",
                  *(f"track__{name}" for name in _TRACK_COLUMNS))}


def _placements(cohort: Cohort | None) -> QuerySet[Placement]:
    if cohort is None:
        return Placement.objects.none()
    # Only the columns the tables show: a nomination row is wide, and decrypting fields of
    # thousands of them would be most of the export's time.
    return (
        Placement.objects.filter(match_run_id=cohort.match_run_id)
        .select_related("nomination__university", "track")
        .only("nomination_id", "track_id", "choice_rank", "score",
              *(f"nomination__{name}" for name in _NOMINATION_COLUMNS),
              "nomination__university__name", "nomination__university__country",
              *(f"track__{name}" for name in _TRACK_COLUMNS))
        .order_by("nomination__university__name", "nomination__family_name",
                  "nomination__given_names", "nomination_id")
    )


def _statuses() -> Callable[[bool, object], str]:
    labels = {"admitted": _("admitted"), "placed": _("placed"), "unplaced": _("unplaced")}

    def status(admitted: bool, track) -> str:
        if admitted:
            return labels["admitted"]
        return labels["placed"] if track is not None else labels["unplaced"]

    return status


def _country_names() -> Callable[[object], str]:
    """A country's name in the active language, looked up once per country."""
    names: dict[str, str] = {}

    def name(country) -> str:
        if country.code not in names:
            names[country.code] = country.name if country.code else ""
        return names[country.code]

    return name


def _track_labels() -> Callable[[object], str]:
    """str(track), once per track: it translates the level, too slow to repeat per row."""
    labels: dict[int, str] = {}

    def label(track) -> str:
        if track is None:
            return ""
        if track.pk not in labels:
            labels[track.pk] = str(track)
        return labels[track.pk]

    return label


def cohort_table(intake_round) -> ExportTable:
    """Every candidate of the round's cohort: where they are placed or admitted, and why.
    Country is the candidate's nationality, as in the dashboard's per-country figures.

    Its rows are lazy: the placements are read as plain values in chunks as the rows are
    written (a CSV is streamed), the tracks, universities, admissions and overrides (at most
    the round's seats) up front. Seven queries, whatever the size of the round.
    """
    cohort = cohort_get_for_round(intake_round)
    admissions, overrides, in_run = {}, {}, set()
    if cohort is not None:
        admissions = dict(CohortAdmission.objects.filter(cohort=cohort)
                          .values_list("nomination_id", "track_id"))
        overrides = {o.nomination_id: o for o in CohortOverride.objects.filter(
            cohort=cohort, cleared_at__isnull=True)}
        # An admission without a placement in the current run is still part of the cohort.
        in_run = set(Placement.objects.filter(match_run_id=cohort.match_run_id,
                                              nomination__admission__cohort=cohort)
                     .values_list("nomination_id", flat=True))
    tracks = {track.pk: track for track in DegreeTrack.objects.filter(
        Q(pk__in=RoundTrack.objects.filter(intake_round=intake_round).values("track_id"))
        | Q(pk__in=set(admissions.values())))}
    universities = dict(University.objects.filter(
        Exists(Nomination.objects.filter(university_id=OuterRef("pk"),
                                         intake_round=intake_round))).values_list("pk", "name"))
    outside = Nomination.objects.filter(pk__in=[pk for pk in admissions if pk not in in_run])
    rows = chain(_placement_values(cohort), (
        (pk, None, None, None, family, given, nationality, university_id)
        for pk, family, given, nationality, university_id in outside.order_by("pk").values_list(
            "pk", *_NOMINATION_COLUMNS)))
    labels = (_track_labels(), _statuses(), _country_names())
    return ExportTable(
        title=_("Cohort"),
        headers=[_("Nomination ID"), _("Candidate"), _("University"), _("Country"),
                 _("Degree track"), _("Choice rank"), _("Score"), _("Status"),
                 _("Override"), _("Override reason")],
        rows=_cohort_rows(rows, admissions, overrides, tracks, universities, labels),
    )


def _placement_values(cohort: Cohort | None) -> Iterator[tuple]:
    """The placements of the cohort's run as plain values, in the export's order (university,
    family and given names), read in chunks: no model object per row."""
    if cohort is None or cohort.match_run_id is None:
        return iter(())
    return (Placement.objects.filter(match_run_id=cohort.match_run_id)
            .order_by("nomination__university__name", "nomination__family_name",
                      "nomination__given_names", "nomination_id")
            .values_list("nomination_id", "track_id", "choice_rank", "score",
                         *(f"nomination__{name}" for name in _NOMINATION_COLUMNS))
            .iterator(chunk_size=2000))


def _cohort_rows(candidates, admissions: dict, overrides: dict, tracks: dict, universities: dict,
                 labels) -> Iterator[list]:
    track_label, status, country_name = labels
    for (pk, placed_track_id, choice_rank, score, family, given, nationality,
         university_id) in candidates:
        admitted = pk in admissions
        track_id = admissions[pk] if admitted else placed_track_id
        track = tracks.get(track_id) if track_id is not None else None
        override = overrides.get(pk)
        # Rank and score belong to the placed track; an admission elsewhere has neither here.
        same = track_id is not None and track_id == placed_track_id
        yield [
            pk, " ".join(part for part in [given, family.upper()] if part),  # display_name
            universities.get(university_id, ""), country_name(Country(nationality or "")),
            track_label(track), choice_rank if same else None, score if same else None,
            status(admitted, track),
            override.get_kind_display() if override else "",
            override.reason if override else "",
        ]


def tracks_table(intake_round) -> ExportTable:
    """Per degree track of the round: its figures (seats as the round offers them now, the
    cut-off of the current run), then one row per placed or admitted candidate (the track's
    columns repeated), best score first; a track with nobody gets one row with its figures
    only.

    Its rows are lazy, like the cohort table's: the candidates are read as plain values in
    chunks, already grouped by track and sorted in the database (an admitted candidate under
    the track of their admission). Seven queries, whatever the size of the round.
    """
    cohort = cohort_get_for_round(intake_round)
    round_tracks = list(RoundTrack.objects.filter(intake_round=intake_round)
                        .select_related("track")
                        .order_by("track__department", "track__major", "track__level"))
    figures, placed, admitted, outside = {}, {}, {}, defaultdict(list)
    members = iter(())
    if cohort is not None and cohort.match_run_id is not None:
        figures = {r.track_id: r for r in MatchRunTrack.objects.filter(
            match_run_id=cohort.match_run_id)}
        placed = dict(Placement.objects.filter(match_run_id=cohort.match_run_id,
                                               track__isnull=False)
                      .values("track_id").annotate(n=Count("id")).order_by()
                      .values_list("track_id", "n"))
        admitted = dict(CohortAdmission.objects.filter(cohort=cohort).values("track_id")
                        .annotate(n=Count("id")).order_by().values_list("track_id", "n"))
        members = _track_members(cohort, [rt.track_id for rt in round_tracks])
        # An admission without a placement in the current run still belongs to its track.
        for row in (CohortAdmission.objects.filter(cohort=cohort).exclude(Exists(
                Placement.objects.filter(match_run_id=cohort.match_run_id,
                                         nomination_id=OuterRef("nomination_id"))))
                    .order_by("nomination_id")
                    .values_list("track_id", "nomination_id", "nomination__family_name",
                                 "nomination__given_names", "nomination__university__name")):
            outside[row[0]].append((row[0], row[1], None, None, None, True, *row[2:]))
    return ExportTable(
        title=_("Degree tracks"),
        headers=[_("Department"), _("Major"), _("Level"), _("Seats"), _("Placed"),
                 _("Admitted"), _("Cut-off score"), _("Nomination ID"), _("Candidate"),
                 _("University"), _("Choice rank"), _("Score"), _("Status")],
        rows=_track_rows(round_tracks, members, outside, figures, placed, admitted),
    )


def _track_members(cohort: Cohort, track_ids: list[int]) -> Iterator[tuple]:
    """(track, nomination, placed track, rank, score, admitted, family, given, university
    name) of every candidate of the run placed or admitted in one of `track_ids`, in their
    order, best score first (a missing score counts as none), read in chunks. The admission is
    joined (one row at most per candidate), not looked up per row."""
    return (Placement.objects.filter(match_run_id=cohort.match_run_id)
            .annotate(admission_in=FilteredRelation(
                "nomination__admission", condition=Q(nomination__admission__cohort=cohort)))
            .annotate(member_track=Coalesce(F("admission_in__track_id"), F("track_id"),
                                            output_field=IntegerField()),
                      admitted=ExpressionWrapper(Q(admission_in__id__isnull=False),
                                                 output_field=BooleanField()))
            .filter(member_track__in=track_ids)
            .order_by(track_positions("member_track", track_ids),
                      F("score").desc(nulls_last=True), "nomination_id")
            .values_list("member_track", "nomination_id", "track_id", "choice_rank", "score",
                         "admitted", "nomination__family_name", "nomination__given_names",
                         "nomination__university__name")
            .iterator(chunk_size=2000))


def _member_key(member: tuple) -> tuple:
    # As the database orders the members: best score first, no score last, then by id.
    return (member[4] is None, -(member[4] or 0), member[1])


def _track_rows(round_tracks, members: Iterator[tuple], outside: dict, figures: dict,
                placed: dict, admitted: dict) -> Iterator[list]:
    status = _statuses()
    pending = next(members, None)

    def members_of(track_id: int) -> Iterator[tuple]:
        nonlocal pending
        while pending is not None and pending[0] == track_id:
            yield pending
            pending = next(members, None)

    for round_track in round_tracks:
        track = round_track.track
        figure = figures.get(track.pk)
        head = [track.department, track.major, track.get_level_display(),
                round_track.seats, placed.get(track.pk, 0), admitted.get(track.pk, 0),
                figure.cutoff_score if figure else None]
        # The admissions outside the run (few) slot in among the run's candidates.
        people = heapq.merge(members_of(track.pk), outside.get(track.pk, []), key=_member_key)
        written = False
        for row in _member_rows(head, people, track, status):
            written = True
            yield row
        if not written:
            yield [*head, None, "", "", None, None, ""]


def _member_rows(head, people, track, status) -> Iterator[list]:
    for (_track, pk, placed_track, rank, score, is_admitted, family, given,
         university) in people:
        same = placed_track is not None and placed_track == track.pk
        yield [
            *head, pk, " ".join(part for part in [given, family.upper()] if part),
            university, rank if same else None,
            score if same else None, status(is_admitted, track),
        ]


def universities_table(intake_round) -> ExportTable:
    """Per partner university with nominations in the round, counted as the round overview
    counts them: nominated (submitted or withdrawn, not drafts), eligible (submitted, consented,
    eligible), placed in the current proposal, admitted. Four queries."""
    cohort = cohort_get_for_round(intake_round)
    in_round = Q(nominations__intake_round=intake_round) & ~Q(
        nominations__status=Nomination.Status.DRAFT)
    eligible = in_round & Q(nominations__status=Nomination.Status.SUBMITTED,
                            nominations__consent_given_at__isnull=False,
                            nominations__is_eligible=True)
    universities = list(
        University.objects.annotate(nominated=Count("nominations", filter=in_round),
                                    eligible=Count("nominations", filter=eligible))
        .filter(nominated__gt=0).order_by("country", "name")
    )
    placed, admitted = Counter(), Counter()
    if cohort is not None:
        placed.update(Placement.objects.filter(match_run_id=cohort.match_run_id,
                                               track__isnull=False)
                      .values_list("nomination__university_id", flat=True))
        admitted.update(CohortAdmission.objects.filter(cohort=cohort)
                        .values_list("nomination__university_id", flat=True))
    country_name = _country_names()
    rows = [[u.name, country_name(u.country), u.nominated, u.eligible, placed[u.pk], admitted[u.pk]]
            for u in universities]
    return ExportTable(
        title=_("Universities"),
        headers=[_("University"), _("Country"), _("Nominated"), _("Eligible"), _("Placed"),
                 _("Admitted")],
        rows=rows,
    )


EXPORT_TABLES: dict[str, Callable[..., ExportTable]] = {
    "cohort": cohort_table,
    "tracks": tracks_table,
    "universities": universities_table,
}
