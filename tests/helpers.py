"""What several test modules share and is not a fixture: waiting on a condition, threads released
together, a served app and its event streams, API tokens, a local SMTP inbox, the SLA clock over
simulated time, mail in, and `flask` / `redis-server` as separate processes. Fixtures live in the
nearest conftest.py."""

import email as email_parser
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from sqlalchemy import event, func, select

from autotrack.extensions import db
from tests import factories


def wait_until(condition, seconds, message):
    """Poll `condition()` every 0.1 s until it is true; fail with `message` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)  # the poll interval


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_concurrently(app, work, count):
    """Run `work()` in `count` threads released together, each in its own app context and
    database session (as separate requests or workers would). Returns the results; raises the
    first error a thread hit. `work` must not touch the calling test's objects: pass ids."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                results.append(work())
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - re-raised in the test's thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


class Site:
    """An app served on 127.0.0.1:`port`, used as a browser would (cookies, CSRF tokens)."""

    def __init__(self, port):
        self.port = port

    def sign_in(self, email, password):
        """The session cookie of `email` signed in through the login form."""
        import re
        import urllib.parse

        connection = self.connection()
        connection.request("GET", "/login")
        response = connection.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie").split(";")[0]
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        connection.request(
            "POST",
            "/login",
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
            body=urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token}),
        )
        response = connection.getresponse()
        response.read()
        assert response.status == 302, f"sign-in of {email} failed ({response.status})"
        return response.getheader("Set-Cookie").split(";")[0]

    def post_form(self, path, cookie, data):
        """Submit the form on `path` as its page would (with the page's CSRF token); the response."""
        import re
        import urllib.parse

        connection = self.connection()
        connection.request("GET", path, headers={"Cookie": cookie})
        response = connection.getresponse()
        page = response.read().decode()
        if response.getheader("Set-Cookie"):  # the page stored a new CSRF token: a browser keeps the cookie
            cookie = response.getheader("Set-Cookie").split(";")[0]
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        connection.request(
            "POST",
            path,
            body=urllib.parse.urlencode({**data, "csrf_token": token}),
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        response.read()
        return response

    def connection(self, timeout=10):
        import http.client

        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


class Served(Site):
    """`app` served on 127.0.0.1 by a real threaded HTTP server (streams need one)."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        super().__init__(self.server.server_port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class EventStream:
    """Reads a text/event-stream in a thread; `next_event()` waits for the next complete event."""

    def __init__(self, site, path, cookie, headers=None):
        import queue

        self.events = queue.Queue()
        self.connection = site.connection(timeout=120)
        self.connection.request("GET", path, headers={"Cookie": cookie, **(headers or {})})
        self.socket = self.connection.sock  # the response takes it over; close() shuts it
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        fields = {}
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line:
                    name, _, value = line.partition(":")
                    fields[name] = fields.get(name, "") + value.removeprefix(" ")
                    continue
                if fields:
                    self.events.put(fields)
                fields = {}
        except (OSError, ValueError):
            pass
        self.events.put(None)  # the stream ended

    def next_event(self, timeout, kind="notification"):
        """The next event of `kind` (others are skipped) within `timeout` seconds, or None."""
        import json
        import queue
        import time

        deadline = time.monotonic() + timeout
        while True:
            try:
                fields = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if fields is None:
                return None
            if fields.get("event") == kind:
                return {**json.loads(fields["data"]), "_id": fields.get("id")}

    def close(self):
        """Drop the connection, as a closed browser tab does."""
        import socket

        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.socket.close()
        self.thread.join(5)


# --- the JSON API ------------------------------------------------------------------------------


def token_for(client, user, password=factories.PASSWORD):
    """An API access token for `user`, through the token endpoint."""
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": password})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    return body["access_token"]


def assert_error(response, status, code=None):
    """Check that `response` is an API error in the documented format; returns the error."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


# --- email out ---------------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email_parser.message_from_bytes(envelope.content)))
        return "250 OK"


def count(model, *where):
    """Rows of `model` in the database now (the session is expired first: other sessions' rows count)."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- SLA clocks over simulated time ------------------------------------------------------------

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC
MIN = timedelta(minutes=1)


def p1_ticket(team, org, at=T0):
    """A P1 ticket (24x7: first response 15 min, resolution 2 h), raised by an agent for the employee."""
    from autotrack.services import tickets

    ticket = tickets.create_ticket(
        team["agent"], title="Payments down", priority=factories.priority(org, "P1"), requester=team["employee"], now=at
    )
    db.session.commit()
    return ticket


def sweep(at):
    """Run the SLA sweep as of `at` and forget what the session knew."""
    from autotrack.services import sla

    result = sla.sweep(at)
    db.session.expire_all()
    return result


# --- mail in -----------------------------------------------------------------------------------

MAILBOX_ADDRESS = "helpdesk@acme.example"
RECEIVING_SERVER = "mx.acme.example"  # the authserv-id our own MTA writes in Authentication-Results


def mail(sender, subject, body, **headers):
    """A message to the test mailbox; keyword headers use _ for - (message_id sets Message-ID)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = MAILBOX_ADDRESS
    message["Subject"] = subject
    message["Message-ID"] = headers.pop("message_id", None) or make_msgid(domain="mail.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def deliver(imap, message):
    """Put `message` (an EmailMessage or raw bytes) in the test mailbox's INBOX."""
    imap.append(message.as_bytes() if hasattr(message, "as_bytes") else message, "INBOX")


# --- `flask` and `redis-server` as separate processes (the job tests) --------------------------

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
PAST = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def flask(app, *args, timeout=60, env=None):
    """Run `flask --app wsgi …` as a separate process on the test database and Redis."""
    env = {
        **os.environ,
        "AUTOTRACK_CONFIG": "development",
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "AUTOTRACK_EMBEDDED_JOBS": "false",
        **(env or {}),
    }
    env.pop("MAIL_SERVER", None)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_redis(port):
    """A redis-server of the test's own on `port`, without persistence; returns its process."""
    from redis import Redis

    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    redis = Redis(port=port, socket_connect_timeout=1)
    wait_until(lambda: _answers(redis), 10, "redis-server did not start")
    return server


def _answers(redis):
    from redis import RedisError

    try:
        return redis.ping()
    except (RedisError, OSError):
        return False


@contextmanager
def statements():
    """The SQL statements run inside the block (each is a round trip on MariaDB), whitespace
    collapsed, for the tests that hold a path to its statement count."""
    seen = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
