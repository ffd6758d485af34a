"""Mail in against a real IMAP server (Dovecot) and a real SMTP server (aiosmtpd): tickets and
replies by mail, threading, loops, and exactly-once through re-fetches, crashes and races."""

import threading
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import (
    Attachment,
    Comment,
    DirectoryEntry,
    InboundMessage,
    InboundStatus,
    Lifecycle,
    OutboxEmail,
    Ticket,
)
from autotrack.models.types import utcnow
from autotrack.services import outbox, tickets
from autotrack.services.mail import intake as mail_in
from autotrack.services.mail import mailboxes
from tests import factories
from tests.conftest import login
from tests.helpers import MAILBOX_ADDRESS, RECEIVING_SERVER, count, deliver, mail

VERIFIED = (
    f"{RECEIVING_SERVER}; spf=pass smtp.mailfrom=acme.example; dkim=pass header.d=acme.example; "
    "dmarc=pass header.from=acme.example"
)


def unseen(imap):
    """Unseen messages in the INBOX as the server has them now (a fresh session: a long-lived
    one may not see what another session changed until it synchronizes)."""
    from imap_tools import AND, MailBoxUnencrypted

    with MailBoxUnencrypted(*imap.address).login(*imap.credentials) as fresh:
        return len(fresh.uids(AND(seen=False)))


def only_ticket():
    _db.session.expire_all()
    found = _db.session.scalars(select(Ticket)).all()
    assert len(found) == 1, f"{len(found)} tickets"
    return found[0]


def test_mail_to_reply_by_mail_the_whole_loop(desk, imap, smtp_server, client, login_as):
    """An employee mails the desk and sees the ticket in the portal; the agent's reply reaches
    them by mail, answerable; their answer by mail lands on the ticket without the quote."""
    deliver(
        imap,
        mail("Ada Lovelace <ada@acme.example>", "Laptop will not boot", "It shows a black screen since this morning."),
    )
    assert mailboxes.fetch_all(now=utcnow()) == {"it": 1}
    ticket = only_ticket()
    assert (ticket.title, ticket.requester.email, ticket.department.name, ticket.source) == (
        "Laptop will not boot",
        "ada@acme.example",
        "IT",
        "email",
    )
    assert ticket.description == "It shows a black screen since this morning."
    assert unseen(imap) == 0  # marked seen after import
    assert ticket.reference in login_as(desk["employee"]).get("/portal/").get_data(as_text=True)

    tickets.add_comment(desk["agent"], ticket, "Please hold the power button for 30 seconds.", now=utcnow())
    _db.session.commit()
    outbox.deliver_all_due(utcnow())
    subjects = [m["Subject"] for _, m in smtp_server.messages]
    assert f"[{ticket.reference}] Received: Laptop will not boot" in subjects  # the acknowledgement
    reply = next(m for _, m in smtp_server.messages if m["Subject"] == f"[{ticket.reference}] Re: Laptop will not boot")
    assert "Please hold the power button" in reply.get_payload(decode=True).decode()
    assert f"[{ticket.reference}]" in reply["Subject"]
    assert reply["Reply-To"] == MAILBOX_ADDRESS
    assert reply["Auto-Submitted"] == "auto-generated"
    first_id = _db.session.scalar(select(InboundMessage.message_id))
    assert reply["In-Reply-To"] == first_id and first_id in reply["References"]
    assert (
        _db.session.scalar(select(OutboxEmail.message_id).where(OutboxEmail.dedupe_key.like("reply:%")))
        == reply["Message-ID"]
    )

    answer = mail(
        "ada@acme.example",
        f"Re: {reply['Subject']}",
        "That worked, thank you!\n\nOn Monday, AutoTrack wrote:\n> Please hold the power button for 30 seconds.\n",
        In_Reply_To=reply["Message-ID"],
        References=f"{first_id} {reply['Message-ID']}",
    )
    deliver(imap, answer)
    mailboxes.fetch_all(now=utcnow())
    _db.session.expire_all()
    comment = _db.session.scalars(
        select(Comment).where(Comment.ticket_id == ticket.id).order_by(Comment.id.desc())
    ).first()
    assert comment.author.email == "ada@acme.example" and comment.body == "That worked, thank you!"
    assert "Please hold the power button" in comment.email_text  # the whole mail, for staff
    assert count(Ticket) == 1


