"""An agent merges a duplicate into the original ticket in Chromium."""

import re

from playwright.sync_api import expect

from autotrack.extensions import db as _db
from autotrack.models.types import utcnow
from autotrack.services import tickets
from tests import factories
from tests.browser.conftest import sign_in


def test_an_agent_merges_a_duplicate_and_lands_on_the_original(org, open_session):
    factories.make_user(org, "agent", name="Sam Agent", email="sam@acme.example")
    ada = factories.make_user(org, name="Ada Lovelace")
    original = tickets.create_ticket(ada, title="VPN drops every hour", now=utcnow())
    duplicate = tickets.create_ticket(ada, title="VPN keeps disconnecting", now=utcnow())
    tickets.add_comment(ada, duplicate, "It happened again at 10:05", now=utcnow())
    _db.session.commit()

    page = open_session("agent")
    sign_in(page, "sam@acme.example", factories.PASSWORD)
    page.goto(f"/agent/tickets/{duplicate.reference}")
    page.get_by_text("Link or merge…").click()
    page.get_by_label("Merge into ticket").fill(original.reference)
    page.get_by_label("This ticket is a duplicate").check()
    page.get_by_role("button", name="Merge").click()
    expect(page).to_have_url(re.compile(rf"/agent/tickets/{original.reference}$"))
    expect(page.get_by_text(f"{duplicate.reference} was merged into {original.reference}.")).to_be_visible()
    expect(page.get_by_text("It happened again at 10:05")).to_be_visible()
    page.goto(f"/agent/tickets/{duplicate.reference}")  # the old number still leads there
    expect(page).to_have_url(re.compile(rf"/agent/tickets/{original.reference}$"))
