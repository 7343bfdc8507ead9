"""The Celery app: one for web, worker and beat, configured from Django settings (CELERY_*)."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecocycle.settings.local")

app = Celery("ecocycle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_broker_folders() -> None:
    """kombu's filesystem transport does not create its folders itself."""
    from django.conf import settings

    for folder in getattr(settings, "CELERY_BROKER_FOLDERS", ()):
        Path(folder).mkdir(parents=True, exist_ok=True)


@worker_init.connect
def _prepare_broker(**_kwargs) -> None:
    ensure_broker_folders()
