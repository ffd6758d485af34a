"""What raising a ticket costs and what it starts from: at most six statements for
`POST /api/v1/tickets` (authentication included), defaults read from the per-organization cache
yet never stale, and the same defaults and numbering whichever channel the ticket came by."""

from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import Category, Mailbox, Notification, Ticket, utcnow
from autotrack.services import policy, tickets
from autotrack.services.mail import intake as mail_in
from autotrack.services.org import orgs
from tests import factories
from tests.conftest import login, post_form
from tests.helpers import statements


def _distinct(seen):
    """Statements as the database sees them in one round trip each: SQLite's ORM inserts the
    new ticket's SLA steps one row at a time (it cannot match RETURNING rows to objects in a
    multi-row INSERT), where MariaDB gets them in one statement; those repeats count once."""
    return [s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]]


def _routed(org):
    it = factories.make_department(org, "IT")
    agents = [factories.make_user(org, "agent", department=it) for _ in range(2)]
    category = factories.make_category(org, "Hardware/Laptop", default_department=it)
    return it, agents, category.id


def test_raising_a_ticket_by_the_api_takes_at_most_six_statements(client, org, api):
    it, agents, category_id = _routed(org)
    call = api(factories.make_user(org))
    assert call("POST", "/tickets", json={"title": "warm the caches", "category_id": category_id}).status_code == 201
    with statements() as seen:
        response = call("POST", "/tickets", json={"title": "Laptop", "description": "Dead", "category_id": category_id})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["department"], body["category"], body["status"], body["priority"]) == (
        "IT",
        "Hardware/Laptop",
        "New",
        "P3",
    )
    assert len(_distinct(seen)) <= 6, "\n".join(s[:120] for s in seen)
    ticket = _db.session.scalar(select(Ticket).where(Ticket.number == body["number"]))
    told = _db.session.scalars(select(Notification.user_id).where(Notification.ticket_id == ticket.id)).all()
    assert sorted(told) == sorted(agent.id for agent in agents)


def test_the_service_alone_takes_at_most_five(app, org):
    _, _, category_id = _routed(org)
    employee = factories.make_user(org)
    tickets.create_ticket(
        employee, title="warm", category=tickets.category_for_new_ticket(org.id, category_id), now=utcnow()
    )
    _db.session.commit()
    policy.require(employee, "ticket.create")  # what authentication loads: the user, organization, permissions
    assert employee.organization.settings_token
    with statements() as seen:
        category = tickets.category_for_new_ticket(org.id, category_id)
        tickets.create_ticket(employee, title="counted", category=category, now=utcnow())
    assert len(_distinct(seen)) <= 5, "\n".join(s[:120] for s in seen)


def test_a_changed_default_applies_to_the_very_next_ticket(client, org, api):
    call = api(factories.make_user(org))
    assert call("POST", "/tickets", json={"title": "before"}).get_json()["priority"] == "P3"
    factories.priority(org, "P3").is_default = False
    factories.priority(org, "P2").is_default = True
    facilities = orgs.create_department(org, "Facilities")
    factories.default_department(org).is_default = False
    facilities.is_default = True
    _db.session.commit()
    body = call("POST", "/tickets", json={"title": "after"}).get_json()
    assert (body["priority"], body["department"]) == ("P2", "Facilities")


def test_a_new_agent_hears_of_the_very_next_ticket_of_their_department(client, org, api):
    it, agents, category_id = _routed(org)
    call = api(factories.make_user(org))
    call("POST", "/tickets", json={"title": "before", "category_id": category_id})
    newcomer = factories.make_user(org, "agent", department=it)
    number = call("POST", "/tickets", json={"title": "after", "category_id": category_id}).get_json()["number"]
    ticket = _db.session.scalar(select(Ticket).where(Ticket.number == number))
    told = _db.session.scalars(select(Notification.user_id).where(Notification.ticket_id == ticket.id)).all()
    assert newcomer.id in told


def test_a_rerouted_category_routes_the_very_next_ticket(client, org, api):
    it, _, category_id = _routed(org)
    call = api(factories.make_user(org))
    assert (
        call("POST", "/tickets", json={"title": "before", "category_id": category_id}).get_json()["department"] == "IT"
    )
    facilities = factories.make_department(org, "Facilities")
    _db.session.get(Category, category_id).default_department = facilities
    _db.session.commit()
    assert (
        call("POST", "/tickets", json={"title": "after", "category_id": category_id}).get_json()["department"]
        == "Facilities"
    )


def test_every_channel_takes_the_same_defaults_and_the_next_number(client, org, other_org, api):
    employee = factories.make_user(org, email="ada@acme.example")
    first = api(employee)("POST", "/tickets", json={"title": "By the API"}).get_json()

    login(client, employee)
    post_form(client, "/portal/tickets/new", {"title": "By the form"}, token_from="/portal/tickets/new")

    mailbox = Mailbox(
        org_id=org.id, name="it", address="it@acme.example", department_id=factories.default_department(org).id
    )
    _db.session.add(mailbox)
    _db.session.commit()
    mail_in.ingest(mailbox, b"From: ada@acme.example\r\nSubject: By mail\r\n\r\nHello.\r\n", now=utcnow())
    _db.session.commit()

    raised = _db.session.scalars(select(Ticket).where(Ticket.org_id == org.id).order_by(Ticket.number)).all()
    assert [t.title for t in raised] == ["By the API", "By the form", "By mail"]
    assert [t.number for t in raised] == [first["number"], first["number"] + 1, first["number"] + 2]  # no gap
    assert {(t.priority.name, t.department.name, t.status.name) for t in raised} == {("P3", "Support", "New")}
    assert other_org.ticket_seq == 1000  # numbering is per organization