def test_a_reply_finds_its_ticket_by_the_number_in_its_subject(desk, imap):
    ticket = factories.make_ticket(desk["employee"], title="Printer jams")
    deliver(imap, mail("ada@acme.example", f"About [{ticket.reference}] again", "Still jamming."))
    mailboxes.fetch_all(now=utcnow())
    assert count(Ticket) == 1
    assert count(Comment, Comment.ticket_id == ticket.id, Comment.body == "Still jamming.") == 1


def test_the_requesters_reply_reopens_a_resolved_ticket_and_resumes_a_pending_one(desk, imap):
    support_agent = factories.make_user(desk["org"], "agent")  # tickets raised on the web land in Support
    resolved = factories.make_ticket_in(Lifecycle.RESOLVED, desk["employee"], support_agent)
    pending = factories.make_ticket_in(Lifecycle.PENDING, desk["employee"], support_agent)
    for ticket in (resolved, pending):
        deliver(imap, mail("ada@acme.example", f"Re: [{ticket.reference}] {ticket.title}", "It is broken again."))
    mailboxes.fetch_all(now=utcnow())
    _db.session.expire_all()
    assert _db.session.get(Ticket, resolved.id).state == Lifecycle.OPEN
    resumed = _db.session.get(Ticket, pending.id)
    assert resumed.state == Lifecycle.OPEN and resumed.paused_at is None  # its SLA clocks run again


def test_an_agents_reply_by_mail_is_a_public_comment_and_the_first_response(desk, imap):
    ticket = factories.make_ticket(desk["employee"], title="VPN", routed_to=desk["department"])
    assert ticket.first_response_at is None
    deliver(
        imap,
        mail(
            f"Sam <{desk['agent'].email}>",
            f"Re: [{ticket.reference}] VPN",
            "Try reconnecting.",
            Authentication_Results=VERIFIED,
        ),
    )  # staff mail acts as staff only when verified
    mailboxes.fetch_all(now=utcnow())
    _db.session.expire_all()
    comment = _db.session.scalar(select(Comment).where(Comment.ticket_id == ticket.id))
    assert comment.author_id == desk["agent"].id and comment.internal is False
    assert _db.session.get(Ticket, ticket.id).first_response_at is not None


def test_an_unknown_sender_gets_one_polite_answer_and_nothing_else(desk, imap):
    for n in range(2):
        deliver(imap, mail("stranger@elsewhere.example", f"Buy now {n}", "Hello"))
    mailboxes.fetch_all(now=utcnow())
    assert count(Ticket) == 0
    assert count(InboundMessage, InboundMessage.status == InboundStatus.REJECTED) == 2
    answers = _db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.recipient == "stranger@elsewhere.example")
    ).all()
    assert len(answers) == 1 and "not turned into a ticket" in answers[0].body_text


def test_a_directory_entry_without_an_account_may_mail_in(desk, imap):
    _db.session.add(
        DirectoryEntry(
            org_id=desk["org"].id,
            employee_id="E-9",
            first_name="Grace",
            last_name="Hopper",
            email="grace@acme.example",
            department_id=desk["department"].id,
        )
    )
    _db.session.commit()
    deliver(imap, mail("grace@acme.example", "Monitor flickers", "Since Monday."))
    mailboxes.fetch_all(now=utcnow())
    assert only_ticket().requester.name == "Grace Hopper"


@pytest.mark.parametrize(
    "header, value",
    [
        ("Auto-Submitted", "auto-replied"),
        ("Precedence", "bulk"),
        ("X-Autoreply", "yes"),
        ("List-Id", "<announce.acme.example>"),
    ],
)
def test_automatic_mail_never_makes_a_ticket_or_an_answer(desk, imap, header, value):
    deliver(imap, mail("ada@acme.example", "Out of office", "I am away until Monday.", **{header: value}))
    deliver(imap, mail("mailer-daemon@acme.example", "Undeliverable", "Your message could not be delivered."))
    mailboxes.fetch_all(now=utcnow())
    assert count(Ticket) == 0
    assert count(InboundMessage, InboundMessage.status == InboundStatus.IGNORED) == 2
    assert count(OutboxEmail) == 0


def test_the_same_message_fetched_twice_makes_one_ticket(desk, imap):
    message = mail("ada@acme.example", "Keyboard missing keys", "The E key is gone.")
    deliver(imap, message)
    deliver(imap, message)  # the same Message-ID twice (a re-delivery)
    mailboxes.fetch_all(now=utcnow())
    assert count(Ticket) == 1 and count(InboundMessage) == 1
    assert unseen(imap) == 0


