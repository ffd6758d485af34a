"""Rate limits on the doors: sign-in, its code step, registration, reset and API tokens, per
client address (Flask-Limiter, counted in Redis when the app has one, else in memory)."""

import os

import pytest

from autotrack.extensions import limiter
from tests import factories
from tests.conftest import csrf_token


@pytest.fixture
def tight(app, monkeypatch):
    monkeypatch.setitem(app.config, "AUTOTRACK_AUTH_RATE_LIMIT", "3 per minute")
    with app.app_context():
        limiter.reset()
    yield
    with app.app_context():
        limiter.reset()


def from_address(address):
    return {"environ_base": {"REMOTE_ADDR": address}}


@pytest.mark.parametrize(
    "path, body",
    [
        ("/login", {"email": "someone@acme.example", "password": "guess"}),
        (
            "/register",
            {"organization": "acme", "employee_id": "E-1", "email": "x@acme.example", "password": "x", "confirm": "x"},
        ),
        ("/reset", {"email": "someone@acme.example"}),
    ],
)
def test_web_doors_answer_429_past_the_limit_per_address(client, org, tight, path, body):
    token = csrf_token(client, path)
    statuses = [
        client.post(path, data={**body, "csrf_token": token}, **from_address("10.1.1.1")).status_code for _ in range(4)
    ]
    assert statuses[:3] != [429] * 3 and statuses[3] == 429
    refused = client.post(path, data={**body, "csrf_token": token}, **from_address("10.1.1.1"))
    assert "Too many attempts from your address" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    # Another address is not held up (another account either: reset also limits per account).
    other = client.post(
        path, data={**body, "email": "other@acme.example", "csrf_token": token}, **from_address("10.1.1.2")
    )
    assert other.status_code != 429


def test_the_token_endpoint_answers_json_429_past_the_limit(client, org, tight):
    user = factories.make_user(org)
    for _ in range(3):
        client.post("/api/v1/auth/token", json={"email": user.email, "password": "guess"}, **from_address("10.2.2.2"))
    refused = client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": factories.PASSWORD}, **from_address("10.2.2.2")
    )
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "too_many_requests"


def test_the_counts_live_in_redis_when_the_app_has_one(app):
    uri = app.config["RATELIMIT_STORAGE_URI"]
    if os.environ.get("AUTOTRACK_REQUIRE_SERVICES") or app.config.get("REDIS_URL"):
        assert uri.startswith("redis://"), uri  # shared by every process, like the jobs
    else:
        assert uri == "memory://"  # the embedded mode: one process
