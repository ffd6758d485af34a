"""What signing a request in costs: one SELECT for the user, organization and role, with the
role's permissions and the user's departments from the per-organization cache, which a change
outdates at once; and the rate limiter only on the doors it limits."""

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.extensions import limiter
from autotrack.models import Perm, Role
from autotrack.services.org import orgs
from autotrack.services.people import roles
from tests import factories
from tests.helpers import statements


def role_of(user):
    return _db.session.scalar(select(Role).where(Role.id == user.role_id))


@pytest.mark.parametrize("role", ["employee", "agent", "manager"])
def test_me_is_one_statement(client, org, api, role):
    user = factories.make_user(org, role)
    call = api(user)
    first = call("GET", "/me")  # fills the cache for this organization's settings
    with statements() as seen:
        response = call("GET", "/me")
    assert response.status_code == 200
    assert response.get_json() == first.get_json()
    assert len(seen) == 1, "\n".join(seen)
    assert "totp_secret" not in seen[0] and "failed_login_count" not in seen[0]


def test_me_answers_as_before(client, org, api):
    agent = factories.make_user(org, "agent", name="Ann Agent")
    orgs.add_member(factories.make_department(org, "Facilities"), agent, "agent")
    _db.session.commit()
    assert api(agent)("GET", "/me").get_json() == {
        "id": agent.id,
        "name": "Ann Agent",
        "email": agent.email,
        "role": "Agent",
        "organization": {"slug": "acme", "name": org.name},
        "departments": ["Facilities", "Support"],
    }


def test_a_removed_permission_counts_from_the_very_next_request(client, org, api):
    employee = factories.make_user(org)
    call = api(employee)
    assert call("POST", "/tickets", json={"title": "Printer"}).status_code == 201
    role = role_of(employee)
    roles.apply(role, role.permissions - {Perm.TICKET_CREATE})
    _db.session.commit()
    assert call("POST", "/tickets", json={"title": "Printer"}).status_code == 403


def test_a_new_department_shows_on_the_very_next_request(client, org, api):
    agent = factories.make_user(org, "agent")
    call = api(agent)
    assert call("GET", "/me").get_json()["departments"] == ["Support"]
    orgs.add_member(factories.make_department(org, "Facilities"), agent, "agent")
    _db.session.commit()
    assert call("GET", "/me").get_json()["departments"] == ["Facilities", "Support"]
    orgs.department_by_name(org, "Facilities").name = "Buildings"
    _db.session.commit()
    assert call("GET", "/me").get_json()["departments"] == ["Buildings", "Support"]


def test_a_deactivated_users_token_is_refused_on_the_next_request(client, org, api):
    user = factories.make_user(org)
    call = api(user)
    assert call("GET", "/me").status_code == 200
    user.active = False
    _db.session.commit()
    assert call("GET", "/me").status_code == 401


def test_a_signed_in_agent_loses_the_workspace_with_the_permission(client, org, login_as):
    agent = factories.make_user(org, "agent")
    web = login_as(agent)
    assert web.get("/agent/").status_code == 200
    role = role_of(agent)
    roles.apply(role, role.permissions - {Perm.TICKET_VIEW_DEPARTMENT, Perm.TICKET_VIEW_ALL})
    _db.session.commit()
    assert web.get("/agent/").status_code == 403


@pytest.fixture
def limiter_checks(app, monkeypatch):
    """Every time the limiter checks a request (its hooks and decorators all go through this)."""
    checked = []
    check = limiter._check_request_limit

    def counting(*args, **kwargs):
        checked.append(1)
        return check(*args, **kwargs)

    monkeypatch.setattr(limiter, "_check_request_limit", counting)
    monkeypatch.setitem(app.config, "AUTOTRACK_AUTH_RATE_LIMIT", "3 per minute")
    with app.app_context():
        limiter.reset()
    yield checked
    with app.app_context():
        limiter.reset()


def test_only_the_limited_doors_pay_for_the_limiter(client, org, api, limiter_checks):
    user = factories.make_user(org)
    call = api(user)  # one token request
    limiter_checks.clear()
    me = call("GET", "/me")
    assert me.status_code == 200 and "X-RateLimit-Limit" not in me.headers
    assert client.get("/login").status_code == 200
    assert limiter_checks == [1]  # the sign-in page's GET is checked by its door (and not counted)
    door = {"environ_base": {"REMOTE_ADDR": "10.9.9.9"}}
    answers = [
        client.post("/api/v1/auth/token", json={"email": user.email, "password": "guess"}, **door) for _ in range(3)
    ]
    assert [answer.status_code for answer in answers] == [401] * 3
    assert answers[-1].headers["X-RateLimit-Remaining"] == "0"  # the door's own headers
    refused = client.post("/api/v1/auth/token", json={"email": user.email, "password": factories.PASSWORD}, **door)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_the_limiter_has_no_app_wide_hooks(app):
    hooks = [*app.before_request_funcs.get(None, ()), *app.after_request_funcs.get(None, ())]
    assert not [hook for hook in hooks if limiter in (getattr(hook, "__self__", None), *getattr(hook, "args", ()))]
