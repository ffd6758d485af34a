"""The job runners on real Redis: an RQ worker process running the sweep, rq-scheduler holding
the periodic jobs once across restarts, and the embedded thread used without Redis."""

import os
import subprocess
import sys
import time
from datetime import timedelta

from redis import Redis, RedisError
from rq import Queue
from rq_scheduler import Scheduler
from sqlalchemy import func, select

from autotrack.extensions import db as _db
from autotrack.jobs.embedded import EmbeddedScheduler
from autotrack.jobs.schedule import QUEUE_NAME, SCHEDULE, PeriodicJob, reconcile
from autotrack.models import OutboxEmail, SlaEvent
from tests.helpers import PAST, ROOT, flask, start_redis, wait_until


def count(model, *where):
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_rq_worker_process_runs_the_sweep_job_from_redis(app, redis_conn, overdue_ticket):
    job = Queue(QUEUE_NAME, connection=redis_conn).enqueue(
        "autotrack.jobs.tasks.sla_sweep", (PAST + timedelta(hours=6)).isoformat()
    )
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
        "periodic-sla-sweep": 60,
        "periodic-outbox-delivery": 30,
        "periodic-mail-fetch": 60,
        "periodic-housekeeping": 3600,
        "periodic-directory-sync": 600,
    }


def test_reconcile_replaces_changed_and_drops_undeclared_jobs(redis_conn):
    scheduler = Scheduler(queue_name=QUEUE_NAME, connection=redis_conn)
    assert reconcile(scheduler) == ([spec.id for spec in SCHEDULE], [])
    assert reconcile(scheduler) == ([], [])  # unchanged: nothing re-registered
    changed = (PeriodicJob("periodic-sla-sweep", "autotrack.jobs.tasks.sla_sweep", 120),)
    added, removed = reconcile(scheduler, changed)
    assert added == ["periodic-sla-sweep"]
    assert sorted(removed) == sorted(spec.id for spec in SCHEDULE if spec.id != "periodic-sla-sweep")  # Redis's order
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
    fast = (
        PeriodicJob("periodic-sla-sweep", "autotrack.jobs.tasks.sla_sweep", 1),
        PeriodicJob("periodic-outbox-delivery", "autotrack.jobs.tasks.deliver_outbox", 1),
    )
    runner = EmbeddedScheduler(app, schedule=fast, tick_seconds=0.1)
    runner.start()
    try:
        wait_until(
            lambda: count(OutboxEmail, OutboxEmail.status == "sent") >= 3,
            10,
            "the embedded scheduler did not sweep and deliver within 10 s",
        )
    finally:
        runner.stop()
        runner.join(timeout=5)
    assert count(OutboxEmail, OutboxEmail.status == "sent") == 3  # swept, queued and "sent" to the log
    assert not runner.is_alive()


def test_worker_and_scheduler_commands_need_redis(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    result = runner.invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL is not set" in result.output


def test_the_scheduler_waits_out_a_redis_outage_and_registers_the_jobs_again(app, own_redis):
    url = f"redis://127.0.0.1:{own_redis['port']}/0"
    redis = Redis.from_url(url, socket_connect_timeout=1)
    env = {
        **os.environ,
        "AUTOTRACK_CONFIG": "development",
        "REDIS_URL": url,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "AUTOTRACK_EMBEDDED_JOBS": "false",
    }
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "scheduler", "--interval", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def registered():
        try:
            return {job.id for job in Scheduler(queue_name=QUEUE_NAME, connection=redis).get_jobs()}
        except RedisError:
            return set()

    try:
        wait_until(lambda: registered() == {spec.id for spec in SCHEDULE}, 20, "the scheduler did not start")
        own_redis["server"].kill()
        own_redis["server"].wait()
        time.sleep(3)  # real time: an outage of three scheduler intervals is what it must outlive
        assert scheduler.poll() is None, "the scheduler died with Redis"
        own_redis["server"] = start_redis(own_redis["port"])  # back, without its data
        wait_until(
            lambda: registered() == {spec.id for spec in SCHEDULE},
            40,
            "the scheduler did not register the periodic jobs again",
        )
        assert scheduler.poll() is None
    finally:
        scheduler.terminate()
        output = scheduler.communicate(timeout=20)[0]
    assert "Redis is unreachable" in output


def test_a_worker_outlives_a_redis_restart_in_the_middle_of_a_job(app, own_redis, overdue_ticket):
    """RQ itself quits when Redis goes away while a job runs (found by drills/run.py
    redis-restart): the worker command starts a new work loop once Redis answers again."""
    url = f"redis://127.0.0.1:{own_redis['port']}/0"
    redis = Redis.from_url(url, socket_connect_timeout=1)
    env = {
        **os.environ,
        "AUTOTRACK_CONFIG": "development",
        "REDIS_URL": url,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "AUTOTRACK_EMBEDDED_JOBS": "false",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # real time: a job that is still running when Redis goes away
        slow = Queue(QUEUE_NAME, connection=redis).enqueue("time.sleep", 4)
        wait_until(lambda: slow.get_status(refresh=True) == "started", 30, "the worker did not take the job")
        own_redis["server"].kill()  # mid-job
        own_redis["server"].wait()
        time.sleep(6)  # real time: the job must end while Redis is away, and with Redis away nothing says it has
        own_redis["server"] = start_redis(own_redis["port"])  # back, without its data
        job = Queue(QUEUE_NAME, connection=redis).enqueue(
            "autotrack.jobs.tasks.sla_sweep", (PAST + timedelta(hours=6)).isoformat()
        )
        wait_until(
            lambda: job.get_status(refresh=True) == "finished", 60, "no worker ran the job queued after the restart"
        )
        assert count(SlaEvent, SlaEvent.kind == "escalation") == 3
        assert worker.poll() is None, "the worker quit"
    finally:
        worker.terminate()
        try:
            output = worker.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0]
            print(output)
            raise
    assert "starting a new one once Redis answers" in output
