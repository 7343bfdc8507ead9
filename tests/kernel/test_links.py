"""Emailed links: one mechanism for every kind, links emailed before it still open, and every
dead state maps to its status and to the one dead-link page, without a GET changing anything."""

import time
from contextlib import contextmanager
from datetime import date, timedelta
from unittest import mock

import pytest
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from pytest_django.asserts import assertTemplateNotUsed, assertTemplateUsed

from candidates import services as candidate_services
from candidates.models import CoordinatorInvitation, Nomination, NominationPreference
from candidates.services import CONSENT_LINK, COORDINATOR_INVITATION_LINK
from ecocycle.links import (
    LinkCheck,
    LinkKind,
    LinkState,
    link_check,
    link_kinds,
    link_language_activate,
    link_make,
    link_page,
)
from ecocycle.models import AuditEntry, OutboundEmail
from hub.services import nightly_matching
from mentors import services as mentor_services
from mentors.models import Mentor, MentorAssignment
from mentors.services import MENTOR_INVITATION_LINK
from students import services as student_services
from students.models import AlumniOutcome
from students.services import ALUMNI_UPDATE_LINK
from tests.candidates.factories import admitted_round, enrolled_round, submitted_nomination
from tests.mentors.factories import MentorFactory
from tests.programs.factories import ProgramUniversityFactory

Status = MentorAssignment.Status
ALL_KINDS = [CONSENT_LINK, COORDINATOR_INVITATION_LINK, MENTOR_INVITATION_LINK, ALUMNI_UPDATE_LINK]


def _token_made_before_this_change(purpose: str, object_id: int, *parts: object) -> str:
    """A token exactly as `ecocycle.tokens` made them before the links moved to `ecocycle.links`:
    `link_token_make` over `state_fingerprint(*parts)`."""
    joined = "\x1f".join("" if part is None else str(part) for part in parts)
    fingerprint = salted_hmac("ecocycle.tokens.state", joined, algorithm="sha256").hexdigest()[:24]
    return signing.dumps({"i": object_id, "s": fingerprint}, salt=f"ecocycle.link.{purpose}")


def _emailed_before(kind: LinkKind, obj, purpose: str, *parts: object) -> str:
    """An old token for `obj`; made at the same second, the new mechanism's is the same string."""
    now = time.time()
    with mock.patch("django.core.signing.time.time", return_value=now):
        old = _token_made_before_this_change(purpose, obj.pk, *parts)
        assert link_make(kind, obj) == old
    return old


def _path(kind: LinkKind, token: str) -> str:
    return reverse(kind.url_name, args=[token])


def _tampered(token: str) -> str:
    return token[:-3] + ("abc" if not token.endswith("abc") else "xyz")


@contextmanager
def _nothing_changes(kind: LinkKind, pk: int):
    def snapshot():
        return (kind.fingerprint(kind.load(pk)), AuditEntry.objects.count(),
                OutboundEmail.objects.count())

    before = snapshot()
    yield
    assert snapshot() == before


def _assert_dead(client, kind, token, pk, *, state, status, post=None):
    """Opening the link, and answering through it, show the dead-link page and change nothing."""
    with _nothing_changes(kind, pk):
        for response in (client.get(_path(kind, token)),
                         client.post(_path(kind, token), post or {})):
            assert response.status_code == status
            assertTemplateUsed(response, "links/dead.html")
            assert f'data-state="{state}"'.encode() in response.content
    return response


# --- links emailed before this change ------------------------------------------------------------

@pytest.mark.django_db
def test_a_consent_link_emailed_before_this_change_still_works(client):
    nomination = submitted_nomination(candidate_language="en")
    nomination = Nomination.objects.get(pk=nomination.pk)
    ranked = list(NominationPreference.objects.filter(nomination=nomination).order_by("rank")
                  .values_list("track_id", flat=True))
    token = _emailed_before(CONSENT_LINK, nomination, "consent", nomination.pk, nomination.status,
                            nomination.consent_requested_at, nomination.consent_given_at, ranked)
    assert candidate_services.consent_check(token).state is LinkState.VALID
    with _nothing_changes(CONSENT_LINK, nomination.pk):
        page = client.get(_path(CONSENT_LINK, token))
    assert page.status_code == 200 and "I confirm my consent" in page.content.decode()
    assert "are confirmed" in client.post(_path(CONSENT_LINK, token)).content.decode()


