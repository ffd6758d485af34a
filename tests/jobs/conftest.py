"""What the job tests share: a real Redis, `flask …` in a separate process, an overdue ticket."""
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from redis import Redis, RedisError

from autotrack.extensions import db as _db
from autotrack.services import tickets
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
PAST = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def redis_conn():
    """A real Redis (tests fail, never skip, when it is down), emptied around each test."""
    conn = Redis.from_url(REDIS_URL)
    conn.ping()
    conn.flushdb()
    yield conn
    conn.flushdb()


def flask(app, *args, timeout=60, env=None):
    """Run `flask --app wsgi …` as a separate process on the test database and Redis."""
    env = {**os.environ, "AUTOTRACK_CONFIG": "development", "REDIS_URL": REDIS_URL,
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "AUTOTRACK_EMBEDDED_JOBS": "false",
           **(env or {})}
    env.pop("MAIL_SERVER", None)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def overdue_ticket(org):
    """A P1 ticket long past every escalation level, with people to notify at each."""
    support = factories.default_department(org)
    factories.make_user(org, "agent", department=support, lead=True)
    factories.make_user(org, "manager", department=support)
    agent = factories.make_user(org, "agent", department=support)
    ticket = tickets.create_ticket(agent, title="Core switch down", priority=factories.priority(org, "P1"),
                                   requester=factories.make_user(org), now=PAST)
    _db.session.commit()
    return ticket


def wait_until(condition, seconds, message):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port):
    """A redis-server of the test's own on `port`, without persistence; returns its process."""
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    redis = Redis(port=port, socket_connect_timeout=1)
    wait_until(lambda: _answers(redis), 10, "redis-server did not start")
    return server


def _answers(redis):
    try:
        return redis.ping()
    except (RedisError, OSError):
        return False


@pytest.fixture
def own_redis():
    """A Redis server of this test's own, so that killing it disturbs nothing else."""
    port = free_port()
    server = start_redis(port)
    state = {"port": port, "server": server}
    yield state
    state["server"].kill()
    state["server"].wait()
