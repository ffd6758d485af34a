"""Tasks on a ticket (who, by when, done) and the ticket's history on the agent workspace."""

from datetime import UTC, datetime

from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import Task
from tests import factories
from tests.conftest import csrf_token, login


def setup_ticket(org):
    agent = factories.make_user(org, "agent", name="Ann Agent")
    colleague = factories.make_user(org, "agent", name="Bob Agent")
    ticket = factories.make_ticket_in("open", factories.make_user(org), agent)
    return agent, colleague, ticket


def post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/agent/")})


def test_a_task_gets_an_assignee_and_a_due_time_in_the_organizations_zone(client, org):
    org.timezone = "Europe/Berlin"
    _db.session.commit()
    agent, colleague, ticket = setup_ticket(org)
    login(client, agent)
    response = post(
        client,
        f"/agent/tickets/{ticket.reference}/tasks",
        {"title": "Order a new battery", "assignee_id": str(colleague.id), "due": "2026-12-01T17:00"},
    )
    assert response.status_code == 302
    task = _db.session.scalar(select(Task).where(Task.ticket_id == ticket.id))
    assert (task.title, task.assignee_id) == ("Order a new battery", colleague.id)
    assert task.due_at == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 17:00 in Berlin
    page = client.get(f"/agent/tickets/{ticket.reference}").get_data(as_text=True)
    assert "Order a new battery" in page and "Bob Agent" in page and "2026-12-01 17:00" in page


def test_done_and_reopen(client, org):
    agent, _, ticket = setup_ticket(org)
    login(client, agent)
    post(client, f"/agent/tickets/{ticket.reference}/tasks", {"title": "Call the vendor"})
    task = _db.session.scalar(select(Task).where(Task.ticket_id == ticket.id))
    assert (
        post(
            client, f"/agent/tickets/{ticket.reference}/tasks/done", {"task_id": str(task.id), "done": "1"}
        ).status_code
        == 302
    )
    _db.session.expire_all()
    assert _db.session.get(Task, task.id).done_at is not None
    post(client, f"/agent/tickets/{ticket.reference}/tasks/done", {"task_id": str(task.id), "done": ""})
    _db.session.expire_all()
    assert _db.session.get(Task, task.id).done_at is None


def test_a_task_of_another_ticket_cannot_be_ticked_through_this_one(client, org, other_org):
    agent, _, ticket = setup_ticket(org)
    _, _, elsewhere = setup_ticket(org)
    login(client, agent)
    post(client, f"/agent/tickets/{elsewhere.reference}/tasks", {"title": "Theirs"})
    theirs = _db.session.scalar(select(Task).where(Task.ticket_id == elsewhere.id))
    response = post(client, f"/agent/tickets/{ticket.reference}/tasks/done", {"task_id": str(theirs.id), "done": "1"})
    assert response.status_code in (302, 404)
    _db.session.expire_all()
    assert _db.session.get(Task, theirs.id).done_at is None


def test_a_bad_due_time_is_refused_and_nothing_is_added(client, org):
    agent, _, ticket = setup_ticket(org)
    login(client, agent)
    response = post(client, f"/agent/tickets/{ticket.reference}/tasks", {"title": "X", "due": "tomorrow-ish"})
    assert response.status_code == 302
    assert _db.session.scalar(select(Task).where(Task.ticket_id == ticket.id)) is None
    page = client.get(f"/agent/tickets/{ticket.reference}").get_data(as_text=True)
    assert "valid due time" in page


def test_the_workspace_shows_the_tickets_history(client, org):
    agent, _, ticket = setup_ticket(org)
    login(client, agent)
    post(client, f"/agent/tickets/{ticket.reference}/tasks", {"title": "Call the vendor"})
    history = client.get(f"/agent/tickets/{ticket.reference}").get_data(as_text=True).split('id="history"')[1]
    assert "create" in history and "assign" in history and "task add" in history and "Ann Agent" in history
