"""Console: department staffing, organization settings and business hours, bulk reassignment."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import Department, Organization
from autotrack.models.types import utcnow
from autotrack.services import sla, tickets
from autotrack.services.org import orgs
from tests import factories
from tests.conftest import csrf_token, login


def post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/portal/")})


# --- departments: managers, agents, leads ------------------------------------------------------


def members(department):
    _db.session.expire_all()
    department = _db.session.get(Department, department.id)
    return {(m.user.email, m.role, m.is_lead) for m in department.members}


def test_an_admin_staffs_a_new_department_and_its_lead_gets_the_escalations(client, org):
    manager = factories.make_user(org, "manager", email="boss@acme.example")
    agent = factories.make_user(org, "agent", email="ali@acme.example")
    login(client, factories.admin_of(org))
    response = post(
        client,
        "/admin/department/new/",
        {
            "name": "Facilities",
            "is_active": "y",
            "managers": [str(manager.id)],
            "agents": [str(agent.id)],
            "leads": [str(agent.id)],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    facilities = _db.session.scalar(
        select(Department).where(Department.org_id == org.id, Department.name == "Facilities")
    )
    assert members(facilities) == {("boss@acme.example", "manager", False), ("ali@acme.example", "agent", True)}
    listing = client.get("/admin/department/").get_data(as_text=True)
    assert manager.name in listing and agent.name in listing
    # The sweep's level 1 goes to the lead the console set.
    ticket = tickets.create_ticket(
        agent, title="Heating off", requester=factories.make_user(org), department=facilities, now=utcnow()
    )
    _db.session.commit()
    sla.sweep(ticket.created_at.replace(year=ticket.created_at.year + 1))
    _db.session.commit()
    from autotrack.models import Notification

    told = set(_db.session.scalars(select(Notification.user_id).where(Notification.kind == "escalation")))
    assert agent.id in told


def test_the_edit_form_shows_and_changes_the_current_staff(client, org):
    department = factories.make_department(org, "Facilities")
    first = factories.make_user(org, "agent", department=department, lead=True)
    second = factories.make_user(org, "agent")
    login(client, factories.admin_of(org))
    page = client.get(f"/admin/department/edit/?id={department.id}").get_data(as_text=True)
    assert f'<option selected value="{first.id}">' in page or f'value="{first.id}" selected' in page
    response = post(
        client,
        f"/admin/department/edit/?id={department.id}",
        {"name": "Facilities", "is_active": "y", "agents": [str(second.id)], "leads": []},
    )
    assert response.status_code == 302
    assert members(department) == {(second.email, "agent", False)}


@pytest.mark.parametrize("problem", ["employee_as_agent", "lead_not_agent", "agent_as_manager", "other_org"])
def test_wrong_staffing_is_refused_and_changes_nothing(client, org, other_org, problem):
    department = factories.make_department(org, "Facilities")
    agent = factories.make_user(org, "agent", department=department)
    employee = factories.make_user(org)
    stranger = factories.make_user(other_org, "agent")
    data = {"name": "Facilities", "is_active": "y", "agents": [str(agent.id)]}
    data.update(
        {
            "employee_as_agent": {"agents": [str(agent.id), str(employee.id)]},
            "lead_not_agent": {"leads": [str(factories.make_user(org, "agent").id)]},
            "agent_as_manager": {"managers": [str(agent.id)]},
            "other_org": {"agents": [str(stranger.id)]},
        }[problem]
    )
    login(client, factories.admin_of(org))
    before = members(department)
    response = post(client, f"/admin/department/edit/?id={department.id}", data)
    assert response.status_code == 200  # the form again, with the reason
    assert members(department) == before


# --- settings and business hours ----------------------------------------------------------------

SETTINGS = {
    "name": "Acme Corp",
    "timezone": "Europe/Berlin",
    "sla_warning_percent": "80",
    "monday": "08:00-12:00, 13:00-17:00",
    "tuesday": "08:00-17:00",
    "wednesday": "08:00-17:00",
    "thursday": "08:00-17:00",
    "friday": "08:00-13:00",
    "saturday": "",
    "sunday": "",
}


def test_settings_change_the_calendar_that_new_deadlines_use(client, org):
    login(client, factories.admin_of(org))
    page = client.get("/admin/settings/").get_data(as_text=True)
    assert "09:00-17:00" in page  # the defaults are shown
    assert post(client, "/admin/settings/", SETTINGS).status_code == 302
    _db.session.expire_all()
    org = _db.session.get(Organization, org.id)
    assert (org.name, org.timezone, org.sla_warning_percent) == ("Acme Corp", "Europe/Berlin", 80)
    hours = orgs.weekly_hours(org)
    assert hours[0] == [(480, 720), (780, 1020)] and hours[4] == [(480, 780)] and hours[5] == []
    # A P3 ticket (240 business minutes to respond) raised Friday 12:00 Berlin time: one hour on
    # Friday, then Monday 08:00-11:00.
    friday_noon = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
    ticket = factories.make_ticket(factories.make_user(org), now=friday_noon)
    assert ticket.first_response_due_at == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("monday", "9-5", "Write hours like 09:00-17:00."),
        ("tuesday", "17:00-09:00", "is not a period within one day"),
        ("wednesday", "08:00-12:00, 11:00-14:00", "The periods overlap."),
        ("timezone", "Mars/Olympus", "Use an IANA name such as Europe/Berlin."),
        ("sla_warning_percent", "150", "between 1 and 99"),
    ],
)
def test_bad_settings_re_render_with_the_fields_message(client, org, field, value, message):
    login(client, factories.admin_of(org))
    response = post(client, "/admin/settings/", {**SETTINGS, field: value})
    assert response.status_code == 200
    assert message.lower() in response.get_data(as_text=True).lower()
    _db.session.expire_all()
    assert _db.session.get(Organization, org.id).name == "Acme Ltd"  # nothing saved
    assert orgs.weekly_hours(org)[0] == [(540, 1020)]


def test_a_week_without_hours_is_refused(client, org):
    login(client, factories.admin_of(org))
    week_off = {**SETTINGS, **{day: "" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}}
    response = post(client, "/admin/settings/", week_off)
    assert response.status_code == 200 and "Add working hours." in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["manager", "agent", "employee"])
def test_only_org_admins_change_settings(client, org, role):
    login(client, factories.make_user(org, role))
    assert client.get("/admin/settings/").status_code == 403
    assert post(client, "/admin/settings/", SETTINGS).status_code == 403


# --- bulk reassignment ---------------------------------------------------------------------------


def test_bulk_reassign_moves_what_it_may_and_says_why_not_the_rest(client, org, other_org):
    leaver = factories.make_user(org, "agent")
    taker = factories.make_user(org, "agent")
    requester = factories.make_user(org)
    open_ones = [factories.make_ticket_in("open", requester, leaver) for _ in range(2)]
    closed = factories.make_ticket_in("closed", requester, leaver)
    foreign = factories.make_ticket_in("open", factories.make_user(other_org), factories.make_user(other_org, "agent"))
    login(client, factories.admin_of(org))
    ids = [t.id for t in (*open_ones, closed, foreign)]
    start = post(client, "/admin/ticket/action/", {"action": "reassign", "rowid": [str(i) for i in ids]})
    assert start.status_code == 302 and "/admin/ticket/reassign/" in start.headers["Location"]
    page = client.get(start.headers["Location"]).get_data(as_text=True)
    assert open_ones[0].reference in page and foreign.reference not in page  # not ours: not even listed
    done = post(client, "/admin/ticket/reassign/", {"ids": ",".join(map(str, ids)), "assignee": str(taker.id)})
    assert done.status_code == 302
    _db.session.expire_all()
    from autotrack.models import Ticket

    assignees = {t.id: _db.session.get(Ticket, t.id).assignee_id for t in (*open_ones, closed, foreign)}
    assert assignees[open_ones[0].id] == assignees[open_ones[1].id] == taker.id
    assert assignees[closed.id] == leaver.id and assignees[foreign.id] != taker.id
    messages = client.get("/admin/ticket/").get_data(as_text=True)
    assert "2 ticket(s) reassigned" in messages and f"{closed.reference} not reassigned" in messages


def test_reassigning_to_someone_outside_the_organization_is_refused(client, org, other_org):
    ticket = factories.make_ticket_in("open", factories.make_user(org), factories.make_user(org, "agent"))
    stranger = factories.make_user(other_org, "agent")
    login(client, factories.admin_of(org))
    response = post(client, "/admin/ticket/reassign/", {"ids": str(ticket.id), "assignee": str(stranger.id)})
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    _db.session.expire_all()
    from autotrack.models import Ticket

    assert _db.session.get(Ticket, ticket.id).assignee_id != stranger.id
