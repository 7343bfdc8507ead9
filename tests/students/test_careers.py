"""Career matching: companies proposed to students close to graduation within their openings,
explained; staff introduce (emailing both sides) or dismiss; staff-only pages."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from candidates.models import MatchRun
from ecocycle.exceptions import DomainError
from ecocycle.models import AuditEntry, OutboundEmail
from programs.models import PartnerCompany
from students.models import CareerProposal, Enrolment
from students.selectors import career_reasons
from students.services.careers import career_dismiss, career_introduce, career_match_run
from tests.candidates.factories import enrolled_round
from tests.programs.factories import PartnerCompanyFactory

pytestmark = pytest.mark.django_db

Status = CareerProposal.Status
Wish = Enrolment.CareerWish


def _graduating(n=3, *, days=200, wish=Wish.STAY, region=""):
    """`n` enrolled students expected to graduate in `days` days, with their coursework's
    technology: (enrolments, technology, program)."""
    intake_round, enrolments = enrolled_round(
        n, expected_graduation=date.today() + timedelta(days=days))
    Enrolment.objects.filter(pk__in=[e.pk for e in enrolments]).update(
        career_wish=wish, preferred_region=region)
    technology = intake_round.program.core_technologies.first()
    return enrolments, technology, intake_round.program


def _company(technology, **kwargs):
    return PartnerCompanyFactory(technologies=[technology], **kwargs)


def _career_emails():
    return OutboundEmail.objects.filter(topic__startswith="career_")


def _live(**filters):
    return CareerProposal.objects.filter(status=Status.PROPOSED, **filters)


# --- the run ------------------------------------------------------------------------------------

def test_openings_are_capacities_when_students_outnumber_them():
    _enrolments, technology, _program = _graduating(5)
    two = _company(technology, openings_per_year=2)
    one = _company(technology, openings_per_year=1)
    run = career_match_run(trigger="command")
    assert run.kind == MatchRun.Kind.CAREER and run.intake_round is None
    assert run.counts["students"] == 5 and run.counts["openings"] == 3
    assert run.counts["proposed"] == 3 and run.counts["without_proposal"] == 2
    assert _live(company=two).count() == 2
    assert _live(company=one).count() == 1
    # One proposal per student.
    assert _live().values("enrolment").distinct().count() == 3
    assert AuditEntry.objects.filter(action="career_match_run", target_id=str(run.pk)).exists()


def test_every_proposal_is_explained():
    _enrolments, technology, program = _graduating(2, region="Gyeonggi-do")
    _company(technology, openings_per_year=5, programs=[program], skill_keywords="catalysts")
    career_match_run(trigger="command")
    proposals = list(_live())
    assert len(proposals) == 2
    for proposal in proposals:
        parts = proposal.explanation["parts"]
        assert set(parts) == {"technologies", "skills", "wish", "region", "program"}
        assert parts["technologies"] == 1.0 and parts["region"] == 1.0
        codes = [r["code"] for r in proposal.explanation["reasons"]]
        assert codes == ["technologies", "skills", "wish_stay", "region_match", "program"]
        text = career_reasons(proposal.explanation)
        assert text[0] == f"Brings the core technology the company needs: {technology.name}"
        assert "Wants to stay in Korea; openings in Gyeonggi, South Korea" in text


def test_the_wish_decides_where_a_student_is_proposed():
    enrolments, technology, _program = _graduating(3)
    stay, home, undecided = enrolments
    Enrolment.objects.filter(pk=home.pk).update(career_wish=Wish.RETURN)
    Enrolment.objects.filter(pk=undecided.pk).update(career_wish=Wish.UNDECIDED)
    korea = _company(technology, openings_per_year=5)
    indonesia = _company(technology, openings_per_year=5, kind="offshore", country="ID",
                         region="Batam")
    vietnam = _company(technology, openings_per_year=5, kind="offshore", country="VN",
                       region="Hanoi")
    career_match_run(trigger="command")
    assert _live(enrolment=stay).get().company == korea
    assert _live(enrolment=home).get().company == indonesia
    assert _live(enrolment=undecided).get().company in (korea, indonesia)
    assert not CareerProposal.objects.filter(company=vietnam).exists()
    # Nothing in Korea left for the one who wants to stay: no proposal abroad instead.
    Enrolment.objects.filter(pk=stay.pk).update(career_wish=Wish.STAY)
    korea.is_active = False
    korea.save()
    career_match_run(trigger="command")
    assert not _live(enrolment=stay).exists()
    assert _live(enrolment=home).get().company == indonesia


def test_only_enrolled_students_within_a_year_of_graduation():
    enrolments, technology, _program = _graduating(5)
    near, far, long_past, withdrawn, none = enrolments
    today = date.today()
    Enrolment.objects.filter(pk=far.pk).update(expected_graduation=today + timedelta(days=400))
    Enrolment.objects.filter(pk=long_past.pk).update(
        expected_graduation=today - timedelta(days=400))
    Enrolment.objects.filter(pk=withdrawn.pk).update(status=Enrolment.Status.WITHDRAWN)
    Enrolment.objects.filter(pk=none.pk).update(expected_graduation=None)
    _company(technology, openings_per_year=10)
    run = career_match_run(trigger="command")
    assert run.counts["students"] == 1
    assert set(_live().values_list("enrolment_id", flat=True)) == {near.pk}


def test_a_rerun_supersedes_the_earlier_proposals():
    _enrolments, technology, _program = _graduating(2)
    _company(technology, openings_per_year=5)
    first = career_match_run(trigger="command")
    second = career_match_run(trigger="schedule")
    assert second.counts["superseded"] == 2 and second.counts["proposed"] == 2
    assert set(CareerProposal.objects.filter(match_run=first).values_list("status", flat=True)) \
        == {Status.SUPERSEDED}
    assert set(_live().values_list("match_run", flat=True)) == {second.pk}
    # Same input, same result.
    assert first.input_digest == second.input_digest
    assert first.output_digest == second.output_digest


def test_a_dismissed_pair_is_never_proposed_again(staff_user):
    (enrolment,), technology, program = _graduating(1)
    best = _company(technology, openings_per_year=1, programs=[program])
    other = _company(technology, openings_per_year=1)
    career_match_run(trigger="command")
    proposal = _live(enrolment=enrolment).get()
    assert proposal.company == best
    career_dismiss(actor=staff_user, proposal=proposal, reason="Too far from the campus.")
    career_match_run(trigger="command")
    again = _live(enrolment=enrolment).get()
    assert again.company == other
    career_dismiss(actor=staff_user, proposal=again, reason="Not hiring this year.")
    run = career_match_run(trigger="command")
    assert run.counts["proposed"] == 0 and run.counts["pairs"] == 0
    assert CareerProposal.objects.filter(status=Status.DISMISSED).count() == 2
    dismissed = CareerProposal.objects.get(pk=proposal.pk)
    assert dismissed.explanation["dismissal"]["reason"] == "Too far from the campus."
    entry = AuditEntry.objects.get(action="career_proposal_dismiss", target_id=str(proposal.pk))
    assert entry.actor == staff_user and entry.after["reason"] == "Too far from the campus."


def test_introductions_are_kept_and_use_up_openings(staff_user):
    _enrolments, technology, _program = _graduating(3)
    company = _company(technology, openings_per_year=2)
    career_match_run(trigger="command")
    introduced = _live().order_by("id").first()
    career_introduce(actor=staff_user, proposal=introduced)
    run = career_match_run(trigger="command")
    # The introduced student is matched no more; one opening is left for the other two.
    assert run.counts["students"] == 2 and run.counts["openings"] == 1
    assert run.counts["proposed"] == 1
    assert CareerProposal.objects.get(pk=introduced.pk).status == Status.INTRODUCED
    assert _live(company=company).count() == 1
    # An introduction from more than a year ago no longer uses an opening.
    CareerProposal.objects.filter(pk=introduced.pk).update(
        introduced_at=timezone.now() - timedelta(days=400))
    assert career_match_run(trigger="command").counts["proposed"] == 2


def test_nothing_is_emailed_by_a_run():
    _enrolments, technology, _program = _graduating(2)
    _company(technology)
    career_match_run(trigger="command")
    assert not _career_emails().exists()


def test_the_run_issues_a_bounded_number_of_queries(django_assert_max_num_queries):
    _enrolments, technology, _program = _graduating(2)
    _company(technology, openings_per_year=1)
    with django_assert_max_num_queries(30) as small:
        career_match_run(trigger="command")
    _more, technology2, _program2 = _graduating(6)
    for _ in range(6):
        _company(technology2, openings_per_year=1)
    with django_assert_max_num_queries(len(small.captured_queries)):
        run = career_match_run(trigger="command")
    assert run.counts["students"] == 8 and run.counts["proposed"] == 7


# --- introductions and dismissals ---------------------------------------------------------------

def test_introduce_emails_student_and_company_and_is_audited(staff_user):
    (enrolment,), technology, _program = _graduating(1)
    Enrolment.objects.filter(pk=enrolment.pk).update(thesis_title="Zeolite catalysts")
    company = _company(technology, contact_language="ko", contact_name="Ms. Park",
                       contact_email="hr@casting.example", website="https://casting.example")
    career_match_run(trigger="command")
    proposal = _live().get()
    introduced = career_introduce(actor=staff_user, proposal=proposal)
    assert introduced.status == Status.INTRODUCED
    assert introduced.introduced_by == staff_user and introduced.introduced_at is not None
    nomination = enrolment.nomination
    emails = {e.topic: e for e in _career_emails()}
    assert set(emails) == {"career_introduction_student", "career_introduction_company"}
    student_email = emails["career_introduction_student"]
    assert student_email.to == nomination.email
    assert student_email.language == nomination.candidate_language
    assert "hr@casting.example" in student_email.body_text
    assert company.name in student_email.subject and student_email.body_html
    company_email = emails["career_introduction_company"]
    assert company_email.to == "hr@casting.example" and company_email.language == "ko"
    assert nomination.email in company_email.body_text
    assert "Zeolite catalysts" in company_email.body_text
    assert technology.name in company_email.body_text  # the reasons
    entry = AuditEntry.objects.get(action="career_proposal_introduce",
                                   target_id=str(proposal.pk))
    assert entry.actor == staff_user
    assert entry.before == {"status": "proposed"} and entry.after["status"] == "introduced"


def test_introduce_twice_or_a_superseded_proposal_is_refused(staff_user):
    _enrolments, technology, _program = _graduating(2)
    _company(technology, openings_per_year=5)
    career_match_run(trigger="command")
    first, second = _live().order_by("id")
    career_introduce(actor=staff_user, proposal=first)
    with pytest.raises(DomainError, match="already been introduced"):
        career_introduce(actor=staff_user, proposal=first)
    career_match_run(trigger="command")
    with pytest.raises(DomainError, match="newer matching run"):
        career_introduce(actor=staff_user, proposal=second)
    assert _career_emails().count() == 2


def test_introduce_is_refused_when_the_openings_are_used_up(staff_user):
    _enrolments, technology, _program = _graduating(1)
    company = _company(technology, openings_per_year=1)
    career_match_run(trigger="command")
    proposal = _live().get()
    company.openings_per_year = 0
    company.save()
    with pytest.raises(DomainError, match="no opening left"):
        career_introduce(actor=staff_user, proposal=proposal)
    assert CareerProposal.objects.get(pk=proposal.pk).status == Status.PROPOSED
    assert not _career_emails().exists()


def test_dismiss_needs_a_reason(staff_user):
    _enrolments, technology, _program = _graduating(1)
    _company(technology)
    career_match_run(trigger="command")
    proposal = _live().get()
    with pytest.raises(DomainError) as refused:
        career_dismiss(actor=staff_user, proposal=proposal, reason="   ")
    assert "reason" in refused.value.message_dict
    assert CareerProposal.objects.get(pk=proposal.pk).status == Status.PROPOSED


# --- the command --------------------------------------------------------------------------------

def test_command_prints_counts_and_each_proposal_with_its_reasons():
    (enrolment,), technology, _program = _graduating(1)
    company = _company(technology, name="Ansan Precision Casting")
    out = StringIO()
    call_command("run_career_matching", stdout=out)
    text = out.getvalue()
    assert "1 proposed" in text
    assert f"{enrolment.nomination} -> Ansan Precision Casting" in text
    assert f"- Brings the core technology the company needs: {technology.name}" in text
    assert MatchRun.objects.get(kind="career").trigger == "command"
    assert company.career_proposals.count() == 1


# --- the staff page -----------------------------------------------------------------------------

PAGE = reverse("staff_careers:proposal_list")


def _actions():
    return [reverse("staff_careers:run_now"), reverse("staff_careers:introduce", args=[1]),
            reverse("staff_careers:dismiss", args=[1])]


def test_staff_only(client, coordinator_user, mentor_user):
    assert client.get(PAGE).status_code == 302  # to the login page
    for user in (coordinator_user, mentor_user):
        client.force_login(user)
        assert client.get(PAGE).status_code == 403
        for url in _actions():
            assert client.post(url, {"reason": "x"}).status_code == 403
    assert not MatchRun.objects.exists()


def test_page_shows_proposals_with_reasons_and_openings(client, staff_user,
                                                       django_capture_on_commit_callbacks):
    (enrolment,), technology, _program = _graduating(1)
    company = _company(technology, name="Gyeonggi Moulds", openings_per_year=3)
    client.force_login(staff_user)
    assert "never-run" in client.get(PAGE).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff_careers:run_now"), follow=True)
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-figure="proposed">1<' in page and 'data-figure="students">1<' in page
    assert "Gyeonggi Moulds" in page and enrolment.nomination.display_name in page
    assert f"Brings the core technology the company needs: {technology.name}" in page
    assert "Send introduction" in page and "Dismiss" in page
    row = next(c for c in response.context["companies"] if c.pk == company.pk)
    assert (row.used, row.proposed, row.left) == (0, 1, 3)
    assert MatchRun.objects.get(kind="career").trigger == "staff"


def test_staff_send_an_introduction_from_the_page(client, staff_user):
    _enrolments, technology, _program = _graduating(1)
    company = _company(technology, openings_per_year=2)
    career_match_run(trigger="command")
    proposal = _live().get()
    client.force_login(staff_user)
    response = client.post(reverse("staff_careers:introduce", args=[proposal.pk]))
    assert response.status_code == 302
    assert CareerProposal.objects.get(pk=proposal.pk).status == Status.INTRODUCED
    assert _career_emails().count() == 2
    page = client.get(PAGE, {"status": "introduced"})
    assert proposal in page.context["proposals"]
    row = next(c for c in page.context["companies"] if c.pk == company.pk)
    assert (row.used, row.left) == (1, 1)
    # A second click is refused on the page, and emails nobody again.
    again = client.post(reverse("staff_careers:introduce", args=[proposal.pk]))
    assert again.status_code == 400
    assert "already been introduced" in again.content.decode()
    assert _career_emails().count() == 2


def test_dismiss_on_the_page_keeps_the_typed_reason_on_error(client, staff_user):
    _enrolments, technology, _program = _graduating(1)
    _company(technology)
    career_match_run(trigger="command")
    proposal = _live().get()
    client.force_login(staff_user)
    refused = client.post(reverse("staff_careers:dismiss", args=[proposal.pk]), {"reason": ""})
    assert refused.status_code == 400
    assert "Say why this company does not suit the student" in refused.content.decode()
    done = client.post(reverse("staff_careers:dismiss", args=[proposal.pk]),
                       {"reason": "Prefers research", "status": "proposed"})
    assert done.status_code == 302
    assert CareerProposal.objects.get(pk=proposal.pk).status == Status.DISMISSED
    page = client.get(PAGE, {"status": "dismissed"}).content.decode()
    assert "Prefers research" in page


def test_page_issues_a_bounded_number_of_queries(client, staff_user,
                                                 django_assert_max_num_queries):
    client.force_login(staff_user)
    _enrolments, technology, _program = _graduating(1)
    _company(technology)
    career_match_run(trigger="command")
    with django_assert_max_num_queries(12) as small:
        assert client.get(PAGE).status_code == 200
    _more, technology2, _program2 = _graduating(6)
    for _ in range(4):
        _company(technology2, openings_per_year=2)
    career_match_run(trigger="command")
    career_introduce(actor=staff_user, proposal=_live().first())
    for status in ("proposed", "introduced", "superseded", "all"):
        with django_assert_max_num_queries(len(small.captured_queries)):
            assert client.get(PAGE, {"status": status}).status_code == 200


# --- on the demo data ---------------------------------------------------------------------------

def _assert_sound(run):
    """Every live proposal explained, honouring the wish, and no company over its openings."""
    proposals = list(_live().select_related("company", "enrolment__nomination"))
    assert len(proposals) == run.counts["proposed"] > 0
    per_company = {}
    for proposal in proposals:
        per_company[proposal.company_id] = per_company.get(proposal.company_id, 0) + 1
        assert set(proposal.explanation["parts"]) == {"technologies", "skills", "wish", "region",
                                                      "program"}
        assert proposal.explanation["reasons"] and all(career_reasons(proposal.explanation))
        wish, where = proposal.enrolment.career_wish, str(proposal.company.country)
        home = str(proposal.enrolment.nomination.nationality)
        assert where in {Wish.STAY: {"KR"}, Wish.RETURN: {home}}.get(wish, {"KR", home})
    for company in PartnerCompany.objects.filter(pk__in=per_company):
        used = company.career_proposals.filter(status=Status.INTRODUCED).count()
        assert per_company[company.pk] <= company.openings_per_year - used


def test_career_matching_on_the_demo_data_respects_openings_and_explains_itself():
    call_command("seed_demo", stdout=StringIO())
    run = career_match_run(trigger="command")
    assert run.counts["students"] > 0 and run.counts["companies"] > 0
    _assert_sound(run)
    # Fewer openings than students: the openings bind, and still nobody is over them.
    PartnerCompany.objects.update(openings_per_year=1)
    tight = career_match_run(trigger="command")
    assert tight.counts["openings"] == PartnerCompany.objects.filter(is_active=True).count()
    assert tight.counts["proposed"] <= tight.counts["openings"]
    if tight.counts["students"] > tight.counts["openings"]:
        assert tight.counts["without_proposal"] > 0
    _assert_sound(tight)


def test_run_now_only_queues_the_matching_and_the_page_says_so(
    client, staff_user, django_capture_on_commit_callbacks, django_assert_max_num_queries,
):
    _graduating(3)
    client.force_login(staff_user)
    # The request does no matching, whatever the number of students: it queues the task.
    with (django_capture_on_commit_callbacks(execute=False) as callbacks,
          django_assert_max_num_queries(6)):
        response = client.post(reverse("staff_careers:run_now"))
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert not MatchRun.objects.filter(kind="career").exists()
    page = client.get(PAGE)
    assert page.context["run_queued"]
    assert 'id="run-queued"' in page.content.decode()

    callbacks[0]()  # the worker (eager in tests)
    run = MatchRun.objects.get(kind="career")
    assert (run.trigger, run.triggered_by) == ("staff", staff_user)
    assert run.counts["proposed"] == 0 and run.counts["students"] == 3
    page = client.get(PAGE)
    assert not page.context["run_queued"]
    assert 'id="run-queued"' not in page.content.decode()
