from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from autotrack.extensions import db
from autotrack.models.types import UTCDateTime


class Throttle(db.Model):
    """Requests counted per key (e.g. "token:address:10.0.0.7") in a fixed time window."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(190), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)


class Heartbeat(db.Model):
    """When a periodic job last completed (the sweep, the outbox delivery, the mail fetch): the
    health report shows its age, so a stalled scheduler or worker shows before users notice."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[str] = mapped_column(String(255), default="")
