"""Sessions the server can end: a copied cookie stops working at sign-out, at a password or
role change, at deactivation and at "sign out everywhere"; sessions end when idle or old; a
sign-in starts from an empty session. API tokens end with the same events."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from autotrack.extensions import db as _db
from autotrack.models import Role, UserSession, utcnow
from autotrack.services.people import sessions
from tests import factories
from tests.conftest import login, post_form
from tests.helpers import token_for


def cookie_of(client, name="session"):
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def replay(app, value, name="session"):
    """A second browser holding a copy of the cookie."""
    other = app.test_client()
    other.set_cookie(name, value)
    return other


def signed_in(client, path="/portal/"):
    return client.get(path).status_code == 200


def api_works(client, token):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_copied_cookie_stops_working_at_sign_out(app, client, org):
    user = factories.make_user(org)
    login(client, user)
    copied = cookie_of(client)
    assert signed_in(replay(app, copied))
    post_form(client, "/logout", token_from="/portal/")
    assert not signed_in(client)
    thief = replay(app, copied)
    assert thief.get("/portal/").status_code == 302  # to the sign-in page


def test_sign_out_everywhere_ends_every_session_and_api_token(app, client, org):
    user = factories.make_user(org)
    other_browser = app.test_client()
    login(other_browser, user)
    token = token_for(app.test_client(), user)
    login(client, user)
    assert api_works(client, token)
    response = post_form(client, "/account/sign-out-everywhere", token_from="/account")
    assert response.status_code == 302
    assert not signed_in(client) and not signed_in(other_browser)
    assert not api_works(client, token)


def test_a_password_change_ends_the_other_sessions_but_not_this_one(app, client, org):
    user = factories.make_user(org)
    other_browser = app.test_client()
    login(other_browser, user)
    token = token_for(app.test_client(), user)
    login(client, user)
    response = post_form(
        client,
        "/account",
        {
            "action": "password",
            "password-current": factories.PASSWORD,
            "password-password": "a new long passphrase",
            "password-confirm": "a new long passphrase",
        },
        token_from="/account",
    )
    assert response.status_code == 302
    assert signed_in(client) and not signed_in(other_browser) and not api_works(client, token)
    login(app.test_client(), user, password="a new long passphrase")


def test_a_wrong_current_password_changes_nothing_and_says_so(app, client, org):
    user = factories.make_user(org)
    login(client, user)
    response = post_form(
        client,
        "/account",
        {
            "action": "password",
            "password-current": "not it",
            "password-password": "a new long passphrase",
            "password-confirm": "a new long passphrase",
        },
        token_from="/account",
    )
    assert response.status_code == 422 and "Not your current password." in response.get_data(as_text=True)
    assert signed_in(client)
    login(app.test_client(), user)  # the old password still works


def test_deactivation_by_the_org_admin_ends_web_and_api_access_on_the_next_request(app, client, org):
    user = factories.make_user(org)
    token = token_for(app.test_client(), user)
    login(client, user)
    admin = app.test_client()
    login(admin, factories.admin_of(org))
    page = f"/admin/user/edit/?id={user.id}"
    form = {"name": user.name, "email": user.email, "role": str(user.role_id), "active": ""}
    response = post_form(admin, page, form, token_from=page)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert not signed_in(client)
    assert not api_works(client, token)


def test_a_role_change_ends_the_users_sessions(app, client, org):
    user = factories.make_user(org)
    login(client, user)
    user.role = _db.session.query(Role).filter_by(org_id=org.id, builtin="agent").one()
    _db.session.commit()
    assert client.get("/agent/").status_code == 302  # signed out, not promoted mid-session


@pytest.mark.parametrize(
    "column, age, remember, alive",
    [
        ("last_seen_at", timedelta(minutes=29), False, True),
        ("last_seen_at", timedelta(minutes=31), False, False),  # idle
        ("created_at", timedelta(hours=13), False, False),  # older than the absolute lifetime
        ("last_seen_at", timedelta(hours=3), True, True),  # remembered: no idle limit
        ("created_at", timedelta(days=15), True, False),  # but bounded
    ],
)
def test_sessions_end_when_idle_or_old(app, client, org, column, age, remember, alive):
    user = factories.make_user(org)
    post_form(
        client,
        "/login",
        {"email": user.email, "password": factories.PASSWORD, **({"remember": "y"} if remember else {})},
    )
    moment = utcnow() - age
    values = {"created_at": moment, "last_seen_at": moment} if column == "created_at" else {column: moment}
    _db.session.execute(update(UserSession).where(UserSession.user_id == user.id).values(**values))
    _db.session.commit()
    client.delete_cookie("session") if remember else None  # a browser restarted: only the remember cookie
    assert signed_in(client) is alive


def test_a_copied_remember_cookie_stops_working_at_sign_out(app, client, org):
    user = factories.make_user(org)
    post_form(client, "/login", {"email": user.email, "password": factories.PASSWORD, "remember": "y"})
    remembered = cookie_of(client, "remember_token")
    assert signed_in(replay(app, remembered, "remember_token"))
    post_form(client, "/logout", token_from="/portal/")
    assert not signed_in(replay(app, remembered, "remember_token"))


def _deletes_cookie(response, name):
    """The response tells the browser to forget cookie `name` (empty value, expired)."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}=;") or header.startswith(f'{name}="";'):
            return "Max-Age=0" in header or "1970" in header
    return False


@pytest.mark.parametrize("path, token_from", [("/logout", "/portal/"), ("/account/sign-out-everywhere", "/account")])
def test_signing_out_removes_the_remember_cookie_from_the_browser(client, org, path, token_from):
    user = factories.make_user(org)
    post_form(client, "/login", {"email": user.email, "password": factories.PASSWORD, "remember": "y"})
    assert client.get_cookie("remember_token") is not None
    response = post_form(client, path, token_from=token_from)
    assert response.status_code == 302
    assert _deletes_cookie(response, "remember_token"), response.headers.getlist("Set-Cookie")
    assert client.get_cookie("remember_token") is None


def test_signing_in_starts_from_an_empty_session(client, org):
    user = factories.make_user(org)
    client.get("/login")
    with client.session_transaction() as planted:
        planted["_user_id"] = "1:planted-by-an-attacker"
        planted["note"] = "left before sign-in"
    login(client, user)
    with client.session_transaction() as current:
        assert "note" not in current and current["_user_id"].startswith(f"{user.id}:")
        assert current["_user_id"] != "1:planted-by-an-attacker"


def test_a_cookie_naming_no_session_signs_nobody_in(client, org):
    user = factories.make_user(org)
    with client.session_transaction() as forged:  # signed with the real key, as an insider might
        forged["_user_id"] = str(user.id)  # the pre-session format: a bare user id
        forged["_fresh"] = True
    assert not signed_in(client)


def test_cookies_are_httponly_and_samesite(client, org):
    user = factories.make_user(org)
    response = post_form(client, "/login", {"email": user.email, "password": factories.PASSWORD, "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("HttpOnly" in c and "SameSite=Lax" in c for c in cookies)


def test_the_account_page_lists_live_sessions_and_changes_the_name(app, client, org):
    user = factories.make_user(org)
    login(app.test_client(), user)
    login(client, user)
    assert len(sessions.live_sessions(user, utcnow())) == 2
    response = post_form(
        client, "/account", {"action": "profile", "profile-name": "  Ada   King "}, token_from="/account"
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert user.name == "Ada King"
    response = post_form(client, "/account", {"action": "profile", "profile-name": ""}, token_from="/account")
    assert response.status_code == 422 and "This field is required." in response.get_data(as_text=True)
