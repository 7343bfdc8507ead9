"""Career matching: partner companies proposed for students within a year of graduation.

**Assignment, not ranked recommendations.** A company takes only so many graduates a year, and
most students fit the same few companies best: ranked lists would show the same SME at the top
of everybody's list and let staff introduce it ten times over. So the run is the optimal
assignment of the mentor matching (``ecocycle.matching.assign_optimal``: min-cost flow, as many
students covered as possible, then the most total fit), with each company's openings left as
its capacity: one proposal per student, never more proposals for a company than it has
openings, and a student whom only one company suits gets that one before a student with other
good choices. Staff who disagree dismiss the proposal; the next run proposes the next best
company that still has room.

The rules of a run (``career_match_run``):

- students: enrolled, expected graduation from ``GRACE_DAYS`` ago (late graduates) to
  ``WINDOW_DAYS`` ahead, personal data not removed, and not yet introduced to any company;
- a company's capacity: its openings per year minus its introductions in the last 365 days;
  inactive companies take nobody;
- eligibility and fit: ``students.career_fit`` (the wish decides where, shared technologies
  and skills decide how well);
- every earlier PROPOSED proposal becomes SUPERSEDED: the latest run's proposals are the whole
  current picture; INTRODUCED ones are kept and count against their company's openings; a
  DISMISSED pair is never proposed again.

Each proposal's ``explanation`` holds ``{"parts": {component: 0..1}, "reasons": [{"code",
"params"}]}``: codes, not sentences, so that ``career_reasons`` renders them in the reader's
language (the staff page in the staff member's, each email in its recipient's).

Introductions are made by staff only (``career_introduce``), which emails the student and the
company contact; a run never emails anybody.
"""

import hashlib
import json
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from candidates.models import MatchRun, NominationCourse
from candidates.scoring import words
from ecocycle.exceptions import DomainError
from ecocycle.locks import exclusive_job
from ecocycle.mail import email_queue
from ecocycle.matching import assign_optimal
from ecocycle.models import AuditEntry, User
from ecocycle.services import audit_entry_build, audit_entry_create
from programs.models import DegreeTrack, PartnerCompany

from .. import career_fit, selectors
from ..models import CareerProposal, Enrolment
from ..selectors import career_reasons

Status = CareerProposal.Status

# Students whose expected graduation is at most this far ahead are matched...
WINDOW_DAYS = 365
# ... and those whose expected graduation passed at most this long ago (still enrolled: late).
GRACE_DAYS = 180
# Introductions count against a company's openings for this long.
OPENINGS_PERIOD = selectors.COMPANY_OPENINGS_PERIOD

JOB_NAME = "career-match"


# --- facts --------------------------------------------------------------------------------------

def _students(today: date) -> list[career_fit.StudentFacts]:
    """Students close to graduation without an introduction, as plain facts (4 queries)."""
    rows = list(
        Enrolment.objects.filter(
            status=Enrolment.Status.ENROLLED,
            expected_graduation__gte=today - timedelta(days=GRACE_DAYS),
            expected_graduation__lte=today + timedelta(days=WINDOW_DAYS),
            nomination__anonymised_at__isnull=True,
        )
        .exclude(career_proposals__status=Status.INTRODUCED)
        .order_by("id")
        .values_list("id", "nomination_id", "nomination__nationality", "career_wish",
                     "preferred_region", "thesis_title", "nomination__research_interests",
                     "admission__track_id", "admission__track__program_id")
    )
    nomination_ids = [row[1] for row in rows]
    coursework = defaultdict(set)
    for nomination_id, technology_id in NominationCourse.technologies.through.objects.filter(
        nominationcourse__nomination_id__in=nomination_ids
    ).values_list("nominationcourse__nomination_id", "coretechnology_id"):
        coursework[nomination_id].add(technology_id)
    wanted = defaultdict(set)
    for track_id, technology_id in DegreeTrack.wanted_technologies.through.objects.filter(
        degreetrack_id__in={row[7] for row in rows}
    ).values_list("degreetrack_id", "coretechnology_id"):
        wanted[track_id].add(technology_id)
    return [
        career_fit.StudentFacts(
            enrolment_id=pk, home_country=str(nationality or ""), wish=wish,
            preferred_region=region, region_words=words(region),
            technology_ids=frozenset(coursework[nomination_id] | wanted[track_id]),
            research_words=words(f"{interests} {thesis}"), program_id=program_id,
        )
        for (pk, nomination_id, nationality, wish, region, thesis, interests, track_id,
             program_id) in rows
    ]


