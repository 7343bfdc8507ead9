"""Approval after a confirmation page that says what will happen, and reopening, which tells
everyone the approval told, in their languages, until a student of the cohort has enrolled."""

from collections import Counter

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from candidates import selectors, services
from candidates.models import Cohort, CohortAdmission, MatchRun, Offer, Placement
from ecocycle.models import AuditEntry, OutboundEmail
from programs.models import RoundTrack
from students import services as student_services
from tests.candidates.factories import consented_nomination, offer_take_up, open_round_with_tracks
from tests.kernel.factories import UserFactory
from tests.programs.factories import CoordinatorFactory, UniversityFactory, close_nominations

pytestmark = pytest.mark.django_db

RESULT_TOPICS = {"cohort_candidate_result": "cohort_result_withdrawn_candidate",
                 "cohort_university_summary": "cohort_result_withdrawn_university"}


@pytest.fixture
def proposed():
    """Four candidates for two tracks of two and one seats: Indonesian, Vietnamese, English and
    Indonesian speakers, from ITB (coordinators reading Indonesian and English) and HUST (a
    coordinator reading Vietnamese). Matched: three placed, one not; proposed."""
    intake_round = open_round_with_tracks(n_tracks=2)
    seats = iter([2, 1])
    for round_track in RoundTrack.objects.filter(intake_round=intake_round).order_by("id"):
        round_track.seats = next(seats)
        round_track.save()
    itb = CoordinatorFactory(university=UniversityFactory(name="ITB"),
                             user=UserFactory(language="id"))
    CoordinatorFactory(university=itb.university, user=UserFactory(language="en"))
    hust = CoordinatorFactory(university=UniversityFactory(name="HUST", country="VN"),
                              user=UserFactory(language="vi"))
    nominations = [
        consented_nomination(intake_round=intake_round, coordinator=itb, gpa="3.9",
                             candidate_language="id"),
        consented_nomination(intake_round=intake_round, coordinator=hust, gpa="3.8",
                             candidate_language="vi", nationality="VN"),
        consented_nomination(intake_round=intake_round, coordinator=itb, gpa="3.7",
                             candidate_language="en"),
        consented_nomination(intake_round=intake_round, coordinator=itb, gpa="3.1",
                             candidate_language="id"),
    ]
    close_nominations(intake_round)
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    mail.outbox.clear()
    OutboundEmail.objects.all().delete()
    return {"round": intake_round, "cohort": Cohort.objects.get(intake_round=intake_round),
            "nominations": nominations, "itb": itb, "hust": hust}


def _sent(topics) -> Counter:
    return Counter(OutboundEmail.objects.filter(topic__in=topics).values_list(
        "topic", "to", "language"))


# --- the confirmation page ----------------------------------------------------------------------

def test_the_confirmation_page_says_what_will_happen_and_the_approval_does_it(
    client, staff_user, proposed, django_capture_on_commit_callbacks,
):
    intake_round, cohort = proposed["round"], proposed["cohort"]
    client.force_login(staff_user)
    url = reverse("staff_rounds:cohort_approve_confirm", args=[intake_round.pk])
    response = client.get(url)
    assert response.status_code == 200
    summary = response.context["summary"]
    placed = dict(Placement.objects.filter(match_run_id=cohort.match_run_id)
                  .values_list("nomination_id", "track_id"))
    assert (summary["admitted"], summary["not_admitted"]) == (3, 1)
    assert {row["track"].pk: row["admitted"] for row in summary["tracks"]} == Counter(
        t for t in placed.values() if t)
    by_language = {row["language"]: (row["admitted"], row["not_admitted"])
                   for row in summary["emails"]["candidates"]}
    assert sum(a + n for a, n in by_language.values()) == 4
    assert set(by_language) == {"id", "vi", "en"}
    universities = {row["university"].name: {c["email"]: c["language"]
                                             for c in row["coordinators"]}
                    for row in summary["emails"]["universities"]}
    assert universities == {
        "HUST": {proposed["hust"].user.email: "vi"},
        "ITB": {c.user.email: c.user.language for c in proposed["itb"].university.coordinators
                .select_related("user")},
    }
    assert summary["emails"]["count"] == 4 + 3
    html = response.content.decode()
    assert "3 candidates will be admitted; 1 will not be admitted." in html
    assert "7 emails will be sent" in html
    assert "Indonesian" in html and "Vietnamese" in html
    assert f'name="run" value="{cohort.match_run_id}"' in html
    assert not OutboundEmail.objects.exists() and not CohortAdmission.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff_rounds:cohort_approve", args=[intake_round.pk]),
                               {"confirm": "yes", "run": cohort.match_run_id}, follow=True)
    assert "The cohort is approved" in response.content.decode()
    candidates = Counter(OutboundEmail.objects.filter(topic="cohort_candidate_result")
                         .values_list("language", flat=True))
    assert candidates == {code: a + n for code, (a, n) in by_language.items()}
    summaries = set(OutboundEmail.objects.filter(topic="cohort_university_summary")
                    .values_list("to", "language"))
    assert summaries == {(email, language) for people in universities.values()
                         for email, language in people.items()}
    assert len(mail.outbox) == summary["emails"]["count"]


