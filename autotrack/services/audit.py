"""Writing the audit trail: one event per change, in the change's own transaction."""

from autotrack.extensions import db
from autotrack.models import AuditEvent


def record(org_id, action, *, actor=None, ticket=None, from_value=None, to_value=None, detail=None, now=None):
    """Append one audit event to the current transaction.

    `now` is the change's time, given by whoever decided it; a configuration change with no clock
    behind it (a role edit, an import) leaves it to the row's insert time (the model's default).
    """
    event = AuditEvent(
        org_id=org_id,
        ticket_id=ticket.id if ticket is not None else None,
        actor_id=actor.id if actor is not None else None,
        action=action,
        from_value=None if from_value is None else str(from_value)[:255],
        to_value=None if to_value is None else str(to_value)[:255],
        detail=detail,
        **({} if now is None else {"created_at": now}),
    )
    db.session.add(event)
    return event
