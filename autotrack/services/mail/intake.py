"""Mail in: one pipeline for messages fetched over IMAP and piped in by an MTA.

1. `store` keeps the raw message under its key (the Message-ID's hash; the whole message's when
   it has none), unique per organization, and commits: from then on it cannot be lost, and a
   re-fetch, a crash before the mailbox was updated or a second fetcher finds it stored already.
2. `process` claims the stored row (a conditional UPDATE: one claimant, the others find it done)
   and, in that same transaction, makes the ticket or comment through the ticket service and
   records the outcome. A crash rolls both back; the row is processed again later. A failure is
   kept with its error for the console, which can process it again.

Many messages at once (the IMAP fetch, the stored-but-unprocessed sweep) are stored in one
transaction and processed BATCH to a transaction: each message in its own SAVEPOINT, so one that
fails rolls back alone and is recorded failed while the others commit, and the claim, what each
made and its outcome commit together. The pipe command brings one message per process, so it
stores and processes that one (two commits), through the same code.

Who sent it: the From address is parsed from the header as it came (only display names are
decoded, so `=?utf-8?b?...?= <attacker@evil.test>` is the attacker's), and a `From:` is only a
claim. Our own receiving server's `Authentication-Results` (RFC 8601: SPF, DKIM, DMARC) is
believed: the topmost such header (the receiving server prepends its own), and only when its
authserv-id is one the mailbox trusts; every header below it came with the mail. Mail from
a staff address acts as that member of staff only when the check passes (DMARC pass for the From
domain, or a DKIM or SPF pass for exactly the From domain); mail from an employee's address is
taken as before unless the check explicitly fails. Anything else is held for the org admin, who releases it as
its sender or discards it: nothing is created and nothing is answered meanwhile.
"""

import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.utils import getaddresses

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import FileStorage

from autotrack.extensions import db
from autotrack.models import DirectoryEntry, InboundMessage, InboundStatus, Mailbox, Organization, Perm, User
from autotrack.services import audit, outbox, tickets
from autotrack.services import policy as access
from autotrack.services.errors import DomainError, ValidationError
from autotrack.services.org import orgs
from autotrack.services.people import accounts
from autotrack.services.sqlutil import insert_ignoring_duplicates
from autotrack.services.tickets import attachments, ticket_mail

log = logging.getLogger(__name__)

_PARSER = BytesParser(policy=policy.default)
_AUTOMATIC_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply)@", re.IGNORECASE)
_BULK = {"bulk", "junk", "list", "auto_reply"}
_FOLDING = re.compile(r"\r?\n[ \t]+")
# An address as a person writes it: no quoted local part, no route, no encoded word.
_ADDRESS = re.compile(r"[^\s@<>()\[\],;:\"\\]+@[a-z0-9-]+(\.[a-z0-9-]+)*")


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
    """The From address, or "" if there is not exactly one clear address.

    Parsed from the raw header: an encoded word (=?utf-8?b?...?=) is a display name and never
    an address, so a name that decodes to a colleague's address cannot pose as them. RFC 5322
    allows one From header: with several, none is the sender. Read once per message (storing,
    the batch's sender query, the automatic-mail check and the handling all ask)."""
    cached = getattr(message, "_autotrack_sender", None)
    if cached is None:
        cached = message._autotrack_sender = _sender_address(message)
    return cached


def _sender_address(message):
    raw = _headers(message).get("from")
    if not raw or sum(name.lower() == "from" for name, _ in message.raw_items()) != 1:
        return ""
    raw = _FOLDING.sub(" ", str(raw)).strip()
    found = getaddresses([raw])
    if len(found) != 1:
        return ""
    address = found[0][1].strip().lower()
    return address[:254] if _ADDRESS.fullmatch(address) and "=?" not in address else ""


# --- who sent it ---------------------------------------------------------------------------------

PASS, FAIL, NONE = "pass", "fail", "none"
_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"\s*([a-z0-9_-]+)(?:/[0-9]+)?\s*=\s*([a-z]+)")
_PROPERTY = re.compile(r"([a-z0-9_-]+\.[a-z0-9_.-]+)\s*=\s*(\"[^\"]*\"|[^\s;]+)")


