"""An organization's IMAP mailboxes: settings, the connection test, and the periodic fetch."""

import logging
import re
import ssl

from sqlalchemy import select

from autotrack.extensions import db
from autotrack.models import AfterImport, Mailbox, MailSecurity
from autotrack.services import crypto
from autotrack.services.errors import NotFound, ValidationError
from autotrack.services.mail import intake as mail_in

log = logging.getLogger(__name__)
IMAP_TIMEOUT_SECONDS = 30
FETCH_BATCH = 200  # messages per mailbox per run; the rest come next run
_AUTHSERV_ID = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


def by_name(name, org_id=None):
    query = select(Mailbox).where(Mailbox.name == name)
    if org_id is not None:
        query = query.where(Mailbox.org_id == org_id)
    found = db.session.scalars(query).all()
    if len(found) != 1:
        raise NotFound(
            f"No mailbox named {name!r}."
            if not found
            else f"Several organizations have a mailbox named {name!r}: name the organization."
        )
    return found[0]


def set_trusted_servers(mailbox, text):
    """Store the trusted authserv-ids (RFC 8601) from what an admin typed: host-like names
    separated by spaces or commas; ValidationError for anything else."""
    names = (text or "").lower().replace(",", " ").split()
    bad = [name for name in names if not _AUTHSERV_ID.fullmatch(name)]
    if bad:
        raise ValidationError(
            f"Not a server name: {bad[0][:60]!r}.",
            {"trusted_authserv_ids": "Host names only, separated by spaces or commas."},
        )
    joined = " ".join(dict.fromkeys(names))
    if len(joined) > 255:
        raise ValidationError("Too many names.", {"trusted_authserv_ids": "At most 255 characters."})
    mailbox.trusted_authserv_ids = joined or None


def set_password(mailbox, password):
    """Store the IMAP password encrypted; it is never shown or logged again."""
    mailbox.password_encrypted = crypto.encrypt(password) if password else None


def _connect(mailbox):
    from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

    if not mailbox.imap_host or not mailbox.username:
        raise ValidationError(f"Mailbox {mailbox.name} has no IMAP host or user: it is fed by the pipe command only.")
    password = crypto.decrypt(mailbox.password_encrypted) if mailbox.password_encrypted else None
    if password is None:
        raise ValidationError(f"Mailbox {mailbox.name} has no usable password: enter it again.")
    if mailbox.security == MailSecurity.SSL:
        client = MailBox(
            mailbox.imap_host, mailbox.imap_port, timeout=IMAP_TIMEOUT_SECONDS, ssl_context=ssl.create_default_context()
        )
    elif mailbox.security == MailSecurity.STARTTLS:
        client = MailBoxStartTls(
            mailbox.imap_host, mailbox.imap_port, timeout=IMAP_TIMEOUT_SECONDS, ssl_context=ssl.create_default_context()
        )
    else:
        client = MailBoxUnencrypted(mailbox.imap_host, mailbox.imap_port, timeout=IMAP_TIMEOUT_SECONDS)
    return client.login(mailbox.username, password, initial_folder=mailbox.folder)


def test_connection(mailbox):
    """(ok, what the server answered) — for the console's "test connection"."""
    try:
        with _connect(mailbox) as client:
            status = client.folder.status(mailbox.folder)
            return True, (
                f"Connected to {mailbox.imap_host}:{mailbox.imap_port} as {mailbox.username}; "
                f"{mailbox.folder} holds {status.get('MESSAGES', '?')} messages, "
                f"{status.get('UNSEEN', '?')} unseen."
            )
    except ValidationError as error:
        return False, error.message
    except Exception as error:  # noqa: BLE001 - whatever the server or network said is the answer
        return False, f"{error.__class__.__name__}: {error}"


def fetch(mailbox, *, now):
    """Import the unseen messages of one mailbox: fetch them, store them all (one commit),
    process them in batches, then mark seen or move each one stored.

    Marking comes last: a crash before it means a re-fetch, which finds the messages stored. A
    message the database would not store stays unseen and is fetched again next run."""
    from imap_tools import AND, MailMessageFlags

    with _connect(mailbox) as client:
        fetched = []  # (uid, raw)
        for uid in client.uids(AND(seen=False))[:FETCH_BATCH]:
            raw = _raw_message(client, uid)
            if raw is not None:  # else expunged meanwhile
                fetched.append((uid, raw))
        if not fetched:
            return 0
        results = mail_in.ingest_many(mailbox, [raw for _, raw in fetched], now=now)
        done = [uid for (uid, _), (inbound_id, _) in zip(fetched, results, strict=True) if inbound_id is not None]
        if done:
            if mailbox.after_import == AfterImport.MOVE and mailbox.move_folder:
                client.move(done, mailbox.move_folder)
            else:
                client.flag(done, MailMessageFlags.SEEN, True)
    return len(done)


def _raw_message(client, uid):
    """The message's exact bytes (BODY.PEEK: fetching does not mark it seen)."""
    status, data = client.client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None


def fetch_all(*, now):
    """The periodic job: every active mailbox with IMAP settings, then anything left unprocessed."""
    report = {}
    mailboxes = db.session.scalars(
        select(Mailbox).where(Mailbox.active.is_(True), Mailbox.imap_host.is_not(None)).order_by(Mailbox.id)
    ).all()
    for mailbox in mailboxes:
        try:
            report[mailbox.name] = fetch(mailbox, now=now)
            mailbox.last_error = None
        except Exception as error:  # noqa: BLE001 - recorded for the console; the next run retries
            db.session.rollback()
            mailbox = db.session.get(Mailbox, mailbox.id)
            mailbox.last_error = crypto.redact(
                f"{error.__class__.__name__}: {error}", crypto.decrypt(mailbox.password_encrypted or "") or ""
            )[:2000]
            report[mailbox.name] = mailbox.last_error
            log.warning("mail: fetching %s failed: %s", mailbox.name, mailbox.last_error)
        mailbox.last_fetch_at = now
        db.session.commit()
    mail_in.process_pending(now=now)
    return report
