"""Security events: failed sign-ins, lockouts, denied access, role changes, deactivation and
ended sessions are recorded where they happen, and the org admin sees their organization's."""

from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import Role, SecurityEvent
from tests import factories
from tests.conftest import login, post_form
from tests.helpers import token_for


def events(**where):
    _db.session.expire_all()
    query = select(SecurityEvent).order_by(SecurityEvent.id)
    for name, value in where.items():
        query = query.where(getattr(SecurityEvent, name) == value)
    return _db.session.scalars(query).all()


def test_sign_ins_failures_and_lockouts_are_recorded(app, client, org):
    user = factories.make_user(org)
    for _ in range(app.config["AUTOTRACK_LOGIN_MAX_FAILURES"]):
        post_form(client, "/login", {"email": user.email, "password": "wrong"})
    post_form(client, "/login", {"email": "nobody@acme.example", "password": "wrong"})
    kinds = [e.kind for e in events(user_id=user.id)]
    assert kinds == ["sign_in_failed"] * (app.config["AUTOTRACK_LOGIN_MAX_FAILURES"] - 1) + ["locked"]
    [unknown] = events(kind="sign_in_failed", org_id=None)
    assert "unknown address nobody@acme.example" in unknown.detail and unknown.address == "127.0.0.1"
    other = factories.make_user(org)
    login(app.test_client(), other)
    token_for(app.test_client(), other)
    assert [(e.kind, e.detail) for e in events(user_id=other.id)] == [("sign_in", "web"), ("sign_in", "api")]


def test_denied_requests_are_recorded_on_the_web_and_the_api(app, client, org, api):
    employee = factories.make_user(org)
    login(client, employee)
    assert client.get("/agent/").status_code == 403
    ticket = factories.make_ticket(employee)
    response = api(employee)("POST", f"/tickets/{ticket.reference}/transitions", json={"action": "resolve"})
    assert response.status_code == 403
    details = [e.detail for e in events(kind="access_denied", user_id=employee.id)]
    assert details[0].startswith("GET /agent/") and details[1].startswith(f"POST /api/v1/tickets/{ticket.reference}")


def test_role_changes_deactivation_and_sign_out_everywhere_are_recorded(app, client, org):
    user = factories.make_user(org, name="Ada")
    admin = factories.admin_of(org)
    login(client, admin)
    agent_role = _db.session.scalar(select(Role).where(Role.org_id == org.id, Role.builtin == "agent"))
    page = f"/admin/user/edit/?id={user.id}"
    response = post_form(
        client,
        page,
        {"name": user.name, "email": user.email, "role": str(agent_role.id), "active": ""},
        token_from=page,
    )
    assert response.status_code == 302
    recorded = {e.kind: e.detail for e in events(user_id=user.id)}
    assert recorded["role_changed"] == f"Employee → Agent by {admin.name}"
    assert "deactivated" in recorded

    other = app.test_client()
    login(other, admin)
    post_form(other, "/account/sign-out-everywhere", token_from="/account")
    assert events(kind="signed_out_everywhere", user_id=admin.id)


def test_the_org_admin_sees_their_organizations_events_only(client, org, other_org):
    stranger = factories.make_user(other_org, email="eve@globex.example")
    post_form(client, "/login", {"email": stranger.email, "password": "wrong"})
    ours = factories.make_user(org, email="ada@acme.example")
    post_form(client, "/login", {"email": ours.email, "password": "wrong"})
    login(client, factories.admin_of(org))
    page = client.get("/admin/security/").get_data(as_text=True)
    assert "ada@acme.example" in page and "Sign-in failed" in page
    assert "eve@globex.example" not in page
    assert client.get(f"/admin/security/details/?id={events(user_id=stranger.id)[0].id}").status_code in (302, 404)


def test_recording_an_event_takes_no_lock_on_the_user_or_the_organization(app, org):
    """Found by schemathesis on MariaDB: a token request (user row updated, then an event whose
    foreign key read-locked the organization) deadlocked with a ticket being numbered (the
    organization's row locked, then the requester's read-locked)."""
    from sqlalchemy import insert, inspect, text, update

    from autotrack.models import Organization, utcnow

    assert inspect(_db.engine).get_foreign_keys("security_events") == []
    user = factories.make_user(org)
    if _db.engine.dialect.name == "sqlite":
        return  # one writer at a time there: nothing to deadlock; the schema check above holds
    with _db.engine.connect() as numbering:
        numbering.execute(text("SET SESSION innodb_lock_wait_timeout = 2"))
        numbering.commit()
        transaction = numbering.begin()
        numbering.execute(
            update(Organization).where(Organization.id == org.id).values(ticket_seq=Organization.ticket_seq + 1)
        )
        with _db.engine.connect() as signing_in:
            signing_in.execute(text("SET SESSION innodb_lock_wait_timeout = 2"))
            signing_in.commit()
            with signing_in.begin():  # would wait for the numbering (and time out) with a foreign key
                signing_in.execute(
                    insert(SecurityEvent).values(org_id=org.id, user_id=user.id, kind="sign_in", created_at=utcnow())
                )
        transaction.rollback()
