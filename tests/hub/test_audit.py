"""The staff audit log of a round reads as sentences: who did what, with the changed values'
labels and human values, the calendar and milestone changes included; filtered by who, what and
when in the database, paginated, exported as CSV; staff only; bounded queries."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from candidates import services
from candidates.models import Cohort, CohortOverride
from ecocycle.models import AuditEntry
from ecocycle.services import audit_entry_create, model_delete, model_update
from hub import audit
from programs import services as program_services
from programs.calendar import moment
from programs.models import RoundMilestone, RoundTrack
from tests.candidates.factories import consented_nomination, open_round_with_tracks
from tests.kernel.factories import StaffFactory
from tests.programs.factories import close_nominations

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return StaffFactory(full_name="Demo Staff")


@pytest.fixture
def world(staff):
    """A matched round of two candidates ranking two tracks of five seats, nominations closed."""
    intake_round = open_round_with_tracks(n_tracks=2)
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=5)
    dewi = consented_nomination(intake_round=intake_round, given_names="Dewi",
                                family_name="Lestari")
    other = consented_nomination(intake_round=intake_round, given_names="Nam", family_name="Tran")
    close_nominations(intake_round, ago=timedelta(minutes=5))
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    cohort = Cohort.objects.get(intake_round=intake_round)
    tracks = [rt.track for rt in RoundTrack.objects.filter(intake_round=intake_round)
              .select_related("track").order_by("id")]
    return {"round": intake_round, "dewi": dewi, "other": other, "cohort": cohort,
            "tracks": tracks}


def _lines(intake_round, **filters):
    return audit.audit_lines(audit.round_audit_entries(intake_round, **filters))


def _line(intake_round, action):
    (line,) = [line for line in _lines(intake_round) if line.entry.action == action]
    return line


def test_override_create_is_a_sentence_with_names_not_ids(world, staff):
    dewi, track = world["dewi"], world["tracks"][1]
    services.override_create(actor=staff, cohort=world["cohort"], nomination=dewi, kind="move",
                             track=track, reason="Better fit for her thesis")
    line = _line(world["round"], "cohort_override_create")
    assert line.sentence == (f"Demo Staff moved {dewi} to {track}: Better fit for her thesis")
    assert line.actor == "Demo Staff" and line.action == "Override"
    changes = {c.label: (c.before, c.after) for c in line.changes}
    assert changes["track"][1] == str(track)
    assert changes["kind"] == ("", "Move to another track")
    assert "{" not in line.sentence and "cohort_override_create" not in line.sentence


def test_exclude_and_clear(world, staff):
    other = world["other"]
    override = services.override_create(actor=staff, cohort=world["cohort"], nomination=other,
                                        kind="exclude", reason="Duplicate")
    services.override_clear(actor=staff, override=override)
    intake_round = world["round"]
    assert _line(intake_round, "cohort_override_create").sentence == (
        f"Demo Staff excluded {other} from the cohort: Duplicate")
    clear = _line(intake_round, "cohort_override_clear")
    assert clear.sentence.startswith(f"Demo Staff cleared the override of {other}")
    assert {c.label: c.before for c in clear.changes}["kind"] == "Exclude from the cohort"


def test_approve_reopen_and_run(world, staff):
    cohort = services.cohort_approve(actor=staff, cohort=world["cohort"])
    services.cohort_reopen(actor=staff, cohort=cohort, reason="A seat was counted twice")
    services.cohort_run_request(actor=staff, intake_round=world["round"])
    intake_round = world["round"]
    approve = _line(intake_round, "cohort_approve")
    assert approve.sentence == "Demo Staff approved the cohort: 2 candidates admitted."
    assert {c.label: (c.before, c.after) for c in approve.changes}["status"] == (
        "Proposed", "Approved")
    assert _line(intake_round, "cohort_reopen").sentence == (
        "Demo Staff reopened the approved cohort and withdrew its admissions: "
        "A seat was counted twice")
    assert _line(intake_round, "cohort_run_request").sentence == (
        "Demo Staff asked for a matching run.")
    assert _line(intake_round, "match_run_create").sentence == (
        "The system ran the matching (Command).")


def test_calendar_and_milestone_changes_are_included(world, staff):
    intake_round = world["round"]
    program_services.intake_round_open_matching(actor=staff, intake_round=intake_round,
                                                reason="Screening is done")
    milestone = RoundMilestone.objects.get(intake_round=intake_round,
                                           kind=RoundMilestone.Kind.ENROLMENT)
    new_at = milestone.at + timedelta(days=7)
    model_update(instance=milestone, data={"at": new_at}, actor=staff)
    opened = _line(intake_round, "intake_round_open_matching")
    assert opened.sentence == "Demo Staff opened the matching phase: Screening is done"
    assert [c.label for c in opened.changes] == ["Matching"]
    edited = _line(intake_round, "roundmilestone_update")
    assert edited.action == "Milestone changed"
    assert edited.sentence.startswith("Demo Staff changed the milestone “Enrolment: ")
    (change,) = edited.changes
    assert change.label == "date and time"
    assert change.after == moment(new_at)
    assert change.after == date_format(timezone.localtime(new_at), "DATETIME_FORMAT")


def test_extend_and_release_say_the_new_date(world, staff):
    intake_round = open_round_with_tracks(n_tracks=1)
    until = intake_round.nominations_close_at + timedelta(days=3)
    program_services.intake_round_extend_nominations(actor=staff, intake_round=intake_round,
                                                     until=until, reason="Holiday")
    line = _line(intake_round, "intake_round_extend_nominations")
    until_text = date_format(timezone.localtime(until), "DATETIME_FORMAT")
    assert line.sentence == f"Demo Staff extended the nomination deadline to {until_text}: Holiday"


def test_unknown_and_generic_actions_fall_back_to_translated_sentences(world, staff):
    intake_round = world["round"]
    audit_entry_create(actor=staff, action="frobnicate", target=intake_round,
                       after={"colour": "blue"})
    line = _line(intake_round, "frobnicate")
    assert line.sentence == (
        f"Demo Staff recorded “frobnicate” on the intake round “{intake_round}”.")
    assert [(c.label, c.after) for c in line.changes] == [("colour", "blue")]
    rt = RoundTrack.objects.filter(intake_round=intake_round).first()
    model_update(instance=rt, data={"seats": 9}, actor=staff)
    seats = _line(intake_round, "roundtrack_update")
    assert seats.changes[0].label == str(RoundTrack._meta.get_field("seats").verbose_name)
    assert (seats.changes[0].before, seats.changes[0].after) == ("5", "9")


def test_values_are_translated(world, staff):
    services.override_create(actor=staff, cohort=world["cohort"], nomination=world["other"],
                             kind="exclude", reason="x")
    with translation.override("ko"):
        line = _line(world["round"], "cohort_override_create")
        kind = {c.label: c.after for c in line.changes}
    # The model's choices are translated already; the new sentences once the lead has.
    assert "Exclude from the cohort" not in kind.values()


# --- the page ----------------------------------------------------------------------------------

def test_page_shows_sentences_and_filters(client, world, staff):
    intake_round = world["round"]
    services.override_create(actor=staff, cohort=world["cohort"], nomination=world["other"],
                             kind="exclude", reason="Duplicate")
    client.force_login(staff)
    url = reverse("staff_rounds:audit_log", args=[intake_round.pk])
    page = client.get(url).content.decode()
    assert f"Demo Staff excluded {world['other']} from the cohort: Duplicate" in page
    assert "cohort_override_create" not in page.split('id="audit"')[1]
    assert "{&#x27;" not in page
    who = client.get(url, {"who": "demo staff"}).context["page"]
    assert {e.action for e in who} == {"cohort_override_create"}
    what = client.get(url, {"what": "match_run_create"}).context["page"]
    assert [e.action for e in what] == ["match_run_create"]
    today = timezone.localdate()
    assert client.get(url, {"since": today.isoformat()}).context["page"].paginator.count == (
        AuditEntry.objects.count() - _outside_round())
    assert client.get(url, {"until": (today - timedelta(days=1)).isoformat()}).context[
        "page"].paginator.count == 0
    bad = client.get(url, {"since": today.isoformat(), "until": "2000-01-01"})
    assert "The end of the period comes before its start." in bad.content.decode()


def _outside_round():
    # Entries about records outside the round: the coordinators', users', universities' rows.
    return AuditEntry.objects.exclude(target_type__model__in=[
        "intakeround", "roundmilestone", "roundtrack", "nomination", "matchrun",
        "cohort"]).count()


def test_filters_are_kept_across_pages_and_in_the_export_link(client, world, staff):
    intake_round = world["round"]
    for _ in range(55):
        audit_entry_create(actor=staff, action="test_note", target=intake_round)
    client.force_login(staff)
    url = reverse("staff_rounds:audit_log", args=[intake_round.pk])
    first = client.get(url, {"what": "test_note", "who": "Demo"})
    assert len(first.context["page"].object_list) == 50
    html = first.content.decode()
    assert "who=Demo&amp;what=test_note&amp;page=2" in html
    export = reverse("staff_rounds:audit_export", args=[intake_round.pk])
    assert f"{export}?who=Demo&amp;what=test_note" in html


def test_export_is_a_csv_of_the_filtered_sentences(client, world, staff):
    intake_round = world["round"]
    services.override_create(actor=staff, cohort=world["cohort"], nomination=world["other"],
                             kind="exclude", reason="=HYPERLINK(1)")
    client.force_login(staff)
    response = client.get(reverse("staff_rounds:audit_export", args=[intake_round.pk]),
                          {"what": "cohort_override_create"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["When", "Who", "What", "Sentence", "Record", "Changes"]
    (row,) = rows[1:]
    assert row[1] == "Demo Staff" and row[2] == "Override"
    assert row[3] == f"Demo Staff excluded {world['other']} from the cohort: =HYPERLINK(1)"
    assert "kind: Exclude from the cohort" in row[5]


@pytest.mark.parametrize("who", ["coordinator_user", "mentor_user"])
@pytest.mark.parametrize("name", ["staff_rounds:audit_log", "staff_rounds:audit_export"])
def test_staff_only(client, request, who, name):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse(name, args=[1])).status_code == 403


@pytest.mark.parametrize("name", ["staff_rounds:audit_log", "staff_rounds:audit_export"])
def test_anonymous_is_sent_to_sign_in(client, name):
    response = client.get(reverse(name, args=[1]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def _grow(intake_round, staff, tracks, count):
    nominations = [consented_nomination(intake_round=intake_round) for _ in range(count)]
    for i, nomination in enumerate(nominations):
        other = StaffFactory(full_name=f"Staff {i}")
        audit_entry_create(actor=other, action="cohort_override_create", target=nomination,
                           before={"track": tracks[0].pk},
                           after={"kind": "move", "track": tracks[i % 2].pk, "reason": "r"})
        model_update(instance=RoundTrack.objects.filter(intake_round=intake_round).first(),
                     data={"seats": 10 + i}, actor=staff)


def test_page_and_export_issue_a_bounded_number_of_queries(client, staff,
                                                          django_assert_max_num_queries):
    intake_round = open_round_with_tracks(n_tracks=2)
    tracks = [rt.track for rt in RoundTrack.objects.filter(intake_round=intake_round)]
    client.force_login(staff)
    page = reverse("staff_rounds:audit_log", args=[intake_round.pk])
    export = reverse("staff_rounds:audit_export", args=[intake_round.pk])
    for size in (5, 30):  # 5, then 35 candidates with their entries: the same bound
        _grow(intake_round, staff, tracks, size)
        with django_assert_max_num_queries(12):
            response = client.get(page)
            assert response.status_code == 200
        assert f"Staff {size - 1} moved" in response.content.decode()
        with django_assert_max_num_queries(12):
            response = client.get(export)
            body = b"".join(response.streaming_content)
        assert body.count(b"moved") >= size


def test_nomination_values_read_as_names_not_snapshots(world):
    lines = {line.entry.action: line for line in _lines(world["round"])
             if line.entry.target_id == str(world["dewi"].pk)}
    document = lines["document_upload"].changes[0]
    assert document.label == "document" and ".pdf" in document.after
    assert "sha256" not in document.after and "{" not in document.after
    preferences = lines["nomination_set_preferences"].changes[0]
    assert preferences.after == ", ".join(str(t) for t in world["tracks"])
    assert lines["nomination_set_courses"].changes[0].after == "Reaction engineering (A)"
    # An empty list before and after (no reasons) changed nothing worth a line.
    assert "reasons" not in [c.label for c in lines["nomination_eligibility"].changes]


def test_page_in_the_staff_members_language(client, world, staff):
    services.override_create(actor=staff, cohort=world["cohort"], nomination=world["other"],
                             kind="exclude", reason="Duplicate")
    staff.language = "ko"
    staff.save(update_fields=["language"])
    client.force_login(staff)
    page = client.get(reverse("staff_rounds:audit_log", args=[world["round"].pk]))
    html = page.content.decode()
    assert '<html lang="ko">' in html
    with translation.override("ko"):
        excluded = str(CohortOverride.Kind.EXCLUDE.label)
        download = gettext("Download as CSV")
    assert excluded != "Exclude from the cohort" and excluded in html
    assert download in html


def test_a_track_removed_from_the_round_stays_in_its_log(world, staff):
    intake_round = world["round"]
    extra = RoundTrack.objects.filter(intake_round=intake_round).first()
    other_round = open_round_with_tracks(n_tracks=1)
    model_delete(instance=RoundTrack.objects.get(intake_round=other_round), actor=staff)
    model_delete(instance=extra, actor=staff)
    line = _line(intake_round, "roundtrack_delete")
    assert line.sentence.startswith("Demo Staff deleted the ")
    assert line.action.endswith("deleted")
