"""Mail in: one pipeline for messages fetched over IMAP and piped in by an MTA.

1. `store` keeps the raw message under its key (the Message-ID's hash; the whole message's when
   it has none), unique per organization, and commits: from then on it cannot be lost, and a
   re-fetch, a crash before the mailbox was updated or a second fetcher finds it stored already.
2. `process` claims the stored row (a conditional UPDATE: one claimant, the others find it done)
   and, in that same transaction, makes the ticket or comment through the ticket service and
   records the outcome. A crash rolls both back; the row is processed again later. A failure is
   kept with its error for the console, which can process it again.
"""
import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.utils import parseaddr

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import FileStorage

from autotrack.extensions import db
from autotrack.models import DirectoryEntry, InboundMessage, InboundStatus, Mailbox, Organization, User, utcnow
from autotrack.services import attachments, orgs, outbox, policy as access, ticket_mail, tickets
from autotrack.services.errors import DomainError, ValidationError
from autotrack.services.sqlutil import insert_ignoring_duplicates

log = logging.getLogger(__name__)

_PARSER = BytesParser(policy=policy.default)
_AUTOMATIC_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply)@", re.IGNORECASE)
_BULK = {"bulk", "junk", "list", "auto_reply"}
_FOLDING = re.compile(r"\r?\n[ \t]+")


def parse(raw):
    return _PARSER.parsebytes(raw)


def message_key(message, raw):
    message_id = _message_id(message)
    if message_id:
        return hashlib.sha256(b"message-id:" + message_id.encode()).hexdigest()
    return hashlib.sha256(b"content:" + raw).hexdigest()


def _message_id(message):
    return _header(message, "Message-ID")[:255] or None


def _headers(message):
    """{lower-case name: raw value} of the message's headers (the first of each), read once:
    the modern policy builds a parsed header object at every read, ~0.2 ms each."""
    cached = getattr(message, "_autotrack_headers", None)
    if cached is None:
        cached = {}
        for name, value in message.raw_items():
            cached.setdefault(name.lower(), value)
        message._autotrack_headers = cached
    return cached


def _header(message, name):
    """A header's text: unfolded, encoded words (=?utf-8?...?=) decoded, bad bytes replaced."""
    value = _headers(message).get(name.lower())
    if not value:
        return ""
    value = _FOLDING.sub(" ", str(value)).strip()
    if "=?" in value:
        try:
            value = str(make_header(decode_header(value)))
        except (HeaderParseError, LookupError, UnicodeError, ValueError):
            pass
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def sender_address(message):
    return parseaddr(_header(message, "From"))[1].strip().lower()[:254]


# --- 1. store ----------------------------------------------------------------------------------

def store(mailbox, raw, now=None, message=None):
    """(id, new) of the stored row for `raw` received by `mailbox`; committed. Never raises for
    a bad message (only when the database cannot be reached)."""
    now = now or utcnow()
    message = message if message is not None else parse(raw)
    key = message_key(message, raw)
    result = db.session.execute(insert_ignoring_duplicates(InboundMessage).values(
        org_id=mailbox.org_id, mailbox_id=mailbox.id, message_key=key, message_id=_message_id(message),
        sender=sender_address(message) or None, subject=_header(message, "Subject")[:255] or None, raw=raw,
        status=InboundStatus.RECEIVED, received_at=now, attempts=0,
    ))
    if result.rowcount == 1:
        inbound_id, new = result.inserted_primary_key[0], True
    else:
        inbound_id, new = db.session.scalar(select(InboundMessage.id).where(
            InboundMessage.org_id == mailbox.org_id, InboundMessage.message_key == key)), False
    db.session.commit()
    return inbound_id, new


# --- 2. process --------------------------------------------------------------------------------

@dataclass
class Outcome:
    status: str
    ticket: object = None
    comment: object = None
    error: str | None = None
    notes: list = field(default_factory=list)


