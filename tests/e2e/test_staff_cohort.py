"""A KITECH staff member reviews a proposed cohort in the browser, overrides, tries a what-if,
approves, and the universities and candidates are emailed."""

import pytest
from django.core import mail

from candidates import services
from candidates.models import Cohort, CohortOverride, MatchRun, Placement
from programs.models import RoundTrack
from tests.candidates.factories import open_round_with_tracks, submitted_nomination
from tests.e2e.pages import sign_in
from tests.programs.factories import CoordinatorFactory, close_nominations

pytestmark = pytest.mark.django_db(transaction=True)


def _consented(**kwargs):
    nomination = submitted_nomination(**kwargs)
    token = services.consent_link(nomination).rstrip("/").rsplit("/", 1)[1]
    return services.consent_confirm(token=token)


def _placed(run_id):
    return dict(Placement.objects.filter(match_run_id=run_id)
                .values_list("nomination_id", "track_id"))


def test_staff_reviews_overrides_previews_and_approves(page, staff_user):
    intake_round = open_round_with_tracks(n_tracks=3, name="2027 Spring")
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=1)
    coordinator = CoordinatorFactory()
    nominations = [_consented(intake_round=intake_round, coordinator=coordinator, gpa=gpa)
                   for gpa in ["3.9", "3.7", "3.5", "3.3"]]
    close_nominations(intake_round)
    run = services.cohort_match_run(intake_round=intake_round, trigger="command").run
    first, last = nominations[0], nominations[-1]
    freed_track = _placed(run.pk)[first.pk]
    assert _placed(run.pk)[last.pk] is None
    mail.outbox.clear()

    sign_in(page, staff_user)

    # The round list, then the round's overview with its charts.
    page.goto("/staff/")
    page.click("#rounds >> text=2027 Spring")
    page.wait_for_selector("#funnel svg")
    assert page.locator("#funnel text[data-stage=placed]").text_content() == "3"
    assert page.locator("#tracks svg.fill").count() == 3

    # Cohort review: exclude the strongest candidate, which frees a seat.
    page.click("nav.tabs >> text=Cohort review")
    page.wait_for_selector("#cohort")
    row = page.locator(f"#row-{first.pk}")
    row.locator("select[name=kind]").select_option("exclude")
    row.locator("input[name=reason]").fill("Accepted a scholarship elsewhere")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("text=Override saved")
    assert page.locator(f"#row-{first.pk} .badge").inner_text() == "Excluded"

    # Move the unplaced candidate into it: first without a reason, which the page refuses
    # beside the form while keeping the chosen track.
    row = page.locator(f"#row-{last.pk}")
    row.locator("select[name=kind]").select_option("move")
    row.locator("select[name=track]").select_option(str(freed_track))
    row.locator("button[type=submit]").click()
    page.wait_for_selector(f"#row-{last.pk} .errorlist >> text=Give the reason")
    row = page.locator(f"#row-{last.pk}")
    assert row.locator("select[name=track]").input_value() == str(freed_track)
    row.locator("input[name=reason]").fill("The supervisor interviewed the candidate")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("text=Override saved")
    assert "Moved to" in page.locator(f"#row-{last.pk} .badge").inner_text()
    assert CohortOverride.objects.filter(cleared_at__isnull=True).count() == 2
    assert _placed(run.pk)[last.pk] == freed_track

    # What-if: two seats in every track; nothing is saved.
    page.click("nav.tabs >> text=What-if")
    page.wait_for_selector("#whatif-form")
    for field in page.locator("input[name^=seats_]").all():
        field.fill("2")
    page.click("#run-whatif")
    page.wait_for_selector("#whatif-candidates")
    assert page.locator("#whatif-tracks tr.changed").count() == 3
    assert MatchRun.objects.count() == 1

    # Approve the cohort as a whole, after its confirmation page.
    page.click("nav.tabs >> text=Overview")
    page.click("#approve-cohort")
    page.wait_for_selector("#approve-confirm")
    page.click("#confirm-approve")
    page.wait_for_selector("#approved-note")
    assert f"Approved by {staff_user.get_full_name()}" in page.inner_text("#approved-note")
    cohort = Cohort.objects.get(intake_round=intake_round)
    assert cohort.status == Cohort.Status.APPROVED
    assert set(cohort.admissions.values_list("nomination_id", flat=True)) == {
        n.pk for n in nominations[1:]}

    # The outbox task ran on commit in the live server: the emails went out.
    assert mail.outbox
    recipients = {address for message in mail.outbox for address in message.to}
    assert first.email in recipients and last.email in recipients
    assert coordinator.user.email in recipients
