"""Each nomination's outcome as its university follows it: the selector, the coordinator's pages,
the API and the university's results email."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from candidates import selectors, services
from candidates.models import Cohort, CohortAdmission, Nomination, Offer, Placement
from candidates.selectors import OutcomeCode, outcomes
from ecocycle.models import OutboundEmail
from mentors.models import MentorAssignment
from programs.models import RoundMilestone, RoundTrack
from students import services as student_services
from students.models import AlumniOutcome, Enrolment
from tests.candidates.factories import (
    NominationFactory,
    complete_nomination,
    consented_nomination,
    offer_take_up,
    open_round_with_tracks,
    submitted_nomination,
)
from tests.candidates.test_apis import api_client
from tests.kernel.factories import StaffFactory
from tests.mentors.factories import MentorFactory
from tests.programs.factories import CoordinatorFactory, ProgramUniversityFactory

pytestmark = pytest.mark.django_db


def close_nominations(intake_round, *, days_ago=1):
    """Move the round's calendar so that its nominations closed `days_ago` days ago and it is in
    its matching phase."""
    now = timezone.now()
    dates = {
        RoundMilestone.Kind.NOMINATIONS_OPEN: now - timedelta(days=30),
        RoundMilestone.Kind.NOMINATIONS_CLOSE: now - timedelta(days=days_ago + 1),
        RoundMilestone.Kind.MATCHING: now - timedelta(days=days_ago),
        RoundMilestone.Kind.DECISIONS: now + timedelta(days=10),
        RoundMilestone.Kind.ENROLMENT: now + timedelta(days=60),
    }
    for kind, at in dates.items():
        RoundMilestone.objects.filter(intake_round=intake_round, kind=kind).update(at=at)


def decide(intake_round):
    """Close the round's nominations, match and approve its cohort."""
    close_nominations(intake_round)
    services.cohort_match_run(intake_round=intake_round, trigger="command")
    return services.cohort_approve(actor=None,
                                   cohort=Cohort.objects.get(intake_round=intake_round))


def _coordinator_in(intake_round, **kwargs):
    coordinator = CoordinatorFactory(**kwargs)
    ProgramUniversityFactory(program=intake_round.program, university=coordinator.university,
                             nomination_quota=20)
    return coordinator


def _enrol(admission, status=None):
    offer_take_up(admission)
    enrolment = student_services.enrolment_create(
        actor=None, admission=admission, semester="2026 Autumn",
        enrolled_on=timezone.localdate() - timedelta(days=30))
    if status:
        Enrolment.objects.filter(pk=enrolment.pk).update(status=status)
    return enrolment


