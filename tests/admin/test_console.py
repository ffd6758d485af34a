"""The console: org admins only, and every request scoped to the admin's organization."""

from datetime import date

import pytest
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import (
    AuditEvent,
    BusinessCalendar,
    Category,
    Department,
    DirectoryEntry,
    EscalationRule,
    Holiday,
    InboundMessage,
    Mailbox,
    Notification,
    OutboxEmail,
    Priority,
    Status,
    Ticket,
    User,
)
from tests import factories
from tests.conftest import csrf_token, login

# endpoint -> model, for every console model view
VIEWS = {
    "department": Department,
    "priority": Priority,
    "status": Status,
    "escalationrule": EscalationRule,
    "audit": AuditEvent,
    "outbox": OutboxEmail,
    "holiday": Holiday,
    "directoryentry": DirectoryEntry,
    "ticket": Ticket,
    "notification": Notification,
    "user": User,
    "category": Category,
    "mailbox": Mailbox,
    "inbound": InboundMessage,
    "held_mail": InboundMessage,
}
EDITABLE = [
    "department",
    "priority",
    "status",
    "escalationrule",
    "holiday",
    "directoryentry",
    "user",
    "category",
    "mailbox",
]


def foreign_id(model, other_org):
    return _db.session.scalar(select(model.id).where(model.org_id == other_org.id).limit(1))


@pytest.mark.parametrize("endpoint", sorted(VIEWS))
@pytest.mark.parametrize("role,expected", [("manager", 403), ("agent", 403), ("employee", 403)])
def test_console_views_refuse_everyone_but_org_admins(client, org, endpoint, role, expected):
    login(client, factories.make_user(org, role))
    assert client.get(f"/admin/{endpoint}/").status_code == expected


@pytest.mark.parametrize("endpoint", sorted(VIEWS))
def test_console_views_send_anonymous_users_to_login(client, org, endpoint):
    response = client.get(f"/admin/{endpoint}/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("endpoint", sorted(VIEWS))
def test_lists_show_only_the_admins_organization(client, org, other_org, rows, endpoint):
    login(client, factories.admin_of(org))
    page = client.get(f"/admin/{endpoint}/").get_data(as_text=True)
    assert "globex" not in page.lower()


@pytest.mark.parametrize("endpoint", sorted(VIEWS))
@pytest.mark.parametrize("page", ["details", "edit"])
def test_another_organizations_row_is_404(client, org, other_org, rows, endpoint, page):
    login(client, factories.admin_of(org))
    ident = foreign_id(VIEWS[endpoint], other_org)
    response = client.get(f"/admin/{endpoint}/{page}/?id={ident}")
    assert response.status_code in (404, 302)  # read-only views send edit back to the list
    if response.status_code == 302:
        assert "edit" not in response.headers["Location"]
        assert endpoint not in EDITABLE


@pytest.mark.parametrize("endpoint", EDITABLE)
def test_another_organizations_row_cannot_be_edited_or_deleted(client, org, other_org, rows, endpoint):
    model = VIEWS[endpoint]
    login(client, factories.admin_of(org))
    ident = foreign_id(model, other_org)
    before = _db.session.get(model, ident)
    snapshot = {c.key: getattr(before, c.key) for c in model.__mapper__.column_attrs}
    token = csrf_token(client, "/portal/")
    edit = client.post(
        f"/admin/{endpoint}/edit/?id={ident}", data={"name": "Hijacked", "level": "9", "csrf_token": token}
    )
    delete = client.post(f"/admin/{endpoint}/delete/", data={"id": str(ident), "csrf_token": token})
    assert edit.status_code == 404
    assert delete.status_code == (404 if endpoint != "user" else 302)  # users have no delete at all
    _db.session.expire_all()
    after = _db.session.get(model, ident)
    assert after is not None and {c.key: getattr(after, c.key) for c in model.__mapper__.column_attrs} == snapshot


def test_created_rows_belong_to_the_admins_organization(client, org, other_org):
    login(client, factories.admin_of(org))
    token = csrf_token(client, "/portal/")
    response = client.post("/admin/department/new/", data={"name": "Facilities", "is_active": "y", "csrf_token": token})
    assert response.status_code == 302
    department = _db.session.scalar(select(Department).where(Department.name == "Facilities"))
    assert department.org_id == org.id


def test_console_forms_need_the_csrf_token(client, org):
    login(client, factories.admin_of(org))
    response = client.post("/admin/department/new/", data={"name": "Facilities"})
    assert response.status_code == 400
    assert _db.session.scalar(select(func.count()).select_from(Department).where(Department.name == "Facilities")) == 0


def test_a_duplicate_name_is_refused_without_a_server_error(client, org):
    login(client, factories.admin_of(org))
    token = csrf_token(client, "/portal/")
    response = client.post("/admin/department/new/", data={"name": "Support", "csrf_token": token})
    assert response.status_code in (200, 302)
    count = _db.session.scalar(
        select(func.count()).select_from(Department).where(Department.org_id == org.id, Department.name == "Support")
    )
    assert count == 1


@pytest.mark.parametrize("lookalike", ["SUPPORT", "  Support ", "Suppört"])
def test_a_name_differing_only_in_case_or_accents_is_refused_on_every_database(client, org, lookalike):
    login(client, factories.admin_of(org))
    response = client.post(
        "/admin/department/new/",
        data={"name": lookalike, "csrf_token": csrf_token(client, "/portal/")},
        follow_redirects=True,
    )
    assert "exists already" in response.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(Department).where(Department.org_id == org.id)) == 1


