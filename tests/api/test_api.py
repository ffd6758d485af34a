"""The JSON API as an integration uses it: tokens, every endpoint per role, tenancy, errors."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.models import Ticket
from autotrack.services.people import accounts, api_tokens
from tests import factories
from tests.helpers import assert_error, token_for

# --- tokens ----------------------------------------------------------------------------------


def test_a_token_opens_the_api_and_says_who_it_belongs_to(client, org, api):
    agent = factories.make_user(org, "agent", name="Ann Agent")
    me = api(agent)("GET", "/me").get_json()
    assert (me["email"], me["name"], me["organization"]["slug"]) == (agent.email, "Ann Agent", "acme")


@pytest.mark.parametrize("header", [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt"])
def test_requests_without_a_valid_token_are_401(client, org, header):
    headers = {"Authorization": header} if header else {}
    assert_error(client.get("/api/v1/tickets", headers=headers), 401, "unauthorized")


def test_wrong_password_is_401_and_counts_toward_the_lockout(client, org):
    user = factories.make_user(org)
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": "wrong password"})
    assert_error(response, 401, "unauthorized")
    _db.session.refresh(user)
    assert user.failed_login_count == 1


def test_expired_forged_and_revoked_tokens_stop_working(app, client, org):
    user = factories.make_user(org, "agent")
    good = token_for(client, user)
    claims = jwt.decode(good, options={"verify_signature": False})

    def status_with(token):
        return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code

    expired = jwt.encode(
        {**claims, "exp": datetime.now(UTC) - timedelta(seconds=1)},
        api_tokens.signing_key(),
        algorithm="HS256",
    )
    forged = jwt.encode(claims, "another key, as long as a real one would be", algorithm="HS256")
    session_key = jwt.encode(claims, app.config["SECRET_KEY"].ljust(32, "x"), algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert [status_with(t) for t in (good, expired, forged, session_key, unsigned)] == [200, 401, 401, 401, 401]

    accounts.set_password(user, "a brand new password")  # a password change revokes old tokens
    _db.session.commit()
    assert status_with(good) == 401
    fresh = token_for(client, user, "a brand new password")
    user.active = False  # so does deactivation
    _db.session.commit()
    assert status_with(fresh) == 401


def test_the_token_endpoint_is_rate_limited_per_address(app, client, org, monkeypatch):
    monkeypatch.setitem(app.config, "AUTOTRACK_API_TOKEN_PER_ADDRESS", 3)  # for this test only
    user = factories.make_user(org)
    statuses = [
        client.post("/api/v1/auth/token", json={"email": f"nobody{i}@acme.example", "password": "x"}).status_code
        for i in range(3)
    ]
    assert statuses == [401, 401, 401]
    refused = client.post("/api/v1/auth/token", json={"email": user.email, "password": factories.PASSWORD})
    assert_error(refused, 429, "too_many_requests")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_the_token_endpoint_is_rate_limited_per_account_across_addresses(app, client, org, monkeypatch):
    monkeypatch.setitem(app.config, "AUTOTRACK_API_TOKEN_PER_ACCOUNT", 2)
    user = factories.make_user(org)
    for i in range(2):
        client.post(
            "/api/v1/auth/token",
            json={"email": user.email, "password": "guess"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},
        )
    refused = client.post(
        "/api/v1/auth/token",
        json={"email": user.email.upper(), "password": factories.PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.99"},
    )
    assert_error(refused, 429)


@pytest.mark.parametrize(
    "body, status, field",
    [
        ('{"email": "a@b.c", "password":', 400, None),  # malformed JSON
        ('{"email": "a@b.c"}', 422, "password"),  # missing field
        ('{"email": "a@b.c", "password": "x", "admin": true}', 422, "admin"),  # unknown field
        ('["a@b.c", "x"]', 422, "body"),  # not an object
    ],
)
def test_bad_token_requests_get_the_error_format_never_a_500(client, org, body, status, field):
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    error = assert_error(response, status)
    if field:
        assert field in error["fields"]


# --- tickets ---------------------------------------------------------------------------------


def test_an_employee_raises_a_ticket_with_the_organizations_defaults(client, org, api):
    employee = factories.make_user(org)
    response = api(employee)("POST", "/tickets", json={"title": "Printer jams", "description": "Tray 2"})
    assert response.status_code == 201
    body = response.get_json()
    ticket = _db.session.scalar(select(Ticket).where(Ticket.number == body["number"], Ticket.org_id == org.id))
    assert (body["title"], body["status"], body["priority"], body["state"]) == (
        "Printer jams",
        ticket.status.name,
        ticket.priority.name,
        "new",
    )
    assert body["requester"]["id"] == employee.id and body["assignee"] is None
    due = datetime.fromisoformat(body["resolution_due_at"])
    assert due.utcoffset() == timedelta(0) and due == ticket.resolution_due_at
    assert body["sla"]["state"] == "on_track"


def test_only_staff_may_choose_a_priority(client, org, api):
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    refused = assert_error(api(employee)("POST", "/tickets", json={"title": "Urgent!", "priority": "P1"}), 422)
    assert refused["fields"] == {"priority": "Not allowed."}
    assert _db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    made = api(agent)("POST", "/tickets", json={"title": "Core switch down", "priority": "P1"})
    assert made.status_code == 201 and made.get_json()["priority"] == "P1"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"description": "no title"}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "x", "priority": "P9"}, "priority"),
        ({"title": "x", "category_id": "3"}, "category_id"),  # a string is not an id
        ({"title": "x", "colour": "red"}, "colour"),
    ],
)
def test_invalid_tickets_are_422_with_the_field_and_nothing_is_saved(client, org, api, body, field):
    error = assert_error(api(factories.make_user(org, "agent"))("POST", "/tickets", json=body), 422)
    assert field in error["fields"]
    assert _db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_another_organizations_category_is_unknown(client, org, other_org, api):
    theirs = factories.make_category(other_org, "Secret")
    error = assert_error(
        api(factories.make_user(org))("POST", "/tickets", json={"title": "x", "category_id": theirs.id}), 422
    )
    assert "category_id" in error["fields"]


def test_cursor_pages_stay_correct_while_tickets_are_created(client, org, api, monkeypatch):
    from autotrack.services.tickets import queues

    monkeypatch.setattr(queues, "PER_PAGE", 2)
    agent = factories.make_user(org, "agent")
    call = api(agent)
    for i in range(5):
        call("POST", "/tickets", json={"title": f"Ticket {i}"})
    seen, cursor = [], None
    while True:
        page = call("GET", "/tickets", query_string={"cursor": cursor} if cursor else {}).get_json()
        seen += [item["title"] for item in page["items"]]
        if len(seen) == 2:
            call("POST", "/tickets", json={"title": "Raised meanwhile"})
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Ticket {i}" for i in range(4, -1, -1)]


def test_list_filters_by_names_and_refuses_unknown_ones(client, org, api):
    agent = factories.make_user(org, "agent")
    call = api(agent)
    call("POST", "/tickets", json={"title": "Server down", "priority": "P1"})
    call("POST", "/tickets", json={"title": "Mouse squeaks", "priority": "P4"})
    titles = [t["title"] for t in call("GET", "/tickets", query_string={"priority": "P1"}).get_json()["items"]]
    assert titles == ["Server down"]
    words = call("GET", "/tickets", query_string={"q": "mouse"}).get_json()["items"]
    assert [t["title"] for t in words] == ["Mouse squeaks"]
    assert "priority" in assert_error(call("GET", "/tickets", query_string={"priority": "P9"}), 422)["fields"]
    assert "view" in assert_error(call("GET", "/tickets", query_string={"view": "secret"}), 422)["fields"]


def test_employees_see_only_their_own_tickets(client, org, api):
    mine, theirs = factories.make_user(org), factories.make_user(org)
    own = factories.make_ticket(mine, title="My laptop")
    other = factories.make_ticket(theirs, title="Their laptop")
    call = api(mine)
    assert [t["title"] for t in call("GET", "/tickets").get_json()["items"]] == ["My laptop"]
    assert call("GET", f"/tickets/{own.reference}").status_code == 200
    assert_error(call("GET", f"/tickets/{other.number}"), 404, "not_found")


@pytest.mark.parametrize(
    "method, suffix, body",
    [
        ("GET", "", None),
        ("PATCH", "", {"priority": "P1"}),
        ("POST", "/transitions", {"action": "resolve"}),
        ("GET", "/comments", None),
        ("POST", "/comments", {"body": "hello"}),
        ("GET", "/events", None),
        ("GET", "/sla", None),
        ("GET", "/feedback", None),
        ("POST", "/feedback", {"rating": 5}),
        ("POST", "/merge", {"into": "1"}),
        ("GET", "/links", None),
        ("POST", "/links", {"ticket": "1", "kind": "related"}),
        ("GET", "/watchers", None),
        ("POST", "/watchers", {}),
        ("POST", "/watchers", {"email": "x@example.com"}),
    ],
)
def test_another_organizations_ticket_is_404_on_every_endpoint(client, org, other_org, api, method, suffix, body):
    foreign = factories.make_ticket(factories.make_user(other_org))
    admin = factories.admin_of(org)  # sees everything in their own organization, nothing beyond
    response = api(admin)(method, f"/tickets/{foreign.number}{suffix}", json=body)
    assert_error(response, 404, "not_found")
    assert _db.session.get(Ticket, foreign.id).priority.name != "P1" or body is None


def test_agents_change_priority_assignee_and_department(client, org, api):
    from autotrack.services.org import orgs

    agent, colleague = factories.make_user(org, "agent"), factories.make_user(org, "agent", name="Bob")
    ticket = factories.make_ticket(factories.make_user(org))
    before = ticket.resolution_due_at
    call = api(agent)
    body = call("PATCH", f"/tickets/{ticket.number}", json={"priority": "P1", "assignee_id": colleague.id}).get_json()
    assert (body["priority"], body["assignee"]["name"], body["state"]) == ("P1", "Bob", "open")
    assert datetime.fromisoformat(body["resolution_due_at"]) < before
    facilities = orgs.create_department(org, "Facilities")
    _db.session.commit()
    moved = call("PATCH", f"/tickets/{ticket.number}", json={"department_id": facilities.id})
    assert moved.status_code == 200 and moved.get_json()["department"] == "Facilities"


def test_a_patch_that_fails_changes_nothing(client, org, api):
    ticket = factories.make_ticket(factories.make_user(org))
    outsider = factories.make_user(org)  # an employee cannot be assigned
    response = api(factories.make_user(org, "agent"))(
        "PATCH", f"/tickets/{ticket.number}", json={"priority": "P1", "assignee_id": outsider.id}
    )
    assert response.status_code == 422
    _db.session.expire_all()
    assert _db.session.get(Ticket, ticket.id).priority.name != "P1"


def test_employees_may_not_change_a_ticket(client, org, api):
    employee = factories.make_user(org)
    ticket = factories.make_ticket(employee)
    assert_error(api(employee)("PATCH", f"/tickets/{ticket.number}", json={"priority": "P1"}), 403)


def test_transitions_follow_the_lifecycle_and_roles(client, org, api):
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket = factories.make_ticket(employee)
    staff, requester = api(agent), api(employee)
    assert_error(
        staff("POST", f"/tickets/{ticket.number}/transitions", json={"action": "close"}), 409, "invalid_transition"
    )
    assert_error(requester("POST", f"/tickets/{ticket.number}/transitions", json={"action": "resolve"}), 403)
    assigned = staff(
        "POST", f"/tickets/{ticket.number}/transitions", json={"action": "assign", "assignee_id": agent.id}
    )
    assert assigned.get_json()["state"] == "open"
    assert (
        staff("POST", f"/tickets/{ticket.number}/transitions", json={"action": "resolve"}).get_json()["state"]
        == "resolved"
    )
    closed = requester("POST", f"/tickets/{ticket.number}/transitions", json={"action": "close"})
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    assert (
        "action"
        in assert_error(staff("POST", f"/tickets/{ticket.number}/transitions", json={"action": "explode"}), 422)[
            "fields"
        ]
    )


def test_comments_internal_notes_and_the_audit_trail_per_role(client, org, api):
    employee, agent = factories.make_user(org), factories.make_user(org, "agent")
    ticket = factories.make_ticket(employee)
    staff, requester = api(agent), api(employee)
    assert staff("POST", f"/tickets/{ticket.number}/comments", json={"body": "On it"}).status_code == 201
    note = staff("POST", f"/tickets/{ticket.number}/comments", json={"body": "Vendor case 77", "internal": True})
    assert note.status_code == 201 and note.get_json()["internal"] is True
    assert_error(requester("POST", f"/tickets/{ticket.number}/comments", json={"body": "x", "internal": True}), 403)
    assert [c["body"] for c in requester("GET", f"/tickets/{ticket.number}/comments").get_json()] == ["On it"]
    assert [c["body"] for c in staff("GET", f"/tickets/{ticket.number}/comments").get_json()] == [
        "On it",
        "Vendor case 77",
    ]
    assert staff("POST", f"/tickets/{ticket.number}/transitions", json={"action": "resolve"}).status_code == 200
    staff_events = [e["action"] for e in staff("GET", f"/tickets/{ticket.number}/events").get_json()]
    requester_events = [e["action"] for e in requester("GET", f"/tickets/{ticket.number}/events").get_json()]
    assert staff_events[0] == "create" and "comment" in staff_events and staff_events[-1] == "transition"
    assert requester_events == ["create", "transition"]


def test_the_spec_is_public_and_describes_every_operation(client, org):
    spec = client.get("/api/v1/openapi.json").get_json()
    operations = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert {
        ("POST", "/api/v1/auth/token"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/tickets"),
        ("POST", "/api/v1/tickets"),
        ("GET", "/api/v1/tickets/{reference}"),
        ("PATCH", "/api/v1/tickets/{reference}"),
        ("POST", "/api/v1/tickets/{reference}/transitions"),
        ("GET", "/api/v1/tickets/{reference}/comments"),
        ("POST", "/api/v1/tickets/{reference}/comments"),
        ("GET", "/api/v1/tickets/{reference}/events"),
    } <= operations
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    ticket = spec["components"]["schemas"]["Ticket"]["properties"]
    assert {"number", "status", "priority", "first_response_due_at", "resolution_due_at"} <= set(ticket)
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/tickets/{reference}/transitions" in page


@pytest.mark.parametrize(
    "method, suffix",
    [
        ("DELETE", "/watchers/{big}"),
        ("GET", "/canned-replies/{big}"),
        ("DELETE", "/links/{big}"),
    ],
)
def test_ids_too_big_for_any_row_are_404_not_a_server_error(client, org, api, method, suffix):
    """Found by schemathesis: a 32-digit id overflowed the database driver."""
    agent = factories.make_user(org, "agent")
    ticket = factories.make_ticket(factories.make_user(org))
    response = api(agent)(method, f"/tickets/{ticket.reference}" + suffix.format(big=4 * 10**31))
    assert_error(response, 404, "not_found")
