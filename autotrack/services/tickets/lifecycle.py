"""A ticket's life: the transition table, assignment, priority and department changes, bulk
actions and the ticket's history. Every change writes its audit event; services flush, never
commit (the caller commits once).
"""

from sqlalchemy import and_, or_, select

from autotrack.extensions import db
from autotrack.models import (
    AuditEvent,
    DepartmentMember,
    Lifecycle,
    MemberRole,
    Perm,
    RolePermission,
    Ticket,
    User,
)
from autotrack.services import audit, policy, signals, sla
from autotrack.services.errors import DomainError, InvalidTransition, ValidationError
from autotrack.services.notifications import notify
from autotrack.services.tickets import defaults, watchers

# action -> (lifecycle categories it may start from, category it leads to; None keeps the state)
TRANSITIONS = {
    "assign": ({Lifecycle.NEW, Lifecycle.OPEN, Lifecycle.PENDING}, None),
    "wait": ({Lifecycle.OPEN}, Lifecycle.PENDING),
    "resume": ({Lifecycle.PENDING}, Lifecycle.OPEN),
    "resolve": ({Lifecycle.NEW, Lifecycle.OPEN}, Lifecycle.RESOLVED),
    "close": ({Lifecycle.RESOLVED}, Lifecycle.CLOSED),
    "reopen": ({Lifecycle.RESOLVED}, Lifecycle.OPEN),
    # Closing a duplicate into another ticket: taken only by links.merge, which moves its content
    # over first (see close_merged), never asked for by name.
    "merge": ({Lifecycle.NEW, Lifecycle.OPEN, Lifecycle.PENDING, Lifecycle.RESOLVED}, Lifecycle.CLOSED),
}
_BY_SERVICE_ONLY = {"merge"}
# The transitions people (pages, the API, bulk changes) ask for by name.
ACTIONS = tuple(action for action in TRANSITIONS if action not in _BY_SERVICE_ONLY)

_ACTION_WORDS = {
    "assign": "assigned",
    "wait": "set to pending",
    "resume": "resumed",
    "resolve": "resolved",
    "close": "closed",
    "reopen": "reopened",
}


def allowed_actions(user, ticket):
    """The transitions `user` may take on `ticket` now, for buttons and API hints."""
    return [
        action
        for action in ACTIONS
        if ticket.state in TRANSITIONS[action][0] and policy.can(user, f"ticket.transition.{action}", ticket)
    ]


# --- creating ---------------------------------------------------------------------------------


def _clean_text(value, field, max_len, required=True):
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(f"{field.capitalize()} is required.", {field: "This field is required."})
    if len(value) > max_len:
        raise ValidationError(f"{field.capitalize()} is too long.", {field: f"At most {max_len} characters."})
    return value


def _default_of(model, org_id):
    return defaults.default_of(model, org_id)


def default_status(org_id, category):
    """The status a ticket lands on when it enters a lifecycle category."""
    status = defaults.status_for(org_id, category)
    if status is None:
        raise ValidationError(f"The organization has no status for the {category!r} category.")
    return status


def _department_staff_ids(org_id, department_id, role=MemberRole.AGENT):
    return defaults.staff_ids(org_id, department_id, role)


# --- lifecycle --------------------------------------------------------------------------------


def can_be_assigned(ticket, user):
    """Active agents and managers of the ticket's department, or staff who serve every department."""
    return (
        user.org_id == ticket.org_id
        and user.is_active
        and policy.serves_department(user, ticket.department_id)
        and user.has_permission(Perm.TICKET_TRANSITION)
    )


def ticket_workers(org_id):
    """Active users of the organization whose role may work tickets (any department)."""
    return db.session.scalars(
        select(User)
        .join(RolePermission, RolePermission.role_id == User.role_id)
        .where(User.org_id == org_id, User.active.is_(True), RolePermission.permission == Perm.TICKET_TRANSITION)
        .order_by(User.name)
    ).all()