@pytest.mark.django_db
def test_a_coordinator_invitation_emailed_before_this_change_still_works(client, staff_user):
    university = ProgramUniversityFactory().university
    candidate_services.coordinator_invite(actor=staff_user, email="budi@uni.example",
                                          university=university, language="en")
    invitation = CoordinatorInvitation.objects.get()
    token = _emailed_before(COORDINATOR_INVITATION_LINK, invitation, "invitation", invitation.pk,
                            invitation.email, invitation.accepted_at, invitation.revoked_at)
    assert candidate_services.invitation_check(token).state is LinkState.VALID
    with _nothing_changes(COORDINATOR_INVITATION_LINK, invitation.pk):
        page = client.get(_path(COORDINATOR_INVITATION_LINK, token))
    assert page.status_code == 200 and "Activate my account" in page.content.decode()
    response = client.post(_path(COORDINATOR_INVITATION_LINK, token), {
        "password1": "a-long-Passphrase-2027", "password2": "a-long-Passphrase-2027"})
    assert response.status_code == 302
    assert CoordinatorInvitation.objects.get().accepted_at is not None


def _invited(n=1):
    """`n` admitted candidates invited by the nightly job to one English-speaking mentor."""
    admitted_round(n)
    mentor = MentorFactory(capacity=n, language="en")
    assert nightly_matching()["mentor_invitations_sent"] == n
    return list(MentorAssignment.objects.filter(mentor=mentor).order_by("id"))


@pytest.mark.django_db
def test_a_mentor_invitation_emailed_before_this_change_still_works(client):
    (assignment,) = _invited()
    assignment = MentorAssignment.objects.get(pk=assignment.pk)
    token = _emailed_before(MENTOR_INVITATION_LINK, assignment, "mentor-invitation",
                            assignment.pk, assignment.status, assignment.invited_at,
                            assignment.mentor_id)
    assert mentor_services.invitation_check(token).state is LinkState.VALID
    with _nothing_changes(MENTOR_INVITATION_LINK, assignment.pk):
        page = client.get(_path(MENTOR_INVITATION_LINK, token))
    assert page.status_code == 200 and b'id="accept"' in page.content
    response = client.post(_path(MENTOR_INVITATION_LINK, token), {"answer": "accept"})
    assert response.status_code == 200 and b'data-state="accepted"' in response.content


def _graduate(staff_user) -> AlumniOutcome:
    """A graduate with an outcome recorded by staff and asked for news."""
    _round, (enrolment,) = enrolled_round(1)
    Nomination.objects.filter(pk=enrolment.nomination_id).update(candidate_language="en")
    student_services.enrolment_record(actor=None, enrolment=enrolment, kind="graduated",
                                        on=date.today() - timedelta(days=30),
                                        values={"thesis_title": "Palm-oil biodiesel"})
    outcome = student_services.alumni_outcome_record(actor=staff_user, enrolment=enrolment,
                                                       data={"path": "stayed_korea",
                                                             "organisation": "Hanbit Precision",
                                                             "employer_type": "sme"})
    return student_services.alumni_update_request(actor=staff_user, outcome=outcome)


@pytest.mark.django_db
def test_an_alumni_update_link_emailed_before_this_change_still_works(client, staff_user):
    outcome = _graduate(staff_user)
    outcome = AlumniOutcome.objects.get(pk=outcome.pk)
    token = _emailed_before(ALUMNI_UPDATE_LINK, outcome, "alumni-update", outcome.pk,
                            outcome.update_requested_at, outcome.updated_by_alumnus_at,
                            outcome.updated_at)
    assert student_services.alumni_update_check(token).state is LinkState.VALID
    with _nothing_changes(ALUMNI_UPDATE_LINK, outcome.pk):
        page = client.get(_path(ALUMNI_UPDATE_LINK, token))
    assert page.status_code == 200 and b'data-state="valid"' in page.content
    response = client.post(_path(ALUMNI_UPDATE_LINK, token), {
        "path": "returned_home", "organisation": "PT Energi Hijau", "country": "ID"})
    assert b'data-state="saved"' in response.content


