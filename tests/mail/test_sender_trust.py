"""Who sent it: a From header is a claim. Mail from a staff address acts as that person only when
our own receiving server (a trusted authserv-id) says the sender passed DMARC (or aligned DKIM or
SPF); an employee's mail is taken unless that check failed. Everything else is held for the org
admin, who releases it as the sender or discards it. Against a real Dovecot."""

import base64

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import Comment, InboundMessage, InboundStatus, Mailbox, OutboxEmail, Ticket, utcnow
from autotrack.services.errors import ValidationError
from autotrack.services.mail import intake as mail_in
from autotrack.services.mail import mailboxes
from autotrack.services.tickets import watchers
from tests import factories
from tests.conftest import csrf_token, login
from tests.helpers import MAILBOX_ADDRESS, RECEIVING_SERVER, count, deliver, mail

FAILED = (
    f"{RECEIVING_SERVER}; spf=fail smtp.mailfrom=attacker@evil.test; dkim=none; "
    "dmarc=fail (p=none dis=none) header.from=acme.example"
)
DMARC_PASS = f"{RECEIVING_SERVER} 1; spf=pass smtp.mailfrom=acme.example; dmarc=pass header.from=acme.example"


def raw_mail(from_header, subject, body, *extra_headers):
    """A message exactly as written (headers are not re-encoded on the way)."""
    lines = [
        f"From: {from_header}",
        f"To: {MAILBOX_ADDRESS}",
        f"Subject: {subject}",
        f"Message-ID: <{base64.b32encode(subject.encode() + from_header.encode()).decode()[:40]}@mail.example>",
        *extra_headers,
        "Content-Type: text/plain; charset=utf-8",
        "",
        body,
        "",
    ]
    return "\r\n".join(lines).encode()


@pytest.fixture
def watched(desk):
    """A ticket of the IT desk that a colleague follows (so a public comment would mail them)."""
    ticket = factories.make_ticket(desk["employee"], title="VPN", routed_to=desk["department"])
    colleague = factories.make_user(desk["org"], "agent", department=desk["department"], name="Kim Follower")
    watchers.follow(colleague, ticket, now=utcnow())
    _db.session.commit()
    return ticket


def inbound():
    _db.session.expire_all()
    return _db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()


def nothing_happened_on(ticket):
    assert count(Comment, Comment.ticket_id == ticket.id) == 0
    assert count(OutboxEmail, OutboxEmail.ticket_id == ticket.id) == 0  # no mail to the requester or watchers


def test_a_display_name_decoding_to_a_staff_address_is_not_that_staff_member(desk, imap, watched):
    encoded = base64.b64encode(desk["agent"].email.encode()).decode()
    deliver(
        imap,
        raw_mail(
            f"=?utf-8?b?{encoded}?= <attacker@evil.test>",
            f"Re: [{watched.reference}] x",
            "Your password expired, log in at http://evil.test/ to keep it.",
        ),
    )
    mailboxes.fetch_all(now=utcnow())
    [row] = inbound()
    assert row.sender == "attacker@evil.test"  # the address, never the decoded display name
    assert row.status == InboundStatus.REJECTED and "attacker@evil.test is not a user" in row.error
    assert count(Comment, Comment.ticket_id == watched.id) == 0
    outgoing = _db.session.scalars(select(OutboxEmail)).all()
    assert [m.recipient for m in outgoing] == ["attacker@evil.test"]  # only the polite "unknown sender" answer


@pytest.mark.parametrize(
    "from_header",
    [
        '"{agent}" <attacker@evil.test>',  # a quoted display name
        "{agent} <attacker@evil.test>",  # an unquoted one: two addresses, no single sender
    ],
)
def test_a_staff_address_in_the_display_name_never_acts_as_staff(desk, imap, watched, from_header):
    deliver(
        imap,
        raw_mail(
            from_header.format(agent=desk["agent"].email),
            f"Re: [{watched.reference}] x",
            "Hi",
            f"Authentication-Results: {DMARC_PASS}",
        ),
    )
    mailboxes.fetch_all(now=utcnow())
    [row] = inbound()
    assert row.sender in ("attacker@evil.test", None) and row.status in (InboundStatus.REJECTED, InboundStatus.FAILED)
    assert count(Comment, Comment.ticket_id == watched.id) == 0


