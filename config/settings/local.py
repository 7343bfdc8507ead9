"""The embedded default: what `make run` uses when no environment variable is set."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

# Off unless asked for (DJANGO_DEBUG=1): the demo shows the site's own error pages, never
# Django's technical ones listing every URL. WhiteNoise serves the static files straight from
# the source folders, so no collectstatic is needed.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-never-use-in-production")
VAR_DIR.mkdir(parents=True, exist_ok=True)

# `make run` serves on ECOCYCLE_PORT (`make run PORT=8001`); emailed links follow it.
SITE_URL = env.str("ECOCYCLE_SITE_URL",
                   default=f"http://127.0.0.1:{env.int('ECOCYCLE_PORT', default=8000)}").rstrip("/")

if not env.str("EMAIL_URL", default=""):
    # No mail server: emails are printed by the worker (and by commands) as people read them,
    # subjects and names decoded, not as raw MIME.
    EMAIL_BACKEND = "ecocycle.mail_console.EmailBackend"
