from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubConfig(AppConfig):
    """The composition on top of the apps: the home page and health check, the nightly job that
    runs eligibility, cohorts and mentors in turn, the staff's daily digest, the demo world, the
    cycle report, and the alumni's update page (a student's outcome and, on offer, a mentor
    profile)."""

    name = "hub"
    verbose_name = _("Across the cycle")
