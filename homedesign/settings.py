"""One settings module for every environment, driven by environment variables.

The defaults run on a laptop with nothing configured: SQLite and the task queue in the
data folder, mail printed to the console, DEBUG off. Production sets DATABASE_URL,
SECRET_KEY, ALLOWED_HOSTS and HTTPS=1 (see README.md).
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name).lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_mapping(name: str) -> dict[str, list[str]]:
    """ "a=x,y;b=z" -> {"a": ["x", "y"], "b": ["z"]}"""
    mapping = {}
    for item in env_str(name).split(";"):
        key, _, values = item.partition("=")
        if key.strip():
            mapping[key.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return mapping


def generated_secret_key(path: Path) -> str:
    """A key made once per data folder, so a newcomer configures nothing and sessions
    survive restarts. Production sets SECRET_KEY instead."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


# --- Core -------------------------------------------------------------------------------------

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR") or BASE_DIR / "data")

DEBUG = env_bool("DEBUG", default=False)
# Behind HTTPS (HTTPS=1): a real deployment. Secure cookies, HSTS, a redirect from plain HTTP,
# and a SECRET_KEY of its own, shared by every server (a generated one would differ per host).
HTTPS = env_bool("HTTPS", default=False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY and HTTPS:
    raise ImproperlyConfigured("Set SECRET_KEY in production (HTTPS=1): the same on every server")
SECRET_KEY = SECRET_KEY or generated_secret_key(DATA_DIR / "secret_key")
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# Behind a reverse proxy: trust its X-Forwarded-Proto, and take the client's address from the
# last X-Forwarded-For entry (the one the proxy added) for login lockouts and rate limits.
BEHIND_PROXY = env_bool("BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every page (django-csp): scripts, styles, images and requests from this site only, no inline
# script or style (htmx is configured not to inject any), no plugins, no framing, forms post
# here only. Style attributes set from script (the mask editor's zoom, the compare slider)
# go through the CSSOM, which the policy does not restrict.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "homedesign.urls"
WSGI_APPLICATION = "homedesign.wsgi.application"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Apps and middleware ----------------------------------------------------------------------

INSTALLED_APPS = [
    "csp",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "homedesign",
    "homedesign.accounts",
    "homedesign.projects",
    "orders",
    "maskeditor",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: it turns a login refused for a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

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
                "orders.context_processors.reviews",
            ],
            "builtins": [
                "django_htmx.templatetags.django_htmx",
                "template_partials.templatetags.partials",
            ],
        },
    }
]

# --- Database ---------------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; IMMEDIATE takes the write lock
    # at BEGIN so two writers queue up instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests get a file too: an in-memory database shared with the live server's thread
    # locks whole tables and fails at once instead of waiting like the real one.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    # Parameters bound by the server, and a query run five times on a connection kept as a
    # prepared statement, so PostgreSQL plans it once: the session's user and the order
    # page's status poll, asked by every open page every 2 s, then cost no planning (the
    # scale bench measures it). Django leaves both off for connection poolers; a PgBouncer
    # in transaction mode older than 1.21 needs DATABASE_PREPARED_STATEMENTS=0.
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- Storage ----------------------------------------------------------------------------------

# Media are private: there is no MEDIA_URL route; files are served by views that check access.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or DATA_DIR / "media")
STORAGES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
FILE_UPLOAD_PERMISSIONS = 0o640

