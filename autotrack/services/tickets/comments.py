"""Replies and internal notes on a ticket, and which of them a user sees."""

from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import (
    Comment,
    Lifecycle,
)
from autotrack.services import audit, policy, sla
from autotrack.services.notifications import notify
from autotrack.services.tickets import ticket_mail, watchers
from autotrack.services.tickets.lifecycle import (
    _clean_text,
    _tell_requester_and_assignee,
    _transition,
    transition,
)

COMMENT_MAX = 20_000


# --- other changes ----------------------------------------------------------------------------


def add_comment(actor, ticket, body, *, internal=False, email_text=None, now):
    """Add a public reply or an internal note (portal, API or mail alike).

    The first public staff reply is the first response, every public staff reply answers the
    requester on the update clock and is mailed to them (they may answer it by mail). The
    requester's reply (or a copied colleague's) ends the wait it answers (a pending ticket
    resumes, a resolved one reopens if the requester wrote) and starts the update clock again.
    Watchers hear of every public reply.
    `email_text` is the whole mail a reply by mail came from."""
    policy.require(actor, "ticket.comment", ticket, message="You may not comment on this ticket.")
    if internal:
        policy.require(actor, "ticket.comment_internal", ticket, message="You may not add internal notes.")
    body = _clean_text(body, "body", COMMENT_MAX)
    comment = Comment(
        org_id=ticket.org_id,
        ticket=ticket,
        author_id=actor.id,
        author=actor,
        body=body,
        internal=bool(internal),
        email_text=email_text,
        created_at=now,
    )
    db.session.add(comment)
    ticket.updated_at = now
    by_staff = actor.id != ticket.requester_id and policy.can(actor, "ticket.transition.resolve", ticket)
    if by_staff and not internal:
        sla.staff_replied(ticket, now)
    db.session.flush()
    audit.record(
        ticket.org_id,
        "comment",
        actor=actor,
        ticket=ticket,
        detail="internal note" if internal else "public reply",
        now=now,
    )
    message = f"{actor.name} commented on {ticket.reference}"
    if internal:
        notify(
            [ticket.assignee_id],
            org_id=ticket.org_id,
            kind="comment",
            ticket=ticket,
            topic="work",
            skip_user_id=actor.id,
            message=message,
            now=now,
        )
    else:
        _tell_requester_and_assignee(ticket, actor, "comment", message, now)
        watchers.tell(
            ticket,
            actor,
            f"{actor.name} replied on {ticket.reference}:",
            key=f"comment:{comment.id}",
            text=body,
            now=now,
        )
    if internal:
        return comment
    if actor.id != ticket.requester_id:
        ticket_mail.queue_reply(comment, now=now)  # staff's, or a copied colleague's
    if not by_staff:  # the requester's side: the requester, or a colleague they copied
        if ticket.state == Lifecycle.PENDING:
            _transition(actor, ticket, "resume", now=now)  # what the ticket was waiting for has come
        elif ticket.state == Lifecycle.RESOLVED and actor.id == ticket.requester_id:
            transition(actor, ticket, "reopen", now=now)  # only the requester reopens
        if ticket.state in sla.TICKING_STATES:
            sla.requester_wrote(ticket, now)  # the update clock: an answer is owed again
    return comment


def visible_comments(ticket, user):
    """Requesters see public replies only; staff also see internal notes."""
    query = select(Comment).where(Comment.ticket_id == ticket.id).order_by(Comment.id)
    if not policy.can(user, "ticket.see_internal", ticket):
        query = query.where(Comment.internal.is_(False))
    return db.session.scalars(query).all()
