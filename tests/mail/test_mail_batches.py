"""Mail processed in batches (the IMAP fetch, the stored-but-unprocessed sweep): one transaction
per batch and still exactly once, a failing message alone in its savepoint, a crash rolling the
whole batch back for the next run, and no per-message lookups a batch can share."""

import re

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from autotrack.extensions import db as _db
from autotrack.models import AuditEvent, Comment, InboundMessage, InboundStatus, OutboxEmail, Ticket
from autotrack.models.types import utcnow
from autotrack.services.mail import intake as mail_in
from autotrack.services.tickets import ticket_mail
from tests.helpers import count, mail


class Crash(BaseException):
    """The process dying mid-batch: nothing below catches it."""


def raws(*messages):
    return [message.as_bytes() for message in messages]


def statuses():
    _db.session.expire_all()
    return {row.subject: row.status for row in _db.session.scalars(select(InboundMessage))}


def store_all(desk, *messages):
    """Stored, not processed (what a fetch leaves behind when it dies after its store commit)."""
    return [inbound_id for inbound_id, _ in mail_in.store_many(desk["mailbox"], raws(*messages), now=utcnow())]


def test_the_same_message_twice_in_one_fetch_is_stored_once_and_makes_one_ticket(desk):
    printer = mail("ada@acme.example", "Printer jams", "Every page.")
    results = mail_in.ingest_many(desk["mailbox"], raws(printer, printer), now=utcnow())
    assert results[0][0] == results[1][0] and results[0][1] == InboundStatus.PROCESSED
    assert count(Ticket) == 1 and count(InboundMessage) == 1
    mail_in.ingest_many(desk["mailbox"], raws(printer), now=utcnow())  # fetched again
    assert count(Ticket) == 1 and count(InboundMessage) == 1


def test_a_reply_later_in_the_same_batch_joins_the_ticket_raised_earlier_in_it(desk):
    first = mail("ada@acme.example", "VPN drops", "Every hour.")
    reply = mail("ada@acme.example", "Re: VPN drops", "Now every minute.", In_Reply_To=first["Message-ID"])
    mail_in.ingest_many(desk["mailbox"], raws(first, reply), now=utcnow())
    assert count(Ticket) == 1 and count(Comment) == 1


def test_a_failing_message_in_the_middle_of_a_batch_fails_alone_and_leaves_nothing(desk, monkeypatch):
    """The middle message fails after its ticket was flushed: its savepoint takes the ticket,
    its audit event and its clocks back; the others commit; it is recorded failed."""
    acknowledge = ticket_mail.queue_acknowledgement

    def failing(ticket, *, now):
        if ticket.title == "Broken":
            raise RuntimeError("the acknowledgement could not be written")
        return acknowledge(ticket, now=now)

    monkeypatch.setattr(ticket_mail, "queue_acknowledgement", failing)
    messages = [mail("ada@acme.example", title, "Details.") for title in ("First", "Broken", "Last")]
    results = mail_in.ingest_many(desk["mailbox"], raws(*messages), now=utcnow())

    assert [status for _, status in results] == [InboundStatus.PROCESSED, InboundStatus.FAILED, InboundStatus.PROCESSED]
    assert sorted(_db.session.scalars(select(Ticket.title))) == ["First", "Last"]
    assert count(OutboxEmail) == 2  # the two acknowledgements
    assert count(AuditEvent, AuditEvent.action == "create") == 2
    broken = _db.session.scalar(select(InboundMessage).where(InboundMessage.subject == "Broken"))
    assert broken.ticket_id is None and "RuntimeError" in broken.error and broken.attempts == 1


def test_a_message_without_a_sender_in_a_batch_fails_alone(desk):
    good = mail("ada@acme.example", "Monitor flickers", "Since Monday.")
    results = mail_in.ingest_many(
        desk["mailbox"], [b"Subject: nobody\r\n\r\nwho am I?\r\n", good.as_bytes()], now=utcnow()
    )
    assert [status for _, status in results] == [InboundStatus.FAILED, InboundStatus.PROCESSED]
    assert count(Ticket) == 1


def test_a_crash_after_the_flush_rolls_the_whole_batch_back_and_the_rerun_makes_each_ticket_once(desk, monkeypatch):
    store_all(desk, *(mail("ada@acme.example", f"Problem {n}", "Details.") for n in range(5)))
    handle = mail_in._handle

    def crashing(mailbox, message, now, **options):
        outcome = handle(mailbox, message, now, **options)
        if str(message["Subject"]) == "Problem 3":
            _db.session.flush()
            raise Crash  # after its ticket and the batch's earlier ones were written, before the commit
        return outcome

    monkeypatch.setattr(mail_in, "_handle", crashing)
    with pytest.raises(Crash):
        mail_in.process_pending(now=utcnow())
    _db.session.rollback()  # the connection closing with the process
    assert count(Ticket) == 0 and set(statuses().values()) == {InboundStatus.RECEIVED}

    monkeypatch.setattr(mail_in, "_handle", handle)
    mail_in.process_pending(now=utcnow())
    mail_in.process_pending(now=utcnow())  # nothing left: nothing more
    assert sorted(_db.session.scalars(select(Ticket.title))) == [f"Problem {n}" for n in range(5)]
    assert set(statuses().values()) == {InboundStatus.PROCESSED}
    assert all(row.ticket_id for row in _db.session.scalars(select(InboundMessage)))


def test_a_message_the_database_refuses_holds_up_only_itself(desk, monkeypatch):
    """A database error may end the transaction: the batch is rolled back and processed one by
    one, and the message the database refused stays received for the next run."""
    handle = mail_in._handle

    def refusing(mailbox, message, now, **options):
        if str(message["Subject"]) == "Refused":
            raise OperationalError("INSERT …", {}, Exception("Deadlock found when trying to get lock"))
        return handle(mailbox, message, now, **options)

    monkeypatch.setattr(mail_in, "_handle", refusing)
    messages = [mail("ada@acme.example", title, "Details.") for title in ("Before", "Refused", "After")]
    results = mail_in.ingest_many(desk["mailbox"], raws(*messages), now=utcnow())
    assert [status for _, status in results] == [
        InboundStatus.PROCESSED,
        InboundStatus.RECEIVED,
        InboundStatus.PROCESSED,
    ]
    assert sorted(_db.session.scalars(select(Ticket.title))) == ["After", "Before"]

    monkeypatch.setattr(mail_in, "_handle", handle)
    mail_in.process_pending(now=utcnow())
    assert sorted(_db.session.scalars(select(Ticket.title))) == ["After", "Before", "Refused"]


def test_a_batch_reads_its_mailbox_and_its_senders_once(desk, monkeypatch):
    senders = ["ada@acme.example", desk["agent"].email, "ada@acme.example"]
    messages = [mail(sender, f"Question {n}", "Details.") for n, sender in enumerate(senders * 4)]
    ids = store_all(desk, *messages)
    _db.session.expire_all()
    statements = []

    def record(conn, cursor, statement, *_):
        statements.append(statement)

    event.listen(_db.engine, "before_cursor_execute", record)
    try:
        mail_in.process_many(ids, now=utcnow())
    finally:
        event.remove(_db.engine, "before_cursor_execute", record)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len([s for s in reads if re.search(r"FROM users\b", s)]) == 1
    assert len([s for s in reads if re.search(r"FROM mailboxes\b", s)]) == 1
    assert len([s for s in statements if s.strip().upper().startswith("COMMIT")]) <= 1
