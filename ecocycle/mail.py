"""Email: rendered per language into the outbox inside the caller's transaction, sent after commit.

Links in emails are absolute, built from settings.SITE_URL, never from a request, so batch jobs
send the same emails as pages do.

A link that acts on its own (a `SecretLink`: consent, mentor, alumni and invitation links) is
not kept in the stored subject and bodies, which staff read in the admin: they hold "[[link:N]]"
instead, the links are stored encrypted beside them (`OutboundEmail.links`), put back at send
time, and forgotten once the email has gone.
"""

import html
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.utils import timezone, translation
from django.utils.html import escape

from .models import OutboundEmail

logger = logging.getLogger(__name__)

# A failed attempt is retried after 2^attempts minutes, never more than this apart, until the
# email is ECOCYCLE_MAIL_RETRY_DAYS old: a mail outage of days loses nothing.
MAX_RETRY_DELAY = timedelta(hours=6)
# How long a claimed email is left alone by others while one sender talks to the server.
SEND_LEASE = timedelta(minutes=10)


LINK_PLACEHOLDER = "[[link:{number}]]"
_PLACEHOLDER = re.compile(r"\[\[link:(\d+)\]\]")


class SecretLink(str):
    """An address that opens something by itself (a signed token): kept out of stored emails."""

    __slots__ = ()


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path


def _secret_links(value, depth: int = 0) -> Iterator[SecretLink]:
    if isinstance(value, SecretLink):
        yield value
    elif depth < 3 and isinstance(value, dict):
        for item in value.values():
            yield from _secret_links(item, depth + 1)
    elif depth < 3 and isinstance(value, (list, tuple)):
        for item in value:
            yield from _secret_links(item, depth + 1)


def _mask(texts: list[str], links: list[str]) -> list[str]:
    # Longest first: a link that begins another is not replaced inside it.
    for number, link in sorted(enumerate(links, 1), key=lambda pair: -len(pair[1])):
        placeholder = LINK_PLACEHOLDER.format(number=number)
        texts = [text.replace(link, placeholder).replace(html.escape(link), placeholder)
                 for text in texts]
    return texts


def _unmask(text: str, links: list[str], *, escape: bool = False) -> str:
    def link(match: re.Match) -> str:
        number = int(match.group(1))
        if not 1 <= number <= len(links):
            return match.group(0)
        return html.escape(links[number - 1]) if escape else links[number - 1]
    return _PLACEHOLDER.sub(link, text) if links else text


def reply_to() -> list[str]:
    """Where answers to any email of ours go: the sender is a no-reply address."""
    return [settings.ECOCYCLE_REPLY_TO]


def _render(name: str, part: str, language: str, context: dict) -> str:
    template = select_template([f"email/{name}/{language}/{part}", f"email/{name}/{part}"])
    return template.render(context)


def _render_email(template: str, language: str, context: dict) -> tuple[str, str, str]:
    """Subject (on one line), text and HTML (empty without a body.html) in `language`."""
    with translation.override(language):
        subject = " ".join(_render(template, "subject.txt", language, context).split())
        text = _render(template, "body.txt", language, context)
        try:
            html_body = _render(template, "body.html", language, context)
        except TemplateDoesNotExist:
            html_body = ""
    return subject, text, html_body


def email_queue(
    *, to: str, template: str, context: dict, language: str, topic: str = ""
) -> OutboundEmail:
    """Render `templates/email/<template>/` in `language` and put it in the outbox.

    Call inside the transaction of the change that causes the email: if that rolls back, no
    email exists. Sending is enqueued on commit; if the broker is down, the periodic flush sends it.
    """
    context = {"site_url": settings.SITE_URL, **context}
    subject, text, html_body = _render_email(template, language, context)
    links = list(dict.fromkeys(str(link) for link in _secret_links(context)))
    subject, text, html_body = _mask([subject, text, html_body], links)
    email = OutboundEmail.objects.create(
        topic=topic or template, to=to, language=language,
        subject=(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject)[:300],
        body_text=text, body_html=html_body, links=json.dumps(links) if links else None,
    )
    transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def email_queue_rendered(
    *, to: str, subject: str, body_text: str, body_html: str = "", language: str, topic: str,
    secrets: list[str] = (),
) -> OutboundEmail:
    """Put an email rendered elsewhere (allauth's sign-in codes and password resets) in the
    outbox, subject prefix included; sent on commit like `email_queue`'s. `secrets` (a reset
    link, a sign-in code) are masked in the stored text like a SecretLink."""
    links = list(dict.fromkeys(str(secret) for secret in secrets if secret))
    subject, body_text, body_html = _mask([subject, body_text, body_html], links)
    email = OutboundEmail.objects.create(
        topic=topic[:OutboundEmail._meta.get_field("topic").max_length], to=to,
        language=language, subject=subject[:300], body_text=body_text, body_html=body_html,
        links=json.dumps(links) if links else None,
    )
    transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def email_placeholder(name: str) -> str:
    """A stand-in for a per-person value in a context rendered once for many people
    (`email_draft`): printed as it is (no filter), then filled in by `EmailDraft.personalise`."""
    return f"@@ecocycle-{name}@@"


