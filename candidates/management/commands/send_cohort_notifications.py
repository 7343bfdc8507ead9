from django.core.management.base import BaseCommand

from candidates import selectors, services


class Command(BaseCommand):
    help = ("Write the emails of cohort decisions whose job has not finished (queued, stopped "
            "half-way or failed), carrying on where each stopped.")

    def handle(self, *args, **options):
        for notification_id in selectors.cohort_notifications_unfinished():
            notification = services.cohort_notification_send(notification_id=notification_id)
            self.stdout.write(f"{notification}: {notification.queued} emails in the outbox")
