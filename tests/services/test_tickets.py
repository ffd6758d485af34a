"""The ticket service: creation rules, the lifecycle, who may do what, and the audit trail."""

import pytest
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import AuditEvent, Notification, Ticket, User
from autotrack.models.types import utcnow
from autotrack.services import tickets
from autotrack.services.errors import Forbidden, InvalidTransition, ValidationError
from tests import factories
from tests.helpers import run_concurrently


@pytest.fixture
def people(org):
    support = factories.default_department(org)
    return {
        "employee": factories.make_user(org, "employee"),
        "other_employee": factories.make_user(org, "employee"),
        "agent": factories.make_user(org, "agent", department=support),
        "manager": factories.make_user(org, "manager", department=support),
        "admin": factories.admin_of(org),
    }


def audit_trail(ticket):
    return _db.session.execute(
        select(AuditEvent.action, AuditEvent.from_value, AuditEvent.to_value, AuditEvent.detail)
        .where(AuditEvent.ticket_id == ticket.id)
        .order_by(AuditEvent.id)
    ).all()


# --- creation ---------------------------------------------------------------------------------


def test_new_ticket_gets_org_defaults_without_category(org, people):
    ticket = factories.make_ticket(people["employee"])
    assert ticket.reference == "ACME-1001"
    assert ticket.state == "new" and ticket.status.name == "New"
    assert ticket.priority.name == "P3"
    assert ticket.department.name == "Support"
    assert ticket.requester_id == people["employee"].id
    assert audit_trail(ticket) == [("create", None, "New", "priority P3, department Support")]


def test_most_specific_category_sets_priority_and_department(org, people):
    finance = factories.make_department(org, "Finance")
    factories.make_category(org, "Finance", default_priority="P3", default_department=finance)
    factories.make_category(org, "Finance/Payments", default_priority="P1")
    refund = factories.make_category(org, "Finance/Payments/Refund failed")
    ticket = factories.make_ticket(people["employee"], category=refund)
    assert ticket.priority.name == "P1"  # from Payments, more specific than Finance
    assert ticket.department == finance  # inherited from the top level


def test_ticket_numbers_are_per_organization(org, other_org, people):
    ours = [factories.make_ticket(people["employee"]).reference for _ in range(3)]
    theirs = factories.make_ticket(factories.make_user(other_org)).reference
    assert ours == ["ACME-1001", "ACME-1002", "ACME-1003"]
    assert theirs == "GLOBEX-1001"


def test_employee_cannot_choose_priority_or_department(org, people):
    with pytest.raises(ValidationError) as error:
        factories.make_ticket(people["employee"], priority=factories.priority(org, "P1"))
    assert "priority" in error.value.fields
    _db.session.rollback()
    assert _db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_agent_may_choose_priority(org, people):
    ticket = factories.make_ticket(people["agent"], priority=factories.priority(org, "P1"))
    assert ticket.priority.name == "P1"


def test_blank_title_is_refused_with_field_message(org, people):
    with pytest.raises(ValidationError) as error:
        tickets.create_ticket(people["employee"], title="   ", now=utcnow())
    assert error.value.fields == {"title": "This field is required."}


def test_category_of_another_organization_is_refused(org, other_org, people):
    foreign = factories.make_category(other_org, "Secret")
    with pytest.raises(ValidationError):
        tickets.create_ticket(people["employee"], title="x", category=foreign, now=utcnow())


def test_new_ticket_notifies_department_agents(org, people):
    ticket = factories.make_ticket(people["employee"])
    notified = _db.session.scalars(
        select(Notification.user_id).where(Notification.ticket_id == ticket.id, Notification.kind == "new_ticket")
    ).all()
    assert notified == [people["agent"].id]


def test_concurrent_creation_never_repeats_a_number(app, org, people):
    """Each thread has its own connection; the row-locking counter must hand out distinct numbers."""
    employee_id = people["employee"].id

    def raise_tickets():
        numbers = []
        for _ in range(5):
            numbers.append(
                tickets.create_ticket(_db.session.get(User, employee_id), title="parallel", now=utcnow()).number
            )
            _db.session.commit()
        return numbers

    numbers = [n for batch in run_concurrently(app, raise_tickets, 4) for n in batch]
    assert sorted(numbers) == list(range(1001, 1021))


