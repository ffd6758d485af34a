"""Two-factor sign-in: set up with a code from the app, then required at sign-in (web and API),
each code accepted once, recovery codes used once, wrong codes limited, and an organization that
requires it of its admins sends them to set it up first."""

import re
from datetime import timedelta

import pyotp
import pytest

from autotrack.extensions import db as _db
from autotrack.models import utcnow
from autotrack.services.people import two_factor
from tests import factories
from tests.conftest import login, post_form


def turn_on(user):
    secret = two_factor.new_secret()
    codes = two_factor.enable(user, secret, pyotp.TOTP(secret).now(), utcnow())
    _db.session.commit()
    return secret, codes


def code_at(secret, moment):
    return pyotp.TOTP(secret).at(moment)


def password_step(client, user, **extra):
    return post_form(client, "/login", {"email": user.email, "password": factories.PASSWORD, **extra})


def test_setting_it_up_in_the_account_page_then_signing_in_needs_the_code(app, client, org):
    user = factories.make_user(org)
    login(client, user)
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    assert 'src="data:image/svg+xml' in page  # the QR code, drawn here: no outside service sees the secret
    wrong = post_form(client, "/account/two-factor", {"code": "000000"}, token_from="/account/two-factor")
    assert wrong.status_code == 422 and "Wrong code." in wrong.get_data(as_text=True)
    done = post_form(
        client, "/account/two-factor", {"code": pyotp.TOTP(secret).now()}, token_from="/account/two-factor"
    )
    codes = re.findall(r"<li>([0-9a-f]{6}-[0-9a-f]{6})</li>", done.get_data(as_text=True))
    assert len(codes) == 10

    browser = app.test_client()
    response = password_step(browser, user)
    assert response.headers["Location"].endswith("/login/code")
    assert browser.get("/portal/").status_code == 302  # not signed in by the password alone
    bad = post_form(browser, "/login/code", {"code": "123456"}, token_from="/login/code")
    assert bad.status_code == 422
    good = post_form(browser, "/login/code", {"code": codes[0]}, token_from="/login/code")  # a recovery code
    assert good.status_code == 302 and browser.get("/portal/").status_code == 200
    again = app.test_client()
    password_step(again, user)
    assert post_form(again, "/login/code", {"code": codes[0]}, token_from="/login/code").status_code == 422  # used


def test_an_app_code_works_once(org):
    user = factories.make_user(org)
    secret, _ = turn_on(user)
    later = utcnow() + timedelta(seconds=60)
    code = code_at(secret, later)
    assert two_factor.verify(user, code, later) is True
    assert two_factor.verify(user, code, later) is False  # replayed within its 30 seconds
    assert two_factor.verify(user, code_at(secret, later + timedelta(seconds=30)), later + timedelta(seconds=30))


def test_wrong_codes_are_limited(client, org):
    user = factories.make_user(org)
    turn_on(user)
    password_step(client, user)
    for _ in range(two_factor.ATTEMPTS):
        post_form(client, "/login/code", {"code": "000000"}, token_from="/login/code")
    response = post_form(client, "/login/code", {"code": "000000"}, token_from="/login/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_the_api_token_needs_the_code_too(client, org):
    user = factories.make_user(org)
    secret, _ = turn_on(user)
    body = {"email": user.email, "password": factories.PASSWORD}
    assert client.post("/api/v1/auth/token", json=body).status_code == 401
    assert client.post("/api/v1/auth/token", json={**body, "otp": "000000"}).status_code == 401
    response = client.post(
        "/api/v1/auth/token", json={**body, "otp": pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))}
    )
    assert response.status_code == 200 and response.get_json()["access_token"], response.get_data(as_text=True)


def test_an_organization_can_require_it_of_its_admins(app, client, org):
    admin = factories.admin_of(org)
    org.require_2fa_for_admins = True
    _db.session.commit()
    login(client, admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/two-factor")
    assert (
        client.post("/api/v1/auth/token", json={"email": admin.email, "password": factories.PASSWORD}).status_code
        == 401
    )
    secret, _ = turn_on(admin)
    assert client.get("/admin/").status_code == 200
    with pytest.raises(Exception, match="requires two-factor"):
        two_factor.disable(admin, utcnow())
    employee = factories.make_user(org)
    login(app.test_client(), employee)  # the rule is for admins only


def test_turning_it_off_needs_the_password_and_a_code(client, org):
    user = factories.make_user(org)
    secret, codes = turn_on(user)
    password_step(client, user)
    post_form(client, "/login/code", {"code": codes[0]}, token_from="/login/code")
    later = utcnow() + timedelta(seconds=30)
    post_form(
        client, "/account/two-factor/off", {"password": "wrong", "code": code_at(secret, later)}, token_from="/account"
    )
    _db.session.expire_all()
    assert two_factor.enabled(user)
    post_form(
        client,
        "/account/two-factor/off",
        {"password": factories.PASSWORD, "code": code_at(secret, later)},
        token_from="/account",
    )
    _db.session.expire_all()
    assert not two_factor.enabled(user)
