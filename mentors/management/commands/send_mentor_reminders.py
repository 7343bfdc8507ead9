"""Run the mentor invitations' daily follow-up by hand: expire what is overdue, remind the rest."""

from django.core.management.base import BaseCommand

from ecocycle.mail import outbound_email_flush
from mentors.services import mentor_follow_up


class Command(BaseCommand):
    help = ("Expire mentor invitations past their expiry, then remind mentors who have not "
            "answered after ECOCYCLE_MENTOR_REMINDER_DAYS (once). --force reminds every pending "
            "invitation now, whatever its age.")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="remind every pending invitation now, whatever its age")

    def handle(self, *args, **options):
        result = mentor_follow_up(force=options["force"])
        self.stdout.write(f"Invitations expired: {result['expired']}")
        self.stdout.write(f"Reminders sent: {result['reminded']}")
        # Send now rather than wait for a worker: by hand, the operator wants to see them go.
        # The outbox's lease keeps a running worker from sending any of them twice.
        self.stdout.write(f"Emails sent from the outbox: {outbound_email_flush()}")