@pytest.fixture
def world():
    """One university's nominations in every state: an open round, a matched round whose
    proposal is not yet an outcome, and a decided round whose admitted went on to their mentors
    and studies."""
    open_round = open_round_with_tracks(n_tracks=2)
    coordinator = _coordinator_in(open_round)
    mine = {"coordinator": coordinator, "university": coordinator.university}
    n = {}
    n["draft"] = complete_nomination(coordinator=coordinator, intake_round=open_round,
                                     documents=False)
    n["awaiting"] = submitted_nomination(coordinator=coordinator, intake_round=open_round)
    n["not_eligible"] = consented_nomination(coordinator=coordinator, intake_round=open_round,
                                             gpa="2.50")
    n["withdrawn"] = submitted_nomination(coordinator=coordinator, intake_round=open_round)
    services.nomination_withdraw(actor=coordinator.user, nomination=n["withdrawn"])
    matched = open_round_with_tracks(n_tracks=1)
    ProgramUniversityFactory(program=matched.program, university=coordinator.university)
    n["proposed"] = consented_nomination(coordinator=coordinator, intake_round=matched)
    close_nominations(matched)
    services.cohort_match_run(intake_round=matched, trigger="command")
    assert Placement.objects.filter(nomination=n["proposed"], track__isnull=False).exists()

    decided = open_round_with_tracks(n_tracks=2)
    ProgramUniversityFactory(program=decided.program, university=coordinator.university,
                             nomination_quota=20)
    RoundTrack.objects.filter(intake_round=decided).update(seats=6)
    people = [consented_nomination(coordinator=coordinator, intake_round=decided,
                                   gpa=f"{3.9 - i * 0.05:.2f}") for i in range(13)]
    n["never_consented"] = submitted_nomination(coordinator=coordinator, intake_round=decided)
    n["late_withdrawn"] = submitted_nomination(coordinator=coordinator, intake_round=decided)
    services.nomination_withdraw(actor=coordinator.user, nomination=n["late_withdrawn"])
    decide(decided)
    admissions = {a.nomination_id: a for a in CohortAdmission.objects.filter(
        nomination__in=people).select_related("cohort", "track")}
    (n["admitted"], n["mentored"], n["enrolled"], n["on_leave"], n["graduated"],
     n["left_studies"], n["offered"], n["offer_accepted"], n["offer_declined"],
     n["offer_lapsed"], n["no_show"], n["accepted_twice"]) = admitted = [
        p for p in people if p.pk in admissions]
    n["not_placed"] = next(p for p in people if p.pk not in admissions)
    # Admitted before offers existed: no offer.
    Offer.objects.filter(nomination=n["admitted"]).delete()
    offer = {p.pk: Offer.objects.get(nomination=p) for p in admitted[1:]}
    for key in ("mentored", "offer_accepted", "no_show"):
        services.offer_accept(offer=offer[n[key].pk])
    services.offer_decline(offer=offer[n["offer_declined"].pk], reason="visa")
    services.offer_no_show(actor=StaffFactory(), offer=offer[n["no_show"].pk],
                           reason="Did not arrive")
    Offer.objects.filter(pk=offer[n["offer_lapsed"].pk].pk).update(
        deadline=timezone.now() - timedelta(hours=1))
    services.offers_lapse()
    MentorAssignment.objects.create(nomination=n["mentored"], mentor=MentorFactory(),
                                    status=MentorAssignment.Status.ACCEPTED)
    MentorAssignment.objects.create(nomination=n["admitted"], mentor=MentorFactory(),
                                    status=MentorAssignment.Status.DECLINED)
    _enrol(admissions[n["enrolled"].pk])
    _enrol(admissions[n["on_leave"].pk], Enrolment.Status.ON_LEAVE)
    graduate = _enrol(admissions[n["graduated"].pk], Enrolment.Status.GRADUATED)
    AlumniOutcome.objects.create(enrolment=graduate, path=AlumniOutcome.Path.STAYED,
                                 as_of=date.today())
    _enrol(admissions[n["left_studies"].pk], Enrolment.Status.WITHDRAWN)
    # The nightly recheck runs on every submitted nomination, also on those admitted long ago.
    Nomination.objects.filter(pk=n["admitted"].pk).update(is_eligible=False)
    mine.update(open_round=open_round, decided=decided, n=n,
                tracks={p.pk: admissions[p.pk].track for p in admitted})
    return mine