def test_a_crash_after_import_but_before_marking_seen_still_makes_one_ticket(desk, imap):
    message = mail("ada@acme.example", "Mouse is dead", "No light at all.")
    deliver(imap, message)
    mail_in.ingest(desk["mailbox"], message.as_bytes(), now=utcnow())  # imported, then the fetcher "crashed"
    assert unseen(imap) == 1
    mailboxes.fetch_all(now=utcnow())  # the next run fetches it again
    assert count(Ticket) == 1 and unseen(imap) == 0


def test_a_message_stored_but_not_processed_is_processed_by_the_next_run(desk, imap):
    inbound_id, new = mail_in.store(
        desk["mailbox"], mail("ada@acme.example", "Screen", "Cracked.").as_bytes(), now=utcnow()
    )
    assert new and _db.session.get(InboundMessage, inbound_id).status == InboundStatus.RECEIVED
    mailboxes.fetch_all(now=utcnow())
    assert only_ticket().title == "Screen"


def test_two_fetchers_at_once_never_duplicate(app, desk, imap):
    for n in range(5):
        deliver(imap, mail("ada@acme.example", f"Problem {n}", f"Details {n}"))
    errors = []

    def fetch():
        with app.app_context():
            try:
                mailboxes.fetch_all(now=utcnow())
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    mailboxes.fetch_all(now=utcnow())  # whatever a lost race left unseen
    assert not errors
    assert count(Ticket) == 5 and count(InboundMessage) == 5
    assert sorted(t.title for t in _db.session.scalars(select(Ticket))) == [f"Problem {n}" for n in range(5)]


def test_a_malformed_message_is_kept_with_its_error_and_can_be_processed_again(desk, imap):
    deliver(imap, b"Subject: no sender at all\r\n\r\nwho am I?\r\n")
    mailboxes.fetch_all(now=utcnow())
    row = _db.session.scalar(select(InboundMessage))
    assert row.status == InboundStatus.FAILED and "no sender" in row.error
    assert b"who am I?" in row.raw
    assert mail_in.reprocess(desk["org"].id, row.id, now=utcnow()) == InboundStatus.FAILED
    _db.session.expire_all()
    assert _db.session.get(InboundMessage, row.id).attempts == 2


def test_attachments_and_inline_images_are_stored_through_the_attachment_service(desk, imap):
    message = mail("ada@acme.example", "Error dialog", "See the screenshot and the log.")
    message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="report.pdf")
    message.add_attachment(
        b"\x89PNG\r\n\x1a\n" + b"0" * 40, maintype="image", subtype="png", disposition="inline", filename=None
    )
    message.add_attachment(b"MZ...", maintype="application", subtype="octet-stream", filename="virus.exe")
    deliver(imap, message)
    mailboxes.fetch_all(now=utcnow())
    ticket = only_ticket()
    names = sorted(a.filename for a in _db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)))
    assert names[0] == "inline-3.png" or names[0].endswith(".png")
    assert "report.pdf" in names and "virus.exe" not in names
    assert "virus.exe" in _db.session.scalar(select(InboundMessage.error))  # refused, and said so


def test_latin1_multipart_and_an_emoji_subject(desk, imap):
    latin = (
        b"From: ada@acme.example\r\nTo: helpdesk@acme.example\r\nSubject: =?iso-8859-1?q?Caf=E9_machine?=\r\n"
        b"Message-ID: <latin@mail.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/alternative; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"La machine =E0 caf=E9 est cass=E9e.\r\n"
        b"--XX\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n<p>La machine \xe0 caf\xe9</p>\r\n--XX--\r\n"
    )
    deliver(imap, latin)
    deliver(imap, mail("ada@acme.example", "Printer 🔥 on fire", "Smoke everywhere 🚒"))
    mailboxes.fetch_all(now=utcnow())
    titles = {t.title: t.description for t in _db.session.scalars(select(Ticket))}
    assert titles["Café machine"] == "La machine à café est cassée."
    assert titles["Printer 🔥 on fire"] == "Smoke everywhere 🚒"


def test_an_html_only_mail_becomes_text_never_markup(desk, imap):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "ada@acme.example", MAILBOX_ADDRESS, "HTML"
    message.set_content("<p>Hello <b>team</b></p><script>alert(1)</script><p>Line two</p>", subtype="html")
    deliver(imap, message)
    mailboxes.fetch_all(now=utcnow())
    assert only_ticket().description == "Hello\nteam\nLine two"


