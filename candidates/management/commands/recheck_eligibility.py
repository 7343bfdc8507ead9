from django.core.management.base import BaseCommand

from candidates.services import eligibility_recheck
from programs.models import IntakeRound


class Command(BaseCommand):
    help = "Evaluate the eligibility of every submitted nomination again."

    def add_arguments(self, parser):
        parser.add_argument("--round", type=int, help="only this intake round (id)")

    def handle(self, *args, **options):
        intake_round = IntakeRound.objects.get(pk=options["round"]) if options["round"] else None
        changed = eligibility_recheck(intake_round=intake_round)
        self.stdout.write(f"Eligibility checked; {changed} verdict(s) changed.")