@dataclass
class SenderCheck:
    verdict: str  # PASS, FAIL or NONE (no trusted word either way)
    reason: str


def authentication_results(message, trusted):
    """(authserv-id, [(method, result, {property: value})]) of the message's topmost
    Authentication-Results header, the one the receiving server prepended; the results are
    empty when that authserv-id is not in `trusted`. Headers below it came with the mail, whoever
    wrote them, and are never read. (None, []) when there is no such header."""
    value = next((value for name, value in message.raw_items() if name.lower() == "authentication-results"), None)
    if value is None:
        return None, []
    text = _FOLDING.sub(" ", str(value)).lower()
    previous = None
    while previous != text:  # comments may nest
        previous, text = text, _COMMENT.sub(" ", text)
    authserv, *parts = text.split(";")
    authserv = authserv.split()[0] if authserv.split() else ""
    if authserv not in trusted:
        return authserv, []
    results = []
    for part in parts:
        result = _RESULT.match(part)
        if result:
            properties = {key: value.strip('"') for key, value in _PROPERTY.findall(part[result.end() :])}
            results.append((result.group(1), result.group(2), properties))
    return authserv, results


def _same_domain(domain, from_domain):
    """`domain` (or an address's domain) is the From domain itself. No relaxed alignment: telling
    acme.co.uk's parent (co.uk, anyone's) from acme.example's takes a public-suffix list, which the
    receiver applies when it computes DMARC; a DKIM or SPF pass counts only for the exact domain."""
    domain = domain.rpartition("@")[2].strip().strip(".").lower()
    return bool(domain) and domain == from_domain


def check_sender(message, mailbox, address):
    """What the mailbox's trusted receiving servers say about the From `address`."""
    trusted = mailbox.trusted_servers
    if not trusted:
        return SenderCheck(NONE, "the mailbox trusts no receiving server's Authentication-Results")
    from_domain = address.rpartition("@")[2]
    authserv, results = authentication_results(message, trusted)
    if authserv is None:
        return SenderCheck(NONE, f"no Authentication-Results from {', '.join(sorted(trusted))}")
    if authserv not in trusted:
        return SenderCheck(
            NONE,
            f"the topmost Authentication-Results is from {authserv[:100] or '(no name)'}, "
            f"not from {', '.join(sorted(trusted))}",
        )
    if any(method == "dmarc" and result == "fail" for method, result, _ in results):
        return SenderCheck(FAIL, "DMARC failed")
    for method, result, properties in results:
        if result != "pass":
            continue
        if method == "dmarc" and _same_domain(properties.get("header.from", from_domain), from_domain):
            return SenderCheck(PASS, "DMARC passed")
        if method == "dkim" and _same_domain(properties.get("header.d") or properties.get("header.i", ""), from_domain):
            return SenderCheck(PASS, "DKIM passed for the From domain")
        if method == "spf" and _same_domain(properties.get("smtp.mailfrom", ""), from_domain):
            return SenderCheck(PASS, "SPF passed for the From domain")
    failed = sorted(
        {f"{method}={result}" for method, result, _ in results if method in ("spf", "dkim") and result == "fail"}
    )
    if failed:
        return SenderCheck(FAIL, ", ".join(failed) + " and nothing passed for the From domain")
    return SenderCheck(NONE, "nothing passed for the From domain")


def _is_staff(permissions):
    """Anyone who may do more than raise tickets (agents, managers, admins, custom staff roles)."""
    return bool(set(permissions) - {Perm.TICKET_CREATE})


# --- 1. store ----------------------------------------------------------------------------------

# Stored messages processed per transaction. A batch holds its write locks until it commits (on
# MariaDB its organization's ticket-numbering row, on SQLite the database), so a ticket raised on
# the web meanwhile waits up to one batch: at 50, a few tenths of a second on a 2-core machine.
BATCH = 50


def _row(mailbox, raw, message, key, now):
    """The stored row's values for `raw` (its key computed by the caller)."""
    return {
        "org_id": mailbox.org_id,
        "mailbox_id": mailbox.id,
        "message_key": key,
        "message_id": _message_id(message),
        "sender": sender_address(message) or None,
        "subject": _header(message, "Subject")[:255] or None,
        "raw": raw,
        "status": InboundStatus.RECEIVED,
        "received_at": now,
        "attempts": 0,
    }


