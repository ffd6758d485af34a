"""Another organization's objects do not exist for you, and each portal is behind its role check."""

import pytest

from autotrack.models.types import utcnow
from tests import factories
from tests.conftest import csrf_token, login

# Every route that names an object, with the method and form data that exercise it.
OBJECT_ROUTES = {
    "portal.ticket": ("GET", {}),
    "portal.comment": ("POST", {"body": "hello"}),
    "portal.transition": ("POST", {"action": "close"}),
    "portal.rate": ("POST", {"rating": "4"}),
    "portal.add_cc": ("POST", {"email": "someone@example.com"}),
    "agent.ticket": ("GET", {}),
    "agent.sla": ("GET", {}),
    "agent.canned_search": ("GET", {}),
    "agent.merge": ("POST", {"into": "1", "confirm": "y"}),
    "agent.add_link": ("POST", {"ticket": "1", "kind": "related"}),
    "agent.comment": ("POST", {"body": "hello"}),
    "agent.transition": ("POST", {"action": "resolve"}),
    "agent.priority": ("POST", {"priority_id": "1"}),
    "agent.add_task": ("POST", {"title": "a task"}),
    "agent.task_done": ("POST", {"task_id": "1", "done": "1"}),
    "agent.follow": ("POST", {}),
    "agent.add_cc": ("POST", {"email": "someone@example.com"}),
}


# Routes that take arguments but name no organization object: static files, the console's
# export routes (console views take ids as ?id=; tests/admin covers them view by view) and the
# CSV import templates (a kind, the same for everyone).
def _names_no_object(endpoint):
    return endpoint == "static" or endpoint.endswith((".static", ".export")) or endpoint == "csv_import.template"


# Object routes whose cross-organization tests live with their feature.
COVERED_ELSEWHERE = {
    "files.download": "tests/test_attachments.py",
    "feedback.rate": "tests/test_feedback.py",
    **{name: "tests/test_canned.py" for name in ("agent.canned_fill", "agent.canned_delete", "api.canned_fill")},
    **{name: "tests/test_merge_and_link.py" for name in ("agent.remove_link", "api.link")},
    "agent.delete_view": "tests/test_saved_views.py",
    "auth.reset": "tests/security/test_password_links.py",  # no sign-in: the token is the key, to one account only
    **{
        name: "tests/test_watchers.py" for name in ("agent.remove_watcher", "portal.remove_watcher", "api.watcher")
    },  # no sign-in: the token is the key, good for its own ticket only
    # Bearer-token routes: test_another_organizations_ticket_is_404_on_every_endpoint
    **{
        f"api.{name}": "tests/api/test_api.py"
        for name in ("ticket", "transitions", "comments", "events", "sla", "feedback", "merge", "links", "watchers")
    },
}


def test_every_object_route_is_covered_by_the_tenancy_tests(app):
    with_args = {
        rule.endpoint for rule in app.url_map.iter_rules() if rule.arguments and not _names_no_object(rule.endpoint)
    }
    assert with_args == set(OBJECT_ROUTES) | set(COVERED_ELSEWHERE), "add new object routes to OBJECT_ROUTES"


@pytest.fixture
def foreign_ticket(other_org):
    """A ticket of another organization, resolved so every action would otherwise apply."""
    agent = factories.make_user(other_org, "agent")
    return factories.make_ticket_in("resolved", factories.make_user(other_org), agent)


def _request(client, endpoint, reference):
    from flask import url_for

    method, data = OBJECT_ROUTES[endpoint]
    with client.application.test_request_context():
        path = url_for(endpoint, reference=reference)
    if method == "GET":
        return client.get(path)
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/portal/")})


