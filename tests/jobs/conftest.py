"""What the job tests share: a real Redis, one of the test's own, an overdue ticket. Running
`flask …` and `redis-server` as separate processes is in tests/helpers.py."""

import pytest
from redis import Redis

from autotrack.extensions import db as _db
from autotrack.services import tickets
from tests import factories
from tests.helpers import PAST, REDIS_URL, free_port, start_redis


@pytest.fixture
def redis_conn():
    """A real Redis (tests fail, never skip, when it is down), emptied around each test."""
    conn = Redis.from_url(REDIS_URL)
    conn.ping()
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def overdue_ticket(org):
    """A P1 ticket long past every escalation level, with people to notify at each."""
    support = factories.default_department(org)
    factories.make_user(org, "agent", department=support, lead=True)
    factories.make_user(org, "manager", department=support)
    agent = factories.make_user(org, "agent", department=support)
    ticket = tickets.create_ticket(
        agent,
        title="Core switch down",
        priority=factories.priority(org, "P1"),
        requester=factories.make_user(org),
        now=PAST,
    )
    _db.session.commit()
    return ticket


@pytest.fixture
def own_redis():
    """A Redis server of this test's own, so that killing it disturbs nothing else."""
    port = free_port()
    server = start_redis(port)
    state = {"port": port, "server": server}
    yield state
    state["server"].kill()
    state["server"].wait()
