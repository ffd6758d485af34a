"""In-app notifications: rows written with the change; live delivery only pushes them."""

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import selectinload

from autotrack.extensions import db
from autotrack.models import Notification, Ticket, User
from autotrack.services import preferences, signals
from autotrack.services.pagination import keyset_page
from autotrack.services.sqlutil import bulk_insert


def notify(user_ids, *, org_id, kind, message, now, ticket=None, skip_user_id=None, topic=None):
    """Write one notification per distinct user (never to the user who caused it, nor to one
    who turned off in-app notices of `topic`); returns how many. One statement: a new ticket
    tells every agent of its department, and the preferences are read by the INSERT itself."""
    recipients = sorted({u for u in user_ids if u is not None and u != skip_user_id})
    if not recipients:
        return 0
    if ticket is not None and ticket.id is None:
        db.session.flush()  # the ticket's id first
    values = {
        "org_id": org_id,
        "kind": kind,
        "message": message[:500],
        "ticket_id": ticket.id if ticket is not None else None,
        "created_at": now,
    }
    if topic is None:
        db.session.execute(insert(Notification), [{**values, "user_id": user_id} for user_id in recipients])
        written = recipients
    else:
        table = Notification.__table__
        source = select(*(literal(value, table.c[name].type) for name, value in values.items()), User.id).where(
            User.id.in_(recipients), preferences.wanting_clause(User.id, topic, "in_app")
        )
        statement = insert(table).from_select([*values, "user_id"], source).returning(table.c.user_id)
        written = db.session.execute(statement).scalars().all()
    signals.notifications_written.send(None, user_ids=written)  # live delivery wakes their pages
    return len(written)


def notify_many(notices, *, now):
    """Write many notifications at `now` in one multi-row INSERT (the SLA sweep's); returns how
    many. Each notice is a dict: org_id, user_id, ticket_id, kind, message. Written as given: the
    caller chose each recipient (no preference filter, no skipping). Their pages wake after commit."""
    rows = [
        {
            "org_id": notice["org_id"],
            "user_id": notice["user_id"],
            "ticket_id": notice["ticket_id"],
            "kind": notice["kind"],
            "message": notice["message"][:500],
            "created_at": now,
            "read_at": None,
        }
        for notice in notices
    ]
    written = bulk_insert(Notification, rows)
    signals.notifications_written.send(None, user_ids=[row["user_id"] for row in rows])
    return written


def unread_count(user):
    """The number on the bell (index ix_notifications_user_unread)."""
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def page_for(user, cursor=None, per_page=30):
    """The user's notifications, newest first, one keyset page at a time."""
    query = (
        select(Notification)
        .where(Notification.user_id == user.id)
        .options(selectinload(Notification.ticket).joinedload(Ticket.organization))
    )
    return keyset_page(query, Notification.id, cursor, per_page=per_page)


def mark_read(user, ids=None, *, now):
    """Mark the user's own unread notifications read (all of them when `ids` is None); ids of
    anybody else's are ignored. Returns how many changed."""
    condition = [Notification.user_id == user.id, Notification.read_at.is_(None)]
    if ids is not None:
        condition.append(Notification.id.in_(ids))
    return _mark(condition, now)


def mark_ticket_read(user, ticket, *, now):
    """The user opened `ticket`: what they were told about it is read. Returns how many changed."""
    return _mark(
        [Notification.user_id == user.id, Notification.ticket_id == ticket.id, Notification.read_at.is_(None)], now
    )


def _mark(condition, now):
    return db.session.execute(
        update(Notification).where(*condition).values(read_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount
