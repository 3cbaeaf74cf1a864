"""Fangkong settings: one module, driven by the environment.

Every setting an operator may change is read from an environment variable; the
README lists them. Development defaults are safe for a laptop; in production
(``FANGKONG_ENV=production``) a missing secret stops start-up with a clear error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("FANGKONG_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

ENVIRONMENT = os.environ.get("FANGKONG_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
TESTING = "pytest" in sys.modules or os.environ.get("FANGKONG_TESTING") == "1"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _require(name: str, dev_default: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(
            f"{name} must be set when FANGKONG_ENV=production (see README, 'Configuration')."
        )
    return dev_default


DEBUG = _env_bool("DEBUG", default=False)

# Development-only defaults. `fangkong demo` writes real random keys to var/demo.env.
SECRET_KEY = _require("SECRET_KEY", "dev-insecure-secret-key-do-not-use-in-production")
# Comma-separated Fernet keys, newest first. Old keys stay to decrypt; the first encrypts.
FANGKONG_FIELD_KEYS = [
    k.strip()
    for k in _require("FANGKONG_FIELD_KEYS", "ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc=").split(
        ","
    )
    if k.strip()
]
# Key for the keyed hashes used to look up ID numbers and phones. Never rotated
# silently: changing it requires `fangkong rehash`.
FANGKONG_LOOKUP_KEY = _require("FANGKONG_LOOKUP_KEY", SECRET_KEY)

# Versioned HMAC keys for QR payloads (venue codes, personal tokens): "1:key1,2:key2".
# The highest version signs; every listed version verifies; dropping a version
# invalidates everything signed with it. Unset: version 1 derived from SECRET_KEY.
FANGKONG_SIGNING_KEYS = {
    int(v): k
    for v, _sep, k in (
        item.strip().partition(":")
        for item in os.environ.get("FANGKONG_SIGNING_KEYS", "").split(",")
        if item.strip()
    )
} or {1: "derived:" + SECRET_KEY}

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
    ).split(",")
    if h.strip()
]
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when FANGKONG_ENV=production.")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

HTTPS = _env_bool("FANGKONG_HTTPS", default=PRODUCTION)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and _env_bool("FANGKONG_SSL_REDIRECT", default=False)
# Reverse proxies whose X-Forwarded-For / X-Real-IP give the client's address
# (addresses or networks, comma-separated); none by default: the peer's address counts.
FANGKONG_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("FANGKONG_TRUSTED_PROXIES", "").split(",") if p.strip()
]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("FANGKONG_SESSION_SECONDS", 8 * 3600))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True  # idle expiry: the age counts from the last request
# Personal API tokens (staff devices, scripts): the lifetime of a token created
# without an end, and the longest one may ask for. Signing out revokes them.
FANGKONG_API_TOKEN_DAYS = int(os.environ.get("FANGKONG_API_TOKEN_DAYS", 30))
FANGKONG_API_TOKEN_MAX_DAYS = int(os.environ.get("FANGKONG_API_TOKEN_MAX_DAYS", 365))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "fangkong.core.staticfiles.FangkongStaticFilesConfig",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "huey.contrib.djhuey",
    "fangkong.core",
    "fangkong.notify",
    "fangkong.investigation",
    "fangkong.status",
    "fangkong.screening",
    "fangkong.zones",
    "fangkong.quarantine",
    "fangkong.headquarters",
    "fangkong.entry",
    "fangkong.supplies",
    "fangkong.portal",
    "captcha",
    "django.contrib.sitemaps",
]
# Portal comments: the library's picture of random characters, for every client
# (fangkong/portal/captcha.py); never a question in words that a script can read.
CAPTCHA_CHALLENGE_FUNCT = "captcha.helpers.random_char_challenge"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "fangkong.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "fangkong.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy of every page (core.middleware): our own origin only, no
# inline script or style, no framing. Empty turns it off.
FANGKONG_CSP = os.environ.get(
    "FANGKONG_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
)

ROOT_URLCONF = "fangkong.urls"
WSGI_APPLICATION = "fangkong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fangkong.core.context_processors.staff",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DEFAULT_SQLITE = VAR_DIR / "fangkong.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers proceed while one writer writes; see README "Backups".
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
            " PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
else:
    # PostgreSQL's JIT compiles the plan of any query it thinks costly: 25-200 ms
    # per coverage or list query here, more than the query itself (measured on a
    # round of 5,000,000 people, bench/bench_screening.py). Off, as for most OLTP.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = (str(options.get("options", "")) + " -c jit=off").strip()
if TESTING and DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # A test database per test process, so parallel runs on one server don't collide.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and jobs -------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache, answering without Redis when it is down (core.cache).
            "BACKEND": "fangkong.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "fangkong",
        }
    }
    HUEY = {
        "huey_class": "fangkong.core.queue.ResilientRedisHuey",  # backs off without Redis
        "name": "fangkong",
        "url": REDIS_URL,
        "immediate": TESTING,
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "fangkong",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        # In tests jobs run at once, in-process, so behaviour is observable.
        "immediate": TESTING,
    }

# --- Auth -----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"
AXES_FAILURE_LIMIT = int(os.environ.get("FANGKONG_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_ENABLED = not _env_bool("FANGKONG_AXES_DISABLED", default=False)
OTP_TOTP_ISSUER = "Fangkong"

# --- i18n -----------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [Path(os.environ.get("FANGKONG_LOCALE_DIR", PACKAGE_DIR / "locale"))]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [
    PACKAGE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist"),
    # The API documentation page (Swagger UI), offline: no CDN on a government intranet.
    ("vendor/swagger-ui", BASE_DIR / "node_modules" / "swagger-ui-dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING or DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = TESTING or DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FANGKONG_MAX_IMPORT_BYTES = int(os.environ.get("FANGKONG_MAX_IMPORT_BYTES", 200 * 1024 * 1024))

# --- Notifications --------------------------------------------------------
FANGKONG_SMS_BACKEND = os.environ.get(
    "FANGKONG_SMS_BACKEND",
    "fangkong.notify.backends.LocmemBackend" if TESTING else "fangkong.notify.backends.FileBackend",
)
FANGKONG_SMS_FILE_PATH = Path(os.environ.get("FANGKONG_SMS_FILE_PATH", VAR_DIR / "sms"))
FANGKONG_SMS_GATEWAY = {
    "url": os.environ.get("FANGKONG_SMS_GATEWAY_URL", ""),
    "username": os.environ.get("FANGKONG_SMS_GATEWAY_USER", ""),
    "password": os.environ.get("FANGKONG_SMS_GATEWAY_PASSWORD", ""),
    "timeout": float(os.environ.get("FANGKONG_SMS_GATEWAY_TIMEOUT", 10)),
    "token": os.environ.get("FANGKONG_SMS_GATEWAY_TOKEN", ""),  # Bearer, instead of user/password
    "encoding": os.environ.get("FANGKONG_SMS_GATEWAY_ENCODING", "json"),  # or "form"
    # JSON object whose strings may hold {phone}, {text}, {message_id}; empty: the default.
    "request_template": os.environ.get("FANGKONG_SMS_GATEWAY_TEMPLATE", ""),
    "response_id_field": os.environ.get("FANGKONG_SMS_GATEWAY_ID_FIELD", "id"),
    # Crash recovery: GET this URL ({message_id} = our reference) to ask whether the
    # gateway has a message; and whether it drops a repeated Idempotency-Key.
    "lookup_url": os.environ.get("FANGKONG_SMS_GATEWAY_LOOKUP_URL", ""),
    "idempotent": os.environ.get("FANGKONG_SMS_GATEWAY_IDEMPOTENT", "") == "1",
}
FANGKONG_SMS_CALLBACK_TOKEN = os.environ.get("FANGKONG_SMS_CALLBACK_TOKEN", "")
FANGKONG_SMS_RATE_PER_MINUTE = int(os.environ.get("FANGKONG_SMS_RATE_PER_MINUTE", 600))
# Batches up to this many recipients are prepared in the request; larger ones by the worker.
FANGKONG_SMS_INLINE_BATCH = int(os.environ.get("FANGKONG_SMS_INLINE_BATCH", 5000))
# A worker's claim on the messages it sends lapses this long after its last
# heartbeat (every third of it); a dead worker's messages are then taken up.
FANGKONG_SMS_LEASE_SECONDS = float(os.environ.get("FANGKONG_SMS_LEASE_SECONDS", 30))
FANGKONG_SMS_MAX_ATTEMPTS = int(os.environ.get("FANGKONG_SMS_MAX_ATTEMPTS", 5))
FANGKONG_SMS_RETRY_BASE_SECONDS = float(os.environ.get("FANGKONG_SMS_RETRY_BASE_SECONDS", 30))
# Default quiet hours (local time, TIME_ZONE); per-jurisdiction rows override. Empty: none.
FANGKONG_SMS_QUIET_HOURS = os.environ.get("FANGKONG_SMS_QUIET_HOURS", "22:00-07:00")

# Live venue scans on PostgreSQL may skip waiting for the WAL flush (faster; a
# database crash may lose the last fraction of a second of scans). Off by default.
FANGKONG_CHECKIN_ASYNC_COMMIT = _env_bool("FANGKONG_CHECKIN_ASYNC_COMMIT", default=False)
# Co-presence match runs on PostgreSQL may skip the WAL flush wait (matches are
# recomputable; a server crash loses the last fraction of a second of runs).
FANGKONG_MATCH_ASYNC_COMMIT = _env_bool("FANGKONG_MATCH_ASYNC_COMMIT", default=False)
# The sampling scan's statement is prepared once per PostgreSQL connection (its plan
# costs more than its work). Off behind a pooler in transaction mode (PgBouncer's
# pool_mode=transaction), which may run each statement on another server connection.
FANGKONG_DB_PREPARE = _env_bool("FANGKONG_DB_PREPARE", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"quiet_4xx": {"()": "fangkong.logfilters.QuietClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # Its own handler, not the root's too: the worker (run_huey) then adds none,
        # and each line is printed once.
        "huey": {"level": "INFO", "handlers": ["console"], "propagate": False},
        # A 403 or 404 is one line, not a traceback.
        "django.request": {"filters": ["quiet_4xx"]},
    },
}
