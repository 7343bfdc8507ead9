"""allauth adapters: accounts are made by staff or by invitation, never by open sign-up; allauth's
emails go through the outbox; sign-in by code is for accounts without a password; staff keep
their second factor."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.forms import RequestLoginCodeForm
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.urls import reverse
from django.utils import translation

from .access import is_staff_account, may_sign_in_by_code
from .mail import absolute_url, email_queue_rendered
from .models import User

UNKNOWN_ACCOUNT_MAIL = "account/email/unknown_account"
USE_PASSWORD_MAIL = "account/email/login_code_use_password"


def _account_for(email: str) -> User | None:
    return User.objects.filter(email__iexact=email, is_active=True).first()


def _language_for(user: User | None) -> str:
    """The account's language; for an address without one, the language of the page asked from."""
    languages = dict(settings.LANGUAGES)
    if user is not None and user.language in languages:
        return user.language
    current = translation.get_language() or settings.LANGUAGE_CODE
    return current if current in languages else settings.LANGUAGE_CODE


class InviteOnlyAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def send_mail(self, template_prefix, email, context):
        """Render in the recipient's language and put it in the outbox: the request never talks
        to the mail server (a closed port or a silent one must not fail or hang sign-in), an
        outage is retried, and a working server gets it at once (sent on commit)."""
        account = _account_for(email)
        if template_prefix == UNKNOWN_ACCOUNT_MAIL and account is not None:
            # Only an account refused a sign-in code (PasswordlessLoginCodeForm) gets here.
            template_prefix = USE_PASSWORD_MAIL
            context = {**context, "login_url": absolute_url(reverse("account_login")),
                       "reset_url": absolute_url(reverse("account_reset_password"))}
        request = allauth_context.request
        language = _language_for(account)
        with translation.override(language):
            message = self.render_mail(template_prefix, email, {
                "request": request, "email": email, "current_site": get_current_site(request),
                **context,
            })
        html = next((content for content, mimetype in getattr(message, "alternatives", [])
                     if mimetype == "text/html"), "")
        # What opens the account by itself never sits readable in the outbox (staff see it).
        secrets = [context.get(key) for key in ("password_reset_url", "code", "activate_url")]
        email_queue_rendered(to=email, subject=message.subject, body_text=message.body,
                             body_html=html, language=language, topic=template_prefix,
                             secrets=[str(secret) for secret in secrets if secret])


class PasswordlessLoginCodeForm(RequestLoginCodeForm):
    """Sign-in codes only for accounts without a password (mentors). For any other account the
    page answers as for an unknown address, so that it tells nobody who has an account, and the
    mailbox is told to use the password instead (InviteOnlyAccountAdapter.send_mail)."""

    def clean_email(self) -> str:
        email = super().clean_email()
        if getattr(self, "_user", None) is not None and not may_sign_in_by_code(self._user):
            self._user = None
        return email


class StaffMFAAdapter(DefaultMFAAdapter):
    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        # Staff pages require the authenticator app (ecocycle.middleware).
        if authenticator.type == Authenticator.Type.TOTP and is_staff_account(authenticator.user):
            return False
        return super().can_delete_authenticator(authenticator)
