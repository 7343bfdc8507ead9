"""Production: every secret and address comes from the environment; refuses to start without."""

import logging

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import STORAGES, env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. Production settings refuse to start without a secret key: "
        "set DJANGO_SECRET_KEY to a long random value (python -c 'import secrets; "
        "print(secrets.token_urlsafe(50))')."
    )
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
ECOCYCLE_LOOKUP_HASH_KEY = env.str("ECOCYCLE_LOOKUP_HASH_KEY", default="")
if not ECOCYCLE_LOOKUP_HASH_KEY:
    raise ImproperlyConfigured(
        "ECOCYCLE_LOOKUP_HASH_KEY is not set. It keys the hashes that find duplicate passports; "
        "set it once to a long random value and never change it."
    )
# Without Redis each worker keeps its own rate limits (three workers let through three times
# the wrong passwords); without a mail server, reset links and sign-in codes go to the log.
if not env.str("REDIS_URL", default=""):
    raise ImproperlyConfigured(
        "REDIS_URL is not set. Production settings refuse to start without the shared cache: "
        "set REDIS_URL, e.g. redis://redis:6379/0."
    )
if not env.str("EMAIL_URL", default=""):
    raise ImproperlyConfigured(
        "EMAIL_URL is not set. Production settings refuse to start without a mail server: set "
        "EMAIL_URL, e.g. smtp+tls://user:pass@smtp.example.org:587."
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

# Documents on the local disk, or on S3 when ECOCYCLE_S3_BUCKET is set (base settings).
STORAGES = {
    "default": STORAGES["default"],
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Logs as one JSON object a line (python-json-logger): time, level, logger, message, the
# request's id (ecocycle.logs) and, for errors, the traceback as exc_info. The worker keeps this
# configuration instead of Celery's own; Python's warnings go through it too.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ecocycle.logs.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            # "timestamp": ISO 8601 in UTC, whatever TIME_ZONE says.
            "timestamp": True,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                             "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
logging.captureWarnings(True)
