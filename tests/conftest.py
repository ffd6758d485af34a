"""Fixtures: one app and schema per run (built by the real migrations), a clean database per
test, a client, and a sign-in helper per role; and those several folders share: the API as a
user (`api`), a local SMTP server (`smtp_port`, `smtp_server`) and a real IMAP server (`dovecot`,
started only by a test that asks for it). Helpers that are not fixtures live in tests/helpers.py.

SQLite by default; TEST_DATABASE_URL=mysql+pymysql://… runs the same suite on MariaDB, and
mysql+mysqldb://… on MariaDB through mysqlclient (CI runs both).
With AUTOTRACK_REQUIRE_SERVICES=1 (CI) the run stops at once if MariaDB or Redis is down.
"""

import grp
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

# Redis pub/sub ignores database numbers: two test runs on one machine (or a run and a dev
# server) would wake each other's streams. One channel per run; spawned workers inherit it.
os.environ.setdefault("AUTOTRACK_LIVE_CHANNEL", f"autotrack-test:{uuid.uuid4().hex}:notifications")

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from autotrack import create_app
from autotrack.extensions import db as _db
from config import TestConfig
from tests import factories
from tests.helpers import Inbox, free_port, token_for, wait_until


def pytest_sessionstart(session):
    """In CI (AUTOTRACK_REQUIRE_SERVICES=1) a missing MariaDB or Redis fails the run at once."""
    if os.environ.get("AUTOTRACK_REQUIRE_SERVICES") != "1":
        return
    problems = []
    url = TestConfig.SQLALCHEMY_DATABASE_URI
    if not url.startswith(("mysql", "mariadb")):  # either driver: +pymysql or +mysqldb
        problems.append("TEST_DATABASE_URL must point at MariaDB (mysql+pymysql:// or mysql+mysqldb://)")
    else:
        from sqlalchemy import create_engine

        try:
            with create_engine(url).connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - any failure to connect is the message
            problems.append(f"MariaDB unreachable: {error.__class__.__name__}: {error}")
    if not TestConfig.REDIS_URL:
        problems.append("REDIS_URL must be set")
    else:
        import redis

        try:
            redis.Redis.from_url(TestConfig.REDIS_URL, socket_connect_timeout=3).ping()
        except redis.RedisError as error:
            problems.append(f"Redis unreachable: {error}")
    if problems:
        pytest.exit("required services missing: " + "; ".join(problems), returncode=3)


def _rebuild_schema(app):
    """Drop everything and build the schema with the migrations, as production does."""
    from flask_migrate import upgrade

    with app.app_context():
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        if url.startswith("sqlite:///"):
            _db.engine.dispose()
            path = url.removeprefix("sqlite:///")
            for suffix in ("", "-wal", "-shm", "-journal"):  # a stale WAL would corrupt the new file
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
        else:
            with _db.engine.begin() as conn:
                conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
                for (table,) in conn.execute(text("SHOW TABLES")).all():
                    conn.execute(text(f"DROP TABLE `{table}`"))
                conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
        upgrade()


class IsolatedClient(FlaskClient):
    """Runs every request in its own app context, as a server does.

    Otherwise a request reuses the test's app context: `g` (and the signed-in user cached
    there) and the database session would leak from one request into the next.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app():
    app = create_app(TestConfig)
    app.test_client_class = IsolatedClient
    _rebuild_schema(app)
    return app


def _wipe(app):
    """Empty every table, children first; committed data (seen by other processes) goes too."""
    with app.app_context():
        _db.session.remove()
        tables = list(reversed(_db.metadata.sorted_tables))
        with _db.engine.begin() as conn:
            mysql = conn.dialect.name in ("mysql", "mariadb")
            if mysql:
                conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
            for table in tables:
                conn.execute(table.delete())
            if mysql:
                conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))


@pytest.fixture
def db(app):
    """The database, empty at the start of the test, inside an app context."""
    with app.app_context():
        yield _db
        _db.session.rollback()
    _wipe(app)


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client, path="/login"):
    """The CSRF token for this client's session, read from a page as a browser would."""
    response = client.get(path)
    match = CSRF_META.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


