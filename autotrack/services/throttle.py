"""Fixed-window request counters kept in the database (they hold across gunicorn workers,
restarts and the embedded mode without Redis)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from autotrack.extensions import db
from autotrack.models import Throttle
from autotrack.services.sqlutil import insert_ignoring_duplicates


def hit(key, limit, *, window_seconds, now):
    """Count one request for `key`; 0 while within `limit` per window, else the seconds until
    the window ends. Flushes; the caller commits."""
    epoch = int(now.timestamp())
    start = datetime.fromtimestamp(epoch - epoch % window_seconds, tz=UTC)
    key = key[:190]
    counted = db.session.execute(
        update(Throttle)
        .where(Throttle.key == key, Throttle.window_start == start)
        .values(hits=Throttle.hits + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not counted:
        # First request of the window (a parallel first one is skipped and counted by the UPDATE).
        db.session.execute(insert_ignoring_duplicates(Throttle).values(key=key, window_start=start, hits=0))
        db.session.execute(delete(Throttle).where(Throttle.key == key, Throttle.window_start < start))
        db.session.execute(
            update(Throttle)
            .where(Throttle.key == key, Throttle.window_start == start)
            .values(hits=Throttle.hits + 1)
            .execution_options(synchronize_session=False)
        )
    hits = db.session.scalar(select(Throttle.hits).where(Throttle.key == key, Throttle.window_start == start))
    if hits <= limit:
        return 0
    return max(1, int((start + timedelta(seconds=window_seconds) - now).total_seconds()))


KEEP = timedelta(days=1)  # longer than any window in use


def prune(now):
    """Delete counters of windows long past (a key seen once, e.g. an address, would otherwise
    stay forever: `hit` only clears a key's old windows when that key comes back)."""
    return db.session.execute(delete(Throttle).where(Throttle.window_start < now - KEEP)).rowcount