def test_a_forged_staff_from_that_fails_the_check_is_held_and_shown_to_the_admin(client, desk, imap, watched):
    deliver(
        imap,
        raw_mail(
            desk["agent"].email,
            f"Re: [{watched.reference}] VPN",
            "Closing this, all fine.",
            f"Authentication-Results: {FAILED}",
        ),
    )
    mailboxes.fetch_all(now=utcnow())
    [row] = inbound()
    assert row.status == InboundStatus.HELD and "DMARC failed" in row.error
    nothing_happened_on(watched)
    login(client, factories.admin_of(desk["org"]))
    received = client.get("/admin/inbound/").get_data(as_text=True)
    assert "held" in received and "DMARC failed" in received
    held = client.get("/admin/held_mail/").get_data(as_text=True)
    assert "Closing this" not in held and f"Re: [{watched.reference}] VPN" in held and "DMARC failed" in held
    assert "Closing this, all fine." in client.get(f"/admin/held_mail/details/?id={row.id}").get_data(as_text=True)

    response = client.post(
        "/admin/held_mail/action/",
        data={"action": "discard", "rowid": [str(row.id)], "csrf_token": csrf_token(client, "/portal/")},
    )
    assert response.status_code == 302
    [row] = inbound()
    assert row.status == InboundStatus.DISCARDED
    nothing_happened_on(watched)
    assert "Closing this" not in client.get("/admin/held_mail/").get_data(as_text=True)
    with pytest.raises(ValidationError):
        mail_in.release(desk["org"].id, row.id, factories.admin_of(desk["org"]), now=utcnow())  # discarded for good


def test_a_staff_address_without_any_check_result_is_held(desk, imap, watched):
    deliver(imap, mail(desk["agent"].email, f"Re: [{watched.reference}] VPN", "Try reconnecting."))
    mailboxes.fetch_all(now=utcnow())
    [row] = inbound()
    assert row.status == InboundStatus.HELD and f"no Authentication-Results from {RECEIVING_SERVER}" in row.error
    nothing_happened_on(watched)


def test_results_from_an_untrusted_server_are_ignored(desk, imap, watched):
    """Anyone can write an Authentication-Results header: only the mailbox's servers count."""
    forged = "mx.evil.test; spf=pass smtp.mailfrom=acme.example; dkim=pass header.d=acme.example; dmarc=pass"
    deliver(imap, mail(desk["agent"].email, f"Re: [{watched.reference}] VPN", "Done.", Authentication_Results=forged))
    mailboxes.fetch_all(now=utcnow())
    [row] = inbound()
    assert row.status == InboundStatus.HELD
    nothing_happened_on(watched)


def test_a_mailbox_that_trusts_no_server_holds_all_staff_mail(desk, imap, watched):
    desk["mailbox"].trusted_authserv_ids = None
    _db.session.commit()
    deliver(
        imap, mail(desk["agent"].email, f"Re: [{watched.reference}] VPN", "Done.", Authentication_Results=DMARC_PASS)
    )
    mailboxes.fetch_all(now=utcnow())
    [row] = inbound()
    assert row.status == InboundStatus.HELD and "trusts no receiving server" in row.error


@pytest.mark.parametrize(
    "results",
    [
        DMARC_PASS,
        f"{RECEIVING_SERVER}; dkim=pass (good signature) header.d=acme.example header.s=2026; spf=softfail",
        f"{RECEIVING_SERVER}; spf=pass smtp.mailfrom=sam@acme.example",
    ],
)
def test_a_verified_staff_reply_from_the_trusted_server_is_their_public_comment(desk, imap, watched, results):
    deliver(
        imap,
        mail(
            f"Sam <{desk['agent'].email}>",
            f"Re: [{watched.reference}] VPN",
            "Try reconnecting.",
            Authentication_Results=results,
        ),
    )
    mailboxes.fetch_all(now=utcnow())
    [row] = inbound()
    assert row.status == InboundStatus.PROCESSED
    comment = _db.session.scalar(select(Comment).where(Comment.ticket_id == watched.id))
    assert comment.author_id == desk["agent"].id and comment.internal is False


