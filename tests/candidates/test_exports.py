"""Staff exports of a round (cohort, tracks, universities as CSV and XLSX) and the emails of an
approved cohort."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from candidates import services
from candidates.models import Cohort, Placement
from candidates.selectors import NominationOutcome
from ecocycle.mail import email_queue
from ecocycle.models import OutboundEmail
from programs.models import RoundTrack
from tests.candidates.factories import (
    consented_nomination as consented,
)
from tests.candidates.factories import (
    open_round_with_tracks,
    submitted_nomination,
)
from tests.kernel.factories import StaffFactory
from tests.programs.factories import close_nominations
from tests.worlds import module_world, reads_world

pytestmark = pytest.mark.django_db

KINDS = ["cohort", "tracks", "universities"]
FORMATS = ["csv", "xlsx"]


def _matched_round():
    """Six consented candidates for three one-seat tracks, matched: the three best are placed.
    One more nominee never consented (nominated, not in the cohort)."""
    intake_round = open_round_with_tracks(n_tracks=3)
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=1)
    gpas = ["3.9", "3.7", "3.5", "3.3", "3.1", "3.0"]
    nominations = [consented(intake_round=intake_round, gpa=gpa) for gpa in gpas]
    submitted_nomination(intake_round=intake_round, gpa="4.0")  # no consent
    close_nominations(intake_round)
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    return intake_round, nominations


@pytest.fixture
def matched_round():
    return _matched_round()


def _approved_round():
    intake_round, nominations = _matched_round()
    cohort = services.cohort_approve(actor=StaffFactory(),
                                     cohort=Cohort.objects.get(intake_round=intake_round))
    # The emails are written by the job queued on commit, which a world built once never sees.
    services.cohort_notification_send(notification_id=cohort.notifications.get().pk)
    return intake_round, nominations


# Built once for the exports and emails that only read it (tests/worlds.py).
_built, approved_round = module_world(_approved_round, name="approved_round")


def _url(intake_round, what, fmt):
    return reverse("staff_rounds:export", args=[intake_round.pk, what, fmt])


def _rows(response, fmt) -> list[list[str]]:
    """The file's rows as text, read the way a spreadsheet user's tools would."""
    if fmt == "csv":
        content = b"".join(response.streaming_content)  # streamed as it is read
        assert content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    assert all(cell.font.bold for cell in sheet[1])
    assert all(sheet.column_dimensions[letter].width >= 8 for letter in "ABC")
    return [["" if v is None else str(v) for v in row]
            for row in sheet.iter_rows(values_only=True)]


def _records(rows) -> list[dict]:
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@reads_world
@pytest.mark.parametrize("fmt", FORMATS)
def test_cohort_export_lists_every_candidate_with_their_outcome(client, staff_user,
                                                               approved_round, fmt):
    intake_round, nominations = approved_round
    client.force_login(staff_user)
    response = client.get(_url(intake_round, "cohort", fmt))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="ecocycle-{intake_round.pk}-cohort.{fmt}"')
    records = {int(r["Nomination ID"]): r for r in _records(_rows(response, fmt))}
    assert set(records) == {n.pk for n in nominations}
    placements = {p.nomination_id: p for p in Placement.objects.select_related("track")}
    for nomination in nominations[:3]:
        record, placement = records[nomination.pk], placements[nomination.pk]
        assert record["Candidate"] == nomination.display_name
        assert record["University"] == nomination.university.name
        assert record["Country"] == "Indonesia"
        assert record["Degree track"] == str(placement.track)
        assert record["Status"] == "admitted"
        assert record["Choice rank"] == str(placement.choice_rank)
        assert Decimal(record["Score"]) == placement.score
    for nomination in nominations[3:]:
        assert records[nomination.pk]["Status"] == "unplaced"
        assert records[nomination.pk]["Degree track"] == ""


@reads_world
@pytest.mark.parametrize("fmt", FORMATS)
def test_tracks_export_gives_each_tracks_figures_and_admitted_candidates(
        client, staff_user, approved_round, fmt):
    intake_round, nominations = approved_round
    client.force_login(staff_user)
    response = client.get(_url(intake_round, "tracks", fmt))
    assert response["Content-Disposition"].endswith(f'-tracks.{fmt}"')
    records = _records(_rows(response, fmt))
    assert len(records) == 3
    admitted = {int(r["Nomination ID"]) for r in records}
    assert admitted == {n.pk for n in nominations[:3]}
    for record in records:
        assert (record["Seats"], record["Placed"], record["Admitted"]) == ("1", "1", "1")
        assert record["Level"] == "Master's"
        assert record["Status"] == "admitted"
        assert Decimal(record["Cut-off score"]) == Decimal(record["Score"])


@reads_world
@pytest.mark.parametrize("fmt", FORMATS)
def test_universities_export_counts_per_university(client, staff_user, approved_round, fmt):
    intake_round, nominations = approved_round
    client.force_login(staff_user)
    response = client.get(_url(intake_round, "universities", fmt))
    assert response["Content-Disposition"].endswith(f'-universities.{fmt}"')
    records = {r["University"]: r for r in _records(_rows(response, fmt))}
    assert len(records) == 7  # every nominee came from their own university
    for i, nomination in enumerate(nominations):
        record = records[nomination.university.name]
        admitted = "1" if i < 3 else "0"
        assert (record["Nominated"], record["Eligible"], record["Placed"],
                record["Admitted"]) == ("1", "1", admitted, admitted)
    [not_consented] = [r for name, r in records.items()
                       if name not in {n.university.name for n in nominations}]
    assert (not_consented["Nominated"], not_consented["Eligible"]) == ("1", "0")


def test_proposal_export_shows_placed_and_staff_overrides(client, staff_user, matched_round):
    intake_round, nominations = matched_round
    cohort = Cohort.objects.get(intake_round=intake_round)
    services.override_create(actor=staff_user, cohort=cohort, nomination=nominations[0],
                             kind="exclude", reason="Accepted a scholarship elsewhere")
    client.force_login(staff_user)
    records = {int(r["Nomination ID"]): r for r in _records(_rows(
        client.get(_url(intake_round, "cohort", "csv")), "csv"))}
    assert records[nominations[0].pk]["Status"] == "unplaced"
    assert records[nominations[0].pk]["Override"] == "Exclude from the cohort"
    assert records[nominations[0].pk]["Override reason"] == "Accepted a scholarship elsewhere"
    assert [records[n.pk]["Status"] for n in nominations[1:3]] == ["placed", "placed"]
    tracks = _records(_rows(client.get(_url(intake_round, "tracks", "xlsx")), "xlsx"))
    assert sum(int(r["Admitted"]) for r in tracks) == 0
    assert {r["Nomination ID"] for r in tracks} == {"", *(str(n.pk) for n in nominations[1:3])}


def test_an_admission_is_exported_even_without_a_placement_in_the_run(client, staff_user,
                                                                     approved_round):
    intake_round, nominations = approved_round
    track = nominations[0].admission.track
    Placement.objects.filter(nomination=nominations[0]).delete()
    client.force_login(staff_user)
    records = {int(r["Nomination ID"]): r for r in _records(_rows(
        client.get(_url(intake_round, "cohort", "csv")), "csv"))}
    assert records[nominations[0].pk]["Status"] == "admitted"
    assert records[nominations[0].pk]["Degree track"] == str(track)
    assert records[nominations[0].pk]["Score"] == ""
    tracks = _records(_rows(client.get(_url(intake_round, "tracks", "csv")), "csv"))
    [row] = [r for r in tracks if r["Nomination ID"] == str(nominations[0].pk)]
    assert (row["Major"], row["Placed"], row["Admitted"]) == (track.major, "0", "1")


def test_exports_before_any_matching_hold_headers_only(client, staff_user):
    intake_round = open_round_with_tracks(n_tracks=2)
    client.force_login(staff_user)
    assert len(_rows(client.get(_url(intake_round, "cohort", "csv")), "csv")) == 1
    tracks = _records(_rows(client.get(_url(intake_round, "tracks", "xlsx")), "xlsx"))
    assert [(r["Placed"], r["Candidate"]) for r in tracks] == [("0", ""), ("0", "")]


@reads_world
def test_exports_need_a_bounded_number_of_queries(client, staff_user, approved_round,
                                                  django_assert_max_num_queries):
    intake_round, _nominations = approved_round
    client.force_login(staff_user)
    for what in KINDS:
        with django_assert_max_num_queries(12):
            assert client.get(_url(intake_round, what, "xlsx")).status_code == 200


def test_anonymous_is_sent_to_log_in(client):
    intake_round = open_round_with_tracks(n_tracks=1)
    response = client.get(_url(intake_round, "cohort", "csv"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["coordinator_user", "mentor_user", "plain_user"])
def test_non_staff_are_refused(client, request, who):
    intake_round = open_round_with_tracks(n_tracks=1)
    client.force_login(request.getfixturevalue(who))
    for what in KINDS:
        assert client.get(_url(intake_round, what, "xlsx")).status_code == 403


@pytest.mark.parametrize(("what", "fmt"), [("people", "csv"), ("cohort", "pdf"),
                                           ("cohort", "xls"), ("Cohort", "csv")])
def test_unknown_export_or_format_is_not_found(client, staff_user, what, fmt):
    intake_round = open_round_with_tracks(n_tracks=1)
    client.force_login(staff_user)
    assert client.get(_url(intake_round, what, fmt)).status_code == 404


def test_unknown_round_is_not_found(client, staff_user):
    client.force_login(staff_user)
    url = reverse("staff_rounds:export", args=[999_999, "cohort", "csv"])
    assert client.get(url).status_code == 404


# --- Emails of an approved cohort ----------------------------------------------------------


@reads_world
def test_approval_queues_both_emails_rendered_in_the_recipients_language(approved_round):
    _intake_round, nominations = approved_round
    admitted = OutboundEmail.objects.get(topic="cohort_candidate_result",
                                         to=nominations[0].email)
    declined = OutboundEmail.objects.get(topic="cohort_candidate_result",
                                         to=nominations[5].email)
    assert admitted.language == nominations[0].candidate_language
    assert nominations[0].display_name in admitted.body_text
    assert admitted.subject != declined.subject
    summaries = OutboundEmail.objects.filter(topic="cohort_university_summary")
    # One coordinator per university: the six of the cohort, and the university whose nominee
    # never consented, which is told so.
    assert summaries.count() == 7
    summary = summaries.get(body_text__contains=nominations[0].display_name)
    assert nominations[0].university.name in summary.subject
    assert summaries.filter(body_text__contains="consent never given").count() == 1



@pytest.fixture
def outcome():
    intake_round = open_round_with_tracks(n_tracks=1)
    nomination = submitted_nomination(intake_round=intake_round, family_name="D'Souza",
                                      given_names="Anita")
    other = submitted_nomination(intake_round=intake_round, family_name="Tran",
                                 given_names="Mai")
    track = intake_round.tracks.get()
    return intake_round, nomination, other, track


@pytest.mark.parametrize("language", ["en", "ko"])
def test_candidate_result_email_renders_admitted_and_not(outcome, language):
    intake_round, nomination, _other, track = outcome
    context = {"nomination": nomination, "intake_round": intake_round,
               "program": intake_round.program, "track": track}
    admitted = email_queue(to=nomination.email, template="cohort_candidate_result",
                           language=language, context={**context, "admitted": True})
    declined = email_queue(to=nomination.email, template="cohort_candidate_result",
                           language=language, context={**context, "admitted": False,
                                                       "track": None})
    assert admitted.language == declined.language == language
    assert intake_round.program.name in admitted.subject
    assert intake_round.program.name in declined.subject
    assert "D'SOUZA" in admitted.body_text and "D&#x27;SOUZA" in admitted.body_html
    with translation.override(language):
        level, campus = track.get_level_display(), track.get_campus_display()
    for body, shown in ((admitted.body_text, str), (admitted.body_html, escape)):
        assert shown(track.major) in body and shown(level) in body and shown(campus) in body
        assert shown(track.supervisor_name) in body
    for body in (declined.body_text, declined.body_html):
        assert intake_round.name in body and track.major not in body
    for email in (admitted, declined):
        assert "{%" not in email.body_text + email.body_html and "{{" not in email.body_text
    if language == "ko":
        assert "Anita D'SOUZA 님께" in admitted.body_text  # "Dear ...," from the catalogue
        assert "Anita D&#x27;SOUZA 님께" in declined.body_html
        assert level == "석사"
    else:
        assert admitted.subject.endswith(
            f"Congratulations: you are admitted to UST-KITECH ({intake_round.program.name})")
        assert admitted.body_text.startswith("Dear Anita D'SOUZA,")
        assert "A mentor, a retired Korean scientist" in admitted.body_text
        assert "mentor" in admitted.body_html and "mentor" not in declined.body_html
        assert declined.subject.endswith(
            f"The result of your nomination for {intake_round.program.name}")
        assert "we cannot offer you one in this round" in declined.body_text


@pytest.mark.parametrize("language", ["en", "ko"])
def test_university_summary_email_lists_each_nominee(outcome, language):
    intake_round, nomination, other, track = outcome
    unplaced = ({"track_id": track.pk, "reason": "full_ranked_below_cutoff"},)
    email = email_queue(
        to="coordinator@example.test", template="cohort_university_summary", language=language,
        context={"university": nomination.university, "intake_round": intake_round,
                 "program": intake_round.program,
                 "rows": [{"nomination": nomination,
                           "outcome": NominationOutcome(code="admitted", track=track)},
                          {"nomination": other,
                           "outcome": NominationOutcome(code="not_placed", decided_round=True,
                                                        unplaced_reasons=unplaced,
                                                        tracks={track.pk: track})}]})
    assert email.language == language
    assert nomination.university.name in email.subject and intake_round.name in email.subject
    with translation.override(language):
        track_label = str(track)
    assert track_label in email.body_text and escape(track_label) in email.body_html
    assert "Anita D'SOUZA" in email.body_text and "Mai TRAN" in email.body_text
    assert "D&#x27;SOUZA" in email.body_html and "Mai TRAN" in email.body_html
    assert "http://" in email.body_text and 'href="http' in email.body_html
    lines = email.body_text.splitlines()
    if language == "ko":
        assert "석사" in track_label
        # The engine's reason, in the coordinator's language.
        full = "정원이 찼으며 이 후보자는 합격선보다 낮은 순위입니다."
        assert f"      {track_label}: {full}" in lines
    else:
        assert f"  - Anita D'SOUZA: admitted to {track_label}" in lines
        assert "  - Mai TRAN: not admitted this round" in lines
        assert f"      {track_label}: full, and ranked this candidate below its cut-off." in lines


def test_university_summary_email_without_nominees(outcome):
    intake_round, nomination, _other, _track = outcome
    email = email_queue(
        to="coordinator@example.test", template="cohort_university_summary", language="en",
        context={"university": nomination.university, "intake_round": intake_round,
                 "program": intake_round.program, "rows": []})
    assert "None of your nominees took part" in email.body_text
    assert "None of your nominees took part" in email.body_html
