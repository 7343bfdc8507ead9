"""The project's plumbing: settings, the root URLconf, the Celery app, WSGI/ASGI entry points.

It sits on top of everything: nothing below imports it. The Celery app is loaded here, as
Celery's Django guide does, so that `@shared_task` binds to it in every process.
"""

from .celery import app as celery_app

__all__ = ("celery_app",)
