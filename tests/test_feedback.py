"""Feedback after resolution: the resolution email's single-use link tied to its ticket, the
portal and the API, what a low rating does, and satisfaction in the dashboard and reports."""

import json
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import AuditEvent, Feedback, Notification, OutboxEmail
from autotrack.models.types import utcnow
from autotrack.services import outbox, tickets
from autotrack.services.org import dashboard
from autotrack.services.sla import reports as sla_reports
from tests import factories
from tests.conftest import csrf_token, login, post_form


@pytest.fixture
def people(org):
    return {
        "employee": factories.make_user(org, email="emp@acme.example", name="Emma Employee"),
        "agent": factories.make_user(org, "agent", name="Ann"),
        "manager": factories.make_user(org, "manager", email="boss@acme.example"),
    }


def resolved(people, title="Printer jams"):
    ticket = tickets.create_ticket(people["employee"], title=title, now=utcnow())
    tickets.assign(people["agent"], ticket, people["agent"], now=utcnow())
    tickets.add_comment(people["agent"], ticket, "Replaced the roller", now=utcnow())
    tickets.transition(people["agent"], ticket, "resolve", now=utcnow())
    _db.session.commit()
    return ticket


def rating_link(ticket, rating=4):
    """The path of the resolution email's link for `rating`, as the requester would click it."""
    row = _db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.ticket_id == ticket.id, OutboxEmail.dedupe_key.startswith("resolved:"))
        .order_by(OutboxEmail.id.desc())
    ).first()
    url = next(u for value, _, u in json.loads(row.context)["ratings"] if value == rating)
    parts = urlsplit(url)
    return parts.path, parts.query


def test_the_email_link_rates_once_without_signing_in(client, org, people):
    ticket = resolved(people)
    email = _db.session.scalar(select(OutboxEmail).where(OutboxEmail.dedupe_key.startswith("resolved:")))
    text, html = outbox.render_bodies(email)
    assert email.recipient == "emp@acme.example" and f"[{ticket.reference}]" in email.subject
    assert "5 - Excellent: http" in text and "Excellent</a>" in html
    path, query = rating_link(ticket, 2)
    page = client.get(f"{path}?{query}")
    assert page.status_code == 200
    assert re.search(r'<input checked[^>]*value="2"', page.get_data(as_text=True))  # preselected; a click confirms
    assert _db.session.scalar(select(Feedback.rated_at)) is None  # opening the link rates nothing
    sent = client.post(
        path, data={"rating": "2", "comment": "Took three days", "csrf_token": csrf_token(client, f"{path}?{query}")}
    )
    assert sent.status_code == 200 and "has been recorded" in sent.get_data(as_text=True)
    rated = _db.session.scalar(select(Feedback))
    assert (rated.rating, rated.comment, rated.agent_id) == (2, "Took three days", people["agent"].id)
    assert _db.session.scalar(select(AuditEvent.to_value).where(AuditEvent.action == "feedback")) == "2"

    again = client.post(path, data={"rating": "5", "csrf_token": csrf_token(client, f"{path}?{query}")})
    assert again.status_code == 409 and "rated already" in again.get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.scalar(select(Feedback.rating)) == 2


def test_a_link_is_good_for_its_own_ticket_only(client, org, people):
    first, second = resolved(people, "First"), resolved(people, "Second")
    path, _ = rating_link(first)
    token = path.rsplit("/", 1)[1]
    assert client.get(f"/feedback/{second.reference}/{token}").status_code == 404
    assert client.get(f"/feedback/{first.reference}/not-a-token").status_code == 404
    assert client.get(path).status_code == 200


def test_a_new_resolution_withdraws_the_old_link(client, org, people):
    ticket = resolved(people)
    old_path, _ = rating_link(ticket)
    tickets.transition(people["employee"], ticket, "reopen", now=utcnow())
    tickets.transition(people["agent"], ticket, "resolve", now=utcnow())
    _db.session.commit()
    assert client.get(old_path).status_code == 404
    new_path, _ = rating_link(ticket)
    assert new_path != old_path and client.get(new_path).status_code == 200


