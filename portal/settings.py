"""
Settings for the evidence portal: one module, driven by environment variables.

Defaults are safe for production; `DJANGO_DEBUG=true` (which `make run` sets through `.env`)
switches to a development mode that needs no server: SQLite, a filesystem Celery broker and
private local files, all in one data folder, with secrets generated there once.
Every variable is listed with its default in README.md and `.env.example`.
"""

import ipaddress
import os
import secrets
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from portal.keys import new_signing_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    # Optional and never committed; the process environment wins over it.
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Everything the portal keeps on local disk: SQLite, broker messages, private files, dev secrets.
DATA_DIR = Path(env.str("PORTAL_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()

# Secrets that say they are not for a deployment (Django's own marker, and ours for tests).
DEVELOPMENT_SECRET_PREFIXES = ("django-insecure-", "dev-", "test-")


def is_local_host(host: str) -> bool:
    """Return whether an ALLOWED_HOSTS entry names only this machine (loopback)."""
    host = host.strip().lower().removeprefix("[").removesuffix("]")
    if host in {"localhost", ".localhost", "testserver"} or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name, "*" or ".example.org": reachable from elsewhere


def refuse_debug_in_production() -> None:
    """
    Refuse DJANGO_DEBUG=true where the portal looks deployed: debug pages show settings,
    queries and tracebacks (with witnesses' data) to anyone who reaches the server.
    """
    problems = []
    if public := [h for h in env.list("DJANGO_ALLOWED_HOSTS", default=[]) if not is_local_host(h)]:
        problems.append(f"DJANGO_ALLOWED_HOSTS names a host other than this machine ({public[0]})")
    key = env.str("DJANGO_SECRET_KEY", default="")
    if not key and (path := env.str("DJANGO_SECRET_KEY_FILE", default="")):
        key = Path(path).read_text().strip()
    if key and not key.startswith(DEVELOPMENT_SECRET_PREFIXES):
        problems.append("a production DJANGO_SECRET_KEY is given")
    if problems:
        raise ImproperlyConfigured(
            f"DJANGO_DEBUG=true is refused: {'; '.join(problems)}. Debug mode would show "
            "settings and tracebacks to anyone who reaches the portal. For a deployment, "
            "unset DJANGO_DEBUG; for development, use local hosts and let the portal generate "
            "its secret (or start the key with 'django-insecure-')."
        )


if DEBUG:
    refuse_debug_in_production()


def private_dir(path: Path) -> Path:
    """Create `path` and any missing parent (readable by this user only) and return it."""
    # Not mkdir(parents=True): it gives the parents it creates the umask's mode (often 0755).
    for folder in [*reversed(path.parents), path]:
        if not folder.exists():
            folder.mkdir(mode=0o700, exist_ok=True)
    # A folder of ours made before (by an older version, or by hand) is tightened too.
    status = path.stat()
    if status.st_uid == os.getuid() and status.st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """
    Create `path` empty, readable and writable by this user only (0600), or tighten it to that;
    likewise the journal files beside it. SQLite gives its files the umask's mode (often 0644)
    and its WAL and shared-memory files the database's own.
    """
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        if file.exists() and (status := file.stat()).st_mode & 0o077:
            if status.st_uid == os.getuid():
                file.chmod(0o600)
    return path


def secret(name: str, generate) -> str:
    """
    Read a mandatory secret from NAME or from the file named by NAME_FILE.

    In development a missing secret is generated once and kept in the data folder, so that
    sessions and encrypted fields survive a restart. In production it fails loudly.
    """
    if value := env.str(name, default=""):
        return value
    if path := env.str(f"{name}_FILE", default=""):
        return Path(path).read_text().strip()
    if not DEBUG:
        raise ImproperlyConfigured(
            f"Set {name} (or {name}_FILE). For development, set DJANGO_DEBUG=true instead."
        )
    keep = private_dir(DATA_DIR / "secrets") / name.lower()
    if not keep.exists():
        keep.write_text(generate())
        keep.chmod(0o600)
    return keep.read_text().strip()


SECRET_KEY = secret("DJANGO_SECRET_KEY", lambda: secrets.token_urlsafe(64))

# Keys for encrypted model fields (witness identities, contacts). Comma-separated Fernet keys:
# the first encrypts, all decrypt: put a new key first, run `rotate_encryption_key`, drop the old.
FIELD_ENCRYPTION_KEYS = [
    key.strip()
    for key in secret("FIELD_ENCRYPTION_KEYS", lambda: Fernet.generate_key().decode()).split(",")
    if key.strip()
]


def audit_hmac_keys(value: str) -> list[tuple[str, bytes]]:
    """
    Parse AUDIT_HMAC_KEYS: comma-separated "id:secret" pairs, newest first. The first signs new
    audit events; every one verifies the events that name its id (rotation: put a new key
    first, keep the old ones for as long as their events must be verified).
    """
    keys = []
    for item in value.split(","):
        if not item.strip():
            continue
        key_id, _, key = item.strip().partition(":")
        if not key_id.isalnum() or len(key_id) > 16 or len(key) < 32:
            raise ImproperlyConfigured(
                "AUDIT_HMAC_KEYS must be comma-separated id:secret pairs: an id of at most 16 "
                "letters or digits and a secret of at least 32 characters."
            )
        keys.append((key_id, key.encode()))
    if not keys or len({key_id for key_id, _ in keys}) != len(keys):
        raise ImproperlyConfigured("AUDIT_HMAC_KEYS needs at least one key, each id once.")
    return keys


# Keys of the audit log's chain (HMAC-SHA256), kept out of the database so that someone who
# can write to it cannot re-chain the log. Newest first; each event records its key's id.
AUDIT_HMAC_KEYS = audit_hmac_keys(
    secret("AUDIT_HMAC_KEYS", lambda: f"k{secrets.token_hex(4)}:{secrets.token_urlsafe(48)}")
)
# Serve /bench/floor/ (the benchmarks' reference page) without DEBUG: bench/run.py sets it.
PORTAL_BENCH_FLOOR = env.bool("PORTAL_BENCH_FLOOR", default=False)
# Processes that verify the audit chain in parallel slices (PostgreSQL, big logs); 0: one per
# core.
AUDIT_VERIFY_PROCESSES = env.int("AUDIT_VERIFY_PROCESSES", default=0)


# The brief-signing keys (Ed25519, PEM PKCS#8), newest first: the first signs, the others are
# kept so that their public keys stay published at /keys/ (rotation: put a new key first).
# Never in the database. See reviews/signing.py.
PORTAL_SIGNING_KEYS = secret("PORTAL_SIGNING_KEY", new_signing_key)
# Public keys (PEM) of retired signing keys whose private part has been destroyed: still
# published, so that briefs signed with them still verify.
PORTAL_RETIRED_SIGNING_KEYS_FILE = env.str("PORTAL_RETIRED_SIGNING_KEYS_FILE", default="")
# An X.509 certificate (PEM) for the first signing key, used in the PDF signature; without one
# the portal makes a self-signed certificate for the key.
PORTAL_SIGNING_CERT_FILE = env.str("PORTAL_SIGNING_CERT_FILE", default="")
# An RFC 3161 timestamp authority: every manifest signature and PDF signature gets a token.
PORTAL_TSA_URL = env.str("PORTAL_TSA_URL", default="")
PORTAL_TSA_TIMEOUT = env.int("PORTAL_TSA_TIMEOUT", default=20)
# SHA-256 fingerprints of the authority's certificate(s), published in keys.json: the verifier
# then accepts timestamps from these authorities only.
PORTAL_TSA_CERT_SHA256 = env.list("PORTAL_TSA_CERT_SHA256", default=[])


ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "portal",
    "submissions",
    "reviews",
    "designations",
    "transparency",
    "api",
    "intake",
    "portal.admin_site.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # The devices are the portal's own (portal.models.AuthenticatorDevice, RecoveryCodeDevice):
    # django-otp's TOTP and static plugins keep secrets and recovery codes in clear.
    "django_otp",
    "axes",
    "csp",
    "django_countries",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Closed by default: every page needs a login unless marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "portal.middleware.IdleTimeoutMiddleware",
    "portal.middleware.TwoFactorMiddleware",
    "portal.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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

# Database: SQLite in the data folder unless DATABASE_URL names another (PostgreSQL in production).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] not in {"", ":memory:"}:
        # Witnesses' data: created 0600 before SQLite opens it, in a 0700 folder.
        name = Path(DATABASES["default"]["NAME"])
        private_file(private_dir(name.parent) / name.name)
    # The web server and the worker write at once: WAL lets readers go on, IMMEDIATE takes the
    # write lock at BEGIN so that two writers queue instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Users and sign-in
AUTH_USER_MODEL = "portal.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "after-sign-in"  # NGO members to their dossiers (portal.views)
LOGOUT_REDIRECT_URL = "home"
AUTHENTICATION_BACKENDS = [
    # Counts failed sign-ins and refuses locked-out ones before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # Permissions in one query (ModelBackend, after it, then finds them on the user).
    "portal.auth.PermissionsInOneQuery",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock out an address and account pair after 5 failures for an hour; a success resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("AXES_COOLOFF_HOURS", default=1)
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_USERNAME_CALLABLE = "portal.auth.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = 1 if env.bool("DJANGO_BEHIND_PROXY", default=False) else 0
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Evidence portal")
# Idle sessions end: after 30 minutes in the review site, after 2 hours elsewhere.
ADMIN_IDLE_TIMEOUT = env.int("ADMIN_IDLE_TIMEOUT", default=30 * 60)
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=2 * 60 * 60)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2  # a reset link is good for two hours

# Languages: the people who file write in many; the interface starts with English and Japanese.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ja", _("Japanese"))]
# The public intake for victims and witnesses (/report/) speaks more languages than the rest of
# the portal; these are offered on its pages only (intake/languages.py).
INTAKE_LANGUAGES = [*LANGUAGES, ("km", _("Khmer"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language switcher's choice is remembered for a year on this device.
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
# One date format per language (portal/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files are served by the portal itself (WhiteNoise): no asset from a third-party host.
STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the source folders in development and tests; production serves the
# hashed, compressed copies that `collectstatic` writes to STATIC_ROOT.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)

# Files: a private local folder (no public URL at all) unless an S3-compatible bucket is set.
# Downloads always go through a view that checks access.
if bucket := env.str("AWS_STORAGE_BUCKET_NAME", default=""):
    # Objects are read as streams and written in 5 MiB parts from memory (portal/storage.py):
    # nothing goes through the local disk, so web and workers need no shared folder.
    # Server-side encryption: "AES256" (the store's keys) by default, "aws:kms", or "" for a
    # store that encrypts its disks itself and refuses the header.
    encryption = env.str("AWS_S3_SERVER_SIDE_ENCRYPTION", default="AES256")
    default_storage = {
        "BACKEND": "portal.storage.ObjectStorage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("AWS_LOCATION", default=""),
            # "path" for stores without a DNS name per bucket (MinIO, SeaweedFS); empty: auto.
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
            "signature_version": "s3v4",
            "default_acl": None,  # the bucket's own policy: keep it private
            "file_overwrite": False,
            "querystring_auth": True,  # signed URLs only ...
            # ... valid for five minutes by default
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=300),
            "object_parameters": {"ServerSideEncryption": encryption} if encryption else {},
        },
    }
else:
    default_storage = {
        "BACKEND": "portal.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "private")},
    }
# Downloads are streamed by the portal (a browser talks to nobody else) unless this is set, for
# an object store served from the deployment's own host: then a URL signed for
# AWS_QUERYSTRING_EXPIRE seconds is given instead.
PORTAL_SIGNED_DOWNLOADS = env.bool("PORTAL_SIGNED_DOWNLOADS", default=False)
STORAGES = {
    "default": default_storage,
    "staticfiles": {
        "BACKEND": env.str(
            "DJANGO_STATICFILES_STORAGE",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
# Withdrawn and rejected dossiers (with their files) are purged this many days after the
# decision, unless on legal hold.
RETENTION_DAYS = env.int("PORTAL_RETENTION_DAYS", default=365)
# clamd to scan evidence with ("host:port"); without it, only the built-in checks run.
CLAMD_ADDRESS = env.str("CLAMD_ADDRESS", default="")
# Evidence files up to this size (2 GiB by default), enforced while the upload streams in.
EVIDENCE_MAX_UPLOAD_SIZE = env.int("PORTAL_MAX_UPLOAD_BYTES", default=2 * 1024**3)
# Uploads stream to private temporary files beside the store (a rename, not a copy, to keep).
FILE_UPLOAD_TEMP_DIR = str(private_dir(DATA_DIR / "tmp"))
FILE_UPLOAD_PERMISSIONS = 0o600
# Bodies read into memory (JSON, form fields): larger ones are refused before they are read,
# with 413 in the API (api/problems.py). Files stream to disk and have their own limit above.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MiB, Django's default, stated on purpose
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# Email: printed to the console in development, SMTP by configuration (EMAIL_URL).
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
)
EMAIL_BACKEND = EMAIL_CONFIG["EMAIL_BACKEND"]
EMAIL_HOST = EMAIL_CONFIG.get("EMAIL_HOST", "localhost")
EMAIL_PORT = EMAIL_CONFIG.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = EMAIL_CONFIG.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = EMAIL_CONFIG.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = EMAIL_CONFIG.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = EMAIL_CONFIG.get("EMAIL_USE_SSL", False)
if "EMAIL_FILE_PATH" in EMAIL_CONFIG:  # filemail:///path: one file per message (tests, demos)
    EMAIL_FILE_PATH = EMAIL_CONFIG["EMAIL_FILE_PATH"]
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where the portal is reached: the links in emails (sent by workers, with no request to ask).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://localhost:8000")

# Security. Production defaults; development relaxes only what plain http needs.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
if env.bool("DJANGO_BEHIND_PROXY", default=False):
    # Only behind a reverse proxy that sets this header itself (never passes the client's).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Nothing leaves for other sites; same-origin keeps the Origin header that CSRF checks need
# (with "no-referrer", browsers send "Origin: null" on form posts).
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=60 * 60 * 8)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: only the portal's own files; no inline script, style or frame.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # Bootstrap draws form controls with data: SVG
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Celery. Redis when REDIS_URL (or CELERY_BROKER_URL) is set; otherwise a broker kept in the
# data folder, so that `make run` runs a real worker process without any server.
# Eager mode (CELERY_TASK_ALWAYS_EAGER) is for unit tests only.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    broker_dir = private_dir(DATA_DIR / "broker")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(private_dir(broker_dir / "queue")),
        "data_folder_out": str(private_dir(broker_dir / "queue")),
        "control_folder": str(private_dir(broker_dir / "control")),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = env.str(
        "CELERY_RESULT_BACKEND", default=f"file://{private_dir(DATA_DIR / 'results')}"
    )
else:
    # A message not acknowledged within this time is delivered again (to another worker):
    # longer than the longest task, so that a slow brief render is not run twice at once.
    # https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout
    visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": visibility_timeout,
        # How often a worker looks for messages whose worker died (kombu's default: 100 s).
        "unacked_restore_interval": max(1, min(60, visibility_timeout // 5)),
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": 5,
    }
    CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# evidence: hashing, sniffing, scanning; briefs: PDF and manifest rendering; default: the rest.
# designations: importing published sanctions lists (long, streamed).
CELERY_TASK_QUEUES = [Queue("default"), Queue("evidence"), Queue("briefs"), Queue("designations")]
CELERY_TASK_ROUTES = {
    "designations.tasks.*": {"queue": "designations"},
    "transparency.tasks.render_*": {"queue": "briefs"},
    "submissions.tasks.purge_expired_dossiers": {"queue": "default"},
    "intake.tasks.*": {"queue": "default"},
    "submissions.tasks.*": {"queue": "evidence"},
    "reviews.tasks.render_*": {"queue": "briefs"},
}
# Do not lose work: a task is acknowledged only after it ran, and is handed back to the queue if
# the process running it dies. Safe because every task is idempotent.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-acks-late
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process: a long render must not hold others hostage.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(private_dir(DATA_DIR) / "celerybeat-schedule")
# Every periodic task, in one place.
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "portal.tasks.clear_expired_sessions",
        "schedule": 60 * 60 * 6,
    },
    "purge-expired-dossiers": {
        "task": "submissions.tasks.purge_expired_dossiers",
        "schedule": 60 * 60 * 24,
    },
    "verify-audit-log": {
        "task": "portal.tasks.verify_audit_log",
        "schedule": 60 * 60 * 24,
    },
    "remind-overdue-reviews": {
        "task": "reviews.tasks.remind_overdue_assignments",
        "schedule": 60 * 60 * 24,
    },
    # Only fetches the lists whose URL is configured (DESIGNATION_LIST_URLS); none by default.
    "fetch-designation-lists": {
        "task": "designations.tasks.fetch_configured_lists",
        "schedule": 60 * 60 * 24,
    },
    "transparency-snapshot": {
        "task": "transparency.tasks.compute_snapshot",
        "schedule": 60 * 60 * 24,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # Error reports of intake requests lose the request (address, browser): issue #24.
        "forget_reporters": {"()": "intake.privacy.ForgetReporterFilter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["forget_reporters"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # WeasyPrint logs every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "django.request": {"filters": ["forget_reporters"]},
        "django.security": {"filters": ["forget_reporters"]},
        "django.security.csrf": {"filters": ["forget_reporters"]},
    },
}

# --- REST API (api/, issue #12) ---------------------------------------------------------------
REST_FRAMEWORK = {
    # Tokens only: no session cookie, hence no CSRF surface (docs/api.md).
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.authentication.TokenScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.authentication.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.NulFreeJSONParser",
        "api.parsers.NulFreeMultiPartParser",
    ],
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "DEFAULT_METADATA_CLASS": None,  # OPTIONS describes nothing: the schema does
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Requests per token (DRF rate syntax); counted in Redis when REDIS_URL is set.
API_TOKEN_RATE = env.str("API_TOKEN_RATE", default="600/minute")
# Caches. "default" holds a few lookups for minutes, per process. The API's rate limit must
# count every request of a token on all web processes: in Redis when REDIS_URL is set (under a
# key prefix of its own), in memory otherwise (development, one process).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api-throttle": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "api-throttle",
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "api-throttle",
        }
    ),
}
# "shared": seen by every process (Redis when REDIS_URL is set). Sessions are read from it
# (written through to the database, so that a restart of Redis signs nobody out) and the NGO
# dashboard keeps its pages there (submissions/dashboard.py), which needs a shared cache.
CACHES["shared"] = (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
     "KEY_PREFIX": "shared"}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shared"}
)  # fmt: skip
if REDIS_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "shared"
VERSIONED_CACHE = env.bool("VERSIONED_CACHE", default=bool(REDIS_URL))
VERSIONED_CACHE_ALIAS = "shared"
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)
# Resumable uploads in progress: a private folder of the data directory, kept for a day.
API_UPLOAD_DIR = str(DATA_DIR / "api-uploads")
API_UPLOAD_EXPIRES = env.int("API_UPLOAD_EXPIRES_SECONDS", default=60 * 60 * 24)
CELERY_BEAT_SCHEDULE["purge-expired-api-uploads"] = {
    "task": "api.tasks.purge_expired_uploads",
    "schedule": 60 * 60,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Evidence portal API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "File dossiers from your own systems, under the same rules as the portal's pages. "
        "Authenticate with `Authorization: Bearer <token>` (create tokens at /api/tokens/). "
        "Errors are RFC 9457 problem details."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.docs.add_problem_responses",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "DossierStatusEnum": "submissions.models.Dossier.Status",
        "AnswerStatusEnum": "submissions.models.ChecklistAnswer.Status",
        "RegimeStatusEnum": "submissions.models.Regime.Status",
        "CountryEnum": "django_countries.countries",
    },
    # Interactive docs from the portal's own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Designations (designations/, issue #10) --------------------------------------------------
