"""Rate-limit counters in the database: counting per window, and the hourly prune that keeps
one-off keys (an address seen once) from piling up."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from autotrack.extensions import db as _db
from autotrack.jobs import tasks
from autotrack.models import Throttle, utcnow
from autotrack.services import throttle

NOON = datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)


def test_a_key_is_refused_past_its_limit_until_the_window_ends(db):
    answers = [throttle.hit("token:address:10.0.0.7", 3, window_seconds=60, now=NOON) for _ in range(4)]
    assert answers == [0, 0, 0, 30]  # the fourth waits the 30 s left of the minute
    assert throttle.hit("token:address:10.0.0.7", 3, window_seconds=60, now=NOON + timedelta(seconds=30)) == 0
    assert throttle.hit("token:address:10.0.0.8", 3, window_seconds=60, now=NOON) == 0  # other keys count apart


def test_housekeeping_prunes_windows_older_than_a_day_and_keeps_the_rest(db):
    for days_ago in (0, 1, 3):
        throttle.hit(
            f"token:address:old-{days_ago}", 5, window_seconds=60, now=NOON - timedelta(days=days_ago, hours=1)
        )
    _db.session.commit()
    assert throttle.prune(now=NOON) == 2  # the ones of yesterday and three days ago
    _db.session.commit()
    assert _db.session.scalars(select(Throttle.key)).all() == ["token:address:old-0"]


def test_the_hourly_housekeeping_job_prunes_by_the_real_clock(db):
    now = utcnow()
    throttle.hit("token:account:gone@acme.example", 5, window_seconds=60, now=now - timedelta(days=2))
    throttle.hit("token:account:here@acme.example", 5, window_seconds=60, now=now - timedelta(hours=1))
    _db.session.commit()
    assert tasks.housekeeping() == "pruned 1 rate-limit counters"
    assert _db.session.scalars(select(Throttle.key)).all() == ["token:account:here@acme.example"]
