"""The job runners on real Redis: an RQ worker process running the sweep, rq-scheduler holding
the periodic jobs once across restarts, and the embedded thread used without Redis."""
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq_scheduler import Scheduler
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.jobs.embedded import EmbeddedScheduler
from autotrack.jobs.schedule import QUEUE_NAME, SCHEDULE, PeriodicJob, reconcile
from autotrack.models import OutboxEmail, SlaEvent
from autotrack.services import tickets
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
PAST = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def redis_conn():
    """A real Redis (tests fail, never skip, when it is down), emptied around each test."""
    conn = Redis.from_url(REDIS_URL)
    conn.ping()
    conn.flushdb()
    yield conn
    conn.flushdb()


def flask(app, *args, timeout=60):
    """Run `flask --app wsgi …` as a separate process on the test database and Redis."""
    env = {**os.environ, "AUTOTRACK_CONFIG": "development", "REDIS_URL": REDIS_URL,
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "AUTOTRACK_EMBEDDED_JOBS": "false"}
    env.pop("MAIL_SERVER", None)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def overdue_ticket(org):
    """A P1 ticket long past every escalation level, with people to notify at each."""
    support = factories.default_department(org)
    factories.make_user(org, "agent", department=support, lead=True)
    factories.make_user(org, "manager", department=support)
    agent = factories.make_user(org, "agent", department=support)
    ticket = tickets.create_ticket(agent, title="Core switch down", priority=factories.priority(org, "P1"),
                                   requester=factories.make_user(org), now=PAST)
    _db.session.commit()
    return ticket


def count(model, *where):
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_rq_worker_process_runs_the_sweep_job_from_redis(app, redis_conn, overdue_ticket):
    job = Queue(QUEUE_NAME, connection=redis_conn).enqueue(
        "autotrack.jobs.tasks.sla_sweep", (PAST + timedelta(hours=6)).isoformat())
    run = flask(app, "jobs", "worker", "--burst")
    assert run.returncode == 0, run.stderr
    job.refresh()
    assert job.get_status() == "finished", run.stderr
    assert "escalated (level 1: 1, level 2: 1, level 3: 1)" in job.return_value()
    assert count(SlaEvent, SlaEvent.kind == "escalation") == 3
    assert count(OutboxEmail) == 3


def test_scheduler_registers_the_periodic_jobs_once_across_restarts(app, redis_conn):
    for _ in range(2):
        run = flask(app, "jobs", "scheduler", "--burst", "--interval", "1")
        assert run.returncode == 0, run.stderr
    scheduler = Scheduler(queue_name=QUEUE_NAME, connection=redis_conn)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {spec.id for spec in SCHEDULE}
    assert {job_id: job.meta["interval"] for job_id, job in jobs.items()} == {
        "periodic-sla-sweep": 60, "periodic-outbox-delivery": 30}


def test_reconcile_replaces_changed_and_drops_undeclared_jobs(redis_conn):
    scheduler = Scheduler(queue_name=QUEUE_NAME, connection=redis_conn)
    assert reconcile(scheduler) == (["periodic-sla-sweep", "periodic-outbox-delivery"], [])
    assert reconcile(scheduler) == ([], [])  # unchanged: nothing re-registered
    changed = (PeriodicJob("periodic-sla-sweep", "autotrack.jobs.tasks.sla_sweep", 120),)
    assert reconcile(scheduler, changed) == (["periodic-sla-sweep"], ["periodic-outbox-delivery"])
    assert [(j.id, j.meta["interval"]) for j in scheduler.get_jobs()] == [("periodic-sla-sweep", 120)]


def test_scheduled_jobs_reach_a_worker_and_run(app, redis_conn, overdue_ticket):
    """The whole production path: scheduler start -> due jobs queued -> worker runs them."""
    assert flask(app, "jobs", "scheduler", "--burst", "--interval", "1").returncode == 0
    assert Queue(QUEUE_NAME, connection=redis_conn).count == len(SCHEDULE)
    run = flask(app, "jobs", "worker", "--burst")
    assert run.returncode == 0, run.stderr
    assert count(SlaEvent, SlaEvent.kind == "escalation") == 3  # the real clock is past every level
    assert count(OutboxEmail) == 3


def test_embedded_scheduler_runs_the_jobs_without_redis(app, overdue_ticket):
    fast = (PeriodicJob("periodic-sla-sweep", "autotrack.jobs.tasks.sla_sweep", 1),
            PeriodicJob("periodic-outbox-delivery", "autotrack.jobs.tasks.deliver_outbox", 1))
    runner = EmbeddedScheduler(app, schedule=fast, tick_seconds=0.1)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and count(OutboxEmail, OutboxEmail.status == "sent") < 3:
            time.sleep(0.2)
    finally:
        runner.stop()
        runner.join(timeout=5)
    assert count(OutboxEmail, OutboxEmail.status == "sent") == 3  # swept, queued and "sent" to the log
    assert not runner.is_alive()


def test_worker_and_scheduler_commands_need_redis(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    result = runner.invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL is not set" in result.output