# (nomination, code, label, detail: "track" for the admitted track, or words it contains,
#  reasons: words the first contains)
OUTCOMES = [
    ("draft", "draft", "Draft", "Not submitted", None),
    ("awaiting", "awaiting_consent", "Awaiting consent", "not yet confirmed consent", None),
    ("not_eligible", "not_eligible", "Not eligible", "", "The GPA is 2.50"),
    ("withdrawn", "withdrawn", "Withdrawn", "The nomination was withdrawn", None),
    # A proposal is not an outcome.
    ("proposed", "submitted", "Submitted", "awaiting the cohort decision", None),
    ("never_consented", "awaiting_consent", "Consent never given", "never confirmed", None),
    ("late_withdrawn", "withdrawn", "Withdrawn", "The nomination was withdrawn", None),
    ("not_placed", "not_placed", "Not placed", "", "full, and ranked this candidate below"),
    ("admitted", "admitted", "Admitted", "track", None),
    ("mentored", "mentor_accepted", "Mentor accepted", "track", None),
    ("enrolled", "enrolled", "Enrolled", "track", None),
    ("on_leave", "on_leave", "On leave", "track", None),
    ("graduated", "graduated", "Graduated", "Stayed in Korea", None),
    ("left_studies", "withdrawn", "Withdrawn", "Withdrew from the studies", None),
    ("offered", "offered", "Offered a place", "answer due by", None),
    ("offer_accepted", "offer_accepted", "Offer accepted", "track", None),
    ("offer_declined", "offer_declined", "Offer declined", "(reason: Visa)", None),
    ("offer_lapsed", "offer_lapsed", "Offer lapsed", "track", None),
    ("no_show", "no_show", "Did not take up the place", "track", None),
]
# The outcomes that name the track of the candidate's offer.
OFFER_TRACK = {"offered", "offer_declined"}


@pytest.mark.parametrize(("key", "code", "label", "detail", "reason"), OUTCOMES,
                         ids=[row[0] for row in OUTCOMES])
def test_each_nomination_has_the_outcome_of_the_furthest_step(world, key, code, label, detail,
                                                               reason):
    nomination = Nomination.objects.get(pk=world["n"][key].pk)
    outcome = selectors.nomination_outcomes([nomination])[nomination.pk]
    assert nomination.outcome is outcome
    assert (outcome.code, outcome.label) == (code, label)
    if detail == "track" or code == "graduated" or key in OFFER_TRACK:
        assert outcome.track == world["tracks"][nomination.pk]
        assert outcome.track_id == outcome.track.pk
    else:
        assert outcome.track is None
    assert outcome.detail == str(outcome.track) if detail == "track" else detail in outcome.detail
    if reason:
        assert reason in outcome.reasons[0]
    else:
        assert outcome.reasons == []
    assert outcome.decided == (code in selectors.DECIDED_OUTCOMES or key == "left_studies")
    # The list's filter names the same nominations as the computed outcome.
    coordinator = world["coordinator"]
    filtered = selectors.nomination_list_for_user(coordinator.user, outcome=code)
    assert nomination in filtered


def test_the_filter_and_the_computed_outcomes_agree_for_every_code(world):
    user = world["coordinator"].user
    every = list(selectors.nomination_list_for_user(user))
    computed = selectors.nomination_outcomes(every)
    for code in OutcomeCode.values:
        filtered = {n.pk for n in selectors.nomination_list_for_user(user, outcome=code)}
        assert filtered == {pk for pk, outcome in computed.items() if outcome.code == code}, code


def test_outcomes_of_a_list_take_three_queries_whatever_its_size(world,
                                                                 django_assert_num_queries):
    every = list(Nomination.objects.all())
    assert len(every) > 10
    with django_assert_num_queries(3):
        outcomes_all = selectors.nomination_outcomes(every)
    with django_assert_num_queries(3):
        selectors.nomination_outcomes([world["n"]["not_placed"], world["n"]["admitted"]])
    with django_assert_num_queries(1):
        selectors.nomination_outcomes([world["n"]["draft"]])
    assert len(outcomes_all) == len(every)


def test_the_strings_of_other_apps_are_still_theirs():
    # candidates may not import mentors or students: their stored values are spelt out there.
    assert outcomes.MENTOR_ACCEPTED == MentorAssignment.Status.ACCEPTED
    assert {outcomes.ENROLMENT_ENROLLED, outcomes.ENROLMENT_ON_LEAVE,
            outcomes.ENROLMENT_WITHDRAWN, outcomes.ENROLMENT_GRADUATED} == set(
        Enrolment.Status.values)
    assert set(outcomes.ALUMNI_PATHS) == set(AlumniOutcome.Path.values)


