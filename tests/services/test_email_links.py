"""Every email's links come from one builder (services/urls.py): absolute, under
AUTOTRACK_BASE_URL, and each one a real route of the app."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import EscalationRule, Feedback, OutboxEmail
from autotrack.services import outbox, policy, sla, tickets, urls
from autotrack.services.people import password_links
from autotrack.services.tickets import feedback, ticket_mail, watchers
from tests import factories

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC
MIN = timedelta(minutes=1)
LINK = re.compile(r"https?://[^\s\"'<>]+")

# Each email kind (by its dedupe key's prefix) and the routes its links may lead to.
ROUTES = {
    "escalation:": {"agent.ticket"},
    "digest:": {"agent.ticket", "agent.home"},
    "reply:": {"portal.ticket"},
    "ack:": {"portal.ticket"},
    "cc:": {"portal.ticket", "agent.ticket"},
    "watch:": {"portal.ticket", "agent.ticket"},
    "resolved:": {"feedback.rate", "portal.ticket"},
    "low-rating:": {"agent.ticket"},
}


@pytest.mark.parametrize("base", ["http://127.0.0.1:5000", "https://help.example/desk/", "http://h:8080/"])
def test_links_read_as_the_literal_paths_did(app, base, monkeypatch):
    monkeypatch.setitem(app.config, "AUTOTRACK_BASE_URL", base)
    root = base.rstrip("/")
    with app.app_context():
        assert urls.url("agent.ticket", reference="ACME-12") == f"{root}/agent/tickets/ACME-12"
        assert urls.url("portal.ticket", reference="ACME-12") == f"{root}/portal/tickets/ACME-12"
        assert urls.url("agent.home", view="open", sla="breached") == f"{root}/agent/?view=open&sla=breached"
        assert urls.url("auth.reset", token="a-B_9") == f"{root}/reset/a-B_9"
        assert (
            urls.url("feedback.rate", reference="ACME-12", token="t-_", rating=3)
            == f"{root}/feedback/ACME-12/t-_?rating=3"
        )


@pytest.fixture
def desk(org):
    support = factories.default_department(org)
    other = factories.make_department(org, "Facilities")
    return {
        "employee": factories.make_user(org, "employee", email="emp@acme.example"),
        "colleague": factories.make_user(org, "employee", email="bob@acme.example"),
        "agent": factories.make_user(org, "agent", department=support, email="agent@acme.example"),
        "follower": factories.make_user(org, "agent", department=support, email="kim@acme.example"),
        "outsider": factories.make_user(org, "agent", department=other, email="fac@acme.example"),
        "lead": factories.make_user(org, "agent", department=support, lead=True, email="lead@acme.example"),
        "manager": factories.make_user(org, "manager", department=support, email="boss@acme.example"),
        "admin": factories.admin_of(org),
    }


def test_every_email_kind_links_to_a_real_route(app, org, desk):
    """Drive each kind of email once, then resolve every link in every queued email through the
    app's URL map: an endpoint renamed or a path changed fails here, not in someone's inbox."""
    agent = desk["agent"]
    ticket = tickets.create_ticket(
        agent, title="Payments down", priority=factories.priority(org, "P1"), requester=desk["employee"], now=T0
    )
    _db.session.commit()
    rule = _db.session.scalar(select(EscalationRule).where(EscalationRule.org_id == org.id, EscalationRule.level == 1))
    rule.reminder = "daily"
    _db.session.commit()
    sla.sweep(T0 + 16 * MIN)  # escalation emails and the level's digest
    _db.session.expire_all()

    watchers.follow(desk["follower"], ticket, now=T0 + 20 * MIN)
    watchers.add_cc(agent, ticket, desk["colleague"].email, now=T0 + 20 * MIN)
    watchers.add_cc(agent, ticket, desk["outsider"].email, now=T0 + 20 * MIN)
    tickets.add_comment(agent, ticket, "On it.", now=T0 + 21 * MIN)  # reply to the requester, watcher mail
    ticket_mail.queue_acknowledgement(ticket, now=T0 + 21 * MIN)
    tickets.transition(agent, ticket, "resolve", now=T0 + 22 * MIN)  # asks for a rating
    _db.session.commit()
    asked = _db.session.scalar(select(Feedback).where(Feedback.ticket_id == ticket.id))
    feedback.rate(asked, 1, "Slow", now=T0 + 23 * MIN)  # a low rating tells the department's manager
    _db.session.commit()

    base = urlsplit(app.config["AUTOTRACK_BASE_URL"])
    adapter = app.url_map.bind(base.netloc, url_scheme=base.scheme)
    seen = {}
    for row in _db.session.scalars(select(OutboxEmail)):
        kind = next((k for k in ROUTES if row.dedupe_key.startswith(k)), None)
        assert kind is not None, f"an email kind without a test of its links: {row.dedupe_key}"
        text, html = outbox.render_bodies(row)
        for link in LINK.findall(f"{text} {html or ''} {row.context or ''}"):  # the context: links not shown
            parts = urlsplit(link.replace("&amp;", "&"))
            assert f"{parts.scheme}://{parts.netloc}" == app.config["AUTOTRACK_BASE_URL"].rstrip("/")
            endpoint, _ = adapter.match(parts.path, method="GET", query_args=parts.query)
            assert endpoint in ROUTES[kind], (row.dedupe_key, link)
            seen.setdefault(kind, set()).add(endpoint)
    assert set(seen) == set(ROUTES)
    assert seen["resolved:"] == {"feedback.rate", "portal.ticket"}
    assert seen["digest:"] == {"agent.ticket", "agent.home"}
    # The one portal rule: the follower works the ticket (agent workspace); the copied colleague
    # and the copied agent of another department read it in the portal.
    assert seen["cc:"] == {"portal.ticket"} and seen["watch:"] == {"agent.ticket", "portal.ticket"}
    assert policy.ticket_portal(desk["follower"], ticket) == "agent"
    assert policy.ticket_portal(desk["outsider"], ticket) == "portal"
    assert policy.ticket_portal(desk["colleague"], ticket) == "portal"

    link = password_links.link_for("a-B_9")
    assert adapter.match(urlsplit(link).path, method="GET")[0] == "auth.reset"
