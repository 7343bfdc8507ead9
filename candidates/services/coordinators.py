"""Coordinator accounts: creation, invitations by email, API tokens."""


from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecocycle import api_tokens
from ecocycle.exceptions import DomainError
from ecocycle.links import DeadLinkText, LinkCheck, LinkKind, LinkState, link_check, link_url
from ecocycle.mail import email_queue
from ecocycle.models import User
from ecocycle.services import (
    model_create,
    model_update,
    user_create,
)
from programs.models import University

from ..models import (
    Coordinator,
    CoordinatorInvitation,
)
from ..selectors import coordinator_for_user

# --- coordinators ------------------------------------------------------------------------------

@transaction.atomic
def coordinator_create(
    *,
    actor: User | None,
    email: str,
    university: University,
    full_name: str = "",
    language: str = "en",
    timezone: str = "Asia/Jakarta",
    password: str | None = None,
) -> Coordinator:
    """An account with the coordinator role, tied to one partner university."""
    user = user_create(
        actor=actor, email=email, role=User.Role.COORDINATOR, full_name=full_name,
        language=language, password=password,
    )
    return model_create(
        model=Coordinator,
        data={"user": user, "university": university, "timezone": timezone},
        actor=actor,
    )


def _invitation_state(invitation: CoordinatorInvitation) -> tuple:
    # Links already emailed carry these values' fingerprint: keep them and their order.
    return (invitation.pk, invitation.email, invitation.accepted_at, invitation.revoked_at)


_NOT_VALID = DeadLinkText(gettext_lazy("This invitation link is not valid"), gettext_lazy(
    "Copy the whole address from the email, or ask KITECH staff for a new invitation."))

COORDINATOR_INVITATION_LINK = LinkKind(
    purpose="invitation",
    url_name="candidates:invitation",
    lifetime_setting="ECOCYCLE_INVITATION_LINK_DAYS",
    fingerprint_parts=_invitation_state,
    load=lambda pk: CoordinatorInvitation.objects.select_related("university").filter(
        pk=pk).first(),
    answered=lambda invitation: invitation.accepted_at is not None,
    withdrawn=lambda invitation: invitation.revoked_at is not None,
    # Once used, the link has nothing to show: the account exists, its owner signs in.
    answer_shown=False,
    dead_text={
        "used": DeadLinkText(gettext_lazy("This invitation was already used"),
                             action_url_name="account_login", action_label=gettext_lazy("Sign in")),
        "expired": DeadLinkText(gettext_lazy("This invitation has expired"),
                                gettext_lazy("Ask KITECH staff to send you a new invitation.")),
        "invalid": _NOT_VALID, "withdrawn": _NOT_VALID, "stale": _NOT_VALID,
    },
)


@transaction.atomic
def coordinator_invite(
    *, actor: User, email: str, university: University, full_name: str = "",
    language: str = "en",
) -> CoordinatorInvitation:
    """Invite a coordinator by email; the link lets them choose a password."""
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise DomainError({"email": _("An account with this email address already exists.")})
    invitation = model_create(model=CoordinatorInvitation, data={
        "email": email, "full_name": full_name, "university": university, "language": language,
        "invited_by": actor,
    }, actor=actor)
    email_queue(
        to=email, template="coordinator_invitation", language=language,
        context={"invitation": invitation, "university": university,
                 "link": link_url(COORDINATOR_INVITATION_LINK, invitation),
                 "days": settings.ECOCYCLE_INVITATION_LINK_DAYS},
    )
    return invitation


def invitation_check(token: str) -> LinkCheck[CoordinatorInvitation]:
    return link_check(COORDINATOR_INVITATION_LINK, token)


@transaction.atomic
def invitation_accept(*, token: str, password: str) -> Coordinator:
    check = invitation_check(token)
    if check.state != LinkState.VALID:
        raise DomainError(_("This invitation link is no longer valid."))
    invitation = CoordinatorInvitation.objects.select_for_update().get(pk=check.object.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise DomainError(_("This invitation link is no longer valid."))
    coordinator = coordinator_create(
        actor=None, email=invitation.email, university=invitation.university,
        full_name=invitation.full_name, language=invitation.language, password=password,
    )
    model_update(instance=invitation, data={"accepted_at": timezone.now()}, actor=coordinator.user,
                 action="coordinatorinvitation_accept")
    return coordinator


# --- API tokens --------------------------------------------------------------------------------

def api_token_create(*, actor: User, user: User) -> str:
    """A new API token for a coordinator (hashed and expiring, see ecocycle.api_tokens); the key
    is shown once."""
    if coordinator_for_user(user) is None:
        raise DomainError(_("API tokens are only for university coordinators."))
    return api_tokens.api_token_create(actor=actor, user=user)


def api_token_revoke(*, actor: User, user: User, digest: str | None = None) -> int:
    """Revoke one of the user's own tokens, or all of them."""
    return api_tokens.api_token_revoke(actor=actor, user=user, digest=digest)


# --- invitations withdrawn by staff ------------------------------------------------------------

# Durable: the admin action revokes each invitation in a transaction of its own.
@transaction.atomic(durable=True)
def coordinator_invitation_revoke(*, actor: User, invitation: CoordinatorInvitation) -> bool:
    """Withdraw an invitation that is not yet accepted: its emailed link dies. Returns whether
    anything changed; revoking twice changes nothing the second time."""
    invitation = CoordinatorInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        return False
    model_update(instance=invitation, data={"revoked_at": timezone.now()}, actor=actor,
                 action="coordinatorinvitation_revoke")
    return True
