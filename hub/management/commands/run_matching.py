"""Run the matching by hand: the same services as the nightly job."""

from django.core.management.base import BaseCommand, CommandError

from candidates.models import MatchRun
from candidates.services import cohort_match_run, cohort_propose
from ecocycle.exceptions import DomainError
from ecocycle.locks import JobBusy
from hub.services import nightly_matching
from programs.models import DegreeTrack, IntakeRound


class Command(BaseCommand):
    help = ("Match candidates to degree tracks in one round (--round); without --round, run the "
            "whole nightly job (eligibility, cohorts of rounds in their matching phase, mentors "
            "for admitted candidates). --dry-run prints the round's result, saves nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--round", type=int, help="the intake round (id)")
        parser.add_argument("--dry-run", action="store_true", help="print, do not save")

    def handle(self, *args, **options):
        if options["round"] is None:
            if options["dry_run"]:
                raise CommandError("--dry-run needs --round.")
            summary = nightly_matching(trigger=MatchRun.Trigger.COMMAND)
            self.stdout.write(f"Eligibility verdicts changed: {summary['eligibility_changed']}")
            self.stdout.write(f"Rounds matched: {summary['matched_rounds'] or 'none'}")
            self.stdout.write(f"Mentor invitations expired: "
                              f"{summary['mentor_invitations_expired']}")
            self.stdout.write(f"Mentor proposals: {summary['mentor_proposals']}")
            self.stdout.write(f"Mentor invitations sent: {summary['mentor_invitations_sent']}")
            for round_id, why in summary["skipped_rounds"].items():
                self.stdout.write(f"Round {round_id} skipped: {why}")
            return
        intake_round = IntakeRound.objects.filter(pk=options["round"]).first()
        if intake_round is None:
            raise CommandError(f"No intake round with id {options['round']}.")
        try:
            if options["dry_run"]:
                proposal = cohort_propose(intake_round=intake_round)
            else:
                proposal = cohort_match_run(intake_round=intake_round,
                                            trigger=MatchRun.Trigger.COMMAND)
        except JobBusy as error:
            raise CommandError("Another matching run of this round is under way.") from error
        except DomainError as error:
            raise CommandError(" ".join(error.messages)) from error
        self._print(intake_round, proposal, saved=not options["dry_run"])

    def _print(self, intake_round, proposal, *, saved):
        counts = proposal.counts
        self.stdout.write(f"{intake_round}: placed {counts['placed']} of {counts['candidates']} "
                          f"candidates in {counts['tracks']} tracks ({counts['seats']} seats)"
                          + ("" if saved else " — dry run, nothing saved"))
        names = {t.pk: str(t) for t in DegreeTrack.objects.filter(pk__in=proposal.tracks)}
        for track_id, figures in sorted(proposal.tracks.items(), key=lambda i: names[i[0]]):
            cutoff = figures["cutoff_score"]
            self.stdout.write(
                f"  {names[track_id][:60]:<60} {figures['placed']:>3}/{figures['seats']:<3} "
                f"applicants {figures['applicants']:>4}  cut-off "
                f"{'-' if cutoff is None else f'{cutoff:.2f}'}")
        if saved:
            self.stdout.write(f"Saved as match run #{proposal.run.pk} "
                              f"(input {proposal.input_digest[:12]}, "
                              f"output {proposal.output_digest[:12]}).")
