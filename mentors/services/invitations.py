"""Mentor invitations: the emailed link, the mentor's answer, reminders, expiry, staff's changes.

The link is signed, expires, and carries a fingerprint of the assignment's state (status,
invitation time, mentor), so it dies when the assignment is answered, withdrawn or re-sent.
Opening it changes nothing; answering is a POST that goes through `invitation_answer`.

Lock order, everywhere: the mentor's row first, then the assignment's. Accepting takes the
mentor's row lock so that two accepts at the same moment cannot exceed the mentor's capacity.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from candidates.models import Nomination, Offer
from candidates.selectors import coordinator_list_for_university, taken_up_nominations
from ecocycle.exceptions import DomainError
from ecocycle.links import DeadLinkText, LinkCheck, LinkKind, LinkState, link_check, link_url
from ecocycle.mail import (
    EmailDraft,
    email_draft,
    email_placeholder,
    email_queue,
    email_queue_many,
)
from ecocycle.models import AuditEntry, OutboundEmail, User
from ecocycle.services import audit_entry_build, audit_entry_create

from .. import fit as mentor_fit
from ..models import Mentor, MentorAssignment

MENTOR_LINK_LABEL = "mentor (invitation link)"
Status = MentorAssignment.Status
# Why the nightly job ends a mentorship whose candidate gave their place up (kept in the audit).
PLACE_GIVEN_UP = ("The candidate no longer holds an accepted place (withdrew, declined or did "
                  "not come).")


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _link_days() -> int:
    return settings.ECOCYCLE_MENTOR_LINK_DAYS


def _with_summary(qs: QuerySet[MentorAssignment]) -> QuerySet[MentorAssignment]:
    """Everything an invitation email or page shows, in one query."""
    return qs.select_related(
        "mentor", "nomination__university", "nomination__intake_round__program",
        "nomination__admission__track",
    )


# --- the link ----------------------------------------------------------------------------------

def _invitation_state(assignment: MentorAssignment) -> tuple:
    # Links already emailed carry these values' fingerprint: keep them and their order.
    return (assignment.pk, assignment.status, assignment.invited_at, assignment.mentor_id)


MENTOR_INVITATION_LINK = LinkKind(
    purpose="mentor-invitation",
    url_name="mentors:invitation",
    lifetime_setting="ECOCYCLE_MENTOR_LINK_DAYS",
    fingerprint_parts=_invitation_state,
    load=lambda pk: _with_summary(MentorAssignment.objects.filter(pk=pk)).first(),
    awaiting=lambda assignment: assignment.status == Status.INVITED,
    answered=lambda assignment: assignment.status in (Status.ACCEPTED, Status.DECLINED),
    withdrawn=lambda assignment: assignment.status == Status.WITHDRAWN,
    deadline=lambda assignment: assignment.expires_at,
    language=lambda assignment: assignment.mentor.language,
    dead_text={
        "withdrawn": DeadLinkText(gettext_lazy("This invitation was withdrawn"), gettext_lazy(
            "KITECH staff have withdrawn this invitation, so there is nothing to answer. Thank "
            "you for your willingness; we will be in touch about other candidates.")),
        "expired": DeadLinkText(gettext_lazy("This invitation has expired"), gettext_lazy(
            "The time to answer this invitation has passed, and the candidate will be matched "
            "with another mentor. If you would still like to mentor, please contact KITECH "
            "staff.")),
        "stale": DeadLinkText(gettext_lazy("This link is no longer valid"), gettext_lazy(
            "The invitation has changed since this email was sent. Please use the link in the "
            "most recent email from ecocycle.")),
    },
)


def invitation_link(assignment: MentorAssignment) -> str:
    return link_url(MENTOR_INVITATION_LINK, assignment)


def invitation_check(token: str, *, now: datetime | None = None) -> LinkCheck[MentorAssignment]:
    """What a mentor's link points at, and whether it may still be answered.

    VALID only for an invitation still waiting for its answer and not past its expiry.
    """
    return link_check(MENTOR_INVITATION_LINK, token, now=now)


# --- inviting ----------------------------------------------------------------------------------

# Stand-ins for what the invitation templates print of each invitation: they are rendered once
# per language (and shape: with or without a native name and a track) for every invitation of a
# run, and each email's own values filled in (`_invitation_emails`).
_P = email_placeholder


class _TrackStandIn:
    def __str__(self) -> str:
        return _P("track")

    def get_campus_display(self) -> str:
        return _P("campus")


def _invitation_draft(template: str, language: str, *, native: bool, track: bool,
                      expires_at: datetime) -> EmailDraft:
    nomination = SimpleNamespace(
        display_name=_P("name"), native_name=_P("native") if native else "",
        research_interests=_P("interests"), intake_round=SimpleNamespace(name=_P("round")))
    return email_draft(template=template, language=language, context={
        "mentor": SimpleNamespace(full_name=_P("mentor")), "nomination": nomination,
        "university": SimpleNamespace(name=_P("university"),
                                      country=SimpleNamespace(name=_P("country"))),
        "program": SimpleNamespace(name=_P("program")),
        "track": _TrackStandIn() if track else None,
        "link": _P("link"), "expires_at": expires_at, "days": _link_days()})


def _invitation_emails(assignments: list[MentorAssignment], *,
                       reminder: bool = False) -> list[OutboundEmail]:
    """The invitation (or reminder) emails of `assignments` (`_with_summary`), unsaved, for
    `email_queue_many`: each template rendered once per language and shape, not once per email.
    The same emails as `_invitation_email` sends one by one (see the test that compares them),
    except that a subject prints a name as it is, not HTML-escaped."""
    template = "mentor_reminder" if reminder else "mentor_invitation"
    drafts, emails = {}, []
    for assignment in assignments:
        mentor, nomination = assignment.mentor, assignment.nomination
        admission = getattr(nomination, "admission", None)
        track = admission.track if admission else None
        language = mentor.language
        shape = (language, bool(nomination.native_name), track is not None,
                 assignment.expires_at)
        if shape not in drafts:
            drafts[shape] = _invitation_draft(template, language, native=shape[1],
                                              track=shape[2], expires_at=shape[3])
        draft = drafts[shape]
        interests = nomination.research_interests or "—"
        program = nomination.intake_round.program.name
        with translation.override(language):
            places = {"country": str(nomination.university.country.name),
                      "track": str(track) if track else "",
                      "campus": str(track.get_campus_display()) if track else ""}
        # The subject is one line (`email_draft` joins its words); HTML breaks the interests'
        # lines, as the template's linebreaksbr does.
        draft = replace(
            draft,
            subject=draft.subject.replace(_P("name"), " ".join(nomination.display_name.split()))
            .replace(_P("program"), " ".join(program.split())),
            html=draft.html.replace(_P("interests"), linebreaksbr(interests, autoescape=True)))
        # The link first: the others are typed by people, and are filled in after it.
        emails.append(draft.personalise(to=mentor.email, fill={
            "link": invitation_link(assignment), "mentor": mentor.full_name,
            "name": nomination.display_name, "native": nomination.native_name,
            "university": nomination.university.name, "program": program,
            "round": nomination.intake_round.name, "interests": interests, **places}))
    return emails


def _invitation_email(assignment: MentorAssignment, *, reminder: bool = False) -> None:
    """One invitation (or reminder) email, rendered for it alone."""
    mentor, nomination = assignment.mentor, assignment.nomination
    admission = getattr(nomination, "admission", None)
    email_queue(
        to=mentor.email, language=mentor.language,
        template="mentor_reminder" if reminder else "mentor_invitation",
        context={"mentor": mentor, "nomination": nomination, "university": nomination.university,
                 "program": nomination.intake_round.program,
                 "track": admission.track if admission else None,
                 "link": invitation_link(assignment), "expires_at": assignment.expires_at,
                 "days": _link_days()},
    )


def _invite_locked(assignments: list[MentorAssignment], *, actor: User | None,
                   now: datetime) -> int:
    """Turn PROPOSED assignments (already locked by the caller, loaded `_with_summary`) into
    emailed invitations, in bulk: one UPDATE, one INSERT of audit entries, one of emails."""
    invited = [a for a in assignments if a.status == Status.PROPOSED]
    if not invited:
        return 0
    expires = now + timedelta(days=_link_days())
    MentorAssignment.objects.filter(pk__in=[a.pk for a in invited],
                                    status=Status.PROPOSED).update(
        status=Status.INVITED, invited_at=now, expires_at=expires, reminded_at=None,
        updated_at=now)
    entries = []
    for assignment in invited:
        assignment.status, assignment.invited_at = Status.INVITED, now
        assignment.expires_at, assignment.reminded_at = expires, None
        entries.append(audit_entry_build(
            actor=actor, action="mentor_assignment_invite", target=assignment,
            before={"status": Status.PROPOSED},
            after={"status": Status.INVITED, "expires_at": expires.isoformat()}))
    AuditEntry.objects.bulk_create(entries)
    if len(invited) == 1:
        _invitation_email(invited[0])  # staff's proposal: its own send task, at once
    else:
        email_queue_many(_invitation_emails(invited))
    return len(entries)


@transaction.atomic
def invitations_send(*, intake_round_id: int | None = None, now: datetime | None = None) -> int:
    """Every proposal becomes an invitation: status, expiry, audit entry and email together.

    Safe to run twice or beside another copy: rows are locked and only PROPOSED ones change.
    """
    now = _now(now)
    qs = MentorAssignment.objects.filter(status=Status.PROPOSED)
    if intake_round_id is not None:
        qs = qs.filter(nomination__intake_round_id=intake_round_id)
    locked = list(qs.select_for_update(of=("self",)).order_by("id").values_list("pk", flat=True))
    assignments = list(_with_summary(MentorAssignment.objects.filter(pk__in=locked))
                       .order_by("id"))
    return _invite_locked(assignments, actor=None, now=now)


# --- the mentor's answer -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Door:
    """Who answers: the link (checked against its fingerprint) or a signed-in mentor."""

    actor: User | None
    fingerprint: str | None = None


def _refusal(assignment: MentorAssignment, now: datetime) -> str | None:
    if assignment.status == Status.ACCEPTED:
        return _("You have already accepted this invitation.")
    if assignment.status == Status.DECLINED:
        return _("You have already declined this invitation.")
    if assignment.status == Status.WITHDRAWN:
        return _("KITECH staff have withdrawn this invitation.")
    if assignment.status == Status.EXPIRED or (
        assignment.expires_at and assignment.expires_at <= now
    ):
        return _("This invitation has expired.")
    if assignment.status != Status.INVITED:
        return _("This invitation cannot be answered.")
    return None


def _answer(assignment_id: int, *, accept: bool, reason: str, door: _Door,
            now: datetime) -> MentorAssignment:
    mentor_id = (MentorAssignment.objects.filter(pk=assignment_id)
                 .values_list("mentor_id", flat=True).first())
    if mentor_id is None:
        raise DomainError(_("This invitation no longer exists."))
    mentor = Mentor.objects.select_for_update().get(pk=mentor_id)
    assignment = _with_summary(MentorAssignment.objects.select_for_update(of=("self",))
                               .filter(pk=assignment_id)).get()
    if (door.fingerprint is not None
            and MENTOR_INVITATION_LINK.fingerprint(assignment) != door.fingerprint):
        raise DomainError(_refusal(assignment, now) or _("This link is no longer valid."))
    refusal = _refusal(assignment, now)
    if refusal:
        raise DomainError(refusal)
    if accept:
        accepted = MentorAssignment.objects.filter(mentor=mentor,
                                                   status=Status.ACCEPTED).count()
        if accepted >= mentor.capacity:
            raise DomainError(ngettext(
                "You already mentor %(count)s candidate, the most you said you can take. "
                "Decline this invitation, or ask KITECH staff to raise your limit first.",
                "You already mentor %(count)s candidates, the most you said you can take. "
                "Decline this invitation, or ask KITECH staff to raise your limit first.",
                accepted,
            ) % {"count": accepted})
    before = {"status": assignment.status}
    assignment.status = Status.ACCEPTED if accept else Status.DECLINED
    assignment.responded_at = now
    assignment.decline_reason = "" if accept else (reason or "").strip()[:2000]
    assignment.save(update_fields=["status", "responded_at", "decline_reason", "updated_at"])
    audit_entry_create(
        actor=door.actor, actor_label=None if door.actor else MENTOR_LINK_LABEL,
        action="mentor_assignment_accept" if accept else "mentor_assignment_decline",
        target=assignment, before=before,
        after={"status": assignment.status, "reason": assignment.decline_reason})
    if accept:
        _introduce(assignment)
    return assignment


def _introduction_context(assignment: MentorAssignment) -> dict:
    mentor, nomination = assignment.mentor, assignment.nomination
    admission = getattr(nomination, "admission", None)
    return {"mentor": mentor, "nomination": nomination, "university": nomination.university,
            "program": nomination.intake_round.program,
            "track": admission.track if admission else None}


def _introduce(assignment: MentorAssignment) -> None:
    """On accept, the candidate and their university learn who the mentor is."""
    nomination, context = assignment.nomination, _introduction_context(assignment)
    email_queue(to=nomination.email, language=nomination.candidate_language,
                template="mentor_introduction_candidate", context=context)
    for coordinator in coordinator_list_for_university(nomination.university):
        email_queue(to=coordinator.user.email, language=coordinator.user.language,
                    template="mentor_introduction_university", context=context)


@transaction.atomic
def invitation_answer(*, token: str, accept: bool, reason: str = "",
                      now: datetime | None = None) -> MentorAssignment:
    """The mentor answers from the emailed link. Works once; the link dies with the answer."""
    now = _now(now)
    check = invitation_check(token, now=now)
    if check.state != LinkState.VALID:
        raise DomainError((check.object and _refusal(check.object, now))
                          or _("This link is no longer valid."))
    fingerprint = MENTOR_INVITATION_LINK.fingerprint(check.object)
    return _answer(check.object.pk, accept=accept, reason=reason,
                   door=_Door(actor=None, fingerprint=fingerprint), now=now)


@transaction.atomic
def assignment_answer(*, actor: User, assignment: MentorAssignment, accept: bool,
                      reason: str = "", now: datetime | None = None) -> MentorAssignment:
    """A signed-in mentor answers on their page; the same rules as the link."""
    if assignment.mentor.user_id != actor.pk:
        raise DomainError(_("This invitation is addressed to another mentor."))
    return _answer(assignment.pk, accept=accept, reason=reason, door=_Door(actor=actor),
                   now=_now(now))


# --- follow-up: expiry and reminders -----------------------------------------------------------

@transaction.atomic
def invitations_expire(*, now: datetime | None = None) -> int:
    """Invitations past their expiry become EXPIRED; their candidates go back into the next
    mentor matching, never to the same mentor. Safe to run twice."""
    now = _now(now)
    ids = list(MentorAssignment.objects.filter(status=Status.INVITED, expires_at__lte=now)
               .select_for_update().order_by("id").values_list("pk", flat=True))
    if not ids:
        return 0
    MentorAssignment.objects.filter(pk__in=ids, status=Status.INVITED).update(
        status=Status.EXPIRED, updated_at=now)
    expired = list(MentorAssignment.objects.filter(pk__in=ids).select_related(
        "mentor", "nomination"))
    AuditEntry.objects.bulk_create(audit_entry_build(
        actor=None, action="mentor_assignment_expire", target=assignment,
        before={"status": Status.INVITED}, after={"status": Status.EXPIRED},
    ) for assignment in expired)
    return len(expired)


@transaction.atomic
def assignments_end_for_places_given_up(*, now: datetime | None = None) -> int:
    """The nightly job: a live assignment (proposed, invited or mentoring) of a candidate who no
    longer holds an accepted place — they withdrew, or staff recorded a decline or a no-show —
    ends, and the mentor is told if they had been asked. Safe to run twice: a second run finds
    none. How many ended."""
    now = _now(now)
    ids = list(MentorAssignment.objects.filter(status__in=MentorAssignment.ACTIVE)
               .exclude(nomination__offers__status=Offer.Status.ACCEPTED)
               .select_for_update().order_by("id").values_list("pk", flat=True))
    if not ids:
        return 0
    ended = list(_with_summary(MentorAssignment.objects.filter(pk__in=ids)))
    MentorAssignment.objects.filter(pk__in=ids).update(
        status=Status.WITHDRAWN, withdrawn_at=now, withdraw_reason=PLACE_GIVEN_UP, updated_at=now)
    AuditEntry.objects.bulk_create(audit_entry_build(
        actor=None, action="mentor_assignment_withdraw", target=assignment,
        before={"status": assignment.status},
        after={"status": Status.WITHDRAWN, "reason": PLACE_GIVEN_UP},
    ) for assignment in ended)
    for assignment in ended:
        if assignment.status in (Status.INVITED, Status.ACCEPTED):
            email_queue(to=assignment.mentor.email, language=assignment.mentor.language,
                        template="mentor_withdrawn",
                        context={"mentor": assignment.mentor, "nomination": assignment.nomination,
                                 "program": assignment.nomination.intake_round.program,
                                 "accepted": assignment.status == Status.ACCEPTED,
                                 "place_given_up": True})
    return len(ended)


def invitation_reminders_send(*, now: datetime | None = None, force: bool = False) -> int:
    """Remind mentors who have not answered after ECOCYCLE_MENTOR_REMINDER_DAYS, once.

    `force` reminds every invitation still waiting, whatever its age and earlier reminders.
    Without it, a second run the same day sends nothing.
    """
    now = _now(now)
    due = MentorAssignment.objects.filter(status=Status.INVITED, expires_at__gt=now)
    if not force:
        due = due.filter(
            reminded_at__isnull=True,
            invited_at__lte=now - timedelta(days=settings.ECOCYCLE_MENTOR_REMINDER_DAYS))
    sent = 0
    for assignment in _with_summary(due).order_by("id"):
        with transaction.atomic():
            claim = MentorAssignment.objects.filter(pk=assignment.pk, status=Status.INVITED)
            if not force:
                claim = claim.filter(reminded_at__isnull=True)
            if not claim.update(reminded_at=now):
                continue
            audit_entry_create(actor=None, action="mentor_assignment_remind", target=assignment,
                               after={"reminded_at": now.isoformat()})
            _invitation_email(assignment, reminder=True)
            sent += 1
    return sent


def mentor_follow_up(*, now: datetime | None = None, force: bool = False) -> dict[str, int]:
    """The daily step: expire what is overdue, then remind what is due."""
    now = _now(now)
    expired = invitations_expire(now=now)
    return {"expired": expired, "reminded": invitation_reminders_send(now=now, force=force)}


# --- staff -------------------------------------------------------------------------------------

@transaction.atomic
def assignment_withdraw(*, actor: User, assignment: MentorAssignment, reason: str,
                        now: datetime | None = None) -> MentorAssignment:
    """Staff withdraw a proposal, an invitation or a mentorship; its link dies at once.

    The mentor is told if they were invited; the candidate and their university too if the
    mentor had accepted, since only then were they given the mentor's name and address.
    """
    now = _now(now)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError({"reason": _("Give the reason for withdrawing.")})
    Mentor.objects.select_for_update().filter(pk=assignment.mentor_id).first()
    locked = _with_summary(MentorAssignment.objects.select_for_update(of=("self",))
                           .filter(pk=assignment.pk)).get()
    if locked.status not in MentorAssignment.ACTIVE:
        raise DomainError(_("This assignment is already %(status)s.") % {
            "status": locked.get_status_display().lower()})
    before = {"status": locked.status}
    was_told = locked.status in (Status.INVITED, Status.ACCEPTED)
    locked.status, locked.withdrawn_at, locked.withdraw_reason = Status.WITHDRAWN, now, reason
    locked.save(update_fields=["status", "withdrawn_at", "withdraw_reason", "updated_at"])
    audit_entry_create(actor=actor, action="mentor_assignment_withdraw", target=locked,
                       before=before, after={"status": Status.WITHDRAWN, "reason": reason})
    if was_told:
        email_queue(to=locked.mentor.email, language=locked.mentor.language,
                    template="mentor_withdrawn",
                    context={"mentor": locked.mentor, "nomination": locked.nomination,
                             "program": locked.nomination.intake_round.program,
                             "accepted": before["status"] == Status.ACCEPTED})
    if before["status"] == Status.ACCEPTED:
        _introduction_withdrawn(locked)
    return locked


def _introduction_withdrawn(assignment: MentorAssignment) -> None:
    """Those `_introduce` gave the mentor's name and address learn that the mentorship ended.

    Only after an accept: before it, the candidate and university were never told who was asked.
    """
    nomination, context = assignment.nomination, _introduction_context(assignment)
    email_queue(to=nomination.email, language=nomination.candidate_language,
                template="mentor_withdrawn_candidate", context=context)
    for coordinator in coordinator_list_for_university(nomination.university):
        email_queue(to=coordinator.user.email, language=coordinator.user.language,
                    template="mentor_withdrawn_university", context=context)


@transaction.atomic
def assignment_propose(*, actor: User, nomination: Nomination, mentor: Mentor,
                       now: datetime | None = None) -> MentorAssignment:
    """Staff propose a mentor by hand; the invitation is emailed at once.

    The same rules as the nightly matching: an admitted candidate without a live mentor, an
    active mentor with a seat left who shares a language with the candidate and has not
    declined, let expire or been withdrawn from this candidate before.
    """
    now = _now(now)
    mentor = Mentor.objects.select_for_update().get(pk=mentor.pk)
    nomination = Nomination.objects.select_for_update().select_related(
        "intake_round__program", "university").get(pk=nomination.pk)
    if not taken_up_nominations(nomination.intake_round).filter(pk=nomination.pk).exists():
        raise DomainError(_("%(name)s has not accepted a place: only admitted candidates who "
                            "accepted their offer get a mentor.") % {"name": nomination})
    if nomination.mentor_assignments.filter(status__in=MentorAssignment.ACTIVE).exists():
        raise DomainError(_("%(name)s already has a mentor proposed, invited or accepted. "
                            "Withdraw that one first.") % {"name": nomination})
    if not mentor.is_active:
        raise DomainError({"mentor": _("%(mentor)s is paused.") % {"mentor": mentor}})
    earlier = nomination.mentor_assignments.filter(mentor=mentor).first()
    if earlier is not None:
        raise DomainError({"mentor": _(
            "%(mentor)s was already asked to mentor %(name)s (%(status)s) and is not asked "
            "again.") % {"mentor": mentor, "name": nomination,
                         "status": earlier.get_status_display().lower()}})
    taken = mentor.assignments.filter(status__in=MentorAssignment.ACTIVE).count()
    if taken >= mentor.capacity:
        raise DomainError({"mentor": _(
            "%(mentor)s has no seat left (%(taken)s of %(capacity)s taken).") % {
            "mentor": mentor, "taken": taken, "capacity": mentor.capacity}})
    languages = mentor_fit.mentee_languages(nomination.candidate_language,
                                            nomination.language_test)
    shared = sorted(languages & mentor.language_codes)
    if not shared:
        raise DomainError({"mentor": _(
            "%(mentor)s shares no language with %(name)s.") % {"mentor": mentor,
                                                              "name": nomination}})
    assignment = MentorAssignment(nomination=nomination, mentor=mentor, proposed_by=actor,
                                  status=Status.PROPOSED,
                                  fit_components={"languages": shared, "manual": True})
    assignment.full_clean()
    assignment.save()
    audit_entry_create(actor=actor, action="mentor_assignment_propose", target=assignment,
                       after={"status": Status.PROPOSED, "mentor": mentor.pk,
                              "nomination": nomination.pk})
    assignment = _with_summary(MentorAssignment.objects.filter(pk=assignment.pk)).get()
    _invite_locked([assignment], actor=actor, now=now)
    return assignment
