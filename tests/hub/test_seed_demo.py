import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from candidates.models import Cohort, Coordinator, Nomination, Offer, Placement
from ecocycle.models import AuditEntry, OutboundEmail, User
from hub.management.commands.seed_demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_TOTP_SECRET
from mentors.models import Mentor, MentorAssignment
from programs.models import (
    DegreeTrack,
    IntakeRound,
    PartnerCompany,
    Program,
    RoundTrack,
    University,
)
from students.models import AlumniOutcome, Enrolment
from tests.kernel.factories import totp_code
from tests.worlds import module_world, reads_world

pytestmark = pytest.mark.django_db

MODELS = [User, Coordinator, University, Program, DegreeTrack, IntakeRound, RoundTrack, AuditEntry,
          Mentor, MentorAssignment, Enrolment, AlumniOutcome, PartnerCompany]


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_builds_the_world_and_is_idempotent(capsys):
    call_command("seed_demo")
    first = _counts()
    assert 8 <= first["University"] <= 10
    assert 12 <= first["DegreeTrack"] <= 20
    assert first["Program"] == 2
    assert IntakeRound.objects.count() == 10
    phases = sorted(r.phase for r in IntakeRound.objects.all())
    assert phases == sorted([IntakeRound.Phase.DECISIONS] * 2 + [IntakeRound.Phase.ENROLMENT] * 4
                            + [IntakeRound.Phase.MATCHING] * 2
                            + [IntakeRound.Phase.NOMINATIONS] * 2)
    # The round being matched waits for staff: a proposal of its consented candidates.
    for intake_round in IntakeRound.objects.filter(name="2026 Winter"):
        cohort = Cohort.objects.get(intake_round=intake_round)
        assert cohort.status == Cohort.Status.PROPOSED and cohort.match_run_id
        assert intake_round.nominations.filter(consent_given_at__isnull=False).count() == 3
    assert {u.role for u in User.objects.all()} == {"staff", "coordinator", "mentor"}
    output = capsys.readouterr().out
    for email, *_ in DEMO_ACCOUNTS:
        assert email in output
        assert authenticate(email=email, password=DEMO_PASSWORD) is not None
    assert DEMO_TOTP_SECRET in output

    call_command("seed_demo")
    assert _counts() == first


_built, demo = module_world(lambda: call_command("seed_demo", stdout=StringIO()), name="demo")


@reads_world
def test_seed_demo_gives_two_coordinators_nominations_in_several_states(demo):
    for email in ["coordinator@itb.test", "coordinator@hust.test"]:
        coordinator = Coordinator.objects.get(user__email=email)
        nominations = Nomination.objects.filter(university=coordinator.university)
        assert set(nominations.values_list("status", flat=True)) == {
            "draft", "submitted", "withdrawn"}
        submitted = nominations.filter(status="submitted")
        assert submitted.filter(consent_given_at__isnull=False).exists()
        assert submitted.filter(consent_given_at__isnull=True).exists()
        assert all(n.documents.count() >= 4 for n in submitted)
    assert Nomination.objects.filter(is_eligible=False).exists()


def test_seed_demo_has_an_approved_cohort_with_mentors_invited(client, capsys):
    call_command("seed_demo")
    assert Cohort.objects.filter(status="approved").count() == 6
    assignments = MentorAssignment.objects.filter(nomination__intake_round__name="2026 Autumn")
    assert assignments.filter(status="accepted").count() == 2
    pending = assignments.filter(status="invited")
    assert pending.filter(mentor__email="mentor@kitech.test").exists()
    capsys.readouterr()
    mail.outbox.clear()
    call_command("send_mentor_reminders", "--force")
    assert f"Reminders sent: {pending.count()}" in capsys.readouterr().out
    sent = OutboundEmail.objects.filter(topic="mentor_reminder", status="sent")
    assert sent.count() == pending.count()
    # Printed (here: delivered to the test mailbox) by the command itself, no worker needed.
    reminders = [m for m in mail.outbox if (m.subject, m.to[0]) in set(
        sent.values_list("subject", "to"))]
    assert len(reminders) == pending.count()
    for message in reminders:
        path = re.search(r"https?://[^/\s]+(/mentoring/invitations/\S+/)", message.body).group(1)
        response = client.get(path)
        assert response.status_code == 200 and b'data-state="valid"' in response.content


@reads_world
def test_seed_demo_shows_the_whole_cycle(demo):
    assert set(Enrolment.objects.values_list("status", flat=True)) == {
        "enrolled", "graduated", "withdrawn"}
    paths = set(AlumniOutcome.objects.values_list("path", flat=True))
    assert paths == {"stayed_korea", "returned_home"}
    assert AlumniOutcome.objects.filter(employer_type="sme").exists()
    assert AlumniOutcome.objects.filter(cooperating_company__kind="offshore").exists()
    assert Mentor.objects.filter(alumnus__isnull=False, confirmed_at__isnull=False).exists()
    assert PartnerCompany.objects.filter(kind="onshore").exists()
    assert PartnerCompany.objects.filter(kind="offshore").exists()


@reads_world
def test_seed_demo_staff_signs_in_with_the_documented_authenticator_secret(demo, client):
    staff = User.objects.get(email="staff@kitech.test")
    response = client.post(reverse("account_login"),
                           {"login": staff.email, "password": DEMO_PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    client.post(reverse("mfa_authenticate"), {"code": totp_code(DEMO_TOTP_SECRET)})
    assert client.get("/staff/cycle/").status_code == 200
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    assert DEMO_TOTP_SECRET in readme


def test_seed_demo_has_offers_in_every_state_and_a_proposed_second_wave():
    """The decided round's offers as its candidates answered them, and the wave staff review;
    the README's demo candidate is the one still thinking it over."""
    call_command("seed_demo", stdout=StringIO())
    offers = Offer.objects.filter(cohort__intake_round__name="2026 Autumn")
    assert {"accepted", "declined", "lapsed", "pending"} <= set(
        offers.values_list("status", flat=True))
    assert offers.filter(status="pending", deadline__gt=timezone.now()).exists()
    proposed = Cohort.objects.filter(intake_round__name="2026 Autumn", wave_run__isnull=False)
    assert proposed.count() == 1
    cohort = proposed.get()
    new = Placement.objects.filter(match_run=cohort.wave_run, track__isnull=False).exclude(
        nomination__offers__status__in=["pending", "accepted"])
    assert new.exists()  # someone from the reserve list gets a seat given back
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    email = re.search(r"candidate_page_link (\S+@student\.example)", readme).group(1)
    assert Nomination.objects.get(email=email).offers.get().status == "pending"
    call_command("seed_demo", stdout=StringIO())  # twice: nothing changes
    assert Offer.objects.filter(cohort__intake_round__name="2026 Autumn").count() == offers.count()
