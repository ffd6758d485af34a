"""The mail tests' fixtures: the test mailbox on the real Dovecot (`dovecot`, in tests/conftest.py)
as an IMAP client, and the organization's IT desk reading it."""

import pytest

from autotrack.extensions import db as _db
from autotrack.models import Mailbox, MailSecurity
from autotrack.services.mail import mailboxes
from tests import factories
from tests.helpers import MAILBOX_ADDRESS, RECEIVING_SERVER


@pytest.fixture
def imap(dovecot):
    """An IMAP client on the test mailbox, emptied first: `imap.append(raw)` delivers a message."""
    from imap_tools import MailBoxUnencrypted

    client = MailBoxUnencrypted(dovecot["host"], dovecot["port"]).login(dovecot["user"], dovecot["password"])
    for folder in ("INBOX", "Processed"):
        client.folder.set(folder)
        uids = client.uids()
        if uids:
            client.delete(uids)
    client.folder.set("INBOX")
    client.address, client.credentials = (dovecot["host"], dovecot["port"]), (dovecot["user"], dovecot["password"])
    yield client
    client.logout()


@pytest.fixture
def desk(org, dovecot):
    """The organization's IT mailbox on the test Dovecot, with an employee and an IT agent."""
    it = factories.make_department(org, "IT")
    mailbox = Mailbox(
        org_id=org.id,
        name="it",
        address=MAILBOX_ADDRESS,
        department_id=it.id,
        imap_host=dovecot["host"],
        imap_port=dovecot["port"],
        security=MailSecurity.NONE,
        username=dovecot["user"],
        folder="INBOX",
        trusted_authserv_ids=RECEIVING_SERVER,
    )
    mailboxes.set_password(mailbox, dovecot["password"])
    _db.session.add(mailbox)
    _db.session.commit()
    return {
        "mailbox": mailbox,
        "department": it,
        "org": org,
        "employee": factories.make_user(org, email="ada@acme.example", name="Ada Lovelace"),
        "agent": factories.make_user(org, "agent", department=it, name="Sam Support"),
    }