# --- lifecycle --------------------------------------------------------------------------------

VALID = [
    ("new", "assign", "open"),
    ("open", "assign", "open"),
    ("pending", "assign", "pending"),
    ("open", "wait", "pending"),
    ("pending", "resume", "open"),
    ("new", "resolve", "resolved"),
    ("open", "resolve", "resolved"),
    ("resolved", "close", "closed"),
    ("resolved", "reopen", "open"),
]


@pytest.mark.parametrize("start,action,end", VALID)
def test_valid_transitions(org, people, start, action, end):
    ticket = factories.make_ticket_in(start, people["employee"], people["agent"])
    before = len(audit_trail(ticket))
    tickets.transition(
        people["agent"], ticket, action, assignee=people["agent"] if action == "assign" else None, now=utcnow()
    )
    _db.session.commit()
    assert ticket.state == end
    assert len(audit_trail(ticket)) > before


INVALID = [
    ("new", "wait"),
    ("new", "resume"),
    ("new", "close"),
    ("new", "reopen"),
    ("open", "resume"),
    ("open", "close"),
    ("open", "reopen"),
    ("pending", "wait"),
    ("pending", "resolve"),
    ("pending", "close"),
    ("pending", "reopen"),
    ("resolved", "assign"),
    ("resolved", "wait"),
    ("resolved", "resume"),
    ("resolved", "resolve"),
    ("closed", "assign"),
    ("closed", "wait"),
    ("closed", "resume"),
    ("closed", "resolve"),
    ("closed", "close"),
    ("closed", "reopen"),
]


@pytest.mark.parametrize("start,action", INVALID)
def test_invalid_transition_is_refused_and_changes_nothing(org, people, start, action):
    ticket = factories.make_ticket_in(start, people["employee"], people["agent"])
    trail = audit_trail(ticket)
    status_id, updated = ticket.status_id, ticket.updated_at
    with pytest.raises(InvalidTransition) as error:
        tickets.transition(people["agent"], ticket, action, assignee=people["agent"], now=utcnow())
    assert f"Cannot {action}" in error.value.message
    _db.session.rollback()
    _db.session.expire_all()
    assert (ticket.status_id, ticket.state, ticket.updated_at) == (status_id, start, updated)
    assert audit_trail(ticket) == trail


def test_unknown_action_is_a_validation_error(org, people):
    ticket = factories.make_ticket(people["employee"])
    with pytest.raises(ValidationError):
        tickets.transition(people["agent"], ticket, "explode", now=utcnow())


def test_employee_cannot_work_a_ticket(org, people):
    ticket = factories.make_ticket_in("open", people["employee"], people["agent"])
    for action in ("wait", "resolve"):
        with pytest.raises(Forbidden):
            tickets.transition(people["employee"], ticket, action, now=utcnow())
    with pytest.raises(Forbidden):
        tickets.assign(people["employee"], ticket, people["employee"], now=utcnow())


def test_requester_confirms_or_reopens_own_resolved_ticket(org, people):
    ticket = factories.make_ticket_in("resolved", people["employee"], people["agent"])
    tickets.transition(people["employee"], ticket, "reopen", now=utcnow())
    assert ticket.state == "open" and ticket.resolved_at is None
    tickets.transition(people["agent"], ticket, "resolve", now=utcnow())
    tickets.transition(people["employee"], ticket, "close", now=utcnow())
    assert ticket.state == "closed" and ticket.closed_at is not None


def test_other_employee_cannot_close_someone_elses_ticket(org, people):
    ticket = factories.make_ticket_in("resolved", people["employee"], people["agent"])
    with pytest.raises(Forbidden):
        tickets.transition(people["other_employee"], ticket, "close", now=utcnow())


