"""Health for load balancers and operators: can this process reach its database and Redis?"""
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from autotrack.extensions import db


def check():
    """(healthy, report). Only the database decides `healthy`: without Redis the app still
    serves every page and keeps every notification and email as rows (jobs and live pushes
    wait), so taking the web processes out of a load balancer would only make things worse."""
    report = {"database": "ok", "redis": "not configured"}
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        report["database"] = f"unreachable: {error.__class__.__name__}"
    finally:
        db.session.rollback()
    url = current_app.config.get("REDIS_URL")
    if url:
        from redis import Redis, RedisError

        try:
            Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
            report["redis"] = "ok"
        except (RedisError, OSError) as error:
            report["redis"] = f"unreachable: {error.__class__.__name__}"
    healthy = report["database"] == "ok"
    report["status"] = "ok" if healthy and report["redis"] in ("ok", "not configured") else (
        "degraded" if healthy else "down")
    return healthy, report