def process(inbound_id, now=None, message=None):
    """Process one stored message if nobody has; returns its status afterwards. `message` is
    its parsed form when the caller has it already."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(InboundMessage).where(InboundMessage.id == inbound_id, InboundMessage.status == InboundStatus.RECEIVED)
        .values(attempts=InboundMessage.attempts + 1).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return db.session.scalar(select(InboundMessage.status).where(InboundMessage.id == inbound_id))
    mailbox_id = db.session.scalar(select(InboundMessage.mailbox_id).where(InboundMessage.id == inbound_id))
    if message is None:
        message = parse(db.session.scalar(select(InboundMessage.raw).where(InboundMessage.id == inbound_id)))
    try:
        with db.session.begin_nested():
            outcome = _handle(db.session.get(Mailbox, mailbox_id), message, now)
    except (DomainError, ValueError, LookupError, UnicodeError) as error:
        outcome = Outcome(InboundStatus.FAILED, error=f"{error.__class__.__name__}: {error}")
    db.session.execute(update(InboundMessage).where(InboundMessage.id == inbound_id).values(
        status=outcome.status, error="; ".join(filter(None, [outcome.error, *outcome.notes])) or None,
        ticket_id=outcome.ticket.id if outcome.ticket is not None else None,
        comment_id=outcome.comment.id if outcome.comment is not None else None,
        processed_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    return outcome.status


def process_pending(limit=500, now=None):
    """Process stored messages nobody has processed (e.g. a crash came between store and process)."""
    ids = db.session.scalars(select(InboundMessage.id).where(InboundMessage.status == InboundStatus.RECEIVED)
                             .order_by(InboundMessage.id).limit(limit)).all()
    db.session.rollback()
    return [process(inbound_id, now=now) for inbound_id in ids]


def reprocess(org_id, inbound_id, now=None):
    """The console's "process again" for a failed (or rejected) message of `org_id`."""
    changed = db.session.execute(
        update(InboundMessage).where(InboundMessage.id == inbound_id, InboundMessage.org_id == org_id,
                                     InboundMessage.status.in_([InboundStatus.FAILED, InboundStatus.REJECTED]))
        .values(status=InboundStatus.RECEIVED).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if changed != 1:
        raise ValidationError("Only failed or rejected messages of your organization can be processed again.")
    return process(inbound_id, now=now)


def ingest(mailbox, raw, now=None):
    """Store then process one message (the pipe command and the IMAP fetch both come here);
    (id, status)."""
    message = parse(raw)
    inbound_id, _ = store(mailbox, raw, now=now, message=message)
    return inbound_id, process(inbound_id, now=now, message=message)


def _handle(mailbox, message, now):
    if is_automatic(message):
        return Outcome(InboundStatus.IGNORED, error="automatic mail (auto-reply, bounce or list): not answered")
    address = sender_address(message)
    if not address or "@" not in address:
        raise ValidationError("The message has no sender address (From).")
    sender = _sender(mailbox.org_id, address)
    if sender is None:
        _answer_unknown_sender(mailbox, address, message, now)
        return Outcome(InboundStatus.REJECTED, error=f"{address} is not a user or in the staff directory")
    if not sender.is_active:
        return Outcome(InboundStatus.REJECTED, error=f"{address} is deactivated")
    content = read_content(message)
    ticket = ticket_mail.ticket_for_reply(mailbox.org_id, message)
    if ticket is not None and access.can(sender, "ticket.comment", ticket):
        text = reply_text(content.text) or "(no text)"
        email_text = content.text if text.strip() != content.text.strip() else None
        comment = tickets.add_comment(sender, ticket, text[:tickets.COMMENT_MAX], email_text=email_text, now=now)
        outcome = Outcome(InboundStatus.PROCESSED, ticket=ticket, comment=comment)
    else:
        title = " ".join((_header(message, "Subject") or "(no subject)").split())[:tickets.TITLE_MAX] or "(no subject)"
        ticket = tickets.create_ticket(sender, title=title, description=content.text[:tickets.DESCRIPTION_MAX],
                                       source="email", routed_to=mailbox.department, now=now)
        ticket_mail.queue_acknowledgement(ticket, now=now)
        outcome = Outcome(InboundStatus.PROCESSED, ticket=ticket)
    for name, data in content.files:
        refused = attachments.add_many(sender, ticket, [FileStorage(io.BytesIO(data), filename=name)], outcome.comment)
        outcome.notes += refused
    return outcome


def preview(raw, limit=20_000):
    """The received message as text for the console (headers and body as sent; shown escaped)."""
    return raw[:limit].decode("utf-8", errors="replace")


def is_automatic(message):
    """Auto-replies, bounces and list mail: never a ticket, never answered (no mail loops)."""
    auto = _header(message, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return True
    if _header(message, "Precedence").strip().lower() in _BULK:
        return True
    if any(_header(message, name) for name in ("X-Autoreply", "X-Autorespond", "List-Id", "List-Unsubscribe")):
        return True
    if _header(message, "X-Auto-Response-Suppress").strip().lower() in ("all", "oof", "autoreply"):
        return True
    if message.get_content_type() == "multipart/report":  # delivery status notifications
        return True
    return bool(_AUTOMATIC_SENDERS.match(sender_address(message)))


def _sender(org_id, address):
    """The organization's user with this address; a directory entry becomes one (no password:
    they can answer by mail, and set a password to sign in)."""
    user = db.session.scalar(select(User).where(User.org_id == org_id, User.email == address)
                             .options(joinedload(User.organization)))  # is_active reads it
    if user is not None:
        return user
    entry = db.session.scalar(select(DirectoryEntry).where(DirectoryEntry.org_id == org_id,
                                                           DirectoryEntry.email == address).limit(1))
    if entry is None or orgs.user_by_email(address) is not None:
        return None
    org = db.session.get(Organization, org_id)
    role_key = (entry.role.builtin or entry.role.name) if entry.role is not None else "employee"
    return orgs.create_user(org, address, role_key=role_key, name=f"{entry.first_name} {entry.last_name}",
                            department=entry.department)


def _answer_unknown_sender(mailbox, address, message, now):
    """One polite answer per address and day (the outbox's unique key makes it one)."""
    outbox.queue_email(
        recipient=address, org_id=mailbox.org_id, now=now,
        subject=f"Re: {_header(message, 'Subject')}"[:255] if _header(message, "Subject") else "Your message",
        dedupe_key=f"unknown-sender:{mailbox.org_id}:{address}:{now:%Y-%m-%d}",
        body_text=(f"Hello,\n\nyour message to {mailbox.address} was not turned into a ticket: this helpdesk "
                   "serves its organization's staff, and your address is not known to it. If you are a member "
                   "of staff, please write from your work address or ask your administrator.\n"))


# --- content -------------------------------------------------------------------------------------

@dataclass
class Content:
    text: str
    files: list  # (filename, bytes)


def read_content(message):
    """The message's text (plain, else HTML turned into text) and its files, in any charset."""
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        raw = _decoded(body)
        text = html_to_text(raw) if body.get_content_type() == "text/html" else raw
    files = []
    for number, part in enumerate(message.walk(), start=1):
        if part.is_multipart() or part is body:
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if disposition == "attachment" or filename or (disposition == "inline" and part.get_content_maintype() == "image"):
            data = part.get_payload(decode=True) or b""
            if data:
                files.append((filename or _name_for(part, number), data))
        elif body is None and part.get_content_maintype() == "text":
            text = _decoded(part)
    return Content(text.replace("\r\n", "\n").strip(), files)


def _decoded(part):
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError):  # an unknown or lying charset
        return (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")


def _name_for(part, number):
    subtype = part.get_content_subtype()
    return f"inline-{number}.{'jpg' if subtype == 'jpeg' else subtype}"


def html_to_text(html):
    """Readable text from an HTML mail; nothing of it is ever rendered as HTML."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def reply_text(text):
    """The new part of a reply: quoted history and signature removed (the whole mail is kept
    on the comment for staff)."""
    from mailparser_reply import EmailReplyParser

    try:
        reply = EmailReplyParser(languages=["en", "de", "fr", "es", "it", "nl"]).read(text).replies
    except (ValueError, IndexError, AttributeError):
        return text
    if not reply:
        return text
    return (reply[0].body or reply[0].content or text).strip()