# Published lists fetched daily where the deployment has network access, as FORMAT=URL pairs,
# e.g. "ofac-sdn-xml=https://...,uk-sanctions-list=https://...". Empty: nothing is fetched.
DESIGNATION_LIST_URLS = env.dict("DESIGNATION_LIST_URLS", default={})

# --- Transparency (transparency/, issue #11) --------------------------------------------------
# Public counts below this are shown as "fewer than N" (with secondary suppression).
TRANSPARENCY_THRESHOLD = env.int("TRANSPARENCY_THRESHOLD", default=5)

# --- Audit log anchoring (issue #18) ----------------------------------------------------------
# Signed checkpoints of the audit chain's head, written daily to a store that the database's
# users cannot reach: PORTAL_AUDIT_ANCHOR_DIR (a folder, e.g. a mount of another machine), else
# the object store under AUDIT_ANCHOR_PREFIX when a bucket is configured, else the data folder.
# `verify_audit_log` checks the chain against every checkpoint there.
if anchor_dir := env.str("PORTAL_AUDIT_ANCHOR_DIR", default=""):
    STORAGES["audit_anchor"] = {
        "BACKEND": "portal.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": anchor_dir},
    }
elif bucket:
    STORAGES["audit_anchor"] = {
        "BACKEND": "portal.storage.ObjectStorage",
        "OPTIONS": {
            **default_storage["OPTIONS"],
            "location": env.str("AUDIT_ANCHOR_PREFIX", default="audit-checkpoints"),
        },
    }
