"""Email delivery through a real local SMTP server (aiosmtpd): once per dedupe key, retried
with backoff while the server is down, never lost."""

import contextlib
from datetime import UTC, datetime, timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import OutboxEmail, OutboxStatus
from autotrack.services import outbox
from tests.helpers import Inbox

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)  # a fixed clock: services never read the wall clock


@contextlib.contextmanager
def serving(handler, port, **options):
    """A real aiosmtpd server answering with `handler` on `port` for the block's duration."""
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


def queue(n=1, prefix="test"):
    for i in range(n):
        outbox.queue_email(
            recipient=f"user{i}@acme.example",
            subject=f"Hello {i}",
            body_text=f"Body {i}",
            body_html=f"<p>Body {i}</p>",
            dedupe_key=f"{prefix}:{i}",
            now=NOW,
        )
    _db.session.commit()


def rows():
    _db.session.expire_all()
    return _db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def test_queueing_the_same_key_twice_keeps_one_email(db):
    assert outbox.queue_email(recipient="a@x.example", subject="s", body_text="b", dedupe_key="k", now=NOW) is True
    assert outbox.queue_email(recipient="a@x.example", subject="s", body_text="b", dedupe_key="k", now=NOW) is False
    _db.session.commit()
    assert len(rows()) == 1


def test_queue_many_writes_pending_rows_and_skips_keys_queued_before(db):
    """The sweep's bulk variant: same row as queue_email (status, message id, due time), one
    INSERT, duplicates of any earlier key skipped and not counted."""
    assert outbox.queue_email(recipient="a@x.example", subject="s", template="sla", context={}, dedupe_key="k", now=NOW)
    later = NOW + timedelta(hours=3)
    emails = [
        {
            "org_id": None,
            "recipient": f"{key}@x.example",
            "subject": "s" * 300,
            "template": "sla",
            "context": {"n": 1},
            "dedupe_key": key,
            "ticket_id": None,
            **extra,
        }
        for key, extra in (("k", {}), ("new", {}), ("quiet", {"send_at": later}))
    ]
    assert outbox.queue_many(emails, now=NOW) == 2
    assert outbox.queue_many([], now=NOW) == 0
    _db.session.commit()
    stored = {row.dedupe_key: row for row in rows()}
    assert set(stored) == {"k", "new", "quiet"} and stored["k"].recipient == "a@x.example"
    assert {row.status for row in stored.values()} == {OutboxStatus.PENDING}
    assert stored["new"].message_id == outbox.message_id("new") and len(stored["new"].subject) == 255
    assert stored["new"].next_attempt_at == NOW and stored["quiet"].next_attempt_at == later
    assert stored["quiet"].created_at == NOW and stored["quiet"].context == '{"n": 1}'


def test_due_emails_are_delivered_once_with_a_stable_message_id(db, smtp_server):
    queue(3)
    result = outbox.deliver_all_due(NOW)
    assert (result.sent, result.retrying, result.failed) == (3, 0, 0)
    assert sorted(rcpt[0] for rcpt, _ in smtp_server.messages) == [f"user{i}@acme.example" for i in range(3)]
    _, message = smtp_server.messages[0]
    assert message["Message-ID"] == outbox.message_id("test:0")
    assert message.is_multipart()  # plain text and HTML
    assert all(r.status == "sent" and r.sent_at is not None and r.attempts == 1 for r in rows())
    assert outbox.deliver_all_due(NOW).sent == 0
    assert len(smtp_server.messages) == 3


def test_smtp_down_then_up_delivers_everything_exactly_once(app, db, smtp_port):
    queue(4)
    now = NOW
    result = outbox.deliver_due(now)
    assert (result.sent, result.retrying) == (0, 4)
    assert all(r.status == "pending" and r.attempts == 1 and "Connection" in r.last_error for r in rows())
    assert all(r.next_attempt_at >= now + timedelta(minutes=1) - timedelta(seconds=1) for r in rows())
    assert outbox.deliver_due(now + timedelta(seconds=30)).retrying == 0  # not due again yet

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        result = outbox.deliver_all_due(now + timedelta(minutes=2))
        again = outbox.deliver_all_due(now + timedelta(minutes=3))
    finally:
        controller.stop()
    assert (result.sent, again.sent) == (4, 0)
    ids = [message["Message-ID"] for _, message in inbox.messages]
    assert sorted(ids) == sorted(outbox.message_id(f"test:{i}") for i in range(4))
    assert all(r.status == "sent" and r.attempts == 2 and r.last_error is None for r in rows())


