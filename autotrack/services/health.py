"""Health for load balancers and operators: can this process reach its database and Redis, and
is the pipeline moving (the sweep and the outbox delivery ran lately, no email waits too long)?"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from autotrack.extensions import db
from autotrack.models import Heartbeat, OutboxEmail, OutboxStatus
from autotrack.services.sqlutil import insert_ignoring_duplicates

log = logging.getLogger(__name__)

# A job whose last completion is older than this is reported stalled (they run every 30–60 s).
STALE = {"sla_sweep": timedelta(minutes=5), "outbox_delivery": timedelta(minutes=5)}
OLDEST_EMAIL_WARNING = timedelta(minutes=15)


def beat(name, detail="", *, now):
    """Record that periodic job `name` completed (the caller commits)."""
    detail = (detail or "")[:255]
    updated = db.session.execute(
        update(Heartbeat)
        .where(Heartbeat.name == name)
        .values(last_at=now, detail=detail)
        .execution_options(synchronize_session=False)
    )
    if not updated.rowcount:
        db.session.execute(insert_ignoring_duplicates(Heartbeat).values(name=name, last_at=now, detail=detail))


def check(*, now):
    """(healthy, report). Only the database decides `healthy`: without Redis the app still
    serves every page and keeps every notification and email as rows (jobs and live pushes
    wait), so taking the web processes out of a load balancer would only make things worse. A
    stalled job or a waiting email makes the status `degraded`, for the operator to look at."""
    report = {"database": "ok", "redis": "not configured"}
    problems = []
    try:
        db.session.execute(text("SELECT 1"))
        report.update(_pipeline(now, problems))
    except SQLAlchemyError as error:
        report["database"] = f"unreachable: {error.__class__.__name__}"
    finally:
        db.session.rollback()
    url = current_app.config.get("REDIS_URL")
    if url:
        report["redis"], policy = _redis(url)
        if report["redis"] != "ok":
            problems.append("redis")
        elif policy not in (None, "noeviction"):
            report["redis_maxmemory_policy"] = policy
            problems.append("redis_maxmemory_policy")
    healthy = report["database"] == "ok"
    report["problems"] = problems
    report["status"] = ("ok" if not problems else "degraded") if healthy else "down"
    return healthy, report


def _pipeline(now, problems):
    beats = dict(db.session.execute(select(Heartbeat.name, Heartbeat.last_at)).all())
    report = {}
    for name, stale in STALE.items():
        last = beats.get(name)
        if last is None:
            report[f"{name}_age_seconds"] = None  # never ran here yet (a new install, or no jobs)
            continue
        age = (now - last).total_seconds()
        report[f"{name}_age_seconds"] = round(age)
        if age > stale.total_seconds():
            problems.append(f"{name}_stalled")
    oldest = db.session.scalar(
        select(func.min(OutboxEmail.next_attempt_at)).where(
            OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now
        )
    )
    report["oldest_due_email_seconds"] = round((now - oldest).total_seconds()) if oldest is not None else 0
    if oldest is not None and now - oldest > OLDEST_EMAIL_WARNING:
        problems.append("outbox_waiting")
    return report


def _redis(url):
    """("ok" or why not, its maxmemory-policy if it tells)."""
    from redis import Redis, RedisError

    try:
        connection = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        connection.ping()
    except (RedisError, OSError) as error:
        return f"unreachable: {error.__class__.__name__}", None
    try:
        return "ok", connection.config_get("maxmemory-policy").get("maxmemory-policy")
    except RedisError:  # CONFIG may be disabled on a managed Redis
        return "ok", None


def warn_about_redis_policy(url):
    """At start: Redis evicting keys under memory pressure would drop queued jobs and schedule
    entries without a word; say so."""
    status, policy = _redis(url)
    if status == "ok" and policy not in (None, "noeviction"):
        log.warning(
            "Redis maxmemory-policy is %r: under memory pressure it would evict queued jobs. "
            "Set maxmemory-policy noeviction.",
            policy,
        )
        return policy
    return None
