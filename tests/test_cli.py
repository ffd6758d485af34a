"""Operator commands: create-org, create-user, seed-demo."""

from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import (
    BusinessCalendar,
    Category,
    Department,
    EscalationRule,
    Organization,
    Priority,
    Status,
    Ticket,
    User,
)
from autotrack.services.org.demo import DEMO_PASSWORD


def count(model, *where):
    return _db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_create_org_starts_usable(runner):
    result = runner.invoke(
        args=[
            "autotrack",
            "create-org",
            "Initech",
            "--slug",
            "initech",
            "--admin-email",
            "Boss@Initech.example",
            "--admin-password",
            "s3cret-pass",
            "--timezone",
            "America/Chicago",
        ]
    )
    assert result.exit_code == 0, result.output
    org = _db.session.scalar(select(Organization).where(Organization.slug == "initech"))
    assert org.timezone == "America/Chicago" and org.ticket_prefix == "INITECH"
    prios = {
        p.name: (p.first_response_minutes, p.resolution_minutes, p.calendar)
        for p in _db.session.scalars(select(Priority).where(Priority.org_id == org.id))
    }
    assert prios == {
        "P1": (15, 120, "24x7"),
        "P2": (60, 360, "business_hours"),
        "P3": (240, 1440, "business_hours"),
        "P4": (480, 4320, "business_hours"),
    }
    categories = set(_db.session.scalars(select(Status.category).where(Status.org_id == org.id)))
    assert categories == {"new", "open", "pending", "resolved", "closed"}
    calendar = _db.session.scalar(select(BusinessCalendar).where(BusinessCalendar.org_id == org.id))
    assert [(h.weekday, h.start_minute, h.end_minute) for h in calendar.hours] == [(d, 540, 1020) for d in range(5)]
    assert sorted(_db.session.scalars(select(EscalationRule.level).where(EscalationRule.org_id == org.id))) == [1, 2, 3]
    assert _db.session.scalar(select(Department.name).where(Department.org_id == org.id)) == "Support"
    admin = _db.session.scalar(select(User).where(User.email == "boss@initech.example"))
    assert admin.role.builtin == "org_admin"


def test_create_org_rejects_bad_input_and_writes_nothing(runner):
    result = runner.invoke(
        args=[
            "autotrack",
            "create-org",
            "X",
            "--slug",
            "Bad Slug!",
            "--admin-email",
            "a@x.example",
            "--admin-password",
            "s3cret-pass",
        ]
    )
    assert result.exit_code != 0 and "slug" in result.output
    result = runner.invoke(
        args=[
            "autotrack",
            "create-org",
            "X",
            "--slug",
            "xco",
            "--admin-email",
            "a@x.example",
            "--admin-password",
            "s3cret-pass",
            "--timezone",
            "Mars/Base",
        ]
    )
    assert result.exit_code != 0 and "timezone" in result.output
    result = runner.invoke(
        args=[
            "autotrack",
            "create-org",
            "X",
            "--slug",
            "xco",
            "--admin-email",
            "a@x.example",
            "--admin-password",
            "short",
        ]
    )
    assert result.exit_code != 0 and "at least 8" in result.output
    assert count(Organization) == 0 and count(User) == 0


def test_create_user_joins_the_department(runner, org):
    result = runner.invoke(
        args=[
            "autotrack",
            "create-user",
            "lead@acme.example",
            "--org",
            "acme",
            "--role",
            "agent",
            "--password",
            "s3cret-pass",
            "--department",
            "Support",
            "--lead",
        ]
    )
    assert result.exit_code == 0, result.output
    user = _db.session.scalar(select(User).where(User.email == "lead@acme.example"))
    assert user.is_lead and user.role.builtin == "agent"
    result = runner.invoke(
        args=[
            "autotrack",
            "create-user",
            "x@acme.example",
            "--org",
            "acme",
            "--role",
            "wizard",
            "--password",
            "s3cret-pass",
        ]
    )
    assert result.exit_code != 0 and "Unknown role" in result.output
    result = runner.invoke(
        args=[
            "autotrack",
            "create-user",
            "x@acme.example",
            "--org",
            "nope",
            "--role",
            "agent",
            "--password",
            "s3cret-pass",
        ]
    )
    assert result.exit_code != 0 and "No organization" in result.output


def test_seed_demo_builds_every_role_and_lifecycle_state(runner, client):
    result = runner.invoke(args=["autotrack", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin@acme.example" in result.output and DEMO_PASSWORD in result.output
    org = _db.session.scalar(select(Organization).where(Organization.slug == "acme"))
    states = dict(
        _db.session.execute(
            select(Ticket.state, func.count()).where(Ticket.org_id == org.id).group_by(Ticket.state)
        ).all()
    )
    assert set(states) == {"new", "open", "pending", "resolved", "closed"}
    assert sum(states.values()) == 50
    roles = set(_db.session.scalars(select(User.role_id).where(User.org_id == org.id)))
    assert len(roles) == 4
    payments = _db.session.scalar(
        select(Category).where(Category.org_id == org.id, Category.path == "Finance/Payments")
    )
    assert payments.default_priority.name == "P1"
    assert count(Category, Category.org_id == org.id, Category.depth == 3) >= 6

    again = runner.invoke(args=["autotrack", "seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "already there" in again.output
    assert count(Ticket) == 50
    assert runner.invoke(args=["autotrack", "seed-demo"]).exit_code != 0


def test_every_demo_login_lands_on_its_home(runner, client):
    from tests.conftest import post_form

    runner.invoke(args=["autotrack", "seed-demo"])
    homes = {"org_admin": "/admin/", "manager": "/manager/", "agent": "/agent/", "employee": "/portal/"}
    from autotrack.services.org.demo import demo_logins

    for email, role, password in demo_logins():
        fresh = client.application.test_client()
        response = post_form(fresh, "/login", {"email": email, "password": password})
        assert response.headers["Location"] == homes[role], email
        assert fresh.get(homes[role]).status_code == 200


def test_the_demo_is_seeded_only_into_an_empty_database(runner, other_org):
    """Its history's sweeps cover every organization: another organization's tickets would be
    swept at back-dated times. `make run` (--if-empty) says so and goes on."""
    result = runner.invoke(args=["autotrack", "seed-demo"])
    assert result.exit_code != 0 and "only into an empty database" in result.output
    skipped = runner.invoke(args=["autotrack", "seed-demo", "--if-empty"])
    assert skipped.exit_code == 0 and "no demo" in skipped.output
    assert [o.slug for o in _db.session.scalars(select(Organization))] == [other_org.slug]
