"""Remove by hand the personal data whose retention period is over: the scheduled job's service."""

from django.core.management.base import BaseCommand, CommandError

from ecocycle.locks import JobBusy
from privacy.services import RetentionReport, retention_apply


class Command(BaseCommand):
    help = ("Anonymise the nominations of candidates not admitted whose round's decisions are "
            "older than ECOCYCLE_RETENTION_DAYS. --dry-run lists them and changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="list what would be removed, change nothing")

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        try:
            report = retention_apply(dry_run=dry_run)
        except JobBusy as error:
            raise CommandError("The retention job is already running.") from error
        self._print(report)

    def _print(self, report: RetentionReport) -> None:
        verb = "Would remove" if report.dry_run else "Removed"
        self.stdout.write(f"Retention period: {report.retention_days} days after the round's "
                          f"decisions.")
        for item in report.items:
            self.stdout.write(f"  nomination #{item.nomination_id}  {item.intake_round}  "
                              f"{item.university}  {item.status}  due since "
                              f"{item.due_since:%Y-%m-%d}")
        counts = report.counts
        self.stdout.write(
            f"{verb} the personal data of {counts['nominations']} nomination(s), "
            f"{counts['documents']} document(s) and {counts['emails']} email(s); "
            f"audit entries kept but anonymised: {counts['audit_entries']}.")
        if report.dry_run:
            self.stdout.write("Dry run: nothing was changed.")
