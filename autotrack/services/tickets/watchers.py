"""Watchers: staff who follow a ticket and colleagues copied on it hear of its public updates
(replies and status changes), by email and in the app, as each one's preferences say.

The requester and the assignee are told by the ticket service already; watchers are everyone else.
"""

from sqlalchemy import delete, func, select
from sqlalchemy.orm import contains_eager

from autotrack.extensions import db
from autotrack.models import TicketWatcher, User
from autotrack.services import audit, outbox, policy, preferences, urls
from autotrack.services.errors import NotFound, ValidationError
from autotrack.services.notifications import notify
from autotrack.services.sqlutil import insert_ignoring_duplicates
from autotrack.services.tenancy import parse_id
from autotrack.services.tickets import ticket_mail

MAX_WATCHERS = 50  # per ticket: a reply is one email each


def watchers_of(ticket):
    """The ticket's watchers, copied colleagues first, then by name."""
    return db.session.scalars(
        select(TicketWatcher)
        .join(User, User.id == TicketWatcher.user_id)
        .where(TicketWatcher.ticket_id == ticket.id, TicketWatcher.org_id == ticket.org_id)
        .order_by(TicketWatcher.kind, User.name)
        .options(contains_eager(TicketWatcher.user))  # the joined user, not one query per watcher
    ).all()


def watching(user, ticket):
    """`user`'s watcher row on `ticket`, or None."""
    return db.session.scalar(
        select(TicketWatcher).where(TicketWatcher.ticket_id == ticket.id, TicketWatcher.user_id == user.id)
    )


def follow(actor, ticket, *, now):
    """Staff start following a ticket they work on (again: nothing happens)."""
    policy.require(actor, "ticket.follow", ticket, message="Only staff of this ticket can follow it.")
    existing = watching(actor, ticket)
    if existing is not None:
        return existing
    return _add(actor, ticket, actor, TicketWatcher.FOLLOW, now)


def add_cc(actor, ticket, email, *, now):
    """Copy a colleague (an active user of the ticket's organization, by email address) on the
    ticket: they may read and answer it and hear of its public updates."""
    policy.require(actor, "ticket.add_cc", ticket, message="You may not copy people on this ticket.")
    address = (email or "").strip().lower()
    if not address:
        raise ValidationError("Give your colleague's email address.", {"email": "This field is required."})
    colleague = db.session.scalar(
        select(User).where(User.email == address, User.org_id == ticket.org_id, User.active.is_(True))
    )
    if colleague is None:
        raise ValidationError(
            f"Nobody in your organization has the address {address}.", {"email": "No colleague with this address."}
        )
    if colleague.id == ticket.requester_id:
        raise ValidationError(
            f"{colleague.name} raised this ticket and hears of it already.", {"email": "That is the requester."}
        )
    existing = watching(colleague, ticket)
    if existing is not None and existing.kind == TicketWatcher.CC:
        raise ValidationError(f"{colleague.name} is copied already.", {"email": "Copied already."})
    if existing is not None:  # a follower now copied: the same row, with the wider kind
        existing.kind, existing.added_by_id = TicketWatcher.CC, actor.id
        audit.record(ticket.org_id, "cc_add", actor=actor, ticket=ticket, to_value=colleague.name, now=now)
        row = existing
    else:
        row = _add(actor, ticket, colleague, TicketWatcher.CC, now)
    link = _link_for(row, ticket)
    notify(
        [colleague.id],
        org_id=ticket.org_id,
        kind="watch",
        ticket=ticket,
        topic="watched",
        skip_user_id=actor.id,
        message=f"{actor.name} copied you on {ticket.reference}: {ticket.title}",
        now=now,
    )
    if colleague.id != actor.id and preferences.wants(colleague, "watched", "email"):
        outbox.queue_email(
            recipient=colleague.email,
            subject=ticket_mail.subject_for(ticket, f"You were copied: {ticket.title}"),
            body_text=(
                f'{actor.name} copied you on ticket {ticket.reference}, "{ticket.title}".\n\n'
                f"You will hear of its replies and status changes. Reply to this email to add to it, "
                f"or open it: {link}\n"
            ),
            dedupe_key=f"cc:{row.id}",
            org_id=ticket.org_id,
            ticket_id=ticket.id,
            now=now,
        )
    return row