def test_agent_of_another_department_cannot_touch_ticket(org, people):
    outsider = factories.make_user(org, "agent", department=factories.make_department(org, "Facilities"))
    ticket = factories.make_ticket(people["employee"])
    with pytest.raises(Forbidden):
        tickets.assign(outsider, ticket, outsider, now=utcnow())


def test_assignee_must_work_in_the_ticket_department(org, people):
    outsider = factories.make_user(org, "agent", department=factories.make_department(org, "Facilities"))
    ticket = factories.make_ticket(people["employee"])
    with pytest.raises(ValidationError) as error:
        tickets.assign(people["agent"], ticket, outsider, now=utcnow())
    assert "assignee" in error.value.fields
    with pytest.raises(ValidationError):
        tickets.assign(people["agent"], ticket, people["employee"], now=utcnow())


def test_assignment_is_audited_and_notifies_the_assignee(org, people):
    ticket = factories.make_ticket(people["employee"])
    tickets.assign(people["manager"], ticket, people["agent"], now=utcnow())
    _db.session.commit()
    assert audit_trail(ticket)[1:] == [
        ("assign", None, people["agent"].name, None),
        ("transition", "New", "Open", "assign"),
    ]
    kinds = _db.session.scalars(
        select(Notification.kind).where(Notification.user_id == people["agent"].id, Notification.ticket_id == ticket.id)
    ).all()
    assert "assigned" in kinds


def test_wait_pauses_and_resume_clears_the_pause(org, people):
    ticket = factories.make_ticket_in("open", people["employee"], people["agent"])
    tickets.transition(people["agent"], ticket, "wait", now=utcnow())
    assert ticket.paused_at is not None
    tickets.transition(people["agent"], ticket, "resume", now=utcnow())
    assert ticket.paused_at is None


def test_transition_to_a_chosen_status_of_the_target_category(org, people):
    from autotrack.models import Status

    vendor = Status(org_id=org.id, name="Waiting on vendor", category="pending", position=9)
    _db.session.add(vendor)
    _db.session.commit()
    ticket = factories.make_ticket_in("open", people["employee"], people["agent"])
    tickets.transition(people["agent"], ticket, "wait", status=vendor, now=utcnow())
    assert ticket.status.name == "Waiting on vendor" and ticket.state == "pending"
    with pytest.raises(ValidationError):
        tickets.transition(people["agent"], ticket, "resume", status=vendor, now=utcnow())


# --- comments and other changes -----------------------------------------------------------------


def test_first_public_staff_reply_is_the_first_response(org, people):
    ticket = factories.make_ticket(people["employee"])
    tickets.add_comment(people["employee"], ticket, "Any news?", now=utcnow())
    tickets.add_comment(people["agent"], ticket, "Looking at logs", internal=True, now=utcnow())
    assert ticket.first_response_at is None
    reply = tickets.add_comment(people["agent"], ticket, "On it!", now=utcnow())
    assert ticket.first_response_at == reply.created_at
    tickets.add_comment(people["agent"], ticket, "Fixed?", now=utcnow())
    assert ticket.first_response_at == reply.created_at


def test_employee_cannot_write_internal_notes(org, people):
    ticket = factories.make_ticket(people["employee"])
    with pytest.raises(Forbidden):
        tickets.add_comment(people["employee"], ticket, "psst", internal=True, now=utcnow())


def test_other_employee_cannot_comment(org, people):
    ticket = factories.make_ticket(people["employee"])
    with pytest.raises(Forbidden):
        tickets.add_comment(people["other_employee"], ticket, "me too", now=utcnow())


def test_closed_ticket_takes_no_comments(org, people):
    ticket = factories.make_ticket_in("closed", people["employee"], people["agent"])
    with pytest.raises(Forbidden):
        tickets.add_comment(people["employee"], ticket, "hello?", now=utcnow())


def test_priority_change_is_audited_and_limited_to_staff(org, people):
    ticket = factories.make_ticket(people["employee"])
    with pytest.raises(Forbidden):
        tickets.change_priority(people["employee"], ticket, factories.priority(org, "P1"), now=utcnow())
    tickets.change_priority(people["agent"], ticket, factories.priority(org, "P1"), now=utcnow())
    assert audit_trail(ticket)[-1] == ("priority", "P3", "P1", None)