def assignable_users(ticket):
    """The users `can_be_assigned` accepts, in one query (the assignee dropdown of every ticket
    page; checking each user of a large organization in Python would load their memberships one
    by one)."""

    def has(permission):
        return select(RolePermission.role_id).where(RolePermission.permission == permission)

    in_department = select(DepartmentMember.user_id).where(DepartmentMember.department_id == ticket.department_id)
    return db.session.scalars(
        select(User)
        .where(
            User.org_id == ticket.org_id,
            User.active.is_(True),
            User.role_id.in_(has(Perm.TICKET_TRANSITION)),
            or_(
                User.role_id.in_(has(Perm.TICKET_VIEW_ALL)),
                and_(User.role_id.in_(has(Perm.TICKET_VIEW_DEPARTMENT)), User.id.in_(in_department)),
            ),
        )
        .order_by(User.name)
    ).all()


def transition(actor, ticket, action, *, assignee=None, status=None, now):
    """Move `ticket` along its lifecycle; refuses (changing nothing) what is not allowed.

    `status` optionally picks a specific status of the target lifecycle category.
    """
    if action not in ACTIONS:
        raise ValidationError(f"Unknown action {action!r}.", {"action": "Unknown action."})
    policy.require(actor, f"ticket.transition.{action}", ticket, message=f"You may not {action} this ticket.")
    return _transition(actor, ticket, action, assignee=assignee, status=status, now=now)


def _transition(actor, ticket, action, *, assignee=None, status=None, now):
    """A transition once the actor's permission is settled (by policy, or by a rule such as a
    requester's reply resuming a pending ticket)."""
    sources, target = TRANSITIONS[action]
    if ticket.state not in sources:
        raise InvalidTransition(
            f"Cannot {action} ticket {ticket.reference}: it is {ticket.status.name} ({ticket.state})."
        )

    if action == "assign":
        if assignee is None:
            raise ValidationError("Choose who to assign the ticket to.", {"assignee": "Required."})
        if not can_be_assigned(ticket, assignee):
            raise ValidationError(
                f"{assignee.name} cannot work on tickets of {ticket.department.name}.",
                {"assignee": "Not an agent of this ticket's department."},
            )
        target = Lifecycle.OPEN if ticket.state == Lifecycle.NEW else None  # reassigning keeps the state
    new_status = _target_status(ticket.org_id, target, status) if target else None

    # Everything is validated; from here on the change happens as a whole.
    if action == "assign":
        _set_assignee(actor, ticket, assignee, now)
        if new_status is None:
            ticket.updated_at = now
            db.session.flush()
            return ticket
    old_status = _change_state(ticket, action, new_status, now)
    event = audit.record(
        ticket.org_id,
        "transition",
        actor=actor,
        ticket=ticket,
        from_value=old_status.name,
        to_value=new_status.name,
        detail=action,
        now=now,
    )
    # On resolve, feedback asks for a rating (the resolution email, with its rating links).
    signals.ticket_status_changed.send(ticket, action=action, actor=actor, now=now)
    message = f"{ticket.reference} was {_ACTION_WORDS[action]} by {actor.name}"
    _tell_requester_and_assignee(ticket, actor, "status", message, now)
    db.session.flush()
    watchers.tell(ticket, actor, f"{message} (now {new_status.name}).", key=f"event:{event.id}", now=now)
    return ticket


def _change_state(ticket, action, new_status, now, why=None):
    """Put `ticket` in `new_status` and keep its clocks as `action` needs; returns the old status.
    The caller has checked the transition against the table and records and tells of it."""
    old_status = ticket.status
    ticket.status = new_status
    ticket.state = new_status.category
    ticket.updated_at = now
    if action == "wait":
        sla.pause_clocks(ticket, now)
    elif action == "resume":
        paused_since, ticket.paused_at = ticket.paused_at, None
        sla.resume_clocks(ticket, paused_since, now, "resumed")
    elif action == "resolve":
        sla.resolve_clocks(ticket, now)
    elif action == "close":
        ticket.closed_at = now
    elif action == "reopen":
        # The resolution clock restarts from where it stood when the ticket was resolved.
        resolved_since, ticket.resolved_at = ticket.resolved_at, None
        sla.resume_clocks(ticket, resolved_since, now, "reopened")
    elif action == "merge":
        ticket.closed_at, ticket.paused_at = now, None
        ticket.resolved_at = ticket.resolved_at or now
        sla.stop_update_cycle(ticket, now, why)
    sla.refresh_next_check(ticket)
    return old_status