def test_a_coordinator_never_sees_another_universitys_outcomes(world):
    theirs = [consented_nomination(intake_round=world["open_round"], family_name="Theirs"),
              NominationFactory(intake_round=world["decided"], family_name="Theirs",
                                status="submitted", submitted_at=timezone.now())]
    user = world["coordinator"].user
    for code in OutcomeCode.values:
        assert not set(theirs) & set(selectors.nomination_list_for_user(user, outcome=code))
    assert theirs[0] in selectors.nomination_list_for_user(theirs[0].created_by)


# --- the coordinator's pages ------------------------------------------------------------------

def test_list_shows_each_outcome_and_filters_by_it(client, world):
    client.force_login(world["coordinator"].user)
    url = reverse("candidates:coordinator_home")
    html = client.get(url).content.decode()
    table = html[html.index('id="nominations"'):html.index("</table>", html.index(
        'id="nominations"'))]
    for label in ("Draft", "Awaiting consent", "Not eligible", "Consent never given",
                  "Not placed", "Admitted", "Mentor accepted", "Enrolled", "On leave",
                  "Graduated", "Withdrawn", "Stayed in Korea", "Withdrew from the studies"):
        assert f">{label}<" in table or label in table, label
    assert escape(str(world["tracks"][world["n"]["admitted"].pk])) in table
    response = client.get(url, {"outcome": "not_placed"})
    shown = list(response.context["page"])
    assert shown == [world["n"]["not_placed"]]
    assert 'value="not_placed" selected' in response.content.decode()
    everything = client.get(url, {"outcome": "nonsense"}).context["page"].paginator.count
    assert everything == Nomination.objects.count()


def test_list_hides_other_universities_whatever_the_filter(client, world):
    theirs = consented_nomination(intake_round=world["open_round"], family_name="Theirs")
    client.force_login(world["coordinator"].user)
    for code in ["", *OutcomeCode.values]:
        page = client.get(reverse("candidates:coordinator_home"), {"outcome": code})
        assert theirs not in list(page.context["page"]) and "THEIRS" not in page.content.decode()
    detail = reverse("candidates:nomination_detail", args=[theirs.pk])
    assert client.get(detail).status_code == 404


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("candidates:coordinator_home"))
    assert response.status_code == 200
    return len(queries)


def test_list_queries_do_not_grow_with_the_nominations(client, world):
    client.force_login(world["coordinator"].user)
    _list_queries(client)  # caches warmed (content types, the session)
    small = _list_queries(client)
    for _ in range(30):
        NominationFactory(intake_round=world["open_round"], university=world["university"])
    # The first page shows every kind of outcome at both sizes.
    Nomination.objects.filter(pk__in=[n.pk for n in world["n"].values()]).update(
        updated_at=timezone.now() + timedelta(minutes=1))
    assert Nomination.objects.count() >= 40
    assert _list_queries(client) == small <= 16