def test_moving_department_unassigns_an_agent_who_cannot_follow(org, people):
    facilities = factories.make_department(org, "Facilities")
    ticket = factories.make_ticket_in("open", people["employee"], people["agent"])
    tickets.change_department(people["manager"], ticket, facilities, now=utcnow())
    assert ticket.department == facilities and ticket.assignee is None
    assert [row[0] for row in audit_trail(ticket)[-2:]] == ["department", "assign"]


def test_tasks_can_be_added_and_completed_by_staff_only(org, people):
    ticket = factories.make_ticket_in("open", people["employee"], people["agent"])
    with pytest.raises(Forbidden):
        tickets.add_task(people["employee"], ticket, "Order toner", now=utcnow())
    task = tickets.add_task(people["agent"], ticket, "Order toner", assignee=people["agent"], now=utcnow())
    tickets.complete_task(people["agent"], task, now=utcnow())
    assert task.done_at is not None
    assert [row[0] for row in audit_trail(ticket)[-2:]] == ["task_add", "task_done"]


def test_category_defaults_of_another_organization_are_ignored(org, other_org, people):
    foreign_department = factories.default_department(other_org)
    category = factories.make_category(
        org, "Odd", default_department=foreign_department, default_priority=factories.priority(other_org, "P1")
    )
    ticket = factories.make_ticket(people["employee"], category=category)
    assert ticket.department.org_id == org.id and ticket.priority.org_id == org.id


def test_refused_assignment_changes_nothing_even_if_the_caller_commits(org, people):
    ticket = factories.make_ticket(people["employee"])
    closed = factories.status(org, "Closed")
    trail = audit_trail(ticket)
    with pytest.raises(ValidationError):
        tickets.transition(people["agent"], ticket, "assign", assignee=people["agent"], status=closed, now=utcnow())
    _db.session.commit()  # a careless caller
    _db.session.expire_all()
    assert ticket.assignee_id is None and audit_trail(ticket) == trail


def test_status_can_change_within_its_lifecycle_category_only(org, people):
    from autotrack.models import Status

    vendor = Status(org_id=org.id, name="Waiting on vendor", category="pending", position=9)
    _db.session.add(vendor)
    _db.session.commit()
    ticket = factories.make_ticket_in("pending", people["employee"], people["agent"])
    tickets.set_status(people["agent"], ticket, vendor, now=utcnow())
    assert (ticket.status.name, ticket.state) == ("Waiting on vendor", "pending")
    assert audit_trail(ticket)[-1] == ("status", "Pending", "Waiting on vendor", None)
    with pytest.raises(InvalidTransition):
        tickets.set_status(people["agent"], ticket, factories.status(org, "Resolved"), now=utcnow())
    with pytest.raises(Forbidden):
        tickets.set_status(people["employee"], ticket, factories.status(org, "Pending"), now=utcnow())


def test_assignable_users_query_agrees_with_the_single_user_rule(org, people):
    """The dropdown's one query and can_be_assigned must name the same people."""
    from autotrack.models import Role, User

    facilities = factories.make_department(org, "Facilities")
    factories.make_user(org, "agent", department=facilities)  # another department
    factories.make_user(org, "manager")  # manager of Support
    inactive = factories.make_user(org, "agent")
    inactive.active = False
    watcher = Role(org_id=org.id, name="Auditor", portal="manager")
    watcher.set_permissions({"ticket.view_all", "report.view"})  # sees all, may not work tickets
    _db.session.add(watcher)
    _db.session.commit()
    factories.make_user(org, "Auditor")
    factories.make_user(factories.make_org("globex"), "agent")
    ticket = factories.make_ticket(people["employee"])
    everyone = _db.session.scalars(select(User)).all()
    expected = sorted(u.id for u in everyone if tickets.can_be_assigned(ticket, u))
    assert sorted(u.id for u in tickets.assignable_users(ticket)) == expected
    assert people["agent"].id in expected and people["admin"].id in expected
    assert inactive.id not in expected and people["employee"].id not in expected
