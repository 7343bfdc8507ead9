"""The embedded default's Celery broker: kombu's filesystem transport does not create its
folders itself, and web processes enqueue before any worker has started."""

from pathlib import Path

from django.conf import settings


def broker_folders_ensure() -> None:
    for folder in getattr(settings, "CELERY_BROKER_FOLDERS", ()):
        Path(folder).mkdir(parents=True, exist_ok=True)