def can_take(ticket, action):
    """Whether the transition table lets `ticket` take `action` from its state now."""
    return ticket.state in TRANSITIONS[action][0]


def close_merged(duplicate, target, *, now):
    """The merge transition: `duplicate` closes pointing at `target` (links.merge has moved its
    content over, and records and tells of the merge); returns its old status."""
    if not can_take(duplicate, "merge"):
        raise InvalidTransition(f"{duplicate.reference} is closed already.")
    duplicate.merged_into_id = target.id
    closed = default_status(duplicate.org_id, TRANSITIONS["merge"][1])
    return _change_state(duplicate, "merge", closed, now, why=f"merged into {target.reference}")


def _tell_requester_and_assignee(ticket, actor, kind, message, now):
    """In-app notices of a change: the requester's as their own tickets' (`my_tickets`), the
    assignee's as their work; each as their preferences allow."""
    notify(
        [ticket.requester_id],
        org_id=ticket.org_id,
        kind=kind,
        ticket=ticket,
        topic="my_tickets",
        skip_user_id=actor.id,
        message=message,
        now=now,
    )
    if ticket.assignee_id != ticket.requester_id:
        notify(
            [ticket.assignee_id],
            org_id=ticket.org_id,
            kind=kind,
            ticket=ticket,
            topic="work",
            skip_user_id=actor.id,
            message=message,
            now=now,
        )


def _target_status(org_id, category, status):
    if status is None:
        return default_status(org_id, category)
    if status.org_id != org_id or status.category != category:
        raise ValidationError(
            f"Status {status.name!r} is not a {category} status.", {"status": "Wrong status for this action."}
        )
    return status


def _set_assignee(actor, ticket, assignee, now):
    previous = ticket.assignee
    ticket.assignee = assignee
    audit.record(
        ticket.org_id,
        "assign",
        actor=actor,
        ticket=ticket,
        from_value=previous.name if previous else None,
        to_value=assignee.name,
        now=now,
    )
    notify(
        [assignee.id],
        org_id=ticket.org_id,
        kind="assigned",
        ticket=ticket,
        skip_user_id=actor.id,
        topic="work",
        message=f"{ticket.reference} was assigned to you: {ticket.title}",
        now=now,
    )


def assign(actor, ticket, assignee, *, now):
    """Assign (or reassign) a ticket; a new ticket becomes open."""
    return transition(actor, ticket, "assign", assignee=assignee, now=now)


def set_status(actor, ticket, status, *, now):
    """Switch to another status of the same lifecycle category (e.g. 'Waiting on vendor')."""
    policy.require(actor, "ticket.transition.resolve", ticket, message="You may not change the status.")
    if status.org_id != ticket.org_id or status.category != ticket.state:
        raise InvalidTransition(
            f"{status.name!r} is a {status.category} status; use a transition to leave {ticket.state}."
        )
    if status.id == ticket.status_id:
        return ticket
    old = ticket.status
    ticket.status = status
    ticket.updated_at = now
    audit.record(
        ticket.org_id, "status", actor=actor, ticket=ticket, from_value=old.name, to_value=status.name, now=now
    )
    db.session.flush()
    return ticket


def change_priority(actor, ticket, priority, *, now):
    """Change the priority; the running SLA clocks keep the working time already spent."""
    policy.require(actor, "ticket.change_priority", ticket, message="You may not change the priority.")
    if priority.org_id != ticket.org_id:
        raise ValidationError("Unknown priority.", {"priority": "Unknown priority."})
    if ticket.state == Lifecycle.CLOSED:
        raise InvalidTransition(f"{ticket.reference} is closed; its priority can no longer change.")
    if priority.id == ticket.priority_id:
        return ticket
    old = ticket.priority
    ticket.priority = priority
    ticket.updated_at = now
    sla.change_priority(ticket, old, now)
    audit.record(
        ticket.org_id, "priority", actor=actor, ticket=ticket, from_value=old.name, to_value=priority.name, now=now
    )
    db.session.flush()
    return ticket