@pytest.mark.parametrize(
    "results",
    [
        f"{RECEIVING_SERVER}; dkim=pass header.d=evil.test; spf=pass smtp.mailfrom=bounce@evil.test",  # not aligned
        f"{RECEIVING_SERVER}; dmarc=pass header.from=evil.test",  # about another From
    ],
)
def test_a_pass_for_another_domain_does_not_verify_a_staff_address(desk, imap, watched, results):
    deliver(imap, mail(desk["agent"].email, f"Re: [{watched.reference}] VPN", "Done.", Authentication_Results=results))
    mailboxes.fetch_all(now=utcnow())
    assert inbound()[0].status == InboundStatus.HELD
    nothing_happened_on(watched)


def test_an_employee_is_taken_as_before_unless_the_check_fails(desk, imap):
    deliver(imap, mail("ada@acme.example", "Printer jams", "Again."))  # no results at all: as before
    deliver(imap, mail("ada@acme.example", "Keyboard", "Broken.", Authentication_Results=FAILED))
    mailboxes.fetch_all(now=utcnow())
    first, second = inbound()
    assert first.status == InboundStatus.PROCESSED and second.status == InboundStatus.HELD
    assert "sender check of ada@acme.example failed" in second.error
    assert [t.title for t in _db.session.scalars(select(Ticket))] == ["Printer jams"]


def test_the_org_admin_releases_held_mail_as_its_sender(client, desk, imap, watched):
    deliver(imap, mail(desk["agent"].email, f"Re: [{watched.reference}] VPN", "Try reconnecting."))
    mailboxes.fetch_all(now=utcnow())
    [row] = inbound()
    assert row.status == InboundStatus.HELD
    login(client, factories.admin_of(desk["org"]))
    response = client.post(
        "/admin/held_mail/action/",
        data={"action": "release", "rowid": [str(row.id)], "csrf_token": csrf_token(client, "/portal/")},
    )
    assert response.status_code == 302
    [row] = inbound()
    admin = factories.admin_of(desk["org"])
    assert row.status == InboundStatus.PROCESSED and row.released_by_id == admin.id
    comment = _db.session.scalar(select(Comment).where(Comment.ticket_id == watched.id))
    assert comment.author_id == desk["agent"].id and comment.internal is False


def test_another_organizations_admin_cannot_release_or_discard(desk, imap, watched, other_org):
    deliver(imap, mail(desk["agent"].email, f"Re: [{watched.reference}] VPN", "Try reconnecting."))
    mailboxes.fetch_all(now=utcnow())
    [row] = inbound()
    with pytest.raises(ValidationError):
        mail_in.release(other_org.id, row.id, factories.admin_of(other_org), now=utcnow())
    with pytest.raises(ValidationError):
        mail_in.discard(other_org.id, row.id, now=utcnow())
    _db.session.rollback()
    assert inbound()[0].status == InboundStatus.HELD


def test_the_trusted_servers_are_set_in_the_console_and_checked(client, desk):
    login(client, factories.admin_of(desk["org"]))
    mailbox = desk["mailbox"]
    page = f"/admin/mailbox/edit/?id={mailbox.id}"
    form = {
        "name": "it",
        "address": MAILBOX_ADDRESS,
        "department": str(desk["department"].id),
        "imap_host": mailbox.imap_host,
        "imap_port": str(mailbox.imap_port),
        "security": "none",
        "username": mailbox.username,
        "new_password": "",
        "folder": "INBOX",
        "after_import": "seen",
        "active": "y",
        "csrf_token": csrf_token(client, "/portal/"),
    }
    assert "Trusted mail servers" in client.get(page).get_data(as_text=True)
    refused = client.post(page, data={**form, "trusted_authserv_ids": "mx.acme.example; <script>"})
    assert refused.status_code == 200 and "Host names only" in refused.get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.get(Mailbox, mailbox.id).trusted_authserv_ids == RECEIVING_SERVER
    assert (
        client.post(page, data={**form, "trusted_authserv_ids": "MX1.acme.example, mx2.acme.example"}).status_code
        == 302
    )
    _db.session.expire_all()
    assert _db.session.get(Mailbox, mailbox.id).trusted_servers == {"mx1.acme.example", "mx2.acme.example"}