# --- every state of every kind -------------------------------------------------------------------

@pytest.mark.django_db
def test_consent_link_states(client, settings):
    nomination = submitted_nomination(candidate_language="en")
    token = link_make(CONSENT_LINK, nomination)
    _assert_dead(client, CONSENT_LINK, _tampered(token), nomination.pk, state="invalid",
                 status=404)
    settings.ECOCYCLE_CONSENT_LINK_DAYS = -1
    _assert_dead(client, CONSENT_LINK, token, nomination.pk, state="expired", status=410)
    settings.ECOCYCLE_CONSENT_LINK_DAYS = 14
    # A newer request supersedes the link.
    Nomination.objects.filter(pk=nomination.pk).update(
        consent_requested_at=timezone.now() + timedelta(seconds=1))
    _assert_dead(client, CONSENT_LINK, token, nomination.pk, state="stale", status=410)
    newer = link_make(CONSENT_LINK, Nomination.objects.get(pk=nomination.pk))
    candidate_services.consent_confirm(token=newer)
    with _nothing_changes(CONSENT_LINK, nomination.pk):
        used = client.get(_path(CONSENT_LINK, newer))
    assert candidate_services.consent_check(newer).state is LinkState.USED
    assert used.status_code == 200 and "You confirmed this nomination" in used.content.decode()
    assertTemplateNotUsed(used, "links/dead.html")

    other = submitted_nomination(candidate_language="en")
    token = link_make(CONSENT_LINK, other)
    candidate_services.nomination_withdraw(actor=None, nomination=other)
    response = _assert_dead(client, CONSENT_LINK, token, other.pk, state="withdrawn", status=410)
    assert "This nomination was withdrawn" in response.content.decode()


@pytest.mark.django_db
def test_coordinator_invitation_states(client, settings, staff_user):
    university = ProgramUniversityFactory().university
    first, second = (candidate_services.coordinator_invite(
        actor=staff_user, email=email, university=university, language="en")
        for email in ("one@uni.example", "two@uni.example"))
    kind, passwords = COORDINATOR_INVITATION_LINK, {"password1": "a-long-Passphrase-2027",
                                                    "password2": "a-long-Passphrase-2027"}
    token = link_make(kind, first)
    _assert_dead(client, kind, _tampered(token), first.pk, state="invalid", status=404,
                 post=passwords)
    settings.ECOCYCLE_INVITATION_LINK_DAYS = -1
    _assert_dead(client, kind, token, first.pk, state="expired", status=410, post=passwords)
    settings.ECOCYCLE_INVITATION_LINK_DAYS = 14
    CoordinatorInvitation.objects.filter(pk=first.pk).update(email="one.new@uni.example")
    _assert_dead(client, kind, token, first.pk, state="stale", status=410, post=passwords)
    newer = link_make(kind, CoordinatorInvitation.objects.get(pk=first.pk))
    candidate_services.invitation_accept(token=newer, password=passwords["password1"])
    # Used: nothing to show but the way to sign in, and still gone (410) as before.
    response = _assert_dead(client, kind, newer, first.pk, state="used", status=410,
                            post=passwords)
    assert reverse("account_login").encode() in response.content

    token = link_make(kind, second)
    CoordinatorInvitation.objects.filter(pk=second.pk).update(revoked_at=timezone.now())
    _assert_dead(client, kind, token, second.pk, state="withdrawn", status=410, post=passwords)


