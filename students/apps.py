from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudentsConfig(AppConfig):
    """Everything after admission: enrolment, progress steps, career matching with partner
    companies, alumni outcomes and the alumni's yearly update link."""

    name = "students"
    verbose_name = _("Students and alumni")
