from django.core.management.base import BaseCommand

from candidates.services import consent_reminders_send


class Command(BaseCommand):
    help = "Remind candidates who have not confirmed consent after a few days (once each)."

    def handle(self, *args, **options):
        count = consent_reminders_send()
        self.stdout.write(f"{count} consent reminder(s) queued.")
