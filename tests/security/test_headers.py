"""Hardened responses: every page, API answer and error carries the security headers; the
script policy has no 'unsafe-inline'; HSTS only where the app is served over HTTPS."""

import pytest

from autotrack import create_app
from tests import factories
from tests.conftest import login


def check_headers(response):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";"))
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert "'nonce-" in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]


@pytest.mark.parametrize(
    "path, role",
    [
        ("/login", None),
        ("/reset", None),
        ("/portal/", "employee"),
        ("/agent/", "agent"),
        ("/admin/", "org_admin"),
        ("/admin/ticket/", "org_admin"),
        ("/no-such-page", None),
        ("/api/v1/me", None),
        ("/api/v1/openapi.json", None),
    ],
)
def test_every_kind_of_response_carries_the_headers(client, org, path, role):
    if role:
        login(client, factories.admin_of(org) if role == "org_admin" else factories.make_user(org, role))
    check_headers(client.get(path))


def test_each_response_has_its_own_nonce(client, org):
    first = client.get("/login").headers["Content-Security-Policy"]
    second = client.get("/login").headers["Content-Security-Policy"]
    assert first != second


def test_hsts_is_sent_in_production_only(app, client, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    import config

    monkeypatch.setitem(config._ENV, "AUTOTRACK_CONFIG", "production")  # the environment as read at start
    production = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "a production secret key of enough length",
            "AUTOTRACK_EMBEDDED_JOBS": False,
        }
    )
    response = production.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_disguised_svg_is_downloaded_never_rendered(client, org):
    import io

    from werkzeug.datastructures import FileStorage

    from autotrack.extensions import db as _db
    from autotrack.services.tickets import attachments

    user = factories.make_user(org)
    ticket = factories.make_ticket(user)
    refused = attachments.add_many(user, ticket, [FileStorage(io.BytesIO(b"<svg onload=alert(1)>"), filename="x.svg")])
    assert refused  # SVG (and HTML) are not accepted at all
    attachments.add_many(
        user,
        ticket,
        [FileStorage(io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"), filename="logo.png")],
    )
    _db.session.commit()
    [stored] = ticket.attachments
    login(client, user)
    response = client.get(f"/attachments/{stored.id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Content-Type"] == "image/png" and response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_server_error_shows_a_generic_page_without_a_traceback(app):
    broken = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "TESTING": False,
            "AUTOTRACK_EMBEDDED_JOBS": False,
            "PROPAGATE_EXCEPTIONS": False,
        }
    )

    @broken.route("/boom")
    def boom():
        raise RuntimeError("database password is hunter2")

    @broken.route("/api/v1/boom")
    def api_boom():
        raise RuntimeError("database password is hunter2")

    page = broken.test_client().get("/boom")
    assert page.status_code == 500
    assert "Traceback" not in page.get_data(as_text=True) and "hunter2" not in page.get_data(as_text=True)
    api = broken.test_client().get("/api/v1/boom")
    assert api.status_code == 500 and api.get_json() == {
        "error": {"code": "server_error", "message": "Something went wrong."}
    }
    check_headers(page)
