import re

import pytest
from django.core import mail
from django.urls import reverse

from ecocycle.models import User
from tests.kernel.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_login_by_email_and_password(client, coordinator_user):
    # Staff also give a second factor: tests/kernel/test_auth_mfa.py.
    response = client.post(
        reverse("account_login"), {"login": coordinator_user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"] == coordinator_user


def test_wrong_password_is_refused_with_a_clear_message(client, staff_user):
    response = client.post(
        reverse("account_login"), {"login": staff_user.email, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert response.context["form"]["login"].value() == staff_user.email


def test_open_sign_up_is_closed(client):
    response = client.get(reverse("account_signup"))
    assert "closed" in response.content.decode().lower()
    client.post(reverse("account_signup"), {
        "email": "intruder@example.test",
        "password1": "Pa55word-long!",
        "password2": "Pa55word-long!",
    })
    assert not User.objects.filter(email="intruder@example.test").exists()


def test_password_reset_by_email_link(client, coordinator_user,
                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"),
                               {"email": coordinator_user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else "/" + path
    response = client.post(form_url, {
        "password1": "A-new-long-passphrase-2027", "password2": "A-new-long-passphrase-2027",
    })
    assert response.status_code == 302
    coordinator_user.refresh_from_db()
    assert coordinator_user.check_password("A-new-long-passphrase-2027")


def test_repeated_failed_logins_are_rate_limited(client, staff_user):
    for _ in range(6):
        response = client.post(
            reverse("account_login"), {"login": staff_user.email, "password": "wrong"}
        )
    assert "Too many failed login attempts" in response.content.decode()
    # Even the right password is refused while the limit holds.
    response = client.post(
        reverse("account_login"), {"login": staff_user.email, "password": DEFAULT_PASSWORD}
    )
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_login_goes_through_the_rate_limited_login(client, staff_user):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
