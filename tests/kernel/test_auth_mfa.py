"""Staff accounts need a second factor: no staff page, the admin included, opens without one, and
signing in as staff asks for it. Sign-in by emailed code is only for accounts without a password."""

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, validate_totp_code
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.kernel.factories import (
    DEFAULT_PASSWORD,
    STAFF_TOTP_SECRET,
    MentorUserFactory,
    StaffFactory,
    UserFactory,
    totp_code,
)

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/staff/", "/staff/cycle/", "/admin/", "/admin/ecocycle/user/"]


@pytest.fixture
def staff_without_mfa():
    return StaffFactory(totp=False)


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_without_an_authenticator_is_sent_to_set_one_up(client, staff_without_mfa, path):
    client.force_login(staff_without_mfa)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_staff_without_an_authenticator_can_do_nothing_else(client, staff_without_mfa):
    client.force_login(staff_without_mfa)
    for response in [client.get(reverse("home")), client.post("/staff/cycle/", {}),
                     client.get("/api/v1/nominations/")]:
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")


def test_staff_without_an_authenticator_can_set_one_up_and_sign_out(client, staff_without_mfa):
    client.post(reverse("account_login"),
                {"login": staff_without_mfa.email, "password": DEFAULT_PASSWORD})
    # allauth asks for the password again before a change of sign-in methods.
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(
        reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=staff_without_mfa,
                                        type=Authenticator.Type.TOTP).exists()
    assert client.get("/staff/cycle/").status_code == 200
    assert client.post(reverse("account_logout")).status_code == 302


def test_staff_with_an_authenticator_opens_staff_pages(client, staff_user):
    client.force_login(staff_user)
    assert client.get("/staff/cycle/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_other_roles_need_no_authenticator(client, coordinator_user):
    client.force_login(coordinator_user)
    assert client.get(reverse("home")).status_code == 200


def test_staff_sign_in_asks_for_the_second_factor(client, staff_user):
    response = client.post(reverse("account_login"),
                           {"login": staff_user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    assert client.get("/staff/cycle/").status_code == 302

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_user.pk)
    assert client.get("/staff/cycle/").status_code == 200


def test_the_admin_login_is_allauths_with_its_second_factor(client, staff_user):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    response = client.post(reverse("account_login") + "?next=/admin/",
                           {"login": staff_user.email, "password": DEFAULT_PASSWORD})
    assert response["Location"].startswith(reverse("mfa_authenticate"))
    assert client.get("/admin/")["Location"].startswith(reverse("admin:login"))


def test_staff_cannot_remove_their_authenticator(client, staff_user):
    client.post(reverse("account_login"),
                {"login": staff_user.email, "password": DEFAULT_PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    client.post(reverse("mfa_deactivate_totp"))
    assert Authenticator.objects.filter(user=staff_user, type=Authenticator.Type.TOTP).exists()


@pytest.fixture
def request_code(client, django_capture_on_commit_callbacks):
    def request(email):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("account_request_login_code"), {"email": email})
    return request


def test_a_mentor_without_a_password_signs_in_by_code(client, request_code):
    mentor = MentorUserFactory(password=None)
    mentor.set_unusable_password()
    mentor.save()
    response = request_code(mentor.email)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_confirm_login_code"))
    assert len(mail.outbox) == 1
    code = re.search(r"^\s*([A-Z0-9-]{6,})\s*$", mail.outbox[0].body, re.MULTILINE).group(1)
    response = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(mentor.pk)


@pytest.mark.parametrize("factory", [StaffFactory, UserFactory, MentorUserFactory])
def test_accounts_with_a_password_get_no_code_but_are_told_to_use_it(client, request_code,
                                                                    factory):
    user = factory()
    response = request_code(user.email)
    # The page answers as for any address (it does not tell who has an account) ...
    assert response.status_code == 302
    # ... and the mailbox is told to use the password instead; no code is sent.
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "no code was sent" in body
    assert "/accounts/login/" in body
    assert not re.search(r"^\s*[A-Z0-9]{3}-?[A-Z0-9]{3}\s*$", body, re.MULTILINE)
    response = client.post(reverse("account_confirm_login_code"), {"code": "ABC123"})
    assert "_auth_user_id" not in client.session


def test_staff_without_a_password_get_no_code_either(client, request_code):
    staff = StaffFactory()
    staff.set_unusable_password()
    staff.save()
    request_code(staff.email)
    (message,) = mail.outbox
    assert "no code was sent" in message.body
    assert "_auth_user_id" not in client.session


def test_the_code_page_says_who_signs_in_by_code(client):
    page = client.get(reverse("account_request_login_code")).content.decode()
    assert "without a password" in page


def test_a_code_typed_as_it_rolls_over_is_still_accepted():
    step = int(timezone.now().timestamp()) // 30
    previous = format_hotp_value(hotp_value(STAFF_TOTP_SECRET, step - 1))
    assert validate_totp_code(STAFF_TOTP_SECRET, previous)
