import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from pytest_django.asserts import assertTemplateUsed

from candidates import services
from candidates.models import CoordinatorInvitation, Nomination
from ecocycle import tasks
from ecocycle.links import link_url
from ecocycle.mail import outbound_email_flush
from ecocycle.models import ApiToken, AuditEntry, OutboundEmail
from tests.candidates.factories import (
    EXE_BYTES,
    NominationFactory,
    complete_nomination,
    open_round_with_tracks,
    pdf_file,
    submitted_nomination,
    upload,
)
from tests.kernel.factories import DEFAULT_PASSWORD
from tests.programs.factories import CoordinatorFactory, ProgramUniversityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    intake_round = open_round_with_tracks()
    coordinator = CoordinatorFactory()
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university)
    return intake_round, coordinator


def _token_from(url):
    return url.rstrip("/").rsplit("/", 1)[1]


def test_coordinator_fills_every_section_and_submits(client, setup,
                                                     django_capture_on_commit_callbacks):
    intake_round, coordinator = setup
    client.force_login(coordinator.user)
    home = client.get(reverse("candidates:coordinator_home"))
    assert intake_round.name in home.content.decode()

    response = client.post(reverse("candidates:nomination_new", args=[intake_round.pk]), {
        "family_name": "Santoso", "given_names": "Dewi", "native_name": "",
        "date_of_birth": "2000-04-02", "nationality": "ID", "email": "dewi@student.example",
        "phone": "+62 811", "passport_number": "B 1234567", "candidate_language": "id",
        "save_next": "1",
    })
    nomination = Nomination.objects.get(family_name="Santoso")
    assert response["Location"] == reverse("candidates:nomination_edit",
                                           args=[nomination.pk, "studies"])
    tech = intake_round.program.core_technologies.create(name="Transesterification")
    response = client.post(reverse("candidates:nomination_edit", args=[nomination.pk, "studies"]), {
        "degree": "bachelor", "degree_status": "completed", "major": "Chemical Engineering",
        "institution": "ITB", "gpa": "3.40", "gpa_scale": "4.0",
        "courses-TOTAL_FORMS": "3", "courses-INITIAL_FORMS": "0",
        "courses-0-name": "Reaction engineering", "courses-0-grade": "A",
        "courses-0-technologies": [tech.pk], "save_next": "1",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    client.post(reverse("candidates:nomination_edit", args=[nomination.pk, "language"]), {
        "language_test": "toefl_ibt", "language_score": "95",
        "language_test_date": (timezone.localdate() - timedelta(days=30)).isoformat(),
    })
    tracks = list(intake_round.tracks.all())
    client.post(reverse("candidates:nomination_edit", args=[nomination.pk, "preferences"]), {
        "research_interests": "Biodiesel catalysts", "university_rank": "1",
        "choice_1": tracks[0].pk, "choice_2": tracks[1].pk,
    })
    for kind in ["transcript", "cv", "recommendation", "diploma", "language_certificate"]:
        response = client.post(
            reverse("candidates:nomination_edit", args=[nomination.pk, "documents"]),
            {"kind": kind, "file": pdf_file(f"{kind}.pdf")},
        )
        assert response.status_code == 302
    detail = client.get(reverse("candidates:nomination_detail", args=[nomination.pk]))
    assert "Everything required is there" in detail.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("candidates:nomination_submit", args=[nomination.pk]),
                               follow=True)
    assert "Submitted" in response.content.decode()
    nomination.refresh_from_db()
    assert nomination.status == "submitted"
    assert str(nomination.gpa_normalised) == "3.40"
    assert [p.track for p in nomination.preferences.all()] == tracks[:2]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dewi@student.example"]
    assert "B 1234567" not in detail.content.decode()


def test_bad_input_shows_the_error_and_keeps_what_was_entered(client, setup):
    intake_round, coordinator = setup
    client.force_login(coordinator.user)
    response = client.post(reverse("candidates:nomination_new", args=[intake_round.pk]), {
        "family_name": "Wijaya", "email": "not-an-email", "date_of_birth": "2100-01-01",
        "candidate_language": "id",
    })
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid email address" in html
    assert "The date of birth must be in the past" in html
    assert 'value="Wijaya"' in html
    assert not Nomination.objects.exists()


@pytest.mark.parametrize("born", ["0001-01-01", "1899-12-31",
                                  (timezone.localdate() - timedelta(days=365)).isoformat()])
def test_an_implausible_date_of_birth_is_refused_on_the_page(client, setup, born):
    intake_round, coordinator = setup
    client.force_login(coordinator.user)
    response = client.post(reverse("candidates:nomination_new", args=[intake_round.pk]), {
        "family_name": "Wijaya", "date_of_birth": born, "candidate_language": "id"})
    assert response.status_code == 200
    assert "Check the date of birth" in response.content.decode()
    assert not Nomination.objects.exists()


def test_a_draft_can_be_started_without_the_passport_number(client, setup):
    intake_round, coordinator = setup
    client.force_login(coordinator.user)
    response = client.post(reverse("candidates:nomination_new", args=[intake_round.pk]), {
        "family_name": "Lestari", "candidate_language": "id", "passport_number": "",
    })
    assert response.status_code == 302
    nomination = Nomination.objects.get(family_name="Lestari")
    assert not nomination.passport_number
    missing = " ".join(m for _s, m in services.nomination_missing_parts(nomination))
    assert "Passport number is missing" in missing


def test_document_disguised_by_extension_is_refused_on_the_page(client, setup):
    intake_round, coordinator = setup
    nomination = NominationFactory(intake_round=intake_round, university=coordinator.university)
    client.force_login(coordinator.user)
    response = client.post(
        reverse("candidates:nomination_edit", args=[nomination.pk, "documents"]),
        {"kind": "cv", "file": upload(EXE_BYTES, "cv.pdf")},
    )
    assert response.status_code == 200
    assert "is not a PDF, JPEG or PNG file" in response.content.decode()


def test_same_track_twice_is_refused_on_the_page(client, setup):
    intake_round, coordinator = setup
    nomination = NominationFactory(intake_round=intake_round, university=coordinator.university)
    track = intake_round.tracks.first()
    client.force_login(coordinator.user)
    response = client.post(
        reverse("candidates:nomination_edit", args=[nomination.pk, "preferences"]),
        {"research_interests": "x", "university_rank": "2", "choice_1": track.pk,
         "choice_2": track.pk},
    )
    assert response.status_code == 200
    assert "Rank each track at most once" in response.content.decode()


def test_a_refused_preference_saves_nothing_of_the_section(client, setup):
    intake_round, coordinator = setup
    nomination = submitted_nomination(coordinator=coordinator, intake_round=intake_round)
    ranked = list(nomination.preferences.values_list("track_id", flat=True))
    client.force_login(coordinator.user)

    # A submitted nomination must keep at least one ranked track: the service refuses.
    response = client.post(
        reverse("candidates:nomination_edit", args=[nomination.pk, "preferences"]),
        {"research_interests": "Something else entirely", "university_rank": "77"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Rank at least one degree track." in html
    assert "Something else entirely" in html  # what was typed is kept on the page
    nomination.refresh_from_db()
    assert nomination.research_interests != "Something else entirely"
    assert nomination.university_rank != 77
    assert list(nomination.preferences.values_list("track_id", flat=True)) == ranked


def test_staff_revoke_an_invitation_and_its_link_dies(client, staff_user,
                                                      django_capture_on_commit_callbacks):
    university = ProgramUniversityFactory().university
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.coordinator_invite(actor=staff_user, email="late@uni.example",
                                                 university=university)
    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[0].body).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    client.force_login(staff_user)

    response = client.post(reverse("admin:candidates_coordinatorinvitation_changelist"), {
        "action": "revoke", "_selected_action": [invitation.pk]})

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert AuditEntry.objects.filter(action="coordinatorinvitation_revoke",
                                     target_id=str(invitation.pk), actor=staff_user).count() == 1
    client.logout()
    assert client.get(path).status_code == 410


def test_university_a_gets_404_for_everything_of_university_b(client, setup):
    intake_round, coordinator_a = setup
    theirs = submitted_nomination(intake_round=intake_round)
    document = theirs.documents.first()
    client.force_login(coordinator_a.user)
    urls = [reverse("candidates:nomination_detail", args=[theirs.pk]),
            reverse("candidates:document_download", args=[document.pk])]
    urls += [reverse("candidates:nomination_edit", args=[theirs.pk, section])
             for section in ["person", "studies", "language", "preferences", "documents"]]
    for url in urls:
        assert client.get(url).status_code == 404, url
    for url in [reverse("candidates:nomination_submit", args=[theirs.pk]),
                reverse("candidates:nomination_withdraw", args=[theirs.pk]),
                reverse("candidates:document_remove", args=[document.pk]),
                reverse("candidates:nomination_edit", args=[theirs.pk, "person"])]:
        assert client.post(url, {"family_name": "Hacked"}).status_code == 404, url
    theirs.refresh_from_db()
    assert theirs.status == "submitted" and theirs.family_name != "Hacked"
    listing = client.get(reverse("candidates:coordinator_home")).content.decode()
    assert theirs.family_name not in listing
    other_round = open_round_with_tracks()
    assert client.get(reverse("candidates:nomination_new",
                              args=[other_round.pk])).status_code == 404


@pytest.mark.parametrize("who", ["staff_user", "mentor_user"])
def test_coordinator_pages_are_refused_to_other_roles(client, request, who, setup):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("candidates:coordinator_home")).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, setup):
    response = client.get(reverse("candidates:coordinator_home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_coordinator_list_queries_are_bounded(client, setup, django_assert_max_num_queries):
    intake_round, coordinator = setup
    for _ in range(30):
        complete_nomination(coordinator=coordinator, intake_round=intake_round, documents=False)
    client.force_login(coordinator.user)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("candidates:coordinator_home"))
    assert response.status_code == 200
    assert response.content.decode().count("nomination_detail") == 0  # rendered links, not names
    assert len(response.context["page"].object_list) == 25


def test_consent_page_get_changes_nothing_and_post_confirms_once(client):
    nomination = submitted_nomination(candidate_language="en")
    token = _token_from(services.consent_link(nomination))
    url = reverse("candidates:consent", args=[token])
    response = client.get(url)
    assert response.status_code == 200
    assert "I confirm my consent" in response.content.decode()
    nomination.refresh_from_db()
    assert nomination.consent_given_at is None
    response = client.post(url)
    assert "are confirmed" in response.content.decode()
    nomination.refresh_from_db()
    assert nomination.consent_given_at is not None
    again = client.post(url)
    assert "You confirmed this nomination" in again.content.decode()
    assert "I confirm my consent" not in again.content.decode()


def test_consent_page_for_tampered_expired_and_withdrawn_links(client, settings):
    nomination = submitted_nomination(candidate_language="en")
    token = _token_from(services.consent_link(nomination))
    response = client.get(reverse("candidates:consent", args=[token[:-3] + "abc"]))
    assert response.status_code == 404 and "not valid" in response.content.decode()
    settings.ECOCYCLE_CONSENT_LINK_DAYS = 0
    response = client.post(reverse("candidates:consent", args=[token]))
    assert response.status_code == 410 and "expired" in response.content.decode()
    settings.ECOCYCLE_CONSENT_LINK_DAYS = 14
    services.nomination_withdraw(actor=None, nomination=nomination)
    response = client.post(reverse("candidates:consent", args=[token]))
    assert response.status_code == 410 and "withdrawn" in response.content.decode()
    assertTemplateUsed(response, "links/dead.html")
    nomination.refresh_from_db()
    assert nomination.consent_given_at is None


def _personal_values(nomination):
    return [nomination.email, nomination.phone,
            date_format(nomination.date_of_birth, "DATE_FORMAT"), nomination.institution,
            nomination.major, nomination.passport_masked]


def test_an_answered_or_dead_consent_link_shows_no_personal_data(client):
    nomination = submitted_nomination(candidate_language="en", phone="+62 812 5550 1234",
                                      institution="Institut Teknologi Bandung",
                                      major="Chemical Engineering")
    url = reverse("candidates:consent", args=[_token_from(services.consent_link(nomination))])
    page = client.get(url).content.decode()
    assert all(value in page for value in _personal_values(nomination))
    for response in (client.post(url), client.get(url)):
        page = response.content.decode()
        assert "confirmed" in page
        assert not [value for value in _personal_values(nomination) if value in page]
    services.nomination_withdraw(actor=None, nomination=nomination)
    page = client.get(url).content.decode()
    assert not [value for value in _personal_values(nomination) if value in page]


def test_consent_page_speaks_the_candidates_language(client):
    nomination = submitted_nomination(candidate_language="ko")
    token = _token_from(services.consent_link(nomination))
    response = client.get(reverse("candidates:consent", args=[token]))
    assert 'lang="ko"' in response.content.decode()


def test_staff_invites_a_coordinator_who_sets_a_password(client, staff_user,
                                                         django_capture_on_commit_callbacks):
    university = ProgramUniversityFactory().university
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:candidates_coordinatorinvitation_add"), {
            "email": "new.coordinator@uni.example", "full_name": "Budi",
            "university": university.pk,
            "language": "id",
        })
    assert response.status_code == 302
    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[0].body).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    client.logout()
    assert client.get(path).status_code == 200
    response = client.post(path, {"password1": "short", "password2": "short"})
    assert "too short" in response.content.decode()
    response = client.post(path, {"password1": "a-long-Passphrase-2027",
                                  "password2": "a-long-Passphrase-2027"})
    assert response.status_code == 302
    assert client.get(reverse("candidates:coordinator_home")).status_code == 200
    assert CoordinatorInvitation.objects.get().accepted_at is not None
    client.logout()
    assert client.get(path).status_code == 410
    assert client.login(email="new.coordinator@uni.example", password="a-long-Passphrase-2027")


