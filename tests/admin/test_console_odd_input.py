"""Odd input anywhere in the console is a 404 or a 400, never a 500 (issue 22: a 19-digit id, a
20-digit page or filter value reached the database, which refused it with a server error)."""

import pytest
from flask_admin.contrib.sqla import ModelView

from tests import factories
from tests.conftest import csrf_token, login

BIG = "9223372036854775808"  # 2**63: one past what SQLite and BIGINT hold
HUGE = "9" * 30


def model_views(app):
    views = [view for view in app.extensions["admin"][0]._views if isinstance(view, ModelView)]
    assert {"ticket", "user", "department", "holiday"} <= {view.endpoint for view in views}
    return views


def answers(client, requests):
    """(request, status) of every request answered with a server error."""
    failures = []
    for method, path, data in requests:
        response = client.post(path, data=data) if method == "POST" else client.get(path)
        if response.status_code not in (400, 404):
            failures.append((method, path, response.status_code))
    return failures


ID_PAGES = {
    "details id 2**63": lambda view: [("GET", f"/admin/{view.endpoint}/details/?id={BIG}", None)],
    "details id 30 digits": lambda view: [("GET", f"/admin/{view.endpoint}/details/?id={HUGE}", None)],
    "details id not a number": lambda view: [("GET", f"/admin/{view.endpoint}/details/?id=1e3", None)],
    "edit id 30 digits": lambda view: (
        [("GET", f"/admin/{view.endpoint}/edit/?id={HUGE}", None)] if view.can_edit else []
    ),
    "page 20 digits": lambda view: [("GET", f"/admin/{view.endpoint}/?page={'9' * 20}", None)],
    "page 5000 digits": lambda view: [("GET", f"/admin/{view.endpoint}/?page={'9' * 5000}", None)],
    "sort 20 digits": lambda view: [("GET", f"/admin/{view.endpoint}/?sort={'9' * 20}", None)],
    "every filter 20 digits": lambda view: [
        ("GET", f"/admin/{view.endpoint}/?flt0_{index}={'9' * 20}", None) for index in range(len(view._filters or ()))
    ],
    "every filter 20 digits, exported": lambda view: (
        [
            ("GET", f"/admin/{view.endpoint}/export/csv/?flt0_{index}={'9' * 20}", None)
            for index in range(len(view._filters or ()))
        ]
        if view.can_export
        else []
    ),
}


@pytest.mark.parametrize("case", sorted(ID_PAGES))
def test_odd_numbers_in_console_urls_are_404_or_400(app, client, org, rows, case):
    login(client, factories.admin_of(org))
    requests = [request for view in model_views(app) for request in ID_PAGES[case](view)]
    assert requests
    assert answers(client, requests) == []


def test_the_reported_urls_are_404_or_400(client, org, rows):
    login(client, factories.admin_of(org))
    assert (
        answers(
            client,
            [
                ("GET", "/admin/ticket/details/?id=9223372036854775808", None),
                ("GET", "/admin/ticket/?page=99999999999999999999", None),
                ("GET", "/admin/ticket/?flt0_9=99999999999999999999", None),
                ("GET", f"/admin/user/edit/?id={HUGE}", None),
            ],
        )
        == []
    )


def test_odd_row_ids_posted_to_console_actions_and_deletes_are_404_or_400(app, client, org, rows):
    login(client, factories.admin_of(org))
    token = csrf_token(client, "/admin/")
    requests = []
    for view in model_views(app):
        for name, *_ in view._actions:
            requests.append(
                ("POST", f"/admin/{view.endpoint}/action/", {"action": name, "rowid": [HUGE, BIG], "csrf_token": token})
            )
        if view.can_delete:
            requests.append(("POST", f"/admin/{view.endpoint}/delete/", {"id": HUGE, "csrf_token": token}))
    assert requests
    assert answers(client, requests) == []


def test_ordinary_lists_and_pages_still_answer(client, org, rows):
    login(client, factories.admin_of(org))
    for path in (
        "/admin/ticket/?page=0",
        "/admin/ticket/?page=3&sort=1&desc=1",
        "/admin/ticket/?flt0_9=2",
        "/admin/ticket/export/csv/?flt0_9=2",
        "/admin/user/?search=acme",
    ):
        assert client.get(path).status_code == 200, path
