"""GET /healthz: what a load balancer and an operator learn about the database and Redis."""
import os
import socket

from autotrack import create_app
from config import TestConfig

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def healthz(db_url=None, **settings):
    config = dict(settings)
    if db_url:
        config["SQLALCHEMY_DATABASE_URI"] = db_url
    app = create_app(type("HealthConfig", (TestConfig,), config))
    try:
        response = app.test_client().get("/healthz")
        return response.status_code, response.get_json(), response.headers
    finally:
        app.extensions["autotrack.live"].close()


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket closes


def test_healthy_without_redis_in_the_embedded_setup(app):
    status, body, headers = healthz(REDIS_URL=None)
    assert status == 200
    assert body == {"database": "ok", "redis": "not configured", "status": "ok"}
    assert headers["Cache-Control"] == "no-store"


def test_healthy_with_redis(app):
    status, body, _ = healthz(REDIS_URL=REDIS_URL)
    assert (status, body) == (200, {"database": "ok", "redis": "ok", "status": "ok"})


def test_redis_down_is_degraded_but_keeps_the_process_in_the_load_balancer(app):
    status, body, _ = healthz(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
    assert status == 200
    assert body["status"] == "degraded" and body["redis"].startswith("unreachable")


def test_database_down_takes_the_process_out(app):
    status, body, _ = healthz(f"mysql+pymysql://root@127.0.0.1:{closed_port()}/autotrack", REDIS_URL=None)
    assert status == 503
    assert body["status"] == "down" and body["database"] == "unreachable: OperationalError"
