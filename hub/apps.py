from django.apps import AppConfig
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


class HubConfig(AppConfig):
    """The composition on top of the apps: the home page and health check, the nightly job that
    runs eligibility, cohorts and mentors in turn, the staff's daily digest, the demo world, the
    cycle report, and the alumni's update page (a student's outcome and, on offer, a mentor
    profile)."""

    name = "hub"
    verbose_name = _("Across the cycle")

    def ready(self) -> None:
        # The scheduled jobs' last runs (hub.jobs), and their and the match runs' gauges.
        import_string("hub.jobs.job_signals_connect")()
        # The cached cycle figures are counted again soon after what they count changes.
        import_string("hub.cycle_figures.cycle_figures_signals_connect")()
        register = import_string("ecocycle.metrics.scrape_collector_register")
        register(import_string("hub.jobs.JobRunCollector")())
        register(import_string("hub.jobs.MatchRunCollector")())
