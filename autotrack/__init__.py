"""AutoTrack: internal ticketing and SLA management. `create_app` builds the Flask app."""

import logging
from pathlib import Path

from flask import Flask

from config import BASE_DIR, config_from_env

__version__ = "0.1.0"


def create_app(config=None):
    """Build the app. `config` is a config class, a dict of overrides, or None for the environment's."""
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        instance_path=str(BASE_DIR / "instance"),
    )
    config_class = config_from_env()
    overrides = {}
    if isinstance(config, type):
        config_class = config
    elif isinstance(config, dict):
        overrides = config
    app.config.from_object(config_class)
    app.config.update(overrides)
    config_class.validate(app.config)

    register_logging(app)
    register_extensions(app)
    register_request_origin(app)
    register_blueprints(app)
    register_admin(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_cli(app)
    register_jobs(app)
    register_live(app)
    register_signal_listeners(app)
    return app


def register_logging(app):
    level = getattr(logging, str(app.config["AUTOTRACK_LOG_LEVEL"]).upper(), logging.INFO)
    logging.getLogger("autotrack").setLevel(level)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def register_extensions(app):
    from autotrack import models  # noqa: F401  (every model known to SQLAlchemy and Alembic)
    from autotrack.extensions import bootstrap, csrf, db, login_manager, mail, migrate
    from autotrack.services.people import sessions  # a password or role change ends sessions
    from autotrack.services.sla import changes as sla_changes  # noqa: F401  (records SLA settings changes for the sweep)
    from autotrack.web.limits import init_limiter

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    bootstrap.init_app(app)
    # Rate limits on sign-in, registration, reset and tokens (autotrack/web/limits.py): counted
    # in Redis across processes, in memory in the embedded mode; a Redis outage falls back to
    # memory rather than refusing sign-ins.
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "autotrack-limits")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    init_limiter(app)  # hooks only on the limited doors
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id):
        from autotrack.models import utcnow

        return sessions.load(session_id, utcnow())  # a revoked, expired or superseded session: signed out

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event

        busy_ms = int(app.config["AUTOTRACK_SQLITE_BUSY_TIMEOUT_SECONDS"] * 1000)

        with app.app_context():

            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(dbapi_connection, _record):
                # Enforce foreign keys; WAL lets pages be read while the scheduler thread writes,
                # and with WAL, synchronous=NORMAL is still crash-safe; wait for a busy writer;
                # a 64 MB page cache (default 2 MB) keeps a sweep's dirty pages from spilling.
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
                cursor.execute("PRAGMA cache_size=-65536")
                cursor.close()


def register_blueprints(app):
    from autotrack import api
    from autotrack.agent import bp as agent_bp
    from autotrack.auth import bp as auth_bp
    from autotrack.feedback import bp as feedback_bp
    from autotrack.files import bp as files_bp
    from autotrack.health import bp as health_bp
    from autotrack.inbox import bp as inbox_bp
    from autotrack.manager import bp as manager_bp
    from autotrack.portal import bp as portal_bp
    from autotrack.web import favicon, ids

    ids.init_app(app)  # <int:...> only matches a number a row id can be (a huge one is a 404)
    favicon.init_app(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(inbox_bp, url_prefix="/notifications")
    app.register_blueprint(files_bp, url_prefix="/attachments")
    app.register_blueprint(portal_bp, url_prefix="/portal")
    app.register_blueprint(agent_bp, url_prefix="/agent")
    app.register_blueprint(manager_bp, url_prefix="/manager")
    api.init_app(app)  # /api/v1 and its OpenAPI spec


def register_request_origin(app):
    from autotrack.web import origin

    origin.init_app(app)


def register_security_headers(app):
    from autotrack.web import headers

    headers.init_app(app)


def register_admin(app):
    from autotrack.admin import init_admin

    init_admin(app)


def register_error_handlers(app):
    from autotrack.web import register_error_handlers as register

    register(app)


def register_template_helpers(app):
    from autotrack.web import register_template_helpers as register

    register(app)


def register_jobs(app):
    """Without Redis, the first request starts the in-process scheduler thread (not the factory:
    CLI commands and tests build apps that must not run jobs). With Redis, warn now if it may
    evict queued jobs."""
    if app.config.get("REDIS_URL"):
        from autotrack.services import health

        health.warn_about_redis_policy(app.config["REDIS_URL"])
    if app.config["AUTOTRACK_EMBEDDED_JOBS"]:
        from autotrack.jobs.embedded import start_embedded_scheduler

        app.before_request(lambda: start_embedded_scheduler(app) and None)


def register_live(app):
    """Live notifications: the streams of this process and, with Redis, the relay between processes."""
    from autotrack.services import live

    live.init_app(app)


def register_signal_listeners(app):
    """Who reacts to what (services/signals.py): connected once per process; connecting again
    for another app is a no-op, since blinker keeps each receiver once."""
    from autotrack.services import live
    from autotrack.services.tickets import feedback, ticket_mail

    feedback.connect_signals()
    live.connect_signals()
    ticket_mail.connect_signals()


def register_cli(app):
    from autotrack.cli import register_cli as register

    register(app)
