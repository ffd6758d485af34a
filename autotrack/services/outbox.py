"""The email outbox: every email is a row first; delivery is a separate job.

Rows are written in the transaction that causes them (`queue_email`), with a unique dedupe key,
so an email is queued once however often its cause is evaluated. `deliver_due` leases due rows
(SKIP LOCKED on MariaDB, plus a lease time so a crashed deliverer's rows come back), sends them
with Flask-Mail and records the outcome of each message as soon as it is known.

SMTP trouble is retried with capped exponential backoff (1, 2, 4 … minutes, at most an hour
between tries), as a mail server would: a server that is down or answers 4xx ("try later")
delays the mail, never loses it, until the email is older than the give-up age (3 days). Only a
550-559 refusal of this one message (550 no such user) marks it failed at once, for a person to
see in the console.

A one-time link (password reset, invitation) is never stored where the table's readers (the
console, a backup, a support engineer) could use it: the bodies hold `LINK_PLACEHOLDER`, the link
itself is kept encrypted in `secret_encrypted`, put into the email at delivery and forgotten once
the email is sent. In the embedded mode (no MAIL_SERVER) the log gets one line per email,
recipient and subject, never a body.
"""

import hashlib
import json
import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.charset import QP, Charset

from flask import current_app, render_template
from flask_mail import Connection, Message
from sqlalchemy import or_, select, update

from autotrack.extensions import db
from autotrack.models import OutboxEmail, OutboxStatus
from autotrack.services import crypto, signals
from autotrack.services.errors import NotFound, ValidationError
from autotrack.services.sqlutil import bulk_insert, dialect_name, insert_ignoring_duplicates

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # the default of AUTOTRACK_OUTBOX_LEASE_SECONDS
SMTP_TIMEOUT_SECONDS = 30
# Refusals of one message (bad recipient, rejected content); other SMTP errors mean the server.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)
# Stands for the secret link in a stored body; replaced only in the email that goes out.
LINK_PLACEHOLDER = "[one-time link: in the email only]"


def queue_email(
    *,
    recipient,
    subject,
    dedupe_key,
    now,
    body_text=None,
    body_html=None,
    template=None,
    context=None,
    org_id=None,
    ticket_id=None,
    secret_link=None,
):
    """Add an email to the outbox in the current transaction; False if its key was queued before.

    Give the bodies, or a template name under templates/email/ and its context (rendered at delivery).
    Mail about a ticket (`ticket_id`) is sent answerable: see services/tickets/ticket_mail.py.
    A `secret_link` (a one-time link) stands in the bodies as LINK_PLACEHOLDER and is stored
    encrypted, apart, until delivery.
    """
    if body_text is None and template is None:
        raise ValueError("an email needs a body or a template")
    if secret_link is not None and (
        template is not None
        or LINK_PLACEHOLDER not in body_text
        or secret_link in body_text
        or secret_link in (body_html or "")
    ):
        raise ValueError("a secret link goes in the email as LINK_PLACEHOLDER, in a body given as text")
    outcome = db.session.execute(
        insert_ignoring_duplicates(OutboxEmail).values(
            org_id=org_id,
            recipient=recipient,
            subject=subject[:255],
            body_text=body_text,
            body_html=body_html,
            secret_encrypted=crypto.encrypt(secret_link) if secret_link is not None else None,
            template=template,
            context=None if context is None else json.dumps(context),
            dedupe_key=dedupe_key,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            ticket_id=ticket_id,
            message_id=message_id(dedupe_key),
        )
    )
    return outcome.rowcount == 1


def queue_many(emails, *, now):
    """Queue many template emails in one multi-row INSERT (the SLA sweep's and its digests'),
    skipping each whose dedupe key was queued before; returns how many were queued.

    Each email is a dict: org_id, recipient, subject, template, context (rendered at delivery),
    dedupe_key, ticket_id, and optionally send_at (deliverable from then; `now` when absent).
    """
    rows = [
        {
            "org_id": email["org_id"],
            "recipient": email["recipient"],
            "subject": email["subject"][:255],
            "body_text": None,
            "body_html": None,
            "template": email["template"],
            "context": json.dumps(email["context"]),
            "dedupe_key": email["dedupe_key"],
            "status": OutboxStatus.PENDING.value,  # the plain string: bulk_insert hands values to the driver
            "attempts": 0,
            "next_attempt_at": email.get("send_at", now),
            "created_at": now,
            "ticket_id": email["ticket_id"],
            "message_id": message_id(email["dedupe_key"]),
        }
        for email in emails
    ]
    queued = bulk_insert(OutboxEmail, rows, ignore_duplicates=True)
    return len(rows) if queued < 0 else queued  # a driver that cannot count: all of them


