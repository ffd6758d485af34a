"""Odd input outside the console is a 404 or a 400 with a message, never a 500: ids too large
for any row (SQLite overflows past 2**63, MariaDB past BIGINT), query keys that collide with
url_for's own (`reference`, `_method`), line breaks where a URL is built."""

import re

import pytest

from autotrack.extensions import db as _db
from autotrack.models import SavedView
from tests import factories
from tests.conftest import csrf_token, login

HUGE = "9" * 30


@pytest.fixture
def agent_client(client, org):
    agent = factories.make_user(org, "agent", lead=True)
    ticket = factories.make_ticket(factories.make_user(org))
    login(client, agent)
    return client, ticket


def test_deleting_a_view_with_a_huge_id_is_404(agent_client):
    client, _ = agent_client
    response = client.post(f"/agent/views/{HUGE}/delete", data={"csrf_token": csrf_token(client, "/agent/")})
    assert response.status_code == 404


@pytest.mark.parametrize("query", ["reference=x", "_method=POST", "reference=x&_method=DELETE&endpoint=y"])
def test_a_ticket_by_number_with_odd_query_keys_redirects_keeping_them(agent_client, query):
    client, ticket = agent_client
    response = client.get(f"/agent/tickets/{ticket.number}?{query}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/agent/tickets/{ticket.reference}?{query}"
    assert client.get(response.headers["Location"]).status_code == 200


def test_saving_a_view_without_a_name_shows_the_queue_with_the_message(agent_client):
    client, _ = agent_client
    response = client.post(
        "/agent/views",
        data={"csrf_token": csrf_token(client, "/agent/"), "name": "", "filters": "view=mine\r\nSet-Cookie: x=1"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Not saved: Give the view a name." in page and "1 to 80 characters." in page
    assert "x=1" not in page and "x=1" not in response.headers.get("Set-Cookie", "")
    assert _db.session.query(SavedView).count() == 0


@pytest.mark.parametrize("department_id", ["abc", HUGE, "-1"])
def test_sharing_a_view_with_an_odd_department_is_refused_with_a_message(agent_client, department_id):
    client, _ = agent_client
    response = client.post(
        "/agent/views",
        data={
            "csrf_token": csrf_token(client, "/agent/"),
            "name": "Mine",
            "filters": "view=mine",
            "department_id": department_id,
        },
    )
    assert response.status_code == 400
    assert "You can share a view only with your own departments." in response.get_data(as_text=True)
    assert _db.session.query(SavedView).count() == 0


def test_a_canned_reply_asked_for_by_an_odd_number_is_a_message(agent_client):
    client, ticket = agent_client
    for value in (HUGE, "²", "-3"):
        response = client.get(f"/agent/tickets/{ticket.reference}?canned={value}")
        assert response.status_code == 200
        assert "No such canned reply." in response.get_data(as_text=True)


def _routes(app, prefix):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix) or "stream" in rule.endpoint:
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            yield rule, method


def _fill(rule, reference):
    path = rule.rule
    for argument in rule.arguments:
        path = re.sub(r"<(?:[^:<>]+:)?" + argument + ">", reference if argument == "reference" else HUGE, path)
    return path


@pytest.mark.parametrize(
    "prefix,role",
    [
        ("/portal", "employee"),
        ("/agent", "agent"),
        ("/manager", "manager"),
        ("/notifications", "employee"),
        ("/attachments", "employee"),
    ],
)
def test_no_portal_route_fails_on_huge_ids_or_odd_query(app, client, org, prefix, role):
    """Every route of the portal, with each id in its path and the usual query keys huge, and
    url_for's own keywords in the query: a page, a redirect, a 4xx, never a 500."""
    user = factories.make_user(org, role, lead=role == "agent")
    ticket = factories.make_ticket(user if role == "employee" else factories.make_user(org))
    login(client, user)
    token = csrf_token(client, "/account")
    odd_query = (
        f"?cursor={HUGE}&status={HUGE}&priority={HUGE}&category={HUGE}&assignee={HUGE}"
        f"&department={HUGE}&canned={HUGE}&after={HUGE}&_method=POST&reference=x"
    )
    failures = []
    for rule, method in _routes(app, prefix):
        for reference in (ticket.reference, HUGE, f"{org.ticket_prefix}-{HUGE}"):
            path = _fill(rule, reference) + odd_query
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(
                    path,
                    data={
                        "csrf_token": token,
                        "ids": HUGE,
                        "user_id": HUGE,
                        "assignee_id": HUGE,
                        "priority_id": HUGE,
                        "status_id": HUGE,
                        "task_id": HUGE,
                        "canned_id": HUGE,
                        "category_id": HUGE,
                    },
                )
            if response.status_code >= 500:
                failures.append(f"{method} {path}: {response.status_code}")
            if "reference" not in rule.arguments:
                break
    assert failures == []
