"""What a first user saw wrong in Chromium at 1280x900 (issue 22): an "out of date" banner on
every list, a clipped Delete button, blank lines under replies, no favicon."""

import re

import pytest
from playwright.sync_api import expect

from autotrack.extensions import db as _db
from autotrack.models import CannedReply
from autotrack.models.types import utcnow
from autotrack.services import tickets
from tests import factories
from tests.browser.conftest import sign_in

BANNER = "#live-refresh"


@pytest.fixture
def people(org):
    support = factories.default_department(org)
    return {
        "agent": factories.make_user(org, "agent", department=support, name="Sam Support"),
        "employee": factories.make_user(org, name="Ada Lovelace"),
        "manager": factories.make_user(org, "manager", department=support, name="Max Manager"),
    }


def _signed_in(open_session, user, home):
    page = open_session(user.name)
    sign_in(page, user.email, factories.PASSWORD)
    expect(page).to_have_url(re.compile(home))
    expect(page.locator("body")).to_have_attribute("data-live-state", "open")
    return page


def test_the_out_of_date_banner_waits_for_a_real_change_on_every_list(org, people, open_session):
    ticket = factories.make_ticket(people["employee"], title="Projector is dead")
    tickets.assign(people["agent"], ticket, people["agent"], now=utcnow())
    _db.session.commit()
    agent = _signed_in(open_session, people["agent"], r"/agent/")
    employee = _signed_in(open_session, people["employee"], r"/portal/")
    manager = _signed_in(open_session, people["manager"], r"/manager/")
    for page in (agent, employee, manager):
        expect(page.locator(BANNER)).to_be_attached()
        expect(page.locator(BANNER)).to_be_hidden()

    # Another session raises a ticket (the agent is told) and answers one (the employee is).
    factories.make_ticket(factories.make_user(org), title="Second projector")
    expect(agent.locator(BANNER)).to_be_visible()
    expect(agent.get_by_role("link", name="Show the latest")).to_be_visible()
    expect(employee.locator(BANNER)).to_be_hidden()
    tickets.add_comment(people["agent"], ticket, "On my way.", now=utcnow())
    _db.session.commit()
    expect(employee.locator(BANNER)).to_be_visible()
    expect(manager.locator(BANNER)).to_be_hidden()  # told nothing, so nothing changed for it


def test_the_canned_reply_delete_button_is_whole_and_clickable(org, people, open_session):
    agent = people["agent"]
    _db.session.add(
        CannedReply(
            org_id=org.id,
            owner_id=agent.id,
            title="Password reset steps",
            body="Hello {{ requester.first_name }}, to reset your password open the portal, "
            "choose Account, then Reset, and follow the link we email you. " * 3,
        )
    )
    _db.session.commit()
    page = _signed_in(open_session, agent, r"/agent/")
    page.goto("/agent/canned")
    delete = page.get_by_role("button", name="Delete")
    expect(delete).to_be_visible()
    button, table = delete.bounding_box(), page.locator("#canned-list").bounding_box()
    column = page.locator("#canned-list").locator("xpath=..").bounding_box()
    for box in (table, column):
        assert box["x"] <= button["x"] and button["x"] + button["width"] <= box["x"] + box["width"], (button, box)
    # Nothing covers it: the element at its centre is the button itself.
    centre = (button["x"] + button["width"] / 2, button["y"] + button["height"] / 2)
    assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).textContent.trim()", centre) == "Delete"
    delete.click()
    expect(page.get_by_text("Canned reply deleted.")).to_be_visible()


def test_a_reply_is_as_tall_as_its_lines(org, people, open_session):
    agent = people["agent"]
    ticket = factories.make_ticket(people["employee"], title="Printer jams", description="One line.")
    tickets.add_comment(agent, ticket, "First line of the answer.\nSecond line.", now=utcnow())
    tickets.add_comment(agent, ticket, "A note for the team.", internal=True, now=utcnow())
    _db.session.commit()
    page = _signed_in(open_session, agent, r"/agent/")
    page.goto(f"/agent/tickets/{ticket.reference}")
    for text, lines in (("One line.", 1), ("Second line.", 2), ("A note for the team.", 1)):
        body = page.locator(".card", has_text=text).last.locator(".card-body").first
        measured = body.evaluate("""el => {
            const style = getComputedStyle(el);
            const inner = el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
            return {inner, line: parseFloat(getComputedStyle(el.firstElementChild || el).lineHeight)};
        }""")
        assert abs(measured["inner"] - lines * measured["line"]) < 1, (text, measured)


def test_the_favicon_is_an_image(open_session, live_server):
    page = open_session("anyone")
    response = page.request.get("/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/")
    page.goto("/login")
    icon = page.locator("link[rel=icon]").first.get_attribute("href")
    assert page.request.get(icon).headers["content-type"].startswith("image/")
