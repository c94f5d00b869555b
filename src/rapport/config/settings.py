"""Rapport settings, driven by environment variables (see README "Configuration").

Defaults give the embedded install: a SQLite file under ``var/``, a generated secret key kept
there, tasks run eagerly, mail printed to the console. ``DATABASE_URL`` switches to
PostgreSQL; ``CELERY_BROKER_URL``/``REDIS_URL`` to real Celery workers; ``EMAIL_URL`` or the
``EMAIL_HOST``... variables to real SMTP.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from rapport.config.env import (
    cache_settings_from_url,
    email_settings_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    persistent_secret_key,
)

SRC_DIR = Path(__file__).resolve().parents[1]
BASE_DIR = Path(env_str("RAPPORT_HOME", str(SRC_DIR.parents[1])))
DATA_DIR = Path(env_str("RAPPORT_DATA_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = persistent_secret_key(DATA_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "rapport.core",
    "rapport.parties",
    "rapport.activities",
    "rapport.commerce",
    "rapport.sales",
    "rapport.service",
    "rapport.marketing",
    "rapport.insights",
    "rapport.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "rapport.core.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "rapport.core.middleware.UserLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "rapport.core.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns lock-outs into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rapport.config.urls"
WSGI_APPLICATION = "rapport.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "rapport.core.context_processors.navigation",
            ],
            # ``unlocalize`` everywhere: with USE_THOUSAND_SEPARATOR an id or version of 1000 or
            # more would reach an attribute as "1,224" and come back as a bad id. Templates write
            # every value inside an attribute through it (tests/ui/test_template_attributes.py).
            "builtins": ["django.templatetags.l10n"],
        },
    }
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        # Server-side binding lets psycopg prepare a statement after it ran a few times on a
        # connection: the 360 page's joins cost PostgreSQL ~2 ms to plan and ~0.3 ms to run.
        # Behind a transaction-pooling PgBouncer (no session state) set RAPPORT_PG_PREPARE=0.
        pg_options: dict[str, object] = {}
        if env_bool("RAPPORT_PG_PREPARE", True):
            pg_options.update(server_side_binding=True, prepare_threshold=5)
        # JIT compilation costs ~50 ms per query above the planner's cost threshold and pays off
        # only on scans of minutes; the dashboards run dozens of 20-200 ms aggregates, where it
        # made the sales metrics ~15% slower. RAPPORT_PG_JIT=1 leaves the server's setting.
        if not env_bool("RAPPORT_PG_JIT", False):
            pg_options["options"] = "-c jit=off"
        if pg_options:
            DATABASES["default"]["OPTIONS"] = pg_options
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "rapport.sqlite3"),
            # WAL lets readers run while an import writes; IMMEDIATE avoids "database is locked"
            # upgrades from read to write locks in concurrent requests.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
                ),
            },
            # A file, not :memory:, so that threads and the live server in tests share one
            # database and its real locking (pytest-xdist suffixes it per worker).
            # (The pid keeps concurrent test runs on one machine apart.)
            "TEST": {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, reading permissions, roles and managed teams in one query (core/access.py).
    "rapport.core.access.RoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login rate limiting (django-axes): five failures per username+IP lock that pair for 15 min.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("de", _("German")), ("fr", _("French"))]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True

# --- files ----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [SRC_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
RAPPORT_MAX_UPLOAD_BYTES = env_int("RAPPORT_MAX_UPLOAD_BYTES", 2 * 1024 * 1024 * 1024)

# --- email ----------------------------------------------------------------------------------
EMAIL_URL = env_str("EMAIL_URL", "")
if EMAIL_URL:
    globals().update(email_settings_from_url(EMAIL_URL))
elif env_str("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Rapport <rapport@localhost>")

# --- cache ----------------------------------------------------------------------------------
# Shared by every process (see env.cache_settings_from_url): the dashboards' figures are computed
# once per warehouse build and scoring run and warmed by the jobs, which per-process memory cannot
# serve to the web processes. The tests use per-process memory (tests/conftest.py).
RAPPORT_CACHE_URL = env_str("RAPPORT_CACHE_URL", "")
CACHES = cache_settings_from_url(RAPPORT_CACHE_URL, DATA_DIR / "cache")

# --- background work ------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", env_str("REDIS_URL", ""))
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ROUTES = {"rapport.parties.tasks.import_run_task": {"queue": "imports"}}
CELERY_BEAT_SCHEDULE = {
    "task-reminders": {
        "task": "rapport.activities.tasks.task_reminders_send_task",
        "schedule": 60.0,
    },
    # Incremental refresh of the warehouse every 15 minutes (a full build when none exists yet).
    "warehouse-refresh": {
        "task": "rapport.insights.tasks.warehouse_build_task",
        "schedule": 900.0,
        "kwargs": {"incremental": True},
    },
    # Customer scores and churn alerts once a day (seconds: the in-process scheduler takes only these).
    "customers-score": {
        "task": "rapport.insights.tasks.customers_score_task",
        "schedule": 86400.0,
    },
}

# --- Rapport --------------------------------------------------------------------------------
RAPPORT_DEFAULT_PHONE_REGION = env_str("RAPPORT_DEFAULT_PHONE_REGION", "US")
RAPPORT_COMPANY_CURRENCY = env_str("RAPPORT_COMPANY_CURRENCY", "USD")
# The seller's name on quotes, the customer's acceptance page and quote emails.
RAPPORT_COMPANY_NAME = env_str("RAPPORT_COMPANY_NAME", "Rapport")
# The analytical warehouse (insights/warehouse.py): one DuckDB file, rebuilt by a job.
RAPPORT_WAREHOUSE_PATH = Path(env_str("RAPPORT_WAREHOUSE_PATH", str(DATA_DIR / "warehouse.duckdb")))
# Parallel PostgreSQL connections of a build's extract; 0 = the number of cores, at most 4.
RAPPORT_WAREHOUSE_EXTRACT_WORKERS = env_int("RAPPORT_WAREHOUSE_EXTRACT_WORKERS", 0)
RAPPORT_IMPORT_DIR = DATA_DIR / "imports"
RAPPORT_EXPORT_DIR = DATA_DIR / "exports"
RAPPORT_BASE_URL = env_str("RAPPORT_BASE_URL", "http://127.0.0.1:8000")
# Merging duplicates (parties/merge.py): sources most trusted first, e.g. "crm,import,web";
# per-field rules as "title=recent,last_name=trusted" (rules: survivor, recent, trusted).
RAPPORT_MERGE_TRUSTED_SOURCES = env_list("RAPPORT_MERGE_TRUSTED_SOURCES", [])
RAPPORT_MERGE_RULES = {
    key.strip(): rule.strip()
    for key, _sep, rule in (item.partition("=") for item in env_list("RAPPORT_MERGE_RULES", []))
    if rule.strip()
}
# The same for account merges (parties/merge_accounts.py), e.g. "name=recent,industry=survivor".
RAPPORT_ACCOUNT_MERGE_RULES = {
    key.strip(): rule.strip()
    for key, _sep, rule in (item.partition("=") for item in env_list("RAPPORT_ACCOUNT_MERGE_RULES", []))
    if rule.strip()
}

# The create-time duplicate check (parties/duplicate_check.py) lists existing contacts from this
# match probability; "likely" (the form asks for confirmation) is the matcher's own 0.9.
RAPPORT_DUPLICATE_WARN_AT = float(env_str("RAPPORT_DUPLICATE_WARN_AT", "0.5"))
if not 0.0 < RAPPORT_DUPLICATE_WARN_AT < 1.0:
    raise ValueError("RAPPORT_DUPLICATE_WARN_AT must be a probability between 0 and 1")

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
