"""Raising a ticket: numbering, routing by category, defaults, the first SLA clocks."""

from sqlalchemy import func, inspect, update
from sqlalchemy.orm.attributes import set_committed_value

from autotrack.extensions import db
from autotrack.models import (
    Department,
    Lifecycle,
    Organization,
    Priority,
    Ticket,
)
from autotrack.services import audit, policy, sla
from autotrack.services.errors import ValidationError
from autotrack.services.notifications import notify
from autotrack.services.sla.clocks import insert_steps
from autotrack.services.sqlutil import dialect_name
from autotrack.services.tickets import categories
from autotrack.services.tickets.lifecycle import (
    _clean_text,
    _default_of,
    _department_staff_ids,
    default_status,
)

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
_ORGS = Organization.__table__
_TICKETS = Ticket.__table__
# Each column's attribute name and the value a new row takes when the service sets none (its
# Python-side default, as the unit of work would apply it; the version counter starts at 1).
_NEW_ROW = tuple(
    (
        attr.key,
        attr.columns[0].key,
        attr.columns[0].default,
    )
    for attr in inspect(Ticket).column_attrs
    if not attr.columns[0].primary_key
)
_RELATIONS = ("requester", "department", "category", "priority", "status")
_EMPTY_COLLECTIONS = ("comments", "tasks", "attachments")


def _next_number(org_id):
    """The organization's next ticket number, in one statement.

    The UPDATE takes the organization row's lock until commit, so concurrent creators queue
    here and each reads its own number; the unique (org_id, number) key backs this up. MariaDB
    hands the new value back as the statement's LAST_INSERT_ID (the result's lastrowid, with
    PyMySQL and mysqlclient alike), SQLite through RETURNING.
    """
    seq = _ORGS.c.ticket_seq
    statement = update(_ORGS).where(_ORGS.c.id == org_id)
    if dialect_name() in ("mysql", "mariadb"):
        return db.session.execute(statement.values(ticket_seq=func.last_insert_id(seq + 1))).lastrowid
    return db.session.execute(statement.values(ticket_seq=seq + 1).returning(seq)).scalar_one()


def _insert_as_loaded(ticket):
    """Insert the new ticket with one Core INSERT and make it persistent as a flush would.

    The unit of work took about a quarter of a request's time to do the same. Every column is
    written (the defaults the ORM would apply included) and kept on the object, so nothing is
    left to load; the foreign keys are copied from the relations the service set (the unit of
    work would sync them at flush), which stay the session's objects. The session then
    registers it exactly as its flush registers a pending object it inserted: later changes
    flush as UPDATEs against its first version, and a rolled-back savepoint (mail intake's
    batches) expunges it again, as it would a flushed ticket.
    """
    values = ticket.__dict__
    for name in _RELATIONS:
        related = values.get(name)
        setattr(ticket, f"{name}_id", related.id if related is not None else None)
    row = {}
    for key, column, default in _NEW_ROW:
        if key in values:
            row[column] = values[key]
        else:
            value = None if default is None else default.arg(None) if default.is_callable else default.arg
            setattr(ticket, key, value)
            row[column] = value
    ticket.id = db.session.execute(_TICKETS.insert(), row).inserted_primary_key[0]
    for name in _EMPTY_COLLECTIONS:  # a new ticket has none: no SELECT when one is added
        set_committed_value(ticket, name, [])
    db.session.add(ticket)  # pending, with its relations cascaded in, as before a flush
    db.session()._register_persistent({inspect(ticket)})  # what the flush does once it inserted it


def create_ticket(
    actor,
    *,
    title,
    description="",
    category=None,
    priority=None,
    department=None,
    requester=None,
    source="web",
    routed_to=None,
    now,
):
    """Open a new ticket; category defaults route it and set its priority (most specific wins).

    Only staff may pick a priority, a department or raise a ticket for someone else. `routed_to`
    is the department the channel serves (a mailbox's), used when no category routes the ticket.
    """
    policy.require(actor, "ticket.create", message="You may not raise tickets.")
    org_id = actor.org_id
    title = _clean_text(title, "title", TITLE_MAX)
    description = _clean_text(description, "description", DESCRIPTION_MAX, required=False)
    staff = policy.can(actor, "ticket.create_on_behalf")

    for obj, field in (
        (category, "category"),
        (priority, "priority"),
        (department, "department"),
        (requester, "requester"),
    ):
        if obj is not None and obj.org_id != org_id:
            raise ValidationError(f"Unknown {field}.", {field: f"Unknown {field}."})
    if priority is not None and not staff:
        raise ValidationError("Only support staff may set the priority.", {"priority": "Not allowed."})
    if department is not None and not staff:
        raise ValidationError("Only support staff may choose the department.", {"department": "Not allowed."})
    if requester is not None and requester.id != actor.id and not staff:
        raise ValidationError("You may only raise tickets for yourself.", {"requester": "Not allowed."})
    if category is not None and not category.is_active:
        raise ValidationError("That category is no longer in use.", {"category": "Choose another category."})
    categories.check_choosable(actor, category)

    lineage = list(category.lineage()) if category is not None else []
    if priority is None:
        priority = next(
            (
                c.default_priority
                for c in lineage
                if c.default_priority is not None and c.default_priority.org_id == org_id
            ),
            None,
        )
    if department is None:
        department = next(
            (
                c.default_department
                for c in lineage
                if c.default_department is not None and c.default_department.org_id == org_id
            ),
            None,
        )
    priority = priority or _default_of(Priority, org_id)
    if routed_to is not None and routed_to.org_id == org_id:
        department = department or routed_to
    department = department or _default_of(Department, org_id)
    if priority is None or department is None:
        raise ValidationError("The organization has no default priority or department configured.")

    status = default_status(org_id, Lifecycle.NEW)
    ticket = Ticket(
        org_id=org_id,
        title=title,
        description=description,
        requester=requester or actor,
        department=department,
        category=category,
        priority=priority,
        status=status,
        state=status.category,
        source=source,
        created_at=now,
        updated_at=now,
    )
    steps = sla.start_clocks(ticket, now)  # still outside the session: its queries cannot flush it unnumbered
    staff_ids = _department_staff_ids(org_id, department.id)
    # Numbering locks the organization's row until commit and so queues every other ticket
    # being raised in it: take the number last, when only the writes remain.
    ticket.number = _next_number(org_id)
    _insert_as_loaded(ticket)
    insert_steps(ticket.id, steps)
    audit.record_many(  # a Core INSERT: no unit of work left to flush at commit
        [
            {
                "org_id": org_id,
                "action": "create",
                "actor_id": actor.id,
                "ticket_id": ticket.id,
                "to_value": status.name,
                "detail": f"priority {priority.name}, department {department.name}",
            }
        ],
        now=now,
    )
    notify(
        staff_ids,
        org_id=org_id,
        kind="new_ticket",
        ticket=ticket,
        topic="work",
        message=f"New ticket {ticket.reference}: {title}",
        skip_user_id=actor.id,
        now=now,
    )
    return ticket
