"""The console in Chromium at 1280x900 (issue 22): a department saved unchanged keeps its people,
a hostile return address never takes the browser off-site, the tickets list fits the page, and
the holiday date field leaves the Save button clickable."""

from datetime import date
from urllib.parse import urlsplit

from playwright.sync_api import expect
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import Department, DepartmentMember, Holiday, User
from tests import factories
from tests.browser.conftest import sign_in


def memberships(org):
    _db.session.expire_all()
    return set(
        _db.session.execute(
            select(Department.name, User.email, DepartmentMember.role, DepartmentMember.is_lead)
            .join(Department, Department.id == DepartmentMember.department_id)
            .join(User, User.id == DepartmentMember.user_id)
            .where(DepartmentMember.org_id == org.id)
        ).all()
    )


def test_a_department_saved_unchanged_keeps_exactly_its_people(org, open_session):
    hr, it = factories.make_department(org, "HR"), factories.make_department(org, "IT")
    factories.make_user(org, "manager", department=hr)
    factories.make_user(org, "agent", department=hr, lead=True)
    factories.make_user(org, "agent", department=it)
    factories.make_user(org, "agent", department=it, lead=True)
    before = memberships(org)

    page = open_session("admin")
    sign_in(page, factories.admin_of(org).email, factories.PASSWORD)
    page.goto(f"/admin/department/edit/?id={hr.id}")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="Departments")).to_be_visible()
    expect(page.locator(".alert-danger")).to_have_count(0)
    assert memberships(org) == before


def _holiday(org):
    from autotrack.models import BusinessCalendar

    calendar_id = _db.session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.org_id == org.id))
    row = Holiday(org_id=org.id, calendar_id=calendar_id, date=date(2026, 12, 25), name="Christmas")
    _db.session.add(row)
    _db.session.commit()
    return row


def test_a_hostile_return_address_keeps_the_browser_on_this_site(org, open_session, live_server):
    holiday = _holiday(org)
    page = open_session("admin")
    page.route(
        "**/*",
        lambda route: (
            route.fulfill(body="<h1>evil</h1>", content_type="text/html")
            if urlsplit(route.request.url).hostname == "evil.tld"
            else route.continue_()
        ),
    )
    hostile = f"/admin/holiday/edit/?id={holiday.id}&url=http:evil.tld"
    page.goto(hostile)  # signed out: the console sends us to sign in, then back here
    page.get_by_label("Email").fill(factories.admin_of(org).email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_visible()
    assert urlsplit(page.url).hostname == urlsplit(live_server).hostname
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()
    assert urlsplit(page.url).hostname == urlsplit(live_server).hostname, page.url
    expect(page.locator("table.model-list")).to_contain_text("Christmas")  # back on the holidays list
    expect(page.get_by_text("evil", exact=True)).to_have_count(0)


def test_the_tickets_list_fits_the_page(org, open_session):
    agent = factories.make_user(
        org,
        "agent",
        name="Maximiliane Alexandra Wolfeschlegelsteinhausenberger",
        email="maximiliane.wolfeschlegelsteinhausenberger@acme.example",
    )
    requester = factories.make_user(org)
    for title in (
        "Error:" + "x" * 150,
        "https://intranet.example/reports/quarterly/2026/finance/export?id=1234567890",
        "Printer is on fire",
    ):
        ticket = factories.make_ticket(requester, title=title)
        ticket.assignee_id = agent.id
    _db.session.commit()

    page = open_session("admin")
    sign_in(page, factories.admin_of(org).email, factories.PASSWORD)
    page.goto("/admin/ticket/")
    table = page.locator("table.model-list")
    expect(table).to_contain_text("Printer is on fire")
    box = table.bounding_box()
    container = page.locator("#content, .container").first.bounding_box()
    viewport = page.viewport_size
    assert box["x"] >= 0 and box["x"] + box["width"] <= container["x"] + container["width"] + 1
    assert box["x"] + box["width"] <= viewport["width"]
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    # every column is on screen, the last one included
    sla = page.get_by_role("link", name="timeline").first
    sla_box = sla.bounding_box()
    assert sla_box["x"] + sla_box["width"] <= container["x"] + container["width"]


def test_save_is_clickable_after_using_the_holiday_date_field(org, open_session):
    page = open_session("admin")
    sign_in(page, factories.admin_of(org).email, factories.PASSWORD)
    page.goto("/admin/holiday/new/")
    page.get_by_label("Name").fill("Christmas Eve")
    page.locator("#date").click()
    page.locator("#date").fill("2026-12-24")
    save = page.get_by_role("button", name="Save", exact=True)
    box = save.bounding_box()
    on_top = page.evaluate(
        "([x, y]) => { const e = document.elementFromPoint(x, y);"
        " return e && (e.value || e.textContent || '').trim(); }",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert on_top == "Save", f"the Save button is covered by {on_top!r}"
    save.click()
    expect(page.get_by_role("heading", name="Holidays")).to_be_visible()
    saved = _db.session.scalar(select(Holiday).where(Holiday.org_id == org.id, Holiday.name == "Christmas Eve"))
    assert saved is not None and saved.date == date(2026, 12, 24)
