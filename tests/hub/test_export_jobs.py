"""A large round's XLSX is built by a background job: the download link leads to a page that asks
for it, the job's page shows its progress (refreshing itself, no script) and then offers the
file, which only the staff member who asked for it can see and download."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from ecocycle.models import AuditEntry
from hub import export_jobs
from hub.models import ExportJob
from tests.candidates.factories import admitted_round
from tests.kernel.factories import StaffFactory
from tests.programs.factories import CoordinatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_inline(monkeypatch):
    # Two rows are "large": the job path without building a large round.
    monkeypatch.setattr(export_jobs, "XLSX_INLINE_ROWS", 1)
    monkeypatch.setattr("hub.export_views.XLSX_INLINE_ROWS", 1)


def _url(intake_round, what="cohort", fmt="xlsx"):
    return reverse("staff_rounds:export", args=[intake_round.pk, what, fmt])


def test_a_small_round_still_downloads_at_once(client, staff_user):
    intake_round, _ = admitted_round(2)
    client.force_login(staff_user)
    response = client.get(_url(intake_round))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert not ExportJob.objects.exists()


def test_a_large_export_is_built_in_the_background_then_downloaded(
        client, staff_user, small_inline, django_capture_on_commit_callbacks):
    intake_round, nominations = admitted_round(3)
    client.force_login(staff_user)
    page = client.get(_url(intake_round))
    assert page.status_code == 200 and b"export-prepare" in page.content
    assert not ExportJob.objects.exists()  # a GET asks for nothing

    create = reverse("staff_rounds:export_job_create", args=[intake_round.pk, "cohort"])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(create)
    job = ExportJob.objects.get()
    assert response.url == reverse("staff_rounds:export_job", args=[job.pk])
    assert (job.status, job.rows_total, job.requested_by) == ("queued", 3, staff_user)
    waiting = client.get(response.url)
    assert b'http-equiv="refresh"' in waiting.content and b"<progress" in waiting.content
    # Asking again while it waits finds the same job.
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(create).url == response.url
    assert ExportJob.objects.count() == 1
    assert AuditEntry.objects.filter(action="export_job_request").count() == 1

    for callback in queued:
        callback()  # the worker (eager in tests)
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.percent) == ("done", 3, 100)
    ready = client.get(response.url)
    assert b'http-equiv="refresh"' not in ready.content
    download = client.get(reverse("staff_rounds:export_job_download", args=[job.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    ids = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert ids == {n.pk for n in nominations}

    # Built once: a second delivery of the task finds nothing to claim.
    assert export_jobs.export_job_build(job_id=job.pk) is None


def test_another_staff_member_cannot_see_or_download_it(client, staff_user, small_inline,
                                                        django_capture_on_commit_callbacks):
    intake_round, _ = admitted_round(2)
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("staff_rounds:export_job_create", args=[intake_round.pk, "cohort"]))
    job = ExportJob.objects.get()
    assert job.status == "done"
    client.force_login(StaffFactory())
    assert client.get(reverse("staff_rounds:export_job", args=[job.pk])).status_code == 404
    assert client.get(reverse("staff_rounds:export_job_download",
                              args=[job.pk])).status_code == 404


def test_coordinators_cannot_ask_for_an_export(client, small_inline):
    intake_round, _ = admitted_round(2)
    client.force_login(CoordinatorFactory().user)
    url = reverse("staff_rounds:export_job_create", args=[intake_round.pk, "cohort"])
    assert client.post(url).status_code == 403
    assert client.get(_url(intake_round)).status_code == 403
    assert not ExportJob.objects.exists()


def test_a_failed_build_says_so_and_can_be_asked_again(client, staff_user, small_inline,
                                                      monkeypatch,
                                                      django_capture_on_commit_callbacks):
    intake_round, _ = admitted_round(2)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_jobs, "xlsx_write", broken)
    client.force_login(staff_user)
    create = reverse("staff_rounds:export_job_create", args=[intake_round.pk, "cohort"])
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        client.post(create)  # the eager task raises into the test
    job = ExportJob.objects.get()
    assert (job.status, job.error) == ("failed", "disk full")
    page = client.get(reverse("staff_rounds:export_job", args=[job.pk]))
    assert b"could not be built" in page.content
    assert client.get(reverse("staff_rounds:export_job_download",
                              args=[job.pk])).status_code == 404