else:
    STORAGES["audit_anchor"] = {
        "BACKEND": "portal.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "audit-checkpoints")},
    }
# Optional: an Ed25519 private key (PEM, or its file with _FILE) that also signs checkpoints,
# so that anyone holding only the public key can check them; and an RFC 3161 timestamp
# authority whose token is kept beside each checkpoint.
AUDIT_CHECKPOINT_SIGNING_KEY = env.str("AUDIT_CHECKPOINT_SIGNING_KEY", default="")
if signing_key_file := env.str("AUDIT_CHECKPOINT_SIGNING_KEY_FILE", default=""):
    AUDIT_CHECKPOINT_SIGNING_KEY = Path(signing_key_file).read_text()
AUDIT_TSA_URL = env.str("AUDIT_TSA_URL", default="")
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "portal.tasks.write_audit_checkpoint",
    "schedule": 60 * 60 * 24,
}

# --- Anonymous intake for victims and witnesses (intake/, issue #24) ----------------------------
# A report nobody answers or adopts is deleted this many days after it was filed (or after the
# last answer); the reporter is warned at their visits in the last INTAKE_PURGE_WARNING_DAYS.
INTAKE_RETENTION_DAYS = env.int("INTAKE_RETENTION_DAYS", default=60)
INTAKE_PURGE_WARNING_DAYS = env.int("INTAKE_PURGE_WARNING_DAYS", default=14)
INTAKE_MAX_FILES = env.int("INTAKE_MAX_FILES", default=10)
INTAKE_MAX_FILE_BYTES = env.int("INTAKE_MAX_FILE_BYTES", default=100 * 1024**2)
INTAKE_MAX_TOTAL_BYTES = env.int("INTAKE_MAX_TOTAL_BYTES", default=300 * 1024**2)
# Cost of filing or trying a receipt code: SHA-256 leading zero bits the browser must find
# (18: about a second or two in a phone's browser), and how long a challenge stays good.
INTAKE_POW_BITS = env.int("INTAKE_POW_BITS", default=18)
INTAKE_CHALLENGE_MAX_AGE = env.int("INTAKE_CHALLENGE_MAX_AGE", default=3 * 60 * 60)
# Wrong receipt codes allowed per hour, per client address (kept only as a keyed digest in
# the cache) and for the whole portal; reports filed per hour per client address.
INTAKE_CODE_FAILURES_PER_CLIENT = env.int("INTAKE_CODE_FAILURES_PER_CLIENT", default=10)
INTAKE_CODE_FAILURES_GLOBAL = env.int("INTAKE_CODE_FAILURES_GLOBAL", default=500)
INTAKE_FILINGS_PER_CLIENT = env.int("INTAKE_FILINGS_PER_CLIENT", default=5)
# A reporter who came back with their code stays in for this long without activity.
INTAKE_SESSION_SECONDS = env.int("INTAKE_SESSION_SECONDS", default=30 * 60)
CELERY_BEAT_SCHEDULE["purge-expired-intakes"] = {
    "task": "intake.tasks.purge_expired_intakes",
    "schedule": 60 * 60 * 6,
}
