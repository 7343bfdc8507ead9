from django.apps import AppConfig


class EcocycleConfig(AppConfig):
    """The shared kernel: users and roles, the audit log, domain errors, mail rendering."""

    name = "ecocycle"
    verbose_name = "ecocycle"

    def ready(self) -> None:
        # Web processes enqueue too, so the filesystem broker's folders must exist before any
        # worker has started.
        from .celery import ensure_broker_folders

        ensure_broker_folders()
