"""A new ticket is written with Core inserts (services/tickets/create.py) and then kept in the
session as if loaded: the rows must be those the unit of work wrote, and the object must behave
as a loaded one (relations from the session, later changes as versioned UPDATEs)."""

import pytest
from sqlalchemy import func, inspect, select

from autotrack.extensions import db as _db
from autotrack.models import Comment, SlaStep, Ticket
from autotrack.services import tickets
from autotrack.services.tickets import create
from tests import factories
from tests.helpers import MIN, T0, statements


def _through_the_unit_of_work(ticket):
    _db.session.add(ticket)
    _db.session.flush()


def _steps_through_the_unit_of_work(ticket_id, steps):
    ticket = _db.session.get(Ticket, ticket_id)
    for step in steps:
        ticket.sla_steps.add(SlaStep(**step))
    _db.session.flush()


def _row(ticket_id):
    columns = [c for c in Ticket.__table__.c if c.name not in ("id", "number")]
    return dict(_db.session.execute(select(*columns).where(Ticket.id == ticket_id)).one()._mapping)


def _steps(ticket_id):
    columns = [c for c in SlaStep.__table__.c if c.name not in ("id", "ticket_id")]
    return [
        dict(r._mapping)
        for r in _db.session.execute(select(*columns).where(SlaStep.ticket_id == ticket_id).order_by(SlaStep.id))
    ]


@pytest.mark.parametrize("priority", ["P1", "P3"])  # with and without an update target
def test_the_rows_are_those_the_unit_of_work_wrote(org, team, monkeypatch, priority):
    def raise_one():
        return tickets.create_ticket(
            team["agent"],
            title="Payments down",
            description="All of them",
            priority=factories.priority(org, priority),
            requester=team["employee"],
            now=T0,
        ).id

    new_id = raise_one()
    _db.session.commit()
    monkeypatch.setattr(create, "_insert_as_loaded", _through_the_unit_of_work)
    monkeypatch.setattr(create, "insert_steps", _steps_through_the_unit_of_work)
    old_id = raise_one()
    _db.session.commit()
    _db.session.expire_all()
    assert _row(new_id) == _row(old_id)
    assert _row(new_id)["version"] == 1 and _row(new_id)["escalation_level"] == 0
    assert _steps(new_id) == _steps(old_id)
    assert len(_steps(new_id)) == 3


def test_the_new_ticket_is_as_if_loaded(org, team):
    category = factories.make_category(org, "Hardware/Laptop")
    ticket = tickets.create_ticket(team["employee"], title="Laptop", category=category, now=T0)
    state = inspect(ticket)
    assert state.persistent and not state.modified and not state.expired_attributes
    with statements() as seen:
        assert (ticket.requester, ticket.category) == (team["employee"], category)
        assert (ticket.department.name, ticket.priority.name, ticket.status.name) == ("Support", "P3", "New")
        assert ticket.reference.endswith(str(ticket.number))
        assert (ticket.requester_id, ticket.category_id) == (team["employee"].id, category.id)
        assert (ticket.comments, ticket.tasks, ticket.attachments, ticket.assignee) == ([], [], [], None)
        _db.session.flush()  # nothing left to write
    assert seen == []


def _raise_comment_and_assign(org, team):
    ticket = tickets.create_ticket(
        team["agent"], title="Payments down", priority=factories.priority(org, "P1"), requester=team["employee"], now=T0
    )
    tickets.add_comment(team["employee"], ticket, "Still down", now=T0 + MIN)  # in the same transaction
    _db.session.commit()
    tickets.transition(team["agent"], ticket, "assign", assignee=team["agent"], now=T0 + 2 * MIN)
    _db.session.commit()
    _db.session.expire_all()
    return _db.session.get(Ticket, ticket.id)


def test_later_changes_are_versioned_updates_and_no_step_is_written_twice(org, team, monkeypatch):
    ticket = _raise_comment_and_assign(org, team)
    monkeypatch.setattr(create, "_insert_as_loaded", _through_the_unit_of_work)
    monkeypatch.setattr(create, "insert_steps", _steps_through_the_unit_of_work)
    the_old_way = _raise_comment_and_assign(org, team)
    assert ticket.version == the_old_way.version > 1
    assert ticket.assignee_id == team["agent"].id
    assert _steps(ticket.id) == _steps(the_old_way.id)
    assert [c.body for c in ticket.comments] == ["Still down"]
    started = _db.session.scalar(
        select(func.count()).select_from(SlaStep).where(SlaStep.ticket_id == ticket.id, SlaStep.kind == "start")
    )
    assert started == 3
    assert _db.session.scalar(select(func.count()).select_from(Comment).where(Comment.ticket_id == ticket.id)) == 1


def test_a_rolled_back_savepoint_takes_the_new_ticket_out_of_the_session(org, team):
    """As for a flushed ticket: mail intake's batches roll a failed message back this way."""
    savepoint = _db.session.begin_nested()
    gone = tickets.create_ticket(team["employee"], title="Gone", now=T0)
    savepoint.rollback()
    assert inspect(gone).transient
    tickets.create_ticket(team["employee"], title="Kept", now=T0)  # SQLite reuses the id
    _db.session.commit()
    assert _db.session.scalars(select(Ticket.title)).all() == ["Kept"]
