"""A coordinator imports nominations from a CSV file in the browser: the upload is checked and
imported by a job, and the job's page shows its progress, then every problem or the result."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.files.base import ContentFile

from candidates.imports import nomination_import_job_run
from candidates.models import Nomination, NominationImportJob
from programs.models import RoundTrack
from tests.candidates.factories import open_round_with_tracks
from tests.candidates.test_imports import csv_bytes, row
from tests.e2e.pages import sign_in
from tests.programs.factories import CoordinatorFactory, ProgramUniversityFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    intake_round = open_round_with_tracks(n_tracks=2)
    coordinator = CoordinatorFactory()
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university)
    tracks = [rt.track for rt in RoundTrack.objects.filter(intake_round=intake_round)
              .select_related("track").order_by("id")]
    return intake_round, coordinator, tracks


def test_an_upload_with_a_problem_then_the_corrected_one(page, world, tmp_path):
    intake_round, coordinator, tracks = world
    sign_in(page, coordinator.user, code=False)
    page.goto(f"/nominations/rounds/{intake_round.pk}/import/")
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_bytes(csv_bytes([row(1, tracks), row(2, tracks, nationality="XX")]))
    good.write_bytes(csv_bytes([row(1, tracks), row(2, tracks)]))

    page.set_input_files("#id_file", str(bad))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-error-table")
    assert "Nothing was imported." in page.inner_text("#import-errors")
    assert page.inner_text("#import-error-table tbody tr").startswith("3\tnationality")
    assert not Nomination.objects.exists()

    page.click("text=Upload the corrected file")
    page.set_input_files("#id_file", str(good))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-done")
    assert "2 draft nominations were created." in page.inner_text("#import-done")
    assert Nomination.objects.filter(university=coordinator.university).count() == 2


def test_the_progress_page_follows_the_job_and_shows_the_result(page, world):
    intake_round, coordinator, tracks = world
    job = NominationImportJob(intake_round=intake_round, university=coordinator.university,
                              requested_by=coordinator.user, file_name="cohort.csv",
                              rows_total=3)
    job.file.save("upload.csv", ContentFile(csv_bytes([row(i, tracks) for i in range(3)])))
    sign_in(page, coordinator.user, code=False)
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(f"/nominations/rounds/{intake_round.pk}/import/{job.pk}/")
    page.wait_for_selector("#import-progress")
    assert page.inner_text("#import-status") == "Waiting to start"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not Axe().run(page).response["violations"]

    # The worker takes the job: the page, asking every 1.5 s, reloads with the result.
    nomination_import_job_run(job_id=job.pk)
    page.wait_for_selector("#import-done", timeout=10_000)
    assert "3 draft nominations were created." in page.inner_text("#import-done")