def _companies(now: datetime) -> tuple[list[career_fit.CompanyFacts], dict[int, int],
                                       dict[int, str]]:
    """Active companies with openings left, their capacities and technology names (3 queries)."""
    companies = list(
        PartnerCompany.objects.filter(is_active=True)
        .annotate(used=selectors.company_introductions_since(now - OPENINGS_PERIOD))
        .prefetch_related("technologies", "programs").order_by("id")
    )
    facts, capacities, names = [], {}, {}
    for company in companies:
        left = company.openings_per_year - company.used
        if left <= 0:
            continue
        technologies = list(company.technologies.all())
        names.update((t.pk, t.name) for t in technologies)
        capacities[company.pk] = left
        facts.append(career_fit.CompanyFacts(
            company_id=company.pk, country=str(company.country), region=company.region,
            region_words=words(f"{company.region} {company.locations}"),
            technology_ids=frozenset(t.pk for t in technologies),
            skill_words=words(company.skill_keywords),
            program_ids=frozenset(p.pk for p in company.programs.all()),
        ))
    return facts, capacities, names


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


# --- the run ------------------------------------------------------------------------------------

def career_match_run(*, trigger: str, actor: User | None = None,
                     now: datetime | None = None) -> MatchRun:
    """Propose one company to every student close to graduation, optimally, within openings.

    Safe to run twice: the second run supersedes the first's proposals with the same ones.
    Raises ``ecocycle.locks.JobBusy`` when another run is under way. A bounded number of
    queries whatever the number of students and companies.
    """
    now = now or timezone.now()
    started = time.perf_counter()
    with exclusive_job(JOB_NAME):
        students = _students(timezone.localdate(now))
        companies, capacities, technology_names = _companies(now)
        dismissed = set(CareerProposal.objects.filter(
            status=Status.DISMISSED, enrolment_id__in=[s.enrolment_id for s in students],
        ).values_list("enrolment_id", "company_id"))
        fits, scored = [], {}
        for student in students:
            for company in companies:
                pair = (student.enrolment_id, company.company_id)
                if pair in dismissed:
                    continue
                result = career_fit.fit(student, company)
                if result is None:
                    continue
                fits.append((*pair, result[0]))
                scored[pair] = (result, student, company)
        assignment = assign_optimal(fits, capacities)
        stamp = timezone.now()
        superseded = CareerProposal.objects.filter(status=Status.PROPOSED).update(
            status=Status.SUPERSEDED, updated_at=stamp)
        counts = {
            "students": len(students), "companies": len(companies),
            "openings": sum(capacities.values()), "pairs": len(fits),
            "proposed": len(assignment), "without_proposal": len(students) - len(assignment),
            "superseded": superseded,
        }
        run = MatchRun.objects.create(
            kind=MatchRun.Kind.CAREER, intake_round=None, trigger=trigger,
            triggered_by=actor if actor and actor.pk else None, started_at=now,
            finished_at=stamp, status=MatchRun.Status.SUCCEEDED, counts=counts,
            input_digest=_digest({"fits": sorted(fits), "capacities": sorted(capacities.items())}),
            output_digest=_digest(sorted(assignment.items())),
        )
        proposals = []
        for enrolment_id, company_id in sorted(assignment.items()):
            (weight, parts), student, company = scored[(enrolment_id, company_id)]
            proposals.append(CareerProposal(
                enrolment_id=enrolment_id, company_id=company_id, match_run=run,
                status=Status.PROPOSED, fit=Decimal(f"{weight:.4f}"),
                explanation={"parts": parts, "reasons": career_fit.reasons(
                    student, company, technology_names)},
            ))
        CareerProposal.objects.bulk_create(proposals)
        MatchRun.objects.filter(pk=run.pk).update(
            duration_ms=int((time.perf_counter() - started) * 1000))
        AuditEntry.objects.bulk_create([audit_entry_build(
            actor=actor, action="career_match_run", target=run, after={"counts": counts})])
    run.refresh_from_db()
    return run


# --- staff decisions ----------------------------------------------------------------------------

def _locked(proposal: CareerProposal) -> CareerProposal:
    # Locked, so that two clicks on "Send introduction" cannot email twice.
    locked = (CareerProposal.objects.select_for_update(of=("self",))
              .select_related("enrolment__nomination__university",
                              "enrolment__admission__track__program", "company")
              .filter(pk=proposal.pk).first())
    if locked is None:
        raise DomainError(_("This proposal no longer exists."))
    return locked


