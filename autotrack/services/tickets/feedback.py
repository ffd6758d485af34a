"""Feedback after resolution: the requester rates a resolved ticket 1-5, once.

Resolving a ticket asks (`ask`): a Feedback row with the hash of a random token, and the
resolution email with one link per rating to /feedback/<reference>/<token>, which needs no login.
The link is tied to its ticket (another ticket's reference is a 404) and single-use (a
conditional UPDATE records the rating once). The requester may also rate from the portal. A
rating of 2 or less does what the organization chose: notify the department's managers (in the
app and by email), reopen the ticket, or nothing.
"""

import hashlib
import secrets

from sqlalchemy import func, select, update

from autotrack.extensions import db
from autotrack.models import DepartmentMember, Feedback, Lifecycle, LowRatingAction, MemberRole, User
from autotrack.services import audit, outbox, signals, urls
from autotrack.services.errors import InvalidTransition, NotFound, ValidationError
from autotrack.services.notifications import notify
from autotrack.services.tickets import lifecycle, ticket_mail

LOW = 2  # this rating or below is a complaint
COMMENT_MAX = 2000
RATINGS = {1: "Poor", 2: "Fair", 3: "Good", 4: "Very good", 5: "Excellent"}


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def ask(ticket, *, now):
    """Ask the requester to rate this resolution (on resolve, through `signals.ticket_status_changed`): the
    previous unanswered request of the ticket, if any, is withdrawn; the email carries the links."""
    withdraw(ticket)
    token = secrets.token_urlsafe(24)
    request = Feedback(
        org_id=ticket.org_id,
        ticket_id=ticket.id,
        requester_id=ticket.requester_id,
        department_id=ticket.department_id,
        agent_id=ticket.assignee_id,
        token_hash=_hash(token),
        asked_at=now,
    )
    db.session.add(request)
    db.session.flush()
    outbox.queue_email(
        recipient=ticket.requester.email,
        subject=ticket_mail.subject_for(ticket, f"Resolved: {ticket.title}"),
        template="resolved",
        org_id=ticket.org_id,
        ticket_id=ticket.id,
        now=now,
        dedupe_key=f"resolved:{ticket.id}:{request.token_hash[:32]}",  # not the row id: SQLite reuses a deleted one
        context={
            "name": ticket.requester.name,
            "reference": ticket.reference,
            "title": ticket.title,
            "ratings": [
                (value, label, urls.url("feedback.rate", reference=ticket.reference, token=token, rating=value))
                for value, label in RATINGS.items()
            ],
            "link": urls.url("portal.ticket", reference=ticket.reference),
        },
    )
    return token


def withdraw(ticket):
    """The ticket's unanswered request is void (say, the ticket was merged into another)."""
    db.session.execute(Feedback.__table__.delete().where(Feedback.ticket_id == ticket.id, Feedback.rated_at.is_(None)))


def connect_signals():
    """Ask on every resolution and withdraw on a merge (called once by the app factory)."""
    signals.ticket_status_changed.connect(_on_status_changed)
    signals.ticket_merged.connect(_on_merged)


def _on_status_changed(ticket, *, action, now, **_):
    if action == "resolve":
        ask(ticket, now=now)


def _on_merged(duplicate, **_):
    withdraw(duplicate)


def by_link(reference, token):
    """The feedback request a link names; NotFound unless the token belongs to that very ticket."""
    request = db.session.scalar(select(Feedback).where(Feedback.token_hash == _hash(token or "")))
    if request is None or request.ticket.reference.lower() != (reference or "").lower():
        raise NotFound("This feedback link is not valid.")
    return request


def pending_for(ticket, user):
    """The ticket's open request if `user` is its requester and it is resolved; else None."""
    if user is None or ticket.requester_id != user.id or ticket.state != Lifecycle.RESOLVED:
        return None
    return db.session.scalar(
        select(Feedback)
        .where(Feedback.ticket_id == ticket.id, Feedback.rated_at.is_(None))
        .order_by(Feedback.id.desc())
        .limit(1)
    )


def latest(ticket):
    return db.session.scalar(
        select(Feedback)
        .where(Feedback.ticket_id == ticket.id, Feedback.rated_at.is_not(None))
        .order_by(Feedback.id.desc())
        .limit(1)
    )


def rate(request, rating, comment="", *, now):
    """Record the rating once; a second use is refused, changing nothing."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if rating not in RATINGS:
        raise ValidationError("Choose a rating from 1 to 5.", {"rating": "Choose from 1 (poor) to 5 (excellent)."})
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError("The comment is too long.", {"comment": f"At most {COMMENT_MAX} characters."})
    recorded = db.session.execute(
        update(Feedback)
        .where(Feedback.id == request.id, Feedback.rated_at.is_(None))
        .values(rating=rating, comment=comment or None, rated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if recorded != 1:
        raise InvalidTransition("This ticket has been rated already: thank you.")
    db.session.refresh(request)
    ticket, requester = request.ticket, db.session.get(User, request.requester_id)
    audit.record(
        ticket.org_id,
        "feedback",
        actor=requester,
        ticket=ticket,
        to_value=str(rating),
        detail=comment[:255] or None,
        now=now,
    )
    if rating <= LOW:
        _complaint(ticket, requester, request, now)
    return request


def _complaint(ticket, requester, request, now):
    action = ticket.organization.low_rating_action
    if action == LowRatingAction.REOPEN and ticket.state == Lifecycle.RESOLVED:
        lifecycle.transition(requester, ticket, "reopen", now=now)
    elif action == LowRatingAction.NOTIFY_MANAGER:
        managers = db.session.execute(
            select(User.id, User.email)
            .join(DepartmentMember, DepartmentMember.user_id == User.id)
            .where(
                DepartmentMember.department_id == ticket.department_id,
                DepartmentMember.role == MemberRole.MANAGER,
                User.active.is_(True),
            )
        ).all()
        message = f"{ticket.reference} was rated {request.rating}/5 by {requester.name}"
        notify([m.id for m in managers], org_id=ticket.org_id, kind="feedback", ticket=ticket, message=message, now=now)
        link = urls.url("agent.ticket", reference=ticket.reference)
        for manager in managers:
            outbox.queue_email(
                recipient=manager.email,
                subject=ticket_mail.subject_for(ticket, f"Rated {request.rating}/5: {ticket.title}"),
                body_text=(
                    f"{message}.\n\n"
                    + (f"Their comment: {request.comment}\n\n" if request.comment else "")
                    + f"Open the ticket: {link}\n"
                ),
                dedupe_key=f"low-rating:{request.id}:{manager.id}",
                org_id=ticket.org_id,
                ticket_id=ticket.id,
                now=now,
            )


def satisfaction(org_id, since, until=None, department_ids=None):
    """(average rating, number of ratings) of a period; (None, 0) without any."""
    query = select(func.avg(Feedback.rating), func.count()).where(
        Feedback.org_id == org_id, Feedback.rated_at >= since, Feedback.rated_at.is_not(None)
    )
    if until is not None:
        query = query.where(Feedback.rated_at < until)
    if department_ids is not None:
        query = query.where(Feedback.department_id.in_(department_ids or [0]))
    average, count = db.session.execute(query).one()
    return (round(float(average), 2) if average is not None else None), count
