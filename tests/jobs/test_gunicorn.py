"""The production web server as configured (gunicorn.conf.py): live streams through gunicorn
workers and Redis, and streams never starving ordinary requests of threads."""

import os
import subprocess
import sys
import time
import uuid

import pytest

from autotrack import create_app
from autotrack.extensions import db as _db
from autotrack.models import User
from autotrack.services import live, notifications
from config import TestConfig
from tests import factories
from tests.helpers import REDIS_URL, ROOT, EventStream, Site, free_port, wait_until

CHANNEL = f"autotrack-test:{uuid.uuid4().hex}"


def start_gunicorn(app):
    """gunicorn.conf.py with 1 worker of 4 threads, 2 of them kept from streams; (site, process)."""
    port = free_port()
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "4",
        "GUNICORN_RESERVED_THREADS": "2",
        "AUTOTRACK_CONFIG": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": REDIS_URL,
        "AUTOTRACK_LIVE_CHANNEL": CHANNEL,
        "AUTOTRACK_EMBEDDED_JOBS": "false",
        "AUTOTRACK_STREAM_HEARTBEAT_SECONDS": "120",
        "AUTOTRACK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    env.pop("AUTOTRACK_STREAM_SLOTS", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    site = Site(port)

    def up():
        try:
            connection = site.connection(timeout=1)
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False

    wait_until(up, 30, "gunicorn did not start")
    return site, server


@pytest.fixture
def gunicorn(app, db, redis_conn):
    site, server = start_gunicorn(app)
    yield site
    server.terminate()
    server.communicate(timeout=40)


def test_stopping_gunicorn_ends_its_streams_at_once_instead_of_waiting_for_them(app, db, redis_conn, org):
    """A deploy: the streams end (the browsers reconnect elsewhere) and the worker stops well
    inside graceful_timeout (30 s) although a stream's heartbeat is 2 minutes away."""
    agent = factories.make_user(org, "agent")
    site, server = start_gunicorn(app)
    stream = EventStream(site, "/notifications/stream?after=0", site.sign_in(agent.email, factories.PASSWORD))
    try:
        assert stream.next_event(5, kind="unread") is not None
        started = time.monotonic()
        server.terminate()
        server.communicate(timeout=40)
        assert time.monotonic() - started < 10
        stream.thread.join(5)
        assert not stream.thread.is_alive()  # the server ended the stream
    finally:
        stream.close()
        if server.poll() is None:
            server.kill()


def test_streams_through_gunicorn_get_pushes_from_another_process_and_leave_threads_for_pages(gunicorn, org):
    agent = factories.make_user(org, "agent")
    employee = factories.make_user(org)
    cookie = gunicorn.sign_in(agent.email, factories.PASSWORD)
    after = live.latest_id(agent.id)
    streams = [EventStream(gunicorn, f"/notifications/stream?after={after}", cookie) for _ in range(2)]
    try:
        for stream in streams:
            assert stream.next_event(5, kind="unread") is not None

        # The two stream slots (4 threads - 2 kept) are taken: a third page is told to retry...
        third = gunicorn.connection()
        third.request("GET", "/notifications/stream", headers={"Cookie": cookie})
        assert third.getresponse().read().decode() == "retry: 30000\n\n"
        # ...and pages still get threads, at once.
        started = time.monotonic()
        for _ in range(5):
            page = gunicorn.connection()
            page.request("GET", "/agent/", headers={"Cookie": cookie})
            assert page.getresponse().status == 200
        assert time.monotonic() - started < 5

        # A ticket committed by another process (this one) reaches both open pages through Redis.
        other = create_app(
            type("OtherProcess", (TestConfig,), {"REDIS_URL": REDIS_URL, "AUTOTRACK_LIVE_CHANNEL": CHANNEL})
        )
        with other.app_context():
            reference = factories.make_ticket(_db.session.get(User, employee.id), title="Through gunicorn").reference
        events = [stream.next_event(2) for stream in streams]
        assert [e and e["reference"] for e in events] == [reference] * 2
        assert notifications.unread_count(agent) == events[0]["unread"] == 1
    finally:
        for stream in streams:
            stream.close()
