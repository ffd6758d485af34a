"""Live notifications in a real browser: an agent's open page learns of a new ticket without a
reload (in CI through Redis pub/sub, as with several web processes)."""

import re
import time

from playwright.sync_api import expect
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import Ticket
from tests import factories
from tests.browser.conftest import sign_in


def test_an_agents_page_shows_a_new_ticket_within_two_seconds_without_reloading(org, open_session):
    agent = factories.make_user(org, "agent", name="Sam Support")
    employee = factories.make_user(org, name="Ada Lovelace")

    sam = open_session("agent")
    sign_in(sam, agent.email, factories.PASSWORD)
    expect(sam).to_have_url(re.compile(r"/agent/"))
    expect(sam.locator("#bell .badge")).to_have_count(0)
    sam.evaluate("window.__sameDocument = true")  # gone if the page reloads
    expect(sam.locator("body")).to_have_attribute("data-live-state", "open")

    ada = open_session("employee")
    sign_in(ada, employee.email, factories.PASSWORD)
    ada.goto("/portal/tickets/new")
    ada.get_by_label("Title").fill("Projector in room 4 is dead")
    ada.get_by_role("button", name="Raise ticket").click()
    raised_at = time.monotonic()
    expect(ada.get_by_text(re.compile(r"Ticket ACME-\d+ raised"))).to_be_visible()
    reference = _db.session.scalar(select(Ticket).where(Ticket.title == "Projector in room 4 is dead")).reference

    toast = sam.locator("#live-toasts .toast").filter(has_text=reference)
    expect(toast).to_be_visible(timeout=2_000)
    assert time.monotonic() - raised_at < 2.5  # the employee's click to the agent's toast
    expect(toast).to_contain_text(f"New ticket {reference}: Projector in room 4 is dead")
    expect(sam.locator("#bell .badge")).to_have_text("1")
    expect(sam.locator("#bell")).to_have_attribute("aria-label", "Notifications, 1 unread")
    assert sam.evaluate("window.__sameDocument") is True
    # The queue below says it is out of date (the new ticket is not in it yet).
    expect(sam.get_by_role("link", name="Show the latest")).to_be_visible()
    expect(sam.get_by_role("link", name=reference, exact=True)).to_have_count(0)

    # Opening it from the toast goes to the ticket and marks the notification read.
    toast.get_by_role("button", name=f"Open {reference}").click()
    expect(sam).to_have_url(re.compile(rf"/agent/tickets/{reference}$"))
    expect(sam.locator("#bell .badge")).to_have_count(0)
