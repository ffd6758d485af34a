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
