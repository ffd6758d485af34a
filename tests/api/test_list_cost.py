"""What a ticket list request costs: statements beyond authentication, and the same items as
the full ticket schema gives (the list is written from narrow rows, not entities)."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from autotrack.api import schemas
from autotrack.extensions import db as _db
from autotrack.models import utcnow
from autotrack.services import tickets
from autotrack.services.people import api_tokens
from autotrack.services.tickets import queues
from tests import factories

NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def busy_desk(org):
    """An agent of Support among 60 tickets of five requesters, worked by three agents, in every state."""
    agent = factories.make_user(org, "agent", name="Ann Agent")
    colleagues = [factories.make_user(org, "agent") for _ in range(2)]
    requesters = [factories.make_user(org) for _ in range(5)]
    category = factories.make_category(org, "IT/Hardware/Printer")
    workers = [agent, *colleagues]
    for i in range(60):
        ticket = tickets.create_ticket(
            requesters[i % 5],
            title=f"Ticket {i}",
            description=f"Details of {i}",
            category=category if i % 3 == 0 else None,
            now=NOW - timedelta(hours=60 - i),
        )
        worker = workers[i % 3]
        steps = [[], ["assign"], ["assign", "wait"], ["assign", "resolve"]][i % 4]
        for action in steps:
            tickets.transition(worker, ticket, action, assignee=worker if action == "assign" else None, now=NOW)
    _db.session.commit()
    return agent


@contextmanager
def statements_after_sign_in(monkeypatch):
    """The statements a request runs once authentication has returned its user."""
    seen, signed_in = [], []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    authenticate = api_tokens.user_for

    def user_for(header):
        user = authenticate(header)
        signed_in.append(len(seen))
        return user

    monkeypatch.setattr(api_tokens, "user_for", user_for)
    after = []
    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        yield after
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)
        after.extend(seen[signed_in[-1] :] if signed_in else seen)


@pytest.mark.parametrize("query", [{}, {"view": "open"}, {"view": "at_risk"}])
def test_a_ticket_list_runs_at_most_two_statements_beyond_sign_in(client, api, busy_desk, monkeypatch, query):
    call = api(busy_desk)
    call("GET", "/tickets", query_string=query)  # the organization's caches filled, as on a running server
    with statements_after_sign_in(monkeypatch) as after:
        response = call("GET", "/tickets", query_string=query)
    assert response.status_code == 200
    assert response.get_json()["items"]
    assert len(after) <= 2, "\n".join(after)


@pytest.mark.parametrize("view", ["all", "open", "at_risk"])
def test_list_items_are_the_ticket_schema_of_the_same_tickets(client, api, busy_desk, monkeypatch, view):
    monkeypatch.setattr(schemas, "utcnow", lambda: NOW)
    call = api(busy_desk)
    filters = queues.Filters.parse(busy_desk, queues.FilterArgs(view=view))
    pages, cursor = [], None
    while True:
        query = {"view": view, **({"cursor": cursor} if cursor else {})}
        body = call("GET", "/tickets", query_string=query).get_json()
        entities, expected_cursor = queues.page(busy_desk, filters, cursor, now=utcnow())
        assert body["items"] == [schemas.TicketSchema().dump(ticket) for ticket in entities]
        assert body["next_cursor"] == expected_cursor
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    items = [item for page in pages for item in page]
    assert len({item["requester"]["id"] for item in items}) > 1
    if view == "all":
        assert len(pages) == 2 and len(items) == 60
        assert {item["sla"]["state"] for item in items} >= {"paused", "met"}
        assert any(item["assignee"] for item in items) and any(item["category"] for item in items)
