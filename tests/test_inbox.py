"""In-app notifications: the bell's count, the list, marking read; only ever your own."""

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import Notification
from autotrack.models.types import utcnow
from autotrack.services import tickets
from tests import factories
from tests.conftest import csrf_token, login


@pytest.fixture
def agent_with_news(org):
    """An agent told about two new tickets of their department, and assigned one of them."""
    agent = factories.make_user(org, "agent")
    requester = factories.make_user(org)
    first = factories.make_ticket(requester, title="Printer jammed")
    factories.make_ticket(requester, title="Screen flickers")
    tickets.assign(factories.admin_of(org), first, agent, now=utcnow())
    _db.session.commit()
    return agent, first


def unread(user):
    return _db.session.scalars(
        select(Notification.id).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ).all()


def test_the_bell_counts_unread_and_the_list_shows_them(client, org, agent_with_news):
    agent, first = agent_with_news
    count = len(unread(agent))
    assert count >= 2
    login(client, agent)
    page = client.get("/agent/").get_data(as_text=True)
    assert f"Notifications, {count} unread" in page
    listing = client.get("/notifications/").get_data(as_text=True)
    assert "Printer jammed" in listing or first.reference in listing
    assert f"Open {first.reference}" in listing


def test_opening_one_marks_it_read_and_goes_to_the_ticket(client, org, agent_with_news):
    agent, first = agent_with_news
    login(client, agent)
    target = _db.session.scalar(
        select(Notification).where(Notification.user_id == agent.id, Notification.ticket_id == first.id).limit(1)
    )
    before = len(unread(agent))
    response = client.post(
        "/notifications/read",
        data={
            "id": str(target.id),
            "next": f"/agent/tickets/{first.reference}",
            "csrf_token": csrf_token(client, "/agent/"),
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/agent/tickets/{first.reference}")
    assert len(unread(agent)) == before - 1


def test_mark_all_read(client, org, agent_with_news):
    agent, _ = agent_with_news
    login(client, agent)
    response = client.post(
        "/notifications/read", data={"csrf_token": csrf_token(client, "/agent/")}, follow_redirects=True
    )
    assert "marked read" in response.get_data(as_text=True)
    assert unread(agent) == []
    assert "Notifications, 0 unread" in client.get("/agent/").get_data(as_text=True)


def test_someone_elses_notification_is_neither_listed_nor_marked(client, org, other_org, agent_with_news):
    agent, _ = agent_with_news
    stranger = factories.make_user(other_org, "agent")
    factories.make_ticket(factories.make_user(other_org), title="Globex secret")
    theirs = unread(stranger)
    assert theirs
    colleague = factories.make_user(org, "agent")
    login(client, colleague)
    assert "Globex secret" not in client.get("/notifications/").get_data(as_text=True)
    for ident in [*theirs, *unread(agent)]:
        client.post("/notifications/read", data={"id": str(ident), "csrf_token": csrf_token(client, "/agent/")})
    assert unread(stranger) == theirs and unread(agent)


def test_an_outside_next_address_is_not_followed(client, org, agent_with_news):
    agent, _ = agent_with_news
    login(client, agent)
    response = client.post(
        "/notifications/read", data={"next": "https://evil.example/", "csrf_token": csrf_token(client, "/agent/")}
    )
    assert response.headers["Location"].endswith("/notifications/")


def test_marking_read_needs_the_csrf_token(client, org, agent_with_news):
    agent, _ = agent_with_news
    login(client, agent)
    before = unread(agent)
    client.post("/notifications/read", data={})
    assert unread(agent) == before


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_older_notifications_are_a_page_away(client, org):
    user = factories.make_user(org)
    for i in range(35):
        _db.session.add(Notification(org_id=org.id, user_id=user.id, kind="comment", message=f"note number {i:02d}"))
    _db.session.commit()
    login(client, user)
    first = client.get("/notifications/").get_data(as_text=True)
    assert "note number 34" in first and "note number 00" not in first and "Older" in first
    cursor = first.split("cursor=")[1].split('"')[0]
    second = client.get(f"/notifications/?cursor={cursor}").get_data(as_text=True)
    assert "note number 00" in second and "note number 34" not in second