@pytest.mark.parametrize(
    "top, below, verdict",
    [
        # the receiving server's own verdict on top; a "pass" the sender wrote under it is not believed
        pytest.param(
            f"{RECEIVING_SERVER}; spf=softfail smtp.mailfrom=acme.example; dkim=none; dmarc=none",
            f"{RECEIVING_SERVER}; dkim=pass header.d=acme.example",
            InboundStatus.HELD,
            id="forged-pass-below",
        ),
        # nor is a "fail" the sender wrote under a real pass
        pytest.param(DMARC_PASS, FAILED, InboundStatus.PROCESSED, id="forged-fail-below"),
    ],
)
def test_only_the_topmost_authentication_results_counts(desk, imap, watched, top, below, verdict):
    """The receiving server prepends its header: whatever sits below it came with the mail."""
    deliver(
        imap,
        raw_mail(
            desk["agent"].email,
            f"Re: [{watched.reference}] VPN",
            "Closing this, all fine.",
            f"Authentication-Results: {top}",
            f"Authentication-Results: {below}",
        ),
    )
    mailboxes.fetch_all(now=utcnow())
    [row] = inbound()
    assert row.status == verdict
    if verdict == InboundStatus.HELD:
        assert "nothing passed" in row.error
        nothing_happened_on(watched)
    else:
        comment = _db.session.scalar(select(Comment).where(Comment.ticket_id == watched.id))
        assert comment.author_id == desk["agent"].id and comment.internal is False


def test_a_trusted_header_below_an_untrusted_topmost_one_is_not_believed(desk, imap, watched):
    """The topmost header is the receiving server's own: if it is not one the mailbox trusts,
    no header below it is believed either."""
    deliver(
        imap,
        raw_mail(
            desk["agent"].email,
            f"Re: [{watched.reference}] VPN",
            "Closing this, all fine.",
            "Authentication-Results: mx.other.example; spf=none",
            f"Authentication-Results: {DMARC_PASS}",
        ),
    )
    mailboxes.fetch_all(now=utcnow())
    [row] = inbound()
    assert row.status == InboundStatus.HELD and "mx.other.example" in row.error
    nothing_happened_on(watched)


@pytest.mark.parametrize(
    "results",
    [
        f"{RECEIVING_SERVER}; dkim=pass header.d=co.uk; spf=none",
        f"{RECEIVING_SERVER}; spf=pass smtp.mailfrom=bounce@co.uk",
        f"{RECEIVING_SERVER}; dmarc=pass header.from=co.uk",
    ],
    ids=["dkim-public-suffix", "spf-public-suffix", "dmarc-about-the-suffix"],
)
def test_a_pass_for_a_parent_domain_does_not_verify_a_staff_address(desk, imap, watched, results):
    """Anyone may sign for co.uk-like domains they register under; without DMARC (whose relaxed
    alignment the receiver computes with a public-suffix list), DKIM and SPF count only for the
    From domain itself."""
    agent = factories.make_user(desk["org"], "agent", department=desk["department"], email="kim@acme.co.uk")
    deliver(imap, mail(agent.email, f"Re: [{watched.reference}] VPN", "Done.", Authentication_Results=results))
    mailboxes.fetch_all(now=utcnow())
    [row] = inbound()
    assert row.status == InboundStatus.HELD and "nothing passed for the From domain" in row.error
    nothing_happened_on(watched)


@pytest.mark.parametrize("second_from", ["attacker@evil.test", "{agent}"])
def test_a_message_with_two_from_headers_has_no_single_sender(desk, imap, watched, second_from):
    """RFC 5322 allows exactly one From: with two, neither is taken (as with an unparsable From)."""
    deliver(
        imap,
        raw_mail(
            desk["agent"].email,
            f"Re: [{watched.reference}] VPN",
            "Closing this, all fine.",
            f"From: {second_from.format(agent=desk['agent'].email)}",
            f"Authentication-Results: {DMARC_PASS}",
        ),
    )
    mailboxes.fetch_all(now=utcnow())
    [row] = inbound()
    assert row.status == InboundStatus.FAILED and "no single clear sender" in row.error
    assert row.sender is None
    nothing_happened_on(watched)
    assert count(Ticket) == 1  # only the watched one: no new ticket either
