"""Input that can't hurt: text people type never becomes a mail header of its own, malformed
ids are a 404 (never a 500), unknown sort and filter values fall back to the defaults."""

import pytest

from autotrack.extensions import db as _db
from autotrack.models.types import utcnow
from autotrack.services import outbox, tickets
from tests import factories
from tests.conftest import login


def test_a_title_with_line_breaks_cannot_add_mail_headers(org, smtp_server):
    requester, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket = tickets.create_ticket(requester, title="Printer\r\nBcc: evil@example.com\r\nX-Evil: 1", now=utcnow())
    tickets.add_comment(agent, ticket, "On it.", now=utcnow())
    _db.session.commit()
    outbox.deliver_all_due(utcnow())
    [(recipients, message)] = smtp_server.messages
    assert recipients == [requester.email]
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert "\n" not in message["Subject"] and "Bcc: evil@example.com" in message["Subject"]


@pytest.mark.parametrize("ident", ["1,2", "-1", "abc", "0", "99999999999999999999", "1%00", "1.5"])
def test_malformed_ids_are_not_found(client, org, api, ident):
    agent = factories.make_user(org, "agent")
    login(client, agent)
    for path in (
        f"/agent/tickets/{ident}",
        f"/portal/tickets/{ident}",
        f"/attachments/{ident}",
        f"/agent/tickets/{ident}/sla",
    ):
        assert client.get(path).status_code in (400, 404), path
    assert api(agent)("GET", f"/tickets/{ident}").status_code in (400, 404)


@pytest.mark.parametrize(
    "query",
    [
        "sort=drop+table",
        "sort=__class__",
        "status=abc",
        "priority=-1",
        "assignee=1,2",
        "view=nonsense",
        "sla=what",
        "cursor=%%%",
        "q=" + "x" * 5000,
    ],
)
def test_unknown_sort_and_filter_values_never_fail(client, org, api, query):
    agent = factories.make_user(org, "agent")
    factories.make_ticket(factories.make_user(org))
    login(client, agent)
    assert client.get(f"/agent/?{query}").status_code in (200, 400)
    assert api(agent)("GET", f"/tickets?{query}").status_code in (200, 400, 422)


def test_stored_and_logged_error_texts_carry_no_secrets(app, db, monkeypatch):
    from autotrack.services import crypto

    monkeypatch.setitem(app.config, "MAIL_PASSWORD", "smtp-secret-123")
    message = (
        "SMTPAuthenticationError: (535, 'bad login smtp-secret-123') via "
        "redis://:hunter2@cache:6379/0 and mysql+pymysql://autotrack:dbpass99@db/autotrack"
    )
    cleaned = crypto.redact(message, "imap-pass-456") + crypto.redact("imap-pass-456 refused", "imap-pass-456")
    for secret in ("smtp-secret-123", "hunter2", "dbpass99", "imap-pass-456", app.config["SECRET_KEY"]):
        assert secret not in cleaned
    assert "[redacted]" in cleaned and "SMTPAuthenticationError" in cleaned