def test_another_organizations_ticket_is_never_joined(desk, imap, other_org):
    theirs = factories.make_ticket(factories.make_user(other_org, email="ada@globex.example"), title="Globex")
    deliver(
        imap,
        mail(
            "ada@acme.example",
            f"Re: [{theirs.reference}] Globex",
            "Hi",
            In_Reply_To=f"<ticket.{theirs.id}.{other_org.id}@autotrack>",
        ),
    )
    mailboxes.fetch_all(now=utcnow())
    assert count(Comment, Comment.ticket_id == theirs.id) == 0
    assert count(Ticket, Ticket.org_id == desk["org"].id) == 1  # a new ticket of its own instead


def test_the_pipe_command_ingests_a_message_once(desk, runner, tmp_path):
    path = tmp_path / "message.eml"
    path.write_bytes(mail("ada@acme.example", "Piped in", "From the MTA.").as_bytes())
    for _ in range(2):
        result = runner.invoke(args=["autotrack", "mail", "ingest", "--mailbox", "it", str(path)])
        assert result.exit_code == 0, result.output
    assert "processed" in result.output
    assert only_ticket().title == "Piped in"


def test_the_pipe_command_names_an_unknown_mailbox(desk, runner, tmp_path):
    path = tmp_path / "message.eml"
    path.write_bytes(b"From: ada@acme.example\r\n\r\nhi\r\n")
    result = runner.invoke(args=["autotrack", "mail", "ingest", "--mailbox", "nope", str(path)])
    assert result.exit_code != 0 and "No mailbox named 'nope'" in result.output


def test_agents_can_open_the_whole_email_of_a_reply_and_requesters_see_only_the_reply(app, desk, imap, login_as):
    ticket = factories.make_ticket(desk["employee"], title="Wifi", routed_to=desk["department"])
    deliver(
        imap,
        mail(
            "ada@acme.example",
            f"Re: [{ticket.reference}] Wifi",
            "Works now.\n\nOn Monday, Sam wrote:\n> Restart the router, please.\n",
        ),
    )
    mailboxes.fetch_all(now=utcnow())
    agent_page = login_as(desk["agent"]).get(f"/agent/tickets/{ticket.reference}").get_data(as_text=True)
    assert "Works now." in agent_page and "The whole email" in agent_page and "Restart the router" in agent_page
    requester = app.test_client()
    login(requester, desk["employee"])
    portal_page = requester.get(f"/portal/tickets/{ticket.reference}").get_data(as_text=True)
    assert "Works now." in portal_page and "Restart the router" not in portal_page


def test_imported_mail_can_be_moved_to_another_folder(desk, imap):
    desk["mailbox"].after_import, desk["mailbox"].move_folder = "move", "Processed"
    _db.session.commit()
    deliver(imap, mail("ada@acme.example", "Move me", "Please."))
    mailboxes.fetch_all(now=utcnow())
    assert only_ticket().title == "Move me"
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted(*imap.address).login(*imap.credentials) as fresh:
        assert fresh.uids() == []
        fresh.folder.set("Processed")
        assert len(fresh.uids()) == 1


@pytest.mark.parametrize(
    "limit, value, files",
    [
        ("AUTOTRACK_ATTACHMENTS_PER_REQUEST", 2, [b"%PDF-1.4 small"] * 3),  # more files than one request may carry
        ("AUTOTRACK_ATTACHMENTS_REQUEST_MAX_MB", 1, [b"%PDF-1.4 " + b"0" * 600_000] * 2),  # more bytes
    ],
    ids=["count", "size"],
)
def test_a_message_over_the_per_request_file_caps_keeps_its_text_and_drops_every_file(
    app, desk, imap, monkeypatch, tmp_path, login_as, limit, value, files
):
    """A mail is one request: over its caps, the ticket is still made from the text, no file is
    kept (not the first few either), and staff are told in the ticket's history and the console."""
    monkeypatch.setitem(app.config, "AUTOTRACK_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, limit, value)
    message = mail("ada@acme.example", "Scanned invoices", "The scans are attached.")
    for number, data in enumerate(files, start=1):
        message.add_attachment(data, maintype="application", subtype="pdf", filename=f"scan-{number}.pdf")
    deliver(imap, message)
    mailboxes.fetch_all(now=utcnow())
    ticket = only_ticket()
    assert ticket.description == "The scans are attached."
    assert count(Attachment) == 0
    row = _db.session.scalar(select(InboundMessage))
    assert row.status == InboundStatus.PROCESSED
    assert f"{len(files)} attached files not kept" in row.error and "scan-1.pdf" in row.error
    page = login_as(desk["agent"]).get(f"/agent/tickets/{ticket.reference}").get_data(as_text=True)
    assert "attachments not kept" in page and "scan-2.pdf" in page