@pytest.mark.django_db
def test_mentor_invitation_states(client, settings, staff_user):
    to_answer, to_withdraw = _invited(2)
    kind, accept = MENTOR_INVITATION_LINK, {"answer": "accept"}
    token = link_make(kind, to_answer)
    _assert_dead(client, kind, _tampered(token), to_answer.pk, state="invalid", status=404,
                 post=accept)
    settings.ECOCYCLE_MENTOR_LINK_DAYS = -1
    _assert_dead(client, kind, token, to_answer.pk, state="expired", status=410, post=accept)
    settings.ECOCYCLE_MENTOR_LINK_DAYS = 14
    # Past the invitation's own expiry, before the nightly job has marked it.
    expires_at = to_answer.expires_at
    MentorAssignment.objects.filter(pk=to_answer.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1))
    _assert_dead(client, kind, token, to_answer.pk, state="expired", status=410, post=accept)
    MentorAssignment.objects.filter(pk=to_answer.pk).update(expires_at=expires_at)
    # Sent again: the earlier email's link dies.
    MentorAssignment.objects.filter(pk=to_answer.pk).update(
        invited_at=to_answer.invited_at + timedelta(seconds=1))
    _assert_dead(client, kind, token, to_answer.pk, state="stale", status=410, post=accept)
    newer = link_make(kind, MentorAssignment.objects.get(pk=to_answer.pk))
    mentor_services.invitation_answer(token=newer, accept=False, reason="Travelling.")
    with _nothing_changes(kind, to_answer.pk):
        used = client.get(_path(kind, newer))
    assert used.status_code == 200 and b'data-state="declined"' in used.content
    assertTemplateUsed(used, "mentors/invitation.html")

    token = link_make(kind, to_withdraw)
    mentor_services.assignment_withdraw(actor=staff_user, assignment=to_withdraw,
                                        reason="The candidate deferred admission.")
    _assert_dead(client, kind, token, to_withdraw.pk, state="withdrawn", status=410, post=accept)
    assert MentorAssignment.objects.get(pk=to_withdraw.pk).status == Status.WITHDRAWN


@pytest.mark.django_db
def test_alumni_update_link_states(client, settings, staff_user):
    outcome = _graduate(staff_user)
    kind, answer = ALUMNI_UPDATE_LINK, {"path": "other"}
    token = link_make(kind, outcome)
    _assert_dead(client, kind, _tampered(token), outcome.pk, state="invalid", status=404,
                 post=answer)
    settings.ECOCYCLE_ALUMNI_LINK_DAYS = -1
    _assert_dead(client, kind, token, outcome.pk, state="expired", status=410, post=answer)
    settings.ECOCYCLE_ALUMNI_LINK_DAYS = 60
    student_services.alumni_outcome_record(actor=staff_user, enrolment=outcome.enrolment, data={
        "path": "stayed_korea", "organisation": "KITECH", "employer_type": "research_institute"})
    _assert_dead(client, kind, token, outcome.pk, state="stale", status=410, post=answer)
    newer = link_make(kind, AlumniOutcome.objects.get(pk=outcome.pk))
    student_services.alumni_update_submit(token=newer, data={
        "path": "returned_home", "organisation": "PT Energi Hijau", "country": "ID"})
    with _nothing_changes(kind, outcome.pk):
        used = client.get(_path(kind, newer))
    assert used.status_code == 200 and b'data-state="answered"' in used.content
    assertTemplateUsed(used, "hub/alumni_update.html")


@pytest.mark.django_db
def test_a_dead_link_speaks_the_readers_language_unless_they_chose_one(client):
    (assignment,) = _invited()
    Mentor.objects.filter(pk=assignment.mentor_id).update(language="ko")
    token = link_make(MENTOR_INVITATION_LINK, assignment)
    MentorAssignment.objects.filter(pk=assignment.pk).update(
        invited_at=assignment.invited_at + timedelta(seconds=1))
    page = client.get(_path(MENTOR_INVITATION_LINK, token)).content.decode()
    assert 'lang="ko"' in page and "더 이상 유효하지 않은 링크입니다" in page
    client.cookies["django_language"] = "en"
    page = client.get(_path(MENTOR_INVITATION_LINK, token)).content.decode()
    assert 'lang="en"' in page and "This link is no longer valid" in page


