"""The embedded default: what `make run` uses when no environment variable is set."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-never-use-in-production")
VAR_DIR.mkdir(parents=True, exist_ok=True)

# `make run` serves on ECOCYCLE_PORT (`make run PORT=8001`); emailed links follow it.
SITE_URL = env.str("ECOCYCLE_SITE_URL",
                   default=f"http://127.0.0.1:{env.int('ECOCYCLE_PORT', default=8000)}").rstrip("/")

if not env.str("EMAIL_URL", default=""):
    # No mail server: emails are printed by the worker (and by commands) as people read them,
    # subjects and names decoded, not as raw MIME.
    EMAIL_BACKEND = "ecocycle.mail_console.EmailBackend"
