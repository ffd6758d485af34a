"""Who is staff comes from a role's permissions, not its portal: a custom read-only Auditor built
on the agent portal works no department queue, leads none, manages none and is told of no
escalation, in the console, the CSV import and the SLA sweep alike (issue 23)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import (
    DepartmentMember,
    MemberRole,
    OutboxEmail,
    Perm,
    Portal,
    Role,
)
from autotrack.services import policy, sla, tickets
from autotrack.services.errors import ValidationError
from autotrack.services.org import imports, orgs
from autotrack.services.people import accounts
from tests import factories
from tests.admin.page_forms import read_form
from tests.conftest import login


@pytest.fixture
def auditor(org):
    """A read-only role on the agent portal: sees every ticket and the reports, changes nothing."""
    role = Role(org_id=org.id, name="Auditor", portal=Portal.AGENT)
    role.set_permissions({Perm.TICKET_VIEW_ALL, Perm.REPORT_VIEW})
    _db.session.add(role)
    _db.session.commit()
    return factories.make_user(
        org, "Auditor", email="auditor@acme.example", department=factories.default_department(org)
    )


def seats(user):
    return set(_db.session.scalars(select(DepartmentMember.role).where(DepartmentMember.user_id == user.id)))


def test_the_policy_judges_roles_by_their_permissions(org, auditor):
    roles = {role.builtin: role for role in _db.session.scalars(select(Role).where(Role.org_id == org.id))}
    assert [policy.is_staff(roles[key]) for key in ("org_admin", "manager", "agent", "employee")] == [
        True,
        True,
        True,
        False,
    ]
    assert [policy.department_seat(roles[key]) for key in ("org_admin", "manager", "agent", "employee")] == [
        MemberRole.AGENT,
        MemberRole.MANAGER,
        MemberRole.AGENT,
        None,
    ]
    assert not policy.is_staff(auditor) and not policy.can_manage_departments(auditor)
    assert policy.department_seat(auditor) is None


def test_an_auditor_put_into_a_department_joins_it_as_an_employee(auditor):
    assert seats(auditor) == set()
    assert auditor.department_id == factories.default_department(auditor.organization).id


def test_the_console_offers_no_auditor_as_manager_agent_or_lead(client, org, auditor):
    login(client, factories.admin_of(org))
    support = factories.default_department(org)
    page = client.get(f"/admin/department/edit/?id={support.id}").get_data(as_text=True)
    assert read_form(page)  # the form is there
    assert "auditor@acme.example" not in page
    for group in ("managers", "agents", "leads"):
        with pytest.raises(ValidationError):
            orgs.set_department_members(
                support, **{group: [auditor]} | ({"agents": [auditor]} if group == "leads" else {})
            )
        _db.session.rollback()


def test_an_auditor_is_no_escalation_target_even_with_a_seat_left_over(org, auditor):
    """A seat written before (or a role edited since) does not make a read-only user a target."""
    support = factories.default_department(org)
    agent = factories.make_user(org, "agent", department=support, email="agent@acme.example")
    employee = factories.make_user(org, email="emp@acme.example")
    _db.session.add_all(
        [
            DepartmentMember(org_id=org.id, department=support, user=auditor, role=MemberRole.AGENT, is_lead=True),
            DepartmentMember(org_id=org.id, department=support, user=auditor, role=MemberRole.MANAGER),
        ]
    )
    _db.session.commit()
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    ticket = tickets.create_ticket(
        agent, title="Payments down", priority=factories.priority(org, "P1"), requester=employee, now=start
    )
    _db.session.commit()
    sla.sweep(start.replace(hour=20))  # every level fires; the empty lead and manager levels fall through
    told = set(
        _db.session.scalars(
            select(OutboxEmail.recipient).where(OutboxEmail.dedupe_key.startswith(f"escalation:{ticket.id}:"))
        )
    )
    assert told == {"admin@acme.example"}


def run(org, kind, text):
    return imports.run(org, kind, text.replace("\n", "\r\n").encode())


def test_the_csv_import_does_not_count_an_auditor_as_staff(org, auditor):
    report = run(org, "departments", "name,agents\nSupport,auditor@acme.example\n")
    assert not report.ok and "not support staff" in report.rows[0].message
    report = run(org, "departments", "name,managers\nSupport,auditor@acme.example\n")
    assert not report.ok and "not a manager" in report.rows[0].message
    report = run(org, "users", "email,name,role,department,lead\nnew@acme.example,New,Auditor,Support,yes\n")
    assert not report.ok and "only agents can lead" in report.rows[0].message
    report = run(org, "users", "email,name,role,department,lead\nnew@acme.example,New,Auditor,Support,no\n")
    assert report.ok, report.rows
    _db.session.commit()
    assert seats(accounts.user_by_email("new@acme.example")) == set()
