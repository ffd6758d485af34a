"""Configuration classes, read from the environment (and a `.env` file beside this one).

The defaults are the embedded ones: SQLite in `instance/`, no Redis, mail kept in the outbox
and printed to the log. Tests pass overrides through `create_app(config)`.
"""

import os
from datetime import timedelta
from pathlib import Path

from dotenv import dotenv_values

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me"

# Real environment variables win over `.env`; os.environ itself is never modified.
_ENV = {**dotenv_values(BASE_DIR / ".env"), **os.environ}


def env_str(name, default=None):
    value = _ENV.get(name)
    return default if value in (None, "") else value


def env_int(name, default):
    value = env_str(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, got {value!r}") from None


def env_bool(name, default=False):
    value = env_str(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise RuntimeError(f"{name} must be true or false, got {value!r}")


def sqlalchemy_engine_options(url):
    """Pool settings that keep long-lived MariaDB connections healthy; SQLite needs none.

    MariaDB through either driver: mysql+pymysql:// (the default) or mysql+mysqldb://
    (mysqlclient; docs/operator-guide.md says which to pick), or the same as mariadb+….
    """
    if url.startswith(("mysql", "mariadb")):
        # READ COMMITTED: each statement sees what others committed (no stale snapshot in a
        # long transaction); the SLA sweep and outbox take explicit row locks where it matters.
        return {"pool_pre_ping": True, "pool_recycle": 280, "isolation_level": "READ COMMITTED"}
    return {}


class Config:
    SECRET_KEY = env_str("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = env_str("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'autotrack.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = sqlalchemy_engine_options(SQLALCHEMY_DATABASE_URI)
    REDIS_URL = env_str("REDIS_URL")  # None: jobs run in-process (embedded mode)
    # SQLite (the embedded mode) lets one writer at a time: how long another waits for its turn
    # before giving up with "database is locked".
    AUTOTRACK_SQLITE_BUSY_TIMEOUT_SECONDS = env_int("AUTOTRACK_SQLITE_BUSY_TIMEOUT_SECONDS", 30)
    # Without Redis, the web process runs the periodic jobs itself in a background thread.
    AUTOTRACK_EMBEDDED_JOBS = env_bool("AUTOTRACK_EMBEDDED_JOBS", REDIS_URL is None)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    # Server-side sessions (services/people/sessions.py): ended by inactivity, by age, or by sign-out.
    AUTOTRACK_SESSION_IDLE_MINUTES = env_int("AUTOTRACK_SESSION_IDLE_MINUTES", 30)
    AUTOTRACK_SESSION_HOURS = env_int("AUTOTRACK_SESSION_HOURS", 12)
    AUTOTRACK_REMEMBER_DAYS = env_int("AUTOTRACK_REMEMBER_DAYS", 14)
    REMEMBER_COOKIE_DURATION = timedelta(days=AUTOTRACK_REMEMBER_DAYS)
    # Per client address, across sign-in, its code step, registration, reset and API tokens
    # (Flask-Limiter's notation); the per-account lockout and limits come on top.
    AUTOTRACK_AUTH_RATE_LIMIT = env_str("AUTOTRACK_AUTH_RATE_LIMIT", "20 per minute; 200 per hour")
    # How long a password reset link, and an invitation's link, can be used (once).
    AUTOTRACK_RESET_MINUTES = env_int("AUTOTRACK_RESET_MINUTES", 30)
    AUTOTRACK_INVITE_HOURS = env_int("AUTOTRACK_INVITE_HOURS", 72)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session; a long form must not expire
    MAX_CONTENT_LENGTH = env_int("AUTOTRACK_MAX_UPLOAD_MB", 25) * 1024 * 1024

    MAIL_SERVER = env_str("MAIL_SERVER")  # None: outbox rows are printed to the log, not sent
    MAIL_PORT = env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = env_str("MAIL_USERNAME")
    MAIL_PASSWORD = env_str("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = env_str("MAIL_DEFAULT_SENDER", "AutoTrack <autotrack@localhost>")
    # How long a deliverer holds the rows it claimed: a worker killed mid-batch leaves them to
    # the others after this (longer than a batch takes to send).
    AUTOTRACK_OUTBOX_LEASE_SECONDS = env_int("AUTOTRACK_OUTBOX_LEASE_SECONDS", 300)
    # Retries after SMTP trouble wait base × 2^(tries−1) seconds, at most the cap; an email still
    # undelivered this long after it was queued is marked failed (a 5xx refusal fails at once).
    AUTOTRACK_OUTBOX_BACKOFF_SECONDS = env_int("AUTOTRACK_OUTBOX_BACKOFF_SECONDS", 60)
    AUTOTRACK_OUTBOX_BACKOFF_CAP_SECONDS = env_int("AUTOTRACK_OUTBOX_BACKOFF_CAP_SECONDS", 3600)
    AUTOTRACK_OUTBOX_GIVE_UP_SECONDS = env_int("AUTOTRACK_OUTBOX_GIVE_UP_SECONDS", 3 * 86400)
    MAIL_SUPPRESS_SEND = False  # never drop mail silently (Flask-Mail's default when TESTING)

    BOOTSTRAP_SERVE_LOCAL = True  # Bootstrap comes from our own static files, never a CDN
    BOOTSTRAP_BOOTSWATCH_THEME = None

    AUTOTRACK_BASE_URL = env_str("AUTOTRACK_BASE_URL", "http://127.0.0.1:5000")
    AUTOTRACK_UPLOAD_DIR = env_str("AUTOTRACK_UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    AUTOTRACK_ATTACHMENT_MAX_MB = env_int("AUTOTRACK_ATTACHMENT_MAX_MB", 10)  # per file
    # Files one request may carry, and a ticket over its whole life (count and total size).
    AUTOTRACK_ATTACHMENTS_PER_REQUEST = env_int("AUTOTRACK_ATTACHMENTS_PER_REQUEST", 10)
    AUTOTRACK_ATTACHMENTS_REQUEST_MAX_MB = env_int("AUTOTRACK_ATTACHMENTS_REQUEST_MAX_MB", 25)
    AUTOTRACK_ATTACHMENTS_PER_TICKET = env_int("AUTOTRACK_ATTACHMENTS_PER_TICKET", 100)
    AUTOTRACK_ATTACHMENTS_TICKET_MAX_MB = env_int("AUTOTRACK_ATTACHMENTS_TICKET_MAX_MB", 200)
    AUTOTRACK_LOGIN_MAX_FAILURES = env_int("AUTOTRACK_LOGIN_MAX_FAILURES", 5)
    AUTOTRACK_LOGIN_LOCK_MINUTES = env_int("AUTOTRACK_LOGIN_LOCK_MINUTES", 15)
    # JSON API: bearer tokens' lifetime, and token requests allowed per minute.
    AUTOTRACK_API_TOKEN_MINUTES = env_int("AUTOTRACK_API_TOKEN_MINUTES", 60)
    AUTOTRACK_API_TOKEN_PER_ADDRESS = env_int("AUTOTRACK_API_TOKEN_PER_ADDRESS", 20)
    AUTOTRACK_API_TOKEN_PER_ACCOUNT = env_int("AUTOTRACK_API_TOKEN_PER_ACCOUNT", 10)
    # flask-smorest: the spec is served at /api/v1/openapi.json
    API_TITLE = "AutoTrack API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    # Live notifications (server-sent events). Each open page holds one stream, and a thread
    # of a threaded server: at most SLOTS per process (gunicorn.conf.py sets it from its threads),
    # each ended after STREAM_SECONDS (the browser reconnects and resumes). Streams re-read at
    # each heartbeat, and every POLL seconds while the Redis subscription is down.
    AUTOTRACK_STREAM_SLOTS = env_int("AUTOTRACK_STREAM_SLOTS", 100)
    AUTOTRACK_STREAM_SECONDS = env_int("AUTOTRACK_STREAM_SECONDS", 300)
    AUTOTRACK_STREAM_HEARTBEAT_SECONDS = env_int("AUTOTRACK_STREAM_HEARTBEAT_SECONDS", 20)
    AUTOTRACK_STREAM_POLL_SECONDS = env_int("AUTOTRACK_STREAM_POLL_SECONDS", 5)
    AUTOTRACK_LIVE_CHANNEL = env_str("AUTOTRACK_LIVE_CHANNEL", "autotrack:notifications")
    # Directory sync (services/org/directory_sync.py): the source is fetched over https only, from
    # public addresses unless listed here (comma-separated CIDRs, e.g. an intranet HR server's
    # 10.20.0.0/16), within these limits; a private CA's bundle may be given.
    AUTOTRACK_DIRECTORY_ALLOWED_NETWORKS = env_str("AUTOTRACK_DIRECTORY_ALLOWED_NETWORKS", "")
    AUTOTRACK_DIRECTORY_CA_BUNDLE = env_str("AUTOTRACK_DIRECTORY_CA_BUNDLE")
    AUTOTRACK_DIRECTORY_MAX_MB = env_int("AUTOTRACK_DIRECTORY_MAX_MB", 5)
    AUTOTRACK_DIRECTORY_TIMEOUT_SECONDS = env_int("AUTOTRACK_DIRECTORY_TIMEOUT_SECONDS", 30)
    # werkzeug's default (scrypt) in production; tests use a cheap method to stay fast.
    AUTOTRACK_PASSWORD_HASH_METHOD = env_str("AUTOTRACK_PASSWORD_HASH_METHOD", "scrypt")
    AUTOTRACK_LOG_LEVEL = env_str("AUTOTRACK_LOG_LEVEL", "INFO")
    # Strict-Transport-Security: on in production (served over HTTPS), off for the embedded mode.
    AUTOTRACK_HSTS = env_bool("AUTOTRACK_HSTS", False)

    @classmethod
    def validate(cls, app_config):
        """Refuse settings that are unsafe for this environment; the base config accepts all."""


class DevelopmentConfig(Config):
    pass


class ProductionConfig(Config):
    AUTOTRACK_HSTS = env_bool("AUTOTRACK_HSTS", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    @classmethod
    def validate(cls, app_config):
        key = app_config.get("SECRET_KEY")
        if not key or key == DEFAULT_SECRET_KEY or len(key) < 16:
            raise RuntimeError(
                "SECRET_KEY must be set to a long random value in production "
                "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')."
            )


class TestConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = env_str("TEST_DATABASE_URL", "sqlite:///" + str(INSTANCE_DIR / "test.db"))
    SQLALCHEMY_ENGINE_OPTIONS = sqlalchemy_engine_options(SQLALCHEMY_DATABASE_URI)
    REDIS_URL = env_str("REDIS_URL")
    AUTOTRACK_EMBEDDED_JOBS = False  # tests run jobs explicitly
    MAIL_SERVER = None
    AUTOTRACK_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    AUTOTRACK_UPLOAD_DIR = str(INSTANCE_DIR / "test-uploads")
    # The suite signs in thousands of times from 127.0.0.1; tests/security tightens it to test it.
    AUTOTRACK_AUTH_RATE_LIMIT = "100000 per minute"


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}


def config_from_env():
    name = env_str("AUTOTRACK_CONFIG", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"AUTOTRACK_CONFIG must be one of {sorted(CONFIGS)}, got {name!r}")
    return CONFIGS[name]
