"""Every route declares what it requires, and every role gets exactly that.

REQUIRES maps each part of the site to the capability the policy must grant (`policy.can`);
PUBLIC lists what needs no sign-in. A new route that falls under neither fails the first test.
The matrix then asks every argument-free GET route as each role (anonymous, employee, agent,
lead, manager, a custom read-only auditor, org admin) and checks the answer against the policy.
"""

import pytest
from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.models import Perm, Portal, Role
from autotrack.services import policy
from tests import factories
from tests.conftest import login

REQUIRES = {  # path prefix -> what the policy must allow
    "/admin": "portal.admin",
    "/agent": "portal.agent",
    "/manager": "portal.manager",
    "/portal": "portal.employee",
    "/notifications": "signed_in",
    "/account": "signed_in",
    "/attachments": "signed_in",
    "/api/v1": "token",
}
PUBLIC = {  # endpoint -> why anybody may call it
    "static": "our CSS and scripts",
    "favicon": "the icon browsers ask for",
    "bootstrap.static": "Bootstrap",
    "auth.index": "sends to sign-in or home",
    "auth.login": "signing in",
    "auth.logout": "signing out (POST with CSRF)",
    "auth.register": "directory self-registration",
    "auth.reset_request": "asking for a reset link",
    "auth.reset": "the link's token is the key",
    "auth.second_factor": "the second step of signing in (needs the first)",
    "health.healthz": "load balancers",
    "feedback.rate": "the rating link's token is the key",
    "api-docs.openapi_json": "the API's published spec",
    "api_docs": "the spec as a page",
    "api.token": "exchanging credentials for a token",
}
# In the console, Flask-Admin's own static files.
_CONSOLE_STATIC = ("admin.static",)


def requirement(rule):
    if rule.endpoint in PUBLIC or rule.endpoint in _CONSOLE_STATIC:
        return "public"
    matches = [prefix for prefix in REQUIRES if rule.rule == prefix or rule.rule.startswith(prefix + "/")]
    return REQUIRES[max(matches, key=len)] if matches else None


def test_every_route_declares_what_it_requires(app):
    undeclared = sorted(rule.rule for rule in app.url_map.iter_rules() if requirement(rule) is None)
    assert undeclared == [], "add these to REQUIRES or PUBLIC: " + ", ".join(undeclared)


def _auditor(org):
    role = Role(org_id=org.id, name="Auditor", portal=Portal.MANAGER, description="read-only, whole organization")
    role.set_permissions({Perm.TICKET_VIEW_ALL, Perm.REPORT_VIEW})
    _db.session.add(role)
    _db.session.commit()
    user = factories.make_user(org, "employee", name="Auditor")
    user.role = role
    _db.session.commit()
    return user


ROLES = ("anonymous", "employee", "agent", "lead", "manager", "auditor", "org_admin")


def _user(org, role):
    if role == "anonymous":
        return None
    if role == "org_admin":
        return factories.admin_of(org)
    if role == "auditor":
        return _auditor(org)
    if role == "lead":
        return factories.make_user(org, "agent", lead=True)
    return factories.make_user(org, role)


def _routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" in rule.methods and not rule.arguments and requirement(rule) not in ("public", "token"):
            if rule.endpoint.endswith((".action_view", ".ajax_update", ".delete_view")):
                continue  # POST-only in practice
            yield rule


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_policy_grants_on_every_route(app, client, org, role):
    user = _user(org, role)
    if user is not None:
        login(client, user)
    wrong = []
    for rule in _routes(app):
        needed = requirement(rule)
        allowed = user is not None and (needed == "signed_in" or policy.can(user, needed))
        status = client.get(rule.rule).status_code
        location = ""
        if status in (301, 302, 303):
            location = client.get(rule.rule).headers.get("Location", "")
        if allowed:
            ok = status in (200, 302, 303) and "/login" not in location  # 302: e.g. a read-only view's create page
            if rule.endpoint.endswith(".ajax_lookup") or rule.endpoint == "ticket.sla_timeline":
                ok = ok or status == 404  # asked for no lookup by name, no ticket by ?id=: none to answer
        elif user is None:
            ok = status in (301, 302) and "/login" in location
        else:
            ok = status == 403
        if not ok:
            wrong.append(f"{rule.rule} ({needed}) -> {status} {location}")
    assert wrong == [], f"{role}: " + "; ".join(wrong)


def test_the_auditor_reads_everything_and_changes_nothing(client, org):
    auditor = _auditor(org)
    ticket = factories.make_ticket(factories.make_user(org))
    login(client, auditor)
    assert client.get(f"/agent/tickets/{ticket.reference}").status_code == 200
    from tests.conftest import post_form

    page = f"/agent/tickets/{ticket.reference}"
    response = post_form(client, f"{page}/transitions", {"action": "resolve"}, token_from=page)
    _db.session.expire_all()
    assert ticket.state == "new" and response.status_code in (302, 403)
    assert _db.session.scalar(select(Role.name).where(Role.id == auditor.role_id)) == "Auditor"