def test_approving_without_the_confirmation_is_refused(client, staff_user, proposed,
                                                       django_capture_on_commit_callbacks):
    intake_round = proposed["round"]
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff_rounds:cohort_approve", args=[intake_round.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("staff_rounds:cohort_approve_confirm",
                                           args=[intake_round.pk])
    page = client.get(response["Location"]).content.decode()
    assert "confirm it on this page" in page
    assert Cohort.objects.get().status == Cohort.Status.PROPOSED
    assert not CohortAdmission.objects.exists() and not OutboundEmail.objects.exists()
    assert mail.outbox == []


def test_a_proposal_changed_since_the_confirmation_is_not_approved(client, staff_user, proposed):
    intake_round, cohort = proposed["round"], proposed["cohort"]
    confirmed = cohort.match_run_id
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    client.force_login(staff_user)
    response = client.post(reverse("staff_rounds:cohort_approve", args=[intake_round.pk]),
                           {"confirm": "yes", "run": confirmed}, follow=True)
    assert "The proposal has changed since you opened the confirmation" in (
        response.content.decode())
    assert Cohort.objects.get().status == Cohort.Status.PROPOSED
    assert not OutboundEmail.objects.exists()


def test_the_confirmation_page_of_an_approved_cohort_only_says_so(client, staff_user, proposed):
    services.cohort_approve(actor=staff_user, cohort=proposed["cohort"])
    client.force_login(staff_user)
    response = client.get(reverse("staff_rounds:cohort_approve_confirm",
                                  args=[proposed["round"].pk]))
    html = response.content.decode()
    assert 'id="approved-note"' in html and 'id="confirm-approve"' not in html


def _grow(intake_round, count):
    for i in range(count):
        consented_nomination(intake_round=intake_round, gpa=f"3.{i % 10}")


def test_the_confirmation_page_issues_a_bounded_number_of_queries(
    client, staff_user, django_assert_max_num_queries,
):
    client.force_login(staff_user)
    counts = []
    for size in (5, 20):
        intake_round = open_round_with_tracks(n_tracks=3)
        _grow(intake_round, size)
        close_nominations(intake_round)
        services.cohort_match_run(intake_round=intake_round, trigger="command")
        url = reverse("staff_rounds:cohort_approve_confirm", args=[intake_round.pk])
        with django_assert_max_num_queries(20) as measured:
            assert client.get(url).status_code == 200
        counts.append(len(measured.captured_queries))
    assert counts[0] == counts[1]


# --- reopening ----------------------------------------------------------------------------------

