"""What a message costs through the batch path (`process_many`), in statements: on MariaDB each
is a round trip. A new message asks nothing about replies unless its subject could hold a
ticket number; a reply finds its ticket in one statement; watchers come with their users."""

from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import Comment, OutboxEmail, Ticket
from autotrack.models.types import utcnow
from autotrack.services.mail import intake as mail_in
from autotrack.services.tickets import watchers
from tests import factories
from tests.helpers import MAILBOX_ADDRESS, count, mail, statements


def _distinct(seen):
    """One round trip each: SQLite's ORM inserts a new ticket's SLA steps row by row."""
    return [s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]]


def _processed(desk, message):
    """The statements of processing one stored message through the batch path."""
    raw = message if isinstance(message, bytes) else message.as_bytes()
    [(inbound_id, _)] = mail_in.store_many(desk["mailbox"], [raw], now=utcnow())
    with statements() as seen:
        mail_in.process_many([inbound_id], now=utcnow(), messages={inbound_id: mail_in.parse(raw)})
    return _distinct(seen)


def _show(seen):
    return "\n".join(s[:140] for s in seen)


def _warm(desk):
    first = mail("ada@acme.example", "VPN drops", "Every hour.")
    _processed(desk, first)
    return first


def test_a_new_message_does_not_look_for_a_ticket_number_its_subject_cannot_hold(desk):
    _warm(desk)
    seen = _processed(desk, mail("ada@acme.example", "Printer jams", "Every page."))
    assert count(Ticket) == 2
    assert not [s for s in seen if s.startswith("SELECT organizations.ticket_prefix")], _show(seen)
    assert not [s for s in seen if "ticket_id IS NOT NULL" in s], _show(seen)  # no In-Reply-To: nothing to thread
    assert len(seen) <= 15, _show(seen)


def test_a_reply_finds_its_ticket_in_one_statement(desk):
    first = _warm(desk)
    seen = _processed(
        desk, mail("ada@acme.example", "Re: VPN drops", "Now every minute.", In_Reply_To=first["Message-ID"])
    )
    assert count(Ticket) == 1 and count(Comment) == 1
    finding = [s for s in seen if "ticket_id IS NOT NULL" in s]
    assert len(finding) == 1 and finding[0].startswith("SELECT tickets."), _show(seen)
    assert len(seen) <= 13, _show(seen)


def test_a_reply_loads_its_watchers_with_their_users(desk, org):
    first = _warm(desk)
    ticket = _db.session.scalar(select(Ticket))
    followers = [
        factories.make_user(org, "agent", department=desk["department"], name=name)
        for name in ("Pat Follower", "Kim Follower")
    ]
    for agent in followers:
        watchers.follow(agent, ticket, now=utcnow())
    _db.session.commit()
    for agent in followers:
        _db.session.expunge(agent)  # not in the session: what a new batch finds
    seen = _processed(desk, mail("ada@acme.example", "Re: VPN drops", "Again.", In_Reply_To=first["Message-ID"]))
    assert count(Comment) == 1 and count(OutboxEmail) == 1 + 2  # the acknowledgement, a mail each
    assert not [s for s in seen if s.startswith("SELECT users.") and "users.id = ?" in s], _show(seen)


def test_a_ticket_number_in_an_encoded_subject_still_finds_the_ticket(desk):
    _warm(desk)
    ticket = _db.session.scalar(select(Ticket))
    raw = (
        f"From: ada@acme.example\r\nTo: {MAILBOX_ADDRESS}\r\nMessage-ID: <encoded.1@mail.example>\r\n"
        f"Subject: =?utf-8?q?Re=3A_=5B{ticket.reference}=5D_VPN_l=C3=A4uft_nicht?=\r\n\r\nStill down.\r\n"
    ).encode()
    _processed(desk, raw)
    assert count(Ticket) == 1 and count(Comment) == 1
    _processed(
        desk,
        raw.replace(b"encoded.1", b"plain.2")
        .replace(b"=?utf-8?q?Re=3A_=5B", b"Re: [")
        .replace(b"=5D_VPN_l=C3=A4uft_nicht?=", b"] VPN"),
    )
    assert count(Ticket) == 1 and count(Comment) == 2
