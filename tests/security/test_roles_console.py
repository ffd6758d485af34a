"""Roles edited in the console: custom roles, permission sets that take effect on the next
request and are audited, the org admin role that keeps everything, and the top-level categories
a role or a department may raise tickets in."""

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import AuditEvent, Perm, Role
from autotrack.models.types import utcnow
from autotrack.services import tickets
from autotrack.services.errors import ValidationError
from autotrack.services.tickets import categories
from tests import factories
from tests.conftest import login, post_form


def role(org, builtin=None, name=None):
    query = select(Role).where(Role.org_id == org.id)
    query = query.where(Role.builtin == builtin) if builtin else query.where(Role.name == name)
    return _db.session.scalar(query)


def save_role(client, path, data):
    return post_form(client, path, data, token_from=path)


def test_a_custom_read_only_role_reads_every_ticket_and_changes_none(app, client, org):
    login(client, factories.admin_of(org))
    response = save_role(
        client,
        "/admin/role/new/",
        {
            "name": "Auditor",
            "portal": "manager",
            "description": "reads everything",
            "permission_set": [Perm.TICKET_VIEW_ALL.value, Perm.REPORT_VIEW.value],
        },
    )
    assert response.status_code == 302
    auditor_role = role(org, name="Auditor")
    assert auditor_role.permissions == {Perm.TICKET_VIEW_ALL, Perm.REPORT_VIEW}
    assert (
        _db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "role_created"))
        == "added report.view, ticket.view_all"
    )

    someone = factories.make_user(org)
    someone.role = auditor_role
    _db.session.commit()
    ticket = factories.make_ticket(factories.make_user(org))
    browser = app.test_client()
    login(browser, someone)
    assert browser.get(f"/agent/tickets/{ticket.reference}").status_code == 200
    assert browser.get("/manager/reports/sla").status_code == 200
    page = f"/agent/tickets/{ticket.reference}"
    post_form(browser, f"{page}/transitions", {"action": "resolve"}, token_from=page)
    _db.session.expire_all()
    assert ticket.state == "new"


def test_a_permission_taken_from_a_role_is_gone_on_the_next_request(app, client, org, api):
    agent = factories.make_user(org, "agent")
    ticket = factories.make_ticket(factories.make_user(org))
    call = api(agent)
    assert call("PATCH", f"/tickets/{ticket.reference}", json={"priority": "P1"}).status_code == 200
    login(client, factories.admin_of(org))
    agent_role = role(org, "agent")
    keep = [p for p in agent_role.permissions if p != Perm.TICKET_CHANGE_PRIORITY]
    response = save_role(
        client,
        f"/admin/role/edit/?id={agent_role.id}",
        {"name": agent_role.name, "portal": agent_role.portal, "description": "", "permission_set": keep},
    )
    assert response.status_code == 302
    assert call("PATCH", f"/tickets/{ticket.reference}", json={"priority": "P2"}).status_code == 403


def test_the_org_admin_role_keeps_every_permission_and_built_in_roles_stay(client, org):
    login(client, factories.admin_of(org))
    admin_role = role(org, "org_admin")
    save_role(
        client,
        f"/admin/role/edit/?id={admin_role.id}",
        {"name": admin_role.name, "portal": "admin", "description": "", "permission_set": ["ticket.create"]},
    )
    _db.session.expire_all()
    assert Perm.SETTINGS_MANAGE in role(org, "org_admin").permissions
    employee_role = role(org, "employee")
    response = post_form(
        client,
        "/admin/role/delete/",
        {"id": str(employee_role.id), "url": "/admin/role/"},
        token_from="/admin/role/",
        follow_redirects=True,
    )
    assert "built-in role" in response.get_data(as_text=True)
    assert role(org, "employee") is not None


def test_categories_can_be_limited_per_role_and_department(app, client, org):
    it = factories.make_category(org, "IT/Laptops")
    finance = factories.make_category(org, "Finance/Payments")
    employee_role = role(org, "employee")
    employee_role.categories = [it.parent]
    _db.session.commit()
    user = factories.make_user(org)
    assert categories.allowed_roots(user) == {it.parent.id}
    login(client, user)
    page = client.get("/portal/tickets/new").get_data(as_text=True)
    assert "Laptops" in page and "Payments" not in page
    response = post_form(
        client,
        "/portal/tickets/new",
        {"title": "Refund", "category_id": str(finance.id)},
        token_from="/portal/tickets/new",
    )
    assert response.status_code == 422
    with pytest.raises(ValidationError, match="may not raise tickets in that category"):
        tickets.create_ticket(user, title="Refund", category=finance, now=utcnow())
    tickets.create_ticket(user, title="Broken laptop", category=it, now=utcnow())

    department = factories.make_department(org, "Warehouse")
    department.categories = [finance.parent]
    user.department_id = department.id
    _db.session.commit()
    assert categories.allowed_roots(user) == set()  # both lists apply: nothing in common


def test_another_organizations_category_cannot_be_chosen_as_a_limit(client, org, other_org):
    foreign = factories.make_category(other_org, "Secret/Stuff")
    login(client, factories.admin_of(org))
    employee_role = role(org, "employee")
    ours = factories.make_category(org, "IT/Laptops")
    form = client.get(f"/admin/role/edit/?id={employee_role.id}").get_data(as_text=True)
    assert "May raise tickets in" in form and "IT" in form and "Secret" not in form  # only ours are offered
    response = save_role(
        client,
        f"/admin/role/edit/?id={employee_role.id}",
        {
            "name": employee_role.name,
            "portal": "portal",
            "description": "",
            "permission_set": ["ticket.create"],
            "categories": [str(foreign.parent.id)],
        },
    )
    _db.session.expire_all()
    assert role(org, "employee").categories == []
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    save_role(
        client,
        f"/admin/role/edit/?id={employee_role.id}",
        {
            "name": employee_role.name,
            "portal": "portal",
            "description": "",
            "permission_set": ["ticket.create"],
            "categories": [str(ours.parent.id)],
        },
    )
    _db.session.expire_all()
    assert [c.name for c in role(org, "employee").categories] == ["IT"]
