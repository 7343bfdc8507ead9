"""Send the staff digest by hand: the same service as the daily job."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from ecocycle.mail import outbound_email_flush
from hub.services import StaffDigestResult, staff_digest_send


class Command(BaseCommand):
    help = ("Email KITECH staff who want it what needs their attention since the last digest "
            "(nothing on a quiet day; once a day). --force sends now even if today's digest "
            "went out.")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="send now even if today's digest went out")

    def handle(self, *args, **options):
        result = staff_digest_send(force=options["force"])
        if result.status != StaffDigestResult.SENT:
            self.stdout.write(f"No digest sent: {result.status}.")
            return
        since = timezone.localtime(result.digest.window_start)
        self.stdout.write(f"Digest sent to {result.recipients} staff member(s), "
                          f"events after {since:%Y-%m-%d %H:%M}:")
        for line in result.lines:
            where = f" in {line.round_name}" if line.round_name else ""
            self.stdout.write(f"  {line.kind}{where}: {line.count}  {line.url}")
        # Sent now rather than by a worker: by hand, the operator wants to see them go.
        self.stdout.write(f"Emails sent from the outbox: {outbound_email_flush()}")
