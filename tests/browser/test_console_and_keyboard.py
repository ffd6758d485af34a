"""The console's dashboard charts and the portals on a phone and from the keyboard, in Chromium."""

from playwright.sync_api import expect

from autotrack.extensions import db as _db
from autotrack.models.types import utcnow
from autotrack.services import tickets
from tests import factories
from tests.browser.conftest import sign_in


def test_the_console_dashboard_draws_its_charts_from_the_figures(org, open_session):
    requester = factories.make_user(org)
    for title, priority in (("Mail down", "P1"), ("VPN slow", "P2"), ("Mouse broken", "P2")):
        tickets.create_ticket(
            factories.admin_of(org),
            title=title,
            requester=requester,
            priority=factories.priority(org, priority),
            now=utcnow(),
        )
    _db.session.commit()

    admin = open_session("admin")
    sign_in(admin, factories.admin_of(org).email, factories.PASSWORD)
    admin.goto("/admin/")
    expect(admin.locator("#table-priority")).to_contain_text("P2")
    for chart in ("chart-priority", "chart-status", "chart-aging"):  # departments: only once something breached
        drawn = admin.evaluate(
            "id => { const c = Chart.getChart(document.getElementById(id));"
            " return c ? c.data.datasets[0].data : null; }",
            chart,
        )
        assert drawn is not None, f"{chart} was not drawn"
    by_priority = admin.evaluate("Chart.getChart(document.getElementById('chart-priority')).data")
    counts = dict(zip(by_priority["labels"], by_priority["datasets"][0]["data"], strict=True))
    assert counts["P1"] == 1 and counts["P2"] == 2


def test_an_agent_on_a_phone_opens_the_menu_and_searches_from_the_keyboard(org, open_session, browser, live_server):
    agent = factories.make_user(org, "agent")
    requester = factories.make_user(org)
    for title in ("Projector flickers in room 4", "Coffee machine leaking"):
        tickets.create_ticket(
            agent, title=title, requester=requester, priority=factories.priority(org, "P3"), now=utcnow()
        )
    _db.session.commit()

    phone = browser.new_context(base_url=live_server, viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        page = phone.new_page()
        sign_in(page, agent.email, factories.PASSWORD)
        page.goto("/agent/")
        queue_link = page.get_by_role("link", name="Queue", exact=True)
        expect(queue_link).to_be_hidden()  # folded away on a narrow screen
        page.get_by_role("button", name="Toggle navigation").click()
        expect(queue_link).to_be_visible()

        page.locator("body").press("/")
        search = page.get_by_label("Search")
        expect(search).to_be_focused()
        search.fill("projector")
        search.press("Enter")
        expect(page.get_by_text("Projector flickers in room 4")).to_be_visible()
        expect(page.get_by_text("Coffee machine leaking")).to_have_count(0)
    finally:
        phone.close()


def test_the_skip_link_is_the_first_stop_of_the_keyboard(org, open_session):
    agent = factories.make_user(org, "agent")
    page = open_session("agent")
    sign_in(page, agent.email, factories.PASSWORD)
    page.goto("/agent/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