def test_detail_after_the_deadline_is_read_only(client, world):
    coordinator = world["coordinator"]
    nomination = world["n"]["awaiting"]
    close_nominations(world["open_round"])
    client.force_login(coordinator.user)
    page = client.get(reverse("candidates:nomination_detail", args=[nomination.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'id="read-only"' in html
    assert "Nominations for this round closed on" in html
    assert "You can still edit it until the deadline" not in html
    assert reverse("candidates:nomination_withdraw", args=[nomination.pk]) not in html
    assert reverse("candidates:nomination_consent_resend", args=[nomination.pk]) not in html
    for section in ("person", "studies", "language", "preferences", "documents"):
        edit = reverse("candidates:nomination_edit", args=[nomination.pk, section])
        assert edit not in html
        detail = reverse("candidates:nomination_detail", args=[nomination.pk])
        assert client.get(edit)["Location"] == detail
        assert client.post(edit, {"family_name": "Changed"})["Location"] == detail
    nomination.refresh_from_db()
    assert nomination.family_name != "Changed"
    draft = world["n"]["draft"]
    html = client.get(reverse("candidates:nomination_detail", args=[draft.pk])).content.decode()
    assert 'id="submit-nomination"' not in html and 'id="read-only"' in html
    response = client.get(reverse("candidates:nomination_new", args=[world["open_round"].pk]))
    assert response["Location"] == reverse("candidates:coordinator_home")


def test_detail_of_a_decided_nominee_shows_the_outcome_read_only(client, world):
    nomination = world["n"]["graduated"]
    client.force_login(world["coordinator"].user)
    html = client.get(reverse("candidates:nomination_detail", args=[nomination.pk])
                      ).content.decode()
    assert "Graduated" in html and "Stayed in Korea" in html
    assert "The round has decided about this nomination" in html
    assert "You can still edit it until the deadline" not in html
    assert reverse("candidates:nomination_withdraw", args=[nomination.pk]) not in html
    not_placed = world["n"]["not_placed"]
    html = client.get(reverse("candidates:nomination_detail", args=[not_placed.pk])
                      ).content.decode()
    assert "Not placed" in html and "full, and ranked this candidate below" in html


def test_detail_while_open_still_offers_editing(client, world):
    nomination = world["n"]["awaiting"]
    client.force_login(world["coordinator"].user)
    html = client.get(reverse("candidates:nomination_detail", args=[nomination.pk])
                      ).content.decode()
    assert "You can still edit it until the deadline" in html and 'id="read-only"' not in html
    assert reverse("candidates:nomination_withdraw", args=[nomination.pk]) in html
    assert reverse("candidates:nomination_consent_resend", args=[nomination.pk]) in html
    assert reverse("candidates:nomination_edit", args=[nomination.pk, "person"]) in html
    html = client.get(reverse("candidates:nomination_detail",
                              args=[world["n"]["not_eligible"].pk])).content.decode()
    assert "Not eligible" in html and "The GPA is 2.50" in html
    # Consent given: no new link to send.
    assert "consent/resend" not in html


# --- the API ----------------------------------------------------------------------------------

def test_api_gives_each_nominations_outcome_and_filters_by_it(world, django_assert_max_num_queries):
    api = api_client(world["coordinator"].user)
    url = reverse("api:nomination_list")
    with django_assert_max_num_queries(12):
        body = api.get(url).json()
    codes = {row["id"]: row["outcome"]["code"] for row in body["results"]}
    assert codes[world["n"]["mentored"].pk] == "mentor_accepted"
    assert {row["status"] for row in body["results"]} <= {"draft", "submitted", "withdrawn"}
    not_placed = api.get(url, {"outcome": "not_placed"}).json()
    assert [row["id"] for row in not_placed["results"]] == [world["n"]["not_placed"].pk]
    outcome = not_placed["results"][0]["outcome"]
    assert outcome["label"] == "Not placed" and outcome["track"] is None
    assert "full, and ranked this candidate below" in outcome["reasons"][0]
    assert api.get(url, {"outcome": "hired"}).status_code == 400
    admitted = world["n"]["admitted"]
    detail = api.get(reverse("api:nomination_detail", args=[admitted.pk])).json()
    assert detail["status"] == "submitted"
    assert detail["outcome"] == {
        "code": "admitted", "label": "Admitted", "reasons": [],
        "detail": str(world["tracks"][admitted.pk]),
        "track": world["tracks"][admitted.pk].pk, "offer_deadline": None}
    offered = world["n"]["offered"]
    outcome = api.get(reverse("api:nomination_detail", args=[offered.pk])).json()["outcome"]
    deadline = Offer.objects.get(nomination=offered).deadline
    assert outcome["code"] == "offered"
    assert datetime.fromisoformat(outcome["offer_deadline"]) == deadline


def test_api_outcome_speaks_the_request_language(world):
    api = api_client(world["coordinator"].user)
    url = reverse("api:nomination_detail", args=[world["n"]["admitted"].pk])
    outcome = api.get(url, HTTP_ACCEPT_LANGUAGE="ko").json()["outcome"]
    assert outcome["code"] == "admitted" and outcome["label"] == "합격"


def test_api_outcome_filter_is_scoped(world):
    theirs = consented_nomination(intake_round=world["open_round"])
    api = api_client(world["coordinator"].user)
    for code in OutcomeCode.values:
        rows = api.get(reverse("api:nomination_list"), {"outcome": code}).json()["results"]
        assert theirs.pk not in {row["id"] for row in rows}


# --- the university's results email -------------------------------------------------------------

def test_results_email_lists_every_nominee_in_the_coordinators_language(
    django_capture_on_commit_callbacks,
):
    intake_round = open_round_with_tracks(n_tracks=1)
    RoundTrack.objects.filter(intake_round=intake_round).update(seats=1)
    coordinator = _coordinator_in(intake_round, user__language="ko")
    n = {
        "admitted": consented_nomination(coordinator=coordinator, intake_round=intake_round,
                                         gpa="3.90"),
        "not_placed": consented_nomination(coordinator=coordinator, intake_round=intake_round,
                                           gpa="3.20"),
        "not_eligible": consented_nomination(coordinator=coordinator, intake_round=intake_round,
                                             gpa="2.10"),
        "no_consent": submitted_nomination(coordinator=coordinator, intake_round=intake_round),
        "withdrawn": submitted_nomination(coordinator=coordinator, intake_round=intake_round),
    }
    services.nomination_withdraw(actor=coordinator.user, nomination=n["withdrawn"])
    never = complete_nomination(coordinator=coordinator, intake_round=intake_round,
                                family_name="Neversubmitted", documents=False)
    with django_capture_on_commit_callbacks(execute=True):  # the emails' job runs on commit
        decide(intake_round)
    email = OutboundEmail.objects.get(topic="cohort_university_summary",
                                      to=coordinator.user.email)
    assert email.language == "ko"
    lines = email.body_text.splitlines()
    results = dict(selectors.round_results_by_university(intake_round))[coordinator.university]
    assert {row["nomination"] for row in results} == set(n.values())
    assert never.display_name not in email.body_text
    track = intake_round.tracks.get()
    with translation.override("ko"):
        track_label = str(track)
        for key, nomination in n.items():
            outcome = next(r["outcome"] for r in results if r["nomination"] == nomination)
            assert any(line.startswith(f"  - {nomination.display_name}: ") for line in lines)
            if key not in ("admitted", "not_placed"):
                assert outcome.label.lower() in email.body_text, key
            for reason in outcome.reasons:
                assert f"      {reason}" in lines, key
            assert outcome.label.lower() in email.body_html or key in ("admitted", "not_placed")
    assert track_label in email.body_text and "석사" in track_label
    assert "평점" in email.body_text  # the GPA reason, in Korean
    assert "정원이 찼으며" in email.body_text  # the engine's reason, in Korean


def test_results_email_goes_to_each_university_of_the_round_once(
    django_capture_on_commit_callbacks,
):
    intake_round = open_round_with_tracks(n_tracks=1)
    first = _coordinator_in(intake_round)
    second = _coordinator_in(intake_round)
    consented_nomination(coordinator=first, intake_round=intake_round)
    submitted_nomination(coordinator=second, intake_round=intake_round)  # never consents
    with django_capture_on_commit_callbacks(execute=True):  # the emails' job runs on commit
        decide(intake_round)
    summaries = OutboundEmail.objects.filter(topic="cohort_university_summary")
    assert sorted(summaries.values_list("to", flat=True)) == sorted(
        [first.user.email, second.user.email])
    assert "consent never given" in summaries.get(to=second.user.email).body_text
