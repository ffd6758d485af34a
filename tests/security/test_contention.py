"""Many requests at once against a real threaded server: the lockout counts every password
check before it is made, and the embedded mode (SQLite) waits for its turn instead of failing."""

import json
import re
import threading
import urllib.parse

import pytest
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from autotrack import create_app
from autotrack.extensions import db as _db
from autotrack.models import SecurityEvent, User, utcnow
from autotrack.services.org import orgs
from config import TestConfig
from tests import factories
from tests.helpers import Served


def _in_parallel(count, work):
    """Run work(i) in `count` threads released together; the results in order."""
    barrier, results = threading.Barrier(count), [None] * count

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - reported as the result
            results[i] = repr(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_parallel_wrong_passwords_check_the_password_at_most_limit_times(app, db, org):
    """25 guesses at once from one address: only the first `limit` reach the password check
    (the attempt is counted in the database before the check), the rest are refused as locked."""
    limit = app.config["AUTOTRACK_LOGIN_MAX_FAILURES"]
    user = factories.make_user(org)
    # A real (slow) hash, as in production: each check takes long enough for the others to overtake it.
    user.password_hash = generate_password_hash(factories.PASSWORD, method="scrypt")
    _db.session.commit()
    email, user_id = user.email, user.id
    site = Served(app)
    try:
        forms = []
        for _ in range(25):  # each guess from its own browser session, with its form's CSRF token
            connection = site.connection(timeout=60)
            connection.request("GET", "/login")
            response = connection.getresponse()
            page = response.read().decode()
            cookie = response.getheader("Set-Cookie").split(";")[0]
            token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
            forms.append((connection, cookie, token))

        def guess(i):
            connection, cookie, token = forms[i]
            connection.request(
                "POST",
                "/login",
                headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
                body=urllib.parse.urlencode({"email": email, "password": f"guess-{i}", "csrf_token": token}),
            )
            response = connection.getresponse()
            response.read()
            return response.status

        statuses = _in_parallel(25, guess)
    finally:
        site.close()
    assert statuses == [401] * 25
    _db.session.expire_all()
    events = _db.session.scalars(select(SecurityEvent).where(SecurityEvent.user_id == user_id)).all()
    checked = [e for e in events if e.kind == "locked" or (e.kind == "sign_in_failed" and "wrong password" in e.detail)]
    refused_unchecked = [e for e in events if e.kind == "sign_in_failed" and "locked" in e.detail]
    assert len(checked) == limit, [(e.kind, e.detail) for e in events]
    assert len(refused_unchecked) == 25 - limit
    assert [e.kind for e in checked].count("locked") == 1
    assert _db.session.get(User, user_id).locked_until > utcnow()


def test_a_locked_account_refuses_even_the_right_password_until_the_lock_ends(app, client, org):
    from datetime import timedelta

    from autotrack.services.people import accounts

    user = factories.make_user(org)
    now = utcnow()
    for _ in range(app.config["AUTOTRACK_LOGIN_MAX_FAILURES"]):
        assert accounts.authenticate(user.email, "wrong-password", now=now) is None
    _db.session.commit()
    assert accounts.authenticate(user.email, factories.PASSWORD, now=now + timedelta(minutes=14)) is None
    later = now + timedelta(minutes=15, seconds=1)
    assert accounts.authenticate(user.email, factories.PASSWORD, now=later) == user
    _db.session.commit()
    _db.session.expire_all()
    assert user.failed_login_count == 0 and user.locked_until is None


@pytest.fixture
def sqlite_file_app(tmp_path):
    """The embedded mode: the app on a SQLite file of its own (whatever database the suite uses)."""
    config = type(
        "EmbeddedConfig",
        (TestConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'embedded.db'}",
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "AUTOTRACK_API_TOKEN_PER_ADDRESS": 1000,
            "AUTOTRACK_API_TOKEN_PER_ACCOUNT": 1000,
            "AUTOTRACK_PASSWORD_HASH_METHOD": "scrypt",  # as in production: a check takes a while
        },
    )
    app = create_app(config)
    with app.app_context():
        upgrade()
        org = orgs.create_org(
            "Acme Ltd",
            "acme",
            admin_email="admin@acme.example",
            admin_password=factories.PASSWORD,
            timezone="UTC",
            admin_name="acme admin",
        )
        for n in range(10):
            orgs.create_user(
                org, f"user{n}@acme.example", role_key="employee", password=factories.PASSWORD, name=f"User {n}"
            )
        _db.session.commit()
        _db.session.remove()
    yield app
    with app.app_context():
        _db.engine.dispose()


def test_fifty_parallel_token_requests_on_sqlite_all_succeed(sqlite_file_app):
    """SQLite lets one writer at a time: the others wait their turn, none is told 'database is
    locked'. Ten people, five requests each (within the lockout's limit of attempts at once)."""
    site = Served(sqlite_file_app)

    def ask(i):
        body = json.dumps({"email": f"user{i % 10}@acme.example", "password": factories.PASSWORD})
        connection = site.connection(timeout=60)
        connection.request("POST", "/api/v1/auth/token", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        return response.status if response.status == 200 else (response.status, payload[:200])

    try:
        answers = _in_parallel(50, ask)
    finally:
        site.close()
    assert answers == [200] * 50
