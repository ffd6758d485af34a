"""Bulk actions from the agent queue: a confirmation, then each ticket on its own with a result
per ticket; tickets the agent cannot see, or of another organization, are never touched."""

import re

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import Ticket
from autotrack.models.types import utcnow
from autotrack.services import tickets
from autotrack.services.org import orgs
from tests import factories
from tests.conftest import login, post_form


@pytest.fixture
def queue(org):
    support = factories.default_department(org)
    facilities = orgs.create_department(org, "Facilities")
    _db.session.commit()
    agent = factories.make_user(org, "agent", department=support, name="Sam")
    colleague = factories.make_user(org, "agent", department=support, name="Kim")
    plumber = factories.make_user(org, "agent", department=facilities, name="Pat")
    employee = factories.make_user(org)
    made = [tickets.create_ticket(employee, title=f"Issue {n}", now=utcnow()) for n in range(3)]
    tickets.assign(agent, made[2], agent, now=utcnow())
    tickets.transition(agent, made[2], "resolve", now=utcnow())
    tickets.transition(employee, made[2], "close", now=utcnow())
    _db.session.commit()
    return {"agent": agent, "colleague": colleague, "plumber": plumber, "tickets": made}


def ids(*made):
    return [str(t.id) for t in made]


def test_a_bulk_action_is_confirmed_then_done_ticket_by_ticket(client, org, queue):
    login(client, queue["agent"])
    data = {"ids": ids(*queue["tickets"]), "action": "resolve"}
    confirm = post_form(client, "/agent/bulk", data, token_from="/agent/")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Resolve — 3 tickets?" in page
    assert _db.session.scalar(select(Ticket.state).where(Ticket.id == queue["tickets"][0].id)) == "new"  # not yet

    done = post_form(client, "/agent/bulk", {**data, "confirmed": "1"}, token_from="/agent/")
    page = done.get_data(as_text=True)
    assert "Resolve: 2 done, 1 not" in page
    assert re.search(r"Not done: Cannot resolve ticket ACME-\d+: it is Closed", page)
    _db.session.expire_all()
    assert [t.state for t in _db.session.scalars(select(Ticket).order_by(Ticket.id))] == [
        "resolved",
        "resolved",
        "closed",
    ]


def test_assigning_in_bulk_skips_whom_the_rules_refuse(client, org, queue):
    login(client, queue["agent"])
    open_ones = queue["tickets"][:2]
    data = {"ids": ids(*open_ones), "action": "assign", "assignee_id": str(queue["plumber"].id), "confirmed": "1"}
    page = post_form(client, "/agent/bulk", data, token_from="/agent/").get_data(as_text=True)
    assert "0 done, 2 not" in page and "cannot work on tickets of Support" in page
    data["assignee_id"] = str(queue["colleague"].id)
    page = post_form(client, "/agent/bulk", data, token_from="/agent/").get_data(as_text=True)
    assert "Assign to Kim: 2 done, 0 not" in page
    priority = factories.priority(org, "P1")
    page = post_form(
        client,
        "/agent/bulk",
        {"ids": ids(*open_ones), "action": "priority", "priority_id": str(priority.id), "confirmed": "1"},
        token_from="/agent/",
    ).get_data(as_text=True)
    assert "Set the priority to P1: 2 done" in page


def test_another_organizations_tickets_are_never_touched(client, org, other_org, queue):
    foreign = factories.make_ticket(factories.make_user(other_org))
    login(client, queue["agent"])
    page = post_form(
        client, "/agent/bulk", {"ids": ids(foreign, queue["tickets"][0]), "action": "resolve"}, token_from="/agent/"
    ).get_data(as_text=True)
    assert "1 ticket?" in page and foreign.title not in page
    nothing = post_form(
        client, "/agent/bulk", {"ids": ids(foreign), "action": "resolve", "confirmed": "1"}, token_from="/agent/"
    )
    assert nothing.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Ticket, foreign.id).state != "resolved"


def test_odd_requests_are_told_not_failed(client, org, queue):
    login(client, queue["agent"])
    for data, message in (
        ({"action": "resolve"}, "Select the tickets first."),
        ({"ids": ids(queue["tickets"][0]), "action": "explode"}, "Choose an action."),
        ({"ids": ids(queue["tickets"][0]), "action": "assign"}, "Choose the assignee"),
    ):
        response = post_form(client, "/agent/bulk", data, token_from="/agent/", follow_redirects=True)
        assert response.status_code == 200 and message in response.get_data(as_text=True)


def test_the_queue_page_offers_it_and_employees_have_none(client, org, queue):
    login(client, queue["agent"])
    page = client.get("/agent/").get_data(as_text=True)
    assert 'id="bulk-form"' in page and 'form="bulk-form"' in page
    client.post("/logout", data={"csrf_token": __import__("tests.conftest").conftest.csrf_token(client, "/agent/")})
    login(client, factories.make_user(org))
    assert client.post("/agent/bulk", data={"action": "resolve"}).status_code in (400, 403)


def test_ids_too_big_for_any_row_select_nothing(org, login_as):
    client = login_as(factories.make_user(org, "agent"))
    response = post_form(client, "/agent/bulk", {"ids": [str(4 * 10**31)], "action": "resolve"}, token_from="/agent/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/agent/")
