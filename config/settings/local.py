"""The embedded default: what `make run` uses when no environment variable is set."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-never-use-in-production")
VAR_DIR.mkdir(parents=True, exist_ok=True)