def test_backoff_doubles_up_to_its_cap_and_an_outage_never_loses_mail(db, smtp_port):
    """Server down: 1, 2, 4 … minutes between tries, never more than an hour, and the email stays
    pending through a long outage; only past the give-up age (3 days) is it marked failed."""
    queue(1)
    now = NOW
    waits = []
    for _ in range(10):
        outbox.deliver_due(now)
        row = rows()[0]
        waits.append(round((row.next_attempt_at - now).total_seconds() / 60))
        now = row.next_attempt_at
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    row = rows()[0]
    assert row.status == "pending" and row.attempts == 10 and "Connection" in row.last_error

    assert outbox.deliver_due(row.created_at + timedelta(days=3, seconds=1)).failed == 1
    row = rows()[0]
    assert row.status == "failed" and row.attempts == 11
    assert outbox.deliver_due(now + timedelta(days=10)).retrying == 0  # failed rows wait for a person

    outbox.retry(row.org_id, row.id, now)
    _db.session.commit()
    row = rows()[0]
    assert row.status == "pending" and row.attempts == 0


def test_the_backoff_is_configurable(app, db, smtp_port, monkeypatch):
    monkeypatch.setitem(app.config, "AUTOTRACK_OUTBOX_BACKOFF_SECONDS", 2)
    monkeypatch.setitem(app.config, "AUTOTRACK_OUTBOX_BACKOFF_CAP_SECONDS", 5)
    assert [outbox.backoff(n).total_seconds() for n in range(1, 6)] == [2, 4, 5, 5, 5]


def test_one_connection_attempt_per_run_while_the_server_is_down(db, smtp_port):
    """A run that finds the server down stops there: 250 due emails are not 3 connection attempts."""
    queue(250)
    result = outbox.deliver_all_due(NOW, limit=100)
    assert (result.sent, result.retrying, result.server_trouble) == (0, 100, True)
    assert sum(1 for r in rows() if r.attempts == 1) == 100
    assert all(r.status == "pending" for r in rows())


def test_a_leased_email_is_not_sent_by_a_second_deliverer(db, smtp_server):
    queue(2)
    now = NOW
    ids, lease = outbox._claim(now, 10)  # deliverer A leases the rows and then stalls
    assert len(ids) == 2
    assert outbox.deliver_due(now).sent == 0  # deliverer B finds nothing to do
    later = now + outbox.LEASE + timedelta(seconds=1)  # A's lease ran out: its rows come back
    assert outbox.deliver_due(later).sent == 2
    assert len(smtp_server.messages) == 2


def test_without_a_mail_server_the_log_gets_one_line_per_email_and_no_body(app, db, runner, caplog):
    """The embedded mode (no MAIL_SERVER), through the real `flask outbox flush`: each email is
    one log line naming its recipient and subject; the bodies stay in the outbox (console)."""
    assert not app.config.get("MAIL_SERVER")
    outbox.queue_email(
        recipient="ada@acme.example",
        subject="Laptop\r\nwill not boot",
        dedupe_key="multi",
        body_text="Line one of the body\nLine two\nLine three\n",
        body_html="<p>HTML body</p>",
        now=NOW,
    )
    queue(2)
    with caplog.at_level("INFO", logger="autotrack.services.outbox"):
        result = runner.invoke(args=["outbox", "flush"])
    assert result.exit_code == 0 and "sent 3" in result.output
    lines = [record.getMessage() for record in caplog.records if record.name == "autotrack.services.outbox"]
    assert sorted(lines) == [
        "EMAIL to ada@acme.example | Laptop will not boot",
        "EMAIL to user0@acme.example | Hello 0",
        "EMAIL to user1@acme.example | Hello 1",
    ]
    assert "Line one" not in caplog.text and "Body 0" not in caplog.text and "HTML body" not in caplog.text
    assert all(r.status == "sent" for r in rows()) and "Line two" in rows()[0].body_text


