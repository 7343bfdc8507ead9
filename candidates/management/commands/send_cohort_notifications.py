from django.core.management.base import BaseCommand

from candidates import services


class Command(BaseCommand):
    help = ("Write the emails of cohort decisions whose job has not finished (queued, stopped "
            "half-way or failed), carrying on where each stopped.")

    def handle(self, *args, **options):
        for notification in services.cohort_notifications_resume():
            self.stdout.write(f"{notification}: {notification.queued} emails in the outbox")