# Several machines: every file in an S3-compatible bucket (django-storages), so a worker on
# one machine reads the photo the web server on another stored. The bucket stays private:
# views check access, then redirect to a URL signed for a short while.
S3_BUCKET = env_str("S3_BUCKET")
S3_ENDPOINT_URL = env_str("S3_ENDPOINT_URL").rstrip("/")  # MinIO, Ceph…; empty for AWS
S3_REGION = env_str("S3_REGION", "us-east-1")
S3_ORIGIN = ""
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "region_name": S3_REGION,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "signature_version": "s3v4",
            # Servers other than AWS rarely have a DNS name per bucket.
            "addressing_style": "path" if S3_ENDPOINT_URL else "virtual",
        },
    }
    # The browser fetches images from the bucket after the redirect. (AWS names a bucket in
    # us-east-1 without its region.)
    S3_ORIGIN = S3_ENDPOINT_URL or f"https://{S3_BUCKET}.s3.{S3_REGION}.amazonaws.com"
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] = [
        SELF, S3_ORIGIN, *([] if S3_ENDPOINT_URL else [f"https://{S3_BUCKET}.s3.amazonaws.com"])
    ]  # fmt: skip
# How long a signed bucket URL works, for the agent's browser and for share-page visitors.
# Each is followed at once (the page links to a view that checks access, then redirects),
# so minutes are plenty; shorter for share-page visitors, so revoking a link bites soon.
STORAGE_URL_SECONDS = env_int("STORAGE_URL_SECONDS", 300)
SHARE_FILE_URL_SECONDS = env_int("SHARE_FILE_URL_SECONDS", 120)

# --- Auth -------------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
# Sessions are read on every request (order pages poll every 2 s): keep them in the cache
# too, so most requests skip that query.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "projects:project_list"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed logins lock out the account, and separately the client address, for a cool-off
# (django-axes). Locked-out attempts are refused before the password is hashed, so they cost
# nothing. Staff lift a lockout early by deleting its row under Axes › Access attempts.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own
AXES_USERNAME_CALLABLE = "homedesign.accounts.throttle.login_username"
AXES_CLIENT_IP_CALLABLE = "homedesign.accounts.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "homedesign.accounts.views.login_locked_out"
# A success does not wipe the counts: it would also wipe the address's, which anyone with
# one working account could then keep at zero. Failures age out with the cool-off.
AXES_RESET_ON_SUCCESS = False
# A lockout ends one cool-off after it began (tries meanwhile are refused, not counted), so
# the message can say when it ends.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_SENSITIVE_PARAMETERS = ["password"]
# Mails on demand (sign-up, password reset) per client address and per e-mail address.
MAIL_REQUESTS_PER_HOUR_PER_CLIENT = env_int("MAIL_REQUESTS_PER_HOUR_PER_CLIENT", 10)
MAIL_REQUESTS_PER_HOUR_PER_EMAIL = env_int("MAIL_REQUESTS_PER_HOUR_PER_EMAIL", 3)
# How long the link in a sign-up mail works.
SIGNUP_LINK_SECONDS = env_int("SIGNUP_LINK_HOURS", 72) * 3600

# Credits every new account starts with.
STARTING_CREDITS = env_int("STARTING_CREDITS", 20)

# --- E-mail -----------------------------------------------------------------------------------

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "homedesign <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Tasks ------------------------------------------------------------------------------------

# The queue is the database by default; with REDIS_URL it is RQ on that Redis (web and
# workers on several machines), and the cache (sessions, rate-limit windows, AdCreative's
# token) lives there too, shared by every process.
REDIS_URL = env_str("REDIS_URL")
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks_rq.RQBackend" if REDIS_URL else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}
if REDIS_URL:
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    # A job's time limit: far beyond the longest local job, which the order's lease and
    # the reaper watch anyway.
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3 * 3600}}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "homedesign",
        }
    }
# Task workers per machine (`manage.py serve` with --role worker or all).
TASK_WORKERS = env_int("TASK_WORKERS", 1)

# An order's worker renews its lease while it works; an order whose lease ran out lost its
# worker and is queued again, up to ORDER_MAX_ATTEMPTS times, then failed with a refund.
ORDER_LEASE_SECONDS = env_int("ORDER_LEASE_SECONDS", 300)
ORDER_MAX_ATTEMPTS = env_int("ORDER_MAX_ATTEMPTS", 3)
# How often `serve` looks for orders whose worker was lost.
ORDER_REAP_SECONDS = env_int("ORDER_REAP_SECONDS", 60)
# A listing ZIP's worker writes a heartbeat with each entry (a 50 MP photo takes seconds);
# a ZIP silent this long lost its worker and is built once more, then failed.
LISTING_ZIP_STALE_SECONDS = env_int("LISTING_ZIP_STALE_SECONDS", 600)