def _refusal(proposal: CareerProposal) -> str | None:
    names = {"student": proposal.enrolment.nomination, "company": proposal.company}
    if proposal.status == Status.INTRODUCED:
        return _("%(student)s has already been introduced to %(company)s.") % names
    if proposal.status == Status.DISMISSED:
        return _("The proposal of %(company)s for %(student)s was dismissed.") % names
    if proposal.status == Status.SUPERSEDED:
        return _("A newer matching run has replaced the proposal of %(company)s for "
                 "%(student)s. Reload the page to see the current proposals.") % names
    return None


@transaction.atomic
def career_introduce(*, actor: User, proposal: CareerProposal,
                     now: datetime | None = None) -> CareerProposal:
    """Staff introduce the student and the company to each other: PROPOSED → INTRODUCED.

    Emails the student (in their language) and the company's contact (in theirs) once the
    transaction commits. Refused when the company has used up its openings of the last twelve
    months, the student was already introduced elsewhere or has withdrawn, or the student has
    no email address.
    """
    now = now or timezone.now()
    proposal = _locked(proposal)
    refusal = _refusal(proposal)
    if refusal:
        raise DomainError(refusal)
    enrolment, company = proposal.enrolment, proposal.company
    nomination = enrolment.nomination
    names = {"student": nomination, "company": company}
    # The company row is locked too: two introductions to it cannot both take its last opening.
    company = PartnerCompany.objects.select_for_update().get(pk=company.pk)
    if not company.is_active:
        raise DomainError(_("%(company)s is no longer an active partner company.") % names)
    used = CareerProposal.objects.filter(
        company=company, status=Status.INTRODUCED, introduced_at__gte=now - OPENINGS_PERIOD,
    ).count()
    if used >= company.openings_per_year:
        raise DomainError(ngettext(
            "%(company)s has no opening left: %(used)s introduction in the last twelve months "
            "for %(openings)s opening a year.",
            "%(company)s has no opening left: %(used)s introductions in the last twelve months "
            "for %(openings)s openings a year.",
            company.openings_per_year,
        ) % {**names, "used": used, "openings": company.openings_per_year})
    if CareerProposal.objects.filter(enrolment=enrolment, status=Status.INTRODUCED).exists():
        raise DomainError(_("%(student)s has already been introduced to another company.")
                          % names)
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        raise DomainError(_("%(student)s has withdrawn from their studies.") % names)
    if not nomination.email:
        raise DomainError(_("%(student)s has no email address on record: add it to the "
                            "nomination first.") % names)
    proposal.status = Status.INTRODUCED
    proposal.introduced_at = now
    proposal.introduced_by = actor if actor and actor.pk else None
    proposal.full_clean()
    proposal.save(update_fields=["status", "introduced_at", "introduced_by", "updated_at"])
    audit_entry_create(actor=actor, action="career_proposal_introduce", target=proposal,
                       before={"status": Status.PROPOSED},
                       after={"status": proposal.status, "introduced_at": now.isoformat(),
                              "company": company.pk, "enrolment": enrolment.pk})
    _introduction_emails(proposal, company)
    return proposal


def _introduction_emails(proposal: CareerProposal, company: PartnerCompany) -> None:
    enrolment = proposal.enrolment
    nomination = enrolment.nomination
    track = enrolment.admission.track
    context = {"enrolment": enrolment, "nomination": nomination, "company": company,
               "track": track, "program": track.program, "university": nomination.university}
    for to, language, template in (
        (nomination.email, nomination.candidate_language, "career_introduction_student"),
        (company.contact_email, company.contact_language, "career_introduction_company"),
    ):
        with translation.override(language):
            reasons = career_reasons(proposal.explanation)
        email_queue(to=to, language=language, template=template,
                    context={**context, "reasons": reasons})


@transaction.atomic
def career_dismiss(*, actor: User, proposal: CareerProposal, reason: str) -> CareerProposal:
    """Staff dismiss a proposal, saying why: PROPOSED → DISMISSED. The pair is never proposed
    again; the student stays in the next runs, which may propose another company."""
    reason = (reason or "").strip()[:2000]
    if not reason:
        raise DomainError({"reason": _(
            "Say why this company does not suit the student: the reason is kept with the "
            "proposal.")})
    proposal = _locked(proposal)
    refusal = _refusal(proposal)
    if refusal:
        raise DomainError(refusal)
    proposal.status = Status.DISMISSED
    proposal.explanation = {**proposal.explanation, "dismissal": {"reason": reason}}
    proposal.full_clean()
    proposal.save(update_fields=["status", "explanation", "updated_at"])
    audit_entry_create(actor=actor, action="career_proposal_dismiss", target=proposal,
                       before={"status": Status.PROPOSED},
                       after={"status": proposal.status, "reason": reason})
    return proposal


