"""Inloop settings. Every knob comes from the environment; the defaults run on a fresh machine."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from tracker.env import (
    broker_transport_options,
    client_address_settings,
    email_settings,
    env_bool,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / env_str("INLOOP_VAR_DIR", "var")  # a relative folder is taken from the project root

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# `make run` binds the development server to PORT; links in emails follow it unless SITE_URL says otherwise.
PORT = env_str("PORT", "8000")
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "issues",
    "notifications",
    "inbound",
    "portal",
    "api",
    "webhooks",
    "ninja",  # only for its bundled Swagger UI files (/api/docs from our own static files, no CDN)
]

MIDDLEWARE = [
    "tracker.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "tracker.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tracker.middleware.HtmxVaryMiddleware",  # after whitenoise: static files are the same for everyone
    "tracker.middleware.HtmxLoginMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "tracker.middleware.DatabaseUnavailableMiddleware",
    "portal.middleware.CustomerPageMiddleware",  # last: its 404 and 429 pages come before the generic ones
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

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

# --- Database: SQLite file by default, PostgreSQL through DATABASE_URL ---
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env_str("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: wait for locks instead of failing,
    # and take the write lock at BEGIN so two writers never deadlock on an upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
    # Inloop's queries are short: PostgreSQL's JIT spends longer compiling a search than running it (Korean
    # substring search at 100,000 issues, p95 99 -> 76 ms). "server" keeps the server's own setting (behind
    # PgBouncer, which refuses startup options).
    if env_str("DATABASE_JIT", "off") != "server":
        DATABASES["default"]["OPTIONS"].setdefault("options", f"-c jit={env_str('DATABASE_JIT', 'off')}")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The inbox's index carries its sort columns with INCLUDE on PostgreSQL (issues migration 0021); SQLite, which has
# no such columns, makes the plain index, as intended.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out username and address before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
# Five failures for one username from one address lock that pair (only) for 15 minutes; an address that
# fails LOGIN_ADDRESS_FAILURE_LIMIT times across any usernames in that time is locked too (password spraying).
AXES_HANDLER = "tracker.login_throttle.PairAndAddressHandler"
AXES_FAILURE_LIMIT = 5
LOGIN_ADDRESS_FAILURE_LIMIT = int(env_str("LOGIN_ADDRESS_FAILURE_LIMIT", "20"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The client address is REMOTE_ADDR, or behind one trusted proxy the last X-Forwarded-For entry.
BEHIND_PROXY = env_bool("BEHIND_PROXY", default=False)
globals().update(client_address_settings(BEHIND_PROXY))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# --- Languages and time ---
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Seoul")
USE_I18N = True
USE_TZ = True

# --- Static files, served by whitenoise ---
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env_str(
            "STATICFILES_BACKEND",
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# --- HTTPS and browser protections (production serves HTTPS behind a proxy that sets X-Forwarded-Proto) ---
HTTPS = env_bool("HTTPS", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = int(env_str("SECURE_HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# No script reads the language cookie; the language switch is a form posted to the server.
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email: printed to the console by default, real SMTP through EMAIL_URL ---
globals().update(email_settings(env_str("EMAIL_URL", "console://")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Inloop <support@inloop.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_REPLY_TO = env_list("EMAIL_REPLY_TO")
EMAIL_MESSAGE_ID_DOMAIN = env_str("EMAIL_MESSAGE_ID_DOMAIN", "inloop.localhost")
EMAIL_TIMEOUT = int(env_str("EMAIL_TIMEOUT", "10"))

# --- What people write: the longest update, note, description or resolution text, in characters ---
MESSAGE_MAX_CHARS = int(env_str("MESSAGE_MAX_CHARS", "20000"))

# --- The outbox ---
OUTBOX_BATCH_SIZE = int(env_str("OUTBOX_BATCH_SIZE", "100"))
OUTBOX_LEASE_SECONDS = int(env_str("OUTBOX_LEASE_SECONDS", "120"))
OUTBOX_MAX_ATTEMPTS = int(env_str("OUTBOX_MAX_ATTEMPTS", "15"))
# After each commit that queues email a worker is asked to deliver at once; the beat sweep is the net.
OUTBOX_NUDGE_WORKER = env_bool("OUTBOX_NUDGE_WORKER", default=True)
UNSUBSCRIBE_LINK_MAX_AGE = 60 * 60 * 24 * int(env_str("UNSUBSCRIBE_LINK_MAX_AGE_DAYS", "365"))
# Customer-facing quick actions (acknowledge, bulk acknowledge, resolve) hold their emails this many seconds,
# while the person who acted may undo them (issues.undo); 0 sends at once, without an undo.
UNDO_SECONDS = int(env_str("UNDO_SECONDS", "10"))

# --- Webhooks (README, "Webhooks and chat"): endpoints are configured in the admin ---
# Each POST waits at most this many seconds for an answer; a row is claimed for WEBHOOK_LEASE_SECONDS.
WEBHOOK_TIMEOUT = float(env_str("WEBHOOK_TIMEOUT", "10"))
WEBHOOK_BATCH_SIZE = int(env_str("WEBHOOK_BATCH_SIZE", "50"))
WEBHOOK_LEASE_SECONDS = int(env_str("WEBHOOK_LEASE_SECONDS", "120"))

# --- Inbound email: customers' answers and new issues (README, "Two-way email") ---
# Where customers' answers go. Each email to a contact sets Reply-To to a plus address of it
# (support+<token>@example.com) so the answer finds its issue; empty: Reply-To is EMAIL_REPLY_TO.
INBOUND_ADDRESS = env_str("INBOUND_ADDRESS", "")
# imaps://user:password@host/INBOX (password percent-encoded); empty: no polling.
INBOUND_IMAP_URL = env_str("INBOUND_IMAP_URL", "")
INBOUND_POLL_SECONDS = float(env_str("INBOUND_POLL_SECONDS", "60"))
INBOUND_IMAP_TIMEOUT = float(env_str("INBOUND_IMAP_TIMEOUT", "30"))
# A larger message is refused (its headers are kept as the record); attachments over the second limit are
# listed but not kept.
INBOUND_MAX_BYTES = int(env_str("INBOUND_MAX_BYTES", str(25 * 1024 * 1024)))
INBOUND_ATTACHMENT_MAX_BYTES = int(env_str("INBOUND_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
# A sender who opens this many issues by email within an hour is taken for a looping autoresponder.
INBOUND_NEW_ISSUES_PER_HOUR = int(env_str("INBOUND_NEW_ISSUES_PER_HOUR", "5"))
# An answer to an issue resolved longer ago than this opens a new issue that follows it.
REOPEN_WITHIN_DAYS = int(env_str("REOPEN_WITHIN_DAYS", "14"))
# Waiting on the customer: one polite reminder after this many of their working days without an answer
# (never later than the 7-day limit, after which the update clock runs again and the owner is told).
WAITING_REMINDER_WORKING_DAYS = int(env_str("WAITING_REMINDER_WORKING_DAYS", "3"))
# A closure of at least CLOSURE_MIN_DAYS days in a row without working hours is announced this many
# working days before it begins: owners get their issues due inside it, customers a notice.
CLOSURE_MIN_DAYS = int(env_str("CLOSURE_MIN_DAYS", "3"))
CLOSURE_NOTICE_WORKING_DAYS = int(env_str("CLOSURE_NOTICE_WORKING_DAYS", "2"))

# --- The customer's own issue page, by a signed link in every customer email (README, "The customer's page") ---
# A resolved or closed issue's links work this many days after it stopped being open; an open issue's always.
CUSTOMER_PAGE_DAYS_AFTER_RESOLUTION = int(env_str("CUSTOMER_PAGE_DAYS_AFTER_RESOLUTION", "30"))
# An answer on the page: at most this many files, together at most this many bytes.
CUSTOMER_PAGE_MAX_FILES = int(env_str("CUSTOMER_PAGE_MAX_FILES", "5"))
CUSTOMER_PAGE_MAX_BYTES = int(env_str("CUSTOMER_PAGE_MAX_BYTES", str(10 * 1024 * 1024)))
# Requests per window, counted in the cache per link and per client address; more are answered 429.
CUSTOMER_PAGE_RATE_WINDOW_SECONDS = int(env_str("CUSTOMER_PAGE_RATE_WINDOW_SECONDS", "600"))
CUSTOMER_PAGE_REQUESTS_PER_LINK = int(env_str("CUSTOMER_PAGE_REQUESTS_PER_LINK", "120"))
CUSTOMER_PAGE_REQUESTS_PER_ADDRESS = int(env_str("CUSTOMER_PAGE_REQUESTS_PER_ADDRESS", "300"))
# "Send me a fresh link": asks per client address per hour (each email address is written to at most hourly).
CUSTOMER_PAGE_FRESH_LINKS_PER_HOUR = int(env_str("CUSTOMER_PAGE_FRESH_LINKS_PER_HOUR", "5"))

# --- The REST API (README, "API"): requests per token and minute, counted in the cache below; more are a 429 ---
API_REQUESTS_PER_MINUTE = int(env_str("API_REQUESTS_PER_MINUTE", "120"))
# Requests that change something count against this too: each may email a customer.
API_WRITES_PER_MINUTE = int(env_str("API_WRITES_PER_MINUTE", "30"))
# Where those counters live: each process's memory by default; redis://host:6379/N shares them between web
# processes (production). The customer page stays open, unthrottled, while that Redis does not answer.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}

# --- Celery: a broker that needs no server by default, Redis through CELERY_BROKER_URL ---
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost/")
# Redis gets connect and read timeouts on every socket (tracker/env.py).
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL, VAR_DIR / "broker")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("queue", "processed", "control"):
        (VAR_DIR / "broker" / _folder).mkdir(parents=True, exist_ok=True)
# A publish (the outbox nudge, any .delay) gives up after about one read timeout: kombu stops retrying the
# connection after this many seconds, and a failed publish is retried once, not three times.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
# No result backend: results are ignored, so no request ever waits on a second server.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One queue per deployment sharing a Redis (and per test run that starts its own worker).
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# A scan or sweep still queued when the next one is due is dropped (expires), never piled up.
SLA_SCAN_SECONDS = float(env_str("SLA_SCAN_SECONDS", "60"))
# A burst (a scan step's batch full: a beat outage, a mass import, a policy edit) is drained over this many database
# connections at once on PostgreSQL (their SKIP LOCKED claims share it out): while one's statements run, another's
# Python prepares the next batch. 1: one connection.
SLA_SCAN_CONNECTIONS = max(1, int(env_str("SLA_SCAN_CONNECTIONS", "2")))
# /healthz reports "degraded" when the last scan finished longer ago than this: beat or workers stalled.
SLA_SCAN_STALE_SECONDS = float(env_str("SLA_SCAN_STALE_SECONDS", str(5 * 60)))
OUTBOX_SWEEP_SECONDS = float(env_str("OUTBOX_SWEEP_SECONDS", "60"))
# Webhooks are nudged after each commit too; the sweep also sends retries when their time comes.
WEBHOOK_SWEEP_SECONDS = float(env_str("WEBHOOK_SWEEP_SECONDS", "15"))
# Digests go at the start of each team's working day; this is how often beat looks whose day began.
DIGEST_CHECK_SECONDS = float(env_str("DIGEST_CHECK_SECONDS", "900"))
CELERY_BEAT_SCHEDULE = {
    "scan-sla": {"task": "issues.tasks.scan_sla_task", "schedule": SLA_SCAN_SECONDS,
                 "options": {"expires": SLA_SCAN_SECONDS * 0.9}},
    "deliver-outbox": {"task": "notifications.tasks.deliver_outbox", "schedule": OUTBOX_SWEEP_SECONDS,
                       "options": {"expires": OUTBOX_SWEEP_SECONDS * 0.9}},
    "deliver-webhooks": {"task": "webhooks.tasks.deliver_webhooks", "schedule": WEBHOOK_SWEEP_SECONDS,
                         "options": {"expires": WEBHOOK_SWEEP_SECONDS * 0.9}},
    "send-digests": {"task": "notifications.tasks.send_digests_task", "schedule": DIGEST_CHECK_SECONDS,
                     "options": {"expires": DIGEST_CHECK_SECONDS * 0.9}},
    # Closures are announced from the opening of a working day: looking as often as for digests is enough.
    "announce-closures": {"task": "issues.tasks.announce_closures_task", "schedule": DIGEST_CHECK_SECONDS,
                          "options": {"expires": DIGEST_CHECK_SECONDS * 0.9}},
    "process-inbound": {"task": "inbound.tasks.process_inbound", "schedule": 60.0, "options": {"expires": 54.0}},
    # The API forgets Idempotency-Keys after 24 hours: one indexed DELETE an hour.
    "sweep-idempotency-keys": {"task": "api.tasks.sweep_idempotency_keys", "schedule": 3600.0,
                               "options": {"expires": 3240.0}},
}
if INBOUND_IMAP_URL:
    CELERY_BEAT_SCHEDULE["fetch-email"] = {"task": "inbound.tasks.fetch_email", "schedule": INBOUND_POLL_SECONDS,
                                           "options": {"expires": INBOUND_POLL_SECONDS * 0.9}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"keyvalue": {"()": "tracker.logs.KeyValueFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "keyvalue"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