def test_a_low_rating_tells_the_managers_or_reopens(client, org, people):
    ticket = resolved(people)
    path, query = rating_link(ticket, 1)
    client.post(path, data={"rating": "1", "csrf_token": csrf_token(client, f"{path}?{query}")})
    told = _db.session.scalar(select(Notification).where(Notification.kind == "feedback"))
    assert told.user_id == people["manager"].id and "rated 1/5" in told.message
    assert (
        _db.session.scalar(select(OutboxEmail.recipient).where(OutboxEmail.dedupe_key.startswith("low-rating:")))
        == "boss@acme.example"
    )

    org.low_rating_action = "reopen"
    _db.session.commit()
    other = resolved(people, "Second")
    path, query = rating_link(other, 2)
    client.post(path, data={"rating": "2", "csrf_token": csrf_token(client, f"{path}?{query}")})
    _db.session.expire_all()
    assert _db.session.get(type(other), other.id).state == "open"


def test_the_requester_rates_in_the_portal_and_bad_input_is_named(client, org, people):
    ticket = resolved(people)
    login(client, people["employee"])
    page = client.get(f"/portal/tickets/{ticket.reference}").get_data(as_text=True)
    assert 'id="feedback-form"' in page
    bad = post_form(
        client,
        f"/portal/tickets/{ticket.reference}/feedback",
        {"comment": "no rating"},
        token_from=f"/portal/tickets/{ticket.reference}",
    )
    assert bad.status_code == 400 and "Choose a rating from 1 to 5." in bad.get_data(as_text=True)
    good = post_form(
        client,
        f"/portal/tickets/{ticket.reference}/feedback",
        {"rating": "4"},
        token_from=f"/portal/tickets/{ticket.reference}",
    )
    assert good.status_code == 302
    assert "You rated this 4/5" in client.get(f"/portal/tickets/{ticket.reference}").get_data(as_text=True)


def test_satisfaction_shows_in_the_dashboard_and_the_reports(org, people):
    from datetime import timedelta

    from autotrack.models import utcnow
    from autotrack.services.tickets import feedback

    for rating in (5, 2):
        ticket = resolved(people)
        feedback.rate(feedback.pending_for(ticket, people["employee"]), rating, now=utcnow())
        _db.session.commit()
    board = dashboard.build(org.id, now=utcnow())
    assert board.satisfaction[7] == (3.5, 2)
    today = utcnow().date()
    report = sla_reports.build(org.id, None, today - timedelta(days=1), today, "agent")
    assert report.satisfaction["Ann"] == (3.5, 2) and report.satisfaction_total == (3.5, 2)
    assert sla_reports.to_csv(report).splitlines()[1].endswith(",3.5,2")


def test_the_api_lets_the_requester_rate_once(client, org, people):
    from tests.helpers import token_for

    ticket = resolved(people)

    tokens = {user.id: token_for(client, user) for user in (people["employee"], people["agent"])}

    def call(user, method="GET", body=None):
        return client.open(
            f"/api/v1/tickets/{ticket.reference}/feedback",
            method=method,
            json=body,
            headers={"Authorization": f"Bearer {tokens[user.id]}"},
        )

    assert call(people["employee"]).get_json() == {"asked": True, "rating": None, "comment": None, "rated_at": None}
    assert call(people["agent"], "POST", {"rating": 5}).status_code == 403
    assert call(people["employee"], "POST", {"rating": 9}).status_code == 422
    done = call(people["employee"], "POST", {"rating": 4, "comment": "Quick"})
    assert done.status_code == 201 and done.get_json()["rating"] == 4 and done.get_json()["asked"] is False
    assert call(people["employee"], "POST", {"rating": 5}).status_code == 409
    assert call(people["agent"]).get_json()["rating"] == 4  # staff read it


def test_an_admin_chooses_what_a_low_rating_does(client, org):
    from tests.admin.test_settings_console import SETTINGS

    login(client, factories.admin_of(org))
    assert "When a requester rates a resolution 1 or 2 of 5" in client.get("/admin/settings/").get_data(as_text=True)
    refused = post_form(
        client, "/admin/settings/", {**SETTINGS, "low_rating_action": "shout"}, token_from="/admin/settings/"
    )
    assert refused.status_code == 200 and "Not a valid choice" in refused.get_data(as_text=True)
    saved = post_form(
        client, "/admin/settings/", {**SETTINGS, "low_rating_action": "reopen"}, token_from="/admin/settings/"
    )
    assert saved.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(type(org), org.id).low_rating_action == "reopen"
