"""Writing the audit trail: one event per change, in the change's own transaction."""

from autotrack.extensions import db
from autotrack.models import AuditEvent
from autotrack.services.sqlutil import bulk_insert


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
        from_value=_value(from_value),
        to_value=_value(to_value),
        detail=detail,
        **({} if now is None else {"created_at": now}),
    )
    db.session.add(event)
    return event


def record_many(events, *, now):
    """Append many audit events at `now` in one multi-row INSERT (the SLA sweep's escalations);
    returns how many. Each event is a dict: org_id, action, and any of ticket_id, actor_id,
    from_value, to_value, detail."""
    return bulk_insert(
        AuditEvent,
        [
            {
                "org_id": event["org_id"],
                "ticket_id": event.get("ticket_id"),
                "actor_id": event.get("actor_id"),
                "action": event["action"],
                "from_value": _value(event.get("from_value")),
                "to_value": _value(event.get("to_value")),
                "detail": event.get("detail"),
                "created_at": now,
            }
            for event in events
        ],
    )


def _value(value):
    return None if value is None else str(value)[:255]
