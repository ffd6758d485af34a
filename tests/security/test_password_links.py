"""Password reset and invitations: random single-use links stored hashed, expiring, built from
the configured base URL whatever Host the request claims, the same answer for known and unknown
addresses, rate limits, and every session ended by the new password."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from autotrack.extensions import db as _db
from autotrack.models import OutboxEmail, PasswordToken, utcnow
from autotrack.services import imports, password_links
from tests import factories
from tests.conftest import login, post_form

LINK = re.compile(r"https?://[^\s/]+/reset/([A-Za-z0-9_-]+)")


def reset_mails(user):
    _db.session.expire_all()
    return _db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == user.email,
                                                         OutboxEmail.dedupe_key.like("password:%"))
                               .order_by(OutboxEmail.id)).all()


def ask(client, email, **kwargs):
    return post_form(client, "/reset", {"email": email}, token_from="/reset", **kwargs)


def test_known_and_unknown_addresses_get_the_same_answer(client, org):
    user = factories.make_user(org)
    known = ask(client, user.email, follow_redirects=True)
    unknown = ask(client, "nobody@acme.example", follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert password_links.RESET_SENT in known.get_data(as_text=True)
    assert password_links.RESET_SENT in unknown.get_data(as_text=True)
    assert len(reset_mails(user)) == 1


def test_the_link_comes_from_the_configured_server_not_the_requests_host(app, client, org):
    user = factories.make_user(org)
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    page = client.get("/reset", headers=forged).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/reset", data={"email": user.email, "csrf_token": token}, headers=forged)
    assert response.status_code == 302
    [mail] = reset_mails(user)
    assert "evil.example" not in mail.body_text
    assert LINK.search(mail.body_text).group(0).startswith(app.config["AUTOTRACK_BASE_URL"].rstrip("/") + "/reset/")


def test_a_link_sets_the_password_once_and_ends_every_session(app, client, org):
    user = factories.make_user(org)
    other_browser = app.test_client()
    login(other_browser, user)
    ask(client, user.email)
    raw = LINK.search(reset_mails(user)[0].body_text).group(1)
    stored = _db.session.scalar(select(PasswordToken.token_hash))
    assert raw not in stored and len(stored) == 64  # only the hash is kept
    page = f"/reset/{raw}"
    assert client.get(page).headers["Referrer-Policy"] == "no-referrer"
    response = post_form(client, page, {"password": "brand new passphrase", "confirm": "brand new passphrase"},
                         token_from=page)
    assert response.status_code == 302
    assert other_browser.get("/portal/").status_code == 302  # signed out
    login(app.test_client(), user, password="brand new passphrase")
    assert client.get(page).status_code == 410  # used
    again = post_form(client, page, {"password": "another passphrase", "confirm": "another passphrase"},
                      token_from="/reset")
    assert again.status_code == 410


def test_an_expired_or_superseded_link_fails(client, org):
    user = factories.make_user(org)
    ask(client, user.email)
    first = LINK.search(reset_mails(user)[0].body_text).group(1)
    ask(client, user.email)
    second = LINK.search(reset_mails(user)[1].body_text).group(1)
    assert client.get(f"/reset/{first}").status_code == 410  # a newer link ends the older
    _db.session.execute(update(PasswordToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    _db.session.commit()
    assert client.get(f"/reset/{second}").status_code == 410
    assert client.get("/reset/made-up-token").status_code == 410


def test_a_weak_password_re_renders_the_form_and_keeps_the_link(client, org):
    user = factories.make_user(org)
    ask(client, user.email)
    raw = LINK.search(reset_mails(user)[0].body_text).group(1)
    response = post_form(client, f"/reset/{raw}", {"password": "short", "confirm": "short"}, token_from="/reset")
    assert response.status_code == 422 and "At least 8 characters." in response.get_data(as_text=True)
    assert client.get(f"/reset/{raw}").status_code == 200


def test_reset_requests_are_rate_limited_per_account(client, org):
    user = factories.make_user(org)
    for _ in range(password_links.RESET_PER_ACCOUNT):
        assert ask(client, user.email).status_code == 302
    response = ask(client, user.email)
    assert response.status_code == 429 and response.headers["Retry-After"]
    assert len(reset_mails(user)) == password_links.RESET_PER_ACCOUNT


def test_a_deactivated_user_gets_no_link_and_cannot_use_an_old_one(client, org):
    user = factories.make_user(org)
    ask(client, user.email)
    raw = LINK.search(reset_mails(user)[0].body_text).group(1)
    user.active = False
    _db.session.commit()
    assert client.get(f"/reset/{raw}").status_code == 410
    ask(client, user.email)
    assert len(reset_mails(user)) == 1


def test_imported_users_are_invited_to_choose_their_password(client, org):
    csv = b"email,name,role\r\nnew.hire@acme.example,New Hire,employee\r\n"
    report = imports.run(org, "users", csv)
    _db.session.commit()
    assert report.applied
    [mail] = _db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == "new.hire@acme.example")).all()
    raw = LINK.search(mail.body_text).group(1)
    page = f"/reset/{raw}"
    response = post_form(client, page, {"password": "my first passphrase", "confirm": "my first passphrase"},
                         token_from=page)
    assert response.status_code == 302
    user = _db.session.scalar(select(PasswordToken).where(PasswordToken.purpose == "invite")).user
    login(client, user, password="my first passphrase")


@pytest.mark.parametrize("with_password", [True, False])
def test_console_created_users_are_invited_unless_given_a_password(client, org, with_password):
    login(client, factories.admin_of(org))
    page = "/admin/user/new/"
    employee_role = [r for r in org_roles(org) if r.builtin == "employee"][0]
    response = post_form(client, page, {"name": "Console Person", "email": "console.person@acme.example",
                                        "role": str(employee_role.id), "active": "y",
                                        "new_password": "a set passphrase" if with_password else ""}, token_from=page)
    assert response.status_code == 302
    invited = _db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == "console.person@acme.example")).all()
    assert len(invited) == (0 if with_password else 1)


def org_roles(org):
    from autotrack.models import Role

    return _db.session.scalars(select(Role).where(Role.org_id == org.id)).all()
