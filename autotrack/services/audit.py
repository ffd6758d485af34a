"""Writing the audit trail: one event per change, in the change's own transaction."""
from autotrack.extensions import db
from autotrack.models import AuditEvent, utcnow


def record(org_id, action, *, actor=None, ticket=None, from_value=None, to_value=None, detail=None, now=None):
    """Append one audit event to the current transaction."""
    event = AuditEvent(
        org_id=org_id,
        ticket_id=ticket.id if ticket is not None else None,
        actor_id=actor.id if actor is not None else None,
        action=action,
        from_value=None if from_value is None else str(from_value)[:255],
        to_value=None if to_value is None else str(to_value)[:255],
        detail=detail,
        created_at=now or utcnow(),
    )
    db.session.add(event)
    return event
