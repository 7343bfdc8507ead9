"""The candidate's own page: the signed link to it (emailed with the consent request, again on
request, and with every decision), which dies when the candidate's email changes or the
nomination's personal data is removed."""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy

from ecocycle.links import DeadLinkText, LinkCheck, LinkKind, link_check, link_url
from ecocycle.mail import email_queue

from ..models import Coordinator, Nomination


def _page_state(nomination: Nomination) -> tuple:
    # Links already emailed carry these values' fingerprint: keep them and their order.
    return (nomination.pk, nomination.email_normalised or nomination.email.lower(),
            nomination.anonymised_at is None)


def _page_load(pk: int) -> Nomination | None:
    return (Nomination.objects.select_related("intake_round__program", "university")
            .filter(pk=pk).first())


CANDIDATE_PAGE_LINK = LinkKind(
    purpose="candidate_page",
    url_name="candidate:page",
    lifetime_setting="ECOCYCLE_CANDIDATE_LINK_DAYS",
    fingerprint_parts=_page_state,
    load=_page_load,
    language=lambda nomination: nomination.candidate_language,
    dead_text={
        "expired": DeadLinkText(gettext_lazy("This link has expired"), gettext_lazy(
            "For your protection, links to your page are valid for a limited time. Ask for a "
            "new one with your email address."), "candidate:link_request",
            gettext_lazy("Email me a new link")),
        "stale": DeadLinkText(gettext_lazy("This link is no longer valid"), gettext_lazy(
            "Your email address has changed since this link was sent. Ask for a new link, "
            "which goes to your current address."), "candidate:link_request",
            gettext_lazy("Email me a new link")),
    },
)


def candidate_page_link(nomination: Nomination) -> str:
    """The absolute, signed address of the candidate's own page (a secret: masked in logs)."""
    return link_url(CANDIDATE_PAGE_LINK, nomination)


def candidate_page_check(token: str) -> LinkCheck[Nomination]:
    return link_check(CANDIDATE_PAGE_LINK, token)


def candidate_time_zone(nomination: Nomination) -> str:
    """The time zone dates are shown to the candidate in (their page, their emails): theirs if
    they chose one, else that of the coordinator who nominated them, else the site's."""
    if nomination.time_zone:
        return nomination.time_zone
    if nomination.created_by_id:
        zone = (Coordinator.objects.filter(user_id=nomination.created_by_id)
                .values_list("timezone", flat=True).first())
        if zone:
            return zone
    return settings.TIME_ZONE


# At most this many nominations answer one request for links (one address, several rounds).
LINKS_PER_REQUEST = 10


def candidate_page_link_email(nomination: Nomination) -> None:
    """Email the candidate the link to their page, in their language. Inside the caller's
    transaction."""
    email_queue(to=nomination.email, template="candidate_page_link", topic="candidate_page_link",
                language=nomination.candidate_language,
                context={"nomination": nomination, "link": candidate_page_link(nomination),
                         "days": settings.ECOCYCLE_CANDIDATE_LINK_DAYS,
                         "program": nomination.intake_round.program,
                         "university": nomination.university})


@transaction.atomic
def candidate_page_links_send(*, email: str) -> int:
    """Someone asked on the public page for the link to their page: one email per nomination
    (not a draft, personal data not removed) whose current address this is. Run by a job, so
    that the page answers at once and alike whether the address is known or not. Returns
    how many were sent (nothing to anyone else)."""
    address = (email or "").strip().lower()
    if not address:
        return 0
    nominations = list(
        Nomination.objects.filter(email_normalised=address, anonymised_at__isnull=True)
        .exclude(status=Nomination.Status.DRAFT)
        .select_related("intake_round__program", "university").order_by("-id")[:LINKS_PER_REQUEST])
    for nomination in nominations:
        candidate_page_link_email(nomination)
    return len(nominations)