@pytest.mark.parametrize("role", ["employee", "agent", "manager", "org_admin"])
@pytest.mark.parametrize("endpoint", sorted(OBJECT_ROUTES))
def test_other_organizations_ticket_is_404_everywhere(client, org, foreign_ticket, role, endpoint):
    user = factories.admin_of(org) if role == "org_admin" else factories.make_user(org, role)
    login(client, user)
    if endpoint.startswith("agent.") and role == "employee":
        expected = 403  # employees are stopped at the portal door before any lookup
    else:
        expected = 404
    # Their reference misses even though our organization has a ticket with the same number.
    factories.make_ticket(factories.make_user(org))
    for reference in (foreign_ticket.reference, str(foreign_ticket.number + 500), "not-a-number"):
        assert _request(client, endpoint, reference).status_code == expected


def test_foreign_ticket_number_under_our_prefix_shows_our_ticket_not_theirs(client, org, foreign_ticket):
    ours = factories.make_ticket(factories.make_user(org), title="Our own ticket")
    assert ours.number == foreign_ticket.number
    login(client, factories.admin_of(org))
    page = client.get(f"/agent/tickets/{ours.reference}").get_data(as_text=True)
    assert "Our own ticket" in page and foreign_ticket.title not in page


def test_employee_cannot_open_a_colleagues_ticket(client, org):
    colleague_ticket = factories.make_ticket(factories.make_user(org))
    login(client, factories.make_user(org))
    assert client.get(f"/portal/tickets/{colleague_ticket.reference}").status_code == 404


def test_agent_cannot_open_another_departments_ticket(client, org):
    facilities = factories.make_department(org, "Facilities")
    ticket = factories.make_ticket(factories.make_user(org))  # routed to Support
    login(client, factories.make_user(org, "agent", department=facilities))
    assert client.get(f"/agent/tickets/{ticket.reference}").status_code == 404


def test_agent_queue_lists_only_own_departments_and_own_org(client, org, other_org, foreign_ticket):
    facilities = factories.make_department(org, "Facilities")
    ours = factories.make_ticket(factories.make_user(org), title="Support work")
    factories.make_ticket(factories.make_user(org), title="Facilities work", department=None)
    hidden = factories.make_ticket(factories.admin_of(org), title="Moved away")
    from autotrack.services import tickets

    tickets.change_department(factories.admin_of(org), hidden, facilities, now=utcnow())
    from autotrack.extensions import db

    db.session.commit()
    login(client, factories.make_user(org, "agent"))
    page = client.get("/agent/?view=all").get_data(as_text=True)
    assert ours.reference in page
    assert "Moved away" not in page
    assert foreign_ticket.title not in page


PORTALS = ["/portal/", "/agent/", "/manager/", "/admin/"]
ALLOWED = {
    "employee": {"/portal/"},
    "agent": {"/portal/", "/agent/"},
    "manager": {"/portal/", "/agent/", "/manager/"},
    "org_admin": {"/portal/", "/agent/", "/manager/", "/admin/"},
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_portals_are_behind_role_checks(client, org, role):
    user = factories.admin_of(org) if role == "org_admin" else factories.make_user(org, role)
    login(client, user)
    for path in PORTALS:
        expected = 200 if path in ALLOWED[role] else 403
        assert client.get(path).status_code == expected, (role, path)


@pytest.mark.parametrize("path", PORTALS)
def test_anonymous_users_are_sent_to_login(client, org, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_custom_role_without_agent_permissions_is_kept_out_of_agent_portal(client, org):
    from autotrack.extensions import db
    from autotrack.models import Role

    auditor = Role(org_id=org.id, name="Auditor", portal="manager")
    auditor.set_permissions({"report.view", "ticket.view_all"})
    db.session.add(auditor)
    db.session.commit()
    user = factories.make_user(org, "Auditor")
    login(client, user)
    assert client.get("/manager/").status_code == 200
    assert client.get("/agent/").status_code == 200  # may read every ticket
    assert client.get("/admin/").status_code == 403
    ticket = factories.make_ticket(factories.make_user(org))
    response = client.post(
        f"/agent/tickets/{ticket.reference}/transitions",
        data={"action": "resolve", "csrf_token": csrf_token(client, "/manager/")},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert ticket.state == "new"  # read-only: the transition was refused


def test_api_errors_are_json_in_the_documented_format(client, org):
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
