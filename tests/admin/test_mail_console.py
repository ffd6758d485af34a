"""The console's email pages: mailboxes (write-only password, connection test against a real
IMAP server) and the log of received mail with "process again"."""

from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import InboundMessage, InboundStatus, Mailbox, utcnow
from autotrack.services import crypto
from autotrack.services.mail import intake as mail_in
from tests import factories
from tests.conftest import csrf_token, login


def post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/portal/")})


def mailbox_form(dovecot, department_id, password):
    return {
        "name": "it",
        "address": "it@acme.example",
        "department": str(department_id),
        "imap_host": dovecot["host"],
        "imap_port": str(dovecot["port"]),
        "security": "none",
        "username": dovecot["user"],
        "new_password": password,
        "folder": "INBOX",
        "after_import": "seen",
        "active": "y",
    }


def test_a_mailbox_password_is_stored_encrypted_and_never_shown(client, org, dovecot):
    login(client, factories.admin_of(org))
    support = factories.default_department(org)
    assert (
        post(client, "/admin/mailbox/new/", mailbox_form(dovecot, support.id, dovecot["password"])).status_code == 302
    )
    mailbox = _db.session.scalar(select(Mailbox))
    assert mailbox.org_id == org.id
    assert dovecot["password"] not in mailbox.password_encrypted
    assert crypto.decrypt(mailbox.password_encrypted) == dovecot["password"]
    for page in (
        f"/admin/mailbox/details/?id={mailbox.id}",
        f"/admin/mailbox/edit/?id={mailbox.id}",
        "/admin/mailbox/",
        "/admin/mailbox/export/csv/",
    ):
        text = client.get(page).get_data(as_text=True)
        assert dovecot["password"] not in text and mailbox.password_encrypted not in text, page
    # Saving with the password left empty keeps it.
    form = mailbox_form(dovecot, support.id, "")
    form["folder"] = "INBOX"
    assert post(client, f"/admin/mailbox/edit/?id={mailbox.id}", form).status_code == 302
    _db.session.expire_all()
    assert crypto.decrypt(_db.session.get(Mailbox, mailbox.id).password_encrypted) == dovecot["password"]


def test_test_connection_reports_what_the_server_answered(client, org, dovecot):
    login(client, factories.admin_of(org))
    support = factories.default_department(org)
    post(client, "/admin/mailbox/new/", mailbox_form(dovecot, support.id, dovecot["password"]))
    good = _db.session.scalar(select(Mailbox.id))
    form = mailbox_form(dovecot, support.id, "wrong password")
    form["name"] = "facilities"
    post(client, "/admin/mailbox/new/", form)
    bad = _db.session.scalar(select(Mailbox.id).where(Mailbox.name == "facilities"))
    response = post(client, "/admin/mailbox/action/", {"action": "test", "rowid": [str(good), str(bad)]})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"it: Connected to {dovecot['host']}:{dovecot['port']} as {dovecot['user']}" in page
    assert "facilities: MailboxLoginError" in page and "Authentication failed" in page


def test_a_failed_message_is_listed_with_its_error_and_can_be_processed_again(client, org, other_org):
    mailbox = Mailbox(
        org_id=org.id, name="it", address="it@acme.example", department_id=factories.default_department(org).id
    )
    _db.session.add(mailbox)
    _db.session.commit()
    inbound_id, status = mail_in.ingest(mailbox, b"Subject: Who sent this?\r\n\r\nNobody.\r\n", now=utcnow())
    assert status == InboundStatus.FAILED
    login(client, factories.admin_of(org))
    page = client.get("/admin/inbound/").get_data(as_text=True)
    assert "Who sent this?" in page and "no sender address" in page
    details = client.get(f"/admin/inbound/details/?id={inbound_id}").get_data(as_text=True)
    assert "Nobody." in details  # the message as received
    response = post(client, "/admin/inbound/action/", {"action": "reprocess", "rowid": [str(inbound_id)]})
    assert response.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(InboundMessage, inbound_id).attempts == 2
