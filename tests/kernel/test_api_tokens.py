"""API tokens: hashed (django-rest-knox), expiring, dead after a password change, listed with
their last use on the account page, revocable one by one by their owner only."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from ecocycle import api_tokens
from ecocycle.models import ApiToken, AuditEntry
from tests.programs.factories import CoordinatorFactory

pytestmark = pytest.mark.django_db

ROUNDS = "/api/v1/rounds/"


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_works_and_records_its_last_use(coordinator):
    user = coordinator.user
    key = api_tokens.api_token_create(actor=user, user=user)
    (token,) = api_tokens.api_token_list(user=user)
    assert token.last_used_at is None
    assert token_client(key).get(ROUNDS).status_code == 200
    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < timedelta(seconds=5)
    assert AuditEntry.objects.filter(action="api_token_create", target_id=str(user.pk)).exists()


def test_a_token_expires_after_the_configured_days_and_is_then_refused_as_json(settings,
                                                                               coordinator):
    settings.ECOCYCLE_API_TOKEN_TTL_DAYS = 30
    user = coordinator.user
    key = api_tokens.api_token_create(actor=user, user=user)
    token = ApiToken.objects.get(user=user)
    assert abs(token.expiry - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)

    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    response = token_client(key).get(ROUNDS)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert isinstance(response.json()["detail"], str)
    assert response["WWW-Authenticate"] == "Token"
    assert not api_tokens.api_token_list(user=user)


def test_tokens_are_stored_hashed_never_in_clear_text(coordinator):
    key = api_tokens.api_token_create(actor=coordinator.user, user=coordinator.user)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")
        rows = cursor.fetchall()
    assert len(rows) == 1
    assert not any(key in str(value) for value in rows[0])
    # knox keeps the first 15 characters to find the row; the other 49 exist only as a hash.
    assert len(key) >= 64


def test_the_old_clear_text_token_table_is_gone():
    assert "rest_framework.authtoken" not in django_settings.INSTALLED_APPS
    assert "authtoken_token" not in connection.introspection.table_names()


def test_changing_the_password_kills_every_token(coordinator):
    user = coordinator.user
    keys = [api_tokens.api_token_create(actor=user, user=user) for _ in range(2)]
    assert token_client(keys[0]).get(ROUNDS).status_code == 200
    # Any door that sets a password (allauth's pages, the admin, a command) goes through this.
    user.set_password("a-brand-new-passphrase-42")
    user.save()
    for key in keys:
        assert token_client(key).get(ROUNDS).status_code == 401
    assert not api_tokens.api_token_list(user=user)


def test_changing_the_password_on_the_account_pages_kills_tokens(client, coordinator):
    user = coordinator.user
    user.set_password("the-old-passphrase-17")
    user.save()
    key = api_tokens.api_token_create(actor=user, user=user)
    client.force_login(user)
    response = client.post(reverse("account_change_password"), {
        "oldpassword": "the-old-passphrase-17", "password1": "a-brand-new-passphrase-42",
        "password2": "a-brand-new-passphrase-42"})
    assert response.status_code == 302
    assert token_client(key).get(ROUNDS).status_code == 401


def test_account_page_lists_tokens_with_their_last_use_and_shows_a_new_key_once(client,
                                                                                coordinator):
    user = coordinator.user
    client.force_login(user)
    response = client.post(reverse("candidates:account"), {"create_token": "1"})
    key = response.context["new_key"]
    assert key and key in response.content.decode()
    token_client(key).get(ROUNDS)

    page = client.get(reverse("candidates:account")).content.decode()
    assert key not in page  # shown once
    assert key[:8] in page
    assert 'data-token-last-used' in page and "never" not in page.split(key[:8])[1][:400]
    assert page.count('data-token="') == 1

    client.post(reverse("candidates:account"), {"create_token": "1"})
    page = client.get(reverse("candidates:account")).content.decode()
    assert page.count('data-token="') == 2


def test_revoking_one_token_keeps_the_others(client, coordinator):
    user = coordinator.user
    first = api_tokens.api_token_create(actor=user, user=user)
    second = api_tokens.api_token_create(actor=user, user=user)
    digest = ApiToken.objects.get(token_key=first[:15]).digest
    client.force_login(user)
    response = client.post(reverse("candidates:account"), {"revoke_token": digest})
    assert response.status_code == 302
    assert token_client(first).get(ROUNDS).status_code == 401
    assert token_client(second).get(ROUNDS).status_code == 200
    assert AuditEntry.objects.filter(action="api_token_revoke").exists()


def test_nobody_revokes_another_users_token(client, coordinator):
    other = CoordinatorFactory().user
    key = api_tokens.api_token_create(actor=other, user=other)
    digest = ApiToken.objects.get(user=other).digest
    client.force_login(coordinator.user)
    client.post(reverse("candidates:account"), {"revoke_token": digest})
    assert ApiToken.objects.filter(digest=digest).exists()
    assert token_client(key).get(ROUNDS).status_code == 200
    assert api_tokens.api_token_revoke(actor=coordinator.user, user=coordinator.user,
                                       digest=digest) == 0


def test_a_user_holds_a_bounded_number_of_tokens(coordinator):
    user = coordinator.user
    for _ in range(api_tokens.MAX_TOKENS_PER_USER):
        api_tokens.api_token_create(actor=user, user=user)
    with pytest.raises(api_tokens.DomainError):
        api_tokens.api_token_create(actor=user, user=user)


def test_staff_see_tokens_in_the_admin_and_revoke_them_audited(client, staff_user, coordinator):
    key = api_tokens.api_token_create(actor=coordinator.user, user=coordinator.user)
    token = ApiToken.objects.get(user=coordinator.user)
    client.force_login(staff_user)
    page = client.get(reverse("admin:ecocycle_apitoken_changelist"))
    assert page.status_code == 200
    assert key[:8] in page.content.decode() and key not in page.content.decode()
    client.post(reverse("admin:ecocycle_apitoken_delete", args=[token.pk]), {"post": "yes"})
    assert token_client(key).get(ROUNDS).status_code == 401
    assert AuditEntry.objects.filter(action="api_token_revoke", actor=staff_user).exists()