def _ids_by_key(org_id, keys):
    return dict(
        db.session.execute(
            select(InboundMessage.message_key, InboundMessage.id).where(
                InboundMessage.org_id == org_id, InboundMessage.message_key.in_(keys)
            )
        ).all()
    )


def store(mailbox, raw, *, now, message=None):
    """(id, new) of the stored row for `raw` received by `mailbox`; committed. Never raises for
    a bad message (only when the database cannot be reached)."""
    message = message if message is not None else parse(raw)
    key = message_key(message, raw)
    result = db.session.execute(insert_ignoring_duplicates(InboundMessage), _row(mailbox, raw, message, key, now))
    if result.rowcount == 1:
        stored = result.inserted_primary_key[0], True
    else:
        stored = _ids_by_key(mailbox.org_id, [key])[key], False
    db.session.commit()
    return stored


def store_many(mailbox, raws, *, now, messages=None):
    """[(id, new)] of the stored rows for `raws`, in one commit: the keys stored already are
    read in one query, the others inserted in one statement (the driver splits it by size), the
    same message twice is one row. `messages` are their parsed forms when the caller has them."""
    messages = messages or [parse(raw) for raw in raws]
    keys = [message_key(message, raw) for raw, message in zip(raws, messages, strict=True)]
    stored = _ids_by_key(mailbox.org_id, set(keys))
    rows = {}
    for raw, message, key in zip(raws, messages, keys, strict=True):
        if key not in stored and key not in rows:
            rows[key] = _row(mailbox, raw, message, key, now)
    if rows:
        db.session.execute(insert_ignoring_duplicates(InboundMessage), list(rows.values()))
        stored |= _ids_by_key(mailbox.org_id, list(rows))  # a concurrent fetcher's row counts as stored
    db.session.commit()
    first = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    return [(stored[key], key in rows and first[key] == index) for index, key in enumerate(keys)]


# --- 2. process --------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: str
    ticket: object = None
    comment: object = None
    error: str | None = None
    notes: list = field(default_factory=list)


def process(inbound_id, *, now, message=None):
    """Process one stored message if nobody has; returns its status afterwards. `message` is
    its parsed form when the caller has it already. A database error propagates (the caller
    rolls back; the message stays received)."""
    return _process_batch([inbound_id], now, {inbound_id: message} if message is not None else {})[inbound_id]


def process_many(inbound_ids, *, now, messages=None):
    """{id: status afterwards} of stored messages, processed BATCH to a transaction. A batch the
    database refuses (a deadlock, a lost connection, a value it will not take) is rolled back
    and its messages are processed one by one, so a message the database refuses holds up only
    itself: it stays received for the next run, and the error is logged."""
    messages = messages or {}
    statuses = {}
    for start in range(0, len(inbound_ids), BATCH):
        batch = list(dict.fromkeys(inbound_ids[start : start + BATCH]))
        try:
            statuses.update(_process_batch(batch, now, messages))
            continue
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("mail: a batch of %s messages was refused; processing them one by one", len(batch))
        for inbound_id in batch:
            try:
                statuses.update(_process_batch([inbound_id], now, messages))
            except SQLAlchemyError:
                db.session.rollback()
                log.exception("mail: could not process stored message %s; it is retried next run", inbound_id)
                statuses[inbound_id] = InboundStatus.RECEIVED
    return statuses


# A message's outcome, built once (a Core UPDATE by id; the values are its parameters).
_RECORD = (
    InboundMessage.__table__.update()
    .where(InboundMessage.__table__.c.id == bindparam("inbound_id"))
    .values({name: bindparam(name) for name in ("status", "error", "ticket_id", "comment_id", "processed_at")})
)


