"""Mail about a ticket, both ways: outgoing mail is answerable (ticket number in the subject, a
recorded Message-ID, threading headers, Reply-To the ticket's mailbox), and an incoming reply
finds its ticket by those headers or by the number in its subject."""

import re

from sqlalchemy import bindparam, func, select

from autotrack.extensions import db
from autotrack.models import InboundMessage, Mailbox, Organization, OutboxEmail, Ticket
from autotrack.services import outbox, preferences, signals, urls
from autotrack.services.tenancy import find_scoped, parse_id

_ROOT = re.compile(r"<ticket\.(\d+)\.(\d+)@autotrack>")
_MESSAGE_IDS = re.compile(r"<[^<>\s]+>")


def root_message_id(ticket):
    """The id every mail about the ticket refers to: the mail that raised it, else a made-up one."""
    first = db.session.scalar(
        select(InboundMessage.message_id)
        .where(InboundMessage.ticket_id == ticket.id, InboundMessage.message_id.is_not(None))
        .order_by(InboundMessage.id)
        .limit(1)
    )
    return first or f"<ticket.{ticket.id}.{ticket.org_id}@autotrack>"


def reply_to(ticket):
    """The mailbox that serves the ticket's department (else any of its organization's), or None."""
    return db.session.scalar(
        select(Mailbox.address)
        .where(Mailbox.org_id == ticket.org_id, Mailbox.active.is_(True))
        .order_by((Mailbox.department_id != ticket.department_id), Mailbox.id)
        .limit(1)
    )


def connect_signals():
    """Thread and make answerable every outbox email about a ticket (called once by the app factory)."""
    signals.email_delivering.connect(delivery_headers)


def delivery_headers(row, **_):
    """Extra headers and Reply-To of an outbox row at delivery (a `signals.email_delivering`
    receiver): mail about a ticket threads and is answerable; None for other mail."""
    if row.ticket_id is None:
        return None
    ticket = db.session.get(Ticket, row.ticket_id)
    if ticket is None:
        return None
    root = root_message_id(ticket)
    return {"In-Reply-To": root, "References": root}, reply_to(ticket)


def subject_for(ticket, text):
    return f"[{ticket.reference}] {text}"[:255]


def queue_reply(comment, *, now):
    """Mail a public reply (staff's, or a copied colleague's) to the requester, who can answer it
    by mail."""
    ticket = comment.ticket
    requester = ticket.requester
    if requester is None or not requester.active or requester.id == comment.author_id:
        return False
    if not preferences.wants(requester, "my_tickets", "email"):
        return False
    author = comment.author.name if comment.author else "Support"
    link = urls.url("portal.ticket", reference=ticket.reference)
    body = (
        f'{author} replied to your ticket {ticket.reference}, "{ticket.title}":\n\n{comment.body}\n\n'
        f"Reply to this email to answer, or open the ticket: {link}\n"
    )
    return outbox.queue_email(
        recipient=requester.email,
        subject=subject_for(ticket, f"Re: {ticket.title}"),
        body_text=body,
        dedupe_key=f"reply:{comment.id}",
        org_id=ticket.org_id,
        ticket_id=ticket.id,
        now=now,
    )


def queue_acknowledgement(ticket, *, now):
    """Tell the sender of a mail that raised a ticket its number (their mail client threads it)."""
    link = urls.url("portal.ticket", reference=ticket.reference)
    body = (
        f'Your request has been received as ticket {ticket.reference}: "{ticket.title}".\n\n'
        f"Reply to this email to add to it, or follow it at {link}\n"
    )
    return outbox.queue_email(
        recipient=ticket.requester.email,
        subject=subject_for(ticket, f"Received: {ticket.title}"),
        body_text=body,
        dedupe_key=f"ack:{ticket.id}",
        org_id=ticket.org_id,
        ticket_id=ticket.id,
        now=now,
    )


# The ticket a mail we sent (outbox) or received for a ticket was about, in one round trip: built
# once, not per message (building a statement costs more CPU than SQLite takes to run it).
_BY_MESSAGE_IDS = select(Ticket).where(
    Ticket.org_id == bindparam("org_id"),
    Ticket.id
    == func.coalesce(
        select(OutboxEmail.ticket_id)
        .where(
            OutboxEmail.org_id == bindparam("org_id"),
            OutboxEmail.message_id.in_(bindparam("ids", expanding=True)),
            OutboxEmail.ticket_id.is_not(None),
        )
        .limit(1)
        .scalar_subquery(),
        select(InboundMessage.ticket_id)
        .where(
            InboundMessage.org_id == bindparam("org_id"),
            InboundMessage.message_id.in_(bindparam("ids", expanding=True)),
            InboundMessage.ticket_id.is_not(None),
        )
        .limit(1)
        .scalar_subquery(),
    ),
)


def ticket_for_reply(org_id, message):
    """The ticket of `org_id` a received message answers: by its In-Reply-To/References (a mail
    we sent or received for the ticket), else by `[PREFIX-123]` in its subject; or None."""
    headers = _headers(message, ("in-reply-to", "references", "subject"))
    ids = []
    for header in ("in-reply-to", "references"):
        ids += _MESSAGE_IDS.findall(headers[header])
    ids = list(dict.fromkeys(ids))[-50:]
    if ids:
        for match in filter(None, (_ROOT.fullmatch(i) for i in ids)):
            ticket = find_scoped(Ticket, match.group(1), org_id) if parse_id(match.group(2)) == org_id else None
            if ticket is not None:
                return ticket
        ticket = db.session.scalar(_BY_MESSAGE_IDS, {"org_id": org_id, "ids": ids})
        if ticket is not None:
            return ticket
    if "[" not in headers["subject"]:
        return None  # no number to look for: most new mail asks nothing more
    subject = str(message.get("Subject", ""))
    prefix = db.session.scalar(select(Organization.ticket_prefix).where(Organization.id == org_id))
    number = re.search(rf"\[{re.escape(prefix)}-(\d{{1,9}})\]", subject, re.IGNORECASE)
    if number:
        return db.session.scalar(select(Ticket).where(Ticket.org_id == org_id, Ticket.number == int(number.group(1))))
    return None


def _headers(message, names):
    """{name: text} of the message's first header of each of `names` (lower case), "" when
    missing. The raw value when it has no encoded word (=?...?=) to decode: the modern email
    policy parses a header object at every read, which cost more than the rest of the lookup."""
    raw = {}
    for name, value in message.raw_items():
        name = name.lower()
        if name in names:
            raw.setdefault(name, value)
    found = {}
    for name in names:
        value = raw.get(name)
        if value is None:
            found[name] = ""
        elif isinstance(value, str) and "=?" not in value and not any(ord(c) > 127 for c in value):
            found[name] = value
        else:
            found[name] = str(message.get(name, ""))
    return found
