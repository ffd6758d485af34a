"""Live notifications across processes over real Redis pub/sub: a notification committed by an
RQ worker process reaches a page streaming from the web process, and Redis going away loses
nothing and heals by itself."""

import os
import signal
import time
import uuid
from datetime import timedelta

from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from autotrack import create_app
from autotrack.extensions import db as _db
from autotrack.jobs.schedule import QUEUE_NAME
from autotrack.models import Notification, User
from autotrack.services import live, tickets
from config import TestConfig
from tests import factories
from tests.helpers import PAST, REDIS_URL, EventStream, Served, flask, start_redis, wait_until

PUSH_SECONDS = 2
# How long Redis stays down in the outage test (the drill: a minute).
OUTAGE_SECONDS = float(os.environ.get("AUTOTRACK_TEST_REDIS_OUTAGE_SECONDS", "60"))


def web_app(redis_url, channel, **settings):
    """A web process's app on the test database, relaying live wake-ups through `redis_url`.
    Heartbeats are long, so only a push (or, with Redis down, a poll) can deliver in time."""
    config = {
        "REDIS_URL": redis_url,
        "AUTOTRACK_LIVE_CHANNEL": channel,
        "AUTOTRACK_STREAM_HEARTBEAT_SECONDS": 120,
        "AUTOTRACK_STREAM_POLL_SECONDS": 1,
        **settings,
    }
    return create_app(type("LiveWeb", (TestConfig,), config))


def stream_for(served, user):
    cookie = served.sign_in(user.email, factories.PASSWORD)
    stream = EventStream(served, f"/notifications/stream?after={live.latest_id(user.id)}", cookie)
    assert stream.status == 200
    assert stream.next_event(PUSH_SECONDS, kind="unread") is not None
    return stream


def subscribers(redis, channel):
    return dict(redis.pubsub_numsub(channel)).get(channel.encode(), 0)


def test_a_notification_committed_by_a_worker_process_reaches_a_page_of_the_web_process(app, redis_conn, org):
    support = factories.default_department(org)
    lead = factories.make_user(org, "agent", department=support, lead=True)
    agent = factories.make_user(org, "agent", department=support)
    ticket = tickets.create_ticket(
        agent,
        title="Core switch down",
        priority=factories.priority(org, "P1"),
        requester=factories.make_user(org),
        now=PAST,
    )
    _db.session.commit()
    channel = f"autotrack-test:{uuid.uuid4().hex}"
    web = web_app(REDIS_URL, channel)
    served = Served(web)
    stream = stream_for(served, lead)
    try:
        wait_until(lambda: subscribers(redis_conn, channel) == 1, 5, "the web process never subscribed")
        Queue(QUEUE_NAME, connection=redis_conn).enqueue(
            "autotrack.jobs.tasks.sla_sweep", (PAST + timedelta(hours=6)).isoformat()
        )
        run = flask(app, "jobs", "worker", "--burst", env={"AUTOTRACK_LIVE_CHANNEL": channel})
        assert run.returncode == 0, run.stderr
        finished = time.monotonic()
        event = stream.next_event(PUSH_SECONDS)
        assert event is not None, "the worker's notification did not reach the page within 2 s"
        assert time.monotonic() - finished < PUSH_SECONDS
        events = [event]
        while events[-1] is not None:
            events.append(stream.next_event(0.5))
        assert {e["reference"] for e in events[:-1]} == {ticket.reference}
        assert {e["url"] for e in events[:-1]} == {f"/agent/tickets/{ticket.reference}"}
        assert any("escalated to you (level 1)" in e["message"] for e in events[:-1])
    finally:
        stream.close()
        served.close()
        web.extensions["autotrack.live"].close()


def test_redis_down_for_a_while_loses_nothing_and_the_stream_heals_by_itself(app, db, org, own_redis):
    support = factories.default_department(org)
    agent = factories.make_user(org, "agent", department=support)
    employee = factories.make_user(org)
    channel = f"autotrack-test:{uuid.uuid4().hex}"
    url = f"redis://127.0.0.1:{own_redis['port']}/0"
    observer = Redis.from_url(url, socket_connect_timeout=1)
    web = web_app(url, channel)
    served = Served(web)
    stream = stream_for(served, agent)
    try:
        wait_until(lambda: subscribers(observer, channel) == 1, 5, "the web process never subscribed")

        own_redis["server"].send_signal(signal.SIGKILL)
        own_redis["server"].wait()
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        wait_until(lambda: not web.extensions["autotrack.live"].pushing, 5, "the lost subscription went unnoticed")

        # An employee raises a ticket through the web process while Redis is down.
        cookie = served.sign_in(employee.email, factories.PASSWORD)
        raised = served.post_form("/portal/tickets/new", cookie, {"title": "Raised while Redis is down"})
        assert raised.status == 302, "raising a ticket failed because Redis is down"
        health = served.connection()
        health.request("GET", "/healthz")
        answer = health.getresponse()
        assert answer.status == 200 and b'"redis":"unreachable' in answer.read().replace(b" ", b"")
        # The page still gets it: its stream reads every second while it cannot be pushed to.
        during = stream.next_event(3)
        assert during is not None and during["message"].endswith("Raised while Redis is down")

        # More arrive during the rest of the outage; all of them are rows, and all reach the page.
        later = []
        while time.monotonic() < outage_ends:
            ticket = factories.make_ticket(employee, title=f"Outage ticket {len(later) + 1}")
            later.append(ticket.reference)
            time.sleep(min(10, max(0, outage_ends - time.monotonic())))  # real time: the outage's length is the point
        received = [stream.next_event(3) for _ in later]
        assert [e and e["reference"] for e in received] == later

        own_redis["server"] = start_redis(own_redis["port"])  # Redis is back, empty
        wait_until(lambda: subscribers(observer, channel) == 1, 10, "the stream's subscription did not come back")
        # Pushed again: the heartbeat is 2 minutes, so only a push arrives this fast.
        with web.app_context():  # committed by the web process, which publishes to the new Redis
            after = factories.make_ticket(_db.session.get(User, employee.id), title="After the outage")
            after_reference = after.reference
        event = stream.next_event(PUSH_SECONDS)
        assert event is not None and event["reference"] == after_reference
        rows = _db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == agent.id)
        )
        assert rows == 2 + len(later)  # one per ticket raised: none lost
    finally:
        stream.close()
        served.close()
        web.extensions["autotrack.live"].close()