def test_the_audit_log_cannot_be_changed_from_the_console(client, org, rows):
    login(client, factories.admin_of(org))
    ident = _db.session.scalar(select(AuditEvent.id).where(AuditEvent.org_id == org.id))
    token = csrf_token(client, "/portal/")
    client.post(f"/admin/audit/edit/?id={ident}", data={"action": "forged", "csrf_token": token})
    client.post("/admin/audit/delete/", data={"id": str(ident), "csrf_token": token})
    client.post("/admin/audit/new/", data={"action": "forged", "csrf_token": token})
    _db.session.expire_all()
    assert _db.session.get(AuditEvent, ident).action == "create"
    assert _db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "forged")) == 0


def test_retry_requeues_only_our_failed_emails(client, org, other_org, rows):
    for email in _db.session.scalars(select(OutboxEmail)):
        email.status, email.attempts = "failed", 5
    _db.session.commit()
    ours = _db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.org_id == org.id))
    theirs = foreign_id(OutboxEmail, other_org)
    login(client, factories.admin_of(org))
    token = csrf_token(client, "/portal/")
    response = client.post(
        "/admin/outbox/action/", data={"action": "retry", "rowid": [str(ours), str(theirs)], "csrf_token": token}
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(OutboxEmail, ours).status == "pending"
    assert _db.session.get(OutboxEmail, theirs).status == "failed"


def test_relation_dropdowns_list_only_the_organizations_rows(client, org, other_org):
    factories.make_department(other_org, "Globex secret lab")
    login(client, factories.admin_of(org))
    page = client.get("/admin/directoryentry/new/").get_data(as_text=True)
    assert "Support" in page and "Globex secret lab" not in page


def test_a_new_holiday_joins_the_organizations_calendar(client, org):
    login(client, factories.admin_of(org))
    response = client.post(
        "/admin/holiday/new/",
        data={"date": "2026-12-26", "name": "Boxing Day", "csrf_token": csrf_token(client, "/portal/")},
    )
    assert response.status_code == 302
    holiday = _db.session.scalar(select(Holiday).where(Holiday.name == "Boxing Day"))
    calendar_id = _db.session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.org_id == org.id))
    assert (holiday.org_id, holiday.calendar_id, holiday.date) == (org.id, calendar_id, date(2026, 12, 26))


def role_id(org, key):
    from autotrack.services.org.orgs import role_by_key

    return str(role_by_key(org, key).id)


def edit_user(client, user, **changes):
    data = {
        "name": user.name,
        "email": user.email,
        "role": str(user.role_id),
        "csrf_token": csrf_token(client, "/portal/"),
    }
    if user.active:
        data["active"] = "y"
    data.update(changes)
    if data.get("active") is False:
        del data["active"]
    return client.post(f"/admin/user/edit/?id={user.id}", data=data)


def test_the_last_admin_cannot_deactivate_or_demote_themself(client, org):
    admin = factories.admin_of(org)
    login(client, admin)
    for change in ({"active": False}, {"role": role_id(org, "agent")}):
        response = edit_user(client, admin, **change)
        assert response.status_code == 200  # the form again, with the reason
        assert "at least one active org admin" in response.get_data(as_text=True)
    _db.session.expire_all()
    assert admin.active and admin.role.builtin == "org_admin"


def test_with_a_second_admin_the_first_may_step_down(client, org):
    admin = factories.admin_of(org)
    factories.make_user(org, "org_admin")
    login(client, admin)
    assert edit_user(client, admin, role=role_id(org, "agent")).status_code == 302
    _db.session.expire_all()
    assert admin.role.builtin == "agent"


def test_deactivating_a_user_signs_them_out(app, client, org):
    agent = factories.make_user(org, "agent")
    agent_client = app.test_client()
    login(agent_client, agent)
    login(client, factories.admin_of(org))
    assert edit_user(client, agent, active=False).status_code == 302
    assert agent_client.get("/agent/").status_code == 302  # back to the login page


def test_a_user_created_in_the_console_can_sign_in(app, client, org):
    login(client, factories.admin_of(org))
    response = client.post(
        "/admin/user/new/",
        data={
            "name": "New Agent",
            "email": "New.Agent@Acme.example",
            "role": role_id(org, "agent"),
            "active": "y",
            "new_password": "a-long-password",
            "csrf_token": csrf_token(client, "/portal/"),
        },
    )
    assert response.status_code == 302
    user = _db.session.scalar(select(User).where(User.email == "new.agent@acme.example"))
    assert user.org_id == org.id
    fresh = app.test_client()
    from tests.conftest import post_form

    assert (
        post_form(fresh, "/login", {"email": "new.agent@acme.example", "password": "a-long-password"}).status_code
        == 302
    )


