"""allauth adapter: accounts are made by staff or by invitation, never by open sign-up."""

from allauth.account.adapter import DefaultAccountAdapter

from .mail import reply_to


class InviteOnlyAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def render_mail(self, template_prefix, email, context, headers=None):
        # allauth sends its emails (sign-in codes, password resets) itself, not via the outbox.
        message = super().render_mail(template_prefix, email, context, headers=headers)
        message.reply_to = reply_to()
        return message
