"""Settings shared by every environment, read from environment variables through one env object.

With no variables at all this is the embedded default: SQLite in WAL mode, a filesystem Celery
broker that needs no server, email printed to the console.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from ecocycle.sentry import sentry_init

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("ECOCYCLE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Absolute links in emails are built from this, never from a request.
SITE_URL = env.str("ECOCYCLE_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "ecocycle.apps.EcocycleConfig",
    "programs",
    "candidates",
    "students",
    "mentors",
    "privacy",
    "hub",
    "csp",
]

MIDDLEWARE = [
    # Request counts and latencies for /metrics (django-prometheus): first and last, so they time
    # the whole stack. Only its middleware: the database keeps Django's own engines.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # An id per request (the proxy's X-Request-ID, or a new one) on its log lines and response.
    "ecocycle.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ecocycle.middleware.UserLanguageMiddleware",
    # Times in the viewer's zone (a coordinator's own, Asia/Seoul otherwise), admin included.
    "ecocycle.middleware.UserTimeZoneMiddleware",
    # Refuses an oversized body with a 413 in the user's language, before CSRF reads it.
    "ecocycle.limits.RequestSizeLimitMiddleware",
    "ecocycle.middleware.DatabaseBusyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "ecocycle.middleware.StaffSecondFactorMiddleware",
    "ecocycle.metrics.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ecocycle.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker share one file: WAL plus immediate transactions, or concurrent writes fail
    # with "database is locked" (measured: 54 of 200 writes landed without these options).
    # The busy timeout is how long a writer waits for SQLite's one write lock: short for the
    # web, whose writers then answer 503 "try again" (ecocycle.middleware, the API's handler);
    # the worker's Procfile line sets a longer one. No job holds the lock for long
    # (ecocycle.writes), so a web writer normally waits a few tens of milliseconds.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.float("ECOCYCLE_SQLITE_BUSY_TIMEOUT", default=2.0),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (allauth rate limits need a real shared cache in production) ---------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
    # Sessions read from the shared cache, written through to the database: one query less on
    # every signed-in page. Only with a shared cache: a per-process cache would let one process
    # keep a session that another has ended (signed out).
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "ecocycle.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_ADAPTER = "ecocycle.accounts.InviteOnlyAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Sign-in by emailed code is for accounts without a password (mentors) only; staff and
# coordinators use their password, and staff a second factor too (ecocycle.middleware).
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_FORMS = {"request_login_code": "ecocycle.accounts.PasswordlessLoginCodeForm"}
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[ecocycle] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_ADAPTER = "ecocycle.accounts.StaffMFAAdapter"
MFA_TOTP_ISSUER = "ecocycle"
# The code of the previous or next 30 s step is accepted too: a phone's clock a little off, or a
# code typed as it rolls over, still signs in (each code is still taken once).
MFA_TOTP_TOLERANCE = 1

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("ko", _("Korean")),
    ("id", _("Indonesian")),
    ("vi", _("Vietnamese")),
]
# Our own catalogue first (makemessages writes it from our code), then translations of the
# packages' strings that ship none for a language of ours: allauth in Vietnamese,
# django-countries in Indonesian (locale_vendor/, edited by hand, never by makemessages).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_vendor"]
# Dates through the language's formats ("2026년 12월 6일", "6 tháng 12, 2026", "6 Desember 2026").
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded documents are personal data: never served from a public URL, only through views,
# which check the permission and stream the file themselves (storage.open), on disk or on S3.
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
# On one host the local disk will do (the embedded default); with more than one (web and worker
# apart, two web processes) the documents go to an S3-compatible store that all of them share.
ECOCYCLE_S3_BUCKET = env.str("ECOCYCLE_S3_BUCKET", default=env.str("AWS_STORAGE_BUCKET_NAME",
                                                                   default=""))
if ECOCYCLE_S3_BUCKET:
    _s3_endpoint = env.str("AWS_S3_ENDPOINT_URL", default="") or None
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": ECOCYCLE_S3_BUCKET,
            "endpoint_url": _s3_endpoint,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            # None: boto3's own chain (instance role, ~/.aws) when the variables are not set.
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            # A MinIO or other self-hosted endpoint is reached by path (http://minio:9000/bucket),
            # its host name has no per-bucket subdomains.
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE",
                                        default="path" if _s3_endpoint else "") or None,
            # Never public: objects private, any URL signed and short-lived (the views stream
            # the files and hand out no URL, this only bounds a URL made by mistake).
            "default_acl": env.str("ECOCYCLE_S3_DEFAULT_ACL", default="private") or None,
            "querystring_auth": True,
            "querystring_expire": 60,
            "signature_version": "s3v4",
            # A name in use gets a suffix: an upload never replaces another document's object.
            "file_overwrite": False,
            # A download is spooled to a temporary file past this size, not held in memory.
            "max_memory_size": 2_621_440,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Content-Security-Policy (django-csp 4) ------------------------------------------------
# Strict on every response: scripts and styles only from our own static files, never inline
# (no page of ours has inline script, handlers or style; tests/kernel/test_csp.py keeps it so).
# `data:` images for the icons the admin and Swagger UI draw from their CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# --- Email ----------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# Seconds an SMTP connection waits for the server: one that accepts and never answers must not
# hold a worker. No request talks to it: every email, allauth's too, goes through the outbox.
EMAIL_TIMEOUT = env.int("ECOCYCLE_EMAIL_TIMEOUT", default=10)
# An unsent email is retried (every 6 hours at most) until it is this old, then marked failed.
ECOCYCLE_MAIL_RETRY_DAYS = env.int("ECOCYCLE_MAIL_RETRY_DAYS", default=7)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="ecocycle <noreply@ecocycle.kr>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Every email is sent from a no-reply address; answers go here, to the people who can act on them.
ECOCYCLE_REPLY_TO = env.str("ECOCYCLE_REPLY_TO", default="KITECH staff <staff@ecocycle.kr>")

# --- Celery ---------------------------------------------------------------------------------
# kombu ignores the host of a filesystem URL but warns when there is none.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost/")
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    # Sends what a broker or mail-server outage held back in the outbox.
    "flush-outbound-email": {"task": "ecocycle.tasks.flush_outbound_email", "schedule": 120.0},
    "resume-cohort-notifications": {
        "task": "candidates.tasks.resume_cohort_notifications", "schedule": 600.0,
    },
    "consent-reminders": {
        "task": "candidates.tasks.send_consent_reminders",
        "schedule": crontab(hour=9, minute=0),
    },
    # Coordinators: their drafts and candidates without consent, before a nominations deadline.
    "deadline-reminders": {
        "task": "candidates.tasks.send_deadline_reminders",
        "schedule": crontab(hour=9, minute=15),
    },
    # Expires overdue mentor invitations, then reminds mentors who have not answered.
    "mentor-reminders": {
        "task": "mentors.tasks.send_mentor_reminders",
        "schedule": crontab(hour=9, minute=30),
    },
    # Career proposals for students within a year of graduation, every Monday morning.
    "career-matching": {
        "task": "students.tasks.run_career_matching",
        "schedule": crontab(hour=3, minute=0, day_of_week=1),
    },
    # Removes the personal data of candidates not admitted, once their retention period is over.
    "apply-retention": {
        "task": "privacy.tasks.apply_retention",
        "schedule": crontab(hour=4, minute=0, day_of_month=1),
    },
    # Asks every graduate once a year where they are now (the alumni update link).
    "alumni-updates": {
        "task": "students.tasks.request_alumni_updates",
        "schedule": crontab(hour=10, minute=0, day_of_month=15),
    },
    # Drops the placements of superseded match runs past ECOCYCLE_SUPERSEDED_RUN_DAYS.
    "prune-superseded-runs": {
        "task": "candidates.tasks.prune_superseded_runs",
        "schedule": crontab(hour=4, minute=30),
    },
    # Offers: those past their deadline lapse, then candidates are reminded before theirs (the
    # nightly job lapses them too, before mentor matching; either run is safe beside the other).
    "offer-deadlines": {
        "task": "candidates.tasks.follow_up_offers",
        "schedule": crontab(hour=9, minute=5),
    },
    # 02:00 in CELERY_TIMEZONE (Asia/Seoul): eligibility, then every round in its matching phase.
    "nightly-matching": {
        "task": "hub.tasks.nightly_matching",
        "schedule": crontab(hour=2, minute=0),
    },
    # What needs KITECH staff's attention since the last digest, if anything; after the
    # mentor follow-up (09:30) has marked the invitations that expired.
    "staff-digest": {
        "task": "hub.tasks.send_staff_digest",
        "schedule": crontab(hour=10, minute=0),
    },
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu does not create its folders; one shared folder serves as in and out on one host.
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
    CELERY_BROKER_FOLDERS = (_queue_dir, _processed_dir, _control_dir)
else:
    # Longer than the longest job, or Redis hands an acked-late task to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
    CELERY_BROKER_FOLDERS = ()

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ecocycle.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON with a depth limit; forms and multipart as DRF's defaults (document uploads).
    "DEFAULT_PARSER_CLASSES": [
        "ecocycle.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "ecocycle.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["ecocycle.api_auth.ApiRateThrottle"],
}
ECOCYCLE_API_RATE = env.str("ECOCYCLE_API_RATE", default="600/minute")
# Hashed tokens (django-rest-knox) that die after ECOCYCLE_API_TOKEN_TTL_DAYS unused: each use
# pushes the expiry on, but never past ECOCYCLE_API_TOKEN_MAX_DAYS after creation.
ECOCYCLE_API_TOKEN_TTL_DAYS = env.int("ECOCYCLE_API_TOKEN_TTL_DAYS", default=30)
ECOCYCLE_API_TOKEN_MAX_DAYS = env.int("ECOCYCLE_API_TOKEN_MAX_DAYS", default=365)
KNOX_TOKEN_MODEL = "ecocycle.ApiToken"
# knox's own migrations create its token table whatever TOKEN_MODEL says (their CreateModel is
# not swappable), a table with a foreign key to users that nothing uses and that PostgreSQL's
# flush cannot truncate. As an app without migrations its swapped-out model gets no table.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "TOKEN_TTL": timedelta(days=ECOCYCLE_API_TOKEN_TTL_DAYS),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(days=ECOCYCLE_API_TOKEN_MAX_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ecocycle API",
    "DESCRIPTION": "Partner-university nominations for UST-KITECH degree tracks.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "candidates.apis.schema_inputs_refuse_nul",
                             "candidates.apis.schema_retry_after_headers"],
    # Served from our own static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Named after what it is, not after the field ("code") that holds it.
    "ENUM_NAME_OVERRIDES": {"OutcomeCodeEnum": "candidates.selectors.outcomes.OutcomeCode"},
}

# --- Operations -----------------------------------------------------------------------------
# /metrics answers only `Authorization: Bearer <this>`; unset, it is a 404 for everyone.
ECOCYCLE_METRICS_TOKEN = env.str("ECOCYCLE_METRICS_TOKEN", default="")
# /healthz answers 503 when the nightly job last succeeded longer ago than this (a fresh install
# counts from its migration), or when more emails than this wait in the outbox.
ECOCYCLE_HEALTH_NIGHTLY_MAX_HOURS = env.float("ECOCYCLE_HEALTH_NIGHTLY_MAX_HOURS", default=26)
ECOCYCLE_HEALTH_OUTBOX_MAX = env.int("ECOCYCLE_HEALTH_OUTBOX_MAX", default=1000)
# Errors of the web and the worker go to Sentry when a DSN is set (ecocycle.sentry: no personal
# data, no request bodies); without one nothing is initialised.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
sentry_init(dsn=SENTRY_DSN, environment=env.str("SENTRY_ENVIRONMENT", default=""),
            traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}

# --- Personal data --------------------------------------------------------------------------
# Encrypted columns (passport numbers) derive their keys from SECRET_KEY (+ fallbacks) and these.
SALT_KEY = env.list("DJANGO_FIELD_ENCRYPTION_SALTS", default=["ecocycle-field-encryption-v1"])
# Keyed hashes for duplicate detection; kept apart from SECRET_KEY so key rotation keeps them.
ECOCYCLE_LOOKUP_HASH_KEY = env.str("ECOCYCLE_LOOKUP_HASH_KEY", default="ecocycle-lookup-v1")
ECOCYCLE_MAX_UPLOAD_BYTES = env.int("ECOCYCLE_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
# Request bodies: a declared Content-Length above this is refused with 413 before it is read
# (ecocycle.limits); one document plus the form around it. Keep the proxy's limit the same.
ECOCYCLE_MAX_REQUEST_BYTES = env.int("ECOCYCLE_MAX_REQUEST_BYTES",
                                     default=ECOCYCLE_MAX_UPLOAD_BYTES + 2 * 1024 * 1024)
# Django's own, explicit: the non-file part of a body it holds in memory (JSON, form fields),
# the size above which an uploaded file is spooled to disk, and how many fields and files one
# form may carry (a nomination's documents come one per request).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10
ECOCYCLE_CONSENT_LINK_DAYS = env.int("ECOCYCLE_CONSENT_LINK_DAYS", default=14)
# A link to the candidate's own page works this long; they can ask for a new one at any time.
ECOCYCLE_CANDIDATE_LINK_DAYS = env.int("ECOCYCLE_CANDIDATE_LINK_DAYS", default=120)
# The link that confirms a new email address the candidate typed on their page works this long,
# and a candidate may ask for so many such changes a day.
ECOCYCLE_CANDIDATE_EMAIL_LINK_DAYS = env.int("ECOCYCLE_CANDIDATE_EMAIL_LINK_DAYS", default=3)
ECOCYCLE_CANDIDATE_EMAIL_CHANGES_PER_DAY = env.int("ECOCYCLE_CANDIDATE_EMAIL_CHANGES_PER_DAY",
                                                   default=5)
# "Email me my link" answers so many requests an hour per address and per client address.
ECOCYCLE_CANDIDATE_LINK_REQUESTS_PER_HOUR = env.int("ECOCYCLE_CANDIDATE_LINK_REQUESTS_PER_HOUR",
                                                    default=5)
# A candidate who has not answered their offer is reminded this many days before its deadline.
ECOCYCLE_OFFER_REMINDER_DAYS = env.int("ECOCYCLE_OFFER_REMINDER_DAYS", default=3)
ECOCYCLE_CONSENT_REMINDER_DAYS = env.int("ECOCYCLE_CONSENT_REMINDER_DAYS", default=3)
# Coordinators may email a candidate a new consent link this many times a day at most.
ECOCYCLE_CONSENT_RESEND_PER_DAY = env.int("ECOCYCLE_CONSENT_RESEND_PER_DAY", default=3)
# Coordinators are reminded of their unsubmitted drafts and candidates without consent this many
# days before a round's nominations deadline.
ECOCYCLE_DEADLINE_REMINDER_DAYS = env.int("ECOCYCLE_DEADLINE_REMINDER_DAYS", default=5)
ECOCYCLE_INVITATION_LINK_DAYS = env.int("ECOCYCLE_INVITATION_LINK_DAYS", default=14)
# Mentor invitations: the emailed link's life, and when an unanswered one is reminded.
ECOCYCLE_MENTOR_LINK_DAYS = env.int("ECOCYCLE_MENTOR_LINK_DAYS", default=14)
ECOCYCLE_MENTOR_REMINDER_DAYS = env.int("ECOCYCLE_MENTOR_REMINDER_DAYS", default=4)
# Personal data of candidates not admitted is removed this many days after their round's
# decisions; alumni are asked for news once a year; their update link lives this long.
ECOCYCLE_RETENTION_DAYS = env.int("ECOCYCLE_RETENTION_DAYS", default=365)
# Nominations one coordinator may submit in an hour, refused duplicates included (issue 14).
ECOCYCLE_SUBMISSIONS_PER_HOUR = env.int("ECOCYCLE_SUBMISSIONS_PER_HOUR", default=60)
# Superseded match runs keep their digests and counts; their placements go after this many days.
ECOCYCLE_SUPERSEDED_RUN_DAYS = env.int("ECOCYCLE_SUPERSEDED_RUN_DAYS", default=30)
ECOCYCLE_ALUMNI_UPDATE_DAYS = env.int("ECOCYCLE_ALUMNI_UPDATE_DAYS", default=365)
ECOCYCLE_ALUMNI_LINK_DAYS = env.int("ECOCYCLE_ALUMNI_LINK_DAYS", default=60)
# The staff digest names the candidates still without consent this many days before their
# round's nominations deadline.
ECOCYCLE_DIGEST_CONSENT_DAYS = env.int("ECOCYCLE_DIGEST_CONSENT_DAYS", default=3)
