from django.core.management.base import BaseCommand

from candidates.services import deadline_reminders_send


class Command(BaseCommand):
    help = ("Remind coordinators, ECOCYCLE_DEADLINE_REMINDER_DAYS before a round's nominations "
            "deadline, of their drafts and candidates without consent (once per round).")

    def handle(self, *args, **options):
        count = deadline_reminders_send()
        self.stdout.write(f"{count} deadline reminder(s) queued.")