def _process_batch(inbound_ids, now, messages):
    """Claim, handle and record the messages of `inbound_ids` still received, in one
    transaction with a savepoint per message; {id: status afterwards}."""
    db.session.execute(
        update(InboundMessage)
        .where(InboundMessage.id.in_(inbound_ids), InboundMessage.status == InboundStatus.RECEIVED)
        .values(attempts=InboundMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    # The rows still received are the ones this transaction claimed: it holds their locks now
    # (a locking read sees the latest commit on MariaDB; SQLite has one writer).
    claimed = db.session.execute(
        select(InboundMessage.id, InboundMessage.org_id, InboundMessage.mailbox_id, InboundMessage.released_by_id)
        .where(InboundMessage.id.in_(inbound_ids), InboundMessage.status == InboundStatus.RECEIVED)
        .order_by(InboundMessage.id)
        .with_for_update()
    ).all()
    if not claimed:
        db.session.rollback()
        return _statuses(inbound_ids)
    unparsed = [row.id for row in claimed if messages.get(row.id) is None]
    if unparsed:
        raws = db.session.execute(
            select(InboundMessage.id, InboundMessage.raw).where(InboundMessage.id.in_(unparsed))
        ).all()
        messages = {**messages, **{row.id: parse(row.raw) for row in raws}}
    known = _users_by_address(claimed, messages)
    outcomes = {}
    for row in claimed:
        mailbox = db.session.get(Mailbox, row.mailbox_id)  # one query per mailbox per batch
        outcome = _handle_alone(
            mailbox, messages[row.id], now, released=row.released_by_id is not None, known=known.get(row.org_id, {})
        )
        # Recorded at once, not at the batch's end: a reply later in the batch finds its ticket by it.
        db.session.execute(
            _RECORD,
            {
                "inbound_id": row.id,
                "status": outcome.status,
                "error": "; ".join(filter(None, [outcome.error, *outcome.notes])) or None,
                "ticket_id": outcome.ticket.id if outcome.ticket is not None else None,
                "comment_id": outcome.comment.id if outcome.comment is not None else None,
                "processed_at": now,
            },
        )
        outcomes[row.id] = outcome
    db.session.commit()
    unclaimed = [inbound_id for inbound_id in inbound_ids if inbound_id not in outcomes]
    return {**{i: outcome.status for i, outcome in outcomes.items()}, **(_statuses(unclaimed) if unclaimed else {})}


def _handle_alone(mailbox, message, now, released, known):
    """One message's outcome, its writes in a savepoint: a message that fails leaves nothing
    behind and is recorded failed; the batch's other messages go on. A database error is the
    batch's (the transaction may be gone) and propagates."""
    try:
        with db.session.begin_nested():
            return _handle(mailbox, message, now, released=released, known=known)
    except (DomainError, ValueError, LookupError, UnicodeError) as error:
        return Outcome(InboundStatus.FAILED, error=f"{error.__class__.__name__}: {error}")
    except SQLAlchemyError:
        raise
    except Exception as error:  # noqa: BLE001 - a bug met by one message must not stop the others
        log.exception("mail: processing a message failed unexpectedly")
        return Outcome(InboundStatus.FAILED, error=f"unexpected {error.__class__.__name__}: {error}"[:1000])


def _statuses(inbound_ids):
    rows = db.session.execute(
        select(InboundMessage.id, InboundMessage.status).where(InboundMessage.id.in_(inbound_ids))
    ).all()
    db.session.rollback()
    return dict(rows)


def _users_by_address(claimed, messages):
    """{org_id: {address: user}} of the batch's senders who are users, one query per
    organization: what `_known` would read for each message. Others (directory entries,
    strangers) are looked up by `_known` itself."""
    wanted = {}
    for row in claimed:
        address = sender_address(messages[row.id])
        if address:
            wanted.setdefault(row.org_id, set()).add(address)
    known = {}
    for org_id, addresses in wanted.items():
        users = db.session.scalars(
            select(User)
            .where(User.org_id == org_id, User.email.in_(sorted(addresses)))
            .options(joinedload(User.organization))  # is_active reads it
        ).all()
        known[org_id] = {user.email: user for user in users}
    return known


def process_pending(*, now, limit=500):
    """Process stored messages nobody has processed (e.g. a crash came between store and process)."""
    ids = db.session.scalars(
        select(InboundMessage.id)
        .where(InboundMessage.status == InboundStatus.RECEIVED)
        .order_by(InboundMessage.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    return list(process_many(ids, now=now).values())


def reprocess(org_id, inbound_id, *, now):
    """The console's "process again" for a failed (or rejected) message of `org_id`."""
    changed = db.session.execute(
        update(InboundMessage)
        .where(
            InboundMessage.id == inbound_id,
            InboundMessage.org_id == org_id,
            InboundMessage.status.in_([InboundStatus.FAILED, InboundStatus.REJECTED]),
        )
        .values(status=InboundStatus.RECEIVED)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if changed != 1:
        raise ValidationError("Only failed or rejected messages of your organization can be processed again.")
    return process(inbound_id, now=now)


def release(org_id, inbound_id, actor, *, now):
    """The console's "release as the sender": a held message of `org_id` is processed as from its
    sender (the org admin vouches for it); returns its status afterwards."""
    changed = db.session.execute(
        update(InboundMessage)
        .where(
            InboundMessage.id == inbound_id,
            InboundMessage.org_id == org_id,
            InboundMessage.status == InboundStatus.HELD,
        )
        .values(status=InboundStatus.RECEIVED, released_by_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if changed != 1:
        raise ValidationError("Only held messages of your organization can be released.")
    return process(inbound_id, now=now)


def discard(org_id, inbound_id, *, now):
    """The console's "discard": a held message of `org_id` makes nothing, for good (it stays listed)."""
    changed = db.session.execute(
        update(InboundMessage)
        .where(
            InboundMessage.id == inbound_id,
            InboundMessage.org_id == org_id,
            InboundMessage.status == InboundStatus.HELD,
        )
        .values(status=InboundStatus.DISCARDED, processed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise ValidationError("Only held messages of your organization can be discarded.")


def ingest(mailbox, raw, *, now):
    """Store then process one message (the pipe command's path: one message per process);
    (id, status)."""
    message = parse(raw)
    inbound_id, _ = store(mailbox, raw, now=now, message=message)
    return inbound_id, process(inbound_id, now=now, message=message)


def ingest_many(mailbox, raws, *, now):
    """Store then process messages fetched together (the IMAP fetch's path): one commit stores
    them all, then BATCH to a transaction are processed; [(id, status)] in `raws`' order, with
    (None, None) for a message that could not be stored (the mailbox keeps it for the next run)."""
    messages = [parse(raw) for raw in raws]
    try:
        stored = [inbound_id for inbound_id, _ in store_many(mailbox, raws, now=now, messages=messages)]
    except SQLAlchemyError:
        db.session.rollback()
        stored = [_store_alone(mailbox, raw, message, now) for raw, message in zip(raws, messages, strict=True)]
    ids = list(dict.fromkeys(inbound_id for inbound_id in stored if inbound_id is not None))
    statuses = process_many(ids, now=now, messages=dict(zip(stored, messages, strict=True)))
    return [(inbound_id, statuses.get(inbound_id)) for inbound_id in stored]


def _store_alone(mailbox, raw, message, now):
    """The stored row's id, or None (logged) when the database refuses this message."""
    try:
        return store(mailbox, raw, now=now, message=message)[0]
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("mail: could not store a message to %s", mailbox.name)
        return None


def _handle(mailbox, message, now, released=False, known=None):
    if is_automatic(message):
        return Outcome(InboundStatus.IGNORED, error="automatic mail (auto-reply, bounce or list): not answered")
    if not _headers(message).get("from"):
        raise ValidationError("The message has no sender address (From).")
    address = sender_address(message)
    if not address:
        raise ValidationError(
            f"The message has no single clear sender address (From): {_header(message, 'From')[:200]!r}"
        )
    user, entry = _known(mailbox.org_id, address, known)
    if user is None and entry is None:
        _answer_unknown_sender(mailbox, address, message, now)
        return Outcome(InboundStatus.REJECTED, error=f"{address} is not a user or in the staff directory")
    if user is not None and not user.is_active:
        return Outcome(InboundStatus.REJECTED, error=f"{address} is deactivated")
    if not released:
        check = check_sender(message, mailbox, address)
        staff = _is_staff(
            user.permissions if user is not None else entry.role.permissions if entry.role is not None else ()
        )
        if staff and check.verdict != PASS:
            return Outcome(
                InboundStatus.HELD,
                error=(
                    f"held: {address} is a staff address and the sender is not verified ({check.reason}); "
                    "release it as the sender or discard it"
                ),
            )
        if check.verdict == FAIL:
            return Outcome(
                InboundStatus.HELD,
                error=(
                    f"held: the sender check of {address} failed ({check.reason}); "
                    "release it as the sender or discard it"
                ),
            )
    sender = user if user is not None else _user_from_directory(mailbox.org_id, entry)
    content = read_content(message)
    ticket = ticket_mail.ticket_for_reply(mailbox.org_id, message)
    if ticket is not None and access.can(sender, "ticket.comment", ticket):
        text = reply_text(content.text) or "(no text)"
        email_text = content.text if text.strip() != content.text.strip() else None
        comment = tickets.add_comment(sender, ticket, text[: tickets.COMMENT_MAX], email_text=email_text, now=now)
        outcome = Outcome(InboundStatus.PROCESSED, ticket=ticket, comment=comment)
    else:
        title = " ".join((_header(message, "Subject") or "(no subject)").split())[: tickets.TITLE_MAX] or "(no subject)"
        ticket = tickets.create_ticket(
            sender,
            title=title,
            description=content.text[: tickets.DESCRIPTION_MAX],
            source="email",
            routed_to=mailbox.department,
            now=now,
        )
        ticket_mail.queue_acknowledgement(ticket, now=now)
        outcome = Outcome(InboundStatus.PROCESSED, ticket=ticket)
    if content.files:
        outcome.notes += _attach(sender, ticket, outcome.comment, content.files, now)
    return outcome


def _attach(sender, ticket, comment, files, now):
    """Store the message's files as one request: over the per-request (or the ticket's) caps the
    message keeps its text and none of its files, as helpdesks do with oversized mail, and the
    ticket's history (staff only) and the received-mail status say so. Returns the notes."""
    uploads = [FileStorage(io.BytesIO(data), filename=name) for name, data in files]
    try:
        attachments.check_request(ticket, uploads)
    except ValidationError as error:
        reason = error.message.replace(": nothing was saved.", "").rstrip(".")
        names = ", ".join(name for name, _ in files)
        audit.record(ticket.org_id, "attachments_not_kept", ticket=ticket, to_value=names, detail=reason, now=now)
        return [f"{len(files)} attached file{'' if len(files) == 1 else 's'} not kept ({reason}): {names}"[:1000]]
    return attachments.add_many(sender, ticket, uploads, comment)


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


def _known(org_id, address, known=None):
    """(user, None) for the organization's user with this address, (None, entry) for a staff
    directory entry that may become one, else (None, None). `known` is {address: user} read for
    the batch already; an address not in it is looked up (it may have become a user since)."""
    user = (known or {}).get(address) or db.session.scalar(
        select(User).where(User.org_id == org_id, User.email == address).options(joinedload(User.organization))
    )  # is_active reads it
    if user is not None:
        return user, None
    entry = db.session.scalar(
        select(DirectoryEntry).where(DirectoryEntry.org_id == org_id, DirectoryEntry.email == address).limit(1)
    )
    if entry is None or accounts.user_by_email(address) is not None:
        return None, None
    return None, entry


def _user_from_directory(org_id, entry):
    """A directory entry becomes a user (no password: they can answer by mail, and set a
    password to sign in)."""
    address = entry.email
    org = db.session.get(Organization, org_id)
    role_key = (entry.role.builtin or entry.role.name) if entry.role is not None else "employee"
    return orgs.create_user(
        org, address, role_key=role_key, name=f"{entry.first_name} {entry.last_name}", department=entry.department
    )


def _answer_unknown_sender(mailbox, address, message, now):
    """One polite answer per address and day (the outbox's unique key makes it one)."""
    outbox.queue_email(
        recipient=address,
        org_id=mailbox.org_id,
        now=now,
        subject=f"Re: {_header(message, 'Subject')}"[:255] if _header(message, "Subject") else "Your message",
        dedupe_key=f"unknown-sender:{mailbox.org_id}:{address}:{now:%Y-%m-%d}",
        body_text=(
            f"Hello,\n\nyour message to {mailbox.address} was not turned into a ticket: this helpdesk "
            "serves its organization's staff, and your address is not known to it. If you are a member "
            "of staff, please write from your work address or ask your administrator.\n"
        ),
    )


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
        if (
            disposition == "attachment"
            or filename
            or (disposition == "inline" and part.get_content_maintype() == "image")
        ):
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