@dataclass(frozen=True)
class EmailDraft:
    """One email rendered once in one language, for every person whose values fill its
    placeholders."""

    topic: str
    language: str
    subject: str
    text: str
    html: str

    def personalise(self, *, to: str, fill: dict[str, str]) -> OutboundEmail:
        """The outbox row (not saved) for one person: placeholders filled in, escaped in HTML;
        a SecretLink among the values is masked as `email_queue` masks it."""
        subject, text, html = self.subject, self.text, self.html
        for name, value in fill.items():
            token = email_placeholder(name)
            subject, text = subject.replace(token, value), text.replace(token, value)
            html = html.replace(token, escape(value))
        links = list(dict.fromkeys(str(v) for v in fill.values() if isinstance(v, SecretLink)))
        subject, text, html = _mask([subject, text, html], links)
        return OutboundEmail(topic=self.topic, to=to, language=self.language,
                             subject=subject[:300], body_text=text, body_html=html,
                             links=json.dumps(links) if links else None)


def email_draft(*, template: str, context: dict, language: str, topic: str = "") -> EmailDraft:
    """Render `templates/email/<template>/` once in `language`, for `email_queue_many`: the
    per-person values are `email_placeholder`s in `context`."""
    subject, text, html = _render_email(template, language,
                                        {"site_url": settings.SITE_URL, **context})
    return EmailDraft(topic=topic or template, language=language,
                      subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, text=text,
                      html=html)


def email_queue_many(emails: list[OutboundEmail]) -> list[OutboundEmail]:
    """Put a batch of emails (`EmailDraft.personalise`) in the outbox with one insert.

    Call inside the transaction of the change that causes them, as `email_queue`. On commit one
    flush of the outbox is queued per batch (not one task per email: a batch of thousands would
    make thousands of broker messages); the periodic flush sends whatever it leaves.
    """
    created = OutboundEmail.objects.bulk_create(emails)
    if created:
        transaction.on_commit(_enqueue_flush)
    return created


def _enqueue_flush() -> None:
    # In here: ecocycle.tasks imports this module.
    from .tasks import flush_outbound_email  # noqa: PLC0415

    try:
        flush_outbound_email.delay()
    except Exception:
        logger.warning("Could not enqueue the outbox flush; the periodic flush sends the emails.",
                       exc_info=True)


def _enqueue(email_id: int) -> None:
    # In here: ecocycle.tasks imports this module.
    from .tasks import send_outbound_email  # noqa: PLC0415

    try:
        send_outbound_email.delay(email_id)
    except Exception:
        logger.warning("Could not enqueue email %s; the outbox flush will send it.", email_id,
                       exc_info=True)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: doubling, capped."""
    return min(timedelta(minutes=2 ** min(attempts, 20)), MAX_RETRY_DELAY)


def _claim(email_id: int, *, retry_failed: bool) -> bool:
    now = timezone.now()
    claimable = Q(status=OutboundEmail.Status.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    if retry_failed:
        claimable |= Q(status=OutboundEmail.Status.FAILED)
    return bool(
        OutboundEmail.objects.filter(claimable, pk=email_id).update(
            status=OutboundEmail.Status.PENDING, next_attempt_at=now + SEND_LEASE,
            attempts=F("attempts") + 1)
    )


def _record_failure(email: OutboundEmail, error: Exception, *, retry_failed: bool) -> None:
    now = timezone.now()
    email.last_error = f"{error.__class__.__name__}: {error}"[:2000]
    email.next_attempt_at = now + retry_delay(email.attempts)
    give_up_at = email.created_at + timedelta(days=settings.ECOCYCLE_MAIL_RETRY_DAYS)
    # A staff retry of a given-up email that fails again stays given up.
    if retry_failed or now >= give_up_at:
        email.status = OutboundEmail.Status.FAILED
    email.save(update_fields=["last_error", "status", "next_attempt_at"])
    logger.warning("Email %s not sent (attempt %s): %s", email.pk, email.attempts, error)


def outbound_email_rendered(email: OutboundEmail) -> tuple[str, str, str]:
    """Subject, text and HTML as they are sent: with the links put back while it is unsent."""
    links = json.loads(email.links) if email.links else []
    return (_unmask(email.subject, links), _unmask(email.body_text, links),
            _unmask(email.body_html, links, escape=True))


def outbound_email_send(*, email_id: int, retry_failed: bool = False) -> bool:
    """Send one pending email that is due. Returns True when it went out now.

    The row is claimed with a lease by one conditional UPDATE, so a task and the flush never send
    it twice, and no transaction stays open while the mail server is talked to. A failure is
    retried later with capped backoff (`retry_delay`); the email is given up (`failed`) only when
    an attempt fails after it is ECOCYCLE_MAIL_RETRY_DAYS old. `retry_failed` (staff's "send
    now") also sends a given-up email.
    """
    if not _claim(email_id, retry_failed=retry_failed):
        return False
    email = OutboundEmail.objects.get(pk=email_id)
    subject, text, html_body = outbound_email_rendered(email)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[email.to], from_email=settings.DEFAULT_FROM_EMAIL,
        reply_to=reply_to(),
    )
    if html_body:
        message.attach_alternative(html_body, "text/html")
    try:
        message.send()
    except Exception as error:
        _record_failure(email, error, retry_failed=retry_failed)
        return False
    email.status = OutboundEmail.Status.SENT
    email.sent_at = timezone.now()
    email.last_error = ""
    # Sent: the links are not needed again, so the outbox keeps none of them.
    email.links = None
    email.save(update_fields=["status", "sent_at", "last_error", "links"])
    return True


def outbox_failing_since() -> datetime | None:
    """When the oldest email still waiting after a failed attempt was queued; None if none is."""
    return (
        OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING)
        .exclude(last_error="")
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def outbound_email_flush(*, limit: int = 500) -> int:
    """Send every pending email that is due. Safe to run at any time, and twice at once."""
    now = timezone.now()
    due = (
        OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING)
        .exclude(next_attempt_at__gt=now)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(outbound_email_send(email_id=pk) for pk in list(due))