def _add(actor, ticket, user, kind, now):
    count = db.session.scalar(
        select(func.count()).select_from(TicketWatcher).where(TicketWatcher.ticket_id == ticket.id)
    )
    if count >= MAX_WATCHERS:
        raise ValidationError(f"A ticket can have at most {MAX_WATCHERS} watchers.", {"email": "Too many watchers."})
    row = TicketWatcher(
        org_id=ticket.org_id, ticket_id=ticket.id, user_id=user.id, kind=kind, added_by_id=actor.id, created_at=now
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        ticket.org_id,
        "follow" if kind == TicketWatcher.FOLLOW else "cc_add",
        actor=actor,
        ticket=ticket,
        to_value=user.name,
        now=now,
    )
    return row


def remove(actor, ticket, user_id, *, now):
    """Stop watching (anybody may, for themselves), or take someone else off (the requester or
    staff of the ticket: those who may copy people)."""
    row = db.session.scalar(
        select(TicketWatcher).where(
            TicketWatcher.ticket_id == ticket.id,
            TicketWatcher.org_id == ticket.org_id,
            TicketWatcher.user_id == (parse_id(user_id) or -1),
        )
    )
    if row is None:
        raise NotFound("Not watching this ticket.")
    if row.user_id != actor.id:
        policy.require(actor, "ticket.add_cc", ticket, message="You may not take people off this ticket.")
    audit.record(
        ticket.org_id,
        "unfollow" if row.kind == TicketWatcher.FOLLOW else "cc_remove",
        actor=actor,
        ticket=ticket,
        to_value=row.user.name,
        now=now,
    )
    db.session.delete(row)
    db.session.flush()


def move(duplicate, target, *, now):
    """A merge: the duplicate's watchers watch the target (once each); its requester too, copied,
    when the two tickets were raised by different people."""
    rows = db.session.execute(
        select(TicketWatcher.user_id, TicketWatcher.kind, TicketWatcher.added_by_id, TicketWatcher.created_at).where(
            TicketWatcher.ticket_id == duplicate.id
        )
    ).all()
    values = [
        {
            "org_id": target.org_id,
            "ticket_id": target.id,
            "user_id": user_id,
            "kind": kind,
            "added_by_id": added_by,
            "created_at": created,
        }
        for user_id, kind, added_by, created in rows
        if user_id != target.requester_id
    ]
    if duplicate.requester_id != target.requester_id:
        values.append(
            {
                "org_id": target.org_id,
                "ticket_id": target.id,
                "user_id": duplicate.requester_id,
                "kind": TicketWatcher.CC,
                "added_by_id": None,
                "created_at": now,
            }
        )
    for value in values:
        db.session.execute(insert_ignoring_duplicates(TicketWatcher).values(**value))
    db.session.execute(delete(TicketWatcher).where(TicketWatcher.ticket_id == duplicate.id))


def tell(ticket, actor, summary, *, key, text=None, now):
    """Tell the watchers (not the actor, requester or assignee, who hear otherwise) of a public
    update: in the app, and by one email each whose dedupe key is `key` and their id.
    `text` is what the email quotes (a reply's body)."""
    rows = [
        row
        for row in watchers_of(ticket)
        if row.user_id not in (actor.id if actor else None, ticket.requester_id, ticket.assignee_id)
        and policy.can(row.user, "ticket.view", ticket)
    ]  # a follower who left the department hears no more
    if not rows:
        return 0
    notify(
        [row.user_id for row in rows],
        org_id=ticket.org_id,
        kind="watch",
        ticket=ticket,
        topic="watched",
        message=summary,
        now=now,
    )
    mailed = preferences.wanting([row.user_id for row in rows], "watched", "email")
    for row in rows:
        if row.user_id in mailed:
            body = (
                f"{summary}\n\n" + (f"{text}\n\n" if text else "") + f"Open the ticket: {_link_for(row, ticket)}\n"
                "You are watching this ticket; stop from its page, or choose what reaches you under Notifications.\n"
            )
            outbox.queue_email(
                recipient=row.user.email,
                subject=ticket_mail.subject_for(ticket, f"Re: {ticket.title}"),
                body_text=body,
                dedupe_key=f"watch:{key}:{row.user_id}",
                org_id=ticket.org_id,
                ticket_id=ticket.id,
                now=now,
            )
    return len(rows)


def _link_for(row, ticket):
    return urls.ticket(row.user, ticket)
