"""An agent resolves two tickets at once from the queue, with the keyboard and a confirmation."""

import re

from playwright.sync_api import expect

from autotrack.extensions import db as _db
from autotrack.models.types import utcnow
from autotrack.services import tickets
from tests import factories
from tests.browser.conftest import sign_in


def test_an_agent_selects_two_tickets_by_keyboard_and_resolves_them(org, open_session):
    factories.make_user(org, "agent", name="Sam Agent", email="sam@acme.example")
    employee = factories.make_user(org)
    for title in ("Mouse broken", "Keyboard sticky", "Monitor flickers"):
        tickets.create_ticket(employee, title=title, now=utcnow())
    _db.session.commit()

    page = open_session("agent")
    sign_in(page, "sam@acme.example", factories.PASSWORD)
    page.goto("/agent/?view=all")
    for key in ("j", "x", "j", "x"):  # the newest two
        page.locator("body").press(key)
    page.get_by_label("With the selected tickets").select_option("resolve")
    page.get_by_role("button", name="Apply to the selected…").click()
    expect(page.get_by_role("heading", name=re.compile("Resolve — 2 tickets?"))).to_be_visible()
    page.get_by_role("button", name="Yes: Resolve").click()
    expect(page.get_by_role("heading", name="Resolve: 2 done, 0 not")).to_be_visible()
    expect(page.locator("#bulk-results")).to_contain_text("Monitor flickers")
    expect(page.locator("#bulk-results")).to_contain_text("Keyboard sticky")
