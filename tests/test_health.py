"""GET /healthz: what a load balancer and an operator learn about the database and Redis."""

import os
import socket

from autotrack import create_app
from autotrack.models.types import utcnow
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
    assert (body["database"], body["redis"], body["status"], body["problems"]) == ("ok", "not configured", "ok", [])
    assert body["sla_sweep_age_seconds"] is None  # no sweep has run against this database yet
    assert headers["Cache-Control"] == "no-store"


def test_healthy_with_redis(app):
    status, body, _ = healthz(REDIS_URL=REDIS_URL)
    assert (status, body["database"], body["redis"], body["status"]) == (200, "ok", "ok", "ok")


def test_redis_down_is_degraded_but_keeps_the_process_in_the_load_balancer(app):
    status, body, _ = healthz(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
    assert status == 200
    assert body["status"] == "degraded" and body["redis"].startswith("unreachable")


def test_database_down_takes_the_process_out(app):
    status, body, _ = healthz(f"mysql+pymysql://root@127.0.0.1:{closed_port()}/autotrack", REDIS_URL=None)
    assert status == 503
    assert body["status"] == "down" and body["database"] == "unreachable: OperationalError"


def test_a_stalled_sweep_or_a_waiting_email_makes_it_degraded(app, db):
    from datetime import timedelta

    from autotrack.extensions import db as _db
    from autotrack.services import health, outbox

    health.beat("sla_sweep", "0 tickets", now=utcnow() - timedelta(minutes=10))
    health.beat("outbox_delivery", "sent 0", now=utcnow())
    outbox.queue_email(
        recipient="a@example.com", subject="s", body_text="b", dedupe_key="old", now=utcnow() - timedelta(minutes=20)
    )
    _db.session.commit()
    healthy, report = health.check(now=utcnow())
    assert healthy and report["status"] == "degraded"
    assert set(report["problems"]) == {"sla_sweep_stalled", "outbox_waiting"}
    assert 590 <= report["sla_sweep_age_seconds"] <= 700 and report["oldest_due_email_seconds"] >= 1200
    health.beat("sla_sweep", "0 tickets", now=utcnow())
    _db.session.commit()
    assert health.check(now=utcnow())[1]["problems"] == ["outbox_waiting"]


def test_the_doctor_command_says_what_needs_a_look(app, db, runner):
    from datetime import timedelta

    from autotrack.extensions import db as _db
    from autotrack.models import utcnow
    from autotrack.services import health

    health.beat("sla_sweep", "", now=utcnow())
    health.beat("outbox_delivery", "", now=utcnow())
    _db.session.commit()
    result = runner.invoke(args=["autotrack", "doctor"])
    assert result.exit_code == 0 and "database: ok" in result.output
    health.beat("outbox_delivery", "", now=utcnow() - timedelta(hours=1))
    _db.session.commit()
    result = runner.invoke(args=["autotrack", "doctor"])
    assert result.exit_code == 1 and "problem: outbox_delivery_stalled" in result.output


def test_a_redis_that_may_evict_jobs_is_reported(app):
    from redis import Redis

    from autotrack.services import health

    connection = Redis.from_url(REDIS_URL)
    before = connection.config_get("maxmemory-policy")["maxmemory-policy"]
    try:
        connection.config_set("maxmemory-policy", "allkeys-lru")
        with app.app_context():
            assert health.warn_about_redis_policy(REDIS_URL) == "allkeys-lru"
        status, body, _ = healthz(REDIS_URL=REDIS_URL)
        assert status == 200 and "redis_maxmemory_policy" in body["problems"]
    finally:
        connection.config_set("maxmemory-policy", before)
    with app.app_context():
        assert health.warn_about_redis_policy(REDIS_URL) is None
