from django.core.management.base import BaseCommand, CommandError

from candidates import selectors, services
from ecocycle.models import User


class Command(BaseCommand):
    help = ("Create a new API token for a university coordinator and print it, revoking their "
            "earlier tokens (for a coordinator who lost theirs).")

    def add_arguments(self, parser):
        parser.add_argument("email", help="the coordinator's email address")

    def handle(self, *args, **options):
        email = options["email"].strip()
        user = User.objects.filter(email__iexact=email).first()
        if user is None or selectors.coordinator_for_user(user) is None:
            raise CommandError(f"No active university coordinator has the email address {email}.")
        services.api_token_revoke(actor=None, user=user)
        key = services.api_token_create(actor=None, user=user)
        self.stdout.write(key)