def test_coordinator_invitation_dead_links_share_the_dead_link_page(client, staff_user):
    university = ProgramUniversityFactory().university
    invitation = services.coordinator_invite(actor=staff_user, email="late@uni.example",
                                             university=university)
    token = _token_from(link_url(services.COORDINATOR_INVITATION_LINK, invitation))
    response = client.get(reverse("candidates:invitation", args=[token[:-3] + "abc"]))
    assert response.status_code == 404
    assertTemplateUsed(response, "links/dead.html")
    assert "This invitation link is not valid" in response.content.decode()
    CoordinatorInvitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    response = client.get(reverse("candidates:invitation", args=[token]))
    assert response.status_code == 410 and b'data-state="withdrawn"' in response.content


def test_account_page_creates_and_revokes_an_api_token(client, coordinator):
    client.force_login(coordinator.user)
    response = client.post(reverse("candidates:account"), {"create_token": "1"})
    key = response.context["new_key"]
    assert key and key in response.content.decode()
    response = client.get("/api/v1/rounds/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code != 401
    token = ApiToken.objects.get(user=coordinator.user)
    client.post(reverse("candidates:account"), {"revoke_token": token.digest})
    assert not ApiToken.objects.filter(user=coordinator.user).exists()


def test_outbox_keeps_emails_when_the_mail_server_is_down(settings,
                                                          django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    with django_capture_on_commit_callbacks(execute=True):
        nomination = submitted_nomination()
    email = OutboundEmail.objects.get()
    assert email.status == OutboundEmail.Status.PENDING and email.attempts == 1
    assert "Connection refused" in email.last_error or email.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutboundEmail.objects.update(next_attempt_at=None)
    assert outbound_email_flush() == 1
    assert mail.outbox[0].to == [nomination.email]
    assert outbound_email_flush() == 0


def test_submission_succeeds_when_the_broker_is_down(client, setup, settings, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.send_outbound_email, "delay", broker_down)
    intake_round, coordinator = setup
    nomination = complete_nomination(coordinator=coordinator, intake_round=intake_round)
    client.force_login(coordinator.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("candidates:nomination_submit", args=[nomination.pk]),
                               follow=True)
    assert response.status_code == 200 and "Submitted" in response.content.decode()
    email = OutboundEmail.objects.get()
    assert email.status == OutboundEmail.Status.PENDING
    assert outbound_email_flush() == 1
    assert mail.outbox[0].to == [nomination.email]
    assert DEFAULT_PASSWORD  # the factories' password stays importable for e2e tests


def test_coordinator_can_enrol_a_second_factor(client, coordinator):
    client.force_login(coordinator.user)
    # Security settings ask for the password again first.
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    client.post(response["Location"], {"password": DEFAULT_PASSWORD})
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert "authenticator" in response.content.decode().lower()
    assert response.context["form"].secret
