"""Tasks on a ticket."""

from autotrack.extensions import db
from autotrack.models import (
    Task,
)
from autotrack.services import audit, policy
from autotrack.services.errors import ValidationError
from autotrack.services.notifications import notify
from autotrack.services.tickets.create import TITLE_MAX
from autotrack.services.tickets.lifecycle import _clean_text, can_be_assigned


def add_task(actor, ticket, title, *, assignee=None, due_at=None, now):
    """Add a to-do to the ticket."""
    policy.require(actor, "ticket.manage_tasks", ticket, message="You may not add tasks.")
    title = _clean_text(title, "title", TITLE_MAX)
    if assignee is not None and not can_be_assigned(ticket, assignee):
        raise ValidationError(f"{assignee.name} cannot work on this ticket.", {"assignee": "Not allowed."})
    task = Task(
        org_id=ticket.org_id,
        ticket=ticket,
        title=title,
        assignee=assignee,
        due_at=due_at,
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(task)
    db.session.flush()
    audit.record(ticket.org_id, "task_add", actor=actor, ticket=ticket, to_value=title, now=now)
    if assignee is not None:
        notify(
            [assignee.id],
            org_id=ticket.org_id,
            kind="task",
            ticket=ticket,
            skip_user_id=actor.id,
            topic="work",
            message=f"Task on {ticket.reference}: {title}",
            now=now,
        )
    return task


def complete_task(actor, task, done=True, *, now):
    """Mark a task done (or not done again)."""
    policy.require(actor, "ticket.manage_tasks", task.ticket, message="You may not change tasks.")
    if bool(task.done_at) == done:
        return task
    task.done_at = now if done else None
    audit.record(
        task.org_id,
        "task_done" if done else "task_undone",
        actor=actor,
        ticket=task.ticket,
        to_value=task.title,
        now=now,
    )
    db.session.flush()
    return task
