"""Signing in and out: role homes, no account enumeration, lockout, safe redirects, CSRF."""

import re
from datetime import timedelta

import pytest

from autotrack.extensions import db as _db
from autotrack.models import utcnow
from tests import factories
from tests.conftest import csrf_token, login, post_form
from tests.helpers import run_concurrently

BAD = "Invalid email or password."


@pytest.mark.parametrize(
    "role,home",
    [
        ("org_admin", "/admin/"),
        ("manager", "/manager/"),
        ("agent", "/agent/"),
        ("employee", "/portal/"),
    ],
)
def test_each_role_lands_on_its_home(client, org, role, home):
    user = factories.admin_of(org) if role == "org_admin" else factories.make_user(org, role)
    response = login(client, user)
    assert response.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_root_sends_anonymous_users_to_login_and_others_home(client, org):
    assert client.get("/").headers["Location"].endswith("/login")
    login(client, factories.make_user(org, "agent"))
    assert client.get("/").headers["Location"] == "/agent/"


def test_wrong_password_and_unknown_email_get_the_same_answer(client, org):
    user = factories.make_user(org)
    wrong = post_form(client, "/login", {"email": user.email, "password": "nope-nope"})
    unknown = post_form(client, "/login", {"email": "ghost@acme.example", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert BAD in wrong.get_data(as_text=True)
    assert BAD in unknown.get_data(as_text=True)

    def page(response, email):
        html = re.sub(r'(content|value)="[\w.-]{40,}"', "TOKEN", response.get_data(as_text=True))
        return html.replace(email, "EMAIL")

    assert page(wrong, user.email) == page(unknown, "ghost@acme.example")


def test_email_is_matched_case_insensitively(client, org):
    user = factories.make_user(org)
    response = post_form(client, "/login", {"email": user.email.upper(), "password": factories.PASSWORD})
    assert response.status_code == 302


def test_five_failures_lock_the_account_for_fifteen_minutes(client, org):
    user = factories.make_user(org)
    for _ in range(5):
        post_form(client, "/login", {"email": user.email, "password": "wrong-password"})
    locked = post_form(client, "/login", {"email": user.email, "password": factories.PASSWORD})
    assert locked.status_code == 401 and BAD in locked.get_data(as_text=True)
    _db.session.expire_all()
    remaining = user.locked_until - utcnow()
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)

    user.locked_until = utcnow() - timedelta(seconds=1)  # fifteen minutes later
    _db.session.commit()
    assert post_form(client, "/login", {"email": user.email, "password": factories.PASSWORD}).status_code == 302


def test_a_success_resets_the_failure_count(client, org):
    user = factories.make_user(org)
    for _ in range(4):
        post_form(client, "/login", {"email": user.email, "password": "wrong-password"})
    login(client, user)
    _db.session.expire_all()
    assert user.failed_login_count == 0 and user.locked_until is None


def test_deactivated_user_cannot_sign_in_and_is_signed_out(client, org):
    user = factories.make_user(org)
    login(client, user)
    user.active = False
    _db.session.commit()
    assert client.get("/portal/").status_code == 302  # session no longer valid
    response = post_form(client, "/login", {"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/agent/?view=mine", "/agent/?view=mine"),
        ("https://evil.example/phish", "/agent/"),
        ("//evil.example/phish", "/agent/"),
        ("/\\evil.example", "/agent/"),
        ("javascript:alert(1)", "/agent/"),
    ],
)
def test_next_is_followed_only_to_a_local_path(client, org, target, expected):
    user = factories.make_user(org, "agent")
    response = post_form(client, "/login", {"email": user.email, "password": factories.PASSWORD, "next": target})
    assert response.headers["Location"] == expected


def test_protected_page_redirects_to_login_with_next(client, org):
    response = client.get("/agent/?view=mine")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_login_without_csrf_token_is_refused(client, org):
    user = factories.make_user(org)
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert client.get("/portal/").status_code == 302


def test_logout_is_post_only_and_needs_csrf(client, org):
    login(client, factories.make_user(org))
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/portal/").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/portal/")})
    assert response.status_code == 302
    assert client.get("/portal/").status_code == 302


def test_login_form_re_renders_with_field_message_on_missing_email(client, org):
    response = post_form(client, "/login", {"email": "", "password": "x"})
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)


def test_intranet_addresses_can_sign_in(client, org):
    user = factories.make_user(org, email="it@corp.local")
    assert login(client, user).headers["Location"] == "/portal/"


def test_parallel_wrong_passwords_still_lock_the_account(app, client, org):
    """Failures are counted in SQL, so simultaneous guesses cannot overwrite each other's count."""
    from autotrack.services.people import accounts

    user = factories.make_user(org)
    email = user.email  # read here: the threads must not touch the test's session
    run_concurrently(app, lambda: accounts.authenticate(email, "wrong-password", now=utcnow()), 8)
    _db.session.expire_all()
    assert user.locked_until is not None and user.locked_until > utcnow()


def test_line_break_in_next_is_not_followed(client, org):
    user = factories.make_user(org)
    response = post_form(
        client, "/login", {"email": user.email, "password": factories.PASSWORD, "next": "/portal/\r\nSet-Cookie: x=1"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"


def test_deactivating_the_organization_signs_its_users_out(client, org):
    user = factories.make_user(org)
    login(client, user)
    org.is_active = False
    _db.session.commit()
    assert client.get("/portal/").status_code == 302
    assert post_form(client, "/login", {"email": user.email, "password": factories.PASSWORD}).status_code == 401
