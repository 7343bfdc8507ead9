from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.utils.module_loading import import_string

from .broker import broker_folders_ensure


class EcocycleConfig(AppConfig):
    """The shared kernel: users and roles, the audit log, domain errors, mail, links, locks."""

    name = "ecocycle"
    verbose_name = "ecocycle"

    def ready(self) -> None:
        broker_folders_ensure()
        # By name: the middleware module reads models, which are not loaded when this one is.
        user_logged_in.connect(import_string("ecocycle.middleware.second_factor_remember"),
                               dispatch_uid="ecocycle_second_factor_remember")
        user_logged_in.connect(import_string("ecocycle.middleware.time_zone_remember"),
                               dispatch_uid="ecocycle_time_zone_remember")
        # Celery task timings, and the outbox counted at each scrape (ecocycle.metrics).
        import_string("ecocycle.metrics.task_signals_connect")()
        import_string("ecocycle.metrics.scrape_collector_register")(
            import_string("ecocycle.metrics.OutboxCollector")())
