"""One settings module, read from the environment.

Every value has a default that lets a fresh clone run on SQLite with an embedded Celery broker;
production sets DATABASE_URL, REDIS_URL, SECRET_KEY and the AWS values (see the README's table).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("VAR_DIR", BASE_DIR / "var"))


def envbool(name, default):
    return os.getenv(name, default).lower() in ("1", "true", "yes", "on")


def envint(name, default):
    return int(os.getenv(name, default))


def envlist(name, default):
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


SECRET_KEY = os.getenv("SECRET_KEY", "dev-only-secret-key-change-me")
DEBUG = envbool("DEBUG", "False")
# This machine only, unless told otherwise: a request naming another host is refused.
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
CSRF_FAILURE_VIEW = "jumpstart_ui.views.csrf_failure"

# HTTPS, off by default so a fresh clone runs on http://127.0.0.1; docker-compose.yml turns it on
# behind a TLS-terminating proxy, which names the original scheme in SECURE_PROXY_SSL_HEADER.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "False")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container's own health check speaks plain HTTP
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", "False")
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", "False")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "False")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "False")
_proxy_ssl_header = os.getenv("SECURE_PROXY_SSL_HEADER", "").strip()  # e.g. X-Forwarded-Proto
SECURE_PROXY_SSL_HEADER = (
    (f"HTTP_{_proxy_ssl_header.upper().replace('-', '_')}", "https") if _proxy_ssl_header else None
)
# How many proxies in front of the app append to X-Forwarded-For: the sign-in lockout takes the
# address the outermost one saw. 0 trusts no header (a client could write any address in it).
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", "0")

# Only our own files run and style pages: no inline script, handler or style attribute.
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

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "jumpstart_ui",
    "catalog",
    "jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into our lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jumpstart_ui.urls"
WSGI_APPLICATION = "jumpstart_ui.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Seconds a connection is kept for the next request (compose: 600); a new PostgreSQL
        # connection costs a request about 5 ms. Health checks drop one the server has closed.
        conn_max_age=envint("DB_CONN_MAX_AGE", "0"),
        conn_health_checks=envbool("DB_CONN_HEALTH_CHECKS", "False"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat write to one file. WAL lets readers go on while one writes; IMMEDIATE
    # takes the write lock when a transaction begins, so a second writer waits up to the timeout
    # instead of failing with "database is locked" when its read turns into a write.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": envint("SQLITE_TIMEOUT_SECONDS", "20"),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }
    # A file, not memory, so threads and subprocesses of a test see the test's database; one per
    # process, so parallel runs do not share one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cached catalog pages are keyed by the catalog's version, which lives in the database, so each
# process may keep its own (local memory); CACHE_URL shares one Redis between them (compose).
CACHE_URL = os.getenv("CACHE_URL", "")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                          "OPTIONS": {"MAX_ENTRIES": 2000}}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out sign-in before any other
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:home"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection (django-axes), on our sign-in page and the admin's alike. A lockout holds
# for one username from one address, so guessing from elsewhere cannot lock its owner out.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_COOLOFF_MINUTES", "15"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "jumpstart_ui.auth.locked_out"
AXES_CLIENT_IP_CALLABLE = "jumpstart_ui.auth.client_ip"
AXES_VERBOSE = False  # no banner on every command; lockouts are still logged

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.getenv("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = os.getenv("STATIC_ROOT") or None  # set where collectstatic runs (the image)
WHITENOISE_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    # botocore says which credentials it found at INFO, on every new client.
    # django-axes tells of every failed sign-in at INFO; a new failure or a lockout is a WARNING.
    "loggers": {"botocore": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport under VAR_DIR,
# so the demo needs no broker process.
REDIS_URL = os.getenv("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "jumpstart_ui.broker:Transport"  # writes each message whole
    _queue_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "control_folder": str(VAR_DIR / "celery-control"),
        "store_processed": False,
        # The worker looks for new messages this often (kombu's default, 1 s, lets beat's ticks
        # queue up behind each other when they come every second, as in the demo's tests).
        "polling_interval": 0.2,
    }
    # kombu expects the queue folder to exist; web and worker alike may be the first to use it.
    _queue_dir.mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CATALOG_SYNC_HOURS = envint("CATALOG_SYNC_HOURS", "24")
POLL_SECONDS = envint("POLL_SECONDS", "10")
POLL_OVERLAP_SECONDS = envint("POLL_OVERLAP_SECONDS", "30")
# A job whose next step (launch, delete, stop) was handed to the broker this long ago without a
# worker taking it is handed over again by beat: a lost message never leaves a job waiting forever.
RESUME_AFTER_SECONDS = envint("RESUME_AFTER_SECONDS", "60")
LOG_POLL_SECONDS = envint("LOG_POLL_SECONDS", "3")  # logs of training jobs somebody watches

# AWS: boto3's standard credential chain; AWS_ENDPOINT_URL (read by botocore itself) points every
# client at a stand-in such as the local AWS.
AWS_REGION = os.getenv("AWS_REGION") or os.getenv("AWS_DEFAULT_REGION") or "us-east-1"
SAGEMAKER_ROLE_ARN = os.getenv("SAGEMAKER_ROLE_ARN", "")
OUTPUT_BUCKET = os.getenv("OUTPUT_BUCKET", "")
JUMPSTART_BUCKET = os.getenv("JUMPSTART_BUCKET", f"jumpstart-cache-prod-{AWS_REGION}")
AWS_MAX_ATTEMPTS = envint("AWS_MAX_ATTEMPTS", "4")
AWS_TIMEOUT_SECONDS = envint("AWS_TIMEOUT_SECONDS", "10")

CATALOG_PAGE_SIZE = envint("CATALOG_PAGE_SIZE", "24")
