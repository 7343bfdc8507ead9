"""Request bodies larger than ECOCYCLE_MAX_REQUEST_BYTES are refused with 413 before one byte of
them is read; Django's own upload limits are set explicitly."""

import json

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


class UnreadableBody:
    """A request body that fails the test if anything reads it."""

    def read(self, *args, **kwargs):
        raise AssertionError("the body of an oversized request was read")

    readline = read


def _oversized(client, path, **extra):
    size = settings.ECOCYCLE_MAX_REQUEST_BYTES + 1
    return client.generic("POST", path, data=b"x", content_type="multipart/form-data; boundary=b",
                          CONTENT_LENGTH=str(size), **{"wsgi.input": UnreadableBody()}, **extra)


def test_the_request_limit_leaves_room_for_the_largest_document():
    assert settings.ECOCYCLE_MAX_REQUEST_BYTES == 12 * 1024 * 1024
    assert settings.ECOCYCLE_MAX_REQUEST_BYTES > settings.ECOCYCLE_MAX_UPLOAD_BYTES + 1024 * 1024
    # Django's own: the non-file part of a body held in memory, uploads spooled to disk above
    # FILE_UPLOAD_MAX_MEMORY_SIZE, and how many fields and files a form may carry.
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2_621_440
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE == 2_621_440
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS == 1000
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES == 10


def test_an_oversized_upload_to_a_page_gets_a_413_page_without_being_read(client,
                                                                         coordinator_user):
    client.force_login(coordinator_user)
    response = _oversized(client, "/nominations/1/edit/documents/")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "too large" in response.content.decode()
    assert "12.0\xa0MB" in response.content.decode()


def test_an_oversized_api_request_gets_a_413_json_in_the_users_language(client):
    response = _oversized(client, "/api/v1/nominations/1/documents/", HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "detail" in json.loads(response.content)
    assert response["Content-Language"] == "ko"


def test_the_page_speaks_the_signed_in_users_language(client, coordinator_user):
    coordinator_user.language = "vi"
    coordinator_user.save()
    client.force_login(coordinator_user)
    response = _oversized(client, reverse("home"))
    assert response.status_code == 413
    assert '<html lang="vi">' in response.content.decode()


def test_a_request_within_the_limit_passes(client, settings):
    settings.ECOCYCLE_MAX_REQUEST_BYTES = 10
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("set_language"), {"language": "en"})
    assert response.status_code == 413  # 10 bytes is below this form's body
    settings.ECOCYCLE_MAX_REQUEST_BYTES = 10_000
    assert client.post(reverse("set_language"), {"language": "en"}).status_code == 302

