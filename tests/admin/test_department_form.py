"""Console › Departments › Edit shows each department's real managers, agents and leads, and a
save changes only what the admin changed (issue 22: every staff member was shown selected in
every list, and saving that made all staff agents and leads of every department)."""

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import Department, DepartmentMember, User
from tests import factories
from tests.admin.page_forms import as_post_data, read_form, selected
from tests.conftest import login


@pytest.fixture
def staffed(org):
    """Four departments with different people in each (9 staff, like the demo organization)."""
    support = factories.default_department(org)
    hr, it, facilities = (factories.make_department(org, name) for name in ("HR", "IT", "Facilities"))
    people = {
        "hr_boss": factories.make_user(org, "manager", department=hr),
        "hr_lead": factories.make_user(org, "agent", department=hr, lead=True),
        "hr_agent": factories.make_user(org, "agent", department=hr),
        "it_boss": factories.make_user(org, "manager", department=it),
        "it_lead": factories.make_user(org, "agent", department=it, lead=True),
        "it_agent": factories.make_user(org, "agent", department=it),
        "support_agent": factories.make_user(org, "agent", department=support),
        "support_lead": factories.make_user(org, "agent", department=support, lead=True),
        "roamer": factories.make_user(org, "agent", department=facilities),
    }
    return {"departments": [support, hr, it, facilities], "people": people}


def memberships(org):
    """Every department membership of the organization: (department, user email, role, lead)."""
    _db.session.expire_all()
    rows = _db.session.execute(
        select(Department.name, User.email, DepartmentMember.role, DepartmentMember.is_lead)
        .join(Department, Department.id == DepartmentMember.department_id)
        .join(User, User.id == DepartmentMember.user_id)
        .where(DepartmentMember.org_id == org.id)
    ).all()
    return {tuple(row) for row in rows}


def expected_selection(department):
    managers = {str(m.user_id) for m in department.members if m.role == "manager"}
    agents = {str(m.user_id) for m in department.members if m.role == "agent"}
    leads = {str(m.user_id) for m in department.members if m.role == "agent" and m.is_lead}
    return {"managers": managers, "agents": agents, "leads": leads}


def test_the_edit_page_selects_exactly_each_departments_members(client, org, staffed):
    login(client, factories.admin_of(org))
    for department in staffed["departments"]:
        page = client.get(f"/admin/department/edit/?id={department.id}").get_data(as_text=True)
        shown = {group: selected(page, group) for group in ("managers", "agents", "leads")}
        assert shown == expected_selection(department), department.name


def test_saving_every_edit_page_unchanged_changes_no_membership(client, org, staffed):
    login(client, factories.admin_of(org))
    before = memberships(org)
    for department in staffed["departments"]:
        path = f"/admin/department/edit/?id={department.id}"
        fields = read_form(client.get(path).get_data(as_text=True))
        response = client.post(path, data=as_post_data(fields))
        assert response.status_code == 302, (department.name, response.get_data(as_text=True)[-2000:])
    assert memberships(org) == before


def test_renaming_a_department_changes_only_its_name(client, org, staffed):
    hr = staffed["departments"][1]
    login(client, factories.admin_of(org))
    before = memberships(org)
    path = f"/admin/department/edit/?id={hr.id}"
    fields = read_form(client.get(path).get_data(as_text=True))
    assert client.post(path, data=as_post_data(fields, name="People")).status_code == 302
    assert memberships(org) == {("People" if name == "HR" else name, *rest) for name, *rest in before}


def test_adding_a_lead_changes_only_that_lead(client, org, staffed):
    hr, hr_agent = staffed["departments"][1], staffed["people"]["hr_agent"]
    login(client, factories.admin_of(org))
    before = memberships(org)
    path = f"/admin/department/edit/?id={hr.id}"
    fields = read_form(client.get(path).get_data(as_text=True))
    leads = [value for name, value in fields if name == "leads"] + [str(hr_agent.id)]
    assert client.post(path, data=as_post_data(fields, leads=leads)).status_code == 302
    changed = {("HR", hr_agent.email, "agent", True)}
    assert memberships(org) == (before - {("HR", hr_agent.email, "agent", False)}) | changed


def test_a_deactivated_member_survives_an_unchanged_save(client, org, staffed):
    it, it_agent = staffed["departments"][2], staffed["people"]["it_agent"]
    _db.session.get(User, it_agent.id).active = False
    _db.session.commit()
    login(client, factories.admin_of(org))
    before = memberships(org)
    path = f"/admin/department/edit/?id={it.id}"
    fields = read_form(client.get(path).get_data(as_text=True))
    assert ("agents", str(it_agent.id)) in fields
    assert client.post(path, data=as_post_data(fields)).status_code == 302
    assert memberships(org) == before


def test_two_users_are_the_same_only_when_they_are_the_same_row(org, staffed):
    """Flask-Login's UserMixin compared get_id(), None for everyone not signed in: all equal."""
    one, other = staffed["people"]["hr_agent"], staffed["people"]["it_agent"]
    assert one != other and one not in [other]
    assert one == _db.session.get(User, one.id)
