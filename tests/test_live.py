"""Live notifications over server-sent events, served by a real HTTP server: what is pushed,
to whom, when, and how a reconnect resumes. (Across processes through Redis, and Redis going
away: tests/jobs/test_live_redis.py. In a real browser: tests/browser/test_live_notifications.py.)"""

import time
from datetime import UTC, datetime

import pytest

from autotrack import create_app
from autotrack.extensions import db as _db
from autotrack.services import live, notifications
from config import TestConfig
from tests import factories
from tests.helpers import EventStream, Served, wait_until

NOW = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)  # when the notifications were written
PUSH_SECONDS = 2  # a push arrives well before any heartbeat (20 s) could have found the row


@pytest.fixture
def served(app, db):
    server = Served(app)
    yield server
    server.close()


@pytest.fixture
def team(org):
    support = factories.default_department(org)
    return {
        "agent": factories.make_user(org, "agent", department=support),
        "other_agent": factories.make_user(org, "agent", department=support),
        "employee": factories.make_user(org),
    }


def open_stream(served, user, after=None, headers=None):
    cookie = served.sign_in(user.email, factories.PASSWORD)
    after = live.latest_id(user.id) if after is None else after
    stream = EventStream(served, f"/notifications/stream?after={after}", cookie, headers)
    assert stream.status == 200
    assert stream.next_event(PUSH_SECONDS, kind="unread") is not None  # connected and read once
    return stream


def test_a_new_ticket_reaches_the_agents_open_page_at_once(served, team):
    stream = open_stream(served, team["agent"])
    try:
        started = time.monotonic()
        ticket = factories.make_ticket(team["employee"], title="VPN drops every hour")
        event = stream.next_event(PUSH_SECONDS)
        assert event is not None, "no push within 2 s"
        assert time.monotonic() - started < PUSH_SECONDS
        assert event["reference"] == ticket.reference
        assert event["message"] == f"New ticket {ticket.reference}: VPN drops every hour"
        assert event["url"] == f"/agent/tickets/{ticket.reference}"  # the agent's own workspace
        assert event["unread"] == notifications.unread_count(team["agent"]) == 1
    finally:
        stream.close()


def test_a_reconnect_resumes_after_the_last_event_it_saw(served, team):
    agent = team["agent"]
    stream = open_stream(served, agent)
    first = factories.make_ticket(team["employee"], title="First")
    seen = stream.next_event(PUSH_SECONDS)
    stream.close()
    # While the page is disconnected, two more tickets arrive.
    missed = [factories.make_ticket(team["employee"], title=title) for title in ("Second", "Third")]

    cookie = served.sign_in(agent.email, factories.PASSWORD)
    # The browser reconnects with its first URL and the last id it saw as Last-Event-ID.
    again = EventStream(served, "/notifications/stream?after=0", cookie, {"Last-Event-ID": seen["_id"]})
    try:
        got = [again.next_event(PUSH_SECONDS), again.next_event(PUSH_SECONDS)]
        assert seen["reference"] == first.reference
        assert [e and e["reference"] for e in got] == [t.reference for t in missed]
        assert again.next_event(0.5) is None  # the first one is not sent twice
    finally:
        again.close()


def test_a_page_drawn_before_a_notification_gets_it_even_if_its_stream_opens_later(served, team):
    agent = team["agent"]
    after = live.latest_id(agent.id)  # what the page embedded when it was drawn
    ticket = factories.make_ticket(team["employee"], title="Raised between page and stream")
    cookie = served.sign_in(agent.email, factories.PASSWORD)
    stream = EventStream(served, f"/notifications/stream?after={after}", cookie)
    try:
        event = stream.next_event(PUSH_SECONDS)
        assert event is not None and event["reference"] == ticket.reference
    finally:
        stream.close()


def test_a_stream_carries_only_its_users_notifications(served, org, other_org, team):
    stream = open_stream(served, team["agent"])
    try:
        outsider = factories.make_user(other_org, "agent")
        factories.make_ticket(factories.make_user(other_org), title="Globex only")
        notifications.notify(
            [team["other_agent"].id, outsider.id], org_id=org.id, kind="assigned", message="Not for the agent", now=NOW
        )
        _db.session.commit()
        assert stream.next_event(1) is None
        notifications.notify([team["agent"].id], org_id=org.id, kind="assigned", message="For the agent", now=NOW)
        _db.session.commit()
        event = stream.next_event(PUSH_SECONDS)
        assert event is not None and event["message"] == "For the agent"
        assert event["url"] is None  # no ticket attached
    finally:
        stream.close()


def test_a_rolled_back_notification_is_never_pushed(app, team):
    agent = team["agent"]
    signal = live.current().hub.subscribe(agent.id)
    try:
        notifications.notify([agent.id], org_id=agent.org_id, kind="assigned", message="Never happened", now=NOW)
        _db.session.rollback()
        assert not signal.wait(1), "woken for a notification that was rolled back"
        notifications.notify([agent.id], org_id=agent.org_id, kind="assigned", message="Happened", now=NOW)
        _db.session.commit()
        assert signal.wait(PUSH_SECONDS)
    finally:
        live.current().hub.unsubscribe(agent.id, signal)


def test_the_stream_needs_a_signed_in_user(client):
    response = client.get("/notifications/stream")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_deactivated_users_stream_ends(served, team):
    agent = team["agent"]
    stream = open_stream(served, agent)
    try:
        agent.active = False
        _db.session.commit()
        notifications.notify([agent.id], org_id=agent.org_id, kind="assigned", message="Too late", now=NOW)
        _db.session.commit()
        assert stream.next_event(PUSH_SECONDS) is None  # ended, without sending it
        stream.thread.join(PUSH_SECONDS)
        assert not stream.thread.is_alive()
    finally:
        stream.close()


def test_every_page_embeds_where_its_stream_starts(client, login_as, team):
    agent = team["agent"]
    factories.make_ticket(team["employee"])
    page = login_as(agent).get("/agent/").get_data(as_text=True)
    assert f'data-live-after="{live.latest_id(agent.id)}"' in page
    assert live.latest_id(agent.id) > 0
    assert 'data-live-url="/notifications/stream"' in page


def test_streams_over_the_limit_are_told_to_retry_and_ordinary_requests_still_answer(app, db, team):
    # Two stream slots; a 1 s heartbeat so that a closed page is noticed (its write fails) quickly.
    limited = create_app(
        type("TwoStreams", (TestConfig,), {"AUTOTRACK_STREAM_SLOTS": 2, "AUTOTRACK_STREAM_HEARTBEAT_SECONDS": 1})
    )
    slots = limited.extensions["autotrack.live"].slots
    server = Served(limited)
    streams = [open_stream(server, team["agent"]) for _ in range(2)]
    try:
        cookie = server.sign_in(team["agent"].email, factories.PASSWORD)
        third = server.connection()
        third.request("GET", "/notifications/stream", headers={"Cookie": cookie})
        response = third.getresponse()
        assert response.status == 200
        assert response.read().decode() == "retry: 30000\n\n"  # ends at once: come back in 30 s
        page = server.connection()
        page.request("GET", "/agent/", headers={"Cookie": cookie})
        assert page.getresponse().status == 200  # streams never take the threads of pages

        streams[0].close()  # a page goes away: its slot is free again after the next heartbeat
        wait_until(lambda: slots.acquire(blocking=False), 10, "a closed stream kept its slot")
        slots.release()
    finally:
        for stream in streams:
            stream.close()
        server.close()
        limited.extensions["autotrack.live"].close()
