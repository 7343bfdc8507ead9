"""The students part of the demo world: earlier rounds' cohorts enrolled, mostly graduated,
with alumni outcomes, and career proposals. Illustrative people; idempotent."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from candidates.models import CohortAdmission, MatchRun, Offer
from candidates.scenarios import build_earlier_round
from candidates.services import offer_accept
from programs.models import IntakeRound, PartnerCompany
from programs.scenarios import DECIDED_ROUNDS, ENROLMENT_AFTER_OPENING_DAYS

from . import services
from .models import Enrolment
from .services.careers import career_match_run

# What became of 2023 Autumn's students, by their place in each coordinator's list.
EARLIER_FATES = ["stayed_sme", "returned", "stayed_research", "withdrawn"]


def build_cycle(*, now=None) -> None:
    """The later stages of the cycle for the demo: 2023 Autumn's cohort enrolled, mostly
    graduated, with outcomes (stayed at an SME or a research institute, returned home
    cooperating with a Korean company, one withdrawal); 2025 Autumn's enrolled and close to
    graduation. Dated as it happened; idempotent."""
    now = now or timezone.now()
    for round_name in ("2023 Autumn", "2025 Autumn"):
        opened = now - timedelta(days=DECIDED_ROUNDS[round_name])
        for intake_round in build_earlier_round(round_name, now=now):
            with transaction.atomic():
                _enrol(intake_round, round_name,
                       (opened + timedelta(days=ENROLMENT_AFTER_OPENING_DAYS)).date(), now)


def build_career_proposals(*, now=None) -> None:
    """Career proposals for the students close to graduation, as the weekly job makes them."""
    if not MatchRun.objects.filter(kind=MatchRun.Kind.CAREER).exists():
        career_match_run(trigger=MatchRun.Trigger.COMMAND, now=now)


def _enrol(intake_round: IntakeRound, round_name: str, enrolled_on: date, now) -> None:
    # The demo's earlier students accepted their offers the day after the approval.
    for offer in Offer.objects.filter(cohort__intake_round=intake_round,
                                      status=Offer.Status.PENDING).order_by("id"):
        offer_accept(offer=offer, now=offer.made_at + timedelta(days=1))
    admissions = list(CohortAdmission.objects.filter(
        cohort__intake_round=intake_round, enrolment__isnull=True,
    ).select_related("track", "cohort", "nomination").order_by("nomination__family_name", "id"))
    graduated = round_name == "2023 Autumn"
    for index, admission in enumerate(admissions):
        expected = (enrolled_on + timedelta(days=730) if graduated
                    else timezone.localdate(now) + timedelta(days=120 + 45 * index))
        enrolment = services.enrolment_create(
            actor=None, admission=admission, semester=round_name, enrolled_on=enrolled_on,
            expected_graduation=expected, now=now)
        wish = [Enrolment.CareerWish.STAY, Enrolment.CareerWish.RETURN,
                Enrolment.CareerWish.UNDECIDED][index % 3]
        services.enrolment_update(actor=None, enrolment=enrolment, data={
            "career_wish": wish, "preferred_region": "Gyeonggi" if wish == "stay_korea" else ""})
        services.enrolment_record(actor=None, enrolment=enrolment, kind="coursework",
                                  on=enrolled_on + timedelta(days=300), now=now)
        if graduated:
            _graduate(enrolment, EARLIER_FATES[index % len(EARLIER_FATES)], enrolled_on, now)


def _graduate(enrolment: Enrolment, fate: str, enrolled_on: date, now) -> None:
    if fate == "withdrawn":
        services.enrolment_record(actor=None, enrolment=enrolment, kind="withdrawn",
                                  on=enrolled_on + timedelta(days=420), now=now,
                                  note="Returned home for family reasons.")
        return
    graduated_on = enrolled_on + timedelta(days=730)
    services.enrolment_record(actor=None, enrolment=enrolment, kind="graduated",
                              on=graduated_on, now=now, values={
                                  "thesis_title": f"Process study for {enrolment.admission.track}"
                                  [:300], "degree_awarded": "masters"})
    home = str(enrolment.nomination.nationality)
    partner = PartnerCompany.objects.filter(kind="offshore", country=home).first()
    sme = PartnerCompany.objects.filter(kind="onshore", size_band="small").first()
    data = {
        "stayed_sme": {"path": "stayed_korea", "organisation": sme.name if sme else "SME",
                       "employer_type": "sme", "region": sme.region if sme else "",
                       "country": "KR"},
        "stayed_research": {"path": "stayed_korea", "organisation": "KITECH",
                            "employer_type": "research_institute", "region": "Cheonan",
                            "country": "KR"},
        "returned": {"path": "returned_home", "organisation": "State polytechnic",
                     "employer_type": "university", "country": home,
                     "cooperating_company": partner, "offers_to_mentor": True},
    }[fate]
    services.alumni_outcome_record(actor=None, enrolment=enrolment,
                                   data={**data, "as_of": graduated_on + timedelta(days=90)},
                                   now=now)


