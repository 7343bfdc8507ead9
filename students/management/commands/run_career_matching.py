from django.core.management.base import BaseCommand, CommandError

from candidates.models import MatchRun
from ecocycle.locks import JobBusy
from students.selectors import career_reasons
from students.services.careers import career_match_run


class Command(BaseCommand):
    help = ("Propose a partner company to every student within a year of graduation, within the "
            "companies' openings, and print each proposal with its reasons. Emails nobody.")

    def handle(self, *args, **options):
        try:
            run = career_match_run(trigger=MatchRun.Trigger.COMMAND)
        except JobBusy as busy:
            raise CommandError("A career matching run is under way; try again later.") from busy
        counts = run.counts
        self.stdout.write(
            f"Career run #{run.pk}: {counts['students']} student(s), {counts['companies']} "
            f"company(ies) with {counts['openings']} opening(s) left, {counts['pairs']} eligible "
            f"pair(s); {counts['proposed']} proposed, {counts['without_proposal']} without a "
            f"proposal, {counts['superseded']} earlier proposal(s) superseded."
        )
        proposals = (run.career_proposals.select_related("enrolment__nomination", "company")
                     .order_by("company__name", "-fit", "id"))
        for proposal in proposals:
            self.stdout.write(f"  {proposal.enrolment.nomination} -> {proposal.company} "
                              f"(fit {proposal.fit:.2f})")
            for reason in career_reasons(proposal.explanation):
                self.stdout.write(f"      - {reason}")
