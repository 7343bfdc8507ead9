"""Errors answer with the site's own pages, in the user's language, with a way back: a 403 for a
page that is not the account's, a 404 for an address that leads nowhere, a 500 that needs
neither the request nor the database. The test settings run with DEBUG off, like production."""

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse
from django.utils import translation

from config.urls import urlpatterns as project_urlpatterns
from ecocycle.middleware import server_error

pytestmark = pytest.mark.django_db


def _failing_view(request):
    raise RuntimeError("boom")


# This module is also the URLconf of the 500 tests: the project's routes and handlers, plus a
# view that fails.
urlpatterns = [path("boom/", _failing_view), *project_urlpatterns]
handler500 = "ecocycle.middleware.server_error"


def test_debug_is_off_in_tests():
    assert settings.DEBUG is False


def test_coordinator_on_the_staff_dashboard_gets_the_styled_403(client, coordinator_user):
    client.force_login(coordinator_user)
    response = client.get("/staff/")
    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert 'id="error-403"' in page and 'class="topbar"' in page
    assert f'href="{reverse("home")}"' in page
    assert f'action="{reverse("account_logout")}"' in page
    assert f'value="{reverse("account_login")}?next=/staff/"' in page
    assert "Sign in as another user" in page
    assert coordinator_user.email in page or coordinator_user.get_full_name() in page


def test_the_403_signs_out_and_on_to_the_sign_in_page(client, coordinator_user):
    client.force_login(coordinator_user)
    response = client.post(reverse("account_logout"),
                           {"next": f"{reverse('account_login')}?next=/staff/"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next=/staff/"
    assert "_auth_user_id" not in client.session


def test_403_in_the_users_language(client, coordinator_user):
    coordinator_user.language = "ko"
    coordinator_user.save(update_fields=["language"])
    client.force_login(coordinator_user)
    response = client.get("/staff/")
    assert response.status_code == 403
    page = response.content.decode()
    assert '<html lang="ko">' in page
    assert "처음 페이지로 돌아가기" in page  # "Back to the start page"


def test_unknown_id_gets_the_styled_404_not_a_url_listing(client, staff_user):
    client.force_login(staff_user)
    response = client.get("/staff/rounds/987654/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'id="error-404"' in page and 'class="topbar"' in page
    assert f'href="{reverse("home")}"' in page
    assert "URLconf" not in page and "staff/rounds/&lt;int:round_id&gt;" not in page
    assert "Staff dashboard" in page  # the layout knows who is signed in


def test_unknown_nomination_of_a_coordinator_is_the_styled_404(client, coordinator_user):
    client.force_login(coordinator_user)
    response = client.get("/nominations/987654/")
    assert response.status_code == 404
    assert 'id="error-404"' in response.content.decode()


def test_404_in_korean_for_anonymous(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 404
    page = response.content.decode()
    assert '<html lang="ko">' in page
    assert "페이지를 찾을 수 없습니다" in page  # "Page not found"
    assert "처음 페이지로 돌아가기" in page


@pytest.mark.urls("tests.kernel.test_error_pages")
def test_500_is_the_styled_page_without_queries():
    client = Client(raise_request_exception=False)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert 'id="error-500"' in page and 'class="topbar"' in page
    assert 'href="/"' in page
    assert not queries.captured_queries


@pytest.mark.urls("tests.kernel.test_error_pages")
def test_500_in_korean():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/", HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 500
    page = response.content.decode()
    assert '<html lang="ko">' in page
    assert "서버 오류" in page  # "Server error"
    assert "처음 페이지로 돌아가기" in page


def test_500_handler_renders_without_a_request_context(rf):
    with translation.override("ko"):
        response = server_error(rf.get("/x/"))
    assert response.status_code == 500
    assert "서버 오류" in response.content.decode()


# --- the invite-only sign-in page -----------------------------------------------------------------

def test_login_page_invites_no_sign_up(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("account_signup") not in page
    assert "sign up" not in page.lower()
    assert "by invitation only" in page


def test_a_refused_form_gets_the_styled_page_not_djangos(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("account_login"), {"login": "x@example.org", "password": "x"},
                           HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 403
    page = response.content.decode()
    assert 'id="error-403-csrf"' in page and '<html lang="ko">' in page
    assert "처음 페이지로 돌아가기" in page
    assert "CSRF" not in page
