"""Reads of the students domain (staff only): students, their progress, career proposals."""

from datetime import datetime, timedelta

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries.fields import Country

from candidates.models import CohortAdmission, MatchRun
from candidates.selectors import admissions_taken_up
from programs.models import IntakeRound, PartnerCompany

from .models import CareerProposal, Enrolment, ProgressMilestone


def enrolment_list(*, intake_round: IntakeRound | int | None = None, status: str | None = None,
                   search: str | None = None) -> QuerySet[Enrolment]:
    """Students (staff only), with what their rows show already joined."""
    qs = Enrolment.objects.select_related(
        "nomination__university", "nomination__intake_round__program", "admission__track",
        "outcome",
    ).annotate(last_step=Max("milestones__on"))
    if intake_round is not None:
        qs = qs.filter(nomination__intake_round=intake_round)
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(Q(nomination__family_name__icontains=search)
                       | Q(nomination__given_names__icontains=search))
    return qs.order_by("nomination__intake_round__program__name", "nomination__family_name", "id")


def enrolment_get(pk: int) -> Enrolment:
    enrolment = Enrolment.objects.select_related(
        "nomination__university", "nomination__intake_round__program", "admission__track",
        "outcome__cooperating_company",
    ).prefetch_related(Prefetch("milestones", queryset=ProgressMilestone.objects.select_related(
        "recorded_by").order_by("on", "id"))).filter(pk=pk).first()
    if enrolment is None:
        raise Http404
    return enrolment


def enrolment_list_by_ids(ids) -> QuerySet[Enrolment]:
    """The students staff ticked on the list, for a step recorded for many at once."""
    return Enrolment.objects.filter(pk__in=ids)


def admission_list_by_ids(ids) -> QuerySet[CohortAdmission]:
    """The admitted candidates staff ticked to enrol, with what enrolment reads joined."""
    return CohortAdmission.objects.filter(pk__in=ids).select_related("track", "cohort",
                                                                      "nomination")


def admissions_not_enrolled(
    *, intake_round: IntakeRound | int | None = None,
) -> QuerySet[CohortAdmission]:
    """Candidates of approved cohorts who accepted their offer and are not enrolled yet."""
    qs = admissions_taken_up(intake_round=intake_round).filter(enrolment__isnull=True)
    return qs.select_related("nomination__university", "track", "cohort__intake_round__program"
                             ).order_by("cohort__intake_round_id", "nomination__family_name", "id")


# --- career matching ------------------------------------------------------------------------

# A company's openings are per year: introductions in this period use them up.
COMPANY_OPENINGS_PERIOD = timedelta(days=365)


def company_introductions_since(since: datetime) -> Count:
    """An annotation of PartnerCompany: its introductions made since `since`."""
    return Count("career_proposals", filter=Q(
        career_proposals__status=CareerProposal.Status.INTRODUCED,
        career_proposals__introduced_at__gte=since))


def career_proposal_list(*, status: str | None = None) -> QuerySet[CareerProposal]:
    """Proposals, newest run first, with what a row shows already joined (one query)."""
    proposals = CareerProposal.objects.select_related(
        "enrolment__nomination__university", "enrolment__admission__track", "company",
        "introduced_by", "match_run",
    )
    if status:
        proposals = proposals.filter(status=status)
    return proposals.order_by("-match_run__started_at", "-match_run_id", "-fit", "id")


def career_status_counts() -> dict[str, int]:
    return dict(CareerProposal.objects.order_by().values("status")
                .annotate(count=Count("id")).values_list("status", "count"))


def career_company_openings(*, now: datetime | None = None) -> list[PartnerCompany]:
    """Active companies with `used` (introductions in the last twelve months), `proposed`
    (waiting in the latest run) and `left` (openings not yet used) set (one query)."""
    now = now or timezone.now()
    companies = list(
        PartnerCompany.objects.filter(is_active=True)
        .annotate(used=company_introductions_since(now - COMPANY_OPENINGS_PERIOD),
                  proposed=Count("career_proposals",
                                 filter=Q(career_proposals__status=CareerProposal.Status.PROPOSED)))
        .order_by("kind", "name")
    )
    for company in companies:
        company.left = max(company.openings_per_year - company.used, 0)
    return companies


def career_proposal_get(pk: int) -> CareerProposal:
    proposal = CareerProposal.objects.select_related("enrolment__nomination", "company").filter(
        pk=pk).first()
    if proposal is None:
        raise Http404
    return proposal


def career_latest_run() -> MatchRun | None:
    return (MatchRun.objects.filter(kind=MatchRun.Kind.CAREER).select_related("triggered_by")
            .order_by("-started_at", "-id").first())


# --- a career proposal's reasons, as sentences ----------------------------------------------

def _place(params: dict) -> str:
    country = Country(code=params.get("country") or "").name if params.get("country") else ""
    region = params.get("region") or ""
    return ", ".join(part for part in (region, str(country)) if part)


def _reason_text(code: str, params: dict) -> str:
    if code == "technologies" and params["shared"] == params["needed"] > 1:
        return _("Brings all %(needed)s core technologies the company needs: %(names)s") % {
            **params, "names": ", ".join(params["names"])}
    if code == "technologies":
        return ngettext(
            "Brings the core technology the company needs: %(names)s",
            "Brings %(shared)s of the %(needed)s core technologies the company needs: %(names)s",
            params["needed"],
        ) % {**params, "names": ", ".join(params["names"])}
    if code == "technologies_none":
        return ngettext(
            "Does not bring the core technology the company needs",
            "Brings none of the %(needed)s core technologies the company needs",
            params["needed"],
        ) % params
    if code == "skills":
        return ngettext(
            "Research matches a skill the company needs: %(words)s",
            "Research matches %(count)s words of the skills the company needs: %(words)s",
            params["count"],
        ) % {**params, "words": ", ".join(params["words"])}
    if code == "wish_stay":
        return _("Wants to stay in Korea; openings in %(place)s") % {"place": _place(params)}
    if code == "wish_return":
        return _("Wants to return home; openings in %(place)s") % {"place": _place(params)}
    if code == "wish_undecided_korea":
        return _("Undecided between Korea and home; openings in %(place)s") % {
            "place": _place(params)}
    if code == "wish_undecided_home":
        return _("Undecided between Korea and home; openings at home, in %(place)s") % {
            "place": _place(params)}
    if code == "region_match":
        return _("Prefers to work in “%(preferred)s”: the openings are there (%(place)s)") % {
            "preferred": params["preferred"], "place": _place(params)}
    if code == "region_other":
        return _("Prefers to work in “%(preferred)s”; the openings are in %(place)s") % {
            "preferred": params["preferred"], "place": _place(params)}
    if code == "program":
        return _("Works with the student's bilateral program")
    return code


def career_reasons(explanation: dict) -> list[str]:
    """A proposal's reasons as sentences in the active language."""
    return [_reason_text(reason.get("code", ""), reason.get("params") or {})
            for reason in (explanation or {}).get("reasons", [])]