def change_department(actor, ticket, department, *, now):
    """Route the ticket to another department; an assignee who cannot work there is removed."""
    policy.require(actor, "ticket.change_department", ticket, message="You may not move this ticket.")
    if department.org_id != ticket.org_id:
        raise ValidationError("Unknown department.", {"department": "Unknown department."})
    if ticket.state == Lifecycle.CLOSED:
        raise InvalidTransition(f"{ticket.reference} is closed.")
    if department.id == ticket.department_id:
        return ticket
    old = ticket.department
    ticket.department = department
    ticket.updated_at = now
    audit.record(
        ticket.org_id, "department", actor=actor, ticket=ticket, from_value=old.name, to_value=department.name, now=now
    )
    if ticket.assignee is not None and not can_be_assigned(ticket, ticket.assignee):
        audit.record(
            ticket.org_id,
            "assign",
            actor=actor,
            ticket=ticket,
            from_value=ticket.assignee.name,
            to_value=None,
            detail="left the department",
            now=now,
        )
        ticket.assignee = None
    notify(
        _department_staff_ids(ticket.org_id, department.id),
        org_id=ticket.org_id,
        kind="new_ticket",
        ticket=ticket,
        topic="work",
        message=f"{ticket.reference} moved to {department.name}",
        skip_user_id=actor.id,
        now=now,
    )
    db.session.flush()
    return ticket


BULK_ACTIONS = {
    "assign": "Assign to",
    "priority": "Set the priority to",
    "resolve": "Resolve",
    "wait": "Set to pending",
    "resume": "Resume",
    "close": "Close",
    "reopen": "Reopen",
}
BULK_MAX = 500  # the console reassigns up to 500 at once


def bulk(actor, tickets, action, *, assignee=None, priority=None, now):
    """Apply one action to many tickets (the queue's bulk actions), each in its own savepoint, so
    one refusal leaves the others done. Returns (done tickets, [(ticket, reason)] skipped)."""
    if action not in BULK_ACTIONS:
        raise ValidationError("Choose an action.", {"action": "Unknown action."})
    if len(tickets) > BULK_MAX:
        raise ValidationError(f"At most {BULK_MAX} tickets at once.", {"ids": "Too many tickets."})
    if action == "assign" and assignee is None:
        raise ValidationError("Choose who to assign the tickets to.", {"assignee_id": "Required."})
    if action == "priority" and priority is None:
        raise ValidationError("Choose the priority.", {"priority_id": "Required."})
    done, skipped = [], []
    for ticket in tickets:
        if action == "assign" and ticket.assignee_id == assignee.id:
            skipped.append((ticket, f"already assigned to {assignee.name}"))
            continue
        try:
            with db.session.begin_nested():
                if action == "assign":
                    assign(actor, ticket, assignee, now=now)
                elif action == "priority":
                    change_priority(actor, ticket, priority, now=now)
                else:
                    transition(actor, ticket, action, now=now)
        except DomainError as error:
            skipped.append((ticket, error.message))
        else:
            done.append(ticket)
    return done, skipped


def reassign_many(actor, tickets, assignee, *, now):
    """Assign each ticket to `assignee` where the rules allow it (e.g. everything of an agent
    who left); see `bulk`."""
    return bulk(actor, tickets, "assign", assignee=assignee, now=now)


# What a requester's timeline shows; staff see every event (notes, tasks, reassignments).
PUBLIC_EVENTS = ("create", "transition")


def history(ticket, user=None):
    """The ticket's audit trail, oldest first, as far as `user` may see it (None: all of it)."""
    merged = select(Ticket.id).where(Ticket.merged_into_id == ticket.id, Ticket.org_id == ticket.org_id)
    query = (
        select(AuditEvent)
        .where(or_(AuditEvent.ticket_id == ticket.id, AuditEvent.ticket_id.in_(merged)))
        .order_by(AuditEvent.id)
    )
    if user is not None and not policy.can(user, "ticket.see_internal", ticket):
        query = query.where(AuditEvent.action.in_(PUBLIC_EVENTS))
    return db.session.scalars(query).all()