@pytest.fixture
def approved(proposed, staff_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.cohort_approve(actor=staff_user, cohort=proposed["cohort"])
    told = _sent(RESULT_TOPICS)
    assert sum(told.values()) == 7
    mail.outbox.clear()
    return {**proposed, "told": told}


def test_reopening_tells_everyone_who_was_told_in_their_languages(
    staff_user, approved, django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        services.cohort_reopen(actor=staff_user, cohort=approved["cohort"],
                               reason="A seat was added to a track")

    withdrawn = _sent(RESULT_TOPICS.values())
    assert withdrawn == Counter({(RESULT_TOPICS[topic], to, language): count
                                 for (topic, to, language), count in approved["told"].items()})
    assert len(mail.outbox) == 7
    by_address = {message.to[0]: message for message in mail.outbox}
    withdrawn_subject = {"en": "withdrawn pending a new decision", "id": "ditarik sambil menunggu",
                         "vi": "bị thu hồi trong khi chờ", "ko": "철회되었습니다"}
    for nomination in approved["nominations"]:
        message = by_address[nomination.email]
        assert withdrawn_subject[nomination.candidate_language] in message.subject
        assert nomination.display_name in message.body
    summary = by_address[approved["hust"].user.email]
    assert approved["nominations"][1].display_name in summary.body
    assert approved["nominations"][0].display_name not in summary.body  # not HUST's nominee
    cohort = Cohort.objects.get()
    assert cohort.status == Cohort.Status.PROPOSED and not CohortAdmission.objects.exists()
    entry = AuditEntry.objects.get(action="cohort_reopen")
    notification = cohort.notifications.get(kind="withdrawn")
    assert entry.after == {"status": "proposed", "reason": "A seat was added to a track",
                           "offers_cancelled": 3, "notification": notification.pk}
    assert set(Offer.objects.values_list("status", flat=True)) == {"cancelled"}
    assert (notification.status, notification.candidates, notification.queued) == ("done", 4, 7)
    done = AuditEntry.objects.filter(action="cohort_notification_done").latest("id")
    assert done.after == {"kind": "withdrawn", "emails": 7}


def test_the_overview_reopens_and_says_who_is_told(client, staff_user, approved,
                                                   django_capture_on_commit_callbacks):
    intake_round = approved["round"]
    client.force_login(staff_user)
    overview = client.get(reverse("staff_rounds:round_overview", args=[intake_round.pk]))
    assert "emails every candidate and university told of the result" in (
        overview.content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff_rounds:cohort_reopen", args=[intake_round.pk]),
                               {"reason": "Wrong seat count"}, follow=True)
    assert "are being told by email that it is withdrawn" in response.content.decode()
    assert sum(_sent(RESULT_TOPICS.values()).values()) == 7


def test_reopening_is_refused_once_a_student_has_enrolled(
    client, staff_user, approved, django_capture_on_commit_callbacks,
):
    admission = CohortAdmission.objects.select_related("track", "cohort").order_by("id").first()
    offer_take_up(admission)
    student_services.enrolment_create(actor=staff_user, admission=admission,
                                      semester="2027 Spring", enrolled_on=timezone.localdate())
    cohort = approved["cohort"]
    admissions = list(CohortAdmission.objects.values_list("pk", flat=True))
    emails, audit = OutboundEmail.objects.count(), AuditEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ValidationError, match="1 student of this cohort is enrolled "
                                                  "already"):
            services.cohort_reopen(actor=staff_user, cohort=cohort, reason="Too late")
        client.force_login(staff_user)
        response = client.post(reverse("staff_rounds:cohort_reopen",
                                       args=[approved["round"].pk]), {"reason": "Too late"})

    assert response.status_code == 400
    assert "enrolled already" in response.content.decode()
    assert Cohort.objects.get().status == Cohort.Status.APPROVED
    assert list(CohortAdmission.objects.values_list("pk", flat=True)) == admissions
    assert (OutboundEmail.objects.count(), AuditEntry.objects.count()) == (emails, audit)
    assert mail.outbox == []
    page = client.get(reverse("staff_rounds:round_overview", args=[approved["round"].pk]))
    html = page.content.decode()
    assert 'id="reopen-form"' not in html and 'id="reopen-note"' in html
    assert "one candidate at a time" in html


def test_the_result_recipients_are_those_of_the_run(proposed):
    recipients = selectors.cohort_result_recipients(proposed["cohort"])
    assert {p.nomination_id for p in recipients.placements} == {
        n.pk for n in proposed["nominations"]}
    assert {u: len(c) for u, c in recipients.coordinators.items()} == {
        proposed["itb"].university_id: 2, proposed["hust"].university_id: 1}
    assert MatchRun.objects.count() == 1