# --- the kernel alone ----------------------------------------------------------------------------

def test_every_kind_is_registered_with_the_purpose_its_links_were_sent_with():
    assert {purpose: kind.salt for purpose, kind in link_kinds().items()}.items() >= {
        "consent": "ecocycle.link.consent",
        "invitation": "ecocycle.link.invitation",
        "mentor-invitation": "ecocycle.link.mentor-invitation",
        "alumni-update": "ecocycle.link.alumni-update",
    }.items()
    assert [link_kinds()[kind.purpose] for kind in ALL_KINDS] == ALL_KINDS


def test_a_second_kind_with_a_purpose_taken_or_unknown_words_is_refused():
    with pytest.raises(ImproperlyConfigured, match="purpose"):
        LinkKind(purpose="consent", url_name="candidates:consent",
                 lifetime_setting="ECOCYCLE_CONSENT_LINK_DAYS",
                 fingerprint_parts=lambda obj: (obj.pk,),
                 load=lambda pk: None)
    with pytest.raises(ImproperlyConfigured, match="dead state"):
        LinkKind(purpose="test-words", url_name="candidates:consent",
                 lifetime_setting="ECOCYCLE_CONSENT_LINK_DAYS",
                 fingerprint_parts=lambda obj: (obj.pk,),
                 load=lambda pk: None, dead_text={"answered": None})
    assert "test-words" not in link_kinds()


def test_a_token_of_one_kind_is_invalid_as_another():
    token = _token_made_before_this_change("consent", 1, 1)
    for kind in ALL_KINDS[1:]:
        assert link_check(kind, token) == LinkCheck(LinkState.INVALID)


@pytest.mark.parametrize(("kind", "check", "state", "status"), [
    (CONSENT_LINK, LinkCheck(LinkState.VALID, Nomination()), "valid", 200),
    (CONSENT_LINK, LinkCheck(LinkState.USED, Nomination()), "used", 200),
    (CONSENT_LINK, LinkCheck(LinkState.INVALID), "invalid", 404),
    (CONSENT_LINK, LinkCheck(LinkState.EXPIRED, Nomination()), "expired", 410),
    (CONSENT_LINK, LinkCheck(LinkState.EXPIRED), "expired", 410),
    (CONSENT_LINK, LinkCheck(LinkState.STALE, Nomination()), "stale", 410),
    (CONSENT_LINK, LinkCheck(LinkState.STALE, Nomination(status=Nomination.Status.WITHDRAWN)),
     "withdrawn", 410),
    (MENTOR_INVITATION_LINK, LinkCheck(LinkState.STALE, MentorAssignment(
        status=Status.WITHDRAWN)), "withdrawn", 410),
    (MENTOR_INVITATION_LINK, LinkCheck(LinkState.USED, MentorAssignment(
        status=Status.ACCEPTED)), "used", 200),
    # A coordinator's invitation has nothing to show once used: the account exists.
    (COORDINATOR_INVITATION_LINK, LinkCheck(LinkState.USED, CoordinatorInvitation()), "used", 410),
])
def test_link_page_maps_each_state_to_the_page_and_status(kind, check, state, status):
    page = link_page(kind, check)
    assert (page.state, page.status, page.dead) == (state, status, status != 200)


def test_the_readers_language_is_activated_only_when_they_chose_none():
    check = LinkCheck(LinkState.VALID, Nomination(candidate_language="ko"))
    request = RequestFactory().get("/")
    link_language_activate(request, CONSENT_LINK, check)
    assert translation.get_language() == "ko" and request.LANGUAGE_CODE == "ko"
    translation.activate("en")
    request = RequestFactory().get("/", HTTP_COOKIE="django_language=id")
    link_language_activate(request, CONSENT_LINK, check)
    assert translation.get_language() == "en"
    # No language of its own: the coordinator's invitation keeps the request's.
    link_language_activate(RequestFactory().get("/"), COORDINATOR_INVITATION_LINK,
                           LinkCheck(LinkState.VALID, CoordinatorInvitation(language="ko")))
    assert translation.get_language() == "en"
