"""The Celery app: one for web, worker and beat, configured from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import worker_init

from ecocycle.broker import broker_folders_ensure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("ecocycle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _prepare_broker(**_kwargs) -> None:
    broker_folders_ensure()
