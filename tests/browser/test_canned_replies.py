"""An agent answers with a canned reply from the reply box, by keyboard, in Chromium."""

import re

from playwright.sync_api import expect

from autotrack.extensions import db as _db
from autotrack.models import CannedReply
from autotrack.models.types import utcnow
from autotrack.services import tickets
from tests import factories
from tests.browser.conftest import sign_in


def test_an_agent_inserts_a_canned_reply_with_the_keyboard_and_sends_it(org, open_session):
    factories.make_user(org, "agent", name="Sam Agent", email="sam@acme.example")
    ticket = tickets.create_ticket(factories.make_user(org, name="Ada Lovelace"), title="Printer jams", now=utcnow())
    _db.session.add(
        CannedReply(
            org_id=org.id,
            title="Restart the printer",
            body="Hello {{ requester.first_name }}, please restart it. ({{ ticket.reference }})",
        )
    )
    _db.session.commit()

    page = open_session("agent")
    sign_in(page, "sam@acme.example", factories.PASSWORD)
    page.goto(f"/agent/tickets/{ticket.reference}")
    page.locator("body").press("c")
    expect(page.locator("#canned-search")).to_be_focused()
    page.keyboard.type("restart")
    page.keyboard.press("Enter")
    reply = page.get_by_label("Reply", exact=True)
    expect(reply).to_have_value(f"Hello Ada, please restart it. ({ticket.reference})")
    expect(reply).to_be_focused()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()
    expect(page.locator("body")).to_contain_text(re.compile(r"Hello Ada, please restart it"))
