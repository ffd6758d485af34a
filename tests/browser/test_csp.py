"""The Content-Security-Policy in a real browser: no page of the portals, the agent's, the
manager's or the console breaks it (Chromium reports every violation), and the console's
actions, which Flask-Admin wires with inline handlers, still work through our bound ones."""

from playwright.sync_api import expect

from autotrack.extensions import db as _db
from autotrack.models.types import utcnow
from autotrack.services import tickets
from tests import factories
from tests.browser.conftest import sign_in

WATCH_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' '
                         + e.sourceFile + ':' + e.lineNumber));
"""


def visit(page, path):
    page.goto(path)
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__csp")
    assert violations == [], f"{path}: {violations}"


def test_no_page_breaks_the_policy_and_console_actions_still_work(org, open_session, browser):
    admin_user, agent_user = factories.admin_of(org), factories.make_user(org, "agent")
    requester, manager = factories.make_user(org), factories.make_user(org, "manager")
    ticket = tickets.create_ticket(requester, title="Printer offline", now=utcnow())
    _db.session.commit()

    pages = {}
    for name, user, paths in (
        (
            "employee",
            requester,
            [
                "/portal/",
                "/portal/tickets/new",
                f"/portal/tickets/{ticket.reference}",
                "/notifications/",
                "/notifications/settings",
                "/account",
            ],
        ),
        (
            "agent",
            agent_user,
            [
                "/agent/",
                f"/agent/tickets/{ticket.reference}",
                f"/agent/tickets/{ticket.reference}/sla",
                "/agent/canned",
            ],
        ),
        ("manager", manager, ["/manager/", "/manager/reports/sla"]),
        (
            "admin",
            admin_user,
            [
                "/admin/",
                "/admin/ticket/",
                "/admin/user/",
                f"/admin/user/edit/?id={requester.id}",
                "/admin/directory_sync/",
                "/admin/settings/",
                "/api/v1/docs",
            ],
        ),
    ):
        page = open_session(name)
        page.context.add_init_script(WATCH_VIOLATIONS)
        sign_in(page, user.email, factories.PASSWORD)
        for path in paths:
            visit(page, path)
        pages[name] = page

    admin = pages["admin"]
    admin.goto("/admin/ticket/")
    admin.locator("input.action-checkbox").first.check()
    admin.get_by_role("button", name="With selected").or_(admin.get_by_text("With selected")).first.click()
    admin.get_by_text("Reassign", exact=True).click()
    expect(admin).to_have_url(f"{admin.url.split('/admin/')[0]}/admin/ticket/reassign/?ids={ticket.id}")
    assert admin.evaluate("window.__csp") == []