def render_bodies(row):
    """The (text, html) of an outbox row as stored (with no secret link in it), or rendered from
    its template and context."""
    if row.body_text is not None or not row.template:
        return row.body_text or "", row.body_html
    context = json.loads(row.context or "{}")
    return (
        render_template(f"email/{row.template}.txt", **context),
        render_template(f"email/{row.template}.html", **context),
    )


@dataclass
class DeliveryResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    server_trouble: bool = False  # the server was unreachable or dropped us: try again later

    def summary(self):
        return f"sent {self.sent}, will retry {self.retrying}, failed for good {self.failed}"


def message_id(dedupe_key):
    """A Message-ID derived from the dedupe key, so a receiving server can spot a repeat."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]
    return f"<{digest}@autotrack>"


def _claim(now, limit):
    """Lease up to `limit` due rows to this deliverer; returns (ids, lease)."""
    lease = now + timedelta(seconds=current_app.config.get("AUTOTRACK_OUTBOX_LEASE_SECONDS") or LEASE.total_seconds())
    query = (
        select(OutboxEmail.id)
        .where(
            OutboxEmail.status == OutboxStatus.PENDING,
            OutboxEmail.next_attempt_at <= now,
            or_(OutboxEmail.leased_until.is_(None), OutboxEmail.leased_until < now),
        )
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(limit)
    )
    if dialect_name() != "sqlite":
        query = query.with_for_update(skip_locked=True)
    ids = db.session.scalars(query).all()
    if ids:
        db.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_(ids))
            .values(leased_until=lease)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids, lease


def _finish(email_id, lease, **values):
    """Record an outcome, only if our lease still holds (else another deliverer owns the row)."""
    outcome = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == email_id, OutboxEmail.leased_until == lease)
        .values(leased_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return outcome.rowcount == 1


class _SmtpConnection(Connection):
    """Flask-Mail's connection with a socket timeout, so a hung SMTP server cannot stall the job.
    Flask-Mail 0.10 has no timeout setting; `configure_host` is the public method of its Connection
    that opens the SMTP session, so this overrides it (same steps as Flask-Mail's, plus the timeout)
    rather than setting a process-wide socket default."""

    def configure_host(self):
        cls = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = cls(self.mail.server, self.mail.port, timeout=SMTP_TIMEOUT_SECONDS)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


# UTF-8 with quoted-printable bodies, given to Flask-Mail's `Message(charset=...)`. Flask-Mail
# registers UTF-8 bodies as 8bit, unfolded: a line over 998 characters (a long paragraph, a rendered
# HTML template) makes a standards-keeping server answer "500 Line too long", and the email could
# never go out. The charset argument goes as is to the standard library's MIMEText and Header, which
# take an email.charset.Charset as well as a name: its body encoding is what we change, with no
# subclass of Flask-Mail's private parts and no process-wide add_charset. Checked by
# tests/services/test_outbox.py::test_a_body_with_very_long_lines_is_delivered_intact.
UTF8_QUOTED_PRINTABLE = Charset("utf-8")
UTF8_QUOTED_PRINTABLE.body_encoding = QP


def header_safe(value):
    """A header value with no line breaks: text people typed (a ticket title in a subject) can
    never add a header of its own (Bcc: …) to our mail."""
    return " ".join(str(value).splitlines()).replace("\r", " ").replace("\n", " ").replace("\x00", "")


def _with_secret(row, text, html):
    """The bodies as they go out: the secret link, decrypted, in place of its placeholder."""
    if row.secret_encrypted is None:
        return text, html
    link = crypto.decrypt(row.secret_encrypted)
    if link is None:  # SECRET_KEY changed since: the person asks for a new link
        link = "(this link could not be sent: please ask for a new one)"
    return text.replace(LINK_PLACEHOLDER, link), html.replace(LINK_PLACEHOLDER, link) if html else html


# Every email is marked automatic (no auto-responder answers it, so no loop).
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def delivery_headers(row):
    """(extra headers, Reply-To) of a row at delivery: the automatic marks, plus what the
    listeners of `signals.email_delivering` add (ticket mail: threading and its mailbox)."""
    headers, reply_to = dict(AUTOMATIC_HEADERS), None
    for _receiver, answer in signals.email_delivering.send(row):
        if answer:
            more, address = answer
            headers.update(more)
            reply_to = address or reply_to
    return headers, reply_to


def _build_message(row, text, html):
    headers, reply_to = delivery_headers(row)
    text, html = _with_secret(row, text, html)
    message = Message(
        subject=header_safe(row.subject),
        recipients=[header_safe(row.recipient)],
        body=text,
        html=html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        reply_to=header_safe(reply_to) if reply_to else None,
        charset=UTF8_QUOTED_PRINTABLE,
        extra_headers={name: header_safe(value) for name, value in headers.items()},
    )
    message.msgId = row.message_id or message_id(row.dedupe_key)
    return message


def _sent(row, lease, text, html, now):
    """Record a delivery, keeping the bodies that went out (with the placeholder where a secret
    link was) and forgetting the secret."""
    return _finish(
        row.id,
        lease,
        status=OutboxStatus.SENT,
        sent_at=now,
        attempts=row.attempts + 1,
        last_error=None,
        body_text=text,
        body_html=html,
        secret_encrypted=None,
    )


def deliver_due(now, limit=100):
    """Send the due emails (one batch). Commits each outcome as soon as it is known."""
    result = DeliveryResult()
    ids, lease = _claim(now, limit)
    if not ids:
        return result
    rows = db.session.scalars(select(OutboxEmail).where(OutboxEmail.id.in_(ids)).order_by(OutboxEmail.id)).all()
    if not current_app.config.get("MAIL_SERVER"):
        for row in rows:  # embedded mode: kept in the outbox (the console shows it), one log line each
            text, html = render_bodies(row)
            log.info("EMAIL to %s | %s", header_safe(row.recipient), header_safe(row.subject))
            if _sent(row, lease, text, html, now):
                result.sent += 1
        return result
    unsent = list(rows)
    trouble = None  # the server's own error: a failing QUIT on the way out must not hide it
    try:
        with _SmtpConnection(current_app.extensions["mail"]) as connection:
            while unsent:
                row = unsent[0]
                text, html = render_bodies(row)
                try:
                    connection.send(_build_message(row, text, html))
                except MESSAGE_ERRORS as error:
                    _record_failure(row, lease, error, now, result)  # this message only; go on
                except (smtplib.SMTPException, OSError) as error:
                    trouble = error
                    raise
                else:
                    if _sent(row, lease, text, html, now):
                        result.sent += 1
                unsent.pop(0)
    except (smtplib.SMTPException, OSError) as error:
        # The server is down or dropped us: every email not yet sent waits for its next try.
        error = trouble or error
        log.warning("SMTP delivery failed: %s", crypto.redact(str(error)))
        result.server_trouble = True
        for row in unsent:
            _record_failure(row, lease, error, now, result)
    return result


def smtp_code(error):
    """The SMTP reply code an error carries (the worst one for refused recipients), or None."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return max((code for code, _ in error.recipients.values()), default=None)
    return getattr(error, "smtp_code", None)


def backoff(attempts):
    """The wait after the `attempts`-th failed try: base × 2^(attempts−1), capped."""
    config = current_app.config
    base = config.get("AUTOTRACK_OUTBOX_BACKOFF_SECONDS") or 60
    cap = config.get("AUTOTRACK_OUTBOX_BACKOFF_CAP_SECONDS") or 3600
    return timedelta(seconds=min(cap, base * 2 ** min(attempts - 1, 30)))


def _record_failure(row, lease, error, now, result):
    attempts = row.attempts + 1
    text = crypto.redact(f"{error.__class__.__name__}: {error}")[:2000]  # stored and shown in the console
    code = smtp_code(error)
    # 550-559: this mailbox or this message is refused for good (500-504 are protocol trouble).
    permanent = isinstance(error, MESSAGE_ERRORS) and code is not None and 550 <= code < 560
    give_up_at = row.created_at + timedelta(
        seconds=current_app.config.get("AUTOTRACK_OUTBOX_GIVE_UP_SECONDS") or 3 * 86400
    )
    if permanent or now >= give_up_at:
        if _finish(row.id, lease, status=OutboxStatus.FAILED, attempts=attempts, last_error=text):
            result.failed += 1
            log.error("Giving up on email %s to %s after %s attempts: %s", row.id, row.recipient, attempts, text)
    elif _finish(row.id, lease, attempts=attempts, last_error=text, next_attempt_at=now + backoff(attempts)):
        result.retrying += 1


def deliver_all_due(now, limit=100):
    """Deliver batches until nothing due is left (or every remaining row is waiting to retry)."""
    total = DeliveryResult()
    while True:
        batch = deliver_due(now, limit)
        total.sent, total.retrying, total.failed = (
            total.sent + batch.sent,
            total.retrying + batch.retrying,
            total.failed + batch.failed,
        )
        total.server_trouble |= batch.server_trouble
        # A server in trouble is not asked again for every batch: the next run tries again.
        if batch.server_trouble or batch.sent + batch.retrying + batch.failed < limit:
            return total


def retry(org_id, email_id, now):
    """Put a failed email back in the queue (the console's "retry"); flushes, the caller commits."""
    row = db.session.scalar(select(OutboxEmail).where(OutboxEmail.id == email_id, OutboxEmail.org_id == org_id))
    if row is None:
        raise NotFound()
    if row.status != OutboxStatus.FAILED:
        raise ValidationError("Only failed emails can be retried.")
    row.status = OutboxStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = now
    row.leased_until = None
    db.session.flush()
    return row