def test_a_short_password_or_a_taken_email_is_refused_with_a_message(client, org):
    login(client, factories.admin_of(org))
    token = csrf_token(client, "/portal/")
    short = client.post(
        "/admin/user/new/",
        data={
            "name": "X",
            "email": "x@acme.example",
            "role": role_id(org, "agent"),
            "new_password": "short",
            "csrf_token": token,
        },
    )
    assert "at least 8 characters" in short.get_data(as_text=True)
    taken = client.post(
        "/admin/user/new/",
        data={"name": "Y", "email": "admin@acme.example", "role": role_id(org, "agent"), "csrf_token": token},
    )
    assert "This address cannot be used." in taken.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(User).where(User.org_id == org.id)) == 1


def test_users_are_never_deleted_from_the_console(client, org):
    employee = factories.make_user(org)
    login(client, factories.admin_of(org))
    client.post("/admin/user/delete/", data={"id": str(employee.id), "csrf_token": csrf_token(client, "/portal/")})
    assert _db.session.get(User, employee.id) is not None


def save_category(client, name, parent=None, ident=None, **extra):
    data = {"name": name, "is_active": "y", "csrf_token": csrf_token(client, "/portal/"), **extra}
    if parent is not None:
        data["parent"] = str(parent.id)
    url = f"/admin/category/edit/?id={ident}" if ident else "/admin/category/new/"
    return client.post(url, data=data)


def category(org, path):
    from autotrack.models import Category

    _db.session.expire_all()
    return _db.session.scalar(select(Category).where(Category.org_id == org.id, Category.path == path))


def test_categories_build_a_tree_whose_defaults_drive_new_tickets(client, org):
    login(client, factories.admin_of(org))
    finance = factories.make_department(org, "Finance")
    p1 = factories.priority(org, "P1")
    save_category(client, "Finance", default_department=str(finance.id))
    save_category(client, "Payments", parent=category(org, "Finance"), default_priority=str(p1.id))
    assert save_category(client, "Refund failed", parent=category(org, "Finance/Payments")).status_code == 302
    leaf = category(org, "Finance/Payments/Refund failed")
    assert (leaf.depth, leaf.parent.name) == (3, "Payments")
    ticket = factories.make_ticket(factories.make_user(org), category=leaf)
    assert (ticket.priority.name, ticket.department.name) == ("P1", "Finance")


def test_a_fourth_level_or_a_cycle_is_refused(client, org):
    login(client, factories.admin_of(org))
    leaf = factories.make_category(org, "A/B/C")
    too_deep = save_category(client, "D", parent=leaf)
    assert too_deep.status_code == 200 and "at most 3 levels" in too_deep.get_data(as_text=True)
    top = category(org, "A")
    cycle = save_category(client, "A", parent=category(org, "A/B"), ident=top.id)
    assert "cannot sit inside itself" in cycle.get_data(as_text=True)
    assert category(org, "A").parent_id is None and category(org, "A/B/C/D") is None


def test_renaming_a_category_renames_its_whole_subtree(client, org):
    login(client, factories.admin_of(org))
    factories.make_category(org, "IT/Hardware/Laptop")
    hardware = category(org, "IT/Hardware")
    assert save_category(client, "Devices", parent=category(org, "IT"), ident=hardware.id).status_code == 302
    assert category(org, "IT/Devices/Laptop") is not None and category(org, "IT/Hardware/Laptop") is None


def test_an_agent_made_employee_leaves_the_department_queues_and_escalations(client, org):
    lead = factories.make_user(org, "agent", lead=True)
    login(client, factories.admin_of(org))
    assert edit_user(client, lead, role=str(role_id(org, "employee"))).status_code == 302
    _db.session.expire_all()
    assert _db.session.get(User, lead.id).memberships == []


def test_an_agent_created_with_a_department_works_its_queue(client, org):
    department = factories.make_department(org, "Facilities")
    login(client, factories.admin_of(org))
    response = client.post(
        "/admin/user/new/",
        data={
            "name": "New Agent",
            "email": "new.agent@acme.example",
            "role": role_id(org, "agent"),
            "department": str(department.id),
            "active": "y",
            "new_password": "a long enough password",
            "csrf_token": csrf_token(client, "/portal/"),
        },
    )
    assert response.status_code == 302
    user = _db.session.scalar(select(User).where(User.email == "new.agent@acme.example"))
    assert [(m.department.name, m.role) for m in user.memberships] == [("Facilities", "agent")]


def test_console_text_fields_lose_surrounding_spaces(client, org):
    login(client, factories.admin_of(org))
    response = client.post(
        "/admin/department/new/",
        data={"name": "  Facilities \t", "is_active": "y", "csrf_token": csrf_token(client, "/portal/")},
    )
    assert response.status_code == 302
    assert (
        _db.session.scalar(
            select(Department.name).where(Department.org_id == org.id, Department.name.like("%Facilities%"))
        )
        == "Facilities"
    )
    blank = client.post("/admin/department/new/", data={"name": "   ", "csrf_token": csrf_token(client, "/portal/")})
    assert blank.status_code == 200 and "This field is required." in blank.get_data(as_text=True)
