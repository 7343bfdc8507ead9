from django.core.management.base import BaseCommand

from candidates.services import superseded_runs_prune


class Command(BaseCommand):
    help = ("Delete the placements of match runs superseded more than "
            "ECOCYCLE_SUPERSEDED_RUN_DAYS ago (their digests and counts stay).")

    def handle(self, *args, **options):
        count = superseded_runs_prune()
        self.stdout.write(f"{count} placement(s) of superseded runs removed.")