# --- Providers --------------------------------------------------------------------------------

# Per service, the providers to try in order, e.g. "upscale=local;day_to_dusk=aihomedesign,local".
# A service not named here uses the catalogue's order (orders/catalog.py).
ORDER_PROVIDERS = env_mapping("ORDER_PROVIDERS")
UPSCALE_MAX_PIXELS = env_int("UPSCALE_MAX_MEGAPIXELS", 64) * 1_000_000
# An ONNX inpainting model (MI-GAN's pipeline or LaMa) for painted item removal; without it
# the local engine fills holes from their surroundings. Never downloaded by the app.
INPAINT_MODEL_PATH = env_str("INPAINT_MODEL_PATH")
INPAINT_MODEL_SHA256 = env_str("INPAINT_MODEL_SHA256")
PROVIDER_TIMEOUT_SECONDS = env_int("PROVIDER_TIMEOUT_SECONDS", 120)
# Waits between retries on 429, 5xx and network errors: this, then twice, then four times.
PROVIDER_BACKOFF_SECONDS = float(env_str("PROVIDER_BACKOFF_SECONDS") or 1)
# The largest result a remote provider may send back; results are downloaded, never hot-linked.
RESULT_MAX_BYTES = env_int("RESULT_MAX_MB", 100) * 1024 * 1024
# Links a provider hands us (results, redirects) are fetched only from public addresses.
# Its configured base URL is trusted as set, for its exact origin; these origins
# ("http://minio.lan:9000") are trusted too, e.g. a results store on the local network.
# Credentials never go to them.
EGRESS_TRUSTED_ORIGINS = env_list("EGRESS_TRUSTED_ORIGINS")
OBJECT_REMOVER_BASE_URL = env_str("OBJECT_REMOVER_BASE_URL")
OBJECT_REMOVER_TOKEN = env_str("OBJECT_REMOVER_TOKEN")

# Where providers reach this app: the signed photo/mask URLs IACrea fetches and the webhook
# URLs. Without it, remote jobs are followed by polling only and IACrea is unavailable.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL").rstrip("/")
# How long a signed photo or mask URL handed to a provider stays valid.
HANDOVER_URL_SECONDS = env_int("HANDOVER_URL_HOURS", 24) * 3600
# With files in a bucket, that URL redirects the provider to one signed for this long.
HANDOVER_REDIRECT_SECONDS = env_int("HANDOVER_REDIRECT_SECONDS", 600)
# How often a remote job is asked for news, and when we give up on it (refunding the agent).
REMOTE_POLL_SECONDS = float(env_str("REMOTE_POLL_SECONDS") or 10)
REMOTE_MAX_WAIT_SECONDS = env_int("REMOTE_MAX_WAIT_MINUTES", 60) * 60

AIHOMEDESIGN_API_KEY = env_str("AIHOMEDESIGN_API_KEY")
AIHOMEDESIGN_BASE_URL = env_str("AIHOMEDESIGN_BASE_URL", "https://api.aihomedesign.com/v1")
# AI HomeDesign allows 10 orders per 10 minutes per key; further orders wait in the queue.
AIHOMEDESIGN_ORDERS_PER_WINDOW = env_int("AIHOMEDESIGN_ORDERS_PER_WINDOW", 10)
AIHOMEDESIGN_WINDOW_SECONDS = env_int("AIHOMEDESIGN_WINDOW_MINUTES", 10) * 60
# Fetch results through the upscale download (full resolution). Its link comes only by
# webhook: turn this on once the webhook URL is registered in AI HomeDesign's dashboard.
# This long without the upscale webhook, the regular result is kept.
AIHOMEDESIGN_UPSCALE = env_bool("AIHOMEDESIGN_UPSCALE", default=False)
AIHOMEDESIGN_UPSCALE_WAIT_SECONDS = env_int("AIHOMEDESIGN_UPSCALE_WAIT_MINUTES", 10) * 60

