"""In-app notifications: rows written with the change; live delivery only pushes them."""
from autotrack.extensions import db
from autotrack.models import Notification, utcnow


def notify(user_ids, *, org_id, kind, message, ticket=None, skip_user_id=None, now=None):
    """Queue one notification per distinct user (never to the user who caused it)."""
    now = now or utcnow()
    rows = [
        Notification(
            org_id=org_id, user_id=user_id, kind=kind, message=message[:500],
            ticket_id=ticket.id if ticket is not None else None, created_at=now,
        )
        for user_id in sorted({u for u in user_ids if u is not None and u != skip_user_id})
    ]
    db.session.add_all(rows)
    return rows
