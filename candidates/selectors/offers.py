"""Reads of offers: the round's offers for staff, and the admissions whose offer was accepted
(the candidates who take up their place: enrolment and mentor matching read these)."""

from django.db.models import Count, Exists, OuterRef, QuerySet

from programs.models import IntakeRound

from ..models import Cohort, CohortAdmission, Nomination, Offer


def _accepted_offer(**outer: str) -> Exists:
    return Exists(Offer.objects.filter(status=Offer.Status.ACCEPTED,
                                       **{field: OuterRef(ref) for field, ref in outer.items()}))


def admissions_taken_up(*, intake_round: IntakeRound | int | None = None
                        ) -> QuerySet[CohortAdmission]:
    """The admissions of approved cohorts whose candidate accepted their offer."""
    admissions = CohortAdmission.objects.filter(cohort__status=Cohort.Status.APPROVED).filter(
        _accepted_offer(nomination_id="nomination_id", cohort_id="cohort_id"))
    if intake_round is not None:
        admissions = admissions.filter(cohort__intake_round=intake_round)
    return admissions


def admission_taken_up(admission: CohortAdmission) -> bool:
    return Offer.objects.filter(nomination_id=admission.nomination_id,
                                cohort_id=admission.cohort_id,
                                status=Offer.Status.ACCEPTED).exists()


def taken_up_nominations(intake_round: IntakeRound) -> QuerySet[Nomination]:
    """`admitted_nominations` narrowed to those who accepted their offer: whom mentor matching
    proposes mentors for (a pending, declined or lapsed offer needs no mentor)."""
    return Nomination.objects.filter(
        admission__cohort__intake_round=intake_round,
        admission__cohort__status=Cohort.Status.APPROVED,
    ).filter(_accepted_offer(nomination_id="pk", cohort_id="admission__cohort_id"))


def round_offers(intake_round: IntakeRound, *, status: str | None = None) -> QuerySet[Offer]:
    """Staff's list of the round's offers, every wave, soonest deadline first; `status` one of
    Offer.Status or None for all."""
    offers = (Offer.objects.filter(cohort__intake_round=intake_round)
              .select_related("nomination__university", "track", "recorded_by")
              .defer("nomination__passport_number")
              .order_by("deadline", "id"))
    if status:
        offers = offers.filter(status=status)
    return offers


def round_offer_counts(intake_round: IntakeRound) -> dict[str, int]:
    """How many of the round's offers are in each status: one grouped query."""
    return dict(Offer.objects.filter(cohort__intake_round=intake_round).order_by()
                .values("status").annotate(n=Count("id")).values_list("status", "n"))


def round_offer_get(intake_round: IntakeRound, offer_id: int) -> Offer | None:
    """One offer of the round (None for an offer of another round: staff's URL names both)."""
    return (Offer.objects.select_related("nomination", "track", "cohort__intake_round")
            .filter(cohort__intake_round=intake_round, pk=offer_id).first())
