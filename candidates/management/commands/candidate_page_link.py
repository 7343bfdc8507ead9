from django.core.management.base import BaseCommand, CommandError

from candidates.models import Nomination
from candidates.services.candidate_page import candidate_page_link


class Command(BaseCommand):
    help = ("Print the link to a candidate's own page (for the demo, or for staff helping a "
            "candidate on the phone): one line per nomination with that email address, or the "
            "first few candidates' links without an address.")

    def add_arguments(self, parser):
        parser.add_argument("email", nargs="?", default="",
                            help="the candidate's email address (none: a few candidates)")

    def handle(self, *args, **options):
        email = options["email"].strip().lower()
        nominations = (Nomination.objects.filter(anonymised_at__isnull=True)
                       .exclude(status=Nomination.Status.DRAFT)
                       .select_related("intake_round__program", "university").order_by("id"))
        if email:
            nominations = nominations.filter(email_normalised=email)
        nominations = list(nominations[:10 if email else 5])
        if not nominations:
            raise CommandError(f"No nomination has the email address {email}." if email
                               else "No submitted nomination yet.")
        for nomination in nominations:
            self.stdout.write(f"{nomination.display_name} <{nomination.email}> "
                              f"({nomination.intake_round}): {candidate_page_link(nomination)}")
