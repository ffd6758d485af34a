"""Merging a ticket into another, and links between tickets."""

from sqlalchemy import and_, or_, select, update

from autotrack.extensions import db
from autotrack.models import (
    Attachment,
    Comment,
    Lifecycle,
    Task,
    TicketLink,
)
from autotrack.services import audit, policy, signals
from autotrack.services.errors import InvalidTransition, ValidationError
from autotrack.services.notifications import notify
from autotrack.services.tenancy import get_scoped
from autotrack.services.tickets import lifecycle, watchers

# --- merge and link -----------------------------------------------------------------------------

LINK_KINDS = {"related": "related to", "parent": "parent of", "child": "child of"}


def merge(actor, duplicate, target, *, now):
    """Merge `duplicate` into `target` (one organization): its comments, tasks, attachments and
    watchers move over (its requester, if another, is copied on the target and so keeps reading
    it), it is closed pointing at the target, and its number leads there.
    The audit trail is append-only, so nothing of it moves: the target's history reads both."""
    for ticket in (duplicate, target):
        policy.require(actor, "ticket.merge", ticket, message=f"You may not merge {ticket.reference}.")
    if duplicate.org_id != target.org_id:
        raise ValidationError("Unknown ticket.", {"into": "No such ticket in your organization."})
    if duplicate.id == target.id:
        raise ValidationError("A ticket cannot be merged into itself.", {"into": "Choose another ticket."})
    if target.merged_into_id is not None or target.state == Lifecycle.CLOSED:
        raise InvalidTransition(f"{target.reference} is closed; merge into an open ticket.")
    if not lifecycle.can_take(duplicate, "merge"):
        raise InvalidTransition(f"{duplicate.reference} is closed already.")
    for model in (Comment, Task, Attachment):
        db.session.execute(
            update(model)
            .where(model.ticket_id == duplicate.id)
            .values(ticket_id=target.id)
            .execution_options(synchronize_session=False)
        )
    watchers.move(duplicate, target, now=now)  # and the duplicate's requester, if another, copied on the target
    db.session.expire(target, ["comments", "tasks", "attachments"])
    db.session.expire(duplicate, ["comments", "tasks", "attachments"])
    signals.ticket_merged.send(duplicate, target=target, actor=actor, now=now)  # feedback withdraws its request
    old_status = lifecycle.close_merged(duplicate, target, now=now)  # through the transition table
    target.updated_at = now
    audit.record(
        duplicate.org_id,
        "merge",
        actor=actor,
        ticket=duplicate,
        from_value=old_status.name,
        to_value=target.reference,
        detail=f"merged into {target.reference}",
        now=now,
    )
    audit.record(
        target.org_id,
        "merge",
        actor=actor,
        ticket=target,
        from_value=duplicate.reference,
        detail=f"{duplicate.reference} merged into this ticket",
        now=now,
    )
    notify(
        [target.requester_id, duplicate.requester_id, target.assignee_id, duplicate.assignee_id],
        org_id=target.org_id,
        kind="status",
        ticket=target,
        skip_user_id=actor.id,
        now=now,
        message=f"{duplicate.reference} was merged into {target.reference} by {actor.name}",
    )
    db.session.flush()
    return target


def link(actor, ticket, other, kind, *, now):
    """Link two tickets of one organization: related, or `ticket` the parent / child of `other`."""
    if kind not in LINK_KINDS:
        raise ValidationError("Choose related, parent or child.", {"kind": "Not a kind of link."})
    for each in (ticket, other):
        policy.require(actor, "ticket.link", each, message=f"You may not link {each.reference}.")
    if ticket.org_id != other.org_id:
        raise ValidationError("Unknown ticket.", {"ticket": "No such ticket in your organization."})
    if ticket.id == other.id:
        raise ValidationError("A ticket cannot be linked to itself.", {"ticket": "Choose another ticket."})
    pair = (ticket.id, other.id)
    existing = db.session.scalar(
        select(TicketLink.id).where(
            or_(
                and_(TicketLink.from_ticket_id == pair[0], TicketLink.to_ticket_id == pair[1]),
                and_(TicketLink.from_ticket_id == pair[1], TicketLink.to_ticket_id == pair[0]),
            )
        )
    )
    if existing is not None:
        raise ValidationError(
            f"{ticket.reference} and {other.reference} are linked already.", {"ticket": "Linked already."}
        )
    parent, child = (other, ticket) if kind == "child" else (ticket, other)
    row = TicketLink(
        org_id=ticket.org_id,
        from_ticket_id=parent.id,
        to_ticket_id=child.id,
        kind="related" if kind == "related" else "parent",
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(row)
    for one, two in ((ticket, other), (other, ticket)):
        audit.record(
            one.org_id,
            "link",
            actor=actor,
            ticket=one,
            to_value=two.reference,
            detail=f"{one.reference} {LINK_KINDS[_kind_from(row, one)]} {two.reference}",
            now=now,
        )
    db.session.flush()
    return row


def unlink(actor, ticket, link_id, *, now):
    row = get_scoped(
        TicketLink,
        link_id,
        ticket.org_id,
        or_(TicketLink.from_ticket_id == ticket.id, TicketLink.to_ticket_id == ticket.id),
        message="No such link on this ticket.",
    )
    policy.require(actor, "ticket.link", ticket, message="You may not unlink tickets.")
    other = row.to_ticket if row.from_ticket_id == ticket.id else row.from_ticket
    for one, two in ((ticket, other), (other, ticket)):
        audit.record(one.org_id, "unlink", actor=actor, ticket=one, to_value=two.reference, now=now)
    db.session.delete(row)
    db.session.flush()


def _kind_from(row, ticket):
    """The link as seen from `ticket`: related, parent (of the other) or child (of the other)."""
    if row.kind == "related":
        return "related"
    return "parent" if row.from_ticket_id == ticket.id else "child"


def links_of(ticket, user):
    """[(link, kind as seen from `ticket`, the other ticket)] that `user` may see."""
    rows = db.session.scalars(
        select(TicketLink)
        .where(
            TicketLink.org_id == ticket.org_id,
            or_(TicketLink.from_ticket_id == ticket.id, TicketLink.to_ticket_id == ticket.id),
        )
        .order_by(TicketLink.id)
    ).all()
    out = []
    for row in rows:
        other = row.to_ticket if row.from_ticket_id == ticket.id else row.from_ticket
        if policy.can(user, "ticket.view", other):
            out.append((row, _kind_from(row, ticket), other))
    return out