IACREA_API_KEY = env_str("IACREA_API_KEY")
IACREA_USER_ID = env_str("IACREA_USER_ID")
IACREA_BASE_URL = env_str("IACREA_BASE_URL", "https://iacrea.com/api")
IACREA_AUTH = env_str("IACREA_AUTH", "x-api-key")  # or "bearer" (some IACrea pages)

ADCREATIVE_BASE_URL = env_str("ADCREATIVE_BASE_URL", "https://api.adcreative.ai")
ADCREATIVE_APPLICATION_ID = env_str("ADCREATIVE_APPLICATION_ID")
ADCREATIVE_JWT_PRIVATE_KEY = env_str("ADCREATIVE_JWT_PRIVATE_KEY")
ADCREATIVE_API_KEY = env_str("ADCREATIVE_API_KEY")
ADCREATIVE_API_SECRET = env_str("ADCREATIVE_API_SECRET")
ADCREATIVE_USER_ID = env_str("ADCREATIVE_USER_ID")

# --- Photos -----------------------------------------------------------------------------------

PHOTO_MAX_BYTES = env_int("PHOTO_MAX_MB", 50) * 1024 * 1024
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_MEGAPIXELS", 100) * 1_000_000
# Memory budgets for decoding uploads, checked from the header before decoding: one upload
# (the default fits a 100 MP photo in colour, with or without transparency), one user's
# uploads at once across the web processes, and one web process (more waits its turn).
PHOTO_DECODE_MAX_BYTES = env_int("PHOTO_DECODE_MAX_MB", 400) * 1_000_000
PHOTO_DECODE_USER_MAX_BYTES = env_int("PHOTO_DECODE_USER_MAX_MB", 800) * 1_000_000
PHOTO_DECODE_PROCESS_MAX_BYTES = env_int("PHOTO_DECODE_PROCESS_MAX_MB", 800) * 1_000_000
PHOTO_DISPLAY_SIZE = 2048
PHOTO_THUMBNAIL_SIZE = 400
# The agent's logo on share pages: PNG, JPEG or WebP, stored as a PNG within LOGO_SIZE px.
LOGO_MAX_BYTES = env_int("LOGO_MAX_KB", 2048) * 1024
LOGO_MAX_PIXELS = env_int("LOGO_MAX_MEGAPIXELS", 16) * 1_000_000
LOGO_SIZE = 512

# --- Delivery ---------------------------------------------------------------------------------

# The sizes a result is delivered in besides its full size (orders/delivery.py). Portals
# publish different caps; the MLS size fits the strictest common ones. Sources (read
# 2026-12): Bright MLS caps a photo at 3 MB and recommends 2048 × 1536 px; HAR recommends
# 2048 × 1536; most MLS guides recommend 2048 px on the long edge and require JPEG
# (image-scaler.com/blog/real-estate-photography-mls-scaling,
# fotober.com/mls-photo-size-requirements). An MLS with other rules: set these.
DELIVERY_MLS_LONG_EDGE = env_int("DELIVERY_MLS_LONG_EDGE", 2048)
DELIVERY_MLS_MAX_BYTES = env_int("DELIVERY_MLS_MAX_KB", 3000) * 1000
# Web: quick on a phone, sharp on a laptop screen.
DELIVERY_WEB_LONG_EDGE = env_int("DELIVERY_WEB_LONG_EDGE", 1600)
DELIVERY_WEB_MAX_BYTES = env_int("DELIVERY_WEB_MAX_KB", 800) * 1000

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
