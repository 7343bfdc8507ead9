"""Invitations sent by the nightly job in bulk: a constant number of queries whatever their
number, and the same emails as rendering each invitation on its own."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from candidates.models import Nomination
from ecocycle.models import AuditEntry, OutboundEmail
from mentors.models import MentorAssignment
from mentors.services import invitations, invitations_send, mentor_match_run
from tests.mentors.factories import MentorFactory, admitted_round

pytestmark = pytest.mark.django_db
Status = MentorAssignment.Status


def _proposed(n, *, seats, languages=("ko",)):
    """A round whose `n` admitted candidates each have a PROPOSED mentor."""
    intake_round, nominations = admitted_round(n, seats=seats)
    for k in range(n):
        MentorFactory(capacity=1, language=languages[k % len(languages)],
                      languages_spoken="ko,en,id,vi")
    run = mentor_match_run(intake_round=intake_round, trigger="command")
    assert run.counts["proposed"] == n
    return intake_round, nominations


def _send_queries(intake_round) -> tuple[int, int]:
    ContentType.objects.clear_cache()  # as in a fresh worker: each run looks it up once
    with CaptureQueriesContext(connection) as queries:
        sent = invitations_send(intake_round_id=intake_round.pk, now=timezone.now())
    return sent, len(queries)


def test_invitations_cost_the_same_queries_for_3_and_for_9():
    small, _ = _proposed(3, seats=5, languages=("ko", "en"))
    sent_small, queries_small = _send_queries(small)
    large, _ = _proposed(9, seats=10, languages=("ko", "en", "id", "vi"))
    sent_large, queries_large = _send_queries(large)
    assert (sent_small, sent_large) == (3, 9)
    # Lock, load, update, audit entries, emails (and the transaction's own statements).
    assert queries_small == queries_large <= 8
    assert OutboundEmail.objects.filter(topic="mentor_invitation").count() == 12
    assert AuditEntry.objects.filter(action="mentor_assignment_invite").count() == 12
    assert MentorAssignment.objects.filter(status=Status.INVITED).count() == 12


@pytest.mark.parametrize("reminder", [False, True])
def test_bulk_emails_are_the_emails_rendered_one_by_one(reminder):
    intake_round, nominations = _proposed(4, seats=5, languages=("ko", "en", "id", "vi"))
    Nomination.objects.filter(pk=nominations[0].pk).update(
        given_names="Anne-Marie  O'Neil", native_name="안 마리",
        research_interests="Welding <robots> & sensors\nsecond line\r\nthird")
    Nomination.objects.filter(pk=nominations[1].pk).update(research_interests="")
    Nomination.objects.filter(pk=nominations[2].pk).update(native_name="Nguyễn Văn A")
    invitations_send(intake_round_id=intake_round.pk, now=timezone.now())
    assignments = list(invitations._with_summary(MentorAssignment.objects.filter(
        nomination__intake_round=intake_round)).order_by("id"))
    bulk = invitations._invitation_emails(assignments, reminder=reminder)
    OutboundEmail.objects.all().delete()
    for assignment in assignments:
        invitations._invitation_email(assignment, reminder=reminder)
    one_by_one = list(OutboundEmail.objects.order_by("id"))
    assert len(bulk) == len(one_by_one) == 4
    assert {email.language for email in bulk} == {"ko", "en", "id", "vi"}
    for made, rendered in zip(bulk, one_by_one, strict=True):
        # The links themselves carry the moment they were signed: compare them masked.
        fields = ("topic", "to", "language", "subject", "body_text", "body_html")
        assert [getattr(made, f) for f in fields] == [getattr(rendered, f) for f in fields]
        assert made.links and rendered.links
    assert "O'Neil" in bulk[0].subject and "&lt;robots&gt;" in bulk[0].body_html
