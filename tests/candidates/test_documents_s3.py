"""Documents on S3-compatible object storage (issue 16): a local S3 server (moto's server mode)
stands in for MinIO or AWS, and the same services and views store, serve and erase them."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from django.urls import reverse
from moto.server import ThreadedMotoServer

from candidates import services
from candidates.models import NominationDocument
from privacy.services import person_erase
from tests.candidates.factories import (
    PDF_BYTES,
    PNG_BYTES,
    CoordinatorFactory,
    complete_nomination,
    pdf_file,
)

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
               "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings):
    """A fresh private bucket, and the default storage pointed at it as base settings do."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)
    name = f"ecocycle-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": name, "endpoint_url": s3_endpoint,
                    "region_name": "us-east-1", "access_key": "testing",
                    "secret_key": "testing", "addressing_style": "path",
                    "default_acl": "private", "querystring_auth": True,
                    "querystring_expire": 60, "signature_version": "s3v4",
                    "file_overwrite": False},
    }}
    return client, name


def _keys(client, name):
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", []))


def test_an_uploaded_document_is_an_object_in_the_bucket_and_on_no_disk(bucket, tmp_path,
                                                                      settings):
    client, name = bucket
    settings.MEDIA_ROOT = tmp_path
    nomination = complete_nomination(documents=False)
    document = services.document_upload(actor=None, nomination=nomination, kind="cv",
                                        file=pdf_file("cv.pdf"))

    assert _keys(client, name) == [document.file.name]
    assert client.get_object(Bucket=name, Key=document.file.name)["Body"].read() == PDF_BYTES
    assert not list(tmp_path.iterdir())
    with pytest.raises(NotImplementedError):  # no local path that code could rely on
        document.file.path  # noqa: B018


def test_objects_are_private_and_any_url_is_signed_and_short_lived(bucket):
    client, name = bucket
    nomination = complete_nomination(documents=False)
    document = services.document_upload(actor=None, nomination=nomination, kind="cv",
                                        file=pdf_file("cv.pdf"))

    grants = client.get_object_acl(Bucket=name, Key=document.file.name)["Grants"]
    assert [grant["Grantee"].get("URI") for grant in grants] == [None]  # the owner only
    url = document.file.url
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60&" in url


def test_the_coordinator_downloads_through_the_view_and_another_university_cannot(bucket,
                                                                                 client):
    nomination = complete_nomination(documents=False)
    document = services.document_upload(actor=None, nomination=nomination, kind="cv",
                                        file=pdf_file("cv.pdf"))
    url = reverse("candidates:document_download", args=[document.pk])

    client.force_login(nomination.created_by)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert "Location" not in response  # streamed through the view, no store URL handed out

    client.force_login(CoordinatorFactory().user)
    assert client.get(url).status_code == 404


def test_the_api_streams_the_object_too(bucket, client):
    nomination = complete_nomination(documents=False)
    document = services.document_upload(actor=None, nomination=nomination, kind="cv",
                                        file=pdf_file("cv.pdf"))
    client.force_login(nomination.created_by)
    response = client.get(reverse("api:document_download", args=[nomination.pk, document.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES


def test_a_missing_object_is_a_404_not_a_500(bucket, client):
    client_s3, name = bucket
    nomination = complete_nomination(documents=False)
    document = services.document_upload(actor=None, nomination=nomination, kind="cv",
                                        file=pdf_file("cv.pdf"))
    client_s3.delete_object(Bucket=name, Key=document.file.name)
    client.force_login(nomination.created_by)

    assert client.get(reverse("candidates:document_download",
                              args=[document.pk])).status_code == 404
    assert client.get(reverse("api:document_download",
                              args=[nomination.pk, document.pk])).status_code == 404


def test_a_replaced_and_a_removed_document_leave_no_object(bucket,
                                                           django_capture_on_commit_callbacks):
    client, name = bucket
    nomination = complete_nomination(documents=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.document_upload(actor=None, nomination=nomination, kind="cv",
                                 file=pdf_file("cv.pdf"))
        # The same content again: the name is taken, so the new object gets a suffix.
        second = services.document_upload(actor=None, nomination=nomination, kind="cv",
                                           file=pdf_file("cv.pdf"))
    assert _keys(client, name) == [second.file.name]

    with django_capture_on_commit_callbacks(execute=True):
        services.document_remove(actor=None, document=second)
    assert _keys(client, name) == []


def test_erasure_deletes_the_objects(bucket, staff_user, django_capture_on_commit_callbacks):
    client, name = bucket
    nomination = complete_nomination(documents=False)
    services.document_upload(actor=None, nomination=nomination, kind="cv",
                             file=pdf_file("cv.pdf"))
    services.document_upload(actor=None, nomination=nomination, kind="transcript",
                             file=pdf_file("transcript.png", PNG_BYTES))
    assert len(_keys(client, name)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        person_erase(actor=staff_user, nomination=nomination, reason="Asked by email")

    assert _keys(client, name) == []
    assert not NominationDocument.objects.filter(nomination=nomination).exists()


def _production_storage(**env_extra):
    show = ("import json; from django.conf import settings; "
            "from django.core.files.base import ContentFile; "
            "from django.core.files.storage import default_storage as s; "
            "name = s.save('probe/a', ContentFile(b'shared')); "
            "print(json.dumps({'storage': settings.STORAGES['default'], "
            "'read': s.open(name).read().decode(), 'exists': s.exists(name)}))")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_", "AWS_", "ECOCYCLE_S3"))}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production",
                "DJANGO_SECRET_KEY": "a" * 20 + "-long-random-production-secret-key-value-xyz",
                "DJANGO_ALLOWED_HOSTS": "ecocycle.example.org", "ECOCYCLE_LOOKUP_HASH_KEY": "x",
                "REDIS_URL": "redis://redis.example.org:6379/0", "EMAIL_URL": "smtp://mail:25",
                **env_extra})
    result = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", show],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _s3_env(s3_endpoint):
    return {"AWS_S3_ENDPOINT_URL": s3_endpoint, "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def test_without_a_bucket_the_documents_stay_on_the_local_disk(tmp_path):
    shown = _production_storage(DJANGO_MEDIA_ROOT=str(tmp_path))

    assert shown["storage"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert (tmp_path / "probe" / "a").read_bytes() == b"shared"


def test_production_settings_choose_s3_when_a_bucket_is_named(s3_endpoint):
    client = boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)
    name = f"ecocycle-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)

    shown = _production_storage(ECOCYCLE_S3_BUCKET=name, **_s3_env(s3_endpoint))

    storage = shown["storage"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == name
    assert storage["OPTIONS"]["default_acl"] == "private"
    assert storage["OPTIONS"]["file_overwrite"] is False
    assert storage["OPTIONS"]["querystring_expire"] <= 300
    assert storage["OPTIONS"]["signature_version"] == "s3v4"
    assert shown["read"] == "shared" and shown["exists"] is True
    assert _keys(client, name) == ["probe/a"]


def test_production_settings_take_the_bucket_under_its_django_storages_name(s3_endpoint):
    client = boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)
    name = f"ecocycle-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)

    shown = _production_storage(AWS_STORAGE_BUCKET_NAME=name, **_s3_env(s3_endpoint))

    assert shown["storage"]["OPTIONS"]["bucket_name"] == name
    assert _keys(client, name) == ["probe/a"]