def post_form(client, path, data=None, token_from="/login", **kwargs):
    """POST a form with a valid CSRF token, like a browser submitting a page."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, token_from))
    return client.post(path, data=data, **kwargs)


def login(client, user, password=factories.PASSWORD):
    response = post_form(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 302, f"login of {user.email} failed ({response.status_code})"
    return response


@pytest.fixture
def org(db):
    return factories.make_org("acme")


@pytest.fixture
def other_org(db):
    return factories.make_org("globex")


@pytest.fixture
def login_as(client):
    """Sign the test client in as `user` (any role)."""

    def _login(user):
        login(client, user)
        return client

    return _login


@pytest.fixture
def api(client):
    """api(user) -> a function calling the API as that user: call(method, path, **kwargs)."""

    def as_user(user):
        headers = {"Authorization": f"Bearer {token_for(client, user)}"}

        def call(method, path, **kwargs):
            return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

        return call

    return as_user


@pytest.fixture
def smtp_port(app, monkeypatch):
    """Point the app's mail settings at a local port; the test decides whether a server listens."""
    port = free_port()
    state = app.extensions["mail"]
    for key, value in (("MAIL_SERVER", "127.0.0.1"), ("MAIL_PORT", port)):
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setattr(state, "server", "127.0.0.1")
    monkeypatch.setattr(state, "port", port)
    return port


@pytest.fixture
def smtp_server(smtp_port):
    """A real SMTP server (aiosmtpd) on `smtp_port`; the Inbox of what it accepted."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()


DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVECOT_CONFIG = Path(__file__).with_name("mail") / "dovecot.conf"
IMAP_USER = "helpdesk@acme.example"
IMAP_PASSWORD = "imap-test-password"


@pytest.fixture(scope="session")
def dovecot():
    """{host, port, user, password} of a running Dovecot (Debian's, started from
    tests/mail/dovecot.conf with a throwaway maildir) the first time a test asks; stopped after
    the session. CI installs it; the tests fail, never skip, without it."""
    if not Path(DOVECOT).exists():
        pytest.fail("Dovecot is missing: apt-get install -y dovecot-imapd (the mail tests never skip)")
    base = Path(tempfile.mkdtemp(prefix="autotrack-dovecot-"))
    if os.geteuid() == 0:  # as root, Dovecot insists on its own unprivileged users
        internal, login = "dovecot", "dovenull"
        mail_user = pwd.getpwnam("dovecot")
    else:
        internal = login = pwd.getpwuid(os.geteuid()).pw_name
        mail_user = pwd.getpwuid(os.geteuid())
    (base / "mail").mkdir()
    os.chown(base / "mail", mail_user.pw_uid, mail_user.pw_gid)
    base.chmod(0o755)
    (base / "passwd").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}\n")
    port = free_port()
    config = DOVECOT_CONFIG.read_text()
    for name, value in {
        "base": base,
        "port": port,
        "internal_user": internal,
        "login_user": login,
        "internal_group": grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name,
        "mail_uid": mail_user.pw_uid,
        "mail_gid": mail_user.pw_gid,
    }.items():
        config = config.replace(f"{{{name}}}", str(value))
    (base / "dovecot.conf").write_text(config)
    server = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(base / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )

    def greets():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                return s.recv(100).startswith(b"* OK")
        except OSError:
            return False

    def exited():
        return server.poll() is not None

    try:  # until it greets, or has exited (no use waiting then)
        wait_until(lambda: exited() or greets(), 20, "no IMAP greeting within 20 s")
        failure = "it exited" if exited() else None
    except AssertionError as error:
        failure = str(error).splitlines()[0]
    if failure:
        log = (base / "dovecot.log").read_text() if (base / "dovecot.log").exists() else ""
        pytest.fail(f"Dovecot did not start ({failure}): {server.stdout.read() if exited() else ''} {log}")
    yield {"host": "127.0.0.1", "port": port, "user": IMAP_USER, "password": IMAP_PASSWORD}
    server.terminate()
    server.wait(10)
    shutil.rmtree(base, ignore_errors=True)
