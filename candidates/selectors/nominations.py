"""Reads before admission: coordinators, nominations and their documents, a coordinator's
rounds, scoped to what the user may see, with joins applied."""

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from ecocycle.api_tokens import api_token_list
from ecocycle.models import ApiToken, User
from programs.models import (
    DegreeTrack,
    IntakeRound,
    ProgramUniversity,
    RoundMilestone,
    University,
)

from ..models import (
    Coordinator,
    Nomination,
    NominationDocument,
    NominationPreference,
)
from .outcomes import outcome_annotate


def coordinator_for_user(user: User) -> Coordinator | None:
    """The user's coordinator record with its university (one query, then cached on the user:
    every coordinator page names the university)."""
    if not user.is_authenticated or not user.is_coordinator:
        return None
    reverse = Coordinator.user.field.remote_field
    if not reverse.is_cached(user):
        reverse.set_cached_value(user, Coordinator.objects.select_related("university")
                                 .filter(user=user).first())
    return reverse.get_cached_value(user)


def coordinator_list_for_university(university: University) -> list[Coordinator]:
    """The university's coordinators with an active account: whom its emails go to."""
    return list(Coordinator.objects.filter(university=university, user__is_active=True)
                .select_related("user"))


def nomination_list_for_user(
    user: User, *, intake_round: IntakeRound | int | None = None, status: str | None = None,
    search: str | None = None, outcome: str | None = None,
) -> QuerySet[Nomination]:
    """The nominations `user` may see: staff all, a coordinator their university's, others none,
    newest change first, with what a list shows of each (round, university, ranked tracks).

    `outcome` keeps those with that outcome code (selectors.outcomes.OutcomeCode). The order is
    served by the index on (university, -updated_at, -id): a page of a university's list reads
    its rows and no others."""
    qs = Nomination.objects.select_related(
        "intake_round__program", "university"
    ).prefetch_related(
        Prefetch("preferences", queryset=NominationPreference.objects.select_related("track")
                 .order_by("rank")),
    )
    if not user.is_authenticated:
        return qs.none()
    if not user.is_kitech_staff:
        coordinator = coordinator_for_user(user)
        if coordinator is None:
            return qs.none()
        qs = qs.filter(university_id=coordinator.university_id)
    if intake_round is not None:
        qs = qs.filter(intake_round=intake_round)
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(
            Q(family_name__icontains=search) | Q(given_names__icontains=search)
            | Q(native_name__icontains=search) | Q(email__icontains=search)
            | Q(major__icontains=search)
        )
    if outcome:
        qs = outcome_annotate(qs).filter(outcome_code=outcome)
    return qs.order_by("-updated_at", "-id")


def nomination_get_for_user(user: User, pk: int) -> Nomination:
    """One nomination the user may see, with its documents; 404 otherwise (never 403: don't
    confirm it exists)."""
    nomination = nomination_list_for_user(user).filter(pk=pk).prefetch_related(
        Prefetch("documents", queryset=NominationDocument.objects.order_by("kind")),
    ).first()
    if nomination is None:
        raise Http404
    return nomination


def document_get_for_user(user: User, pk: int) -> NominationDocument:
    visible = nomination_list_for_user(user).values("pk")
    document = (
        NominationDocument.objects.select_related("nomination").filter(
            pk=pk, nomination__in=visible).first()
    )
    if document is None:
        raise Http404
    return document


def round_list_for_coordinator(coordinator: Coordinator) -> list[IntakeRound]:
    """Rounds of the programs the coordinator's university takes part in, with the quota used.

    Each round carries `quota`, `quota_used` and `quota_left` for that university.
    """
    participations = {
        p.program_id: p.nomination_quota
        for p in ProgramUniversity.objects.filter(university_id=coordinator.university_id)
    }
    # A count per round over the university's own submitted nominations (the index on
    # university, round, status), not a join of every nomination of the round.
    used = (Nomination.objects.filter(intake_round=OuterRef("pk"),
                                      university_id=coordinator.university_id,
                                      status=Nomination.Status.SUBMITTED)
            .order_by().values("intake_round").annotate(n=Count("pk")).values("n"))
    rounds = list(
        IntakeRound.objects.filter(program_id__in=participations.keys())
        .select_related("program")
        .prefetch_related(Prefetch("milestones", queryset=RoundMilestone.objects.order_by("at")))
        .annotate(quota_used=Coalesce(Subquery(used, output_field=IntegerField()), 0))
        .order_by("program__name", "-created_at")
    )
    for intake_round in rounds:
        intake_round.quota = participations[intake_round.program_id]
        intake_round.quota_left = max(intake_round.quota - intake_round.quota_used, 0)
    return rounds


def round_get_for_coordinator(coordinator: Coordinator, pk: int) -> IntakeRound:
    for intake_round in round_list_for_coordinator(coordinator):
        if intake_round.pk == pk:
            return intake_round
    raise Http404


def round_tracks(intake_round: IntakeRound) -> QuerySet[DegreeTrack]:
    """The degree tracks offered in a round, with their seats there as `round_seats`."""
    return (
        DegreeTrack.objects.filter(round_tracks__intake_round=intake_round)
        .annotate(round_seats=F("round_tracks__seats"))
        .select_related("program")
        .prefetch_related("wanted_technologies")
        .order_by("department", "major", "level")
    )


def admitted_nominations(intake_round: IntakeRound) -> QuerySet[Nomination]:
    """The nominations admitted when the round's cohort was approved (none before)."""
    return Nomination.objects.filter(admission__cohort__intake_round=intake_round,
                                     admission__cohort__status="approved")


def required_documents(nomination: Nomination) -> list[str]:
    """The document kinds a nomination needs before it can be submitted."""
    kinds = [NominationDocument.Kind.TRANSCRIPT, NominationDocument.Kind.CV,
             NominationDocument.Kind.RECOMMENDATION, NominationDocument.Kind.DIPLOMA]
    if nomination.language_test not in ("", Nomination.LanguageTest.NONE):
        kinds.append(NominationDocument.Kind.LANGUAGE_CERTIFICATE)
    return kinds


def api_tokens_for_user(user: User) -> QuerySet[ApiToken]:
    """The user's live API tokens, newest first (their keys are shown only when made)."""
    return api_token_list(user=user)