class Picky(Inbox):
    """Answers RCPT for user0 with `code`, accepts everyone else."""

    def __init__(self, code):
        super().__init__()
        self.code = code

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.code and address.startswith("user0@"):
            return f"{self.code} mailbox says {self.code}"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_550_recipient_fails_at_once_and_does_not_block_the_others(app, db, smtp_port):
    with serving(Picky(550), smtp_port) as inbox:
        queue(3)
        result = outbox.deliver_all_due(NOW)
    assert (result.sent, result.retrying, result.failed) == (2, 0, 1)
    refused = next(r for r in rows() if r.recipient == "user0@acme.example")
    assert refused.status == "failed" and refused.attempts == 1 and "550" in refused.last_error
    assert sorted(rcpt[0] for rcpt, _ in inbox.messages) == ["user1@acme.example", "user2@acme.example"]


def test_a_451_recipient_is_tried_again_later(app, db, smtp_port):
    with serving(Picky(451), smtp_port) as inbox:
        queue(2)
        now = NOW
        result = outbox.deliver_all_due(now)
        inbox.code = None  # the mailbox is back
        later = outbox.deliver_all_due(now + timedelta(minutes=1, seconds=1))
    assert (result.sent, result.retrying, result.failed) == (1, 1, 0)
    assert later.sent == 1
    assert all(r.status == "sent" for r in rows()) and len(inbox.messages) == 2


def test_a_server_answering_421_keeps_every_email_for_later(app, db, smtp_port):
    class Closing(Inbox):
        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            return "421 4.3.2 closing, try later"

    with serving(Closing(), smtp_port):
        queue(3)
        result = outbox.deliver_all_due(NOW)
    assert (result.sent, result.retrying, result.failed) == (0, 3, 0)
    assert all(r.status == "pending" and "421" in r.last_error for r in rows())


def test_the_mail_password_never_reaches_the_stored_error(app, db, smtp_port, monkeypatch):
    """A server that rejects the login: the error kept for the console names no credentials."""
    from aiosmtpd.smtp import AuthResult

    secret = "s3cret-mail-passw0rd"
    monkeypatch.setattr(app.extensions["mail"], "username", "autotrack")
    monkeypatch.setattr(app.extensions["mail"], "password", secret)
    with serving(
        Inbox(), smtp_port, auth_require_tls=False, authenticator=lambda *args: AuthResult(success=False, handled=False)
    ):
        queue(1)
        result = outbox.deliver_all_due(NOW)
    row = rows()[0]
    assert result.retrying == 1 and row.status == "pending" and "535" in row.last_error
    assert secret not in row.last_error


def test_flush_command_delivers_and_reports(runner, smtp_server):
    queue(2)
    result = runner.invoke(args=["outbox", "flush"])
    assert result.exit_code == 0 and "sent 2" in result.output
    assert len(smtp_server.messages) == 2


def test_the_lease_on_claimed_rows_is_configurable(app, db, monkeypatch):
    """A worker killed mid-batch leaves its claimed rows to the others once the lease is over
    (drills/run.py kill9 runs with a 15 s lease)."""
    monkeypatch.setitem(app.config, "AUTOTRACK_OUTBOX_LEASE_SECONDS", 15)
    queue(2)
    now = NOW
    ids, lease = outbox._claim(now, limit=10)
    assert len(ids) == 2 and lease == now + timedelta(seconds=15)
    assert outbox._claim(now + timedelta(seconds=14), limit=10)[0] == []  # still held
    assert sorted(outbox._claim(now + timedelta(seconds=16), limit=10)[0]) == sorted(ids)  # free again


def test_a_body_with_very_long_lines_is_delivered_intact(db, smtp_server):
    """aiosmtpd, like other standards-keeping servers, refuses lines over 998 characters: bodies
    go out quoted-printable, so a long paragraph (or a rendered HTML template) still arrives."""
    paragraph = "Ünïcode and a very long paragraph without a break. " * 200  # ~10,000 characters
    outbox.queue_email(
        recipient="a@acme.example",
        subject="Long",
        body_text=paragraph,
        body_html=f"<p>{paragraph}</p>",
        dedupe_key="long",
        now=NOW,
    )
    _db.session.commit()
    assert outbox.deliver_all_due(NOW).sent == 1
    _, message = smtp_server.messages[0]
    text, html = (part.get_payload(decode=True).decode() for part in message.walk() if not part.is_multipart())
    assert text == paragraph and html == f"<p>{paragraph}</p>"
    assert rows()[0].status == "sent"
