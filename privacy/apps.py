from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Data protection across the apps: retention, a person's export and erasure, for
    candidates, students and mentors alike. It sits above the apps it reads and erases."""

    name = "privacy"
    verbose_name = _("Data protection")
