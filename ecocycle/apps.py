from django.apps import AppConfig

from .broker import broker_folders_ensure


class EcocycleConfig(AppConfig):
    """The shared kernel: users and roles, the audit log, domain errors, mail, links, locks."""

    name = "ecocycle"
    verbose_name = "ecocycle"

    def ready(self) -> None:
        broker_folders_ensure()
